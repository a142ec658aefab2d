//! The transport layer (RFC 4253): version exchange and the binary packet protocol.

pub(crate) mod conn;
pub mod packet;
pub mod ping;
pub mod version;

/// Largest packet (the `packet_length` field) we accept or send: OpenSSH's 256 KiB.
pub const MAX_PACKET_LEN: usize = 256 * 1024;
