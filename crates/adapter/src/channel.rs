//! [`ChannelHandle`]: the poll functions every channel stream is built on, in every adapter.
//! Each call is one step under the lock, so a future dropped between polls (or a thread woken
//! spuriously) loses nothing: data is taken from the inbox only when it is returned, and
//! given to the core only when the write reports it.

use crate::error::{Error, broken_pipe};
use crate::exit::ExitStatus;
use crate::inbox::Inbox;
use crate::shared::{SEND_HIGH_WATER, SessionRef, Shared};
use bytes::Bytes;
use seashell_proto::ChannelId;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// Most bytes one write hands to the core (sealed under the connection's lock).
const WRITE_SLICE: usize = 128 * 1024;

/// What a channel's inbox said at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelState {
    /// The peer sent EOF.
    pub eof: bool,
    /// The channel is closed (or gone, or the connection ended).
    pub closed: bool,
    /// How the remote command ended, if the server said.
    pub exit: Option<ExitStatus>,
}

impl ChannelState {
    fn gone() -> ChannelState {
        ChannelState {
            eof: true,
            closed: true,
            exit: None,
        }
    }
}

/// One channel of one connection. Cheap to clone; every clone names the same channel.
#[derive(Debug, Clone)]
pub struct ChannelHandle {
    shared: Arc<Shared>,
    id: ChannelId,
}

impl ChannelHandle {
    pub(crate) fn new(shared: Arc<Shared>, id: ChannelId) -> ChannelHandle {
        ChannelHandle { shared, id }
    }

    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The connection it belongs to.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Reads channel data (`ext == false`) or extended data into `put`, at most `cap` bytes:
    /// `Ready(0)` at EOF. What is read goes back to the peer's window. The bytes are copied
    /// after the connection's lock is released.
    pub fn poll_read(
        &self,
        cx: &mut Context<'_>,
        ext: bool,
        cap: usize,
        mut put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let mut chunks = Vec::new();
        let n = ready!(self.poll_take(cx, ext, cap, &mut chunks))?;
        for c in &chunks {
            put(c);
        }
        Poll::Ready(Ok(n))
    }

    /// Takes up to `cap` bytes of one stream as chunks, appended to `out`.
    fn poll_take(
        &self,
        cx: &mut Context<'_>,
        ext: bool,
        cap: usize,
        out: &mut Vec<Bytes>,
    ) -> Poll<io::Result<usize>> {
        if cap == 0 {
            return Poll::Ready(Ok(0));
        }
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        let ended = st.check();
        let Some(ch) = st.channels.get_mut(&self.id) else {
            return Poll::Ready(Ok(0));
        };
        let n = ch.take_chunks(ext, cap, out);
        if n > 0 {
            st.consume(self.id, n);
            return Poll::Ready(Ok(n));
        }
        if ch.eof || ch.closed {
            return Poll::Ready(Ok(0));
        }
        if let Err(e) = ended {
            return Poll::Ready(Err(e.into()));
        }
        if ext {
            ch.ext_readers.register(cx.waker());
        } else {
            ch.data_readers.register(cx.waker());
        }
        Poll::Pending
    }

    /// Writes channel data (or extended data of type 1) as far as the peer's window allows;
    /// pending while the window is shut or the socket is behind ([`SEND_HIGH_WATER`]).
    pub fn poll_write(
        &self,
        cx: &mut Context<'_>,
        ext: bool,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_step(cx, ext, buf, true)
    }

    /// Like [`poll_write`](Self::poll_write), but ready with `0` at once when the window is
    /// shut ([`Event::Writable`](seashell_proto::Event::Writable) reopens it); pending only
    /// while the socket is behind.
    pub fn poll_try_write(
        &self,
        cx: &mut Context<'_>,
        ext: bool,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_step(cx, ext, buf, false)
    }

    fn write_step(
        &self,
        cx: &mut Context<'_>,
        ext: bool,
        buf: &[u8],
        wait_window: bool,
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        if let Some(l) = &st.lost {
            return Poll::Ready(Err(l.io_error()));
        }
        if st.done || st.channels.get(&self.id).is_none_or(|c| c.closed) {
            return Poll::Ready(Err(broken_pipe()));
        }
        if st.unsent() >= SEND_HIGH_WATER {
            st.send_waiters.register(cx.waker());
            st.wake_driver();
            return Poll::Pending;
        }
        // Sealing happens under the lock: a bounded slice at a time lets the driver send the
        // previous one meanwhile.
        let buf = buf.get(..buf.len().min(WRITE_SLICE)).unwrap_or(buf);
        let r = match st.conn.channel(self.id) {
            Some(mut c) if ext => c.write_extended(1, buf),
            Some(mut c) => c.write(buf),
            None => return Poll::Ready(Err(broken_pipe())),
        };
        match r {
            Ok(0) if wait_window => {
                if let Some(c) = st.channels.get_mut(&self.id) {
                    c.writers.register(cx.waker());
                }
                Poll::Pending
            }
            Ok(n) => {
                st.queued += n;
                st.wake_driver();
                Poll::Ready(Ok(n))
            }
            Err(e) => Poll::Ready(Err(Error::Ssh(e).into())),
        }
    }

