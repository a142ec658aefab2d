//! The transport layer (RFC 4253): version exchange and the binary packet protocol.

pub mod compress;
pub(crate) mod conn;
pub mod packet;
pub mod ping;
pub mod version;

/// Largest packet (the `packet_length` field) we accept or send: OpenSSH's 256 KiB.
pub const MAX_PACKET_LEN: usize = 256 * 1024;

/// Most bytes of messages held while our side of a key exchange waits for the peer's. Channel
/// data is not held (it waits under back-pressure); what is held are replies and requests, so
/// this bound stops a peer that delays its KEXINIT or NEWKEYS while it floods requests.
pub const MAX_HELD_BYTES: usize = 1024 * 1024;
