//! # seashell-keys: key files and known_hosts
//!
//! The file formats around SSH keys, on top of the in-memory keys of
//! [`seashell_proto::keys`]:
//!
//! - [`parse_key_file`] / [`load_key_file`]: private key files in every format we read,
//!   sniffed from the text, with their comment ([`LoadedKey`]): OpenSSH
//!   (`openssh-key-v1`, plain or bcrypt-encrypted), PEM PKCS#1 `RSA PRIVATE KEY` and SEC1
//!   `EC PRIVATE KEY` (plain or OpenSSL's legacy `Proc-Type: 4,ENCRYPTED`), PKCS#8
//!   `PRIVATE KEY` and `ENCRYPTED PRIVATE KEY` (PBES2), PuTTY `.ppk` versions 2 and 3, and
//!   ssh.com (SECSH) RSA keys; [`parse_key_file_bytes`] also reads the binary DER forms
//!   (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1) that `openssl … -outform DER` writes.
//!   [`parse_private_key`] and [`load_private_key`] are the same without the comment.
//! - [`openssh`]: the OpenSSH private key format alone, and public key lines
//!   (`type base64 comment`).
//! - [`parse_public_key_file`] / [`format_public_key`]: public keys as OpenSSH lines,
//!   RFC 4716, PEM SubjectPublicKeyInfo and PKCS#1.
//! - [`encode_private_key`], [`write_private_key_file`], [`write_public_key_file`]: writing
//!   keys (OpenSSH, PEM, PKCS#8; encrypted or not) into files created 0600 / 0644 atomically.
//! - [`generate_key`]: new Ed25519, ECDSA (P-256/384/521) and RSA (2048–8192 bit) keys.
//! - [`fingerprint`](mod@fingerprint): SHA256 and MD5 fingerprints and randomart, as `ssh-keygen -l -v`.
//! - [`known_hosts`]: OpenSSH `known_hosts` files: host patterns with wildcards and negation,
//!   hashed host names, `@cert-authority` and `@revoked` markers; [`known_hosts_edit`]:
//!   appending newly accepted keys (optionally hashed), finding, removing, hashing.
//! - [`certificate`]: certificate files, `ssh-keygen -L` output, `-V` intervals.
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
mod armor;
pub mod certificate;
mod der_keys;
mod encrypted;
pub mod fingerprint;
mod generate;
mod key_file;
pub mod known_hosts;
pub mod known_hosts_edit;
mod legacy_pem;
mod mldsa_file;
pub mod openssh;
mod openssh_write;
mod ppk;
mod public;
mod sshcom;
mod write;

use core::fmt;
use std::io;

pub use certificate::{certificate_path_for, load_certificate, parse_certificate_line};
pub use der_keys::{MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_MEMORY};
pub use fingerprint::{FingerprintHash, fingerprint, key_bits, key_label, randomart};
pub use generate::{DEFAULT_RSA_BITS, KeyKind, generate_key};
pub use key_file::{
    KeyFileFormat, LoadError, LoadedKey, load_key_file, parse_key_file, parse_key_file_bytes,
    public_key_of_key_file,
};
pub use known_hosts::{HostKeyStatus, KnownHosts, host_pattern};
pub use known_hosts_edit::{append_known_host, append_known_host_names};
pub use openssh::{format_public_key_line, parse_public_key_line};
pub use openssh_write::DEFAULT_KDF_ROUNDS;
pub use ppk::{MAX_ARGON2_MEMORY_KIB, MAX_ARGON2_PASSES};
pub use public::{MAX_PUBLIC_KEY_FILE, PublicKeyFormat, format_public_key, parse_public_key_file};
pub use seashell_proto::keys::{
    CertError, CertFields, CertType, Certificate, EcdsaCurve, PrivateKey, PublicKey, SecretParts,
};
pub use write::{
    PrivateKeyFormat, encode_private_key, write_private_key_file, write_public_key_file,
};

use std::path::Path;

/// Parses a private key file in any supported format that is not protected by a
/// passphrase ([`parse_key_file`] without the comment).
///
/// # Errors
/// As [`parse_key_file`]; [`KeyFileError::Encrypted`] if the key needs a passphrase.
pub fn parse_private_key(text: &str) -> Result<PrivateKey, KeyFileError> {
    parse_key_file(text, None).map(|k| k.key)
}

/// Parses a private key file in any supported format, decrypting it with `passphrase` if it
/// is protected ([`parse_key_file`] without the comment).
///
/// # Errors
/// As [`parse_key_file`].
pub fn parse_private_key_with_passphrase(
    text: &str,
    passphrase: &[u8],
) -> Result<PrivateKey, KeyFileError> {
    parse_key_file(text, Some(passphrase)).map(|k| k.key)
}

/// Reads a private key file in any supported format that is not protected by a passphrase.
/// A file its group or others may read or write is refused, as `ssh` does; see
/// [`load_key_file`], which also names the file in its error and returns the comment.
///
/// # Errors
/// [`KeyFileError::Io`], [`KeyFileError::UnprotectedFile`], otherwise as [`parse_key_file`].
pub fn load_private_key(path: &Path) -> Result<PrivateKey, KeyFileError> {
    load_key_file(path, None)
        .map(|k| k.key)
        .map_err(|e| e.error)
}

/// Reads a private key file in any supported format, decrypting it with `passphrase` if it
/// is protected, with the checks of [`load_private_key`].
///
/// # Errors
/// As [`load_private_key`].
pub fn load_private_key_with_passphrase(
    path: &Path,
    passphrase: &[u8],
) -> Result<PrivateKey, KeyFileError> {
    load_key_file(path, Some(passphrase))
        .map(|k| k.key)
        .map_err(|e| e.error)
}

/// Why a key file or key line could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Reading the file failed.
    Io(io::Error),
    /// The text is not an OpenSSH private key (no `-----BEGIN OPENSSH PRIVATE KEY-----`
    /// armor, or not the `openssh-key-v1` format inside it): from the [`openssh`] module's
    /// functions only.
    NotOpenSsh,
    /// The text is in no key file format we know.
    UnknownFormat,
    /// The operating system's random number generator failed (writing or generating keys).
    Rng,
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
            KeyFileError::UnknownFormat => f.write_str("not a key file in any format we know"),
            KeyFileError::Rng => f.write_str("the random number generator failed"),
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
