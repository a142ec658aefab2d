//! The stream traits on channel handles: [`std::io::Read`]/[`Write`](std::io::Write) for
//! threads (waiting with [`block_on`](crate::block_on)) and futures-io's (and, with the
//! `tokio` feature, tokio's) `AsyncRead`/`AsyncWrite` for tasks, all over the same
//! [`ChannelHandle`] poll functions. The macros are used by the adapters for their own stream
//! types.

use crate::channel::ChannelHandle;
use crate::error::Error;
use std::io;
use std::task::{Context, Poll};

/// What a stream type is: a channel and which of its streams. Implemented by every stream
/// type of every adapter; the `impl_*` macros build the I/O traits on it.
pub trait ChannelStream {
    /// The channel.
    fn channel(&self) -> &ChannelHandle;
    /// Extended data (stderr) rather than data.
    fn ext(&self) -> bool;
    /// Closing the writing side sends EOF on the channel.
    fn close_write(&self) -> Result<(), Error> {
        self.channel().send_eof()
    }
}

impl ChannelHandle {
    /// [`poll_read`](Self::poll_read) into a byte buffer.
    pub fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        ext: bool,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut at = 0;
        let cap = buf.len();
        self.poll_read(cx, ext, cap, |s| {
            if let Some(dst) = buf.get_mut(at..at + s.len()) {
                dst.copy_from_slice(s);
            }
            at += s.len();
        })
    }
}

/// Implements blocking `std::io::Read` on a [`ChannelStream`] type.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_blocking_read {
    ($ty:ty) => {
        impl std::io::Read for $ty {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                use $crate::ChannelStream as _;
                let (ch, ext) = (self.channel(), self.ext());
                $crate::block_on(|cx| ch.poll_read_buf(cx, ext, buf))
            }
        }
    };
}

/// Implements blocking `std::io::Write` on a [`ChannelStream`] type: a write waits while the
/// peer's window is shut; `flush` has nothing to do (the driver sends).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_blocking_write {
    ($ty:ty) => {
        impl std::io::Write for $ty {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                use $crate::ChannelStream as _;
                let (ch, ext) = (self.channel(), self.ext());
                $crate::block_on(|cx| ch.poll_write(cx, ext, buf))
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
    };
}

/// Implements futures-io's `AsyncRead` (and tokio's, with the calling crate's `tokio`
/// feature) on a [`ChannelStream`] type.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_async_read {
    ($ty:ty) => {
        impl $crate::__private::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use $crate::ChannelStream as _;
                self.channel().poll_read_buf(cx, self.ext(), buf)
            }
        }

        #[cfg(feature = "tokio")]
        impl $crate::__private::tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut $crate::__private::tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                use $crate::ChannelStream as _;
                let cap = buf.remaining();
                self.channel()
                    .poll_read(cx, self.ext(), cap, |s| buf.put_slice(s))
                    .map_ok(|_| ())
            }
        }
    };
}

/// Implements futures-io's `AsyncWrite` (and tokio's, with the calling crate's `tokio`
/// feature) on a [`ChannelStream`] type: writes go to the window, flush has nothing to do
/// (the driver sends), close sends EOF.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_async_write {
    ($ty:ty) => {
        impl $crate::__private::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use $crate::ChannelStream as _;
                self.channel().poll_write(cx, self.ext(), buf)
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
                use $crate::ChannelStream as _;
                std::task::Poll::Ready(self.close_write().map_err(Into::into))
            }
        }

        #[cfg(feature = "tokio")]
        impl $crate::__private::tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use $crate::ChannelStream as _;
                self.channel().poll_write(cx, self.ext(), buf)
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
                use $crate::ChannelStream as _;
                std::task::Poll::Ready(self.close_write().map_err(Into::into))
            }
        }
    };
}
