//! [`File`]: a remote file as poll functions — read-ahead on the plain read path, write-behind
//! on the plain write path, seeking — and the `futures-io` (and, with the `tokio` feature,
//! tokio) traits over them. The blocking adapter wraps the same poll functions.
//!
//! Memory: read-ahead holds at most `in_flight × chunk` bytes requested or received and not
//! yet read (`ReadPipeline`'s budget: 65 × 261,120 bytes ≈ 16 MiB against OpenSSH's
//! sftp-server); write-behind holds the WRITEs not yet acknowledged, at most
//! `in_flight × chunk` as well, in the engine's output and the channel.

use super::Sftp;
use super::error::sftp_error;
use super::ops::ctx;
use super::types::Metadata;
use seashell_sftp::client::{
    ReadMode, ReadPipeline, WritePipeline, expect_attrs, expect_data, expect_ok,
};
use seashell_sftp::extension_names as ext;
use seashell_sftp::{ExtendedRequest, FileAttributes, Request, Response};
use std::future::poll_fn;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// An open remote file. Reads are pipelined ahead of the position (the next reads are
/// already on their way when one returns), writes behind it (a write returns once its WRITE
/// is queued; the server's answer is checked later). A write error is returned by a later
/// write, [`flush`](Self::poll_flush), [`close`](Self::close) or
/// [`sync_all`](Self::sync_all) at the latest: close or flush before trusting the data.
/// Dropping the file closes its handle without waiting: WRITEs and the CLOSE already queued
/// reach the server only while the session is still in use (`close().await` first). The
/// blocking adapter's `File` closes and waits on drop.
///
/// Get one with `Sftp::open`, `Sftp::create` or `Sftp::open_with`.
#[derive(Debug)]
pub struct File {
    sftp: Sftp,
    path: PathBuf,
    handle: Option<Vec<u8>>,
    pos: u64,
    read: Option<Reads>,
    write: Option<Writes>,
    /// A deferred write error, returned by the next call.
    error: Option<io::Error>,
    /// The FSTAT of a `SeekFrom::End` in progress, or the CLOSE in progress.
    pending: Option<u32>,
    /// Where a tokio `start_seek` asked to go.
    #[cfg(feature = "tokio")]
    seek_to: Option<SeekFrom>,
    read_chunk: u32,
    write_chunk: u32,
    in_flight: usize,
}

#[derive(Debug)]
struct Reads {
    pipe: ReadPipeline,
    ids: Vec<u32>,
}

#[derive(Debug)]
struct Writes {
    pipe: WritePipeline,
    ids: Vec<u32>,
}

impl File {
    /// The session this belongs to.
    pub fn session(&self) -> &Sftp {
        &self.sftp
    }

    pub(crate) fn new(sftp: Sftp, path: PathBuf, handle: Vec<u8>, pos: u64) -> File {
        let read_chunk = sftp.read_chunk();
        let write_chunk = sftp.write_chunk();
        let in_flight = sftp.in_flight_for(read_chunk.max(write_chunk), None);
        File {
            sftp,
            path,
            handle: Some(handle),
            pos,
            read: None,
            write: None,
            error: None,
            pending: None,
            #[cfg(feature = "tokio")]
            seek_to: None,
            read_chunk,
            write_chunk,
            in_flight,
        }
    }

