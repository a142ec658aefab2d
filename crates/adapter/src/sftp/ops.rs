//! The `std::fs`-like calls of [`Sftp`]: one request each (or a short walk), as async
//! functions over the session's poll functions. The blocking adapter runs the same futures
//! with [`block_on`](crate::block_on).

use super::Sftp;
use super::error::sftp_error;
use super::types::{Metadata, epoch_secs};
use seashell_sftp::client::{
    expect_attrs, expect_handle, expect_ok, expect_one_name, expect_statvfs,
};
use seashell_sftp::extension_names as ext;
use seashell_sftp::{
    ExtendedRequest, FileAttributes, OpenFlags, Request, StatVfs, bytes_path, path_bytes,
};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// `"verb path"`, for error messages.
pub(crate) fn ctx(verb: &str, path: &Path) -> String {
    format!("{verb} {}", path.display())
}

impl Sftp {
    /// Sends `request` and expects STATUS OK.
    pub(crate) async fn call_ok(&self, request: Request, what: String) -> io::Result<()> {
        let r = self.conn.call(request).await?;
        expect_ok(r).map_err(|e| sftp_error(e, what))
    }

    /// A file's attributes, following symbolic links (SFTP `STAT`; paramiko `stat`).
    pub async fn metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata> {
        let path = path.as_ref();
        let r = self
            .conn
            .call(Request::Stat {
                id: 0,
                path: path_bytes(path),
            })
            .await?;
        expect_attrs(r)
            .map(Metadata::from_attrs)
            .map_err(|e| sftp_error(e, ctx("stat", path)))
    }

    /// A file's attributes, not following a final symbolic link (SFTP `LSTAT`; paramiko
    /// `lstat`).
    pub async fn symlink_metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata> {
        let path = path.as_ref();
        let r = self
            .conn
            .call(Request::Lstat {
                id: 0,
                path: path_bytes(path),
            })
            .await?;
        expect_attrs(r)
            .map(Metadata::from_attrs)
            .map_err(|e| sftp_error(e, ctx("lstat", path)))
    }

