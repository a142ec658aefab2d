//! [`Shared`]: one connection's state, shared by the pump that moves its bytes and the
//! application's handles. Everything runs under one mutex that is never held across a wait:
//! handles lock, call the core, register a waker when they must wait, and wake the pump.

use crate::error::{Error, Lost};
use crate::inbox::Inbox;
use crate::wait::WakerSet;
use bytes::Bytes;
use seashell_proto::kex::negotiate::Negotiated;
use seashell_proto::{AnyConnection, ChannelId, Event};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Bytes handed to the core for sending and not yet written to the socket, above which
/// writers wait and the pump stops reading the socket (OpenSSH's rule: a peer that does not
/// read what we send cannot make us buffer without bound).
pub const SEND_HIGH_WATER: usize = 1 << 20;

/// Writers held at [`SEND_HIGH_WATER`] go on once what waits to be sent is down to this, so
/// each wake-up lets them write a large batch.
pub const SEND_LOW_WATER: usize = 256 * 1024;

/// Most unclaimed ping answers kept (those of cancelled pings go oldest first).
const MAX_PONGS: usize = 64;

/// Everything behind the mutex.
#[derive(Debug)]
pub(crate) struct State {
    pub conn: Box<dyn AnyConnection>,
    /// The connection is a server's.
    pub server: bool,
    pub channels: HashMap<ChannelId, Inbox>,
    /// Client: host-key and auth events for the handshake, until it ends.
    pub control: VecDeque<Event>,
    pub control_open: bool,
    /// Waiters for the control queue, pings and the end of the connection.
    pub control_waiters: WakerSet,
    pub lost: Option<Lost>,
    /// The pump has ended (the connection is gone).
    pub done: bool,
    /// Wakes the pump: the application queued something for it.
    pub driver: Option<Waker>,
    /// Bytes in the pump's output buffer, not yet written to the socket.
    pub out_pending: usize,
    /// Bytes writers handed to the core since the pump last took its output.
    pub queued: usize,
    pub send_waiters: WakerSet,
    /// Client: answers to pings not yet claimed.
    pub pongs: VecDeque<Bytes>,
    /// Client: the data of the last ping sent (a counter).
    pub ping_serial: u64,
    /// Client: how many [`SessionRef`]s exist; the pump says goodbye when none is left.
    pub handles: usize,
    /// How many socket reads the pump has fed to the core.
    pub reads: u64,
    /// Waiters to wake once the lock is released (see [`WakerSet::wake_later`]).
    pub wake_later: Vec<Waker>,
    pub read_waiters: WakerSet,
    /// Forwarding: incoming channels, answers to global requests, remote forwards.
    pub forwards: crate::forward::Forwards,
    /// The connection's tracing span (empty without the `tracing` feature).
    pub span: crate::trace::Span,
    /// Client with `UpdateHostKeys`: where announced host keys are recorded.
    pub host_key_update: Option<crate::update_host_keys::HostKeyUpdate>,
}

/// One connection's shared state. Adapters hold it in an [`Arc`]; the pump
/// ([`Pump`](crate::Pump)) and every handle point at the same one.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// Wraps a new connection of either role.
    pub fn new(mut conn: Box<dyn AnyConnection>) -> Arc<Shared> {
        let server = conn.as_server().is_some();
        Arc::new(Shared {
            state: Mutex::new(State {
                conn,
                server,
                channels: HashMap::new(),
                control: VecDeque::new(),
                control_open: true,
                control_waiters: WakerSet::default(),
                lost: None,
                done: false,
                driver: None,
                out_pending: 0,
                queued: 0,
                send_waiters: WakerSet::default(),
                pongs: VecDeque::new(),
                ping_serial: 0,
                handles: 0,
                reads: 0,
                wake_later: Vec::new(),
                read_waiters: WakerSet::default(),
                forwards: Default::default(),
                span: crate::trace::connection(server),
                host_key_update: None,
            }),
        })
    }

    /// Locks the state (a panic elsewhere does not poison it for everyone).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Names the peer (an address, or `host:port`) on the connection's tracing span.
    pub fn set_peer(&self, peer: &dyn std::fmt::Display) {
        crate::trace::set_peer(&self.lock().span, peer);
    }

    /// The connection's tracing span.
    pub(crate) fn span(&self) -> crate::trace::Span {
        self.lock().span.clone()
    }

    /// The connection's error, once it has ended.
    pub fn check(&self) -> Result<(), Error> {
        self.lock().check()
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        let st = self.lock();
        st.done || st.conn.is_closed()
    }

    /// How many key exchanges have completed (the first and every rekey).
    pub fn key_exchanges(&self) -> u64 {
        self.lock().conn.key_exchanges()
    }

    /// The algorithms the last key exchange chose.
    pub fn negotiated(&self) -> Option<Negotiated> {
        self.lock().conn.negotiated().cloned()
    }

    /// The peer's identification line (`SSH-2.0-...`).
    pub fn peer_ident(&self) -> Option<String> {
        self.lock().conn.peer_ident().map(str::to_owned)
    }

    /// Starts a key re-exchange now.
    pub fn rekey(&self) -> Result<(), Error> {
        let mut st = self.lock();
        st.check()?;
        let r = st.conn.rekey();
        st.wake_driver();
        Ok(r?)
    }

    /// Ends the connection with a DISCONNECT (sent by the pump).
    pub fn disconnect(&self) {
        let mut st = self.lock();
        st.conn.disconnect();
        st.wake_driver();
    }

    /// Lets the pump run (after a command made through the core directly).
    pub fn wake_driver(&self) {
        self.lock().wake_driver();
    }

    /// Ready once the pump has ended: everything queued, the DISCONNECT included, is sent.
    pub fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if st.done {
            return Poll::Ready(());
        }
        st.control_waiters.register(cx.waker());
        st.wake_driver();
        Poll::Pending
    }
}

