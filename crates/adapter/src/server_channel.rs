//! [`ServerChannel`]: a session channel as a server's handler sees it, the same type in every
//! adapter. Its streams are blocking `Read`/`Write` for threads and `AsyncRead`/`AsyncWrite`
//! for tasks.

use crate::channel::ChannelHandle;
use crate::streams::ChannelStream;
use seashell_proto::ChannelId;

/// A session channel on the server side: cloneable, usable from any thread or task.
#[derive(Debug, Clone)]
pub struct ServerChannel {
    handle: ChannelHandle,
}

/// stdout or stderr of a [`ServerChannel`]. A write waits while the client's window is shut:
/// back-pressure reaches the writer. As `std::io::Write` it blocks the calling thread (use it
/// from a thread); as `AsyncWrite` it suspends the task. Closing it (`poll_close`,
/// `shutdown`) sends EOF.
#[derive(Debug, Clone)]
pub struct ChannelWriter {
    handle: ChannelHandle,
    stderr: bool,
}

/// What the client sends on a [`ServerChannel`] (the command's stdin), as `std::io::Read`
/// (blocking the calling thread) or `AsyncRead`. Reading returns the client's window to it,
/// so an unread channel stops the client.
#[derive(Debug, Clone)]
pub struct ChannelReader {
    handle: ChannelHandle,
}

impl ServerChannel {
    pub(crate) fn new(handle: ChannelHandle) -> ServerChannel {
        ServerChannel { handle }
    }

    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.handle.id()
    }

    /// A writer for the command's stdout.
    pub fn stdout(&self) -> ChannelWriter {
        ChannelWriter {
            handle: self.handle.clone(),
            stderr: false,
        }
    }

    /// A writer for the command's stderr.
    pub fn stderr(&self) -> ChannelWriter {
        ChannelWriter {
            handle: self.handle.clone(),
            stderr: true,
        }
    }

    /// A reader of what the client sends (the command's stdin).
    pub fn stdin(&self) -> ChannelReader {
        ChannelReader {
            handle: self.handle.clone(),
        }
    }

    /// Sends EOF on stdout/stderr: no more output.
    pub fn eof(&self) {
        let _ = self.handle.send_eof();
    }

    /// Reports the exit status and closes the channel. Everything written before is sent
    /// first (writes complete only once the core has taken them).
    pub fn exit(&self, status: u32) {
        let _ = self.handle.command(|c| {
            c.exit_status(status)?;
            c.eof()?;
            c.close()
        });
    }

    /// Reports death by `signal` (name without "SIG") and closes the channel.
    pub fn exit_signal(&self, signal: &str) {
        let _ = self.handle.command(|c| {
            c.exit_signal(signal, false, "")?;
            c.eof()?;
            c.close()
        });
    }

    /// Whether the channel is closed (the client went away or the command exited).
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

impl ChannelStream for ChannelWriter {
    fn channel(&self) -> &ChannelHandle {
        &self.handle
    }
    fn ext(&self) -> bool {
        self.stderr
    }
}

impl ChannelStream for ChannelReader {
    fn channel(&self) -> &ChannelHandle {
        &self.handle
    }
    fn ext(&self) -> bool {
        false
    }
}

crate::impl_blocking_write!(ChannelWriter);
crate::impl_blocking_read!(ChannelReader);
crate::impl_async_write!(ChannelWriter);
crate::impl_async_write!(&ChannelWriter);
crate::impl_async_read!(ChannelReader);
crate::impl_async_read!(&ChannelReader);
crate::impl_blocking_write!(&ChannelWriter);
crate::impl_blocking_read!(&ChannelReader);
