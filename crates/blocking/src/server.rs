//! The blocking server: a listener, a thread per connection, and the shared [`Handler`] that
//! makes the decisions on the connection's thread. Anything long (a command, a shell) runs
//! on a thread of its own, talking to the client through a
//! [`ServerChannel`](crate::ServerChannel) (`Read`/`Write`).

use crate::io_loop::{IoLoop, Wakeup};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use seashell_adapter::{
    AcceptBackoff, Arrival, Arrivals, CLOSING_WRITE_TIMEOUT, ConnectionGate, Connections, Error,
    Gate, Handler, PROXY_HEADER_TIMEOUT, ProxyRead, ProxyReadSlot, Pump, REFUSAL_MESSAGE, Shared,
    ShutdownHandle,
};
use seashell_proto::ServerConfig;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

/// A listening SSH server.
pub struct Server {
    listener: TcpListener,
    config: Arc<ServerConfig>,
    shutdown: ShutdownHandle,
    gate: Arc<Gate>,
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
    pub fn bind(addr: &str, config: ServerConfig) -> Result<Server, Error> {
        Server::from_listener(TcpListener::bind(addr)?, config)
    }

    /// Serves on a listener bound elsewhere (socket activation, a privileged parent).
    pub fn from_listener(listener: TcpListener, config: ServerConfig) -> Result<Server, Error> {
        config.validate()?;
        listener.set_nonblocking(true)?;
        Ok(Server {
            listener,
            config: Arc::new(config),
            shutdown: ShutdownHandle::new(Connections::new()),
            gate: Arc::new(Gate::default()),
        })
    }

    /// Admits connections through `gate` (admission control, counters) instead of the
    /// default, sshd's limits (`MaxStartups 10:30:100`, `PerSourcePenalties` on).
    pub fn with_gate(mut self, gate: Gate) -> Server {
        self.gate = Arc::new(gate);
        self
    }

