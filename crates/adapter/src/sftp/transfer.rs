//! Whole-file and whole-tree transfers: [`Sftp::get`] and [`Sftp::put`], pipelined with the
//! engine's [`ReadPipeline`] / [`WritePipeline`] (OpenSSH's ramp: one request in flight at
//! first, one more per reply, up to the window-sized maximum), with `-p`-like preservation,
//! resume (OpenSSH's `reget`/`reput`) and progress.
//!
//! Memory per file: the read pipeline holds at most `in_flight × chunk` bytes requested or
//! received and not yet written (65 × 261,120 ≈ 16 MiB against sftp-server), the write
//! pipeline as much unacknowledged. It does not grow with the file: a 10 GiB transfer holds
//! the same ≈ 16 MiB as a 16 MiB one. Local file I/O is done with `std::fs` on the calling
//! thread or task.

use super::Sftp;
use super::error::sftp_error;
use super::ops::{HandleGuard, ctx};
use super::types::Metadata;
use seashell_sftp::client::{ReadMode, ReadPipeline, WritePipeline, expect_data, expect_ok};
use seashell_sftp::{FileAttributes, OpenFlags, Request};
use std::fmt;
use std::fs;
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// A progress callback: `(path, bytes done, total bytes)` of the file being transferred
/// (the remote path for `get`, the local one for `put`), called after each piece.
pub type Progress = Arc<dyn Fn(&Path, u64, u64) + Send + Sync>;

/// How [`Sftp::get`] and [`Sftp::put`] behave.
#[derive(Clone, Default)]
pub struct TransferOptions {
    /// Copy directories with everything in them (`-r`). Without it a directory is an error.
    pub recursive: bool,
    /// Keep permission bits and access/modification times (`-p`).
    pub preserve: bool,
    /// Continue an interrupted transfer from the destination's current size (`reget` /
    /// `reput`, `-a`): the bytes already there are assumed right. A destination larger than
    /// the source is an error; an equal one is skipped.
    pub resume: bool,
    /// Called with `(path, done, total)` as the data goes.
    pub progress: Option<Progress>,
    /// Requests in flight per file (default: enough for 16 MiB in flight, at most 256;
    /// see [`IN_FLIGHT_WINDOW`](super::IN_FLIGHT_WINDOW)).
    pub max_in_flight: Option<usize>,
}

impl fmt::Debug for TransferOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransferOptions")
            .field("recursive", &self.recursive)
            .field("preserve", &self.preserve)
            .field("resume", &self.resume)
            .field("progress", &self.progress.is_some())
            .field("max_in_flight", &self.max_in_flight)
            .finish()
    }
}

impl TransferOptions {
    /// Defaults: one file, nothing preserved, no resume, no progress.
    pub fn new() -> TransferOptions {
        TransferOptions::default()
    }

    /// Sets [`recursive`](Self::recursive).
    pub fn recursive(mut self, on: bool) -> Self {
        self.recursive = on;
        self
    }

    /// Sets [`preserve`](Self::preserve).
    pub fn preserve(mut self, on: bool) -> Self {
        self.preserve = on;
        self
    }

    /// Sets [`resume`](Self::resume).
    pub fn resume(mut self, on: bool) -> Self {
        self.resume = on;
        self
    }

    /// Sets the progress callback.
    pub fn progress(mut self, f: impl Fn(&Path, u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Sets [`max_in_flight`](Self::max_in_flight).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n);
        self
    }
}

/// What a transfer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferStats {
    /// Regular files transferred (including ones resumed).
    pub files: u64,
    /// Directories created or entered.
    pub dirs: u64,
    /// Bytes moved over the network.
    pub bytes: u64,
    /// Entries skipped: neither directory nor regular file (links, devices), or resumed
    /// files already complete.
    pub skipped: u64,
}

/// Request ids of one pipeline, abandoned if the transfer is dropped midway.
struct Flight<'a> {
    sftp: &'a Sftp,
    ids: Vec<u32>,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            self.sftp.conn.abandon(id);
        }
    }
}

impl Flight<'_> {
    async fn next_reply(&mut self) -> io::Result<(u32, seashell_sftp::Response)> {
        let (id, r) = poll_fn(|cx| self.sftp.conn.poll_any(cx, &self.ids)).await?;
        self.ids.retain(|&i| i != id);
        Ok((id, r))
    }
}

