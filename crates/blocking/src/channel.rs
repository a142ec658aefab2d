//! A session channel as blocking `Read` (stdout) and `Write` (stdin), with its stderr.

use crate::driver::{ChannelBuffers, Driver};
use crate::{Error, ExitStatus};
use bytes::{Buf, Bytes};
use seashell_proto::ChannelId;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// A running remote command. Reading gives its stdout; writing feeds its stdin.
pub struct Channel {
    driver: Arc<Mutex<Driver>>,
    id: ChannelId,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Channel({:?})", self.id)
    }
}

/// The stderr stream of a [`Channel`].
#[derive(Debug)]
pub struct Stderr<'a> {
    channel: &'a Channel,
}

fn lock(d: &Mutex<Driver>) -> MutexGuard<'_, Driver> {
    d.lock().unwrap_or_else(|p| p.into_inner())
}

/// Copies from queued chunks into `buf`, returning how much.
fn take(queue: &mut VecDeque<Bytes>, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        let Some(front) = queue.front_mut() else {
            break;
        };
        let k = front.len().min(buf.len() - n);
        if let (Some(dst), Some(src)) = (buf.get_mut(n..n + k), front.get(..k)) {
            dst.copy_from_slice(src);
        }
        front.advance(k);
        n += k;
        if front.is_empty() {
            queue.pop_front();
        }
    }
    n
}

impl Channel {
    pub(crate) fn new(driver: Arc<Mutex<Driver>>, id: ChannelId) -> Channel {
        Channel { driver, id }
    }

    /// Reads from stdout (`stderr == false`) or stderr, blocking until data, EOF or close.
    fn read_stream(&self, stderr: bool, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut d = lock(&self.driver);
        loop {
            let b = d.channels.entry(self.id).or_default();
            let q = if stderr { &mut b.stderr } else { &mut b.stdout };
            let n = take(q, buf);
            if n > 0 {
                d.consume(self.id, n)?;
                d.flush()?;
                return Ok(n);
            }
            if b.eof || b.closed {
                return Ok(0);
            }
            d.pump()?;
        }
    }

    /// Reads stdout and stderr to their ends at the same time (so neither can fill its
    /// window and stall the other).
    pub fn read_both(&mut self, stdout: &mut Vec<u8>, stderr: &mut Vec<u8>) -> Result<(), Error> {
        let mut d = lock(&self.driver);
        loop {
            let b = d.channels.entry(self.id).or_default();
            let mut n = 0;
            for (q, out) in [(&mut b.stdout, &mut *stdout), (&mut b.stderr, &mut *stderr)] {
                while let Some(chunk) = q.pop_front() {
                    n += chunk.len();
                    out.extend_from_slice(&chunk);
                }
            }
            let done = b.eof || b.closed;
            if n > 0 {
                d.consume(self.id, n)?;
            }
            if done {
                return Ok(());
            }
            d.pump()?;
        }
    }

    /// The channel's stderr stream.
    pub fn stderr(&self) -> Stderr<'_> {
        Stderr { channel: self }
    }

    /// Sends EOF on stdin.
    pub fn send_eof(&mut self) -> Result<(), Error> {
        let mut d = lock(&self.driver);
        if let Some(mut ch) = d.conn.channel(self.id) {
            ch.eof()?;
        }
        d.flush()
    }

    /// Waits for the channel to close and returns how the command ended. Output not read
    /// before this call is discarded (so the command cannot block on a full window).
    pub fn wait(&mut self) -> Result<ExitStatus, Error> {
        let mut d = lock(&self.driver);
        loop {
            let b = d.channels.entry(self.id).or_default();
            if b.closed {
                return Ok(status_of(b));
            }
            if b.eof && (b.exit_status.is_some() || b.exit_signal.is_some()) {
                // Close our side so the server's CLOSE follows.
                if let Some(mut ch) = d.conn.channel(self.id) {
                    ch.close()?;
                }
            }
            // Unread output would hold the window shut and the command with it: drop it.
            let b = d.channels.entry(self.id).or_default();
            let dropped: usize = b
                .stdout
                .drain(..)
                .chain(b.stderr.drain(..))
                .map(|c| c.len())
                .sum();
            if dropped > 0 {
                d.consume(self.id, dropped)?;
            }
            d.pump()?;
        }
    }

    fn write_stdin(&self, data: &[u8]) -> Result<usize, Error> {
        if data.is_empty() {
            return Ok(0);
        }
        let mut d = lock(&self.driver);
        loop {
            let n = match d.conn.channel(self.id) {
                Some(mut ch) => ch.write(data)?,
                None => {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "channel closed",
                    )));
                }
            };
            d.flush()?;
            if n > 0 {
                return Ok(n);
            }
            if d.channels.get(&self.id).is_some_and(|b| b.closed) {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "channel closed",
                )));
            }
            d.pump()?;
        }
    }
}

fn status_of(b: &ChannelBuffers) -> ExitStatus {
    match (&b.exit_status, &b.exit_signal) {
        (Some(c), _) => ExitStatus::Code(*c),
        (None, Some(s)) => ExitStatus::Signal(s.clone()),
        (None, None) => ExitStatus::Unknown,
    }
}

impl Drop for Channel {
    /// Closes the channel if it is still open and forgets its buffers, so a long-lived
    /// session does not accumulate state for channels nobody holds.
    fn drop(&mut self) {
        let mut d = lock(&self.driver);
        if let Some(mut ch) = d.conn.channel(self.id) {
            let _ = ch.close();
        }
        let _ = d.flush();
        d.channels.remove(&self.id);
    }
}

impl Read for Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_stream(false, buf)?)
    }
}

impl Read for Stderr<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.channel.read_stream(true, buf)?)
    }
}

impl Write for Channel {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.write_stdin(buf)?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(lock(&self.driver).flush()?)
    }
}
