//! Listing remote directories: [`ReadDir`] (one `READDIR` page at a time, as a poll
//! function) and the collecting helpers (`list_dir`, paramiko's `listdir` and
//! `listdir_attr`).

use super::Sftp;
use super::error::sftp_error;
use super::ops::ctx;
use super::types::{DirEntry, Metadata};
use seashell_sftp::client::{expect_dir_entries, expect_handle};
use seashell_sftp::{Request, path_bytes};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll, ready};

/// Most entries [`Sftp::list_dir`] (and the tree walks built on it) collect from one
/// directory.
pub const MAX_LIST_ENTRIES: usize = 1_000_000;

/// The entries of a remote directory, fetched one `READDIR` page at a time (OpenSSH's server
/// sends up to 100 per page). `.` and `..` are skipped. The directory handle is closed at
/// the end or when this is dropped. Get one with `Sftp::read_dir`.
#[derive(Debug)]
pub struct ReadDir {
    sftp: Sftp,
    path: PathBuf,
    handle: Option<Vec<u8>>,
    page: VecDeque<DirEntry>,
    /// The READDIR not yet sent (waiting for room), or sent and waiting for its reply.
    request: Option<Request>,
    pending: Option<u32>,
    done: bool,
}

impl ReadDir {
    /// The session this belongs to.
    pub fn session(&self) -> &Sftp {
        &self.sftp
    }

    /// The directory being listed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next entry: `Ready(None)` at the end. Cancellation-safe: the request in flight is
    /// kept across polls.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<DirEntry>>> {
        loop {
            if let Some(e) = self.page.pop_front() {
                return Poll::Ready(Some(Ok(e)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let Some(handle) = self.handle.clone() else {
                self.done = true;
                return Poll::Ready(None);
            };
            let id = match self.pending {
                Some(id) => id,
                None => {
                    if self.request.is_none() {
                        self.request = Some(Request::ReadDir { id: 0, handle });
                    }
                    let id = match ready!(self.sftp.conn.poll_send(cx, &mut self.request)) {
                        Ok(id) => id,
                        Err(e) => return Poll::Ready(Some(Err(self.fail(e)))),
                    };
                    self.pending = Some(id);
                    id
                }
            };
            let reply = ready!(self.sftp.conn.poll_reply(cx, id));
            self.pending = None;
            let entries = reply.and_then(|r| {
                expect_dir_entries(r).map_err(|e| sftp_error(e, ctx("readdir", &self.path)))
            });
            match entries {
                Ok(Some(entries)) => {
                    let dir = &self.path;
                    self.page.extend(
                        entries
                            .into_iter()
                            .filter(|e| e.filename != b"." && e.filename != b"..")
                            .map(|e| DirEntry {
                                dir: dir.clone(),
                                name: e.filename,
                                longname: e.longname,
                                metadata: Metadata::from_attrs(e.attrs),
                            }),
                    );
                }
                Ok(None) => self.finish(),
                Err(e) => return Poll::Ready(Some(Err(self.fail(e)))),
            }
        }
    }

    /// The next entry, `Ok(None)` at the end.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await.transpose()
    }

    fn fail(&mut self, e: io::Error) -> io::Error {
        self.finish();
        e
    }

    /// Ends the listing and closes the handle (without waiting for the answer).
    fn finish(&mut self) {
        self.done = true;
        if let Some(id) = self.pending.take() {
            self.sftp.conn.abandon(id);
        }
        if let Some(handle) = self.handle.take() {
            self.sftp
                .conn
                .send_and_forget(Request::Close { id: 0, handle });
        }
    }
}

impl Drop for ReadDir {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Sftp {
    /// Opens a directory for listing (SFTP `OPENDIR`); the entries come with their
    /// attributes.
    pub async fn read_dir(&self, path: impl AsRef<Path>) -> io::Result<ReadDir> {
        let path = path.as_ref();
        let r = self
            .conn
            .call(Request::OpenDir {
                id: 0,
                path: path_bytes(path),
            })
            .await?;
        let handle = expect_handle(r).map_err(|e| sftp_error(e, ctx("opendir", path)))?;
        Ok(ReadDir {
            sftp: self.clone(),
            path: path.to_path_buf(),
            handle: Some(handle),
            page: VecDeque::new(),
            request: None,
            pending: None,
            done: false,
        })
    }

    /// Every entry of a directory, with attributes, in the server's order (paramiko
    /// `listdir_attr`). At most [`MAX_LIST_ENTRIES`] (a server listing without end is an
    /// error, not unbounded memory); [`read_dir`](Self::read_dir) streams any number.
    pub async fn list_dir(&self, path: impl AsRef<Path>) -> io::Result<Vec<DirEntry>> {
        let path = path.as_ref();
        let mut rd = self.read_dir(path).await?;
        let mut out = Vec::new();
        while let Some(e) = rd.next_entry().await? {
            if out.len() >= MAX_LIST_ENTRIES {
                return Err(io::Error::new(
                    io::ErrorKind::OutOfMemory,
                    format!(
                        "{} has more than {MAX_LIST_ENTRIES} entries (use read_dir)",
                        path.display()
                    ),
                ));
            }
            out.push(e);
        }
        Ok(out)
    }

    /// The names in a directory, sorted (paramiko `listdir`).
    pub async fn list_names(&self, path: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
        let mut names: Vec<PathBuf> = self
            .list_dir(path)
            .await?
            .iter()
            .map(DirEntry::file_name)
            .collect();
        names.sort();
        Ok(names)
    }
}
