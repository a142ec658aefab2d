//! The adapters' error type, and how it becomes an [`io::Error`] without losing its kind or
//! its source.

use seashell_proto::error::reason;
use std::fmt;
use std::io;
use std::sync::Arc;

/// Why a call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed.
    Io(io::Error),
    /// The SSH connection failed (protocol, crypto, disconnect, timeout).
    Ssh(seashell_proto::Error),
    /// The server's host key was not trusted. The message names the fingerprint.
    HostKey(String),
    /// Authentication failed: no method was accepted.
    Auth(String),
    /// A key file could not be used.
    KeyFile(seashell_keys::KeyFileError),
    /// The server refused a request on a channel (exec, shell, subsystem).
    Refused(String),
    /// The peer refused to open a channel.
    OpenFailed {
        /// The RFC 4254 reason code (1 administratively prohibited, 2 connect failed,
        /// 3 unknown channel type, 4 resource shortage).
        reason: u32,
        /// The peer's description.
        description: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Ssh(e) => write!(f, "{e}"),
            Error::HostKey(m) | Error::Auth(m) | Error::Refused(m) => f.write_str(m),
            Error::KeyFile(e) => write!(f, "{e}"),
            Error::OpenFailed {
                reason,
                description,
            } => write!(f, "channel open failed (reason {reason}): {description}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Ssh(e) => Some(e),
            Error::KeyFile(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// The [`io::ErrorKind`] this error is reported with as an [`io::Error`].
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Error::Io(e) => e.kind(),
            Error::Ssh(e) => ssh_kind(e),
            Error::HostKey(_) | Error::Auth(_) | Error::Refused(_) => {
                io::ErrorKind::PermissionDenied
            }
            Error::KeyFile(_) => io::ErrorKind::InvalidData,
            Error::OpenFailed { reason, .. } => match *reason {
                1 => io::ErrorKind::PermissionDenied,
                2 => io::ErrorKind::ConnectionRefused,
                3 => io::ErrorKind::Unsupported,
                4 => io::ErrorKind::ResourceBusy,
                _ => io::ErrorKind::Other,
            },
        }
    }
}

/// The kind of a core error, after quinn's mapping of its connection errors.
fn ssh_kind(e: &seashell_proto::Error) -> io::ErrorKind {
    use seashell_proto::Error as E;
    use seashell_proto::error::{PeerIncompatible, PeerMisbehaved};
    match e {
        E::Timeout | E::KeepaliveTimeout { .. } | E::IdleTimeout => io::ErrorKind::TimedOut,
        E::ConnectionClosed => io::ErrorKind::ConnectionReset,
        E::LocallyClosed => io::ErrorKind::NotConnected,
        E::DisconnectReceived { reason: r, .. } => match *r {
            reason::NO_MORE_AUTH_METHODS_AVAILABLE => io::ErrorKind::PermissionDenied,
            reason::HOST_NOT_ALLOWED_TO_CONNECT => io::ErrorKind::ConnectionRefused,
            _ => io::ErrorKind::ConnectionAborted,
        },
        E::HostKeyRejected { .. }
        | E::PeerMisbehaved(PeerMisbehaved::TooManyAuthFailures)
        | E::PeerIncompatible(PeerIncompatible::NoMoreAuthMethods { .. }) => {
            io::ErrorKind::PermissionDenied
        }
        E::PeerIncompatible(_) => io::ErrorKind::Unsupported,
        E::InvalidMessage(_) | E::PeerMisbehaved(_) | E::Crypto(_) => io::ErrorKind::InvalidData,
        E::ApiMisuse(_) => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::Other,
    }
}

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

/// An [`Error::Io`] is returned as it is; every other error becomes an [`io::Error`] of
/// [`Error::kind`] that carries it: `get_ref()` / `into_inner()` give the [`Error`] back
/// (downcast), and `source()` is the error underneath it (the core's, for example).
impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            other => io::Error::new(other.kind(), other),
        }
    }
}

impl Error {
    /// The error an [`io::Error`] from a stream stands for: the [`Error`] it carries if it
    /// was made from one, else [`Error::Io`].
    pub fn from_io(e: io::Error) -> Error {
        if !e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            return Error::Io(e);
        }
        let kind = e.kind();
        match e.into_inner().map(|b| b.downcast::<Error>()) {
            Some(Ok(inner)) => *inner,
            Some(Err(other)) => Error::Io(io::Error::new(kind, other)),
            None => Error::Io(kind.into()),
        }
    }
}

/// Why a connection ended, kept so every later call reports it.
#[derive(Debug, Clone)]
pub(crate) enum Lost {
    /// The core's fatal error.
    Ssh(seashell_proto::Error),
    /// The socket failed.
    Io(Arc<io::Error>),
}

impl Lost {
    /// The error a call reports.
    pub fn error(&self) -> Error {
        match self {
            Lost::Ssh(e) => Error::Ssh(e.clone()),
            Lost::Io(e) => Error::Io(io::Error::new(e.kind(), SocketError(e.clone()))),
        }
    }

    /// The same, for `Read`/`Write`.
    pub fn io_error(&self) -> io::Error {
        self.error().into()
    }
}

/// A socket error shared by every call that reports it.
#[derive(Debug)]
struct SocketError(Arc<io::Error>);

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// The error a stream reports once its channel is closed.
pub(crate) fn broken_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "channel closed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn kinds_and_sources_survive_io() {
        let e: io::Error = Error::Ssh(seashell_proto::Error::Timeout).into();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let inner = e.get_ref().and_then(|x| x.downcast_ref::<Error>());
        assert!(matches!(
            inner,
            Some(Error::Ssh(seashell_proto::Error::Timeout))
        ));
        assert!(
            e.source()
                .and_then(|s| s.downcast_ref::<seashell_proto::Error>())
                .is_some()
        );

        let e: io::Error = Error::Auth("permission denied (publickey)".into()).into();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(e.to_string(), "permission denied (publickey)");

        let e: io::Error = Error::Ssh(seashell_proto::Error::Crypto(
            seashell_proto::error::CryptoError::BadMac,
        ))
        .into();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);

        let e: io::Error = Error::OpenFailed {
            reason: 2,
            description: "connect failed".into(),
        }
        .into();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            Error::from_io(e),
            Error::OpenFailed { reason: 2, .. }
        ));
        let plain = io::Error::new(io::ErrorKind::BrokenPipe, "channel closed");
        assert!(
            matches!(Error::from_io(plain), Error::Io(e) if e.kind() == io::ErrorKind::BrokenPipe)
        );
    }

    #[test]
    fn socket_errors_keep_kind_and_source() {
        let lost = Lost::Io(Arc::new(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "reset by peer",
        )));
        let e = lost.io_error();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(e.to_string(), "reset by peer");
        assert!(e.source().is_some());
    }
}
