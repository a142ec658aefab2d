//! The async server: a listener, a task per connection, and the shared [`Handler`] that makes
//! the decisions on the connection's task. Anything long (a command, a shell) runs on a task
//! the handler spawns, talking to the client through a [`ServerChannel`](crate::ServerChannel)
//! (`AsyncRead`/`AsyncWrite`).

use crate::driver::Driver;
use crate::runtime::{AsyncListener, AsyncSocket, Runtime};
use futures_io::AsyncWrite;
use seashell_adapter::{
    AcceptBackoff, CLOSING_WRITE_TIMEOUT, ConnectionGate, Connections, Error, Gate, Handler, Pump,
    REFUSAL_MESSAGE, Shared, ShutdownHandle,
};
use seashell_proto::ServerConnection;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// A listening SSH server on runtime `R`. The bindings name it `seashell_tokio::Server` and
/// `seashell_smol::Server`.
pub struct Server<R> {
    listener: Box<dyn AsyncListener>,
    config: Arc<seashell_proto::ServerConfig>,
    runtime: Arc<dyn Runtime>,
    shutdown: ShutdownHandle,
    gate: Arc<Gate>,
    _runtime: PhantomData<R>,
}

impl<R> std::fmt::Debug for Server<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime + Default> Server<R> {
    /// Binds `addr` (`127.0.0.1:0` picks a free port). Call it inside the runtime.
    pub fn bind(addr: &str, config: seashell_proto::ServerConfig) -> Result<Server<R>, Error> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let listener = R::default().listen(std_listener)?;
        Server::from_listener(listener, config)
    }

    /// Serves on any listener: one of the runtime's ([`Runtime::listen`] on a socket bound
    /// elsewhere), or one of the application's own.
    pub fn from_listener(
        listener: Box<dyn AsyncListener>,
        config: seashell_proto::ServerConfig,
    ) -> Result<Server<R>, Error> {
        config.validate()?;
        Ok(Server {
            listener,
            config: Arc::new(config),
            runtime: Arc::new(R::default()),
            shutdown: ShutdownHandle::new(Connections::new()),
            gate: Arc::new(Gate::default()),
            _runtime: PhantomData,
        })
    }

    /// Admits connections through `gate` (admission control, counters) instead of the
    /// default, sshd's limits (`MaxStartups 10:30:100`, `PerSourcePenalties` on).
    pub fn with_gate(mut self, gate: Gate) -> Server<R> {
        self.gate = Arc::new(gate);
        self
    }

    /// The gate connections pass: its counters ([`Gate::metrics`]) and admission state.
    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    /// A handle that stops [`run`](Self::run) gracefully from another task or thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr()?)
    }

    /// Accepts connections until [`ShutdownHandle::shutdown`], each on its own task with a
    /// handler from `make`; then lets the live sessions end for the drain time, disconnects
    /// the rest and returns.
    ///
    /// A failed `accept` does not end the server: a connection aborted in the backlog is
    /// skipped, and while descriptors or memory are exhausted (`EMFILE`, `ENFILE`) the loop
    /// pauses, longer each time up to a second ([`AcceptBackoff`]). Only a broken listener
    /// (`EBADF`, `EINVAL`) returns an error.
    pub async fn run<H: Handler>(
        &self,
        mut make: impl FnMut(SocketAddr) -> H,
    ) -> Result<(), Error> {
        let connections = self.shutdown.connections().clone();
        let mut backoff = AcceptBackoff::new();
        loop {
            let accepted = {
                let mut accept = self.listener.accept();
                poll_fn(|cx| {
                    if connections.poll_stopping(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                    accept.as_mut().poll(cx).map(Some)
                })
                .await
            };
            let pause = match accepted {
                None => break,
                Some(Ok((mut sock, peer))) => {
                    backoff.accepted();
                    let gate = match self.gate.admit(peer, self.runtime.now()) {
                        Ok(gate) => gate,
                        Err(_refused) => {
                            // Best effort: a fresh socket's buffer always takes these bytes.
                            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                            let _ =
                                std::pin::Pin::new(&mut sock).poll_write(&mut cx, REFUSAL_MESSAGE);
                            let _ = std::pin::Pin::new(&mut sock).poll_close(&mut cx);
                            continue;
                        }
                    };
                    let handler = make(peer);
                    let fut = serve(
                        self.runtime.clone(),
                        sock,
                        self.config.clone(),
                        handler,
                        Some((connections.clone(), gate)),
                    );
                    self.runtime.spawn(Box::pin(async move {
                        let _ = fut.await;
                    }));
                    continue;
                }
                Some(Err(e)) => backoff.failed(e)?,
            };
            if !pause.is_zero() {
                self.sleep_unless_stopping(pause).await;
            }
        }
        self.drain().await;
        Ok(())
    }

    /// Sleeps for `pause`, or less if the shutdown starts.
    async fn sleep_unless_stopping(&self, pause: Duration) {
        self.wait_until(self.runtime.now() + pause, |c, cx| c.poll_stopping(cx))
            .await;
    }

    /// Waits until `at` or until `done` is ready, whichever is first.
    async fn wait_until(
        &self,
        at: Instant,
        done: impl Fn(&Connections, &mut std::task::Context<'_>) -> Poll<()>,
    ) {
        let connections = self.shutdown.connections();
        let mut timer = self.runtime.new_timer(at);
        poll_fn(|cx| {
            if done(connections, cx).is_ready() {
                return Poll::Ready(());
            }
            timer.as_mut().poll(cx)
        })
        .await
    }

    /// After the accept loop stopped: waits for the sessions to end for the drain time,
    /// disconnects the rest, and waits (briefly) for them to go.
    async fn drain(&self) {
        let drain = self.shutdown.drain();
        self.wait_until(self.runtime.now() + drain, |c, cx| c.poll_drained(cx))
            .await;
        self.shutdown.connections().disconnect_all();
        let last = CLOSING_WRITE_TIMEOUT + Duration::from_secs(1);
        self.wait_until(self.runtime.now() + last, |c, cx| c.poll_drained(cx))
            .await;
    }

    /// Accepts one connection and serves it on this task (tests, examples).
    pub async fn serve_one<H: Handler>(&self, handler: H) -> Result<(), Error> {
        let (sock, _) = self.listener.accept().await?;
        serve(
            self.runtime.clone(),
            sock,
            self.config.clone(),
            handler,
            None,
        )
        .await
    }

    /// Serves one accepted connection (any byte stream) on this task until it ends.
    pub async fn serve_connection<H: Handler>(
        sock: impl AsyncSocket,
        config: Arc<seashell_proto::ServerConfig>,
        handler: H,
    ) -> Result<(), Error> {
        serve(
            Arc::new(R::default()),
            Box::new(sock),
            config,
            handler,
            None,
        )
        .await
    }
}

async fn serve<H: Handler>(
    runtime: Arc<dyn Runtime>,
    sock: Box<dyn AsyncSocket>,
    config: Arc<seashell_proto::ServerConfig>,
    handler: H,
    server: Option<(Arc<Connections>, ConnectionGate)>,
) -> Result<(), Error> {
    let core = ServerConnection::new(config, runtime.now())?;
    let shared = Shared::new(Box::new(core));
    let (pump, _registered) = match server {
        Some((connections, gate)) => {
            let registered = connections.register(&shared);
            (Pump::gated(shared.clone(), handler, gate), Some(registered))
        }
        None => (Pump::server(shared.clone(), handler), None),
    };
    crate::forward::spawn_incoming_loop(&shared, &runtime);
    crate::forward::spawn_listen_loop(&shared, &runtime);
    Driver::new(pump, sock, runtime).await
}
