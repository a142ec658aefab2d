//! SFTP over a blocking session: [`Sftp`] (from [`Session::sftp`](crate::Session::sftp)),
//! a `std::fs`-like API, [`File`] with [`Read`], [`Write`] and [`Seek`], [`ReadDir`] as an
//! iterator, and pipelined [`get`](Sftp::get) / [`put`](Sftp::put) of files and trees.
//!
//! Every call runs the shared client of [`seashell_adapter::sftp`] on the calling thread.
//! An `Sftp` is cheap to clone and works from many threads at once: their requests are
//! pipelined on the one channel.
//!
//! ```no_run
//! use seashell_blocking::{Client, ClientConfig};
//! use seashell_blocking::sftp::TransferOptions;
//! let session = Client::connect("example.org:22", ClientConfig::new("me"))?;
//! let sftp = session.sftp()?;
//! sftp.put("report.pdf", "uploads/report.pdf", &TransferOptions::new())?;
//! sftp.get("logs", "/tmp/logs", &TransferOptions::new().recursive(true).preserve(true))?;
//! for entry in sftp.read_dir("uploads")? {
//!     let entry = entry?;
//!     println!("{} {}", entry.path().display(), entry.metadata().len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Paramiko users: `stat`, `lstat`, `listdir`, `listdir_attr`, `mkdir`, `remove`, `rmdir`,
//! `chmod`, `get`, `put`, `rename`, `open` are here under the same names (see [`Sftp`] for
//! the full mapping).

use seashell_adapter::sftp::{self as core, wait};
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use seashell_adapter::sftp::{
    DirEntry, FileAttributes, FileType, IN_FLIGHT_WINDOW, Limits, MAX_IN_FLIGHT, Metadata,
    OpenOptions, Progress, ServerInfo, StatVfs, StatusCode, StatusError, TransferOptions,
    TransferStats, status_kind,
};

/// One SFTP session, blocking. Clones share it; the channel closes when the last clone,
/// [`File`] and [`ReadDir`] is dropped. Errors are [`io::Error`]s whose kind follows the
/// server's status (`NotFound`, `PermissionDenied`, …) and whose inner [`StatusError`]
/// keeps the server's message.
///
/// Paramiko's `SFTPClient` names: `stat` → [`metadata`](Self::metadata) (alias
/// [`stat`](Self::stat)), `lstat` → [`symlink_metadata`](Self::symlink_metadata),
/// `listdir` → [`list_names`](Self::list_names), `listdir_attr` →
/// [`list_dir`](Self::list_dir), `open(path, mode)` → [`open_with`](Self::open_with),
/// `get`/`put` → [`get`](Self::get)/[`put`](Self::put), `mkdir` →
/// [`create_dir`](Self::create_dir) (alias [`mkdir`](Self::mkdir)), `remove`/`unlink` →
/// [`remove_file`](Self::remove_file), `rmdir` → [`remove_dir`](Self::remove_dir),
/// `rename`/`posix_rename` → [`rename`](Self::rename), `chmod` →
/// [`set_permissions`](Self::set_permissions), `chown` → [`set_owner`](Self::set_owner),
/// `utime` → [`set_times`](Self::set_times), `truncate` → [`set_len`](Self::set_len),
/// `readlink` → [`read_link`](Self::read_link), `normalize` →
/// [`canonicalize`](Self::canonicalize).
#[derive(Debug, Clone)]
pub struct Sftp {
    inner: core::Sftp,
    timeout: Option<Duration>,
}

/// Blocking forms of the shared client's async calls, one line each.
macro_rules! blocking {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        $(
            $(#[$m])*
            pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                self.wait(self.inner.$name($($arg),*))
            }
        )*
    };
}

impl Sftp {
    pub(crate) fn new(inner: core::Sftp) -> Sftp {
        Sftp {
            inner,
            timeout: None,
        }
    }

    /// Sets an inactivity limit for every call of this handle and of the [`File`]s and
    /// [`ReadDir`]s it opens afterwards: a call fails with [`io::ErrorKind::TimedOut`] once
    /// the server has sent nothing for `limit` while it waits (its requests are abandoned;
    /// late replies are discarded). A transfer whose replies keep coming never times out.
    /// `None` (the default) waits as long as the connection lives.
    pub fn set_timeout(&mut self, limit: Option<Duration>) {
        self.timeout = limit;
    }

