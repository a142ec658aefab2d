//! A client session channel: `AsyncRead` (the command's stdout) and `AsyncWrite` (its
//! stdin), with its stderr as a separate [`Stderr`] stream.

use crate::ExitStatus;
use crate::error::Error;
use crate::handle::{Handle, Stream, impl_async_read, impl_async_write};
use seashell_proto::ChannelId;
use std::sync::Arc;

/// Owns the channel for all its handles: closes it when the last one goes.
#[derive(Debug)]
struct Owner(Handle);

impl Drop for Owner {
    /// Closes the channel if it is still open and forgets its buffers, so a long-lived
    /// session does not accumulate state for channels nobody holds. A channel still opening
    /// is closed by the driver as soon as it opens.
    fn drop(&mut self) {
        let h = &self.0;
        let mut st = h.shared.lock();
        let opening = match st.channels.get_mut(&h.id) {
            Some(c) if c.opened.is_none() => {
                c.dropped = true;
                true
            }
            _ => false,
        };
        if !opening {
            st.channels.remove(&h.id);
            if let Some(mut c) = st.conn.channel(h.id) {
                let _ = c.close();
            }
        }
        st.wake_driver();
    }
}

/// A running remote command. Reading gives its stdout; writing feeds its stdin; closing the
/// writer (`close`/`shutdown`) sends EOF.
///
/// Clones are handles on the same channel (move one into another task to write while this
/// one reads); `&Channel` reads and writes too. The channel closes when the last handle,
/// including [`Stderr`] handles, is dropped. Every read and write is cancellation-safe.
#[derive(Debug, Clone)]
pub struct Channel {
    owner: Arc<Owner>,
}

/// The stderr stream of a [`Channel`] (an owned handle: it can move to another task).
#[derive(Debug, Clone)]
pub struct Stderr {
    owner: Arc<Owner>,
}

impl Channel {
    pub(crate) fn new(handle: Handle) -> Channel {
        Channel {
            owner: Arc::new(Owner(handle)),
        }
    }

    fn handle(&self) -> &Handle {
        &self.owner.0
    }

    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.handle().id
    }

    /// The channel's stderr stream.
    pub fn stderr(&self) -> Stderr {
        Stderr {
            owner: self.owner.clone(),
        }
    }

    /// Sends EOF on stdin.
    pub fn send_eof(&self) -> Result<(), Error> {
        self.handle().eof()
    }

    /// Sends a signal (name without "SIG", for example "TERM") to the remote command.
    pub fn signal(&self, name: &str) -> Result<(), Error> {
        self.handle().command(|c| c.signal(name))
    }

    /// Closes the channel now; the server's close follows.
    pub fn close(&self) -> Result<(), Error> {
        self.handle().command(|c| c.close())
    }

    /// Bytes received and not read yet (stdout and stderr). It never exceeds the channel's
    /// window: a reader that stops reading stops the server.
    pub fn buffered(&self) -> usize {
        let st = self.handle().shared.lock();
        st.channels.get(&self.id()).map_or(0, |c| c.buffered)
    }

    /// How the command ended, once the server said.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        let st = self.handle().shared.lock();
        st.channels.get(&self.id()).and_then(|c| c.exit.clone())
    }

    /// Whether the channel is closed in both directions.
    pub fn is_closed(&self) -> bool {
        self.handle().is_closed()
    }

    /// Reads stdout and stderr to their ends at the same time (so neither can fill the
    /// window and stall the other), appending to `stdout` and `stderr`. Cancellation-safe:
    /// what was read before a cancellation is in the vectors.
    pub async fn read_both(&self, stdout: &mut Vec<u8>, stderr: &mut Vec<u8>) -> Result<(), Error> {
        let h = self.handle();
        loop {
            let (n, done) = h
                .until(|c| {
                    let mut n = c.take(false, usize::MAX, |s| stdout.extend_from_slice(s));
                    n += c.take(true, usize::MAX, |s| stderr.extend_from_slice(s));
                    let done = c.eof || c.closed;
                    (n > 0 || done).then_some((n, done))
                })
                .await?;
            h.shared.lock().consume(h.id, n);
            if done {
                return Ok(());
            }
        }
    }

    /// Waits for the channel to close and returns how the command ended. Output not read
    /// before this call is discarded (so the command cannot block on a full window). Once
    /// the server has sent EOF and an exit status, the channel is closed from our side.
    pub async fn wait(&self) -> Result<ExitStatus, Error> {
        let h = self.handle();
        loop {
            let (dropped, status, finish) = h
                .until(|c| {
                    let dropped =
                        c.take(false, usize::MAX, |_| {}) + c.take(true, usize::MAX, |_| {});
                    if c.closed {
                        let status = c.exit.clone().unwrap_or(ExitStatus::Unknown);
                        return Some((dropped, Some(status), false));
                    }
                    let finish = c.eof && c.exit.is_some();
                    (dropped > 0 || finish).then_some((dropped, None, finish))
                })
                .await?;
            if let Some(status) = status {
                h.shared.lock().consume(h.id, dropped);
                return Ok(status);
            }
            {
                let mut st = h.shared.lock();
                st.consume(h.id, dropped);
                if finish && let Some(mut c) = st.conn.channel(h.id) {
                    let _ = c.close();
                    st.wake_driver();
                }
            }
            if finish {
                // Now only the server's close is missing.
                return h
                    .until(|c| {
                        c.closed
                            .then(|| c.exit.clone().unwrap_or(ExitStatus::Unknown))
                    })
                    .await;
            }
        }
    }
}

impl Stream for Channel {
    fn handle(&self) -> &Handle {
        &self.owner.0
    }
    fn ext(&self) -> bool {
        false
    }
}

impl Stream for Stderr {
    fn handle(&self) -> &Handle {
        &self.owner.0
    }
    fn ext(&self) -> bool {
        true
    }
}

impl_async_read!(Channel);
impl_async_read!(&Channel);
impl_async_write!(Channel);
impl_async_write!(&Channel);
impl_async_read!(Stderr);
impl_async_read!(&Stderr);