impl State {
    /// The connection's error, once it has ended.
    pub fn check(&self) -> Result<(), Error> {
        match &self.lost {
            Some(l) => Err(l.error()),
            None if self.done => Err(Error::Ssh(seashell_proto::Error::ConnectionClosed)),
            None => Ok(()),
        }
    }

    /// Bytes on their way to the socket (see [`SEND_HIGH_WATER`]).
    pub fn unsent(&self) -> usize {
        self.out_pending + self.queued
    }

    /// Lets the pump run: the application queued something for it.
    pub fn wake_driver(&self) {
        if let Some(w) = &self.driver {
            w.wake_by_ref();
        }
    }

    /// Records the end of the connection and wakes everyone.
    pub fn set_lost(&mut self, lost: Lost) {
        self.lost.get_or_insert(lost);
        self.wake_all();
    }

    /// Wakes every waiter of the connection.
    pub fn wake_all(&mut self) {
        for ch in self.channels.values_mut() {
            ch.wake_all();
        }
        self.control_waiters.wake();
        self.send_waiters.wake();
        self.read_waiters.wake();
        for w in self.wake_later.drain(..) {
            w.wake();
        }
    }

    /// Returns `n` read bytes of channel `id` to the peer's window (the core decides when a
    /// WINDOW_ADJUST goes out).
    pub fn consume(&mut self, id: ChannelId, n: usize) {
        if n == 0 {
            return;
        }
        if let Some(mut ch) = self.conn.channel(id) {
            let _ = ch.consume(n);
        }
        if self.conn.wants_write() {
            self.wake_driver();
        }
    }

    /// Client: queues a handshake event; once the handshake is over, they are dropped.
    pub fn push_control(&mut self, ev: Event) {
        if self.control_open {
            self.control.push_back(ev);
            self.control_waiters.wake();
        }
    }

    /// Client: files the answer to a ping.
    pub fn push_pong(&mut self, data: Bytes) {
        if self.pongs.len() >= MAX_PONGS {
            self.pongs.pop_front();
        }
        self.pongs.push_back(data);
        self.control_waiters.wake();
    }
}

/// A counted handle on a client connection, held by every session and channel handle: the
/// pump ends the connection with a DISCONNECT once the last one is dropped.
#[derive(Debug)]
pub struct SessionRef(Arc<Shared>);

impl SessionRef {
    /// Counts a new handle on `shared`.
    pub fn new(shared: Arc<Shared>) -> SessionRef {
        shared.lock().handles += 1;
        SessionRef(shared)
    }

    /// The connection.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.0
    }

    /// The server's identification line (`SSH-2.0-...`).
    pub fn server_ident(&self) -> Option<String> {
        self.0.peer_ident()
    }
}

impl Clone for SessionRef {
    fn clone(&self) -> Self {
        SessionRef::new(self.0.clone())
    }
}

impl std::ops::Deref for SessionRef {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Drop for SessionRef {
    /// Uncounts first, then wakes the pump, so it sees the count it must act on.
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.handles -= 1;
        st.wake_driver();
    }
}
