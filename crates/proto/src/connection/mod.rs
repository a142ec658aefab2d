//! The connection protocol (RFC 4254) and the one connection type both roles share:
//! [`Connection`], with channels, windows, channel and global requests, timers and the
//! decisions the application answers.

mod any;
pub mod channels;
mod conn;
pub(crate) mod core;
mod dispatch;
#[cfg(test)]
mod flood_tests;
pub(crate) mod global;
pub(crate) mod handle;
#[cfg(any(test, feature = "hostile-peer"))]
mod hostile;
pub(crate) mod kind;
mod replies;
mod session_request;
pub(crate) mod side;
pub(crate) mod timers;
pub mod window;

pub use any::AnyConnection;
pub use channels::Channels;
pub use conn::Connection;
pub use global::{GlobalReply, GlobalRequestId, GlobalRequestKind};
pub use handle::{AGENT_FORWARD_EXTENSION, AGENT_REQ, AUTH_AGENT_REQ, Channel};
pub use kind::{ChannelKind, OpenFailure};
pub use side::Side;
