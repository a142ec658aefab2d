//! [`Inbox`]: what arrived for one channel and has not been read yet, and who waits on it.

use crate::exit::ExitStatus;
use crate::wait::WakerSet;
use bytes::{Buf, Bytes};
use std::collections::VecDeque;
use std::task::Waker;

/// How a channel open ended: open, or refused with the peer's reason.
pub(crate) type Opened = Result<(), (u32, String)>;

/// One channel's received data and state, filed by the connection's pump and taken by the
/// application's handles.
#[derive(Debug, Default)]
pub struct Inbox {
    /// Channel data (client: the command's stdout; server: its stdin).
    data: VecDeque<Bytes>,
    /// Extended data type 1 (client: the command's stderr).
    ext: VecDeque<Bytes>,
    /// Bytes in `data` and `ext`.
    buffered: usize,
    pub(crate) opened: Option<Opened>,
    /// Replies to our want-reply requests, in order.
    pub(crate) replies: VecDeque<bool>,
    /// Whether the server granted the pty we asked for.
    pub(crate) pty: Option<bool>,
    pub(crate) eof: bool,
    pub(crate) closed: bool,
    /// We sent our CLOSE.
    pub(crate) close_sent: bool,
    pub(crate) exit: Option<ExitStatus>,
    /// Client: every handle is gone; close as soon as the channel is open, forget it once
    /// closed.
    pub(crate) dropped: bool,
    /// An [`OwnedChannel`](crate::OwnedChannel) holds it (a forwarded channel) and forgets
    /// it when dropped: a server keeps it past the peer's CLOSE, so data that came just
    /// before is still read.
    pub(crate) owned: bool,
    pub(crate) data_readers: WakerSet,
    pub(crate) ext_readers: WakerSet,
    pub(crate) writers: WakerSet,
    /// Waiters for anything else: open, replies, exit, EOF, close.
    pub(crate) watchers: WakerSet,
}

impl Inbox {
    /// Wakes everyone waiting on the channel.
    pub(crate) fn wake_all(&mut self) {
        self.data_readers.wake();
        self.ext_readers.wake();
        self.writers.wake();
        self.watchers.wake();
    }

    /// Queues received bytes of one stream; its readers go to `wake` (woken once the lock
    /// is released).
    pub(crate) fn push(&mut self, ext: bool, data: Bytes, wake: &mut Vec<Waker>) {
        self.buffered += data.len();
        if ext {
            self.ext.push_back(data);
            self.ext_readers.wake_later(wake);
        } else {
            self.data.push_back(data);
            self.data_readers.wake_later(wake);
        }
    }

    /// Takes up to `cap` queued bytes of one stream as chunks (no copy: they share the
    /// received packets' memory), appended to `out`; returns how many bytes.
    pub(crate) fn take_chunks(&mut self, ext: bool, cap: usize, out: &mut Vec<Bytes>) -> usize {
        let q = if ext { &mut self.ext } else { &mut self.data };
        let mut n = 0;
        while n < cap {
            let Some(front) = q.front_mut() else { break };
            if front.len() <= cap - n {
                n += front.len();
                out.extend(q.pop_front());
            } else {
                out.push(front.split_to(cap - n));
                n = cap;
            }
        }
        self.buffered -= n;
        n
    }

    /// Moves up to `cap` queued bytes of one stream into `put`; returns how many.
    pub(crate) fn take(&mut self, ext: bool, cap: usize, mut put: impl FnMut(&[u8])) -> usize {
        let q = if ext { &mut self.ext } else { &mut self.data };
        let mut n = 0;
        while n < cap {
            let Some(front) = q.front_mut() else { break };
            let k = front.len().min(cap - n);
            put(front.get(..k).unwrap_or_default());
            front.advance(k);
            n += k;
            if front.is_empty() {
                q.pop_front();
            }
        }
        self.buffered -= n;
        n
    }

    /// Bytes received and not read yet (data and extended data).
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Whether the peer sent EOF (queued data may remain).
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Whether the channel is closed in both directions.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// How the remote command ended, once the server said.
    pub fn exit_status(&self) -> Option<&ExitStatus> {
        self.exit.as_ref()
    }

    /// Whether data or extended data is waiting.
    pub fn has_output(&self) -> bool {
        self.buffered > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_crosses_chunks_and_counts() {
        let mut b = Inbox::default();
        let mut wake = Vec::new();
        b.push(false, Bytes::from_static(b"hello "), &mut wake);
        b.push(false, Bytes::from_static(b"world"), &mut wake);
        b.push(true, Bytes::from_static(b"err"), &mut wake);
        assert_eq!(b.buffered(), 14);
        let mut out = Vec::new();
        assert_eq!(b.take(false, 8, |s| out.extend_from_slice(s)), 8);
        assert_eq!(out, b"hello wo");
        assert_eq!(b.take(false, 100, |s| out.extend_from_slice(s)), 3);
        assert_eq!(b.buffered(), 3);
        assert_eq!(b.take(false, 100, |_| {}), 0);
        b.push(false, Bytes::from_static(b"abcdef"), &mut wake);
        let mut chunks = Vec::new();
        assert_eq!(b.take_chunks(false, 4, &mut chunks), 4);
        assert_eq!(b.take_chunks(false, 4, &mut chunks), 2);
        assert_eq!(chunks.concat(), b"abcdef");
        assert_eq!(b.buffered(), 3);
    }
}