    /// The gate connections pass: its counters ([`Gate::metrics`]) and admission state.
    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr()?)
    }

    /// A handle that stops [`run`](Self::run) gracefully from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Accepts connections until [`ShutdownHandle::shutdown`], each on its own thread with
    /// a handler from `make`; then lets the live sessions end for the drain time,
    /// disconnects the rest and returns.
    ///
    /// A failed `accept` does not end the server: a connection aborted in the backlog is
    /// skipped, and while descriptors or memory are exhausted (`EMFILE`, `ENFILE`) the loop
    /// pauses, longer each time up to a second ([`AcceptBackoff`]). A connection whose
    /// thread cannot be started is closed, with the same pause. Only a broken listener
    /// (`EBADF`, `EINVAL`) returns an error.
    pub fn run<H: Handler>(&self, mut make: impl FnMut(SocketAddr) -> H) -> Result<(), Error> {
        let (wakeup, rx) = Wakeup::pair()?;
        let waker = Waker::from(wakeup.clone());
        let connections = self.shutdown.connections();
        let mut backoff = AcceptBackoff::new();
        let arrivals: Arc<Arrivals<TcpStream>> = Arrivals::new();
        loop {
            connections.register_waker(&waker);
            if connections.is_stopping() {
                break;
            }
            // Connections whose PROXY header named the real client.
            while let Some(a) = arrivals.take(&waker) {
                if let Some(gate) = self.admit(&a.sock, a.peer) {
                    let handler = make(a.peer);
                    if let Err(e) = self.spawn(a.sock, handler, gate, a.early) {
                        wait(&rx, &wakeup, Some(backoff.failed(e)?));
                    }
                }
            }
            let mut fds = [
                PollFd::new(&self.listener, PollFlags::IN),
                PollFd::new(&rx, PollFlags::IN),
            ];
            let _ = poll(&mut fds, None);
            wakeup.drain(&rx);
            let pause = match self.listener.accept() {
                Ok((sock, peer)) => {
                    backoff.accepted();
                    self.take(sock, peer, &arrivals, &mut make)
                        .map_or_else(|e| backoff.failed(e), |()| Ok(Duration::ZERO))?
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Duration::ZERO,
                Err(e) => backoff.failed(e)?,
            };
            if !pause.is_zero() {
                wait(&rx, &wakeup, Some(pause));
            }
        }
        self.drain(&wakeup, &rx, &waker);
        Ok(())
    }

    /// A new connection: behind a PROXY header, read on a thread of its own (back through
    /// `arrivals`); else admitted and served at once.
    fn take<H: Handler>(
        &self,
        sock: TcpStream,
        peer: SocketAddr,
        arrivals: &Arc<Arrivals<TcpStream>>,
        make: &mut impl FnMut(SocketAddr) -> H,
    ) -> std::io::Result<()> {
        if self.gate.expects_proxy_header() {
            let Some(slot) = self.gate.begin_proxy_read() else {
                return Ok(());
            };
            let gate = self.gate.clone();
            let arrivals = arrivals.clone();
            return std::thread::Builder::new()
                .name("seashell-proxy".into())
                .spawn(move || read_proxy_header(sock, peer, &gate, &arrivals, slot))
                .map(|_| ());
        }
        match self.admit(&sock, peer) {
            Some(gate) => self.spawn(sock, make(peer), gate, Vec::new()),
            None => Ok(()),
        }
    }

    /// Admits a connection from `peer` through the gate; a refused one is told so (best
    /// effort, without blocking) and closed.
    fn admit(&self, sock: &TcpStream, peer: SocketAddr) -> Option<ConnectionGate> {
        match self.gate.admit(peer, Instant::now()) {
            Ok(gate) => Some(gate),
            Err(_refused) => {
                let _ = rustix::net::send(sock, REFUSAL_MESSAGE, rustix::net::SendFlags::DONTWAIT);
                None
            }
        }
    }

    /// Serves `sock` on a thread of its own.
    fn spawn<H: Handler>(
        &self,
        sock: TcpStream,
        handler: H,
        gate: ConnectionGate,
        early: Vec<u8>,
    ) -> std::io::Result<()> {
        let config = self.config.clone();
        let connections = self.shutdown.connections().clone();
        std::thread::Builder::new()
            .name("seashell-io".into())
            .spawn(move || {
                let server = Some((&connections, gate));
                let _ = serve_registered(sock, config, handler, server, &early);
            })
            .map(|_| ())
    }

    /// After the accept loop stopped: waits for the sessions to end for the drain time,
    /// disconnects the rest, and waits (briefly) for them to go.
    fn drain(&self, wakeup: &Wakeup, rx: &UnixStream, waker: &Waker) {
        let connections = self.shutdown.connections();
        let deadline = Instant::now() + self.shutdown.drain();
        let until_empty = |deadline: Instant| loop {
            connections.register_waker(waker);
            let now = Instant::now();
            if connections.is_empty() || now >= deadline {
                return;
            }
            wait(rx, wakeup, Some(deadline - now));
        };
        until_empty(deadline);
        connections.disconnect_all();
        // The DISCONNECTs go out; a peer that takes none of them is dropped by the pump.
        until_empty(Instant::now() + CLOSING_WRITE_TIMEOUT + Duration::from_secs(1));
    }

    /// Accepts one connection and serves it on this thread (tests, examples).
    pub fn serve_one<H: Handler>(&self, handler: H) -> Result<(), Error> {
        loop {
            match self.listener.accept() {
                Ok((sock, _)) => return serve_connection(sock, self.config.clone(), handler),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let mut fds = [PollFd::new(&self.listener, PollFlags::IN)];
                    let _ = poll(&mut fds, None);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Reads the PROXY header off `sock` (within [`PROXY_HEADER_TIMEOUT`]) and hands the
/// connection back to the accept loop under the client's real address; a bad or late
/// header closes it.
fn read_proxy_header(
    mut sock: TcpStream,
    peer: SocketAddr,
    gate: &Gate,
    arrivals: &Arrivals<TcpStream>,
    _slot: ProxyReadSlot,
) {
    let deadline = Instant::now() + PROXY_HEADER_TIMEOUT;
    let mut reader = ProxyRead::new();
    let mut buf = vec![0u8; reader.want()];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || sock.set_read_timeout(Some(left)).is_err() {
            return gate.proxy_failed();
        }
        let want = reader.want().min(buf.len());
        let n = match sock.read(buf.get_mut(..want).unwrap_or_default()) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return gate.proxy_failed(),
        };
        match reader.feed(buf.get(..n).unwrap_or_default()) {
            Ok(None) => {}
            Ok(Some((header, early))) => {
                if sock.set_read_timeout(None).is_err() {
                    return gate.proxy_failed();
                }
                let peer = header.peer_or(peer);
                return arrivals.push(Arrival { sock, peer, early });
            }
            Err(_) => return gate.proxy_failed(),
        }
    }
}

/// Sleeps until `rx` is woken or `timeout` passes.
fn wait(rx: &UnixStream, wakeup: &Wakeup, timeout: Option<Duration>) {
    let mut fds = [PollFd::new(rx, PollFlags::IN)];
    let timespec = timeout.and_then(|t| Timespec::try_from(t).ok());
    let _ = poll(&mut fds, timespec.as_ref());
    wakeup.drain(rx);
}

/// Serves one accepted connection on this thread until it ends.
pub fn serve_connection<H: Handler>(
    sock: TcpStream,
    config: Arc<ServerConfig>,
    handler: H,
) -> Result<(), Error> {
    serve_registered(sock, config, handler, None, &[])
}

/// [`serve_connection`], counted in a server's `connections` while it lives and admitted
/// through its gate.
fn serve_registered<H: Handler>(
    sock: TcpStream,
    config: Arc<ServerConfig>,
    handler: H,
    server: Option<(&Arc<Connections>, ConnectionGate)>,
    early: &[u8],
) -> Result<(), Error> {
    let core = seashell_proto::ServerConnection::new(config, Instant::now())?;
    let shared = Shared::new(Box::new(core));
    match server.as_ref().map(|(_, g)| g.peer()) {
        Some(peer) => shared.set_peer(&peer),
        None => {
            if let Ok(peer) = sock.peer_addr() {
                shared.set_peer(&peer);
            }
        }
    }
    let (pump, _registered) = match server {
        Some((connections, gate)) => {
            let registered = connections.register(&shared);
            (Pump::gated(shared, handler, gate), Some(registered))
        }
        None => (Pump::server(shared, handler), None),
    };
    let mut io = IoLoop::new(pump, sock)?.forwarding_later();
    if !early.is_empty() {
        io.received(early);
    }
    io.run()
}
