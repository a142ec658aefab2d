//! The blocking server: a listener, a thread per connection, and the shared [`Handler`] that
//! makes the decisions on the connection's thread. Anything long (a command, a shell) runs
//! on a thread of its own, talking to the client through a
//! [`ServerChannel`](crate::ServerChannel) (`Read`/`Write`).

use crate::io_loop::IoLoop;
use seashell_adapter::{Error, Handler, Pump, Shared};
use seashell_proto::ServerConnection;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Instant;

/// A listening SSH server.
pub struct Server {
    listener: TcpListener,
    config: Arc<seashell_proto::ServerConfig>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `addr` (`127.0.0.1:0` picks a free port).
    pub fn bind(addr: &str, config: seashell_proto::ServerConfig) -> Result<Server, Error> {
        config.validate()?;
        Ok(Server {
            listener: TcpListener::bind(addr)?,
            config: Arc::new(config),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr()?)
    }

    /// Accepts connections forever, each on its own thread with a handler from `make`. A
    /// failed `accept` (a connection reset before it was taken, descriptors exhausted) is
    /// retried after a short pause rather than ending the server.
    pub fn run<H: Handler>(&self, mut make: impl FnMut(SocketAddr) -> H) -> Result<(), Error> {
        loop {
            let (sock, peer) = match self.listener.accept() {
                Ok(x) => x,
                Err(_) => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    continue;
                }
            };
            let handler = make(peer);
            let config = self.config.clone();
            std::thread::spawn(move || {
                let _ = serve_connection(sock, config, handler);
            });
        }
    }

    /// Accepts one connection and serves it on this thread (tests, examples).
    pub fn serve_one<H: Handler>(&self, handler: H) -> Result<(), Error> {
        let (sock, _) = self.listener.accept()?;
        serve_connection(sock, self.config.clone(), handler)
    }
}

/// Serves one accepted connection on this thread until it ends.
pub fn serve_connection<H: Handler>(
    sock: TcpStream,
    config: Arc<seashell_proto::ServerConfig>,
    handler: H,
) -> Result<(), Error> {
    let core = ServerConnection::new(config, Instant::now())?;
    let shared = Shared::new(Box::new(core));
    let pump = Pump::server(shared, handler);
    IoLoop::new(pump, sock)?.forwarding_later().run()
}
