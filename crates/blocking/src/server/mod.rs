//! The blocking server: a listener, a thread per connection, and a [`Handler`] that makes the
//! decisions. The handler is called on the connection's thread and must answer quickly;
//! anything long (a command, a shell) runs on a thread of its own that talks to the client
//! through a [`ServerChannel`].

mod channel;
mod conn;

pub use channel::{ChannelReader, ChannelWriter, ServerChannel};

use crate::Error;
use seashell_proto::{AuthAttempt, AuthDecision, PublicKey, SessionRequestKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

/// The application's side of a server connection. Every method has a safe default: refuse.
pub trait Handler: Send + 'static {
    /// Decides an authentication attempt by `user`. Signatures are already verified by the
    /// core: [`AuthAttempt::PublicKey`] means the client holds that key.
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        let _ = (user, attempt);
        AuthDecision::Reject
    }

    /// The algorithms the key exchange chose, told once when the client authenticates
    /// (just before [`authenticated`](Self::authenticated)); for logging.
    fn negotiated(&mut self, algorithms: &seashell_proto::kex::negotiate::Negotiated) {
        let _ = algorithms;
    }

    /// The client authenticated as `user` (with `key` when the last proof was a key).
    fn authenticated(&mut self, user: &str, key: Option<&PublicKey>) {
        let _ = (user, key);
    }

    /// A channel is closed in both directions; forget anything kept for it.
    fn channel_closed(&mut self, channel: seashell_proto::ChannelId) {
        let _ = channel;
    }

    /// A request on a session channel: exec, shell, pty-req, env, subsystem, window-change,
    /// signal. Return whether it is accepted. For exec, shell and subsystem, accepting means
    /// the handler now drives `channel` (typically from a thread it spawns) and ends it with
    /// [`ServerChannel::exit`].
    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        let _ = (channel, request);
        false
    }
}

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

/// Serves one accepted connection until it ends.
pub fn serve_connection<H: Handler>(
    sock: TcpStream,
    config: Arc<seashell_proto::ServerConfig>,
    handler: H,
) -> Result<(), Error> {
    conn::Connection::new(sock, config, handler)?.run()
}
