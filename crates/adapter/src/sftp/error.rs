//! SFTP failures as [`std::io::Error`]s: a status code maps to an [`io::ErrorKind`]
//! (`SSH_FX_NO_SUCH_FILE` is [`NotFound`](io::ErrorKind::NotFound), …) and the server's
//! message is kept, with the code, in a [`StatusError`] inside the `io::Error`.

use seashell_sftp::StatusCode;
use seashell_sftp::client::{ClientError, SftpError};
use std::fmt;
use std::io;

/// A request the server answered with a failure status. It is the inner error of the
/// [`io::Error`]s the client returns for server refusals: get it back with
/// `err.get_ref().and_then(|e| e.downcast_ref::<StatusError>())`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError {
    /// The status code.
    pub code: StatusCode,
    /// The server's message (lossily decoded).
    pub message: String,
    /// What was asked, for example `open /etc/shadow`.
    pub context: String,
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = if self.message.is_empty() {
            self.code.message()
        } else {
            &self.message
        };
        if self.context.is_empty() {
            write!(f, "{msg}")
        } else {
            write!(f, "{}: {msg}", self.context)
        }
    }
}

impl std::error::Error for StatusError {}

/// The [`io::ErrorKind`] of a status code.
pub fn status_kind(code: StatusCode) -> io::ErrorKind {
    match code {
        StatusCode::Ok => io::ErrorKind::Other,
        StatusCode::Eof => io::ErrorKind::UnexpectedEof,
        StatusCode::NoSuchFile => io::ErrorKind::NotFound,
        StatusCode::PermissionDenied => io::ErrorKind::PermissionDenied,
        StatusCode::BadMessage => io::ErrorKind::InvalidData,
        StatusCode::NoConnection => io::ErrorKind::NotConnected,
        StatusCode::ConnectionLost => io::ErrorKind::ConnectionAborted,
        StatusCode::OpUnsupported => io::ErrorKind::Unsupported,
        StatusCode::Failure | StatusCode::Other(_) => io::ErrorKind::Other,
    }
}

/// The `io::Error` for a failure status.
pub fn status_error(code: StatusCode, message: &[u8], context: impl Into<String>) -> io::Error {
    io::Error::new(
        status_kind(code),
        StatusError {
            code,
            message: seashell_sftp::lossy(message),
            context: context.into(),
        },
    )
}

/// The `io::Error` for a request's failed outcome, with what was asked (`context`).
pub fn sftp_error(e: SftpError, context: impl Into<String>) -> io::Error {
    match e {
        SftpError::Status { code, message } => status_error(code, message.as_bytes(), context),
        SftpError::Client(c) => client_error(&c),
        other => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {other}", context.into()),
        ),
    }
}

/// The `io::Error` for an engine failure: the channel closing is `ConnectionAborted`, a
/// full request table `WouldBlock`, anything else (the server broke the protocol)
/// `InvalidData`.
pub fn client_error(e: &ClientError) -> io::Error {
    let kind = match e {
        ClientError::Closed => io::ErrorKind::ConnectionAborted,
        ClientError::TooManyInFlight { .. } => io::ErrorKind::WouldBlock,
        ClientError::Encode(_) => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, e.clone())
}

/// An extension the server did not advertise.
pub fn unsupported(ext: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("the server does not offer {ext}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let e = status_error(StatusCode::NoSuchFile, b"No such file", "open /x");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(e.to_string(), "open /x: No such file");
        let s = e.get_ref().and_then(|e| e.downcast_ref::<StatusError>());
        assert_eq!(s.map(|s| s.code), Some(StatusCode::NoSuchFile));
        let e = status_error(StatusCode::PermissionDenied, b"", "");
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(e.to_string(), "Permission denied");
        assert_eq!(
            status_kind(StatusCode::OpUnsupported),
            io::ErrorKind::Unsupported
        );
    }
}
