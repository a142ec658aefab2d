//! Forwarding, the part every adapter shares: opening a channel of any kind and waiting for
//! the answer ([`Opening`]), a global request and its answer ([`GlobalCall`]), the client's
//! table of remote forwards (which local target each port the server listens on for us leads
//! to), and the queue of channels the peer opens towards us ([`Shared::poll_incoming`]).
//! The adapters add only the sockets: listening, connecting, and copying bytes.

use crate::channel::{ChannelHandle, OwnedChannel};
use crate::error::Error;
use crate::shared::{Shared, State};
use seashell_proto::{
    ChannelKind, GlobalRequestId, GlobalRequestKind, IncomingChannel, OpenFailure,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// Most channel-open requests from the peer queued for the application (the core refuses
/// more than 64 undecided ones itself).
const MAX_INCOMING: usize = 64;

/// Where a forwarded connection goes on our side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardTarget {
    /// A TCP address (`host:port`), resolved when a connection arrives.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix socket.
    Unix(PathBuf),
}

impl std::fmt::Display for ForwardTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForwardTarget::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            ForwardTarget::Tcp { host, port } => write!(f, "{host}:{port}"),
            ForwardTarget::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The forwarding state kept with a connection.
#[derive(Debug, Default)]
pub(crate) struct Forwards {
    /// Channel opens from the peer, for the application's forwarding loop.
    incoming: std::collections::VecDeque<IncomingChannel>,
    /// Server: allowed `direct-*` opens with their targets.
    targets: std::collections::VecDeque<Incoming>,
    /// Whether a forwarding loop takes incoming channels (else they are refused).
    pub accepting: bool,
    /// An adapter's loop placing incoming channels has been started.
    loop_started: bool,
    /// Answers to our global requests, until claimed.
    replies: HashMap<GlobalRequestId, Result<Option<u32>, ()>>,
    /// Client: remote TCP forwards by bound port.
    tcp: HashMap<u32, ForwardTarget>,
    /// Client: the agent socket that forwarded agent channels lead to (`ForwardAgent`).
    pub(crate) agent: Option<PathBuf>,
    /// Server: an adapter loop serves agent listeners.
    #[cfg(unix)]
    pub(crate) agent_listening: bool,
    /// Server: agent listeners waiting for the adapter's loop.
    #[cfg(unix)]
    pub(crate) agent_listens: std::collections::VecDeque<crate::agent_forward::AgentListen>,
    /// Server: the stops of every agent listener handed out.
    #[cfg(unix)]
    pub(crate) agent_stops: Vec<Arc<ListenerStop>>,
    /// Client: remote Unix-socket forwards by path.
    unix: HashMap<String, ForwardTarget>,
    /// Server: allowed listen requests, for the adapter's forwarding loop.
    listens: std::collections::VecDeque<ListenRequest>,
    /// Server: the listeners bound for the client, by (address as named, bound port).
    pub(crate) listeners: HashMap<(String, u32), Arc<ListenerStop>>,
    /// Server: whether the adapter binds Unix-socket listeners (else
    /// `streamlocal-forward@openssh.com` is refused).
    pub(crate) unix_listening: bool,
    /// Server: allowed Unix-socket listen requests, for the adapter's forwarding loop.
    unix_listens: std::collections::VecDeque<UnixListenRequest>,
    /// Server: the Unix-socket listeners bound for the client, by path.
    pub(crate) unix_listeners: HashMap<String, Arc<ListenerStop>>,
}

impl State {
    /// Files a channel the peer wants to open: queued for the forwarding loop, or refused
    /// (dropped: the core refuses a dropped token) when nobody takes them.
    pub(crate) fn push_incoming(&mut self, incoming: IncomingChannel) {
        if self.forwards.accepting && self.forwards.incoming.len() < MAX_INCOMING {
            self.forwards.incoming.push_back(incoming);
            self.control_waiters.wake();
        } else {
            drop(incoming);
            self.wake_driver();
        }
    }

    /// Server: queues a client's `direct-*` channel, allowed by the policy, for the
    /// adapter's forwarding loop (which connects to `target`, then accepts).
    pub(crate) fn push_target(&mut self, request: IncomingChannel, target: ForwardTarget) {
        if self.forwards.targets.len() < MAX_INCOMING {
            self.forwards.targets.push_back(Incoming {
                request,
                target: Some(target),
            });
            self.control_waiters.wake();
        } else {
            drop(request);
            self.wake_driver();
        }
    }

