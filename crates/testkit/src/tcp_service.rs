//! Local TCP services for forwarding tests: a *sink* that reads a stream to its end and
//! answers with the SHA-256 of what it read, and a *source* that sends a fixed number of
//! pattern bytes. With them a test checks a stream through a tunnel byte-exact at both ends:
//! the sender digests what it sent, the receiver what it got.

use ring::digest::{Context, SHA256};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;

/// Deterministic bytes with no short period, `len` of them, from `seed`.
pub fn pattern_chunk(seed: &mut u64, buf: &mut [u8]) {
    let mut x = *seed | 1;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    *seed = x;
}

/// The hex SHA-256 of `len` pattern bytes from `seed`, as [`send_pattern`] sends them.
pub fn pattern_digest(seed: u64, len: u64) -> String {
    let mut ctx = Context::new(&SHA256);
    let mut s = seed;
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        pattern_chunk(&mut s, &mut buf[..n]);
        ctx.update(&buf[..n]);
        left -= n as u64;
    }
    hex(ctx.finish().as_ref())
}

/// Writes `len` pattern bytes from `seed` to `w`.
pub fn send_pattern(w: &mut impl Write, seed: u64, len: u64) -> io::Result<()> {
    let mut s = seed;
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        pattern_chunk(&mut s, &mut buf[..n]);
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    w.flush()
}

/// Reads `r` to its end; returns the hex SHA-256 and the length.
pub fn digest_stream(r: &mut impl Read) -> io::Result<(String, u64)> {
    let mut ctx = Context::new(&SHA256);
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        ctx.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(ctx.finish().as_ref()), total))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a service does with each connection.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Read to EOF, then answer `"<hex sha256> <length>\n"` and close.
    Sink,
    /// Send this many pattern bytes from this seed, then close.
    Source {
        /// Pattern seed.
        seed: u64,
        /// Bytes to send.
        len: u64,
    },
    /// Echo everything back until EOF.
    Echo,
    /// Answer one HTTP request with `200 OK` and this body (for `curl` through a proxy).
    Http(&'static str),
}

/// A TCP service on `127.0.0.1`, serving connections on threads until dropped (the listener
/// thread ends with the process; each connection is short-lived).
#[derive(Debug)]
pub struct TcpService {
    addr: SocketAddr,
    _thread: JoinHandle<()>,
}

impl TcpService {
    /// Starts a service with `behaviour` on a free port.
    pub fn start(behaviour: Behaviour) -> io::Result<TcpService> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                std::thread::spawn(move || {
                    let _ = serve(conn, behaviour);
                });
            }
        });
        Ok(TcpService {
            addr,
            _thread: thread,
        })
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

fn serve(mut conn: TcpStream, behaviour: Behaviour) -> io::Result<()> {
    match behaviour {
        Behaviour::Sink => {
            let (digest, len) = digest_stream(&mut conn)?;
            conn.write_all(format!("{digest} {len}\n").as_bytes())?;
        }
        Behaviour::Source { seed, len } => send_pattern(&mut conn, seed, len)?,
        Behaviour::Echo => {
            let mut reader = conn.try_clone()?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                conn.write_all(&buf[..n])?;
            }
        }
        Behaviour::Http(body) => {
            // Read the request head (bounded), then answer.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                if conn.read(&mut byte)? == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let reply = format!(
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            conn.write_all(reply.as_bytes())?;
        }
    }
    conn.shutdown(Shutdown::Write)
}

/// Sends `len` pattern bytes to a sink at `addr` (through whatever tunnel listens there) and
/// checks the digest it answers against the one of what was sent. Returns the length.
pub fn check_sink(addr: &str, seed: u64, len: u64) -> Result<u64, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let mut reader = s.try_clone().map_err(|e| e.to_string())?;
    let answer = std::thread::spawn(move || {
        let mut text = String::new();
        reader.read_to_string(&mut text).map(|_| text)
    });
    send_pattern(&mut s, seed, len).map_err(|e| format!("send: {e}"))?;
    s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
    let text = answer
        .join()
        .map_err(|_| "reader panicked".to_string())?
        .map_err(|e| format!("read answer: {e}"))?;
    let want = format!("{} {len}\n", pattern_digest(seed, len));
    if text == want {
        Ok(len)
    } else {
        Err(format!("sink answered {text:?}, expected {want:?}"))
    }
}

/// Reads everything a source at `addr` sends and checks it against `len` pattern bytes from
/// `seed`.
pub fn check_source(addr: &str, seed: u64, len: u64) -> Result<u64, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let (digest, got) = digest_stream(&mut s).map_err(|e| format!("read: {e}"))?;
    let want = pattern_digest(seed, len);
    if got == len && digest == want {
        Ok(got)
    } else {
        Err(format!(
            "received {got} bytes with digest {digest}, expected {len} with {want}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_and_source_check_streams() {
        let sink = TcpService::start(Behaviour::Sink).unwrap();
        assert_eq!(
            check_sink(&sink.addr().to_string(), 7, 3_000_001),
            Ok(3_000_001)
        );
        let source = TcpService::start(Behaviour::Source {
            seed: 9,
            len: 1_000_003,
        })
        .unwrap();
        assert_eq!(
            check_source(&source.addr().to_string(), 9, 1_000_003),
            Ok(1_000_003)
        );
        assert!(check_source(&source.addr().to_string(), 10, 1_000_003).is_err());
    }
}
