//! [`RemoteFs`] over the library's blocking SFTP client (placeholder until it lands).

use super::remote::{Entry, FsError, FsStats, Meta, Progress, RemoteFs, TransferOptions};
use seashell_blocking::Session;
use std::path::Path;

/// An SFTP session.
pub struct Remote;

/// Opens the `sftp` subsystem on `session`.
pub fn open(
    _session: &Session,
    _requests: Option<usize>,
    _buffer: Option<u32>,
) -> Result<Remote, String> {
    Err("seashell: the SFTP client is not available yet".to_owned())
}

fn no<T>() -> Result<T, FsError> {
    Err(FsError::new("unavailable"))
}

impl RemoteFs for Remote {
    fn version(&self) -> u32 {
        3
    }
    fn canonicalize(&self, _: &str) -> Result<String, FsError> {
        no()
    }
    fn stat(&self, _: &str) -> Result<Meta, FsError> {
        no()
    }
    fn lstat(&self, _: &str) -> Result<Meta, FsError> {
        no()
    }
    fn read_dir(&self, _: &str) -> Result<Vec<Entry>, FsError> {
        no()
    }
    fn mkdir(&self, _: &str) -> Result<(), FsError> {
        no()
    }
    fn rmdir(&self, _: &str) -> Result<(), FsError> {
        no()
    }
    fn remove(&self, _: &str) -> Result<(), FsError> {
        no()
    }
    fn rename(&self, _: &str, _: &str) -> Result<(), FsError> {
        no()
    }
    fn symlink(&self, _: &str, _: &str) -> Result<(), FsError> {
        no()
    }
    fn hard_link(&self, _: &str, _: &str) -> Result<(), FsError> {
        no()
    }
    fn set_mode(&self, _: &str, _: u32, _: bool) -> Result<(), FsError> {
        no()
    }
    fn set_owner(&self, _: &str, _: u32, _: u32, _: bool) -> Result<(), FsError> {
        no()
    }
    fn statvfs(&self, _: &str) -> Result<FsStats, FsError> {
        no()
    }
    fn glob(&self, _: &str) -> Result<Vec<String>, FsError> {
        no()
    }
    fn names(&self, _: &[u32], _: &[u32]) -> Option<(Vec<String>, Vec<String>)> {
        None
    }
    fn get(
        &self,
        _: &str,
        _: &Path,
        _: TransferOptions,
        _: Option<Progress>,
    ) -> Result<(), FsError> {
        no()
    }
    fn put(
        &self,
        _: &Path,
        _: &str,
        _: TransferOptions,
        _: Option<Progress>,
    ) -> Result<(), FsError> {
        no()
    }
}
