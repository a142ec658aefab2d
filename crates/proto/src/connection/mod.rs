//! The connection protocol (RFC 4254): channels, windows, channel and global requests.

pub mod channels;

pub use channels::Channels;