    /// Files the answer to one of our global requests.
    pub(crate) fn push_global_reply(&mut self, id: GlobalRequestId, r: Result<Option<u32>, ()>) {
        self.forwards.replies.insert(id, r);
        self.control_waiters.wake();
    }
}

/// A channel of any kind being opened: ready with the channel once the peer confirms it, or
/// with [`Error::OpenFailed`].
#[derive(Debug)]
pub struct Opening {
    owner: Option<OwnedChannel>,
}

impl Opening {
    /// Sends the open request.
    pub fn new(shared: &Arc<Shared>, kind: ChannelKind) -> Result<Opening, Error> {
        let id = {
            let mut st = shared.lock();
            st.check()?;
            let id = st.conn.open_channel(kind)?;
            let mut inbox = crate::inbox::Inbox::default();
            inbox.owned = true;
            st.channels.insert(id, inbox);
            st.wake_driver();
            id
        };
        Ok(Opening {
            owner: Some(OwnedChannel::new(ChannelHandle::new(shared.clone(), id))),
        })
    }

    /// Waits for the peer's answer.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<OwnedChannel, Error>> {
        let Some(h) = self.owner.as_ref().map(OwnedChannel::handle) else {
            return Poll::Ready(Err(Error::Refused("the channel is already open".into())));
        };
        let opened = ready!(h.poll_until(cx, |c| c.opened.clone().ok_or(0)))?;
        Poll::Ready(match opened {
            Ok(()) => self
                .owner
                .take()
                .ok_or_else(|| Error::Refused("the channel is already open".into())),
            Err((reason, description)) => Err(Error::OpenFailed {
                reason,
                description,
            }),
        })
    }
}

/// A global request waiting for its answer: the bound port for `tcpip-forward` of port 0.
#[derive(Debug)]
pub struct GlobalCall {
    shared: Arc<Shared>,
    id: GlobalRequestId,
}

impl GlobalCall {
    /// Sends `kind` with want-reply.
    pub fn new(shared: &Arc<Shared>, kind: GlobalRequestKind) -> Result<GlobalCall, Error> {
        let mut st = shared.lock();
        st.check()?;
        let id = st
            .conn
            .global_request(kind, true)?
            .ok_or_else(|| Error::Refused("no reply expected".into()))?;
        st.wake_driver();
        Ok(GlobalCall {
            shared: shared.clone(),
            id,
        })
    }

    /// Waits for the answer: `Ok(bound port, if the peer named one)` or
    /// [`Error::Refused`].
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<u32>, Error>> {
        let mut st = self.shared.lock();
        if let Some(r) = st.forwards.replies.remove(&self.id) {
            return Poll::Ready(
                r.map_err(|()| Error::Refused("the peer refused the request".into())),
            );
        }
        st.check()?;
        st.control_waiters.register(cx.waker());
        Poll::Pending
    }
}

/// A channel the peer opened towards us, with where our forwarding table says it goes.
#[derive(Debug)]
pub struct Incoming {
    /// The peer's request (answer it with [`Shared::accept_incoming`] or
    /// [`Shared::reject_incoming`]; dropping it refuses it).
    pub request: IncomingChannel,
    /// Where it goes, for a forwarded connection we asked for (`None`: not ours to place).
    pub target: Option<ForwardTarget>,
}

impl Shared {
    /// Client: asks the server to listen on `address:port` and forward connections to
    /// `target` (ssh `-R`). Returns the call; its answer is the bound port for port 0.
    pub fn request_remote_forward(
        self: &Arc<Self>,
        address: &str,
        port: u32,
    ) -> Result<GlobalCall, Error> {
        self.lock().forwards.accepting = true;
        GlobalCall::new(
            self,
            GlobalRequestKind::TcpipForward {
                address: address.to_owned(),
                port,
            },
        )
    }

    /// Client: records where connections to the bound `port` go (after the server granted it).
    pub fn add_remote_forward(&self, port: u32, target: ForwardTarget) {
        self.lock().forwards.tcp.insert(port, target);
    }

    /// Client: records where connections to the remote Unix socket `path` go.
    pub fn add_remote_unix_forward(&self, path: &str, target: ForwardTarget) {
        let mut st = self.lock();
        st.forwards.accepting = true;
        st.forwards.unix.insert(path.to_owned(), target);
    }

