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

/// Default cap on the bytes a connection holds for the peer before authentication
/// ([`ClientConfig::max_pending_output_preauth`](crate::ClientConfig::max_pending_output_preauth)):
/// 64 KiB. A whole legitimate pre-authentication flight (identification, KEXINIT, a
/// post-quantum KEX reply with an RSA-16384 host key, NEWKEYS, EXT_INFO, SERVICE_ACCEPT, a
/// banner, authentication replies) is under 16 KiB.
pub const DEFAULT_MAX_PENDING_OUTPUT_PREAUTH: usize = 64 * 1024;

/// Default cap on the bytes a connection holds for the peer once authenticated
/// ([`ClientConfig::max_pending_output`](crate::ClientConfig::max_pending_output)): 8 MiB.
pub const DEFAULT_MAX_PENDING_OUTPUT: usize = 8 * 1024 * 1024;

/// Smallest pre-authentication output cap a configuration may set (a key exchange with the
/// largest keys must fit).
pub const MIN_PENDING_OUTPUT_PREAUTH: usize = 16 * 1024;

/// Smallest post-authentication output cap a configuration may set: room for channel data of
/// the largest packet ([`MAX_PACKET_LEN`]) in the half of the cap data may fill, and for replies.
pub const MIN_PENDING_OUTPUT: usize = 1024 * 1024;

/// Key re-exchanges the peer may start before authentication (we start none then, as
/// OpenSSH). One covers an implementation that rekeys at once after the first exchange;
/// OpenSSH itself never rekeys before authentication.
pub const MAX_PREAUTH_REKEYS: u32 = 1;

/// Packets one direction may carry under one key (RFC 4344 §3.1, OpenSSH's `MAX_PACKETS`):
/// after it a rekey is due, and before authentication the connection ends.
pub const MAX_PACKETS_PER_KEY: u64 = 1 << 31;

/// An upper bound on the wire size of a packet carrying `payload_len` bytes of payload: the
/// length and padding-length fields, the padding (less than two 16-byte blocks), the largest
/// MAC or tag (64 bytes), and what compression can add to incompressible data.
pub(crate) const fn framed_bound(payload_len: usize) -> usize {
    payload_len + payload_len / 64 + 128
}
