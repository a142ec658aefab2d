//! Paramiko's `SFTPClient` names, for who comes from Python: each is the `std::fs`-like
//! call it names.

use super::Sftp;
use super::types::{DirEntry, Metadata};
use std::io;
use std::path::{Path, PathBuf};

impl Sftp {
    /// Paramiko `stat`: [`metadata`](Self::metadata).
    pub async fn stat(&self, path: impl AsRef<Path>) -> io::Result<Metadata> {
        self.metadata(path).await
    }

    /// Paramiko `lstat`: [`symlink_metadata`](Self::symlink_metadata).
    pub async fn lstat(&self, path: impl AsRef<Path>) -> io::Result<Metadata> {
        self.symlink_metadata(path).await
    }

    /// Paramiko `listdir`: [`list_names`](Self::list_names).
    pub async fn listdir(&self, path: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
        self.list_names(path).await
    }

    /// Paramiko `listdir_attr`: [`list_dir`](Self::list_dir).
    pub async fn listdir_attr(&self, path: impl AsRef<Path>) -> io::Result<Vec<DirEntry>> {
        self.list_dir(path).await
    }

    /// Paramiko `mkdir(path, mode)`: [`create_dir_mode`](Self::create_dir_mode).
    pub async fn mkdir(&self, path: impl AsRef<Path>, mode: u32) -> io::Result<()> {
        self.create_dir_mode(path, Some(mode)).await
    }

    /// Paramiko `remove` / `unlink`: [`remove_file`](Self::remove_file).
    pub async fn remove(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.remove_file(path).await
    }

    /// Paramiko `rmdir`: [`remove_dir`](Self::remove_dir).
    pub async fn rmdir(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.remove_dir(path).await
    }

    /// Paramiko `chmod`: [`set_permissions`](Self::set_permissions).
    pub async fn chmod(&self, path: impl AsRef<Path>, mode: u32) -> io::Result<()> {
        self.set_permissions(path, mode).await
    }
}