    /// Client: forwards the agent channels the server opens (after a session's agent
    /// request) to the agent socket at `path`.
    pub fn forward_agent_to(&self, path: PathBuf) {
        let mut st = self.lock();
        st.forwards.accepting = true;
        st.forwards.agent = Some(path);
    }

    /// Client: whether agent channels are forwarded (sessions then ask for agent
    /// forwarding, and the adapter runs its incoming loop).
    pub fn forwards_agent(&self) -> bool {
        self.lock().forwards.agent.is_some()
    }

    /// Claims the one loop that places incoming channels: true the first time only.
    pub fn claim_incoming_loop(&self) -> bool {
        let mut st = self.lock();
        st.forwards.accepting = true;
        !std::mem::replace(&mut st.forwards.loop_started, true)
    }

    /// Server: takes incoming channels and listen requests for loops started later, when
    /// [`forwarding_waiting`](Self::forwarding_waiting) first says so (an adapter that pays
    /// a thread per loop starts them only for connections that forward). The loops still
    /// claim themselves with [`claim_incoming_loop`](Self::claim_incoming_loop) and
    /// [`serve_unix_listens`](Self::serve_unix_listens).
    pub fn accept_forwarding_later(&self) {
        let mut st = self.lock();
        st.forwards.accepting = true;
        st.forwards.unix_listening = true;
        #[cfg(unix)]
        {
            st.forwards.agent_listening = true;
        }
    }

    /// Whether forwarding work waits for the adapter's loops: an incoming channel, a
    /// placed target or a listen request.
    pub fn forwarding_waiting(&self) -> bool {
        let st = self.lock();
        let f = &st.forwards;
        #[cfg(unix)]
        let agent_waiting = !f.agent_listens.is_empty();
        #[cfg(not(unix))]
        let agent_waiting = false;
        agent_waiting
            || !(f.incoming.is_empty()
                && f.targets.is_empty()
                && f.listens.is_empty()
                && f.unix_listens.is_empty())
    }

    /// Stops forwarding the bound `port` (after `cancel-tcpip-forward`).
    pub fn remove_remote_forward(&self, port: u32) {
        self.lock().forwards.tcp.remove(&port);
    }

    /// Takes the next channel the peer opens towards us. `Ready(None)` once the connection
    /// has ended. Calling it makes the connection accept such channels for the application
    /// (until then they are refused).
    pub fn poll_incoming(&self, cx: &mut Context<'_>) -> Poll<Option<Incoming>> {
        let mut st = self.lock();
        st.forwards.accepting = true;
        if let Some(placed) = st.forwards.targets.pop_front() {
            return Poll::Ready(Some(placed));
        }
        if let Some(request) = st.forwards.incoming.pop_front() {
            let target = match request.kind() {
                ChannelKind::ForwardedTcpip { port, .. } => st.forwards.tcp.get(port).cloned(),
                ChannelKind::ForwardedStreamlocal { path } => st.forwards.unix.get(path).cloned(),
                ChannelKind::AuthAgent | ChannelKind::AgentConnect => {
                    st.forwards.agent.clone().map(ForwardTarget::Unix)
                }
                _ => None,
            };
            return Poll::Ready(Some(Incoming { request, target }));
        }
        if st.check().is_err() {
            return Poll::Ready(None);
        }
        st.control_waiters.register(cx.waker());
        Poll::Pending
    }

    /// Accepts a channel the peer opened (once its target is connected).
    pub fn accept_incoming(
        self: &Arc<Self>,
        incoming: IncomingChannel,
    ) -> Result<OwnedChannel, Error> {
        let mut st = self.lock();
        st.check()?;
        let id = st.conn.accept_channel(incoming)?;
        let mut inbox = crate::inbox::Inbox::default();
        inbox.opened = Some(Ok(()));
        inbox.owned = true;
        st.channels.insert(id, inbox);
        st.wake_driver();
        drop(st);
        Ok(OwnedChannel::new(ChannelHandle::new(self.clone(), id)))
    }

    /// Refuses a channel the peer opened.
    pub fn reject_incoming(
        &self,
        incoming: IncomingChannel,
        reason: OpenFailure,
        description: &str,
    ) -> Result<(), Error> {
        let mut st = self.lock();
        let r = st.conn.reject_channel(incoming, reason, description);
        st.wake_driver();
        Ok(r?)
    }
}

