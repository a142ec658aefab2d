//! The adapters' error type.

use std::fmt;
use std::io;

/// Why a call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed.
    Io(io::Error),
    /// The SSH connection failed (protocol, crypto, disconnect).
    Ssh(seashell_proto::Error),
    /// The server's host key was not trusted. The message names the fingerprint.
    HostKey(String),
    /// Authentication failed: no method was accepted.
    Auth(String),
    /// A key file could not be used.
    KeyFile(seashell_keys::KeyFileError),
    /// The server refused a channel or a request on it.
    Refused(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Ssh(e) => write!(f, "{e}"),
            Error::HostKey(m) | Error::Auth(m) | Error::Refused(m) => f.write_str(m),
            Error::KeyFile(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<seashell_proto::Error> for Error {
    fn from(e: seashell_proto::Error) -> Self {
        Error::Ssh(e)
    }
}

impl From<seashell_keys::KeyFileError> for Error {
    fn from(e: seashell_keys::KeyFileError) -> Self {
        Error::KeyFile(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}
