//! # seashell-sftp: the SFTP version 3 codec
//!
//! A sans-I/O codec for the SSH File Transfer Protocol, version 3
//! (draft-ietf-secsh-filexfer-02) as OpenSSH's `sftp` and `sftp-server` speak it. It does no
//! I/O and depends on nothing but `std`: feed it the bytes of an SSH `sftp` subsystem
//! channel (or a pipe to `sftp-server`) and it gives typed messages.
//!
//! - [`Framer`]: `uint32 length` + payload reassembled from arbitrary chunks, the length
//!   checked against a maximum ([`DEFAULT_MAX_PACKET`], OpenSSH's 256 KiB) before any
//!   buffering;
//! - [`Request`] and [`Response`]: every version 3 message, [`Request::encode`] /
//!   [`Request::decode`] and the same for responses; trailing bytes are refused;
//! - [`FileAttributes`], [`OpenFlags`], [`StatusCode`] (with OpenSSH's messages);
//! - [`ExtendedRequest`]: OpenSSH's extensions (`posix-rename@openssh.com`,
//!   `statvfs@openssh.com`, `limits@openssh.com`, `copy-data`, …), unknown ones kept as
//!   bytes; [`StatVfs`], [`Limits`], [`UsersGroups`] for their replies.
//!
//! Paths, handles and messages are bytes (`Vec<u8>`): paths need not be UTF-8. See
//! [`path_bytes`], [`bytes_path`] and [`lossy`].
//!
//! ```
//! use seashell_sftp::{Framer, Request, Response, StatusCode};
//! let wire = Request::RealPath { id: 7, path: b".".to_vec() }.encode_framed().unwrap();
//! let mut framer = Framer::new();
//! let mut input = &wire[..];
//! let payload = framer.feed(&mut input).unwrap().unwrap();
//! assert_eq!(Request::decode(&payload).unwrap().id(), Some(7));
//! let reply = Response::status(7, StatusCode::NoSuchFile);
//! assert_eq!(Response::decode(&reply.encode().unwrap()).unwrap(), reply);
//! ```
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod attrs;
pub mod client;
mod ext;
mod frame;
pub mod ls_format;
mod request;
mod response;
pub mod server;
mod status;
mod wire;

pub use attrs::{
    ATTR_ACMODTIME, ATTR_EXTENDED, ATTR_PERMISSIONS, ATTR_SIZE, ATTR_UIDGID, FileAttributes,
    OpenFlags,
};
pub use ext::{ExtendedRequest, Limits, StatVfs, UsersGroups};
pub use frame::{DEFAULT_MAX_PACKET, FrameError, Framer, frame};
pub use request::{Request, fxp};
pub use response::{NameEntry, Response};
pub use status::StatusCode;
pub use wire::{DecodeError, EncodeError, ExtensionPair, bytes_path, lossy, path_bytes};

/// The protocol version this crate speaks.
pub const SFTP_VERSION: u32 = 3;

/// Extension names (OpenSSH's `PROTOCOL`, section 4).
pub mod extension_names {
    pub use crate::ext::{
        COPY_DATA, EXPAND_PATH, FSTATVFS, FSYNC, HARDLINK, HOME_DIRECTORY, LIMITS, LSETSTAT,
        POSIX_RENAME, STATVFS, USERS_GROUPS_BY_ID,
    };
}
