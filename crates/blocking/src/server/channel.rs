//! [`ServerChannel`]: a session channel as seen by the handler's threads. Writes go to the
//! connection thread with back-pressure; reads come from the data the client sent.

use seashell_proto::ChannelId;
use std::collections::VecDeque;
use std::io;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Bytes a writer may have queued for the connection thread before it waits.
pub(crate) const WRITE_CREDIT: usize = 256 * 1024;

/// What reaches the connection thread: bytes from the socket, or a handler thread's request.
#[derive(Debug)]
pub(crate) enum Command {
    Net(Vec<u8>),
    NetEnd,
    Write {
        id: ChannelId,
        stderr: bool,
        data: Vec<u8>,
    },
    Consume {
        id: ChannelId,
        n: usize,
    },
    Eof {
        id: ChannelId,
    },
    Exit {
        id: ChannelId,
        status: Exit,
    },
}

/// How a command ended, as reported to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    Status(u32),
    Signal(String),
}

/// State shared between the connection thread and the handler's threads.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub stdin: VecDeque<bytes::Bytes>,
    pub stdin_eof: bool,
    pub closed: bool,
    /// Bytes written by handler threads and not yet taken by the connection.
    pub queued: usize,
}

#[derive(Debug, Default)]
pub(crate) struct SharedCell {
    pub state: Mutex<Shared>,
    pub changed: Condvar,
}

impl SharedCell {
    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A session channel, cloneable and usable from any thread.
#[derive(Debug, Clone)]
pub struct ServerChannel {
    pub(crate) id: ChannelId,
    pub(crate) tx: Sender<Command>,
    pub(crate) shared: Arc<SharedCell>,
}

impl ServerChannel {
    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// A writer for the command's stdout.
    pub fn stdout(&self) -> ChannelWriter {
        ChannelWriter {
            channel: self.clone(),
            stderr: false,
        }
    }

    /// A writer for the command's stderr.
    pub fn stderr(&self) -> ChannelWriter {
        ChannelWriter {
            channel: self.clone(),
            stderr: true,
        }
    }

    /// A reader of what the client sends (the command's stdin).
    pub fn stdin(&self) -> ChannelReader {
        ChannelReader {
            channel: self.clone(),
        }
    }

    /// Sends EOF on stdout/stderr: no more output.
    pub fn eof(&self) {
        let _ = self.tx.send(Command::Eof { id: self.id });
    }

    /// Reports the exit status and closes the channel (after queued output).
    pub fn exit(&self, status: u32) {
        let _ = self.tx.send(Command::Exit {
            id: self.id,
            status: Exit::Status(status),
        });
    }

    /// Reports death by `signal` (name without "SIG") and closes the channel.
    pub fn exit_signal(&self, signal: &str) {
        let _ = self.tx.send(Command::Exit {
            id: self.id,
            status: Exit::Signal(signal.to_owned()),
        });
    }

    /// Whether the channel is closed (the client went away or the command exited).
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}

/// stdout or stderr of a [`ServerChannel`]. Blocks when too much is queued: back-pressure
/// from the client's window reaches the writer.
#[derive(Debug, Clone)]
pub struct ChannelWriter {
    channel: ServerChannel,
    stderr: bool,
}

impl io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let ch = &self.channel;
        let mut s = ch.shared.lock();
        while s.queued >= WRITE_CREDIT && !s.closed {
            s = ch.shared.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        if s.closed {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "channel closed"));
        }
        let n = buf.len().min(WRITE_CREDIT - s.queued);
        s.queued += n;
        drop(s);
        let data = buf.get(..n).unwrap_or_default().to_vec();
        ch.tx
            .send(Command::Write {
                id: ch.id,
                stderr: self.stderr,
                data,
            })
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "connection closed"))?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The client's data on a [`ServerChannel`] (the command's stdin). Reading returns the
/// client's window to it, so an unread channel stops the client.
#[derive(Debug, Clone)]
pub struct ChannelReader {
    channel: ServerChannel,
}

impl io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let ch = &self.channel;
        let mut s = ch.shared.lock();
        loop {
            if let Some(front) = s.stdin.front_mut() {
                let n = front.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), front.get(..n)) {
                    dst.copy_from_slice(src);
                }
                bytes::Buf::advance(front, n);
                if front.is_empty() {
                    s.stdin.pop_front();
                }
                drop(s);
                let _ = ch.tx.send(Command::Consume { id: ch.id, n });
                return Ok(n);
            }
            if s.stdin_eof || s.closed {
                return Ok(0);
            }
            s = ch.shared.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }
}