    /// Runs one command on the core's channel, then lets the pump send what it queued. A
    /// channel the core no longer has is closed: the command is moot.
    pub fn command(
        &self,
        f: impl FnOnce(&mut seashell_proto::Channel<'_>) -> Result<(), seashell_proto::Error>,
    ) -> Result<(), Error> {
        let mut st = self.shared.lock();
        st.check()?;
        let r = match st.conn.channel(self.id) {
            Some(mut c) => f(&mut c),
            None => Ok(()),
        };
        st.wake_driver();
        r.map_err(Error::Ssh)
    }

    /// Sends EOF: no more data from us (a command's stdin ends). Nothing to do once the
    /// channel is closing.
    pub fn send_eof(&self) -> Result<(), Error> {
        if self.inspect(|c| c.closed || c.close_sent).unwrap_or(true) {
            return Ok(());
        }
        self.command(|c| c.eof())
    }

    /// Closes the channel (once); the peer's close follows.
    pub fn close(&self) -> Result<(), Error> {
        let mut st = self.shared.lock();
        let Some(inbox) = st.channels.get_mut(&self.id) else {
            return Ok(());
        };
        if inbox.closed || std::mem::replace(&mut inbox.close_sent, true) {
            return Ok(());
        }
        drop(st);
        self.command(|c| c.close())
    }

    /// Sends a signal (name without "SIG", for example "TERM") to the remote process.
    pub fn signal(&self, name: &str) -> Result<(), Error> {
        self.command(|c| c.signal(name))
    }

    /// Tells the server the terminal is now `cols` × `rows` characters.
    pub fn window_change(&self, cols: u32, rows: u32) -> Result<(), Error> {
        self.command(|c| c.window_change(cols, rows))
    }

    /// Looks at the channel's inbox (`None` once the channel is forgotten).
    pub fn inspect<T>(&self, f: impl FnOnce(&Inbox) -> T) -> Option<T> {
        self.shared.lock().channels.get(&self.id).map(f)
    }

    /// Bytes received and not read yet (data and extended data). It never exceeds the
    /// channel's window: a reader that stops reading stops the peer.
    pub fn buffered(&self) -> usize {
        self.inspect(Inbox::buffered).unwrap_or(0)
    }

    /// Whether the peer sent EOF (data may still be waiting to be read).
    pub fn is_eof(&self) -> bool {
        self.inspect(Inbox::is_eof).unwrap_or(true)
    }

    /// Whether the channel is closed (or gone, or the connection ended).
    pub fn is_closed(&self) -> bool {
        let st = self.shared.lock();
        st.done || st.channels.get(&self.id).is_none_or(|c| c.closed)
    }

    /// How the remote command ended, once the server said.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.inspect(|c| c.exit.clone()).flatten()
    }

    /// Whether the server granted the pty requested when the session started (`None`: none
    /// was requested).
    pub fn pty_granted(&self) -> Option<bool> {
        self.inspect(|c| c.pty).flatten()
    }

    /// Moves everything received so far into `out` (data) and `err` (extended data) without
    /// waiting, and reopens the window by that much. Returns how many bytes moved and the
    /// channel's state at that same moment: when it says EOF, everything before the EOF has
    /// been taken.
    pub fn take_output(&self, out: &mut Vec<u8>, err: &mut Vec<u8>) -> (usize, ChannelState) {
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        let Some(c) = st.channels.get_mut(&self.id) else {
            return (0, ChannelState::gone());
        };
        let n = c.take(false, usize::MAX, |s| out.extend_from_slice(s))
            + c.take(true, usize::MAX, |s| err.extend_from_slice(s));
        let state = ChannelState {
            eof: c.eof,
            closed: c.closed || st.done,
            exit: c.exit.clone(),
        };
        st.consume(self.id, n);
        (n, state)
    }

