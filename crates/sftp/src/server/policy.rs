//! Per-request allow/deny decisions, taken before a request reaches the filesystem.

use crate::{ExtendedRequest, OpenFlags, Request};

/// Decides, for each request after INIT, whether it may proceed; a denied request is
/// answered `SSH_FX_PERMISSION_DENIED` and never reaches the filesystem.
///
/// Any `FnMut(&Request) -> bool + Send` is a policy.
pub trait Policy: Send {
    /// Whether `request` may proceed.
    fn allow(&mut self, request: &Request) -> bool;
}

impl<T: FnMut(&Request) -> bool + Send> Policy for T {
    fn allow(&mut self, request: &Request) -> bool {
        self(request)
    }
}

/// Whether a request may change the filesystem: the requests `sftp-server -R` refuses
/// (an OPEN for writing, creating or truncating; WRITE; SETSTAT; REMOVE; RENAME; …).
pub fn is_write(request: &Request) -> bool {
    match request {
        Request::Open { flags, .. } => {
            flags.0
                & (OpenFlags::WRITE.0
                    | OpenFlags::APPEND.0
                    | OpenFlags::CREAT.0
                    | OpenFlags::TRUNC.0)
                != 0
        }
        Request::Write { .. }
        | Request::SetStat { .. }
        | Request::FSetStat { .. }
        | Request::Remove { .. }
        | Request::Mkdir { .. }
        | Request::Rmdir { .. }
        | Request::Rename { .. }
        | Request::Symlink { .. } => true,
        Request::Extended { request, .. } => matches!(
            request,
            ExtendedRequest::PosixRename { .. }
                | ExtendedRequest::Hardlink { .. }
                | ExtendedRequest::Fsync { .. }
                | ExtendedRequest::LSetStat { .. }
                | ExtendedRequest::CopyData { .. }
        ),
        Request::Init { .. }
        | Request::Close { .. }
        | Request::Read { .. }
        | Request::Lstat { .. }
        | Request::Fstat { .. }
        | Request::OpenDir { .. }
        | Request::ReadDir { .. }
        | Request::RealPath { .. }
        | Request::Stat { .. }
        | Request::ReadLink { .. } => false,
    }
}
