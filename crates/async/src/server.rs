//! The async server: a listener, a task per connection, and the shared [`Handler`] that makes
//! the decisions on the connection's task. Anything long (a command, a shell) runs on a task
//! the handler spawns, talking to the client through a [`ServerChannel`](crate::ServerChannel)
//! (`AsyncRead`/`AsyncWrite`).

use crate::driver::Driver;
use crate::runtime::{AsyncListener, AsyncSocket, Runtime};
use futures_io::AsyncWrite;
use seashell_adapter::{
    AcceptBackoff, Arrival, Arrivals, CLOSING_WRITE_TIMEOUT, ConnectionGate, Connections, Error,
    Gate, Handler, PROXY_HEADER_TIMEOUT, ProxyRead, ProxyReadSlot, Pump, REFUSAL_MESSAGE, Shared,
    ShutdownHandle,
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
        let arrivals: Arc<Arrivals<Box<dyn AsyncSocket>>> = Arrivals::new();
        let mut backoff = AcceptBackoff::new();
        loop {
            let next = {
                let mut accept = self.listener.accept();
                poll_fn(|cx| {
                    if connections.poll_stopping(cx).is_ready() {
                        return Poll::Ready(Next::Stop);
                    }
                    if let Poll::Ready(a) = arrivals.poll_next(cx) {
                        return Poll::Ready(Next::Arrived(a));
                    }
                    accept.as_mut().poll(cx).map(Next::Accepted)
                })
                .await
            };
            let pause = match next {
                Next::Stop => break,
                Next::Arrived(a) => {
                    self.start(a.sock, a.peer, a.early, &mut make);
                    continue;
                }
                Next::Accepted(Ok((sock, peer))) => {
                    backoff.accepted();
                    if !self.gate.expects_proxy_header() {
                        self.start(sock, peer, Vec::new(), &mut make);
                    } else if let Some(slot) = self.gate.begin_proxy_read() {
                        let read = read_proxy_header(
                            self.runtime.clone(),
                            sock,
                            peer,
                            self.gate.clone(),
                            arrivals.clone(),
                            slot,
                        );
                        self.runtime.spawn(Box::pin(read));
                    }
                    continue;
                }
                Next::Accepted(Err(e)) => backoff.failed(e)?,
            };
            if !pause.is_zero() {
                self.sleep_unless_stopping(pause).await;
            }
        }
        self.drain().await;
        Ok(())
    }

    /// Admits a connection from `peer` through the gate and serves it on a task of its own
    /// (`early`: bytes read after its PROXY header); a refused one is told so and closed.
    fn start<H: Handler>(
        &self,
        mut sock: Box<dyn AsyncSocket>,
        peer: SocketAddr,
        early: Vec<u8>,
        make: &mut impl FnMut(SocketAddr) -> H,
    ) {
        let gate = match self.gate.admit(peer, self.runtime.now()) {
            Ok(gate) => gate,
            Err(_refused) => {
                // Best effort: a fresh socket's buffer always takes these bytes.
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                let _ = std::pin::Pin::new(&mut sock).poll_write(&mut cx, REFUSAL_MESSAGE);
                let _ = std::pin::Pin::new(&mut sock).poll_close(&mut cx);
                return;
            }
        };
        let handler = make(peer);
        let connections = self.shutdown.connections().clone();
        let fut = serve(
            self.runtime.clone(),
            sock,
            self.config.clone(),
            handler,
            Some((connections, gate)),
            early,
        );
        self.runtime.spawn(Box::pin(async move {
            let _ = fut.await;
        }));
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
            Vec::new(),
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
            Vec::new(),
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
    early: Vec<u8>,
) -> Result<(), Error> {
    let core = ServerConnection::new(config, runtime.now())?;
    let shared = Shared::new(Box::new(core));
    if let Some((_, g)) = &server {
        shared.set_peer(&g.peer());
    }
    let (pump, _registered) = match server {
        Some((connections, gate)) => {
            let registered = connections.register(&shared);
            (Pump::gated(shared.clone(), handler, gate), Some(registered))
        }
        None => (Pump::server(shared.clone(), handler), None),
    };
    crate::forward::spawn_incoming_loop(&shared, &runtime);
    crate::forward::spawn_listen_loop(&shared, &runtime);
    let mut pump = pump;
    if !early.is_empty() {
        pump.received(runtime.now(), &early);
    }
    Driver::new(pump, sock, runtime).await
}

/// What the accept loop wakes up for.
enum Next {
    Stop,
    Arrived(Arrival<Box<dyn AsyncSocket>>),
    Accepted(std::io::Result<(Box<dyn AsyncSocket>, SocketAddr)>),
}

/// Reads the PROXY header off `sock` (within [`PROXY_HEADER_TIMEOUT`]) and hands the
/// connection back to the accept loop under the client's real address; a bad or late
/// header closes it.
async fn read_proxy_header(
    runtime: Arc<dyn Runtime>,
    mut sock: Box<dyn AsyncSocket>,
    peer: SocketAddr,
    gate: Arc<Gate>,
    arrivals: Arc<Arrivals<Box<dyn AsyncSocket>>>,
    _slot: ProxyReadSlot,
) {
    use futures_io::AsyncRead;
    let mut timer = runtime.new_timer(runtime.now() + PROXY_HEADER_TIMEOUT);
    let mut reader = ProxyRead::new();
    let mut buf = vec![0u8; reader.want()];
    loop {
        let want = reader.want().min(buf.len());
        let read = poll_fn(|cx| {
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            let slice = buf.get_mut(..want).unwrap_or_default();
            std::pin::Pin::new(&mut sock).poll_read(cx, slice).map(Some)
        })
        .await;
        let n = match read {
            Some(Ok(n)) => n,
            Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            _ => return gate.proxy_failed(),
        };
        match reader.feed(buf.get(..n).unwrap_or_default()) {
            Ok(None) => {}
            Ok(Some((header, early))) => {
                let peer = header.peer_or(peer);
                return arrivals.push(Arrival { sock, peer, early });
            }
            Err(_) => return gate.proxy_failed(),
        }
    }
}