fn other(msg: String) -> io::Error {
    io::Error::other(msg)
}

impl Sftp {
    /// Downloads `remote` to `local` (paramiko `get`, OpenSSH `get`). A file goes to `local`
    /// (into it, under the remote name, when `local` is an existing directory); with
    /// [`recursive`](TransferOptions::recursive) a directory is copied as `local`, its
    /// subdirectories and regular files with it (symbolic links and special files are
    /// skipped and counted).
    pub async fn get(
        &self,
        remote: impl AsRef<Path>,
        local: impl AsRef<Path>,
        options: &TransferOptions,
    ) -> io::Result<TransferStats> {
        let (remote, local) = (remote.as_ref(), local.as_ref());
        let meta = self.metadata(remote).await?;
        let mut stats = TransferStats::default();
        if !meta.is_dir() {
            let local = match remote.file_name() {
                Some(name) if local.is_dir() => local.join(name),
                _ => local.to_path_buf(),
            };
            self.get_file(remote, &local, &meta, options, &mut stats)
                .await?;
            return Ok(stats);
        }
        if !options.recursive {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is a directory (not recursive)", remote.display()),
            ));
        }
        // Directory times are set last: writing the children changes them.
        let mut dirs_done: Vec<(PathBuf, Metadata)> = Vec::new();
        let mut stack = vec![(remote.to_path_buf(), local.to_path_buf(), meta)];
        while let Some((rdir, ldir, meta)) = stack.pop() {
            fs::create_dir_all(&ldir)?;
            stats.dirs += 1;
            for e in self.list_dir(&rdir).await? {
                let (rpath, lpath) = (e.path(), ldir.join(e.file_name()));
                if e.file_type().is_dir() {
                    stack.push((rpath, lpath, e.metadata().clone()));
                } else if e.file_type().is_file() {
                    self.get_file(&rpath, &lpath, e.metadata(), options, &mut stats)
                        .await?;
                } else {
                    stats.skipped += 1;
                }
            }
            dirs_done.push((ldir, meta));
        }
        if options.preserve {
            for (dir, meta) in dirs_done.iter().rev() {
                preserve_local(dir, meta)?;
            }
        }
        Ok(stats)
    }

    /// Downloads one regular file.
    async fn get_file(
        &self,
        remote: &Path,
        local: &Path,
        meta: &Metadata,
        options: &TransferOptions,
        stats: &mut TransferStats,
    ) -> io::Result<()> {
        let handle = self
            .open_handle(remote, OpenFlags::READ, FileAttributes::default())
            .await?;
        let guard = HandleGuard::new(self, handle);
        // The size from the caller's listing or STAT is a hint (reads go on to the end of
        // file): an FSTAT only when it is missing saves a round trip per file.
        let size = match meta.size() {
            Some(s) => Some(s),
            None => self.fstat(guard.handle(), remote).await?.size(),
        };
        let start = match (options.resume, fs::metadata(local)) {
            (true, Ok(m)) => m.len(),
            _ => 0,
        };
        if let Some(total) = size
            && options.resume
        {
            if start > total {
                return Err(other(format!(
                    "cannot resume {}: the local file is larger than the remote one",
                    local.display()
                )));
            }
            if start == total {
                stats.skipped += 1;
                report(options, remote, total, total);
                guard.close(remote).await?;
                if options.preserve {
                    preserve_local(local, meta)?;
                }
                return Ok(());
            }
        }
        let mut open = fs::OpenOptions::new();
        open.write(true).create(true).truncate(!options.resume);
        #[cfg(unix)]
        if let Some(mode) = meta.permissions() {
            // As OpenSSH: a new file gets the remote mode, writable by its owner.
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, (mode & 0o777) | 0o200);
        }
        let file = open.open(local)?;
        let chunk = self.read_chunk();
        let in_flight = self.in_flight_for(chunk, options.max_in_flight);
        let mut pipe = ReadPipeline::new(start, None, chunk, in_flight, ReadMode::Positioned);
        if let Some(s) = size {
            pipe.set_size_hint(s);
        }
        let total = size.unwrap_or(0);
        let mut flight = Flight {
            sftp: self,
            ids: Vec::new(),
        };
        let mut done = start;
        report(options, remote, done, total);
        loop {
            while let Some((offset, len)) = pipe.next_read() {
                let req = Request::Read {
                    id: 0,
                    handle: guard.handle().to_vec(),
                    offset,
                    len,
                };
                let id = self.conn.send(req).await?;
                pipe.on_sent(id, offset, len);
                flight.ids.push(id);
            }
            while let Some((offset, data)) = pipe.take_piece() {
                write_at(&file, &data, offset)?;
                done += data.len() as u64;
                stats.bytes += data.len() as u64;
                self.conn.recycle(data);
                report(options, remote, done, total.max(done));
            }
            if let Some(e) = pipe.error() {
                return Err(sftp_error(e.clone(), ctx("read", remote)));
            }
            if pipe.is_done() || flight.ids.is_empty() {
                break;
            }
            let (id, reply) = flight.next_reply().await?;
            pipe.on_reply(id, expect_data(reply));
        }
        drop(flight);
        guard.close(remote).await?;
        if let Some(end) = pipe.end()
            && options.resume
        {
            file.set_len(end)?;
        }
        drop(file);
        stats.files += 1;
        if options.preserve {
            preserve_local(local, meta)?;
        }
        Ok(())
    }

    /// Uploads `local` to `remote` (paramiko `put`, OpenSSH `put`). A file goes to `remote`
    /// (into it, under the local name, when `remote` is an existing directory); with
    /// [`recursive`](TransferOptions::recursive) a directory is copied as `remote`
    /// (symbolic links and special files are skipped and counted). Files are created with
    /// the local permission bits, as OpenSSH does.
    pub async fn put(
        &self,
        local: impl AsRef<Path>,
        remote: impl AsRef<Path>,
        options: &TransferOptions,
    ) -> io::Result<TransferStats> {
        let (local, remote) = (local.as_ref(), remote.as_ref());
        let meta = fs::metadata(local)?;
        let mut stats = TransferStats::default();
        if !meta.is_dir() {
            let remote = match local.file_name() {
                Some(name) if self.metadata(remote).await.is_ok_and(|m| m.is_dir()) => {
                    remote.join(name)
                }
                _ => remote.to_path_buf(),
            };
            self.put_file(local, &remote, &meta, options, &mut stats)
                .await?;
            return Ok(stats);
        }
        if !options.recursive {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is a directory (not recursive)", local.display()),
            ));
        }
        let mut dirs_done: Vec<(PathBuf, fs::Metadata)> = Vec::new();
        let mut stack = vec![(local.to_path_buf(), remote.to_path_buf(), meta)];
        while let Some((ldir, rdir, meta)) = stack.pop() {
            if !self.metadata(&rdir).await.is_ok_and(|m| m.is_dir()) {
                // As OpenSSH: the local mode, with the owner always allowed in.
                self.create_dir_mode(&rdir, Some(local_mode(&meta) | 0o700))
                    .await?;
            }
            stats.dirs += 1;
            let mut entries: Vec<fs::DirEntry> = fs::read_dir(&ldir)?.collect::<Result<_, _>>()?;
            entries.sort_by_key(fs::DirEntry::file_name);
            for e in entries {
                let ft = e.file_type()?;
                let (lpath, rpath) = (e.path(), rdir.join(e.file_name()));
                if ft.is_dir() {
                    stack.push((lpath, rpath, e.metadata()?));
                } else if ft.is_file() {
                    let m = e.metadata()?;
                    self.put_file(&lpath, &rpath, &m, options, &mut stats)
                        .await?;
                } else {
                    stats.skipped += 1;
                }
            }
            dirs_done.push((rdir, meta));
        }
        if options.preserve {
            for (dir, meta) in dirs_done.iter().rev() {
                self.set_metadata(dir, local_attrs(meta)).await?;
            }
        }
        Ok(stats)
    }

    /// Uploads one regular file.
    async fn put_file(
        &self,
        local: &Path,
        remote: &Path,
        meta: &fs::Metadata,
        options: &TransferOptions,
        stats: &mut TransferStats,
    ) -> io::Result<()> {
        let file = fs::File::open(local)?;
        let size = file.metadata()?.len();
        let start = if options.resume {
            match self.metadata(remote).await {
                Ok(m) => m.len(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
                Err(e) => return Err(e),
            }
        } else {
            0
        };
        if options.resume && start > size {
            return Err(other(format!(
                "cannot resume {}: the remote file is larger than the local one",
                remote.display()
            )));
        }
        if options.resume && start == size && size > 0 {
            stats.skipped += 1;
            report(options, local, size, size);
            if options.preserve {
                self.set_metadata(remote, local_attrs(meta)).await?;
            }
            return Ok(());
        }
        let mut flags = OpenFlags::WRITE | OpenFlags::CREAT;
        if !options.resume {
            flags = flags | OpenFlags::TRUNC;
        }
        let attrs = FileAttributes {
            permissions: Some(local_mode(meta)),
            ..FileAttributes::default()
        };
        let handle = self.open_handle(remote, flags, attrs).await?;
        let guard = HandleGuard::new(self, handle);
        let chunk = self.write_chunk();
        let in_flight = self.in_flight_for(chunk, options.max_in_flight);
        let mut pipe =
            WritePipeline::new(start, Some(size.saturating_sub(start)), chunk, in_flight);
        let mut flight = Flight {
            sftp: self,
            ids: Vec::new(),
        };
        report(options, local, start, size);
        loop {
            while let Some((offset, len)) = pipe.next_write() {
                // The file is read straight into the engine's output: no buffer of our own.
                let mut failed = None;
                let sent = poll_fn(|cx| {
                    let mut fill = |buf: &mut [u8]| match read_at(&file, buf, offset) {
                        Ok(n) => n,
                        Err(e) => {
                            failed = Some(e);
                            0
                        }
                    };
                    self.conn
                        .poll_send_write(cx, guard.handle(), offset, len, &mut fill)
                })
                .await?;
                if let Some(e) = failed {
                    return Err(e);
                }
                let Some((id, n)) = sent else {
                    // The file shrank while we read it: it ends here.
                    pipe.finish();
                    break;
                };
                pipe.on_sent(id, offset, n);
                flight.ids.push(id);
            }
            if let Some(e) = pipe.error() {
                let at = pipe.error_offset().unwrap_or(0);
                let what = format!("write {} at offset {at}", remote.display());
                return Err(sftp_error(e.clone(), what));
            }
            if pipe.is_done() || flight.ids.is_empty() {
                break;
            }
            let (id, reply) = flight.next_reply().await?;
            let before = pipe.acked();
            pipe.on_reply(id, expect_ok(reply));
            stats.bytes += pipe.acked().saturating_sub(before);
            report(options, local, start + pipe.acked(), size);
        }
        drop(flight);
        guard.close(remote).await?;
        stats.files += 1;
        if options.preserve {
            self.set_metadata(remote, local_attrs(meta)).await?;
        }
        Ok(())
    }
}

