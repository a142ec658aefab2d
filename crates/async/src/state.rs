//! The state shared by the driver task and the application's handles: the core, what arrived
//! per channel and not read yet, and who waits for what. Everything here runs under one
//! mutex that is never held across an `.await`. No protocol logic lives here: events are
//! filed, wakers woken.

use crate::ExitStatus;
use crate::error::{Error, Lost};
use bytes::{Buf, Bytes};
use seashell_proto::{Channel, ChannelId, ClientConnection, Event, ServerConnection};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Instant;

/// Bytes handed to the core for sending and not yet written to the socket, above which
/// writers wait for the driver (memory stays bounded when the socket is slower than the
/// writers).
pub(crate) const SEND_HIGH_WATER: usize = 1 << 20;

/// The tasks waiting for one thing.
#[derive(Debug, Default)]
pub(crate) struct WakerSet(Vec<Waker>);

impl WakerSet {
    /// Adds `w` unless it is already there.
    pub fn register(&mut self, w: &Waker) {
        if !self.0.iter().any(|x| x.will_wake(w)) {
            self.0.push(w.clone());
        }
    }

    /// Wakes and forgets every waiter.
    pub fn wake(&mut self) {
        for w in self.0.drain(..) {
            w.wake();
        }
    }
}

/// Either role of the core; the driver treats both alike. (One per connection, inside an
/// `Arc`: the size difference between the roles does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Conn {
    Client(ClientConnection),
    Server(ServerConnection),
}

macro_rules! both {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            Conn::Client($c) => $e,
            Conn::Server($c) => $e,
        }
    };
}

impl Conn {
    pub fn feed(&mut self, now: Instant, data: &[u8]) -> Result<(), seashell_proto::Error> {
        both!(self, c => c.feed(now, data))
    }
    pub fn feed_eof(&mut self, now: Instant) -> Result<(), seashell_proto::Error> {
        both!(self, c => c.feed_eof(now))
    }
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), seashell_proto::Error> {
        both!(self, c => c.handle_timeout(now))
    }
    pub fn poll_timeout(&self) -> Option<Instant> {
        both!(self, c => c.poll_timeout())
    }
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        both!(self, c => c.poll_transmit(buf))
    }
    pub fn wants_write(&self) -> bool {
        both!(self, c => c.wants_write())
    }
    pub fn poll_event(&mut self) -> Option<Event> {
        both!(self, c => c.poll_event())
    }
    pub fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
        both!(self, c => c.channel(id))
    }
    pub fn disconnect(&mut self) {
        both!(self, c => c.disconnect())
    }
    pub fn is_closed(&self) -> bool {
        both!(self, c => c.is_closed())
    }
    pub fn key_exchanges(&self) -> u64 {
        both!(self, c => c.key_exchanges())
    }
    pub fn negotiated(&self) -> Option<&seashell_proto::kex::negotiate::Negotiated> {
        both!(self, c => c.negotiated())
    }
}

/// What arrived for one channel and has not been read yet, and who waits on it.
#[derive(Debug, Default)]
pub(crate) struct ChanState {
    /// Channel data (client: the command's stdout; server: its stdin).
    pub data: VecDeque<Bytes>,
    /// Extended data type 1 (client: the command's stderr).
    pub ext: VecDeque<Bytes>,
    /// Bytes in `data` and `ext`.
    pub buffered: usize,
    pub opened: Option<Result<(), String>>,
    pub replies: VecDeque<bool>,
    pub eof: bool,
    pub closed: bool,
    pub exit: Option<ExitStatus>,
    /// Client: every handle is gone; close as soon as the channel is open, forget it once
    /// closed.
    pub dropped: bool,
    pub data_readers: WakerSet,
    pub ext_readers: WakerSet,
    pub writers: WakerSet,
    /// Waiters for anything else: open, replies, exit, EOF, close.
    pub watchers: WakerSet,
}

impl ChanState {
    fn wake_all(&mut self) {
        self.data_readers.wake();
        self.ext_readers.wake();
        self.writers.wake();
        self.watchers.wake();
    }

    /// Moves up to `cap` queued bytes of one stream into `put`; returns how many.
    pub fn take(&mut self, ext: bool, cap: usize, mut put: impl FnMut(&[u8])) -> usize {
        let q = if ext { &mut self.ext } else { &mut self.data };
        let mut n = 0;
        while n < cap {
            let Some(front) = q.front_mut() else { break };
            let k = front.len().min(cap - n);
            put(front.get(..k).unwrap_or_default());
            front.advance(k);
            n += k;
            if front.is_empty() {
                q.pop_front();
            }
        }
        self.buffered -= n;
        n
    }
}

/// Everything behind the mutex.
#[derive(Debug)]
pub(crate) struct State {
    pub conn: Conn,
    pub channels: HashMap<ChannelId, ChanState>,
    /// Client: host-key and auth events for the handshake, until it ends.
    pub control: VecDeque<Event>,
    pub control_open: bool,
    pub control_waiters: WakerSet,
    pub lost: Option<Lost>,
    /// The driver has ended (the connection is gone).
    pub done: bool,
    pub driver: Option<Waker>,
    /// See [`SEND_HIGH_WATER`].
    pub unsent: usize,
    pub send_waiters: WakerSet,
    /// Client: answers to pings not yet claimed by their `Session::ping` (bounded: the
    /// answers of cancelled pings are dropped oldest first).
    pub pongs: VecDeque<Bytes>,
    /// Client: the data of the last ping sent (a counter).
    pub ping_serial: u64,
}

