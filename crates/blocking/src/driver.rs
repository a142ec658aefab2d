//! Moves bytes between the socket and the core and files events per channel. No protocol
//! logic lives here.

use crate::Error;
use bytes::Bytes;
use seashell_proto::{ChannelId, ClientConnection, Event};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// Socket read size: large reads keep the per-read overhead low on bulk transfers.
const READ_CHUNK: usize = 256 * 1024;

/// What arrived for one channel and has not been read yet.
#[derive(Debug, Default)]
pub(crate) struct ChannelBuffers {
    pub stdout: VecDeque<Bytes>,
    pub stderr: VecDeque<Bytes>,
    pub opened: Option<Result<(), String>>,
    pub replies: VecDeque<bool>,
    pub eof: bool,
    pub closed: bool,
    pub exit_status: Option<u32>,
    pub exit_signal: Option<String>,
}

/// The connection and its socket.
pub(crate) struct Driver {
    pub conn: ClientConnection,
    sock: TcpStream,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    pub channels: HashMap<ChannelId, ChannelBuffers>,
    /// Events not about a channel (host key, auth), for the handshake loop.
    pub other: VecDeque<Event>,
    pub lost: Option<seashell_proto::Error>,
    /// Answers to our pings, in arrival order.
    pub pongs: VecDeque<Bytes>,
    /// The data of our last ping (a counter), to match its answer.
    pub ping_serial: u64,
    /// The read timeout last set on the socket, to skip redundant system calls.
    read_timeout: Option<Option<std::time::Duration>>,
}

#[cfg(target_os = "linux")]
fn quickack(sock: &TcpStream) {
    use std::os::linux::net::TcpStreamExt;
    let _ = sock.set_quickack(true);
}

#[cfg(not(target_os = "linux"))]
fn quickack(_: &TcpStream) {}

impl Driver {
    pub fn new(conn: ClientConnection, sock: TcpStream) -> Driver {
        Driver {
            conn,
            sock,
            rbuf: vec![0; READ_CHUNK],
            wbuf: Vec::with_capacity(READ_CHUNK),
            channels: HashMap::new(),
            other: VecDeque::new(),
            lost: None,
            pongs: VecDeque::new(),
            ping_serial: 0,
            read_timeout: None,
        }
    }

    /// Sends everything the core has queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.wbuf.clear();
        if self.conn.poll_transmit(&mut self.wbuf) > 0 {
            self.sock.write_all(&self.wbuf)?;
        }
        Ok(())
    }

    /// Flushes, waits for bytes (or the core's timeout), feeds them, and files the events.
    pub fn pump(&mut self) -> Result<(), Error> {
        self.flush()?;
        if let Some(e) = &self.lost {
            return Err(Error::Ssh(e.clone()));
        }
        let now = Instant::now();
        let timeout = self
            .conn
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now));
        if timeout.is_some_and(|t| t.is_zero()) {
            let r = self.conn.handle_timeout(now);
            self.after_input(r)?;
            return Ok(());
        }
        if self.read_timeout != Some(timeout) {
            self.sock.set_read_timeout(timeout)?;
            self.read_timeout = Some(timeout);
        }
        let read = self.sock.read(&mut self.rbuf);
        // Acknowledge every segment at once: a delayed ACK meets the server's Nagle (sshd
        // enables TCP_NODELAY only after exec) and costs ~40 ms per request/reply round.
        // Linux clears the flag, so it is re-armed after each read.
        quickack(&self.sock);
        let r = match read {
            Ok(0) => self.conn.feed_eof(Instant::now()),
            Ok(n) => self
                .conn
                .feed(Instant::now(), self.rbuf.get(..n).unwrap_or_default()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.conn.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => return Err(e.into()),
        };
        self.after_input(r)
    }

    fn after_input(&mut self, r: Result<(), seashell_proto::Error>) -> Result<(), Error> {
        // The DISCONNECT the core queued on a fatal error still goes out.
        let _ = self.flush();
        self.drain_events();
        r.map_err(Error::Ssh)
    }

    /// Files every pending event. Events for a channel whose handle is gone are dropped.
    pub fn drain_events(&mut self) {
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                Event::ChannelOpened(id) => {
                    self.channels.entry(id).or_default().opened = Some(Ok(()))
                }
                Event::ChannelOpenFailed {
                    id,
                    reason,
                    description,
                } => {
                    let b = self.channels.entry(id).or_default();
                    b.opened = Some(Err(format!(
                        "channel open failed (reason {reason}): {description}"
                    )));
                    b.closed = true;
                }
                Event::Data { id, data } => self.with(id, |b| b.stdout.push_back(data)),
                Event::ExtendedData { id, data, .. } => self.with(id, |b| b.stderr.push_back(data)),
                Event::RequestSucceeded(id) => self.with(id, |b| b.replies.push_back(true)),
                Event::RequestFailed(id) => self.with(id, |b| b.replies.push_back(false)),
                Event::ExitStatus { id, status } => self.with(id, |b| b.exit_status = Some(status)),
                Event::ExitSignal { id, signal, .. } => {
                    self.with(id, |b| b.exit_signal = Some(signal))
                }
                Event::Eof(id) => self.with(id, |b| b.eof = true),
                Event::Closed(id) => self.with(id, |b| {
                    b.closed = true;
                    b.eof = true;
                }),
                Event::Writable(_) => {}
                Event::Pong(data) => self.pongs.push_back(data),
                Event::ConnectionLost(e) => self.lost = Some(e),
                other => self.other.push_back(other),
            }
        }
    }

    fn with(&mut self, id: ChannelId, f: impl FnOnce(&mut ChannelBuffers)) {
        if let Some(b) = self.channels.get_mut(&id) {
            f(b);
        }
    }

    /// Tells the core the application consumed `n` bytes of channel `id`.
    pub fn consume(&mut self, id: ChannelId, n: usize) -> Result<(), Error> {
        if let Some(mut ch) = self.conn.channel(id) {
            ch.consume(n)?;
        }
        Ok(())
    }
}