    /// Whether `path` exists (following links): `Ok(false)` when the server says no such
    /// file.
    pub async fn exists(&self, path: impl AsRef<Path>) -> io::Result<bool> {
        match self.metadata(path).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets attributes (SFTP `SETSTAT`): only the fields that are `Some` change.
    pub async fn set_metadata(
        &self,
        path: impl AsRef<Path>,
        attrs: FileAttributes,
    ) -> io::Result<()> {
        let path = path.as_ref();
        let req = Request::SetStat {
            id: 0,
            path: path_bytes(path),
            attrs,
        };
        self.call_ok(req, ctx("setstat", path)).await
    }

    /// Sets the permission bits (paramiko `chmod`).
    pub async fn set_permissions(&self, path: impl AsRef<Path>, mode: u32) -> io::Result<()> {
        let attrs = FileAttributes {
            permissions: Some(mode & 0o7777),
            ..FileAttributes::default()
        };
        self.set_metadata(path, attrs).await
    }

    /// Sets the access and modification times (whole seconds; paramiko `utime`).
    pub async fn set_times(
        &self,
        path: impl AsRef<Path>,
        accessed: SystemTime,
        modified: SystemTime,
    ) -> io::Result<()> {
        let attrs = FileAttributes {
            atime_mtime: Some((epoch_secs(accessed), epoch_secs(modified))),
            ..FileAttributes::default()
        };
        self.set_metadata(path, attrs).await
    }

    /// Changes the owner and group ids (paramiko `chown`).
    pub async fn set_owner(&self, path: impl AsRef<Path>, uid: u32, gid: u32) -> io::Result<()> {
        let attrs = FileAttributes {
            uid_gid: Some((uid, gid)),
            ..FileAttributes::default()
        };
        self.set_metadata(path, attrs).await
    }

    /// Truncates or extends a file to `size` bytes (paramiko `truncate`).
    pub async fn set_len(&self, path: impl AsRef<Path>, size: u64) -> io::Result<()> {
        let attrs = FileAttributes {
            size: Some(size),
            ..FileAttributes::default()
        };
        self.set_metadata(path, attrs).await
    }

    /// Creates a directory (SFTP `MKDIR`; paramiko `mkdir`). Fails if it exists.
    pub async fn create_dir(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.create_dir_mode(path, None).await
    }

    /// Creates a directory with permission bits `mode` (the server's umask may apply).
    pub async fn create_dir_mode(
        &self,
        path: impl AsRef<Path>,
        mode: Option<u32>,
    ) -> io::Result<()> {
        let path = path.as_ref();
        let req = Request::Mkdir {
            id: 0,
            path: path_bytes(path),
            attrs: FileAttributes {
                permissions: mode,
                ..FileAttributes::default()
            },
        };
        self.call_ok(req, ctx("mkdir", path)).await
    }

    /// Creates a directory and every missing parent; existing directories are fine.
    pub async fn create_dir_all(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let mut at = PathBuf::new();
        for c in path.components() {
            at.push(c.as_os_str());
            if matches!(
                c,
                Component::RootDir | Component::CurDir | Component::Prefix(_)
            ) {
                continue;
            }
            if let Ok(m) = self.metadata(&at).await
                && m.is_dir()
            {
                continue;
            }
            if let Err(e) = self.create_dir(&at).await {
                // Lost a race with another creator: fine if it is a directory now.
                if !self.metadata(&at).await.is_ok_and(|m| m.is_dir()) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Removes a file or symbolic link (SFTP `REMOVE`; paramiko `remove`/`unlink`).
    pub async fn remove_file(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let req = Request::Remove {
            id: 0,
            filename: path_bytes(path),
        };
        self.call_ok(req, ctx("remove", path)).await
    }

    /// Removes an empty directory (SFTP `RMDIR`; paramiko `rmdir`).
    pub async fn remove_dir(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let req = Request::Rmdir {
            id: 0,
            path: path_bytes(path),
        };
        self.call_ok(req, ctx("rmdir", path)).await
    }

    /// Removes a directory and everything in it (symbolic links are removed, not
    /// followed). The walk holds one listing per level.
    pub async fn remove_dir_all(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let root = path.as_ref().to_path_buf();
        if !self.symlink_metadata(&root).await?.is_dir() {
            return self.remove_file(&root).await;
        }
        // Depth-first with an explicit stack: (directory, its children listed yet).
        let mut stack = vec![(root, false)];
        while let Some((dir, listed)) = stack.pop() {
            if listed {
                self.remove_dir(&dir).await?;
                continue;
            }
            stack.push((dir.clone(), true));
            for entry in self.list_dir(&dir).await? {
                if entry.file_type().is_dir() {
                    stack.push((entry.path(), false));
                } else {
                    self.remove_file(entry.path()).await?;
                }
            }
        }
        Ok(())
    }

    /// Renames `from` to `to`, replacing `to` when the server offers
    /// `posix-rename@openssh.com` (as `std::fs::rename` does); plain SFTP `RENAME` fails if
    /// `to` exists (paramiko `rename` / `posix_rename`).
    pub async fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
        let (from, to) = (from.as_ref(), to.as_ref());
        let (old, new) = (path_bytes(from), path_bytes(to));
        let req = if self.conn.has_extension(ext::POSIX_RENAME) {
            Request::Extended {
                id: 0,
                request: ExtendedRequest::PosixRename { old, new },
            }
        } else {
            Request::Rename { id: 0, old, new }
        };
        let what = format!("rename {} to {}", from.display(), to.display());
        self.call_ok(req, what).await
    }

    /// Creates a hard link `link` to `original` (`hardlink@openssh.com`).
    pub async fn hard_link(
        &self,
        original: impl AsRef<Path>,
        link: impl AsRef<Path>,
    ) -> io::Result<()> {
        self.conn.require(ext::HARDLINK)?;
        let (original, link) = (original.as_ref(), link.as_ref());
        let req = Request::Extended {
            id: 0,
            request: ExtendedRequest::Hardlink {
                old: path_bytes(original),
                new: path_bytes(link),
            },
        };
        self.call_ok(req, ctx("hard link", link)).await
    }

    /// Creates a symbolic link `link` pointing to `target` (paramiko `symlink(source,
    /// dest)` has the same order).
    pub async fn symlink(
        &self,
        target: impl AsRef<Path>,
        link: impl AsRef<Path>,
    ) -> io::Result<()> {
        let (target, link) = (target.as_ref(), link.as_ref());
        let req = Request::Symlink {
            id: 0,
            target: path_bytes(target),
            link: path_bytes(link),
        };
        self.call_ok(req, ctx("symlink", link)).await
    }

    async fn one_name(&self, request: Request, what: String) -> io::Result<PathBuf> {
        let r = self.conn.call(request).await?;
        expect_one_name(r)
            .map(|n| bytes_path(&n.filename))
            .map_err(|e| sftp_error(e, what))
    }

    /// What a symbolic link points to (SFTP `READLINK`; paramiko `readlink`).
    pub async fn read_link(&self, path: impl AsRef<Path>) -> io::Result<PathBuf> {
        let path = path.as_ref();
        let req = Request::ReadLink {
            id: 0,
            path: path_bytes(path),
        };
        self.one_name(req, ctx("readlink", path)).await
    }

    /// The absolute path with `.`, `..` and links resolved (SFTP `REALPATH`; paramiko
    /// `normalize`).
    pub async fn canonicalize(&self, path: impl AsRef<Path>) -> io::Result<PathBuf> {
        let path = path.as_ref();
        let req = Request::RealPath {
            id: 0,
            path: path_bytes(path),
        };
        self.one_name(req, ctx("realpath", path)).await
    }

    /// `path` with a leading `~` or `~user` expanded, then canonicalised
    /// (`expand-path@openssh.com`; without it, plain `canonicalize`).
    pub async fn expand_path(&self, path: impl AsRef<Path>) -> io::Result<PathBuf> {
        let path = path.as_ref();
        if !self.conn.has_extension(ext::EXPAND_PATH) {
            return self.canonicalize(path).await;
        }
        let req = Request::Extended {
            id: 0,
            request: ExtendedRequest::ExpandPath {
                path: path_bytes(path),
            },
        };
        self.one_name(req, ctx("expand", path)).await
    }

    /// The login user's home directory: `home-directory` or `expand-path@openssh.com` when
    /// offered, else the directory the session starts in (`REALPATH .`, which is the home
    /// directory on OpenSSH).
    pub async fn home_dir(&self) -> io::Result<PathBuf> {
        if self.conn.has_extension(ext::EXPAND_PATH) {
            return self.expand_path("~").await;
        }
        self.canonicalize(".").await
    }

    /// File system statistics of the file system holding `path` (`statvfs@openssh.com`;
    /// OpenSSH `df`).
    pub async fn statvfs(&self, path: impl AsRef<Path>) -> io::Result<StatVfs> {
        self.conn.require(ext::STATVFS)?;
        let path = path.as_ref();
        let req = Request::Extended {
            id: 0,
            request: ExtendedRequest::StatVfs {
                path: path_bytes(path),
            },
        };
        let r = self.conn.call(req).await?;
        expect_statvfs(r).map_err(|e| sftp_error(e, ctx("statvfs", path)))
    }

    /// Opens a handle (SFTP `OPEN`).
    pub(crate) async fn open_handle(
        &self,
        path: &Path,
        flags: OpenFlags,
        attrs: FileAttributes,
    ) -> io::Result<Vec<u8>> {
        let req = Request::Open {
            id: 0,
            filename: path_bytes(path),
            flags,
            attrs,
        };
        let r = self.conn.call(req).await?;
        expect_handle(r).map_err(|e| sftp_error(e, ctx("open", path)))
    }

    /// Closes a handle, waiting for the server's answer.
    pub(crate) async fn close_handle(&self, handle: Vec<u8>, path: &Path) -> io::Result<()> {
        self.call_ok(Request::Close { id: 0, handle }, ctx("close", path))
            .await
    }

    /// Copies `from` to `to` on the server, the data never crossing the network
    /// (`copy-data`); `to` is created or truncated, with `from`'s permission bits. Returns
    /// the bytes copied.
    pub async fn copy(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
        self.conn.require(ext::COPY_DATA)?;
        let (from, to) = (from.as_ref(), to.as_ref());
        let src = self
            .open_handle(from, OpenFlags::READ, FileAttributes::default())
            .await?;
        let src_guard = HandleGuard::new(self, src.clone());
        let meta = self.fstat(&src, from).await?;
        let attrs = FileAttributes {
            permissions: meta.permissions(),
            ..FileAttributes::default()
        };
        let flags = OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC;
        let dst = self.open_handle(to, flags, attrs).await?;
        let dst_guard = HandleGuard::new(self, dst.clone());
        let req = Request::Extended {
            id: 0,
            request: ExtendedRequest::CopyData {
                read_handle: src,
                read_offset: 0,
                length: 0,
                write_handle: dst,
                write_offset: 0,
            },
        };
        let what = format!("copy {} to {}", from.display(), to.display());
        self.call_ok(req, what).await?;
        dst_guard.close(to).await?;
        src_guard.close(from).await?;
        Ok(meta.len())
    }

    /// The attributes of an open handle (SFTP `FSTAT`).
    pub(crate) async fn fstat(&self, handle: &[u8], path: &Path) -> io::Result<Metadata> {
        let req = Request::Fstat {
            id: 0,
            handle: handle.to_vec(),
        };
        let r = self.conn.call(req).await?;
        expect_attrs(r)
            .map(Metadata::from_attrs)
            .map_err(|e| sftp_error(e, ctx("fstat", path)))
    }
}

/// Closes a handle when dropped (without waiting), unless closed with [`close`](Self::close).
pub(crate) struct HandleGuard<'a> {
    sftp: &'a Sftp,
    handle: Option<Vec<u8>>,
}

impl<'a> HandleGuard<'a> {
    pub(crate) fn new(sftp: &'a Sftp, handle: Vec<u8>) -> HandleGuard<'a> {
        HandleGuard {
            sftp,
            handle: Some(handle),
        }
    }

    /// The handle.
    pub(crate) fn handle(&self) -> &[u8] {
        self.handle.as_deref().unwrap_or_default()
    }

    /// Closes the handle and waits for the answer.
    pub(crate) async fn close(mut self, path: &Path) -> io::Result<()> {
        match self.handle.take() {
            Some(h) => self.sftp.close_handle(h, path).await,
            None => Ok(()),
        }
    }
}

impl Drop for HandleGuard<'_> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.sftp
                .conn
                .send_and_forget(Request::Close { id: 0, handle });
        }
    }
}