    /// The remote path it was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current position.
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn handle(&self) -> io::Result<Vec<u8>> {
        self.handle
            .clone()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "the file is closed"))
    }

    /// Stops the read-ahead (after a seek or a write): its requests are abandoned.
    fn stop_reads(&mut self) {
        if let Some(mut r) = self.read.take() {
            for id in r.pipe.cancel() {
                self.sftp.conn.abandon(id);
            }
        }
    }

    /// Reads into `buf` at the position: `Ready(0)` at end of file. Keeps up to the
    /// pipeline's window of READs in flight past the position.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(self.poll_flush(cx))?;
        let handle = self.handle()?;
        let (chunk, in_flight, pos) = (self.read_chunk, self.in_flight, self.pos);
        let reads = self.read.get_or_insert_with(|| Reads {
            pipe: ReadPipeline::new(pos, None, chunk, in_flight, ReadMode::InOrder),
            ids: Vec::new(),
        });
        loop {
            let n = reads.pipe.read_into(buf);
            if n > 0 {
                self.pos += n as u64;
                return Poll::Ready(Ok(n));
            }
            if let Some(e) = reads.pipe.error().cloned() {
                self.stop_reads();
                return Poll::Ready(Err(sftp_error(e, ctx("read", &self.path))));
            }
            if reads.pipe.is_done() {
                // End of file: a later read asks again (the file may grow).
                self.read = None;
                return Poll::Ready(Ok(0));
            }
            while let Some((offset, len)) = reads.pipe.next_read() {
                let mut req = Some(Request::Read {
                    id: 0,
                    handle: handle.clone(),
                    offset,
                    len,
                });
                match self.sftp.conn.poll_send(cx, &mut req) {
                    Poll::Ready(Ok(id)) => {
                        reads.pipe.on_sent(id, offset, len);
                        reads.ids.push(id);
                    }
                    Poll::Ready(Err(e)) => {
                        reads.pipe.put_back(offset, len);
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending => {
                        reads.pipe.put_back(offset, len);
                        break;
                    }
                }
            }
            if reads.ids.is_empty() {
                // Nothing in flight and nothing sendable: the request table is full.
                return Poll::Pending;
            }
            let (id, reply) = ready!(self.sftp.conn.poll_any(cx, &reads.ids))?;
            reads.ids.retain(|&i| i != id);
            reads.pipe.on_reply(id, expect_data(reply));
        }
    }

    /// Takes the replies of acknowledged WRITEs without waiting; the first error is kept.
    fn collect_writes(&mut self) {
        let Some(w) = self.write.as_mut() else { return };
        let mut i = 0;
        while let Some(&id) = w.ids.get(i) {
            match self.sftp.conn.try_reply(id) {
                Some(Ok(r)) => {
                    w.ids.remove(i);
                    w.pipe.on_reply(id, expect_ok(r));
                }
                Some(Err(e)) => {
                    // The session failed: every later call fails too.
                    self.error.get_or_insert(e);
                    return;
                }
                None => i += 1,
            }
        }
    }

    /// The deferred write error, if any, as an `io::Error` (once).
    fn take_write_error(&mut self) -> Option<io::Error> {
        if let Some(e) = self.error.take() {
            return Some(e);
        }
        let w = self.write.as_mut()?;
        let e = w.pipe.error()?.clone();
        let at = w.pipe.error_offset().unwrap_or(0);
        for id in w.pipe.cancel() {
            self.sftp.conn.abandon(id);
        }
        self.write = None;
        let what = format!("write {} at offset {at}", self.path.display());
        Some(sftp_error(e, what))
    }

    /// Writes up to one chunk of `buf` at the position and returns once the WRITE is queued
    /// (write-behind); waits only while the pipeline's window is full.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.stop_reads();
        let handle = self.handle()?;
        loop {
            self.collect_writes();
            if let Some(e) = self.take_write_error() {
                return Poll::Ready(Err(e));
            }
            let (chunk, in_flight, pos) = (self.write_chunk, self.in_flight, self.pos);
            let w = self.write.get_or_insert_with(|| Writes {
                pipe: WritePipeline::new(pos, None, chunk, in_flight),
                ids: Vec::new(),
            });
            if w.pipe.can_send() {
                let data = buf.get(..buf.len().min(chunk as usize)).unwrap_or(buf);
                // Framed straight from `buf` into the engine's output.
                let mut fill = |dst: &mut [u8]| {
                    let n = dst.len().min(data.len());
                    if let (Some(d), Some(s)) = (dst.get_mut(..n), data.get(..n)) {
                        d.copy_from_slice(s);
                    }
                    n
                };
                let len = data.len() as u32;
                let sent = ready!(
                    self.sftp
                        .conn
                        .poll_send_write(cx, &handle, pos, len, &mut fill)
                )?;
                let Some((id, n)) = sent else {
                    return Poll::Ready(Ok(0));
                };
                w.pipe.on_sent(id, pos, n);
                w.ids.push(id);
                self.pos += u64::from(n);
                return Poll::Ready(Ok(n as usize));
            }
            let (id, reply) = ready!(self.sftp.conn.poll_any(cx, &w.ids))?;
            w.ids.retain(|&i| i != id);
            w.pipe.on_reply(id, expect_ok(reply));
        }
    }

    /// Waits until every WRITE sent is acknowledged; returns the first write error.
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(e) = self.take_write_error() {
                return Poll::Ready(Err(e));
            }
            let Some(w) = self.write.as_mut() else {
                return Poll::Ready(Ok(()));
            };
            if w.ids.is_empty() {
                self.write = None;
                return Poll::Ready(Ok(()));
            }
            let (id, reply) = ready!(self.sftp.conn.poll_any(cx, &w.ids))?;
            w.ids.retain(|&i| i != id);
            w.pipe.on_reply(id, expect_ok(reply));
        }
    }

    /// Flushes, then closes the handle and waits for the server's answer (an error of the
    /// last writes shows here). Later calls fail with `NotConnected`.
    pub fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.handle.is_none() && self.pending.is_none() {
            return Poll::Ready(Ok(()));
        }
        if self.pending.is_none() {
            ready!(self.poll_flush(cx))?;
            self.stop_reads();
        }
        let reply = ready!(self.poll_request(cx, |h| Request::Close { id: 0, handle: h }))?;
        self.handle = None;
        Poll::Ready(expect_ok(reply).map_err(|e| sftp_error(e, ctx("close", &self.path))))
    }

    /// Sends one request on the handle (once) and waits for its reply, keeping its id in
    /// `pending` across polls.
    fn poll_request(
        &mut self,
        cx: &mut Context<'_>,
        make: impl FnOnce(Vec<u8>) -> Request,
    ) -> Poll<io::Result<Response>> {
        let id = match self.pending {
            Some(id) => id,
            None => {
                let mut req = Some(make(self.handle()?));
                let id = ready!(self.sftp.conn.poll_send(cx, &mut req))?;
                self.pending = Some(id);
                id
            }
        };
        let r = ready!(self.sftp.conn.poll_reply(cx, id));
        self.pending = None;
        Poll::Ready(r)
    }

    /// Moves the position (`SeekFrom::End` asks the server for the size, after flushing).
    /// The read-ahead is dropped when the position changes.
    pub fn poll_seek(&mut self, cx: &mut Context<'_>, to: SeekFrom) -> Poll<io::Result<u64>> {
        let base = match to {
            SeekFrom::Start(n) => Some((n, 0)),
            SeekFrom::Current(d) => Some((self.pos, d)),
            SeekFrom::End(_) => None,
        };
        let (base, delta) = match (base, to) {
            (Some(b), _) => b,
            (None, SeekFrom::End(d)) => {
                if self.pending.is_none() {
                    ready!(self.poll_flush(cx))?;
                }
                let r = ready!(self.poll_request(cx, |h| Request::Fstat { id: 0, handle: h }))?;
                let attrs = expect_attrs(r).map_err(|e| sftp_error(e, ctx("fstat", &self.path)))?;
                (attrs.size.unwrap_or(0), d)
            }
            (None, _) => (self.pos, 0),
        };
        let Some(new) = base.checked_add_signed(delta) else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            )));
        };
        if new != self.pos {
            self.stop_reads();
            if self.write.as_ref().is_some_and(|w| !w.ids.is_empty()) {
                // A new sequential run: the old WRITEs are still checked by flush.
                ready!(self.poll_flush(cx))?;
            }
            self.write = None;
            self.pos = new;
        }
        Poll::Ready(Ok(self.pos))
    }

    /// Flushes and closes, waiting for the server (see [`poll_close`](Self::poll_close)).
    pub async fn close(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_close(cx)).await
    }

    /// Flushes the write-behind: every write so far acknowledged, or the first error.
    pub async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Flushes, then asks the server to commit the file to stable storage
    /// (`fsync@openssh.com`).
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.flush().await?;
        self.sftp.conn.require(ext::FSYNC)?;
        let handle = self.handle()?;
        let req = Request::Extended {
            id: 0,
            request: ExtendedRequest::Fsync { handle },
        };
        self.sftp.call_ok(req, ctx("fsync", &self.path)).await
    }

    /// The file's attributes (SFTP `FSTAT`), after flushing.
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        self.flush().await?;
        let handle = self.handle()?;
        self.sftp.fstat(&handle, &self.path).await
    }

    /// Sets attributes of the open file (SFTP `FSETSTAT`), after flushing.
    pub async fn set_metadata(&mut self, attrs: FileAttributes) -> io::Result<()> {
        self.flush().await?;
        let handle = self.handle()?;
        let req = Request::FSetStat {
            id: 0,
            handle,
            attrs,
        };
        self.sftp.call_ok(req, ctx("fsetstat", &self.path)).await
    }

    /// Truncates or extends the file to `size` bytes.
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.stop_reads();
        let attrs = FileAttributes {
            size: Some(size),
            ..FileAttributes::default()
        };
        self.set_metadata(attrs).await
    }

    /// Sets the permission bits.
    pub async fn set_permissions(&mut self, mode: u32) -> io::Result<()> {
        let attrs = FileAttributes {
            permissions: Some(mode & 0o7777),
            ..FileAttributes::default()
        };
        self.set_metadata(attrs).await
    }

    /// Reads from the position to the end of the file into `out`; returns the bytes read.
    pub async fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let mut buf = vec![0; self.read_chunk as usize];
        let mut total = 0;
        loop {
            let n = poll_fn(|cx| self.poll_read(cx, &mut buf)).await?;
            if n == 0 {
                return Ok(total);
            }
            out.extend_from_slice(buf.get(..n).unwrap_or_default());
            total += n;
        }
    }

    /// Writes all of `data` at the position (write-behind: flush or close to see errors).
    pub async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = poll_fn(|cx| self.poll_write(cx, data)).await?;
            data = data.get(n..).unwrap_or_default();
        }
        Ok(())
    }
}