/// A stop signal for a listener's accept loop, I/O-free: set by whoever ends the forward
/// (its handle dropped, a `cancel-tcpip-forward`), polled by the loop beside its accept.
#[derive(Debug, Default)]
pub struct ListenerStop {
    stopped: std::sync::atomic::AtomicBool,
    waiters: std::sync::Mutex<crate::wait::WakerSet>,
}

impl ListenerStop {
    /// Stops the loop.
    pub fn set(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .wake();
    }

    /// Whether it was stopped.
    pub fn is_set(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Ready once stopped.
    pub fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .register(cx.waker());
        if self.is_set() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Server: a client's request that we listen for it (`tcpip-forward`), allowed by the
/// policy. The adapter binds `bind:port`, answers with [`Shared::answer_listen`], and opens a
/// `forwarded-tcpip` channel for each connection it accepts.
#[derive(Debug)]
pub struct ListenRequest {
    /// The client's request (answered through [`Shared::answer_listen`]).
    pub request: seashell_proto::IncomingGlobalRequest,
    /// The address the client named (it appears in each `forwarded-tcpip`).
    pub address: String,
    /// The address to bind, as the policy decided it.
    pub bind: String,
    /// The port asked for (0: any).
    pub port: u32,
    /// Set when the client cancels the forward or the connection ends.
    pub stop: Arc<ListenerStop>,
}

/// The `forwarded-tcpip` channel for a connection from `peer` to the listener the client
/// asked for as `address` and that is bound on `port`.
pub fn forwarded_tcpip(address: &str, port: u32, peer: std::net::SocketAddr) -> ChannelKind {
    ChannelKind::ForwardedTcpip {
        address: address.to_owned(),
        port,
        originator: peer.ip().to_string(),
        originator_port: u32::from(peer.port()),
    }
}

impl ListenRequest {
    /// Where to bind: the address the policy chose and the port asked for (0: any).
    pub fn bind_address(&self) -> std::io::Result<(&str, u16)> {
        let port = u16::try_from(self.port)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        Ok((self.bind.as_str(), port))
    }
}

/// Server: a client's TCP listener, bound and granted: what its accept loop needs.
#[derive(Debug)]
pub struct ActiveListen {
    /// The address the client named (it appears in each `forwarded-tcpip`).
    pub address: String,
    /// The port bound.
    pub port: u32,
    /// Set when the client cancels the forward or the connection ends.
    pub stop: Arc<ListenerStop>,
}

impl State {
    /// Server: queues an allowed listen request for the adapter's forwarding loop.
    pub(crate) fn push_listen(&mut self, listen: ListenRequest) {
        self.forwards.listens.push_back(listen);
        self.control_waiters.wake();
    }
}

impl Shared {
    /// Server: takes the next allowed listen request. `Ready(None)` once the connection has
    /// ended (every listener is then stopped).
    pub fn poll_listen(&self, cx: &mut Context<'_>) -> Poll<Option<ListenRequest>> {
        self.poll_listen_queue(cx, |f| f.listens.pop_front())
    }

    /// Takes the next request of a server's listen queue with `take`; at the end of the
    /// connection, stops every listener bound for the client and gives `Ready(None)`.
    fn poll_listen_queue<T>(
        &self,
        cx: &mut Context<'_>,
        take: impl FnOnce(&mut Forwards) -> Option<T>,
    ) -> Poll<Option<T>> {
        let mut st = self.lock();
        if let Some(l) = take(&mut st.forwards) {
            return Poll::Ready(Some(l));
        }
        if st.check().is_err() {
            let f = &st.forwards;
            for stop in f.listeners.values().chain(f.unix_listeners.values()) {
                stop.set();
            }
            return Poll::Ready(None);
        }
        st.control_waiters.register(cx.waker());
        Poll::Pending
    }

    /// Server: answers a listen request with the port bound (`None`: binding failed; the
    /// reply names the port when 0 was asked for). Returns what the accept loop needs.
    pub fn answer_listen(&self, listen: ListenRequest, bound: Option<u32>) -> Option<ActiveListen> {
        let ListenRequest {
            request,
            address,
            port: asked,
            stop,
            ..
        } = listen;
        let reply = match bound {
            Some(port) if asked == 0 => seashell_proto::GlobalReply::SuccessWithPort(port),
            Some(_) => seashell_proto::GlobalReply::Success,
            None => seashell_proto::GlobalReply::Failure,
        };
        let mut st = self.lock();
        if let Some(port) = bound {
            st.forwards
                .listeners
                .insert((address.clone(), port), stop.clone());
        }
        let _ = st.conn.reply_global(request, reply);
        st.wake_driver();
        bound.map(|port| ActiveListen {
            address,
            port,
            stop,
        })
    }
}

/// A running listener forward (local or dynamic) of any adapter; dropping it (or
/// [`close`](Self::close)) stops accepting new connections (those already forwarded go on).
#[derive(Debug)]
pub struct Forward {
    addr: std::net::SocketAddr,
    stop: Arc<ListenerStop>,
}

impl Forward {
    /// A handle for the listener on `addr`, and the stop signal its accept loop watches.
    pub fn new(addr: std::net::SocketAddr) -> (Forward, Arc<ListenerStop>) {
        let stop = Arc::new(ListenerStop::default());
        (
            Forward {
                addr,
                stop: stop.clone(),
            },
            stop,
        )
    }

    /// The address it listens on (the port, when port 0 was asked for).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Stops accepting.
    pub fn close(self) {}
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.stop.set();
    }
}

/// The socket address for a listen specification: `host:port` and `[v6]:port` as given, a
/// port alone on loopback (as ssh binds a forward without a bind address).
pub fn listen_address(spec: &str) -> String {
    if spec.parse::<u16>().is_ok() {
        format!("127.0.0.1:{spec}")
    } else {
        spec.to_owned()
    }
}

/// Server: a client's request that we listen on a Unix socket
/// (`streamlocal-forward@openssh.com`), allowed by the policy. The adapter binds `path`
/// (failing if it exists, as sshd with `StreamLocalBindUnlink no`), answers with
/// [`Shared::answer_unix_listen`], and opens a `forwarded-streamlocal@openssh.com` channel
/// for each connection it accepts.
#[derive(Debug)]
pub struct UnixListenRequest {
    /// The client's request (answered through [`Shared::answer_unix_listen`]).
    pub request: seashell_proto::IncomingGlobalRequest,
    /// The socket path, as the client named it (it appears in each channel open).
    pub path: String,
    /// Set when the client cancels the forward or the connection ends.
    pub stop: Arc<ListenerStop>,
}

impl State {
    /// Server: queues an allowed Unix-socket listen request, or refuses it when no adapter
    /// loop binds them.
    pub(crate) fn push_unix_listen(&mut self, listen: UnixListenRequest) {
        if self.forwards.unix_listening && self.forwards.unix_listens.len() < MAX_INCOMING {
            self.forwards.unix_listens.push_back(listen);
            self.control_waiters.wake();
        } else {
            let _ = self
                .conn
                .reply_global(listen.request, seashell_proto::GlobalReply::Failure);
            self.wake_driver();
        }
    }

