//! The client's errors: [`ClientError`] for the engine (the byte stream and the request
//! table), [`SftpError`] for one request's outcome.

use std::fmt;

use crate::frame::FrameError;
use crate::status::StatusCode;
use crate::wire::{DecodeError, EncodeError};

/// Why the engine refused a call or failed. Errors from reading the server's bytes are
/// fatal: the engine keeps the first one and every later call returns it (see
/// [`ClientEngine::failure`](super::ClientEngine::failure)). [`TooManyInFlight`],
/// [`Encode`] and [`NotARequest`] only refuse the one call.
///
/// [`TooManyInFlight`]: ClientError::TooManyInFlight
/// [`Encode`]: ClientError::Encode
/// [`NotARequest`]: ClientError::NotARequest
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The server's byte stream cannot be framed (zero or oversize length).
    Frame(FrameError),
    /// A server packet cannot be decoded.
    Decode(DecodeError),
    /// A request cannot be encoded (a field longer than `u32::MAX`); not fatal.
    Encode(EncodeError),
    /// `Init` was passed to [`send`](super::ClientEngine::send): the engine sends it itself.
    NotARequest,
    /// A reply carries an id with no outstanding request.
    UnknownId(u32),
    /// A second reply for a request whose first reply has not been taken yet.
    DuplicateReply(u32),
    /// A second `SSH_FXP_VERSION`.
    UnexpectedVersion,
    /// A reply arrived before `SSH_FXP_VERSION`.
    MissingVersion,
    /// The server answered with a version other than 3.
    UnsupportedVersion(u32),
    /// A reply of a type the request cannot have (e.g. DATA to a STAT).
    UnexpectedReply {
        /// The request id.
        id: u32,
        /// What the request allows.
        expected: &'static str,
        /// What came.
        got: &'static str,
    },
    /// More DATA than the READ asked for.
    DataTooLong {
        /// The request id.
        id: u32,
        /// The length asked.
        requested: u32,
        /// The length received.
        received: usize,
    },
    /// As many requests as [`ClientConfig::max_in_flight`](super::ClientConfig) are
    /// outstanding or hold untaken replies; not fatal: take replies and retry.
    TooManyInFlight {
        /// The configured cap.
        max: usize,
    },
    /// The transport closed (reported by the caller with
    /// [`ClientEngine::on_closed`](super::ClientEngine::on_closed)).
    Closed,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Frame(e) => write!(f, "sftp framing: {e}"),
            Self::Decode(e) => write!(f, "sftp reply: {e}"),
            Self::Encode(e) => write!(f, "sftp request: {e}"),
            Self::NotARequest => f.write_str("SSH_FXP_INIT is sent by the engine itself"),
            Self::UnknownId(id) => write!(f, "sftp reply for unknown request id {id}"),
            Self::DuplicateReply(id) => write!(f, "second sftp reply for request id {id}"),
            Self::UnexpectedVersion => f.write_str("second SSH_FXP_VERSION from the server"),
            Self::MissingVersion => f.write_str("sftp reply before SSH_FXP_VERSION"),
            Self::UnsupportedVersion(v) => write!(f, "sftp server speaks version {v}, not 3"),
            Self::UnexpectedReply { id, expected, got } => {
                write!(
                    f,
                    "sftp reply {got} to request {id}, which expects {expected}"
                )
            }
            Self::DataTooLong {
                id,
                requested,
                received,
            } => write!(
                f,
                "sftp read {id} asked {requested} bytes and received {received}"
            ),
            Self::TooManyInFlight { max } => {
                write!(f, "{max} sftp requests already outstanding")
            }
            Self::Closed => f.write_str("sftp channel closed"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Frame(e) => Some(e),
            Self::Decode(e) => Some(e),
            Self::Encode(e) => Some(e),
            _ => None,
        }
    }
}

/// The outcome of one request, as the `expect_*` functions interpret its reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SftpError {
    /// The server answered `SSH_FXP_STATUS` with an error code.
    Status {
        /// The code.
        code: StatusCode,
        /// The server's message (lossily UTF-8).
        message: String,
    },
    /// A reply of another type than the request calls for.
    UnexpectedReply {
        /// What was expected.
        expected: &'static str,
        /// What came.
        got: &'static str,
    },
    /// A reply of the right type whose content is impossible (why).
    BadReply(&'static str),
    /// An extended reply body cannot be decoded.
    Decode(DecodeError),
    /// The engine failed or refused the request.
    Client(ClientError),
}

impl SftpError {
    /// The status code, when the server answered with one.
    pub fn code(&self) -> Option<StatusCode> {
        match self {
            Self::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether this is `SSH_FX_EOF`.
    pub fn is_eof(&self) -> bool {
        self.code() == Some(StatusCode::Eof)
    }

    /// Whether this is `SSH_FX_NO_SUCH_FILE`.
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(StatusCode::NoSuchFile)
    }
}

impl From<ClientError> for SftpError {
    fn from(e: ClientError) -> Self {
        Self::Client(e)
    }
}

impl From<DecodeError> for SftpError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl fmt::Display for SftpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { code, message } => {
                if message.is_empty() {
                    write!(f, "sftp: {}", code.message())
                } else {
                    write!(f, "sftp: {message}")
                }
            }
            Self::UnexpectedReply { expected, got } => {
                write!(f, "sftp reply {got} where {expected} was expected")
            }
            Self::BadReply(why) => write!(f, "sftp reply: {why}"),
            Self::Decode(e) => write!(f, "sftp extended reply: {e}"),
            Self::Client(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SftpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            Self::Client(e) => Some(e),
            _ => None,
        }
    }
}
