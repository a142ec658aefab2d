//! [`Pump`]: the I/O-free half of a connection driver, the same for every adapter.

use crate::error::{Error, Lost};
use crate::gate::ConnectionGate;
use crate::server::{Decisions, Handler};
use crate::shared::{SEND_HIGH_WATER, SEND_LOW_WATER, Shared, State};
use crate::write_deadline::{DEFAULT_WRITE_TIMEOUT, WriteDeadline};
use seashell_proto::Event;
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

/// Who answers the events that are decisions (a server's [`Handler`]); a client's go to its
/// handshake.
pub(crate) trait Decide: Send {
    /// Handles one event the state did not file. Called without the lock held.
    fn decide(&mut self, shared: &Arc<Shared>, ev: Event);

    /// The connection has ended, having carried these bytes (read, written).
    fn traffic(&mut self, bytes_in: u64, bytes_out: u64) {
        let _ = (bytes_in, bytes_out);
    }
}

/// The I/O-free half of a connection driver, the same for every adapter. The adapter's
/// driver (a blocking I/O thread, an async task) owns the socket and a clock and
/// calls the pump in a loop:
///
/// 1. when [`wants_read`](Pump::wants_read), read the socket into a buffer and hand it to
///    [`received`](Pump::received) (an empty slice is EOF) or report
///    [`read_failed`](Pump::read_failed);
/// 2. [`events`](Pump::events): files what the core reported and answers decisions;
/// 3. write [`output`](Pump::output) to the socket, reporting [`wrote`](Pump::wrote) or
///    [`write_failed`](Pump::write_failed) (output the socket takes none of for the write
///    timeout ends the connection: see [`set_write_timeout`](Pump::set_write_timeout));
/// 4. sleep until readable, writable, [`timeout`](Pump::timeout) (then
///    [`handle_timeout`](Pump::handle_timeout)) or the waker given to
///    [`set_waker`](Pump::set_waker) (the application queued something);
/// 5. stop once [`finished`](Pump::finished) says so.
///
/// A client pump also ends the connection (with a DISCONNECT) once no handle is left
/// ([`orphaned`](Pump::orphaned)).
pub struct Pump {
    shared: Arc<Shared>,
    decide: Option<Box<dyn Decide>>,
    out: Vec<u8>,
    out_pos: usize,
    read_done: bool,
    write_failed: bool,
    finished: bool,
    /// When the socket must next take a byte of the output.
    deadline: WriteDeadline,
    /// Bytes read from and written to the socket.
    bytes_in: u64,
    bytes_out: u64,
    /// Wakers taken from the state, woken after its lock is released.
    wakes: Vec<Waker>,
}

impl std::fmt::Debug for Pump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pump")
            .field("unsent", &(self.out.len() - self.out_pos))
            .field("read_done", &self.read_done)
            .finish_non_exhaustive()
    }
}

impl Pump {
    /// The pump of a client connection: handshake events go to its control queue.
    pub fn client(shared: Arc<Shared>) -> Pump {
        Pump::new(shared, None)
    }

    /// The pump of a server connection: `handler` makes its decisions, on the driver.
    pub fn server<H: Handler>(shared: Arc<Shared>, handler: H) -> Pump {
        Pump::new(shared, Some(Box::new(Decisions::new(handler, None))))
    }

    /// [`server`](Self::server) for a connection admitted through a server's
    /// [`Gate`](crate::Gate): its authentication and its end update the gate (startups,
    /// penalties, counters).
    pub fn gated<H: Handler>(shared: Arc<Shared>, handler: H, gate: ConnectionGate) -> Pump {
        let timeout = gate.write_timeout();
        let mut pump = Pump::new(shared, Some(Box::new(Decisions::new(handler, Some(gate)))));
        pump.set_write_timeout(timeout);
        pump
    }

