//! The filesystem trait the server engine drives, and its typed errors.

use std::fmt;
use std::io;

use crate::{FileAttributes, OpenFlags, StatVfs, StatusCode};

/// Why a filesystem operation failed; each maps to the `SSH_FX_*` code `sftp-server` sends
/// for the same `errno` ([`FsError::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsError {
    /// The path (or a component of it) does not exist (`ENOENT`, `ENOTDIR`, `EBADF`).
    NotFound,
    /// Refused: permissions, read-only mode, or a path that would leave the root
    /// (`EACCES`, `EPERM`, `EROFS`).
    PermissionDenied,
    /// The backend cannot do this (`ENOSYS`, `EOPNOTSUPP`).
    Unsupported,
    /// Reading at or past the end of the file.
    Eof,
    /// Any other failure (`EEXIST`, `ENOTEMPTY`, `ELOOP`, `EISDIR`, I/O errors, …).
    Failure,
}

impl FsError {
    /// The status code sent to the client.
    pub fn status(self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NoSuchFile,
            Self::PermissionDenied => StatusCode::PermissionDenied,
            Self::Unsupported => StatusCode::OpUnsupported,
            Self::Eof => StatusCode::Eof,
            Self::Failure => StatusCode::Failure,
        }
    }

    /// The error for an `errno`, as `sftp-server`'s `errno_to_portable` maps it.
    pub fn from_errno(errno: i32) -> Self {
        // Linux numbers; the same on every platform for these classic values.
        const EPERM: i32 = 1;
        const ENOENT: i32 = 2;
        const EBADF: i32 = 9;
        const EACCES: i32 = 13;
        const ENOTDIR: i32 = 20;
        const EROFS: i32 = 30;
        const ENOSYS: i32 = 38;
        const EOPNOTSUPP: i32 = 95;
        match errno {
            ENOENT | ENOTDIR | EBADF => Self::NotFound,
            EPERM | EACCES | EROFS => Self::PermissionDenied,
            ENOSYS | EOPNOTSUPP => Self::Unsupported,
            _ => Self::Failure,
        }
    }
}

impl From<io::Error> for FsError {
    fn from(e: io::Error) -> Self {
        match e.raw_os_error() {
            Some(n) => Self::from_errno(n),
            None => match e.kind() {
                io::ErrorKind::NotFound => Self::NotFound,
                io::ErrorKind::PermissionDenied => Self::PermissionDenied,
                io::ErrorKind::Unsupported => Self::Unsupported,
                io::ErrorKind::UnexpectedEof => Self::Eof,
                _ => Self::Failure,
            },
        }
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.status().message())
    }
}

impl std::error::Error for FsError {}

/// The result of a filesystem operation.
pub type FsResult<T> = Result<T, FsError>;

/// One entry of a directory listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirEntry {
    /// The bare file name (no slash).
    pub name: Vec<u8>,
    /// Its attributes, not following a symbolic link (`lstat`).
    pub attrs: FileAttributes,
    /// Its link count, for the `ls -l` line (0 when unknown).
    pub nlink: u64,
}

/// A filesystem as the SFTP server engine sees it: every request that is not a protocol
/// decision ends up here. Paths are the client's bytes, absolute (`/` is the backend's root)
/// or relative to its start directory; the backend resolves them and must keep them inside
/// whatever it serves.
///
/// Open files and directories are the backend's own values ([`Filesystem::File`],
/// [`Filesystem::Dir`]); the engine keeps them in its bounded handle table and gives the
/// client opaque handles.
pub trait Filesystem {
    /// An open file.
    type File;
    /// An open directory being listed.
    type Dir;