/// Most unclaimed ping answers kept.
const MAX_PONGS: usize = 64;

/// The shared half of a connection.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub fn new(conn: Conn) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                conn,
                channels: HashMap::new(),
                control: VecDeque::new(),
                control_open: true,
                control_waiters: WakerSet::default(),
                lost: None,
                done: false,
                driver: None,
                unsent: 0,
                send_waiters: WakerSet::default(),
                pongs: VecDeque::new(),
                ping_serial: 0,
            }),
        })
    }

    /// Locks the state (a panic elsewhere does not poison it for everyone).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Lets the driver run: the application queued something for it.
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

    pub fn wake_all(&mut self) {
        for ch in self.channels.values_mut() {
            ch.wake_all();
        }
        self.control_waiters.wake();
        self.send_waiters.wake();
    }

    /// The client core (every handle that calls this was made by a client).
    pub fn client(&mut self) -> Result<&mut ClientConnection, Error> {
        match &mut self.conn {
            Conn::Client(c) => Ok(c),
            Conn::Server(_) => Err(Error::Refused("not a client connection".into())),
        }
    }

    /// The server core.
    pub fn server(&mut self) -> Option<&mut ServerConnection> {
        match &mut self.conn {
            Conn::Server(s) => Some(s),
            Conn::Client(_) => None,
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

    /// Files one event. Returns the events that are not about a channel (decisions, auth
    /// progress) for the caller to handle.
    pub fn file(&mut self, ev: Event) -> Option<Event> {
        let server = matches!(self.conn, Conn::Server(_));
        match ev {
            Event::ChannelOpened(id) => {
                let dropped = self.with(id, |c| {
                    c.opened = Some(Ok(()));
                    c.watchers.wake();
                    c.dropped
                });
                if dropped == Some(true)
                    && let Some(mut ch) = self.conn.channel(id)
                {
                    let _ = ch.close();
                }
            }
            Event::ChannelOpenFailed {
                id,
                reason,
                description,
            } => {
                self.with(id, |c| {
                    c.opened = Some(Err(format!(
                        "channel open failed (reason {reason}): {description}"
                    )));
                    c.closed = true;
                    c.wake_all();
                });
                self.forget_if_dropped(id, server);
            }
            Event::Data { id, data } => self.push_data(id, false, data),
            // The blocking server discards the client's extended data too: nothing reads it,
            // and unread it would hold the shared window shut.
            Event::ExtendedData { id, data, .. } if server => self.consume(id, data.len()),
            Event::ExtendedData { id, data, .. } => self.push_data(id, true, data),
            Event::Writable(id) => {
                self.with(id, |c| c.writers.wake());
            }
            Event::RequestSucceeded(id) | Event::RequestFailed(id) => {
                let ok = matches!(ev, Event::RequestSucceeded(_));
                self.with(id, |c| {
                    c.replies.push_back(ok);
                    c.watchers.wake();
                });
            }
            Event::ExitStatus { id, status } => {
                self.with(id, |c| {
                    c.exit = Some(ExitStatus::Code(status));
                    c.watchers.wake();
                });
            }
            Event::ExitSignal { id, signal, .. } => {
                self.with(id, |c| {
                    c.exit = Some(ExitStatus::Signal(signal));
                    c.watchers.wake();
                });
            }
            Event::Eof(id) => {
                self.with(id, |c| {
                    c.eof = true;
                    c.wake_all();
                });
            }
            Event::Closed(id) => {
                self.with(id, |c| {
                    c.closed = true;
                    c.eof = true;
                    c.wake_all();
                });
                self.forget_if_dropped(id, server);
            }
            Event::Pong(data) => {
                if self.pongs.len() >= MAX_PONGS {
                    self.pongs.pop_front();
                }
                self.pongs.push_back(data);
                self.control_waiters.wake();
            }
            Event::ConnectionLost(e) => self.set_lost(Lost::Ssh(e)),
            other => return Some(other),
        }
        None
    }

    /// Client: queues a handshake event for `Client::handshake`; later ones are dropped.
    pub fn push_control(&mut self, ev: Event) {
        if self.control_open {
            self.control.push_back(ev);
            self.control_waiters.wake();
        }
    }

    fn with<T>(&mut self, id: ChannelId, f: impl FnOnce(&mut ChanState) -> T) -> Option<T> {
        self.channels.get_mut(&id).map(f)
    }

    /// Server channels are forgotten when closed (their handles then read EOF and refuse
    /// writes); client channels once their handles are gone too.
    fn forget_if_dropped(&mut self, id: ChannelId, server: bool) {
        if server || self.channels.get(&id).is_some_and(|c| c.dropped) {
            self.channels.remove(&id);
        }
    }

    fn push_data(&mut self, id: ChannelId, ext: bool, data: Bytes) {
        match self.channels.get_mut(&id) {
            Some(c) => {
                c.buffered += data.len();
                if ext {
                    c.ext.push_back(data);
                    c.ext_readers.wake();
                } else {
                    c.data.push_back(data);
                    c.data_readers.wake();
                }
            }
            // Nobody will read it: give the window back.
            None => self.consume(id, data.len()),
        }
    }
}
