//! [`Handle`]: the poll functions every stream type is built on. Each call is one step
//! under the lock, so a future dropped between polls loses nothing: data is taken from the
//! queue only when it is returned, and given to the core only when the write reports it.

use crate::error::{Error, Lost, broken_pipe};
use crate::state::{ChanState, SEND_HIGH_WATER, Shared};
use seashell_proto::ChannelId;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

/// One channel of one connection.
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    pub shared: Arc<Shared>,
    pub id: ChannelId,
}

impl Handle {
    /// Reads channel data (`ext == false`) or extended data into `put`, at most `cap` bytes:
    /// `Ready(0)` at EOF.
    pub fn poll_read(
        &self,
        cx: &mut Context<'_>,
        ext: bool,
        cap: usize,
        put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        if cap == 0 {
            return Poll::Ready(Ok(0));
        }
        let mut st = self.shared.lock();
        let lost = st.lost.clone();
        let Some(ch) = st.channels.get_mut(&self.id) else {
            return Poll::Ready(Ok(0));
        };
        let n = ch.take(ext, cap, put);
        if n > 0 {
            st.consume(self.id, n);
            return Poll::Ready(Ok(n));
        }
        if ch.eof || ch.closed {
            return Poll::Ready(Ok(0));
        }
        if let Some(l) = lost {
            return Poll::Ready(Err(l.io_error()));
        }
        if ext {
            ch.ext_readers.register(cx.waker());
        } else {
            ch.data_readers.register(cx.waker());
        }
        Poll::Pending
    }

    /// Writes channel data (or extended data of type 1) as far as the peer's window allows;
    /// pending while the window is shut or the socket is behind.
    pub fn poll_write(
        &self,
        cx: &mut Context<'_>,
        ext: bool,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        if let Some(l) = &st.lost {
            return Poll::Ready(Err(l.io_error()));
        }
        if st.channels.get(&self.id).is_none_or(|c| c.closed) {
            return Poll::Ready(Err(broken_pipe()));
        }
        if st.unsent >= SEND_HIGH_WATER {
            st.send_waiters.register(cx.waker());
            st.wake_driver();
            return Poll::Pending;
        }
        let r = match st.conn.channel(self.id) {
            Some(mut c) if ext => c.write_extended(1, buf),
            Some(mut c) => c.write(buf),
            None => return Poll::Ready(Err(broken_pipe())),
        };
        match r {
            Ok(0) => {
                if let Some(c) = st.channels.get_mut(&self.id) {
                    c.writers.register(cx.waker());
                }
                Poll::Pending
            }
            Ok(n) => {
                st.unsent += n;
                st.wake_driver();
                Poll::Ready(Ok(n))
            }
            Err(e) => Poll::Ready(Err(Error::Ssh(e).into())),
        }
    }

    /// Sends EOF (once).
    pub fn eof(&self) -> Result<(), Error> {
        self.command(|c| c.eof())
    }

    /// Runs one command on the core's channel, then lets the driver send what it queued.
    /// A channel the core no longer has is closed: the command is moot.
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

    /// Waits until `f` returns a value for this channel's state.
    pub async fn until<T>(
        &self,
        mut f: impl FnMut(&mut ChanState) -> Option<T>,
    ) -> Result<T, Error> {
        poll_fn(|cx| {
            let mut st = self.shared.lock();
            let lost: Option<Lost> = st.lost.clone();
            let done = st.done;
            let Some(ch) = st.channels.get_mut(&self.id) else {
                return Poll::Ready(Err(Error::Refused("the channel is closed".into())));
            };
            if let Some(v) = f(ch) {
                return Poll::Ready(Ok(v));
            }
            ch.watchers.register(cx.waker());
            ch.data_readers.register(cx.waker());
            ch.ext_readers.register(cx.waker());
            match lost {
                Some(l) => Poll::Ready(Err(l.error())),
                None if done => {
                    Poll::Ready(Err(Error::Ssh(seashell_proto::Error::ConnectionClosed)))
                }
                None => Poll::Pending,
            }
        })
        .await
    }

    /// Whether the channel is closed (or gone).
    pub fn is_closed(&self) -> bool {
        let st = self.shared.lock();
        st.done || st.channels.get(&self.id).is_none_or(|c| c.closed)
    }
}

/// What a stream type is: a channel handle and which of its streams.
pub(crate) trait Stream {
    /// The channel.
    fn handle(&self) -> &Handle;
    /// Extended data (stderr) rather than data.
    fn ext(&self) -> bool;
    /// Closing the writing side sends EOF on the channel.
    fn close_write(&self) -> Result<(), Error> {
        self.handle().eof()
    }
}

/// Implements futures-io's `AsyncRead` (and tokio's, with the `tokio` feature) on a
/// [`Stream`].
macro_rules! impl_async_read {
    ($ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let mut at = 0;
                let cap = buf.len();
                self.handle().poll_read(cx, self.ext(), cap, |s| {
                    if let Some(dst) = buf.get_mut(at..at + s.len()) {
                        dst.copy_from_slice(s);
                    }
                    at += s.len();
                })
            }
        }

        #[cfg(feature = "tokio")]
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let cap = buf.remaining();
                self.handle()
                    .poll_read(cx, self.ext(), cap, |s| buf.put_slice(s))
                    .map_ok(|_| ())
            }
        }
    };
}

/// Implements futures-io's `AsyncWrite` (and tokio's, with the `tokio` feature) on a
/// [`Stream`]: writes go to the window, flush has nothing to do (the driver sends), close
/// sends EOF.
macro_rules! impl_async_write {
    ($ty:ty) => {
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.handle().poll_write(cx, self.ext(), buf)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.close_write().map_err(Into::into))
            }
        }

        #[cfg(feature = "tokio")]
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.handle().poll_write(cx, self.ext(), buf)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.close_write().map_err(Into::into))
            }
        }
    };
}

pub(crate) use {impl_async_read, impl_async_write};