    /// The inactivity limit set by [`set_timeout`](Self::set_timeout).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    fn wait<T>(&self, call: impl Future<Output = io::Result<T>>) -> io::Result<T> {
        core::wait_idle(&self.inner, self.timeout, call)
    }

    fn file(&self, inner: core::File) -> File {
        File {
            inner,
            session: self.inner.clone(),
            timeout: self.timeout,
        }
    }

    /// Runs SFTP over a pipe to a local server process, with no SSH (OpenSSH's `sftp -D`):
    /// `from` is the server's stdout, `to` its stdin. The server's stdin is closed when the
    /// last handle goes.
    ///
    /// ```no_run
    /// use std::process::{Command, Stdio};
    /// let mut child = Command::new("/usr/lib/openssh/sftp-server")
    ///     .stdin(Stdio::piped())
    ///     .stdout(Stdio::piped())
    ///     .spawn()?;
    /// let (from, to) = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    /// let sftp = seashell_blocking::sftp::Sftp::over_pipe(from, to)?;
    /// println!("{}", sftp.canonicalize(".")?.display());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn over_pipe(
        from: impl Read + Send + 'static,
        to: impl Write + Send + 'static,
    ) -> io::Result<Sftp> {
        wait(core::Sftp::over_pipe(from, to)).map(Sftp::new)
    }

    /// The shared (async) client this wraps, for code that mixes both.
    pub fn as_async(&self) -> &core::Sftp {
        &self.inner
    }

    /// What the server said in `SSH_FXP_VERSION` (its extensions).
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.inner.server_info()
    }

    /// Whether the server advertised extension `name` (e.g. `"copy-data"`).
    pub fn has_extension(&self, name: &str) -> bool {
        self.inner.has_extension(name)
    }

    /// The server's `limits@openssh.com` reply, if offered.
    pub fn limits(&self) -> Option<Limits> {
        self.inner.limits()
    }

    /// The READ request size (from the server's limits; 32 KiB without them).
    pub fn read_chunk(&self) -> u32 {
        self.inner.read_chunk()
    }

    /// The WRITE request size.
    pub fn write_chunk(&self) -> u32 {
        self.inner.write_chunk()
    }

    /// Opens a directory listing: an iterator of entries with their attributes.
    pub fn read_dir(&self, path: impl AsRef<Path>) -> io::Result<ReadDir> {
        self.wait(self.inner.read_dir(path)).map(|inner| ReadDir {
            inner,
            session: self.inner.clone(),
            timeout: self.timeout,
        })
    }

    /// Opens a remote file for reading.
    pub fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        self.wait(self.inner.open(path)).map(|f| self.file(f))
    }

    /// Creates (or truncates) a remote file for writing.
    pub fn create(&self, path: impl AsRef<Path>) -> io::Result<File> {
        self.wait(self.inner.create(path)).map(|f| self.file(f))
    }

    /// Opens a remote file as `options` say (paramiko `open(path, mode)`: `"r"` is
    /// `read(true)`, `"w"` `write(true).create(true).truncate(true)`, `"a"`
    /// `append(true).create(true)`, `"r+"` `read(true).write(true)`).
    pub fn open_with(&self, path: impl AsRef<Path>, options: &OpenOptions) -> io::Result<File> {
        self.wait(self.inner.open_with(path, options))
            .map(|f| self.file(f))
    }

    blocking! {
        /// A file's attributes, following symbolic links (SFTP `STAT`).
        fn metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata>;
        /// A file's attributes, not following a final symbolic link (SFTP `LSTAT`).
        fn symlink_metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata>;
        /// Whether `path` exists (following links).
        fn exists(&self, path: impl AsRef<Path>) -> io::Result<bool>;
        /// Sets the attributes that are `Some` (SFTP `SETSTAT`).
        fn set_metadata(&self, path: impl AsRef<Path>, attrs: FileAttributes) -> io::Result<()>;
        /// Sets the permission bits (paramiko `chmod`).
        fn set_permissions(&self, path: impl AsRef<Path>, mode: u32) -> io::Result<()>;
        /// Sets access and modification times (whole seconds; paramiko `utime`).
        fn set_times(&self, path: impl AsRef<Path>, accessed: SystemTime, modified: SystemTime) -> io::Result<()>;
        /// Sets owner and group ids (paramiko `chown`).
        fn set_owner(&self, path: impl AsRef<Path>, uid: u32, gid: u32) -> io::Result<()>;
        /// Truncates or extends a file (paramiko `truncate`).
        fn set_len(&self, path: impl AsRef<Path>, size: u64) -> io::Result<()>;
        /// Creates a directory (fails if it exists).
        fn create_dir(&self, path: impl AsRef<Path>) -> io::Result<()>;
        /// Creates a directory with permission bits `mode`.
        fn create_dir_mode(&self, path: impl AsRef<Path>, mode: Option<u32>) -> io::Result<()>;
        /// Creates a directory and its missing parents.
        fn create_dir_all(&self, path: impl AsRef<Path>) -> io::Result<()>;
        /// Removes a file or symbolic link.
        fn remove_file(&self, path: impl AsRef<Path>) -> io::Result<()>;
        /// Removes an empty directory.
        fn remove_dir(&self, path: impl AsRef<Path>) -> io::Result<()>;
        /// Removes a directory and everything in it (links are removed, not followed).
        fn remove_dir_all(&self, path: impl AsRef<Path>) -> io::Result<()>;
        /// Renames, replacing `to` when the server offers `posix-rename@openssh.com`.
        fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()>;
        /// Creates a hard link `link` to `original` (`hardlink@openssh.com`).
        fn hard_link(&self, original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()>;
        /// Creates a symbolic link `link` pointing to `target`.
        fn symlink(&self, target: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()>;
        /// What a symbolic link points to.
        fn read_link(&self, path: impl AsRef<Path>) -> io::Result<PathBuf>;
        /// The absolute, resolved path (SFTP `REALPATH`).
        fn canonicalize(&self, path: impl AsRef<Path>) -> io::Result<PathBuf>;
        /// `~` and `~user` expanded (`expand-path@openssh.com`, else `canonicalize`).
        fn expand_path(&self, path: impl AsRef<Path>) -> io::Result<PathBuf>;
        /// File system statistics (`statvfs@openssh.com`).
        fn statvfs(&self, path: impl AsRef<Path>) -> io::Result<StatVfs>;
        /// Server-side copy (`copy-data`): `to` created or truncated; returns bytes copied.
        fn copy(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64>;
        /// Every entry of a directory with attributes (paramiko `listdir_attr`).
        fn list_dir(&self, path: impl AsRef<Path>) -> io::Result<Vec<DirEntry>>;
        /// The sorted names in a directory (paramiko `listdir`).
        fn list_names(&self, path: impl AsRef<Path>) -> io::Result<Vec<PathBuf>>;
        /// A whole remote file (pipelined reads).
        fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>>;
        /// Creates or replaces a remote file with `data` (pipelined writes).
        fn write(&self, path: impl AsRef<Path>, data: impl AsRef<[u8]>) -> io::Result<()>;
        /// Downloads a file, or a tree with `recursive` (paramiko/OpenSSH `get`; see
        /// [`TransferOptions`] for `-p`, resume and progress).
        fn get(&self, remote: impl AsRef<Path>, local: impl AsRef<Path>, options: &TransferOptions) -> io::Result<TransferStats>;
        /// Uploads a file, or a tree with `recursive` (paramiko/OpenSSH `put`).
        fn put(&self, local: impl AsRef<Path>, remote: impl AsRef<Path>, options: &TransferOptions) -> io::Result<TransferStats>;
        /// Remote paths matching a glob pattern (`*`, `?`, `[..]` per component), sorted.
        fn glob(&self, pattern: impl AsRef<Path>) -> io::Result<Vec<PathBuf>>;
        /// Paramiko `stat`.
        fn stat(&self, path: impl AsRef<Path>) -> io::Result<Metadata>;
        /// Paramiko `lstat`.
        fn lstat(&self, path: impl AsRef<Path>) -> io::Result<Metadata>;
        /// Paramiko `listdir`.
        fn listdir(&self, path: impl AsRef<Path>) -> io::Result<Vec<PathBuf>>;
        /// Paramiko `listdir_attr`.
        fn listdir_attr(&self, path: impl AsRef<Path>) -> io::Result<Vec<DirEntry>>;
        /// Paramiko `mkdir(path, mode)`.
        fn mkdir(&self, path: impl AsRef<Path>, mode: u32) -> io::Result<()>;
        /// Paramiko `remove`.
        fn remove(&self, path: impl AsRef<Path>) -> io::Result<()>;
        /// Paramiko `rmdir`.
        fn rmdir(&self, path: impl AsRef<Path>) -> io::Result<()>;
        /// Paramiko `chmod`.
        fn chmod(&self, path: impl AsRef<Path>, mode: u32) -> io::Result<()>;
    }

    /// The login user's home directory.
    pub fn home_dir(&self) -> io::Result<PathBuf> {
        self.wait(self.inner.home_dir())
    }
}

/// An open remote file: [`Read`] with read-ahead, [`Write`] with write-behind, [`Seek`].
/// A write error shows at the latest on [`flush`](Write::flush), [`close`](Self::close) or
/// [`sync_all`](Self::sync_all). Dropping the file flushes and closes it, waiting for the
/// server as `BufWriter` does, but ignoring errors: call `close` to see them.
#[derive(Debug)]
pub struct File {
    inner: core::File,
    session: core::Sftp,
    timeout: Option<Duration>,
}

impl File {
    /// The remote path it was opened with.
    pub fn path(&self) -> &Path {
        self.inner.path()
    }

    /// Flushes and closes, reporting any write error.
    pub fn close(mut self) -> io::Result<()> {
        core::wait_idle(&self.session, self.timeout, self.inner.close())
    }

    /// Flushes, then commits the file to stable storage on the server (`fsync@openssh.com`).
    pub fn sync_all(&mut self) -> io::Result<()> {
        core::wait_idle(&self.session, self.timeout, self.inner.sync_all())
    }

    /// The file's attributes (SFTP `FSTAT`).
    pub fn metadata(&mut self) -> io::Result<Metadata> {
        core::wait_idle(&self.session, self.timeout, self.inner.metadata())
    }

    /// Truncates or extends the file.
    pub fn set_len(&mut self, size: u64) -> io::Result<()> {
        core::wait_idle(&self.session, self.timeout, self.inner.set_len(size))
    }

    /// Sets the permission bits.
    pub fn set_permissions(&mut self, mode: u32) -> io::Result<()> {
        core::wait_idle(
            &self.session,
            self.timeout,
            self.inner.set_permissions(mode),
        )
    }

    /// Sets attributes (SFTP `FSETSTAT`).
    pub fn set_metadata(&mut self, attrs: FileAttributes) -> io::Result<()> {
        core::wait_idle(&self.session, self.timeout, self.inner.set_metadata(attrs))
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // Queued WRITEs and the CLOSE reach the server before the session may go.
        let _ = core::wait_idle(&self.session, self.timeout, self.inner.close());
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let f = &mut self.inner;
        core::block_idle(&self.session, self.timeout, |cx| f.poll_read(cx, buf))
    }
}

impl Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let f = &mut self.inner;
        core::block_idle(&self.session, self.timeout, |cx| f.poll_write(cx, buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        let f = &mut self.inner;
        core::block_idle(&self.session, self.timeout, |cx| f.poll_flush(cx))
    }
}

impl Seek for File {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let f = &mut self.inner;
        core::block_idle(&self.session, self.timeout, |cx| f.poll_seek(cx, pos))
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.inner.position())
    }
}

/// A directory listing: an iterator of entries (`.` and `..` skipped), fetched a page at a
/// time.
#[derive(Debug)]
pub struct ReadDir {
    inner: core::ReadDir,
    session: core::Sftp,
    timeout: Option<Duration>,
}

impl Iterator for ReadDir {
    type Item = io::Result<DirEntry>;

    fn next(&mut self) -> Option<io::Result<DirEntry>> {
        let d = &mut self.inner;
        let poll = |cx: &mut std::task::Context<'_>| match d.poll_next_entry(cx) {
            std::task::Poll::Ready(Some(r)) => std::task::Poll::Ready(r.map(Some)),
            std::task::Poll::Ready(None) => std::task::Poll::Ready(Ok(None)),
            std::task::Poll::Pending => std::task::Poll::Pending,
        };
        core::block_idle(&self.session, self.timeout, poll).transpose()
    }
}
