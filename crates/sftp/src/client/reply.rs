//! Typed interpretation of replies: each `expect_*` turns a [`Response`] into the value the
//! request calls for, a STATUS error into [`SftpError::Status`], and anything else into
//! [`SftpError::UnexpectedReply`].

use crate::attrs::FileAttributes;
use crate::ext::{Limits, StatVfs};
use crate::response::{NameEntry, Response};
use crate::status::StatusCode;
use crate::wire::lossy;

use super::error::SftpError;

/// The packet type name of a response, for messages.
pub fn reply_kind(r: &Response) -> &'static str {
    match r {
        Response::Version { .. } => "VERSION",
        Response::Status { .. } => "STATUS",
        Response::Handle { .. } => "HANDLE",
        Response::Data { .. } => "DATA",
        Response::Name { .. } => "NAME",
        Response::Attrs { .. } => "ATTRS",
        Response::ExtendedReply { .. } => "EXTENDED_REPLY",
    }
}

/// The error for a reply that is not what `expected` names: a STATUS error becomes
/// [`SftpError::Status`], anything else (STATUS OK included) [`SftpError::UnexpectedReply`].
fn other(r: Response, expected: &'static str) -> SftpError {
    match r {
        Response::Status { code, message, .. } if code != StatusCode::Ok => SftpError::Status {
            code,
            message: lossy(&message),
        },
        r => SftpError::UnexpectedReply {
            expected,
            got: reply_kind(&r),
        },
    }
}

/// A STATUS OK (CLOSE, WRITE, SETSTAT, REMOVE, MKDIR, RMDIR, RENAME, SYMLINK, and the
/// extensions answered with a status).
pub fn expect_ok(r: Response) -> Result<(), SftpError> {
    match r {
        Response::Status {
            code: StatusCode::Ok,
            ..
        } => Ok(()),
        r => Err(other(r, "STATUS")),
    }
}

/// A HANDLE (OPEN, OPENDIR).
pub fn expect_handle(r: Response) -> Result<Vec<u8>, SftpError> {
    match r {
        Response::Handle { handle, .. } => Ok(handle),
        r => Err(other(r, "HANDLE")),
    }
}

/// A DATA (READ): `Ok(None)` at end of file (`SSH_FX_EOF`).
pub fn expect_data(r: Response) -> Result<Option<Vec<u8>>, SftpError> {
    match r {
        Response::Data { data, .. } => Ok(Some(data)),
        Response::Status {
            code: StatusCode::Eof,
            ..
        } => Ok(None),
        r => Err(other(r, "DATA")),
    }
}

/// A NAME with any number of entries.
pub fn expect_name(r: Response) -> Result<Vec<NameEntry>, SftpError> {
    match r {
        Response::Name { entries, .. } => Ok(entries),
        r => Err(other(r, "NAME")),
    }
}

/// A NAME answering READDIR: `Ok(None)` at the end of the directory (`SSH_FX_EOF`).
pub fn expect_dir_entries(r: Response) -> Result<Option<Vec<NameEntry>>, SftpError> {
    match r {
        Response::Name { entries, .. } => Ok(Some(entries)),
        Response::Status {
            code: StatusCode::Eof,
            ..
        } => Ok(None),
        r => Err(other(r, "NAME")),
    }
}

/// A NAME with exactly one entry (REALPATH, READLINK, `expand-path@openssh.com`,
/// `home-directory`).
pub fn expect_one_name(r: Response) -> Result<NameEntry, SftpError> {
    let mut entries = expect_name(r)?;
    if entries.len() != 1 {
        return Err(SftpError::BadReply("NAME must hold exactly one entry"));
    }
    entries
        .pop()
        .ok_or(SftpError::BadReply("NAME must hold exactly one entry"))
}

/// An ATTRS (STAT, LSTAT, FSTAT).
pub fn expect_attrs(r: Response) -> Result<FileAttributes, SftpError> {
    match r {
        Response::Attrs { attrs, .. } => Ok(attrs),
        r => Err(other(r, "ATTRS")),
    }
}

/// An EXTENDED_REPLY's body.
pub fn expect_extended(r: Response) -> Result<Vec<u8>, SftpError> {
    match r {
        Response::ExtendedReply { data, .. } => Ok(data),
        r => Err(other(r, "EXTENDED_REPLY")),
    }
}

/// The reply to `limits@openssh.com`.
pub fn expect_limits(r: Response) -> Result<Limits, SftpError> {
    Ok(Limits::decode(&expect_extended(r)?)?)
}

/// The reply to `statvfs@openssh.com` or `fstatvfs@openssh.com`.
pub fn expect_statvfs(r: Response) -> Result<StatVfs, SftpError> {
    Ok(StatVfs::decode(&expect_extended(r)?)?)
}
