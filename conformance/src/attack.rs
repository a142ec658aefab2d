//! Hostile clients for the server-under-attack tests: each connects with a tiny receive
//! buffer, gets to a chosen point of the handshake, then stops reading, and (for a flood)
//! keeps sending messages whose replies the server cannot deliver.
//!
//! The flood is encrypted by Seashell's own client core (with the `hostile-peer` feature,
//! which lets it send any message), so the server sees well-formed packets of an unknown
//! type after a real key exchange.

use rustix::net::{AddressFamily, SocketType, sockopt};
use seashell_proto::{ClientConfig, ClientConnection, Event};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The receive buffer the hostile client asks for: the server's replies fill it at once.
pub const HOSTILE_RCVBUF: usize = 4096;

/// The message type of the flood: unassigned, so each one is owed an UNIMPLEMENTED reply.
pub const UNKNOWN_MESSAGE: u8 = 150;

/// Where the hostile client stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Sends half an identification line, then nothing.
    MidBanner,
    /// Sends its identification and KEXINIT, then nothing (never its key-exchange init).
    MidKex,
    /// Completes the key exchange, stops reading, and sends `messages` messages of an
    /// unknown type (each one owed an UNIMPLEMENTED reply) as fast as the server takes them.
    Flood {
        /// How many messages to try to send.
        messages: u64,
    },
    /// Logs in as `attacker` with the ed25519 key of seed `key_seed`, stops reading, and
    /// floods as [`Stall::Flood`] (the server's higher post-authentication cap applies).
    FloodAfterAuth {
        /// How many messages to try to send.
        messages: u64,
        /// The seed of the ed25519 key the server accepts.
        key_seed: u8,
    },
}

/// What happened to a hostile connection.
#[derive(Debug)]
pub struct AttackOutcome {
    /// Bytes the server accepted from us (our writes that went through).
    pub sent: u64,
    /// Flood messages that went out before the server stopped taking them.
    pub messages_sent: u64,
    /// When the server closed the connection, from the connect; `None`: still open at the
    /// give-up time.
    pub closed_after: Option<Duration>,
}

/// Connects to `addr` with a [`HOSTILE_RCVBUF`]-byte receive buffer.
pub fn connect_small_rcvbuf(addr: SocketAddr) -> io::Result<TcpStream> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let fd = new_socket(family)?;
    // Before connecting, so the window the server sees is small from the first segment.
    sockopt::set_socket_recv_buffer_size(&fd, HOSTILE_RCVBUF)?;
    rustix::net::connect(&fd, &addr)?;
    Ok(TcpStream::from(fd))
}

/// A TCP socket closed on exec: the tests spawn servers (some with a low descriptor limit)
/// while others hold hundreds of these, which must not leak into them.
fn new_socket(family: AddressFamily) -> io::Result<rustix::fd::OwnedFd> {
    Ok(rustix::net::socket_with(
        family,
        SocketType::STREAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )?)
}

/// Connects to `addr` from the local address `source` (another loopback address, such as
/// `127.0.0.2`, stands for another client machine).
pub fn connect_from(source: std::net::IpAddr, addr: SocketAddr) -> io::Result<TcpStream> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let fd = new_socket(family)?;
    rustix::net::bind(&fd, &SocketAddr::new(source, 0))?;
    rustix::net::connect(&fd, &addr)?;
    Ok(TcpStream::from(fd))
}

/// Runs one hostile client against `addr` until the server closes the connection or
/// `give_up` passes.
pub fn attack(addr: SocketAddr, stall: Stall, give_up: Duration) -> io::Result<AttackOutcome> {
    let start = Instant::now();
    let mut sock = connect_small_rcvbuf(addr)?;
    let mut outcome = AttackOutcome {
        sent: 0,
        messages_sent: 0,
        closed_after: None,
    };
    match stall {
        Stall::MidBanner => {
            sock.write_all(b"SSH-2.0-half")?;
            outcome.sent = 12;
        }
        Stall::MidKex => {
            let mut core = client_core()?;
            let mut out = Vec::new();
            core.poll_transmit(&mut out);
            // The identification line and our KEXINIT; the server answers with its own and
            // waits for our key-exchange init forever.
            sock.write_all(&out)?;
            outcome.sent = out.len() as u64;
        }
        Stall::Flood { messages } => {
            let mut core = client_core()?;
            handshake(&mut core, &mut sock, start + give_up, None)?;
            flood(&mut core, &mut sock, messages, &mut outcome);
        }
        Stall::FloodAfterAuth { messages, key_seed } => {
            let mut core = client_core()?;
            let key = seashell_proto::PrivateKey::ed25519_from_seed(&[key_seed; 32])
                .map_err(io::Error::other)?;
            handshake(&mut core, &mut sock, start + give_up, Some(Arc::new(key)))?;
            flood(&mut core, &mut sock, messages, &mut outcome);
        }
    }
    outcome.closed_after = wait_closed(&mut sock, start, give_up);
    Ok(outcome)
}

