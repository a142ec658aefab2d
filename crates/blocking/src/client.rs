//! Connecting and authenticating: the TCP connection, the connection's I/O thread, then the
//! shared handshake policy ([`Handshake`]) waited for on the calling thread.

use crate::io_loop::IoLoop;
use crate::session::Session;
use seashell_adapter::{
    ClientConfig, Error, Handshake, Pump, SessionRef, Shared, block_on, split_host_port,
};
use seashell_proto::ClientConnection;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

/// Entry point: opens authenticated sessions.
#[derive(Debug)]
pub struct Client;

impl Client {
    /// Connects to `host` the way `ssh host` does, with every default on: ssh_config
    /// (`~/.ssh/config`, then `/etc/ssh/ssh_config`: `HostName`, `Port`, `User`,
    /// `IdentityFile`, algorithms, …) resolves it, known_hosts checks the host key, and the
    /// agent (`SSH_AUTH_SOCK`) and the identity files (default `~/.ssh/id_ed25519`,
    /// `id_ecdsa`, `id_rsa`; passphrase-protected ones through the agent only) authenticate.
    ///
    /// # Errors
    /// A configuration error as an `io::Error` of kind `InvalidInput` (also when the host is
    /// routed through `ProxyJump`: use [`connect_via`](Self::connect_via)); otherwise as
    /// [`connect`](Self::connect).
    pub fn connect_host(host: &str) -> Result<Session, Error> {
        let target = seashell_adapter::ssh_config::SshConfigTarget::resolve(
            host,
            &seashell_config::SshConfigFiles::Default,
        )?;
        let addr = target.direct_address()?;
        Client::connect(&addr, target.config)
    }

    /// Connects to `addr` (`host:port`, `[v6]:port`, or a host alone for port 22), verifies
    /// the host key with the configured policy, and authenticates with the configured keys,
    /// then password.
    pub fn connect(addr: &str, config: ClientConfig) -> Result<Session, Error> {
        let (host, port) = split_host_port(addr);
        let mut last_err = None;
        let mut sock = None;
        for a in (host.as_str(), port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&a, config.connect_timeout) {
                Ok(s) => {
                    sock = Some(s);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let sock = match (sock, last_err) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(e.into()),
            (None, None) => {
                return Err(Error::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{host}: no address"),
                )));
            }
        };
        Client::handshake(sock, &host, port, config)
    }

    /// Runs the SSH handshake over an already connected socket (`host` and `port` name the
    /// server for the host-key policy). The socket stays in blocking mode: the connection's
    /// I/O thread reads and writes it without waiting, so a clone the caller keeps behaves
    /// as before.
    pub fn handshake(
        sock: TcpStream,
        host: &str,
        port: u16,
        config: ClientConfig,
    ) -> Result<Session, Error> {
        let conn =
            ClientConnection::new(Arc::new(config.core_config_for(host, port)), Instant::now())?;
        let shared = Shared::new(Box::new(conn));
        shared.set_peer(&format_args!("{host}:{port}"));
        // Counted before the I/O thread starts: if the handshake fails, dropping it ends the
        // connection.
        let session = SessionRef::new(shared.clone());
        IoLoop::new(Pump::client(shared), sock)?.spawn()?;
        let mut handshake = Handshake::new(host, port, config);
        block_on(|cx| handshake.poll(&session, cx))?;
        if session.shared().forwards_agent() {
            crate::forward::spawn_incoming_loop(session.shared());
        }
        Ok(Session::new(session))
    }
}
