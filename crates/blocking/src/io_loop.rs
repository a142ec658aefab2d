//! The I/O loop: each connection's one thread that moves bytes between its socket and the
//! shared [`Pump`]. It sleeps in `poll(2)` on the socket and a wake-up socket pair, with the
//! core's next deadline as the timeout; handles wake it when they queue work. Everything that
//! is not socket work is the pump's.
//!
//! The socket is read and written with `MSG_DONTWAIT`, so it stays in blocking mode for any
//! clone the application keeps.

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags, recv, send};
use seashell_adapter::{Error, Pump};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Wake, Waker};
use std::time::Instant;

/// Socket read size: large reads keep the per-read overhead low on bulk transfers.
const READ_CHUNK: usize = 256 * 1024;

/// Wakes a thread sleeping in `poll(2)` from another thread: one byte on a socket pair,
/// written only when no wake-up is pending already.
#[derive(Debug)]
pub(crate) struct Wakeup {
    tx: UnixStream,
    pending: AtomicBool,
}

impl Wakeup {
    /// A wake-up and the end to poll (readable when woken).
    pub fn pair() -> io::Result<(Arc<Wakeup>, UnixStream)> {
        let (tx, rx) = UnixStream::pair()?;
        tx.set_nonblocking(true)?;
        rx.set_nonblocking(true)?;
        let wakeup = Arc::new(Wakeup {
            tx,
            pending: AtomicBool::new(false),
        });
        Ok((wakeup, rx))
    }

    /// Empties `rx` and re-arms the wake-up (before the state is looked at again, so a
    /// wake-up after this point writes a new byte).
    pub fn drain(&self, mut rx: &UnixStream) {
        let mut buf = [0u8; 64];
        while matches!(rx.read(&mut buf), Ok(n) if n > 0) {}
        self.pending.store(false, Ordering::Release);
    }
}

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.pending.swap(true, Ordering::AcqRel) {
            // A full pair means a wake-up is waiting to be read anyway.
            let _ = (&self.tx).write(&[1]);
        }
    }
}

/// One connection's socket, wake-up channel and pump.
pub(crate) struct IoLoop {
    pump: Pump,
    sock: TcpStream,
    wakeup: Arc<Wakeup>,
    rx: UnixStream,
    rbuf: Vec<u8>,
    /// Server: the forwarding threads start with the first forwarding work.
    forwarding_later: bool,
}

impl IoLoop {
    pub fn new(pump: Pump, sock: TcpStream) -> io::Result<IoLoop> {
        sock.set_nodelay(true)?;
        let (wakeup, rx) = Wakeup::pair()?;
        pump.set_waker(&Waker::from(wakeup.clone()));
        Ok(IoLoop {
            pump,
            sock,
            wakeup,
            rx,
            rbuf: vec![0; READ_CHUNK],
            forwarding_later: false,
        })
    }

    /// Server: starts the forwarding threads only once the client forwards something, so an
    /// idle or unauthenticated connection costs one thread.
    pub fn forwarding_later(mut self) -> IoLoop {
        self.pump.shared().accept_forwarding_later();
        self.forwarding_later = true;
        self
    }

    /// Feeds bytes that were read before the loop started (those after a PROXY header).
    pub fn received(&mut self, early: &[u8]) {
        self.pump.received(Instant::now(), early);
    }

    /// Runs the loop on a thread of its own.
    pub fn spawn(self) -> io::Result<()> {
        std::thread::Builder::new()
            .name("seashell-io".into())
            .spawn(move || {
                let _ = self.run();
            })
            .map(|_| ())
    }

    /// Runs the connection until it ends.
    pub fn run(mut self) -> Result<(), Error> {
        loop {
            self.pump.orphaned();
            self.pump.events();
            if self.forwarding_later && self.pump.shared().forwarding_waiting() {
                self.forwarding_later = false;
                crate::forward::spawn_incoming_loop(self.pump.shared());
                crate::forward::spawn_listen_loop(self.pump.shared());
            }
            let blocked = self.transmit();
            if let Some(r) = self.pump.finished() {
                let _ = self.sock.shutdown(std::net::Shutdown::Both);
                return r;
            }
            let now = Instant::now();
            let timeout = match self.pump.timeout() {
                Some(at) if at <= now => {
                    self.pump.handle_timeout(now);
                    continue;
                }
                Some(at) => Some(at - now),
                None => None,
            };
            let reading = self.pump.wants_read();
            let mut events = PollFlags::empty();
            if reading {
                events |= PollFlags::IN;
            }
            if blocked {
                events |= PollFlags::OUT;
            }
            let mut fds = [
                PollFd::new(&self.sock, events),
                PollFd::new(&self.rx, PollFlags::IN),
            ];
            let timespec = timeout.and_then(|t| Timespec::try_from(t).ok());
            match poll(&mut fds, timespec.as_ref()) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    self.pump.read_failed(e.into());
                    continue;
                }
            }
            let [sock, wake] = fds.map(|f| f.revents());
            if !wake.is_empty() {
                self.wakeup.drain(&self.rx);
            }
            let ready = PollFlags::IN | PollFlags::HUP | PollFlags::ERR;
            if reading && sock.intersects(ready) {
                self.read();
            }
        }
    }

    /// One socket read, fed to the core.
    fn read(&mut self) {
        match recv(&self.sock, &mut self.rbuf[..], RecvFlags::DONTWAIT) {
            Ok((n, _)) => {
                quickack(&self.sock);
                self.pump
                    .received(Instant::now(), self.rbuf.get(..n).unwrap_or_default());
            }
            Err(Errno::AGAIN | Errno::INTR) => {}
            Err(e) => self.pump.read_failed(e.into()),
        }
    }

    /// Writes what the core has queued until the socket pushes back. Returns whether output
    /// is left for when the socket is writable again.
    fn transmit(&mut self) -> bool {
        loop {
            let now = Instant::now();
            let out = self.pump.output(now);
            if out.is_empty() {
                return false;
            }
            match send(&self.sock, out, send_flags()) {
                Ok(n) => self.pump.wrote(now, n),
                Err(Errno::AGAIN) => return true,
                Err(Errno::INTR) => {}
                Err(e) => {
                    self.pump.write_failed(e.into());
                    return false;
                }
            }
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_flags() -> SendFlags {
    SendFlags::DONTWAIT | SendFlags::NOSIGNAL
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_flags() -> SendFlags {
    SendFlags::DONTWAIT
}

/// Acknowledges every segment at once: a delayed ACK meets the server's Nagle (sshd enables
/// TCP_NODELAY only after exec) and costs ~40 ms per request/reply round. Linux clears the
/// flag, so it is re-armed after each read.
#[cfg(target_os = "linux")]
fn quickack(sock: &TcpStream) {
    use std::os::linux::net::TcpStreamExt;
    let _ = sock.set_quickack(true);
}

#[cfg(not(target_os = "linux"))]
fn quickack(_: &TcpStream) {}