    fn new(shared: Arc<Shared>, decide: Option<Box<dyn Decide>>) -> Pump {
        Pump {
            shared,
            decide,
            out: Vec::new(),
            out_pos: 0,
            read_done: false,
            write_failed: false,
            finished: false,
            deadline: WriteDeadline::new(Some(DEFAULT_WRITE_TIMEOUT)),
            bytes_in: 0,
            bytes_out: 0,
            wakes: Vec::new(),
        }
    }

    /// How long output may wait for a socket that takes none of it before the connection
    /// is dropped ([`DEFAULT_WRITE_TIMEOUT`](crate::DEFAULT_WRITE_TIMEOUT) unless set; `None`:
    /// no limit). Once the connection is closing, its last bytes get at most
    /// [`CLOSING_WRITE_TIMEOUT`](crate::CLOSING_WRITE_TIMEOUT) whatever this says.
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.deadline.set_timeout(timeout);
    }

    /// The connection's shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Sets the waker handles wake when they queued work for the driver.
    pub fn set_waker(&self, w: &Waker) {
        let mut st = self.shared.lock();
        if !st.driver.as_ref().is_some_and(|d| d.will_wake(w)) {
            st.driver = Some(w.clone());
        }
    }

    /// Whether to read the socket now: not after EOF, and not while more than
    /// [`SEND_HIGH_WATER`] bytes wait to be sent, here or in the core (OpenSSH's rule: a
    /// peer that does not read cannot make us buffer without bound; the core's own cap,
    /// `max_pending_output`, is the backstop).
    pub fn wants_read(&self) -> bool {
        if self.read_done {
            return false;
        }
        let ours = self.out.len() - self.out_pos;
        ours < SEND_HIGH_WATER && ours + self.shared.lock().conn.pending_output() < SEND_HIGH_WATER
    }

    /// Feeds bytes read from the socket (empty: the peer closed it) to the core. Call
    /// [`events`](Self::events) next: it wakes whoever waits for what arrived.
    pub fn received(&mut self, now: Instant, data: &[u8]) {
        self.bytes_in += data.len() as u64;
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        // Errors come back as `ConnectionLost` events.
        if data.is_empty() {
            self.read_done = true;
            let _ = st.conn.feed_eof(now);
        } else {
            let _ = st.conn.feed(now, data);
        }
        if st.conn.is_closed() {
            self.read_done = true;
        }
        st.reads += 1;
        // Woken by the next `events`, with everything this read brought.
        st.read_waiters.wake_later(&mut st.wake_later);
    }

    /// The socket failed while reading.
    pub fn read_failed(&mut self, e: io::Error) {
        self.read_done = true;
        self.fail(e);
    }

    /// The socket failed while writing: nothing more can be sent.
    pub fn write_failed(&mut self, e: io::Error) {
        self.write_failed = true;
        self.fail(e);
    }

    fn fail(&mut self, e: io::Error) {
        let mut st = self.shared.lock();
        st.set_lost(Lost::Io(Arc::new(e)));
        st.conn.disconnect();
    }

    /// Files every pending event and answers decisions. Returns whether there were any.
    pub fn events(&mut self) -> bool {
        let mut any = false;
        loop {
            let pending = {
                let mut st = self.shared.lock();
                let ev = loop {
                    let Some(ev) = st.conn.poll_event() else {
                        break None;
                    };
                    any = true;
                    if let Some(ev) = st.file(ev) {
                        if self.decide.is_some() {
                            break Some(ev);
                        }
                        st.push_control(ev);
                    }
                };
                std::mem::swap(&mut self.wakes, &mut st.wake_later);
                ev
            };
            for w in self.wakes.drain(..) {
                w.wake();
            }
            match (pending, self.decide.as_mut()) {
                (Some(ev), Some(d)) => d.decide(&self.shared, ev),
                _ => return any,
            }
        }
    }

    /// The bytes to write to the socket at `now` (empty: nothing to send). Takes what the
    /// core has queued once the previous bytes are written.
    pub fn output(&mut self, now: Instant) -> &[u8] {
        if self.write_failed {
            return &[];
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            let mut st = self.shared.lock();
            if st.conn.wants_write() {
                st.conn.poll_transmit(&mut self.out);
            }
            st.queued = 0;
            self.update(&mut st);
            if st.conn.is_closed() {
                self.deadline.closing(now);
            }
        } else if !self.deadline.is_closing() && self.shared.lock().conn.is_closed() {
            self.deadline.closing(now);
        }
        self.deadline
            .waiting(now, self.out.len() - self.out_pos, false);
        self.out.get(self.out_pos..).unwrap_or_default()
    }

    /// `n` bytes of [`output`](Self::output) were written at `now`.
    pub fn wrote(&mut self, now: Instant, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        self.bytes_out += n as u64;
        self.deadline
            .waiting(now, self.out.len() - self.out_pos, n > 0);
        let mut st = self.shared.lock();
        self.update(&mut st);
    }

    /// Publishes what is left to send, and lets writers held at the high-water mark go on
    /// once it is down to the low-water mark.
    fn update(&self, st: &mut State) {
        st.out_pending = self.out.len() - self.out_pos;
        if st.unsent() <= SEND_LOW_WATER {
            st.send_waiters.wake();
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due: the core's next timer or
    /// the write deadline, whichever is first.
    pub fn timeout(&self) -> Option<Instant> {
        let core = self.shared.lock().conn.poll_timeout();
        match (core, self.deadline.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the core's timers due at `now` (the login grace time, keepalives and the idle
    /// timeout fire whatever the socket is doing), and ends the connection if the socket
    /// has taken none of the output for the write timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.expired(now) && !self.write_failed {
            let unsent = self.out.len() - self.out_pos;
            self.write_failed(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer took none of the {unsent} bytes waiting to be sent in time"),
            ));
            return;
        }
        let mut st = self.shared.lock();
        let _ = st.conn.handle_timeout(now);
        if st.conn.is_closed() {
            self.deadline.closing(now);
        }
    }

    /// Client: when every handle on the connection is gone, says goodbye (a DISCONNECT to
    /// send). Returns whether it did.
    pub fn orphaned(&mut self) -> bool {
        let mut st = self.shared.lock();
        let orphan = self.decide.is_none() && st.handles == 0;
        if orphan && !st.conn.is_closed() {
            st.conn.disconnect();
            return true;
        }
        false
    }

    /// Ended once the core is closed and its last bytes (the DISCONNECT) are written or can
    /// no longer be: then every waiter is woken, and the result says whether the socket
    /// failed.
    pub fn finished(&mut self) -> Option<Result<(), Error>> {
        let mut st = self.shared.lock();
        let flushed = self.out_pos == self.out.len() && !st.conn.wants_write();
        if !st.conn.is_closed() || !(flushed || self.write_failed) {
            return None;
        }
        self.finished = true;
        st.done = true;
        st.wake_all();
        let result = match &st.lost {
            Some(l @ Lost::Io(_)) => Err(l.error()),
            _ => Ok(()),
        };
        let reason = st.check().err();
        crate::trace::event!(
            info,
            st.span,
            bytes_in = self.bytes_in,
            bytes_out = self.bytes_out,
            reason = %reason.as_ref().map_or_else(|| "closed".to_owned(), |e| e.to_string()),
            "connection ended"
        );
        drop(st);
        #[cfg(not(feature = "tracing"))]
        let _ = reason;
        if let Some(d) = self.decide.as_mut() {
            d.traffic(self.bytes_in, self.bytes_out);
        }
        Some(result)
    }
}

impl Drop for Pump {
    /// A driver stopped before the end (its runtime shut down, its thread panicked) leaves
    /// no waiter hanging.
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.driver = None;
        if !self.finished && !st.done {
            st.done = true;
            st.set_lost(Lost::Io(Arc::new(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the connection driver stopped",
            ))));
        }
        st.wake_all();
    }
}
