//! Driving a remote command's stdin, stdout and stderr from one thread, one step at a time.
//!
//! [`Channel`]'s `Read` and `Write` each block until their own stream can move; the simplest
//! way to feed stdin while output arrives is a thread per direction (clones of the channel).
//! [`ExecStream`] is for one thread that must do both: [`try_write`](ExecStream::try_write)
//! never waits for the window, [`take_output`](ExecStream::take_output) never waits at all,
//! and [`pump`](ExecStream::pump) waits until the connection has read something new.

use crate::channel::Channel;
use crate::session::Session;
use seashell_adapter::{ChannelState, Error, ExitStatus, block_on};
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A remote command driven step by step from one thread. Get one with
/// [`Session::exec_stream`].
///
/// A typical loop: [`try_write`](Self::try_write) pending input, [`pump`](Self::pump) when
/// there is nothing else to do, then [`take_output`](Self::take_output); stop when
/// [`is_closed`](Self::is_closed). The connection's I/O thread reads the socket;
/// [`pump`](Self::pump) returns once it has (or at once when output is already waiting).
pub struct ExecStream<'a> {
    channel: Channel,
    /// The connection's read count when [`pump`](Self::pump) last returned (shared with the
    /// stream's watchers).
    reads: Arc<AtomicU64>,
    /// The channel's state when [`take_output`](Self::take_output) last ran.
    seen: ChannelState,
    _session: PhantomData<&'a Session>,
}

impl std::fmt::Debug for ExecStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExecStream({:?})", self.channel.id())
    }
}

impl Session {
    /// Opens a session channel and starts `command` on it, for step-by-step streaming
    /// through [`ExecStream`].
    pub fn exec_stream(&self, command: &str) -> Result<ExecStream<'_>, Error> {
        Ok(ExecStream {
            channel: self.channel_exec(command)?,
            reads: Arc::default(),
            seen: ChannelState::default(),
            _session: PhantomData,
        })
    }
}

impl ExecStream<'_> {
    /// Sends as much of `data` to the command's stdin as the window allows now, and returns
    /// how much that was. `0` means the window is full (or a key re-exchange is running):
    /// [`pump`](Self::pump) until the server opens it. It waits only while the connection
    /// has more than a high-water mark of bytes not yet written to the socket. Fails with
    /// `BrokenPipe` once the channel is closed.
    pub fn try_write(&mut self, data: &[u8]) -> Result<usize, Error> {
        block_on(|cx| self.channel.poll_try_write(cx, false, data)).map_err(Error::from_io)
    }

    /// Sends EOF on the command's stdin.
    pub fn send_eof(&mut self) -> Result<(), Error> {
        self.channel.send_eof()
    }

    /// Returns at once when this stream has output waiting or is closed, or when the
    /// connection read bytes from the server since the last call; otherwise waits until it
    /// does. So a caller that saw the socket readable (a clone of it polled elsewhere) and
    /// calls this never waits for traffic that is not coming.
    pub fn pump(&mut self) -> Result<(), Error> {
        let since = self.reads.load(Ordering::Acquire);
        let now = block_on(|cx| self.channel.poll_news(cx, since, true))?;
        self.reads.store(now, Ordering::Release);
        Ok(())
    }

    /// A watcher for another thread: its [`wait`](ExecWatcher::wait) returns once the
    /// connection has read something this stream's [`pump`](Self::pump) has not yet
    /// accounted for, so a driving thread can sleep on one event queue fed by the watcher
    /// and by its own input, and call [`pump`](Self::pump) (which then returns at once) when
    /// the watcher reports.
    pub fn watcher(&self) -> ExecWatcher {
        ExecWatcher {
            channel: self.channel.clone(),
            reads: self.reads.clone(),
        }
    }

    /// Moves the output received so far into `stdout` and `stderr` (appending) without
    /// waiting, and reopens the window by that much. Returns how many bytes were moved.
    /// [`is_eof`](Self::is_eof), [`is_closed`](Self::is_closed) and
    /// [`exit_status`](Self::exit_status) report the channel as this call saw it, so once
    /// they say the command is done, all its output has been taken.
    pub fn take_output(
        &mut self,
        stdout: &mut Vec<u8>,
        stderr: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        let (n, seen) = self.channel.take_output(stdout, stderr);
        self.seen = seen;
        Ok(n)
    }

    /// Whether the server had sent EOF when [`take_output`](Self::take_output) last ran: no
    /// more output will come.
    pub fn is_eof(&self) -> bool {
        self.seen.eof
    }

    /// Whether the channel was closed in both directions when
    /// [`take_output`](Self::take_output) last ran.
    pub fn is_closed(&self) -> bool {
        self.seen.closed
    }

    /// How the command ended (exit status or signal), as known when
    /// [`take_output`](Self::take_output) last ran.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.seen.exit.clone()
    }

    /// Closes our side of the channel (once); the server's close follows.
    pub fn close(&mut self) -> Result<(), Error> {
        self.channel.close()
    }

    /// Finishes: discards output not taken yet, closes the channel once the server sent
    /// EOF and an exit status (or immediately if `close_now`), waits for the server's close,
    /// and returns how the command ended.
    pub fn finish(mut self, close_now: bool) -> Result<ExitStatus, Error> {
        if close_now {
            self.close()?;
        }
        self.channel.wait()
    }
}

/// Waits on another thread for news of an [`ExecStream`]: get one with
/// [`ExecStream::watcher`].
#[derive(Debug)]
pub struct ExecWatcher {
    channel: Channel,
    reads: Arc<AtomicU64>,
}

impl ExecWatcher {
    /// Returns once the connection has read bytes the stream's [`pump`](ExecStream::pump)
    /// has not accounted for yet, or the channel is closed. Fails once the connection is
    /// lost.
    pub fn wait(&mut self) -> Result<(), Error> {
        let (channel, reads) = (&self.channel, &self.reads);
        block_on(|cx| channel.poll_news(cx, reads.load(Ordering::Acquire), false)).map(|_| ())
    }
}
