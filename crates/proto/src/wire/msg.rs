//! SSH message numbers (RFC 4250 §4.1).
#![allow(missing_docs)]

pub const DISCONNECT: u8 = 1;
pub const IGNORE: u8 = 2;
pub const UNIMPLEMENTED: u8 = 3;
pub const DEBUG: u8 = 4;
pub const SERVICE_REQUEST: u8 = 5;
pub const SERVICE_ACCEPT: u8 = 6;
pub const EXT_INFO: u8 = 7;
pub const KEXINIT: u8 = 20;
pub const NEWKEYS: u8 = 21;
pub const KEX_ECDH_INIT: u8 = 30;
pub const KEX_ECDH_REPLY: u8 = 31;
/// `diffie-hellman-group-exchange-*` (RFC 4419 §5): the server's group (p, g).
pub const KEX_DH_GEX_GROUP: u8 = 31;
/// RFC 4419: the client's public value e.
pub const KEX_DH_GEX_INIT: u8 = 32;
/// RFC 4419: the server's host key, public value f and signature.
pub const KEX_DH_GEX_REPLY: u8 = 33;
/// RFC 4419: the client's (min, n, max) group-size request.
pub const KEX_DH_GEX_REQUEST: u8 = 34;
pub const USERAUTH_REQUEST: u8 = 50;
pub const USERAUTH_FAILURE: u8 = 51;
pub const USERAUTH_SUCCESS: u8 = 52;
pub const USERAUTH_BANNER: u8 = 53;
pub const USERAUTH_PK_OK: u8 = 60;
pub const GLOBAL_REQUEST: u8 = 80;
pub const REQUEST_SUCCESS: u8 = 81;
pub const REQUEST_FAILURE: u8 = 82;
pub const CHANNEL_OPEN: u8 = 90;
pub const CHANNEL_OPEN_CONFIRMATION: u8 = 91;
pub const CHANNEL_OPEN_FAILURE: u8 = 92;
pub const CHANNEL_WINDOW_ADJUST: u8 = 93;
pub const CHANNEL_DATA: u8 = 94;
pub const CHANNEL_EXTENDED_DATA: u8 = 95;
pub const CHANNEL_EOF: u8 = 96;
pub const CHANNEL_CLOSE: u8 = 97;
pub const CHANNEL_REQUEST: u8 = 98;
pub const CHANNEL_SUCCESS: u8 = 99;
pub const CHANNEL_FAILURE: u8 = 100;
/// OpenSSH transport-level ping (`PROTOCOL` §1.9).
pub const PING: u8 = 192;
/// The answer to [`PING`].
pub const PONG: u8 = 193;

/// True for the transport-layer generic messages (1–19) allowed at any time outside strict KEX.
pub fn is_transport_generic(n: u8) -> bool {
    (1..=19).contains(&n)
}

/// Whether a party that has sent KEXINIT may send message `n` before its NEWKEYS
/// (RFC 4253 §7.1): transport generic messages except SERVICE_REQUEST and SERVICE_ACCEPT,
/// and key-exchange messages.
pub fn allowed_during_kex(n: u8) -> bool {
    (is_transport_generic(n) && n != SERVICE_REQUEST && n != SERVICE_ACCEPT) || is_kex(n)
}

/// True for key-exchange messages (20–49), allowed during a key exchange.
pub fn is_kex(n: u8) -> bool {
    (20..=49).contains(&n)
}
