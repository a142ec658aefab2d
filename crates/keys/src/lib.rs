//! # seashell-keys: key files and known_hosts
//!
//! The file formats around SSH keys, on top of the in-memory keys of
//! [`seashell_proto::keys`]:
//!
//! - [`openssh`]: OpenSSH private key files, plain or passphrase-protected
//!   (`-----BEGIN OPENSSH PRIVATE KEY-----`, the
//!   `openssh-key-v1` format) and public key lines (`type base64 comment`).
//! - [`fingerprint`]: SHA256 and MD5 fingerprints and randomart, as `ssh-keygen -l -v`.
//! - [`known_hosts`]: OpenSSH `known_hosts` files: host patterns with wildcards and negation,
//!   hashed host names, `@revoked` markers, and appending newly accepted keys.
//!
//! Everything read from a file is treated as hostile: parsers never panic, check every length
//! before use, and wipe decoded secret material when they are done with it.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod agent_blob;
mod encrypted;
pub mod fingerprint;
pub mod known_hosts;
pub mod openssh;

use core::fmt;
use std::io;

pub use fingerprint::{FingerprintHash, fingerprint, key_bits, key_label, randomart};
pub use known_hosts::{HostKeyStatus, KnownHosts, append_known_host, host_pattern};
pub use openssh::{
    load_private_key, load_private_key_with_passphrase, parse_private_key,
    parse_private_key_with_passphrase, parse_public_key_line,
};
pub use seashell_proto::keys::{PrivateKey, PublicKey};

/// Why a key file or key line could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Reading the file failed.
    Io(io::Error),
    /// The text is not an OpenSSH private key (no `-----BEGIN OPENSSH PRIVATE KEY-----`
    /// armor, or not the `openssh-key-v1` format inside it).
    NotOpenSsh,
    /// The private key is protected by a passphrase and none was given: read it with
    /// [`openssh::parse_private_key_with_passphrase`] or
    /// [`openssh::load_private_key_with_passphrase`].
    Encrypted,
    /// The passphrase does not decrypt the private key (its check integers differ, or the
    /// authentication tag of an AEAD cipher fails).
    BadPassphrase,
    /// The key file may be read or written by its group or others (the permission bits in
    /// `mode`); like `ssh`, such a private key is refused ("UNPROTECTED PRIVATE KEY FILE").
    UnprotectedFile {
        /// The file's permission bits (`st_mode & 0o777`).
        mode: u32,
    },
    /// The key is damaged: the named part is missing, truncated or invalid.
    Malformed(&'static str),
    /// The key is well formed but of a type or size we do not support (named in the string).
    Unsupported(String),
    /// Two parts of a key that must agree do not: the public key in a private key file's
    /// header and the key in its private section, or a public key line's type field and its
    /// key blob.
    Mismatch,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::Io(e) => write!(f, "cannot read key file: {e}"),
            KeyFileError::NotOpenSsh => f.write_str("not an OpenSSH private key"),
            KeyFileError::Encrypted => f.write_str("the private key needs a passphrase"),
            KeyFileError::BadPassphrase => f.write_str("incorrect passphrase for the private key"),
            KeyFileError::UnprotectedFile { mode } => write!(
                f,
                "UNPROTECTED PRIVATE KEY FILE: permissions 0{mode:03o} are too open \
                 (it must not be accessible by others; chmod 600)"
            ),
            KeyFileError::Malformed(what) => write!(f, "malformed key: bad {what}"),
            KeyFileError::Unsupported(what) => write!(f, "unsupported key: {what}"),
            KeyFileError::Mismatch => f.write_str("public and private parts of the key differ"),
        }
    }
}

impl std::error::Error for KeyFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyFileError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for KeyFileError {
    fn from(e: io::Error) -> Self {
        KeyFileError::Io(e)
    }
}
