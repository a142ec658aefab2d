//! `SSH_FX_*` status codes.

/// A status code of `SSH_FXP_STATUS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// `SSH_FX_OK` (0).
    Ok,
    /// `SSH_FX_EOF` (1).
    Eof,
    /// `SSH_FX_NO_SUCH_FILE` (2).
    NoSuchFile,
    /// `SSH_FX_PERMISSION_DENIED` (3).
    PermissionDenied,
    /// `SSH_FX_FAILURE` (4).
    Failure,
    /// `SSH_FX_BAD_MESSAGE` (5).
    BadMessage,
    /// `SSH_FX_NO_CONNECTION` (6).
    NoConnection,
    /// `SSH_FX_CONNECTION_LOST` (7).
    ConnectionLost,
    /// `SSH_FX_OP_UNSUPPORTED` (8).
    OpUnsupported,
    /// Any other code (later protocol versions define more).
    Other(u32),
}

impl StatusCode {
    /// The code from its number.
    pub fn from_u32(v: u32) -> Self {
        match v {
            0 => Self::Ok,
            1 => Self::Eof,
            2 => Self::NoSuchFile,
            3 => Self::PermissionDenied,
            4 => Self::Failure,
            5 => Self::BadMessage,
            6 => Self::NoConnection,
            7 => Self::ConnectionLost,
            8 => Self::OpUnsupported,
            o => Self::Other(o),
        }
    }

    /// The number on the wire.
    pub fn to_u32(self) -> u32 {
        match self {
            Self::Ok => 0,
            Self::Eof => 1,
            Self::NoSuchFile => 2,
            Self::PermissionDenied => 3,
            Self::Failure => 4,
            Self::BadMessage => 5,
            Self::NoConnection => 6,
            Self::ConnectionLost => 7,
            Self::OpUnsupported => 8,
            Self::Other(o) => o,
        }
    }

    /// The message OpenSSH's `sftp-server` sends with this code.
    pub fn message(self) -> &'static str {
        match self {
            Self::Ok => "Success",
            Self::Eof => "End of file",
            Self::NoSuchFile => "No such file",
            Self::PermissionDenied => "Permission denied",
            Self::Failure => "Failure",
            Self::BadMessage => "Bad message",
            Self::NoConnection => "No connection",
            Self::ConnectionLost => "Connection lost",
            Self::OpUnsupported => "Operation unsupported",
            Self::Other(_) => "Unknown error",
        }
    }
}