fn report(options: &TransferOptions, path: &Path, done: u64, total: u64) {
    if let Some(p) = &options.progress {
        p(path, done, total);
    }
}

/// The permission bits of a local file.
fn local_mode(meta: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        if meta.permissions().readonly() {
            0o444
        } else {
            0o644
        }
    }
}

/// What `-p` sets on the remote side: mode and times of the local file.
fn local_attrs(meta: &fs::Metadata) -> FileAttributes {
    let secs = |t: io::Result<std::time::SystemTime>| t.map_or(0, super::types::epoch_secs);
    FileAttributes {
        permissions: Some(local_mode(meta)),
        atime_mtime: Some((secs(meta.accessed()), secs(meta.modified()))),
        ..FileAttributes::default()
    }
}

/// What `-p` sets on the local side: mode and times of the remote file.
fn preserve_local(path: &Path, meta: &Metadata) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(mode) = meta.permissions() {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    if let Some((a, m)) = meta.times() {
        let t = |s: u32| UNIX_EPOCH + Duration::from_secs(u64::from(s));
        let times = fs::FileTimes::new().set_accessed(t(a)).set_modified(t(m));
        let f = fs::File::options().read(true).open(path).or_else(|_| {
            // A file we may not read (mode 0200): times can still be set through a write
            // handle.
            fs::File::options().write(true).open(path)
        })?;
        f.set_times(times)?;
    }
    Ok(())
}

#[cfg(unix)]
fn write_at(f: &fs::File, data: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, data, offset)
}

#[cfg(unix)]
fn read_at(f: &fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let dst = buf.get_mut(n..).unwrap_or_default();
        match std::os::unix::fs::FileExt::read_at(f, dst, offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(windows)]
fn write_at(f: &fs::File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
    while !data.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(f, data, offset)?;
        data = data.get(n..).unwrap_or_default();
        offset += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn read_at(f: &fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}
