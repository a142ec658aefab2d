//! What carries the SFTP bytes: an SSH channel (the `sftp` subsystem), or a pipe to a local
//! server process (OpenSSH's `sftp -D`: `sftp-server` on its stdin and stdout, no SSH at
//! all). The pipe is served by two threads that move bytes between the blocking streams and
//! bounded buffers the poll functions read and write.

use crate::channel::OwnedChannel;
use crate::wait::WakerSet;
use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};

/// Most bytes buffered in each direction of a pipe.
const PIPE_BUFFER: usize = 4 * 1024 * 1024;
/// Bytes read from the server process at a time.
const PIPE_READ: usize = 256 * 1024;

/// The transport under a session.
#[derive(Debug)]
pub(crate) enum Link {
    /// An SSH channel on which the `sftp` subsystem runs.
    Channel(OwnedChannel),
    /// A pipe to a server process.
    Pipe(Arc<Pipe>),
}

impl Link {
    /// Reads up to `cap` bytes into `put`; `Ready(0)` at end of stream.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        cap: usize,
        put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        match self {
            Link::Channel(c) => c.poll_read(cx, false, cap, put),
            Link::Pipe(p) => p.poll_read(cx, cap, put),
        }
    }

    /// Writes a prefix of `buf`; pending while the other side is behind.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Link::Channel(c) => c.poll_write(cx, false, buf),
            Link::Pipe(p) => p.poll_write(cx, buf),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Link::Pipe(p) = self {
            // The writer thread closes the server's stdin: the server exits.
            let mut st = p.lock();
            st.closed = true;
            p.cond.notify_all();
        }
    }
}

/// The shared state of a pipe: bytes from the server not read yet, bytes for the server not
/// written yet, who waits.
#[derive(Debug, Default)]
pub(crate) struct Pipe {
    state: Mutex<PipeState>,
    /// Wakes the writer thread (bytes to write, or closing) and the reader thread (room).
    cond: Condvar,
}

#[derive(Debug, Default)]
struct PipeState {
    inbox: Vec<u8>,
    inbox_at: usize,
    /// The server's output ended (or failed: `error`).
    eof: bool,
    error: Option<io::ErrorKind>,
    outbox: Vec<u8>,
    closed: bool,
    readers: WakerSet,
    writers: WakerSet,
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the threads for a server whose stdout is `from` and stdin is `to`.
    pub(crate) fn start(
        from: impl Read + Send + 'static,
        to: impl Write + Send + 'static,
    ) -> io::Result<Arc<Pipe>> {
        let pipe = Arc::new(Pipe::default());
        let p = pipe.clone();
        std::thread::Builder::new()
            .name("sftp-pipe-read".into())
            .spawn(move || p.read_loop(from))?;
        let p = pipe.clone();
        std::thread::Builder::new()
            .name("sftp-pipe-write".into())
            .spawn(move || p.write_loop(to))?;
        Ok(pipe)
    }

    fn read_loop(&self, mut from: impl Read) {
        let mut buf = vec![0u8; PIPE_READ];
        loop {
            let r = from.read(&mut buf);
            let mut st = self.lock();
            match r {
                Ok(0) => st.eof = true,
                Ok(n) => {
                    if st.inbox_at == st.inbox.len() {
                        st.inbox.clear();
                        st.inbox_at = 0;
                    }
                    st.inbox.extend_from_slice(buf.get(..n).unwrap_or_default());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    st.eof = true;
                    st.error = Some(e.kind());
                }
            }
            st.readers.wake();
            if st.eof {
                return;
            }
            // Bounded: wait while the client has not taken what is there.
            while st.inbox.len() - st.inbox_at >= PIPE_BUFFER && !st.closed {
                st = self.cond.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            if st.closed {
                return;
            }
        }
    }

    fn write_loop(&self, mut to: impl Write) {
        loop {
            let data = {
                let mut st = self.lock();
                while st.outbox.is_empty() && !st.closed {
                    st = self.cond.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                if st.outbox.is_empty() {
                    return; // closed: dropping `to` closes the server's stdin
                }
                let data = std::mem::take(&mut st.outbox);
                st.writers.wake();
                data
            };
            if to.write_all(&data).and_then(|()| to.flush()).is_err() {
                let mut st = self.lock();
                st.eof = true;
                st.error = Some(io::ErrorKind::BrokenPipe);
                st.readers.wake();
                st.writers.wake();
                return;
            }
        }
    }

    fn poll_read(
        &self,
        cx: &mut Context<'_>,
        cap: usize,
        mut put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let mut st = self.lock();
        let avail = st.inbox.len() - st.inbox_at;
        if avail > 0 {
            let n = avail.min(cap);
            let at = st.inbox_at;
            put(st.inbox.get(at..at + n).unwrap_or_default());
            st.inbox_at += n;
            self.cond.notify_all();
            return Poll::Ready(Ok(n));
        }
        if let Some(kind) = st.error {
            return Poll::Ready(Err(io::Error::new(kind, "the sftp server's pipe failed")));
        }
        if st.eof {
            return Poll::Ready(Ok(0));
        }
        st.readers.register(cx.waker());
        Poll::Pending
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut st = self.lock();
        if st.error.is_some() || st.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = PIPE_BUFFER.saturating_sub(st.outbox.len());
        if room == 0 {
            st.writers.register(cx.waker());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        st.outbox
            .extend_from_slice(buf.get(..n).unwrap_or_default());
        self.cond.notify_all();
        Poll::Ready(Ok(n))
    }
}
