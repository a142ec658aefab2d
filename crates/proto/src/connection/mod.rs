//! The connection protocol (RFC 4254): channels, windows, channel and global requests.

mod any;
pub mod channels;
pub(crate) mod core;
pub(crate) mod handle;
mod session_request;

pub use any::AnyConnection;
pub use channels::Channels;
pub use handle::Channel;
