//! What the driver needs from an async runtime: timers, spawning, and TCP sockets. A binding
//! (seashell-tokio, seashell-smol) implements [`Runtime`] in about a hundred lines.

use futures_io::{AsyncRead, AsyncWrite};
use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A byte stream the driver can own: a TCP connection, or anything else that reads and
/// writes bytes (a pipe, an in-memory duplex, a proxy tunnel).
pub trait AsyncSocket: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> AsyncSocket for T {}

/// A timer the driver re-arms to the core's next deadline.
pub trait AsyncTimer: Send + Debug + 'static {
    /// Moves the deadline to `at`.
    fn reset(self: Pin<&mut Self>, at: Instant);

    /// Ready once the deadline has passed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
}

/// A listening socket.
pub trait AsyncListener: Send + Sync + Debug + 'static {
    /// Accepts the next connection.
    fn accept(&self) -> BoxFuture<'_, io::Result<(Box<dyn AsyncSocket>, SocketAddr)>>;

    /// The address it listens on.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// An async runtime, as the driver sees it.
///
/// `Default` builds the runtime handle the bindings' `Client` and `Server` use; it is cheap
/// (a unit struct in both bindings).
pub trait Runtime: Send + Sync + Debug + 'static {
    /// A timer that fires at `at`.
    fn new_timer(&self, at: Instant) -> Pin<Box<dyn AsyncTimer>>;

    /// Runs `future` in the background (the connection driver, the accept loop's
    /// connections).
    fn spawn(&self, future: BoxFuture<'static, ()>);

    /// Opens a TCP connection to `host:port` (resolving the name), with `TCP_NODELAY` set.
    fn connect(
        &self,
        host: String,
        port: u16,
    ) -> BoxFuture<'static, io::Result<Box<dyn AsyncSocket>>>;

    /// Connects to the Unix socket at `path` (forwarding to and from Unix sockets). The
    /// default refuses: a runtime without Unix sockets.
    fn connect_unix(
        &self,
        path: std::path::PathBuf,
    ) -> BoxFuture<'static, io::Result<Box<dyn AsyncSocket>>> {
        let _ = path;
        Box::pin(async { Err(io::ErrorKind::Unsupported.into()) })
    }

    /// Turns a bound (non-blocking) std listener into one this runtime can poll.
    fn listen(&self, listener: std::net::TcpListener) -> io::Result<Box<dyn AsyncListener>>;

    /// The current time; the core never reads a clock, the driver asks here. Override it to
    /// simulate time in tests.
    fn now(&self) -> Instant {
        Instant::now()
    }
}