    /// Reads data and extended data to their ends at the same time (so neither can fill the
    /// window and stall the other), appending to `out` and `err`. Progress is kept in the
    /// vectors across polls.
    pub fn poll_read_both(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<u8>,
        err: &mut Vec<u8>,
    ) -> Poll<Result<(), Error>> {
        self.poll_until(cx, |c| {
            let n = c.take(false, usize::MAX, |s| out.extend_from_slice(s))
                + c.take(true, usize::MAX, |s| err.extend_from_slice(s));
            (c.eof || c.closed).then_some(()).ok_or(n)
        })
    }

    /// Waits for the channel to close and returns how the command ended (exit ordering):
    /// output not read yet is discarded so the command cannot block on a full window, and
    /// once the server has sent EOF and an exit status the channel is closed from our side.
    pub fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<Result<ExitStatus, Error>> {
        let mut close = false;
        let r = self.poll_until(cx, |c| {
            let n = c.take(false, usize::MAX, |_| {}) + c.take(true, usize::MAX, |_| {});
            if c.closed {
                return Ok(c.exit.clone().unwrap_or(ExitStatus::Unknown));
            }
            if c.eof && c.exit.is_some() && !c.close_sent {
                c.close_sent = true;
                close = true;
            }
            Err(n)
        });
        if close {
            let _ = self.command(|c| c.close());
        }
        r
    }

    /// Ready with the connection's read count once it differs from `since` (the pump fed the
    /// core new bytes: "something may have changed"), the channel is closed, or (with
    /// `or_output`) output is waiting to be taken.
    pub fn poll_news(
        &self,
        cx: &mut Context<'_>,
        since: u64,
        or_output: bool,
    ) -> Poll<Result<u64, Error>> {
        let mut st = self.shared.lock();
        let ready = st.reads != since
            || st
                .channels
                .get(&self.id)
                .is_none_or(|c| c.closed || (or_output && c.has_output()));
        if ready {
            return Poll::Ready(Ok(st.reads));
        }
        st.check()?;
        st.read_waiters.register(cx.waker());
        Poll::Pending
    }

    /// Polls `f` on the channel's inbox until it returns `Ok`. `Err(n)` means "not yet, and
    /// `n` bytes were taken" (they go back to the window). Wakes on anything that happens to
    /// the channel; fails once the connection is lost.
    pub(crate) fn poll_until<T>(
        &self,
        cx: &mut Context<'_>,
        mut f: impl FnMut(&mut Inbox) -> Result<T, usize>,
    ) -> Poll<Result<T, Error>> {
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        let Some(ch) = st.channels.get_mut(&self.id) else {
            return Poll::Ready(Err(Error::Refused("the channel is closed".into())));
        };
        let taken = match f(ch) {
            Ok(v) => {
                return Poll::Ready(Ok(v));
            }
            Err(n) => n,
        };
        ch.watchers.register(cx.waker());
        ch.data_readers.register(cx.waker());
        ch.ext_readers.register(cx.waker());
        st.consume(self.id, taken);
        match st.check() {
            Err(e) => Poll::Ready(Err(e)),
            Ok(()) => Poll::Pending,
        }
    }
}

/// Owns a client channel for all its handles: closes it when the last one goes, and forgets
/// its inbox, so a long-lived session does not accumulate state for channels nobody holds. A
/// channel still opening is closed by the pump as soon as it opens. It also counts as a
/// handle on the session ([`SessionRef`]).
#[derive(Debug)]
pub struct OwnedChannel {
    handle: ChannelHandle,
    _session: SessionRef,
}

impl OwnedChannel {
    /// Takes ownership of `handle`'s channel.
    pub fn new(handle: ChannelHandle) -> OwnedChannel {
        OwnedChannel {
            _session: SessionRef::new(handle.shared.clone()),
            handle,
        }
    }

    /// The channel.
    pub fn handle(&self) -> &ChannelHandle {
        &self.handle
    }
}

impl std::ops::Deref for OwnedChannel {
    type Target = ChannelHandle;

    fn deref(&self) -> &ChannelHandle {
        &self.handle
    }
}

impl Drop for OwnedChannel {
    fn drop(&mut self) {
        let h = &self.handle;
        let mut st = h.shared.lock();
        let opening = match st.channels.get_mut(&h.id) {
            Some(c) if c.opened.is_none() => {
                c.dropped = true;
                true
            }
            _ => false,
        };
        if !opening {
            let close_sent = st.channels.remove(&h.id).is_some_and(|c| c.close_sent);
            if !close_sent && let Some(mut c) = st.conn.channel(h.id) {
                let _ = c.close();
            }
        }
        st.wake_driver();
    }
}