impl Drop for File {
    fn drop(&mut self) {
        self.stop_reads();
        if let Some(mut w) = self.write.take() {
            for id in w.pipe.cancel() {
                self.sftp.conn.abandon(id);
            }
        }
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

impl futures_io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_close(cx)
    }
}

impl futures_io::AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.get_mut().poll_seek(cx, pos)
    }
}

#[cfg(feature = "tokio")]
mod tokio_io {
    use super::File;
    use std::io::{self, SeekFrom};
    use std::pin::Pin;
    use std::task::{Context, Poll, ready};
    use tokio::io::ReadBuf;

    impl tokio::io::AsyncRead for File {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = ready!(self.get_mut().poll_read(cx, buf.initialize_unfilled()))?;
            buf.advance(n);
            Poll::Ready(Ok(()))
        }
    }

    impl tokio::io::AsyncWrite for File {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().poll_write(cx, buf)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().poll_flush(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().poll_close(cx)
        }
    }

    impl tokio::io::AsyncSeek for File {
        fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
            self.get_mut().seek_to = Some(position);
            Ok(())
        }

        fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
            let f = self.get_mut();
            let Some(to) = f.seek_to else {
                return Poll::Ready(Ok(f.pos));
            };
            let r = ready!(f.poll_seek(cx, to));
            f.seek_to = None;
            Poll::Ready(r)
        }
    }
}

