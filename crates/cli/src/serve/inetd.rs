//! `seashell serve -i`: one connection on stdin and stdout, as `sshd -i`. For inetd, socket
//! activation (systemd `Accept=yes`) and `ssh -o ProxyCommand="seashell serve -i ..."`.
//!
//! When stdin is a TCP socket (inetd, socket activation) the connection is served on it
//! directly, and the client's address is known. Otherwise (pipes from a `ProxyCommand`, a
//! Unix socket) the blocking server, which serves TCP streams, gets one end of a private
//! loopback connection and two threads copy bytes between it and stdin/stdout; the client's
//! address is then unknown (`UNKNOWN` port 65535, as `sshd -i` says).
//!
//! Nothing but the SSH stream is ever written to stdout: once the stream's descriptors are
//! taken, descriptors 0 and 1 are pointed at `/dev/null`, and the log goes to stderr or the
//! `-E` file.

use super::handler::{Endpoints, Policy, ServeHandler};
use seashell_proto::ServerConfig;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Connections from other local processes tolerated (and dropped) on the private loopback
/// listener before ours is accepted.
const MAX_STRANGERS: usize = 16;

/// Bytes moved per read by the relay threads.
const COPY_CHUNK: usize = 64 * 1024;

/// Serves the one connection on stdin/stdout until it ends.
pub fn serve_stdio(config: ServerConfig, policy: Arc<Policy>) -> Result<(), String> {
    let (input, output) = take_stdio().map_err(|e| format!("inetd mode: {e}"))?;
    let config = Arc::new(config);
    let log = policy.log;
    if let Some(sock) = tcp_socket(&input) {
        drop((input, output));
        let ends = Endpoints {
            peer: sock.peer_addr().ok(),
            local: sock.local_addr().ok(),
        };
        log.debug(&format!("inetd mode: serving {} on stdin", ends.label()));
        let handler = ServeHandler::with_endpoints(policy, ends);
        return seashell_blocking::serve_connection(sock, config, handler)
            .map_err(|e| format!("connection ended: {e}"));
    }
    log.debug("inetd mode: stdin is not a TCP socket; relaying stdin/stdout");
    let (sock, out) = relay(input, output).map_err(|e| format!("inetd mode: {e}"))?;
    let ends = Endpoints {
        peer: None,
        local: None,
    };
    let handler = ServeHandler::with_endpoints(policy, ends);
    let result = seashell_blocking::serve_connection(sock, config, handler);
    // Everything the server wrote must reach stdout before the process ends.
    let _ = out.join();
    result.map_err(|e| format!("connection ended: {e}"))
}

/// Copies of descriptors 0 and 1, which then point at `/dev/null`: the copies are the only
/// references to the stream, so it closes when the connection ends, and a stray write to
/// stdout cannot corrupt it.
fn take_stdio() -> io::Result<(OwnedFd, OwnedFd)> {
    let input = io::stdin().as_fd().try_clone_to_owned()?;
    let output = io::stdout().as_fd().try_clone_to_owned()?;
    let null = File::options().read(true).write(true).open("/dev/null")?;
    rustix::stdio::dup2_stdin(&null)?;
    rustix::stdio::dup2_stdout(&null)?;
    Ok((input, output))
}

/// `input` as a TCP stream, if it is a connected TCP socket.
fn tcp_socket(input: &OwnedFd) -> Option<TcpStream> {
    let sock = TcpStream::from(input.try_clone().ok()?);
    // getsockname fails on a pipe (ENOTSOCK), and std refuses a Unix socket's address.
    (sock.local_addr().is_ok() && sock.peer_addr().is_ok()).then_some(sock)
}

/// A connected pair of loopback TCP streams `(ours, theirs)`. Only a connection whose
/// source is our own socket is accepted, so another local process that connects to the
/// listener in the meantime does not get in.
fn loopback_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let ours = TcpStream::connect(listener.local_addr()?)?;
    let want: SocketAddr = ours.local_addr()?;
    for _ in 0..=MAX_STRANGERS {
        let (theirs, from) = listener.accept()?;
        if from == want {
            return Ok((ours, theirs));
        }
    }
    Err(io::Error::other(
        "other processes kept connecting to the private loopback listener",
    ))
}

/// Starts the two copying threads between stdin/stdout and a loopback connection; returns
/// the server's end and the thread writing to stdout (it ends when the server closes).
fn relay(input: OwnedFd, output: OwnedFd) -> io::Result<(TcpStream, JoinHandle<()>)> {
    let (ours, theirs) = loopback_pair()?;
    let mut to_server = ours.try_clone()?;
    let mut from_server = ours;
    let mut input = File::from(input);
    let mut output = File::from(output);
    // The client's EOF becomes the server's EOF; the thread is not waited for (it may sit
    // in a read of stdin when the server ends first).
    std::thread::Builder::new()
        .name("serve-i-in".into())
        .spawn(move || {
            let _ = copy(&mut input, &mut to_server);
            let _ = to_server.shutdown(Shutdown::Write);
        })?;
    let out = std::thread::Builder::new()
        .name("serve-i-out".into())
        .spawn(move || {
            let _ = copy(&mut from_server, &mut output);
        })?;
    Ok((theirs, out))
}

/// Copies until EOF with plain reads and writes. Not `io::copy`: between a socket and a
/// pipe it uses `splice(2)`, and Linux holds the pipe's lock while such a splice waits for
/// the socket, so the process reading the other end of our stdout (`ssh` running us as
/// its `ProxyCommand`) blocks until more data arrives: the handshake stalls.
fn copy(src: &mut impl Read, dst: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_CHUNK];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        dst.write_all(buf.get(..n).unwrap_or_default())?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_pair_is_connected_both_ways() {
        let (mut a, mut b) = loopback_pair().unwrap();
        a.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        b.write_all(b"pong").unwrap();
        a.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
        assert_eq!(a.local_addr().unwrap(), b.peer_addr().unwrap());
    }

    #[test]
    fn copy_moves_everything() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        copy(&mut data.as_slice(), &mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn a_pipe_is_not_a_tcp_socket_and_a_tcp_stream_is() {
        let (r, _w) = std::io::pipe().unwrap();
        assert!(tcp_socket(&OwnedFd::from(r)).is_none());
        let (a, _b) = loopback_pair().unwrap();
        assert!(tcp_socket(&OwnedFd::from(a)).is_some());
        let (u, _v) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(tcp_socket(&OwnedFd::from(u)).is_none());
    }
}