fn client_core() -> io::Result<ClientConnection> {
    ClientConnection::new(Arc::new(ClientConfig::new("attacker")), Instant::now())
        .map_err(io::Error::other)
}

/// Drives the key exchange to the host-key event (accepting any key), reading normally;
/// with `key`, on to a login with it.
fn handshake(
    core: &mut ClientConnection,
    sock: &mut TcpStream,
    until: Instant,
    key: Option<Arc<seashell_proto::PrivateKey>>,
) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    while Instant::now() < until {
        out.clear();
        core.poll_transmit(&mut out);
        sock.write_all(&out)?;
        while let Some(ev) = core.poll_event() {
            match ev {
                Event::HostKey(check) => {
                    core.accept_host_key(check).map_err(io::Error::other)?;
                    if key.is_none() {
                        out.clear();
                        core.poll_transmit(&mut out);
                        sock.write_all(&out)?;
                        return Ok(());
                    }
                }
                Event::AuthMethods { choice, .. } => {
                    let Some(k) = key.clone() else { continue };
                    let method = seashell_proto::AuthMethod::PublicKey(k);
                    core.authenticate(choice, method)
                        .map_err(io::Error::other)?;
                }
                Event::Authenticated => return Ok(()),
                _ => {}
            }
        }
        match sock.read(&mut buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => core
                .feed(Instant::now(), buf.get(..n).unwrap_or_default())
                .map_err(io::Error::other)?,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::ErrorKind::TimedOut.into())
}

/// Sends unknown-type messages in batches until `messages` are out or the server stops
/// taking them (a write that blocks for a second, or fails).
fn flood(core: &mut ClientConnection, sock: &mut TcpStream, messages: u64, o: &mut AttackOutcome) {
    const BATCH: u64 = 1024;
    let _ = sock.set_write_timeout(Some(Duration::from_secs(1)));
    let mut out = Vec::new();
    while o.messages_sent < messages {
        for _ in 0..BATCH {
            // 150: a number no SSH specification assigns (192 would be OpenSSH's PING,
            // which a server ignores before authentication).
            if core
                .send_raw_message(vec![UNKNOWN_MESSAGE, 0, 0, 0, 0])
                .is_err()
            {
                return;
            }
        }
        out.clear();
        core.poll_transmit(&mut out);
        let mut rest = out.as_slice();
        while !rest.is_empty() {
            match sock.write(rest) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    o.sent += n as u64;
                    rest = rest.get(n..).unwrap_or_default();
                }
            }
        }
        o.messages_sent += BATCH;
    }
}

/// Waits, still not reading, for the server to close the connection (a FIN or a reset);
/// returns when, from `start`.
fn wait_closed(sock: &mut TcpStream, start: Instant, give_up: Duration) -> Option<Duration> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    while start.elapsed() < give_up {
        let mut fds = [PollFd::new(sock, PollFlags::RDHUP)];
        let tick = Timespec {
            tv_sec: 0,
            tv_nsec: 50_000_000,
        };
        let _ = poll(&mut fds, Some(&tick));
        let ended = PollFlags::RDHUP | PollFlags::HUP | PollFlags::ERR;
        if fds[0].revents().intersects(ended) {
            return Some(start.elapsed());
        }
    }
    None
}

/// A process's resident set size in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmRSS:").map(|k| k * 1024)
}

/// A process's peak resident set size in bytes (`VmHWM` of `/proc/<pid>/status`).
pub fn peak_rss_bytes(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:").map(|k| k * 1024)
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
