//! Driving a remote command's stdin, stdout and stderr from one thread, one step at a time.
//!
//! [`Channel`](crate::Channel)'s `Read` and `Write` each block until their own stream can
//! move, holding the connection while they wait; an application that must feed stdin while
//! output arrives (a pipe through a remote command) needs smaller steps. [`ExecStream`]
//! gives them: [`try_write`](ExecStream::try_write) never waits for the window,
//! [`take_output`](ExecStream::take_output) never waits at all, and
//! [`pump`](ExecStream::pump) does exactly one socket read.

use crate::Error;
use crate::ExitStatus;
use crate::driver::ChannelBuffers;
use crate::session::Session;
use seashell_proto::ChannelId;
use std::io;

/// A remote command driven step by step from one thread. Get one with
/// [`Session::exec_stream`].
///
/// A typical loop: [`try_write`](Self::try_write) pending input, [`pump`](Self::pump) when
/// the socket has bytes (or when there is nothing else to do), then
/// [`take_output`](Self::take_output); stop when [`is_closed`](Self::is_closed).
/// [`pump`](Self::pump) blocks until the server sends something, so call it only when the
/// socket is readable or when waiting is what you want (for example, the window is full).
pub struct ExecStream<'a> {
    session: &'a Session,
    id: ChannelId,
    close_sent: bool,
}

impl std::fmt::Debug for ExecStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExecStream({:?})", self.id)
    }
}

impl Session {
    /// Opens a session channel and starts `command` on it, for step-by-step streaming
    /// through [`ExecStream`].
    pub fn exec_stream(&self, command: &str) -> Result<ExecStream<'_>, Error> {
        let id = self.open_exec(command)?;
        Ok(ExecStream {
            session: self,
            id,
            close_sent: false,
        })
    }

    /// The algorithms the last key exchange chose.
    pub fn negotiated(&self) -> Option<seashell_proto::kex::negotiate::Negotiated> {
        self.lock().conn.negotiated().cloned()
    }

    /// The server's identification line (`SSH-2.0-...`).
    pub fn server_ident(&self) -> Option<String> {
        self.lock().conn.server_ident().map(str::to_owned)
    }
}

impl ExecStream<'_> {
    /// Sends as much of `data` to the command's stdin as the window allows now, and returns
    /// how much that was. `0` means the window is full (or a key re-exchange is running):
    /// [`pump`](Self::pump) until the server opens it. Fails with `BrokenPipe` once the
    /// channel is closed.
    pub fn try_write(&mut self, data: &[u8]) -> Result<usize, Error> {
        if data.is_empty() {
            return Ok(0);
        }
        let mut d = self.session.lock();
        if d.channels.get(&self.id).is_some_and(|b| b.closed) {
            return Err(broken_pipe());
        }
        let n = match d.conn.channel(self.id) {
            Some(mut ch) => ch.write(data)?,
            None => return Err(broken_pipe()),
        };
        d.flush()?;
        Ok(n)
    }

    /// Sends EOF on the command's stdin.
    pub fn send_eof(&mut self) -> Result<(), Error> {
        let mut d = self.session.lock();
        if let Some(mut ch) = d.conn.channel(self.id) {
            ch.eof()?;
        }
        d.flush()
    }

    /// Sends everything queued, then reads the socket once: it blocks until bytes arrive
    /// (or the connection's next timer) and files what they carry. It returns at once,
    /// without reading, when this stream already has output waiting or is closed — checked
    /// under the same lock as the read, so another thread that filed this stream's data in
    /// the meantime cannot leave this call waiting for traffic that is not coming.
    pub fn pump(&mut self) -> Result<(), Error> {
        let mut d = self.session.lock();
        let ready = d
            .channels
            .get(&self.id)
            .is_some_and(|b| !b.stdout.is_empty() || !b.stderr.is_empty() || b.closed);
        if ready {
            return Ok(());
        }
        d.pump()
    }

    /// Moves the output received so far into `stdout` and `stderr` (appending) without
    /// waiting, and reopens the window by that much. Returns how many bytes were moved.
    pub fn take_output(
        &mut self,
        stdout: &mut Vec<u8>,
        stderr: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        let mut d = self.session.lock();
        let b = d.channels.entry(self.id).or_default();
        let mut n = 0;
        for (q, out) in [(&mut b.stdout, &mut *stdout), (&mut b.stderr, &mut *stderr)] {
            while let Some(chunk) = q.pop_front() {
                n += chunk.len();
                out.extend_from_slice(&chunk);
            }
        }
        if n > 0 {
            d.consume(self.id, n)?;
            d.flush()?;
        }
        Ok(n)
    }

    /// Whether the server sent EOF: no more output will come (some may still be queued
    /// for [`take_output`](Self::take_output)).
    pub fn is_eof(&self) -> bool {
        self.with_buffers(|b| b.eof)
    }

    /// Whether the channel is closed in both directions.
    pub fn is_closed(&self) -> bool {
        self.with_buffers(|b| b.closed)
    }

    /// How the command ended, once the server said (exit status or signal).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.with_buffers(|b| match (&b.exit_status, &b.exit_signal) {
            (Some(c), _) => Some(ExitStatus::Code(*c)),
            (None, Some(s)) => Some(ExitStatus::Signal(s.clone())),
            (None, None) => None,
        })
    }

    /// Closes our side of the channel (once); the server's close follows.
    pub fn close(&mut self) -> Result<(), Error> {
        if self.close_sent {
            return Ok(());
        }
        self.close_sent = true;
        let mut d = self.session.lock();
        if d.channels.get(&self.id).is_some_and(|b| b.closed) {
            return Ok(());
        }
        if let Some(mut ch) = d.conn.channel(self.id) {
            ch.close()?;
        }
        d.flush()
    }

    /// Finishes: discards output not taken yet, closes the channel once the server sent
    /// EOF and an exit status (or immediately if `close_now`), waits for the server's close,
    /// and returns how the command ended.
    pub fn finish(mut self, close_now: bool) -> Result<ExitStatus, Error> {
        if close_now {
            self.close()?;
        }
        let (mut out, mut err) = (Vec::new(), Vec::new());
        loop {
            out.clear();
            err.clear();
            self.take_output(&mut out, &mut err)?;
            if self.is_closed() {
                return Ok(self.exit_status().unwrap_or(ExitStatus::Unknown));
            }
            if self.is_eof() && self.exit_status().is_some() {
                self.close()?;
            }
            self.pump()?;
        }
    }

    fn with_buffers<T>(&self, f: impl FnOnce(&ChannelBuffers) -> T) -> T {
        let mut d = self.session.lock();
        f(d.channels.entry(self.id).or_default())
    }
}

fn broken_pipe() -> Error {
    Error::Io(io::Error::new(io::ErrorKind::BrokenPipe, "channel closed"))
}