    /// Server: stops the client's listener on `path` (`cancel-streamlocal-forward`).
    pub(crate) fn cancel_unix_listen(&mut self, path: &str) -> bool {
        match self.forwards.unix_listeners.remove(path) {
            Some(stop) => {
                stop.set();
                true
            }
            None => false,
        }
    }
}

impl Shared {
    /// Server: tells the connection that this adapter binds Unix-socket listeners (call
    /// before the client authenticates; until then such requests are refused).
    pub fn serve_unix_listens(&self) {
        self.lock().forwards.unix_listening = true;
    }

    /// Server: takes the next allowed Unix-socket listen request. `Ready(None)` once the
    /// connection has ended (every Unix listener is then stopped).
    pub fn poll_unix_listen(&self, cx: &mut Context<'_>) -> Poll<Option<UnixListenRequest>> {
        self.poll_listen_queue(cx, |f| f.unix_listens.pop_front())
    }

    /// Server: answers a Unix-socket listen request: success once `path` is bound (the
    /// listener is then cancellable by path), failure otherwise.
    pub fn answer_unix_listen(
        &self,
        request: seashell_proto::IncomingGlobalRequest,
        path: &str,
        bound: bool,
        stop: &Arc<ListenerStop>,
    ) {
        let mut st = self.lock();
        let reply = if bound && st.check().is_ok() {
            st.forwards
                .unix_listeners
                .insert(path.to_owned(), stop.clone());
            seashell_proto::GlobalReply::Success
        } else {
            stop.set();
            seashell_proto::GlobalReply::Failure
        };
        let _ = st.conn.reply_global(request, reply);
        st.wake_driver();
    }
}
