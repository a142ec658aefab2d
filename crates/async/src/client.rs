//! Connecting and authenticating: the TCP connection, then the shared handshake policy
//! ([`Handshake`]) while the driver runs on its own task.

use crate::driver::Driver;
use crate::runtime::{AsyncSocket, Runtime};
use crate::session::Session;
use seashell_adapter::{ClientConfig, Error, Handshake, Pump, SessionRef, Shared, split_host_port};
use seashell_proto::ClientConnection;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

/// Entry point: opens authenticated sessions on runtime `R`. The bindings name it
/// `seashell_tokio::Client` and `seashell_smol::Client`.
#[derive(Debug)]
pub struct Client<R>(PhantomData<R>);

impl<R: Runtime + Default> Client<R> {
    /// Connects to `host` the way `ssh host` does, with every default on: ssh_config
    /// (`~/.ssh/config`, then `/etc/ssh/ssh_config`), known_hosts, the agent
    /// (`SSH_AUTH_SOCK`) and the identity files; as the blocking adapter's `connect_host`.
    /// The configuration files are read before the first `.await`.
    ///
    /// # Errors
    /// A configuration error as an `io::Error` of kind `InvalidInput` (also when the host is
    /// routed through `ProxyJump`: use [`connect_via`](Self::connect_via)); otherwise as
    /// [`connect`](Self::connect).
    pub async fn connect_host(host: &str) -> Result<Session, Error> {
        let target = seashell_adapter::ssh_config::SshConfigTarget::resolve(
            host,
            &seashell_config::SshConfigFiles::Default,
        )?;
        let addr = target.direct_address()?;
        Self::connect(&addr, target.config).await
    }

    /// Connects to `addr` (`host:port`, `[v6]:port`, or a host alone for port 22), verifies
    /// the host key with the configured policy, and authenticates with the configured keys,
    /// then password. The connection runs on a task spawned on `R`.
    pub async fn connect(addr: &str, config: ClientConfig) -> Result<Session, Error> {
        let runtime: Arc<dyn Runtime> = Arc::new(R::default());
        let (host, port) = split_host_port(addr);
        let connect = runtime.connect(host.clone(), port);
        let mut timer = runtime.new_timer(runtime.now() + config.connect_timeout);
        let mut connect = pin!(connect);
        let sock = poll_fn(|cx| {
            if let Poll::Ready(r) = connect.as_mut().poll(cx) {
                return Poll::Ready(r);
            }
            timer.as_mut().poll(cx).map(|()| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connecting to {addr} timed out"),
                ))
            })
        })
        .await?;
        handshake(runtime, sock, &host, port, config).await
    }

    /// Runs the SSH handshake over an already connected byte stream (for example a proxy
    /// tunnel); `host` and `port` name the server for the host-key policy.
    pub async fn handshake(
        sock: impl AsyncSocket,
        host: &str,
        port: u16,
        config: ClientConfig,
    ) -> Result<Session, Error> {
        handshake(Arc::new(R::default()), Box::new(sock), host, port, config).await
    }

    /// Connects to `host:port` through `via` (SSH over a `direct-tcpip` channel of an
    /// authenticated session: a jump host, ssh's `-J`). The new connection has its own
    /// configuration and host-key policy; hops chain by passing the previous session.
    pub async fn connect_via(
        via: &Session,
        addr: &str,
        config: ClientConfig,
    ) -> Result<Session, Error> {
        let (host, port) = split_host_port(addr);
        let channel = via.open_direct_tcpip(&host, port).await?;
        handshake(
            via.runtime().clone(),
            Box::new(channel),
            &host,
            port,
            config,
        )
        .await
    }
}

async fn handshake(
    runtime: Arc<dyn Runtime>,
    sock: Box<dyn AsyncSocket>,
    host: &str,
    port: u16,
    config: ClientConfig,
) -> Result<Session, Error> {
    let conn = ClientConnection::new(Arc::new(config.core_config_for(host, port)), runtime.now())?;
    let shared = Shared::new(Box::new(conn));
    shared.set_peer(&format_args!("{host}:{port}"));
    // Counted before the driver starts: if the handshake fails, dropping it ends the
    // connection.
    let session = SessionRef::new(shared.clone());
    let driver = Driver::new(Pump::client(shared), sock, runtime.clone());
    runtime.spawn(Box::pin(async move {
        let _ = driver.await;
    }));
    let mut handshake = Handshake::new(host, port, config);
    poll_fn(|cx| handshake.poll(&session, cx)).await?;
    if session.shared().forwards_agent() {
        crate::forward::spawn_incoming_loop(session.shared(), &runtime);
    }
    Ok(Session::new(session, runtime))
}
