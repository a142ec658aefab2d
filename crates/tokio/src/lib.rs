//! # seashell-tokio: Seashell on tokio
//!
//! A thin binding of [`seashell_async`]: the [`Runtime`] implementation for tokio (timers,
//! `tokio::spawn`, `tokio::net` sockets) and the names of the async API with it filled in.
//! Channels implement tokio's `AsyncRead`/`AsyncWrite`.
//!
//! ```no_run
//! use seashell_tokio::{Client, ClientConfig};
//! # async fn run() -> Result<(), seashell_tokio::Error> {
//! let config = ClientConfig::new("me").key_file("/home/me/.ssh/id_ed25519")?;
//! let session = Client::connect("example.org:22", config).await?;
//! let out = session.exec("uname -a").await?;
//! print!("{}", String::from_utf8_lossy(&out.stdout));
//! # Ok(()) }
//! ```
//!
//! Everything must run inside a tokio runtime (with the I/O and time drivers enabled).

use seashell_async::{AsyncListener, AsyncSocket, AsyncTimer, BoxFuture, Runtime};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio_util::compat::TokioAsyncReadCompatExt;

pub use seashell_async::{
    AuthQueue, Channel, ChannelReader, ChannelWriter, ClientConfig, Error, ExitStatus, Forward,
    ForwardTarget, Handler, HostKeyPolicy, HostKeyVerifier, Output, PasswordPrompt, PendingAuth,
    PtyRequest, ServerChannel, Session, SessionBuilder, ShutdownHandle, Stderr,
    StrictHostKeyChecking, proto, sftp,
};

/// Opens authenticated sessions: `Client::connect(addr, config).await`.
pub type Client = seashell_async::Client<TokioRuntime>;

/// A listening SSH server: `Server::bind(addr, config)?.run(|peer| handler).await`.
pub type Server = seashell_async::Server<TokioRuntime>;

/// The tokio runtime, as the driver sees it. It uses the runtime the caller runs in.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioRuntime;

impl Runtime for TokioRuntime {
    fn new_timer(&self, at: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(Timer(Box::pin(tokio::time::sleep_until(at.into()))))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        tokio::spawn(future);
    }

    fn connect(
        &self,
        host: String,
        port: u16,
    ) -> BoxFuture<'static, io::Result<Box<dyn AsyncSocket>>> {
        Box::pin(async move {
            let sock = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            wrap(sock)
        })
    }

    fn connect_unix(
        &self,
        path: std::path::PathBuf,
    ) -> BoxFuture<'static, io::Result<Box<dyn AsyncSocket>>> {
        Box::pin(async move {
            let sock = tokio::net::UnixStream::connect(path).await?;
            Ok(Box::new(sock.compat()) as Box<dyn AsyncSocket>)
        })
    }

    fn listen(&self, listener: std::net::TcpListener) -> io::Result<Box<dyn AsyncListener>> {
        Ok(Box::new(Listener(tokio::net::TcpListener::from_std(
            listener,
        )?)))
    }
}

/// A tokio stream as the driver's futures-io socket, with `TCP_NODELAY`.
fn wrap(sock: tokio::net::TcpStream) -> io::Result<Box<dyn AsyncSocket>> {
    sock.set_nodelay(true)?;
    Ok(Box::new(sock.compat()))
}

#[derive(Debug)]
struct Timer(Pin<Box<tokio::time::Sleep>>);

impl AsyncTimer for Timer {
    fn reset(self: Pin<&mut Self>, at: Instant) {
        self.get_mut().0.as_mut().reset(at.into());
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.as_mut().poll(cx)
    }
}

#[derive(Debug)]
struct Listener(tokio::net::TcpListener);

impl AsyncListener for Listener {
    fn accept(&self) -> BoxFuture<'_, io::Result<(Box<dyn AsyncSocket>, SocketAddr)>> {
        Box::pin(async move {
            let (sock, peer) = self.0.accept().await?;
            Ok((wrap(sock)?, peer))
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}
