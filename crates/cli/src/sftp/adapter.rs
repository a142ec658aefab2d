//! [`RemoteFs`] over the library's blocking SFTP client ([`seashell_blocking::sftp::Sftp`]):
//! paths as text, errors as OpenSSH's client words them (`No such file or directory`, from
//! the status code), transfers with the library's `get`/`put`.

use super::remote::{Entry, FsError, FsStats, Meta, Progress, RemoteFs, TransferOptions};
use seashell_blocking::Session;
use seashell_blocking::sftp::{self, Metadata, Sftp, StatusCode, StatusError};
use std::io;
use std::path::Path;

/// An SFTP session on a connection.
pub struct Remote {
    sftp: Sftp,
    /// `-R`: requests in flight per file.
    requests: Option<usize>,
}

/// Opens the `sftp` subsystem on `session`; `requests` is `-R`. The error is the message
/// to print.
pub fn open(session: &Session, requests: Option<usize>) -> Result<Remote, String> {
    let sftp = session
        .sftp()
        .map_err(|e| format!("seashell: cannot start the sftp subsystem: {e}"))?;
    Ok(Remote { sftp, requests })
}

/// OpenSSH's client text for a status code (`fx2txt`).
fn status_text(code: StatusCode) -> &'static str {
    match code {
        StatusCode::Ok => "No error",
        StatusCode::Eof => "End of file",
        StatusCode::NoSuchFile => "No such file or directory",
        StatusCode::PermissionDenied => "Permission denied",
        StatusCode::Failure => "Failure",
        StatusCode::BadMessage => "Bad message",
        StatusCode::NoConnection => "No connection",
        StatusCode::ConnectionLost => "Connection lost",
        StatusCode::OpUnsupported => "Operation unsupported",
        StatusCode::Other(_) => "Unknown status",
    }
}

/// An `io::Error` from the client as an [`FsError`]: a server status as OpenSSH's text with
/// the library's context (`open /x`), anything else (a local file, the connection) as its
/// message.
fn fs_error(e: io::Error) -> FsError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<StatusError>())
    {
        Some(s) => FsError {
            reason: status_text(s.code).to_owned(),
            context: s.context.clone(),
            remote: true,
        },
        None => FsError {
            reason: crate::run::io_text(&e),
            context: String::new(),
            // The connection's failures; any other plain I/O error is a local file's.
            remote: matches!(
                e.kind(),
                io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::InvalidData
                    | io::ErrorKind::WouldBlock
                    | io::ErrorKind::Unsupported
                    | io::ErrorKind::InvalidInput
            ),
        },
    }
}

fn meta(m: &Metadata) -> Meta {
    Meta {
        size: m.size(),
        mode: m.mode(),
        uid_gid: m.uid().zip(m.gid()),
        atime_mtime: m.times().map(|(a, t)| (u64::from(a), u64::from(t))),
    }
}

fn text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

impl Remote {
    /// The library's transfer options.
    fn options(&self, o: TransferOptions, progress: Option<Progress>) -> sftp::TransferOptions {
        let mut t = sftp::TransferOptions::new()
            .recursive(o.recursive)
            .preserve(o.preserve)
            .resume(o.resume);
        t.max_in_flight = self.requests;
        if let Some(p) = progress {
            t = t.progress(move |path: &Path, done, total| p(&path.to_string_lossy(), done, total));
        }
        t
    }
}

impl RemoteFs for Remote {
    fn version(&self) -> u32 {
        self.sftp.server_info().map_or(3, |i| i.version)
    }

    fn canonicalize(&self, path: &str) -> Result<String, FsError> {
        self.sftp
            .canonicalize(path)
            .map(|p| text(&p))
            .map_err(fs_error)
    }

    fn stat(&self, path: &str) -> Result<Meta, FsError> {
        self.sftp.metadata(path).map(|m| meta(&m)).map_err(fs_error)
    }