    /// `SSH_FXP_OPEN`: opens (or creates, with `attrs.permissions` as the mode) a file.
    fn open(
        &mut self,
        path: &[u8],
        flags: OpenFlags,
        attrs: &FileAttributes,
    ) -> FsResult<Self::File>;
    /// Reads at `offset` into `buf`, returning how many bytes were read; 0 at end of file.
    fn read(&mut self, file: &mut Self::File, offset: u64, buf: &mut [u8]) -> FsResult<usize>;
    /// Writes all of `data` at `offset`.
    fn write(&mut self, file: &mut Self::File, offset: u64, data: &[u8]) -> FsResult<()>;
    /// `SSH_FXP_FSTAT`.
    fn fstat(&mut self, file: &mut Self::File) -> FsResult<FileAttributes>;
    /// `SSH_FXP_FSETSTAT`: size (truncate), permissions, times, owner.
    fn fsetstat(&mut self, file: &mut Self::File, attrs: &FileAttributes) -> FsResult<()>;
    /// `fsync@openssh.com`.
    fn fsync(&mut self, file: &mut Self::File) -> FsResult<()>;
    /// `fstatvfs@openssh.com`.
    fn fstatvfs(&mut self, file: &mut Self::File) -> FsResult<StatVfs>;
    /// `SSH_FXP_CLOSE` of a file handle.
    fn close(&mut self, file: Self::File) -> FsResult<()> {
        drop(file);
        Ok(())
    }

    /// `SSH_FXP_OPENDIR`.
    fn opendir(&mut self, path: &[u8]) -> FsResult<Self::Dir>;
    /// `SSH_FXP_READDIR`: up to `max` entries; an empty vector means the end.
    fn readdir(&mut self, dir: &mut Self::Dir, max: usize) -> FsResult<Vec<DirEntry>>;
    /// `SSH_FXP_CLOSE` of a directory handle.
    fn closedir(&mut self, dir: Self::Dir) -> FsResult<()> {
        drop(dir);
        Ok(())
    }

    /// `SSH_FXP_STAT`: attributes, following symbolic links.
    fn stat(&mut self, path: &[u8]) -> FsResult<FileAttributes>;
    /// `SSH_FXP_LSTAT`: attributes of the link itself.
    fn lstat(&mut self, path: &[u8]) -> FsResult<FileAttributes>;
    /// `SSH_FXP_SETSTAT`, following symbolic links.
    fn setstat(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()>;
    /// `lsetstat@openssh.com`: SETSTAT on the link itself (permissions are not changed on a
    /// link).
    fn lsetstat(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()>;
    /// `SSH_FXP_REMOVE` (not directories).
    fn remove(&mut self, path: &[u8]) -> FsResult<()>;
    /// `SSH_FXP_MKDIR`.
    fn mkdir(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()>;
    /// `SSH_FXP_RMDIR`.
    fn rmdir(&mut self, path: &[u8]) -> FsResult<()>;
    /// `SSH_FXP_REALPATH`: the canonical absolute path (symbolic links resolved, `.` and
    /// `..` removed; the last component need not exist).
    fn realpath(&mut self, path: &[u8]) -> FsResult<Vec<u8>>;
    /// `SSH_FXP_RENAME`: fails when `new` exists.
    fn rename(&mut self, old: &[u8], new: &[u8]) -> FsResult<()>;
    /// `posix-rename@openssh.com`: replaces `new`.
    fn posix_rename(&mut self, old: &[u8], new: &[u8]) -> FsResult<()>;
    /// `SSH_FXP_READLINK`: a link's target, as stored.
    fn readlink(&mut self, path: &[u8]) -> FsResult<Vec<u8>>;
    /// `SSH_FXP_SYMLINK`: creates `link` pointing at `target`.
    fn symlink(&mut self, target: &[u8], link: &[u8]) -> FsResult<()>;
    /// `hardlink@openssh.com`: a hard link `new` to `old` (a symbolic link is linked itself,
    /// not followed).
    fn hardlink(&mut self, old: &[u8], new: &[u8]) -> FsResult<()>;
    /// `statvfs@openssh.com`.
    fn statvfs(&mut self, path: &[u8]) -> FsResult<StatVfs>;
    /// The home (and start) directory, as the client sees it: `~` expands to it.
    fn home(&mut self) -> FsResult<Vec<u8>>;
    /// `home-directory`: the home directory of `username` (by default [`Filesystem::home`]
    /// for everyone: a confined backend has one home).
    fn home_of(&mut self, username: &[u8]) -> FsResult<Vec<u8>> {
        let _ = username;
        self.home()
    }
    /// A user name for `ls -l` lines and `users-groups-by-id@openssh.com`.
    fn user_name(&mut self, uid: u32) -> Option<Vec<u8>> {
        let _ = uid;
        None
    }
    /// A group name for `ls -l` lines and `users-groups-by-id@openssh.com`.
    fn group_name(&mut self, gid: u32) -> Option<Vec<u8>> {
        let _ = gid;
        None
    }
}
