//! A delaying TCP relay on loopback: a long link without `tc netem`.
//!
//! [`Relay::start`] listens on `127.0.0.1:0`; each connection it accepts is joined to a new
//! connection to the target. Each direction is a delay line: a reader thread reads what
//! arrives (at most [`CHUNK`] bytes at a time), stamps it with the time it arrived and queues
//! it; a writer thread sends each chunk once its stamp is `delay` old. A round trip through
//! the relay therefore takes `2 × delay` more than without it. The queue holds up to
//! `buffer` bytes per direction; the reader waits (and TCP pushes back on the sender) only
//! beyond that, so with a buffer above the bandwidth-delay product the relay is never what
//! limits a transfer. An end of stream is passed on (as a write shutdown) after the data
//! before it, with the same delay.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// The most bytes one read takes from a socket (one queued chunk).
pub const CHUNK: usize = 256 * 1024;

/// The default buffer per direction: 64 MiB, over 1 GB/s × 50 ms.
pub const DEFAULT_BUFFER: usize = 64 * 1024 * 1024;

/// A running relay; dropping it stops accepting (connections in progress run to their end).
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Relay {
    /// Listens on `127.0.0.1:0` and relays every connection to `target`, delaying each
    /// direction by `one_way`, with up to `buffer` bytes queued per direction.
    pub fn start(target: SocketAddr, one_way: Duration, buffer: usize) -> io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        thread::Builder::new()
            .name("relay-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if flag.load(Ordering::Acquire) {
                        break;
                    }
                    let Ok(client) = conn else { continue };
                    if let Err(e) = join(client, target, one_way, buffer.max(CHUNK)) {
                        eprintln!("relay: connecting to {target}: {e}");
                    }
                }
            })?;
        Ok(Relay { addr, stop })
    }

    /// The address to connect to instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Connects to `target` and starts both delay lines between it and `client`.
fn join(client: TcpStream, target: SocketAddr, delay: Duration, buffer: usize) -> io::Result<()> {
    let server = TcpStream::connect(target)?;
    for s in [&client, &server] {
        s.set_nodelay(true)?;
    }
    let (c2, s2) = (client.try_clone()?, server.try_clone()?);
    DelayLine::spawn(client, server, delay, buffer)?;
    DelayLine::spawn(s2, c2, delay, buffer)?;
    Ok(())
}

/// What a delay line holds.
#[derive(Debug, Default)]
struct Queue {
    /// Chunks with the time they arrived.
    chunks: VecDeque<(Instant, Vec<u8>)>,
    /// Bytes in `chunks`.
    bytes: usize,
    /// The source ended (at this time): shut the destination down after the chunks.
    eof: Option<Instant>,
    /// The destination failed: the reader stops.
    broken: bool,
}

/// One direction of a relayed connection.
#[derive(Debug, Default)]
struct DelayLine {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl DelayLine {
    /// Starts the reader (from `src`) and writer (to `dst`) threads of one direction.
    fn spawn(src: TcpStream, dst: TcpStream, delay: Duration, buffer: usize) -> io::Result<()> {
        let line = Arc::new(DelayLine::default());
        let reader = Arc::clone(&line);
        thread::Builder::new()
            .name("relay-read".into())
            .spawn(move || reader.read_from(src, buffer))?;
        thread::Builder::new()
            .name("relay-write".into())
            .spawn(move || line.write_to(dst, delay))?;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads `src` into the queue until EOF, an error, or a broken destination.
    fn read_from(&self, mut src: TcpStream, buffer: usize) {
        let mut buf = vec![0; CHUNK];
        loop {
            let n = src.read(&mut buf).unwrap_or(0);
            let now = Instant::now();
            let mut q = self.lock();
            if n == 0 {
                q.eof = Some(now);
                self.changed.notify_all();
                return;
            }
            while q.bytes + n > buffer && !q.broken {
                q = self.changed.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            if q.broken {
                let _ = src.shutdown(Shutdown::Read);
                return;
            }
            q.bytes += n;
            q.chunks.push_back((now, buf[..n].to_vec()));
            self.changed.notify_all();
        }
    }

    /// Writes each chunk to `dst` once it is `delay` old; shuts `dst` down after EOF.
    fn write_to(&self, mut dst: TcpStream, delay: Duration) {
        loop {
            let (at, data) = {
                let mut q = self.lock();
                loop {
                    if let Some(chunk) = q.chunks.pop_front() {
                        break chunk;
                    }
                    if let Some(at) = q.eof {
                        drop(q);
                        sleep_until(at + delay);
                        let _ = dst.shutdown(Shutdown::Write);
                        return;
                    }
                    q = self.changed.wait(q).unwrap_or_else(|p| p.into_inner());
                }
            };
            sleep_until(at + delay);
            let sent = dst.write_all(&data);
            let mut q = self.lock();
            // Counted until written, so the buffer bounds what the relay holds.
            q.bytes -= data.len();
            q.broken |= sent.is_err();
            self.changed.notify_all();
            if sent.is_err() {
                let _ = dst.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

/// Sleeps until `at` (no sleep if it has passed).
fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        thread::sleep(at - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seashell_testkit::tcp_service::{Behaviour, TcpService};

    #[test]
    fn a_round_trip_takes_twice_the_delay() {
        let echo = TcpService::start(Behaviour::Echo).unwrap();
        let relay = Relay::start(echo.addr(), Duration::from_millis(40), DEFAULT_BUFFER).unwrap();
        let mut s = TcpStream::connect(relay.addr()).unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        for i in 0..3u8 {
            let start = Instant::now();
            s.write_all(&[i]).unwrap();
            s.read_exact(&mut b).unwrap();
            let rtt = start.elapsed();
            assert_eq!(b[0], i);
            assert!(rtt >= Duration::from_millis(80), "{rtt:?}");
            assert!(rtt < Duration::from_millis(400), "{rtt:?}");
        }
    }

    #[test]
    fn bytes_pass_exactly_both_ways_and_eof_follows() {
        let echo = TcpService::start(Behaviour::Echo).unwrap();
        let relay = Relay::start(echo.addr(), Duration::from_millis(5), 1 << 20).unwrap();
        let s = TcpStream::connect(relay.addr()).unwrap();
        let mut seed = 7u64;
        let mut data = vec![0u8; 8 << 20];
        seashell_testkit::tcp_service::pattern_chunk(&mut seed, &mut data);
        let mut w = s.try_clone().unwrap();
        let sent = data.clone();
        // A buffer far smaller than the data: the reader waits for the writer.
        let writer = thread::spawn(move || {
            w.write_all(&sent).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut back = Vec::new();
        (&s).read_to_end(&mut back).unwrap();
        writer.join().unwrap();
        assert_eq!(back.len(), data.len());
        assert!(back == data, "bytes differ");
    }
}
