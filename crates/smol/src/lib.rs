//! # seashell-smol: Seashell on smol
//!
//! A thin binding of [`seashell_async`]: the [`Runtime`] implementation for smol (async-io
//! timers and sockets, `smol::spawn`) and the names of the async API with it filled in.
//! Channels implement futures-io's `AsyncRead`/`AsyncWrite`.
//!
//! ```no_run
//! use seashell_smol::{Client, ClientConfig};
//! # fn main() -> Result<(), seashell_smol::Error> {
//! smol::block_on(async {
//!     let config = ClientConfig::new("me").key_file("/home/me/.ssh/id_ed25519")?;
//!     let session = Client::connect("example.org:22", config).await?;
//!     let out = session.exec("uname -a").await?;
//!     print!("{}", String::from_utf8_lossy(&out.stdout));
//!     Ok(())
//! })
//! # }
//! ```
//!
//! Connection drivers and server connections run on smol's global executor.

use seashell_async::{AsyncListener, AsyncSocket, AsyncTimer, BoxFuture, Runtime};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

pub use seashell_async::{
    AuthQueue, Channel, ChannelReader, ChannelWriter, ClientConfig, Error, ExitStatus, Forward,
    ForwardTarget, Handler, HostKeyPolicy, HostKeyVerifier, Output, PasswordPrompt, PendingAuth,
    PtyRequest, ServerChannel, Session, SessionBuilder, ShutdownHandle, Stderr,
    StrictHostKeyChecking, proto, sftp,
};

/// Opens authenticated sessions: `Client::connect(addr, config).await`.
pub type Client = seashell_async::Client<SmolRuntime>;

/// A listening SSH server: `Server::bind(addr, config)?.run(|peer| handler).await`.
pub type Server = seashell_async::Server<SmolRuntime>;

/// The smol runtime, as the driver sees it.
#[derive(Debug, Default, Clone, Copy)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    fn new_timer(&self, at: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(Timer(async_io::Timer::at(at)))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        smol::spawn(future).detach();
    }

    fn connect(
        &self,
        host: String,
        port: u16,
    ) -> BoxFuture<'static, io::Result<Box<dyn AsyncSocket>>> {
        Box::pin(async move {
            let sock = async_net::TcpStream::connect((host.as_str(), port)).await?;
            wrap(sock)
        })
    }

    fn connect_unix(
        &self,
        path: std::path::PathBuf,
    ) -> BoxFuture<'static, io::Result<Box<dyn AsyncSocket>>> {
        Box::pin(async move {
            let sock = async_net::unix::UnixStream::connect(path).await?;
            Ok(Box::new(sock) as Box<dyn AsyncSocket>)
        })
    }

    fn listen(&self, listener: std::net::TcpListener) -> io::Result<Box<dyn AsyncListener>> {
        Ok(Box::new(Listener(async_net::TcpListener::try_from(
            listener,
        )?)))
    }
}

/// An async-net stream as the driver's socket, with `TCP_NODELAY`.
fn wrap(sock: async_net::TcpStream) -> io::Result<Box<dyn AsyncSocket>> {
    sock.set_nodelay(true)?;
    Ok(Box::new(sock))
}

#[derive(Debug)]
struct Timer(async_io::Timer);

impl AsyncTimer for Timer {
    fn reset(self: Pin<&mut Self>, at: Instant) {
        self.get_mut().0.set_at(at);
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx).map(|_| ())
    }
}

#[derive(Debug)]
struct Listener(async_net::TcpListener);

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