impl Sftp {
    /// Opens a remote file as `options` say (paramiko `open(path, mode)`: `"r"` is
    /// `read(true)`, `"w"` is `write(true).create(true).truncate(true)`, `"a"` is
    /// `append(true).create(true)`, `"r+"` is `read(true).write(true)`).
    pub async fn open_with(
        &self,
        path: impl AsRef<Path>,
        options: &super::OpenOptions,
    ) -> io::Result<File> {
        let path = path.as_ref();
        let handle = self
            .open_handle(path, options.flags(), options.attrs())
            .await?;
        let mut file = File::new(self.clone(), path.to_path_buf(), handle, 0);
        if options.is_append() {
            // Writes go to the end: start the position there so it reports truthfully.
            let size = file.metadata().await?.len();
            file.pos = size;
        }
        Ok(file)
    }

    /// Opens a remote file for reading.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        self.open_with(path, super::OpenOptions::new().read(true))
            .await
    }

    /// Creates (or truncates) a remote file for writing.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<File> {
        self.open_with(
            path,
            super::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true),
        )
        .await
    }

    /// A whole remote file (pipelined reads).
    pub async fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        let mut f = self.open(path).await?;
        let mut out = Vec::new();
        f.read_to_end(&mut out).await?;
        f.close().await?;
        Ok(out)
    }

    /// Creates or replaces a remote file with `data` (pipelined writes), and closes it.
    pub async fn write(&self, path: impl AsRef<Path>, data: impl AsRef<[u8]>) -> io::Result<()> {
        let mut f = self.create(path).await?;
        f.write_all(data.as_ref()).await?;
        f.close().await
    }
}
