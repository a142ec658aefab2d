//! What the `sftp` and `cp` commands need from an SFTP connection: [`RemoteFs`], a small
//! trait implemented over the library's client (`seashell_blocking::sftp`) in
//! [`crate::sftp::adapter`]. Paths are absolute remote paths as text.

use std::path::Path;
use std::sync::Arc;

/// A remote operation that failed: the server's (or the library's) reason, such as
/// `No such file or directory`, and what was being done when it is not the operation
/// itself (a transfer's `open /x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsError {
    /// The reason, as OpenSSH words it after the colon.
    pub reason: String,
    /// What failed, when the library says (`open /remote/file`); may be empty.
    pub context: String,
    /// Whether the server (or the connection) failed, rather than a local file.
    pub remote: bool,
}

impl FsError {
    /// An error with `reason` and no context.
    pub fn new(reason: impl Into<String>) -> FsError {
        FsError {
            reason: reason.into(),
            context: String::new(),
            remote: true,
        }
    }
}

impl std::fmt::Display for FsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.context.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.context, self.reason)
        }
    }
}

/// A file's attributes, as far as the server sent them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meta {
    /// Size in bytes.
    pub size: Option<u64>,
    /// `st_mode`: type and permission bits.
    pub mode: Option<u32>,
    /// Owner and group ids.
    pub uid_gid: Option<(u32, u32)>,
    /// Access and modification times (seconds since the epoch).
    pub atime_mtime: Option<(u64, u64)>,
}

impl Meta {
    /// Whether the mode says directory.
    pub fn is_dir(&self) -> bool {
        self.mode.is_some_and(|m| m & 0o170_000 == 0o040_000)
    }
}

/// One entry of a remote directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file name (no directory part).
    pub name: String,
    /// The server's `ls -l` style line, if it sent one.
    pub longname: String,
    /// The attributes.
    pub meta: Meta,
}

/// File system statistics (`statvfs@openssh.com`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsStats {
    /// Fragment size.
    pub frsize: u64,
    /// Blocks (of `frsize`).
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Blocks free for unprivileged users.
    pub bavail: u64,
    /// Inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// Inodes free for unprivileged users.
    pub favail: u64,
}

/// How a transfer runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferOptions {
    /// Directories too, with everything in them.
    pub recursive: bool,
    /// Keep modes and times.
    pub preserve: bool,
    /// Continue a partial file from where it ends.
    pub resume: bool,
    /// fsync each file after writing it.
    pub fsync: bool,
}

/// A transfer's progress: `(path, bytes done, total bytes)` of the file being transferred
/// (the remote path for `get`, the local one for `put`), called as the data goes.
pub type Progress = Arc<dyn Fn(&str, u64, u64) + Send + Sync>;

/// The remote operations the commands use.
pub trait RemoteFs {
    /// The server's protocol version.
    fn version(&self) -> u32;
    /// The canonical absolute form of `path` (`realpath`).
    fn canonicalize(&self, path: &str) -> Result<String, FsError>;
    /// Attributes, following symlinks.
    fn stat(&self, path: &str) -> Result<Meta, FsError>;
    /// Attributes of the link itself.
    fn lstat(&self, path: &str) -> Result<Meta, FsError>;
    /// Every entry of a directory (with `.` and `..` if the server lists them).
    fn read_dir(&self, path: &str) -> Result<Vec<Entry>, FsError>;
    /// Creates a directory (mode 0777 less the server's umask).
    fn mkdir(&self, path: &str) -> Result<(), FsError>;
    /// Removes an empty directory.
    fn rmdir(&self, path: &str) -> Result<(), FsError>;
    /// Removes a file.
    fn remove(&self, path: &str) -> Result<(), FsError>;
    /// Renames (POSIX semantics when the server offers them).
    fn rename(&self, from: &str, to: &str) -> Result<(), FsError>;
    /// Creates `link` pointing at `target`.
    fn symlink(&self, target: &str, link: &str) -> Result<(), FsError>;
    /// Creates a hard link `link` to `target`.
    fn hard_link(&self, target: &str, link: &str) -> Result<(), FsError>;
    /// Copies a file on the server (`copy-data`).
    fn copy(&self, from: &str, to: &str) -> Result<(), FsError>;
    /// Sets the permission bits.
    fn set_mode(&self, path: &str, mode: u32, follow: bool) -> Result<(), FsError>;
    /// Sets the owner and group ids.
    fn set_owner(&self, path: &str, uid: u32, gid: u32, follow: bool) -> Result<(), FsError>;
    /// File system statistics for the file system holding `path`.
    fn statvfs(&self, path: &str) -> Result<FsStats, FsError>;
    /// The paths matching a glob pattern (`*`, `?`, `[...]`), sorted.
    fn glob(&self, pattern: &str) -> Result<Vec<String>, FsError>;
    /// Downloads `remote` to `local`.
    fn get(
        &self,
        remote: &str,
        local: &Path,
        options: TransferOptions,
        progress: Option<Progress>,
    ) -> Result<(), FsError>;
    /// Uploads `local` to `remote`.
    fn put(
        &self,
        local: &Path,
        remote: &str,
        options: TransferOptions,
        progress: Option<Progress>,
    ) -> Result<(), FsError>;
}