    fn lstat(&self, path: &str) -> Result<Meta, FsError> {
        self.sftp
            .symlink_metadata(path)
            .map(|m| meta(&m))
            .map_err(fs_error)
    }

    fn read_dir(&self, path: &str) -> Result<Vec<Entry>, FsError> {
        let list = self.sftp.list_dir(path).map_err(fs_error)?;
        Ok(list
            .into_iter()
            .map(|e| Entry {
                name: text(&e.file_name()),
                longname: e.longname(),
                meta: meta(e.metadata()),
            })
            .collect())
    }

    fn mkdir(&self, path: &str) -> Result<(), FsError> {
        self.sftp.create_dir(path).map_err(fs_error)
    }

    fn rmdir(&self, path: &str) -> Result<(), FsError> {
        self.sftp.remove_dir(path).map_err(fs_error)
    }

    fn remove(&self, path: &str) -> Result<(), FsError> {
        self.sftp.remove_file(path).map_err(fs_error)
    }

    fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        self.sftp.rename(from, to).map_err(fs_error)
    }

    fn symlink(&self, target: &str, link: &str) -> Result<(), FsError> {
        self.sftp.symlink(target, link).map_err(fs_error)
    }

    fn hard_link(&self, target: &str, link: &str) -> Result<(), FsError> {
        self.sftp.hard_link(target, link).map_err(fs_error)
    }

    fn copy(&self, from: &str, to: &str) -> Result<(), FsError> {
        self.sftp.copy(from, to).map(|_| ()).map_err(fs_error)
    }

    fn set_mode(&self, path: &str, mode: u32, follow: bool) -> Result<(), FsError> {
        if !follow {
            return Err(FsError::new(status_text(StatusCode::OpUnsupported)));
        }
        self.sftp.set_permissions(path, mode).map_err(fs_error)
    }

    fn set_owner(&self, path: &str, uid: u32, gid: u32, follow: bool) -> Result<(), FsError> {
        if !follow {
            return Err(FsError::new(status_text(StatusCode::OpUnsupported)));
        }
        self.sftp.set_owner(path, uid, gid).map_err(fs_error)
    }

    fn statvfs(&self, path: &str) -> Result<FsStats, FsError> {
        let s = self.sftp.statvfs(path).map_err(fs_error)?;
        Ok(FsStats {
            frsize: s.frsize,
            blocks: s.blocks,
            bfree: s.bfree,
            bavail: s.bavail,
            files: s.files,
            ffree: s.ffree,
            favail: s.favail,
        })
    }

    fn glob(&self, pattern: &str) -> Result<Vec<String>, FsError> {
        let found = self.sftp.glob(pattern).map_err(fs_error)?;
        Ok(found.iter().map(|p| text(p)).collect())
    }

    fn get(
        &self,
        remote: &str,
        local: &Path,
        options: TransferOptions,
        progress: Option<Progress>,
    ) -> Result<(), FsError> {
        let opts = self.options(options, progress);
        self.sftp.get(remote, local, &opts).map_err(fs_error)?;
        if options.fsync && !options.recursive {
            let f =
                std::fs::File::open(local).map_err(|e| FsError::new(crate::run::io_text(&e)))?;
            f.sync_all()
                .map_err(|e| FsError::new(crate::run::io_text(&e)))?;
        }
        Ok(())
    }

    fn put(
        &self,
        local: &Path,
        remote: &str,
        options: TransferOptions,
        progress: Option<Progress>,
    ) -> Result<(), FsError> {
        let opts = self.options(options, progress);
        self.sftp.put(local, remote, &opts).map_err(fs_error)?;
        if options.fsync && !options.recursive {
            let mut f = self
                .sftp
                .open_with(remote, sftp::OpenOptions::new().write(true))
                .map_err(fs_error)?;
            f.sync_all().map_err(fs_error)?;
            f.close().map_err(fs_error)?;
        }
        Ok(())
    }
}
