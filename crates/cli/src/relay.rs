//! Moving bytes between a local stream and an SSH channel, both ways at once: the local
//! socket of a forwarded connection (`-L`), or stdin and stdout (`-W`).
//!
//! Each direction is a plain read/write loop (no `io::copy`, which may splice between
//! descriptors). The end of the local input becomes an EOF on the channel; the channel's EOF
//! ends the local output. The channel closes once every handle on it is dropped, so the
//! direction still running keeps it open until it has finished.

use seashell_blocking::Channel;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The buffer size of each direction.
const CHUNK: usize = 256 * 1024;

/// Forwarded connections still relaying (both directions counted once per connection).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// How many forwarded connections are still open.
pub fn active() -> usize {
    ACTIVE.load(Ordering::SeqCst)
}

/// A local stream a forward accepted: TCP or a Unix-domain socket.
#[derive(Debug)]
pub enum LocalStream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix-domain socket connection.
    Unix(UnixStream),
}

impl LocalStream {
    fn try_clone(&self) -> io::Result<LocalStream> {
        match self {
            LocalStream::Tcp(s) => s.try_clone().map(LocalStream::Tcp),
            LocalStream::Unix(s) => s.try_clone().map(LocalStream::Unix),
        }
    }

    fn shutdown(&self, how: Shutdown) {
        let _ = match self {
            LocalStream::Tcp(s) => s.shutdown(how),
            LocalStream::Unix(s) => s.shutdown(how),
        };
    }
}

impl Read for LocalStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            LocalStream::Tcp(s) => s.read(buf),
            LocalStream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for LocalStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LocalStream::Tcp(s) => s.write(buf),
            LocalStream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Copies `from` into `to` until `from` ends (`Ok`) or either side fails.
pub fn copy_until_end(from: &mut impl Read, to: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => to.write_all(buf.get(..n).unwrap_or_default())?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Starts copying `input` to the channel on a thread of its own; at the end of `input` (or
/// when the channel stops taking data) the channel gets an EOF.
pub fn spawn_upload(mut input: impl Read + Send + 'static, channel: &Channel) {
    let ours = channel.clone();
    let started = std::thread::Builder::new()
        .name("seashell-upload".into())
        .spawn(move || {
            let _ = copy_until_end(&mut input, &mut &ours);
            let _ = ours.send_eof();
        });
    if started.is_err() {
        let _ = channel.close();
    }
}

/// Relays a forwarded connection until both directions have ended: the upload runs on a
/// thread of its own, the download on this one.
pub fn relay(local: LocalStream, channel: Channel) {
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            ACTIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let _done = Done;
    let Ok(upload) = local.try_clone() else {
        let _ = channel.close();
        return;
    };
    spawn_upload(upload, &channel);
    let mut download = local;
    if copy_until_end(&mut &channel, &mut download).is_err() {
        // The local side went away: nothing more can reach it.
        download.shutdown(Shutdown::Both);
        let _ = channel.close();
        return;
    }
    download.shutdown(Shutdown::Write);
    // The channel closes when the upload, which holds the other handle, has finished too.
    let _ = channel.wait();
}
