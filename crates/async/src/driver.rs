//! The connection driver: one future per connection that moves bytes between the socket and
//! the core, sleeps until the core's next deadline, files events and wakes the tasks that
//! wait on them (quinn's `ConnectionDriver` pattern). No protocol logic lives here.

use crate::error::{Error, Lost};
use crate::runtime::{AsyncSocket, AsyncTimer, Runtime};
use crate::state::{SEND_HIGH_WATER, Shared};
use futures_io::{AsyncRead, AsyncWrite};
use seashell_proto::Event;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// Socket read size.
const READ_CHUNK: usize = 64 * 1024;
/// Rounds of read/transmit/timer work per poll before the driver yields to other tasks.
const BUDGET: usize = 32;

/// Who answers the events that are decisions. The client's handshake reads them from the
/// control queue; a server's [`Handler`](crate::Handler) answers them on the driver task.
pub(crate) trait Decide: Send {
    /// Handles one event the state did not file. Called without the lock held.
    fn decide(&mut self, shared: &Arc<Shared>, ev: Event);
}

/// The future that runs one connection until it ends.
pub(crate) struct Driver {
    shared: Arc<Shared>,
    sock: Box<dyn AsyncSocket>,
    runtime: Arc<dyn Runtime>,
    timer: Option<Pin<Box<dyn AsyncTimer>>>,
    timer_at: Option<Instant>,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    wpos: usize,
    read_done: bool,
    write_failed: bool,
    needs_flush: bool,
    /// `None` for a client: decisions go to the control queue, and the connection ends when
    /// every handle on it is gone.
    decide: Option<Box<dyn Decide>>,
}

impl Driver {
    pub fn new(
        shared: Arc<Shared>,
        sock: Box<dyn AsyncSocket>,
        runtime: Arc<dyn Runtime>,
        decide: Option<Box<dyn Decide>>,
    ) -> Driver {
        Driver {
            shared,
            sock,
            runtime,
            timer: None,
            timer_at: None,
            rbuf: vec![0; READ_CHUNK],
            wbuf: Vec::new(),
            wpos: 0,
            read_done: false,
            write_failed: false,
            needs_flush: false,
            decide,
        }
    }

    /// One socket read, fed to the core.
    fn read(&mut self, cx: &mut Context<'_>) -> bool {
        if self.read_done {
            return false;
        }
        let Poll::Ready(r) = Pin::new(&mut self.sock).poll_read(cx, &mut self.rbuf) else {
            return false;
        };
        let now = self.runtime.now();
        let mut st = self.shared.lock();
        match r {
            // Errors come back as `ConnectionLost` events; nothing to do with them here.
            Ok(0) => {
                self.read_done = true;
                let _ = st.conn.feed_eof(now);
            }
            Ok(n) => {
                let _ = st.conn.feed(now, self.rbuf.get(..n).unwrap_or_default());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                self.read_done = true;
                st.set_lost(Lost::Io(e.kind(), e.to_string()));
                st.conn.disconnect();
            }
        }
        if st.conn.is_closed() {
            self.read_done = true;
        }
        true
    }

    /// Files every pending event; hands decisions to whoever answers them.
    fn events(&mut self) -> bool {
        let mut any = false;
        loop {
            let ev = {
                let mut st = self.shared.lock();
                let Some(ev) = st.conn.poll_event() else {
                    break;
                };
                any = true;
                match st.file(ev) {
                    Some(ev) if self.decide.is_none() => {
                        st.push_control(ev);
                        None
                    }
                    other => other,
                }
            };
            if let (Some(ev), Some(d)) = (ev, self.decide.as_mut()) {
                d.decide(&self.shared, ev);
            }
        }
        any
    }

    /// Writes what the core has queued until the socket pushes back.
    fn transmit(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while !self.write_failed {
            if self.wpos == self.wbuf.len() {
                self.wbuf.clear();
                self.wpos = 0;
                let mut st = self.shared.lock();
                st.conn.poll_transmit(&mut self.wbuf);
                st.unsent = self.wbuf.len();
                if self.wbuf.is_empty() {
                    st.send_waiters.wake();
                    drop(st);
                    if self.needs_flush && Pin::new(&mut self.sock).poll_flush(cx).is_ready() {
                        self.needs_flush = false;
                    }
                    return progress;
                }
            }
            let rest = self.wbuf.get(self.wpos..).unwrap_or_default();
            match Pin::new(&mut self.sock).poll_write(cx, rest) {
                Poll::Pending => return progress,
                Poll::Ready(Ok(n)) if n > 0 => {
                    self.wpos += n;
                    self.needs_flush = true;
                    progress = true;
                    let mut st = self.shared.lock();
                    st.unsent = self.wbuf.len() - self.wpos;
                    if st.unsent < SEND_HIGH_WATER {
                        st.send_waiters.wake();
                    }
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(r) => {
                    let e = r.err().unwrap_or_else(|| io::ErrorKind::WriteZero.into());
                    self.write_failed = true;
                    let mut st = self.shared.lock();
                    st.set_lost(Lost::Io(e.kind(), e.to_string()));
                    st.conn.disconnect();
                    return true;
                }
            }
        }
        progress
    }

    /// Runs the core's timers when due, else arms the runtime timer for the next deadline.
    fn timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.shared.lock().conn.poll_timeout() else {
            return false;
        };
        let now = self.runtime.now();
        if now >= at {
            let _ = self.shared.lock().conn.handle_timeout(now);
            self.timer_at = None;
            return true;
        }
        match &mut self.timer {
            None => self.timer = Some(self.runtime.new_timer(at)),
            Some(t) if self.timer_at != Some(at) => t.as_mut().reset(at),
            Some(_) => {}
        }
        self.timer_at = Some(at);
        let fired = self
            .timer
            .as_mut()
            .is_some_and(|t| t.as_mut().poll(cx).is_ready());
        if fired {
            // The runtime's clock says the deadline passed, even if ours rounds lower.
            let _ = self.shared.lock().conn.handle_timeout(now.max(at));
            self.timer_at = None;
        }
        fired
    }

    /// Client: when every handle is gone, says goodbye (a DISCONNECT to send).
    fn orphaned(&mut self) -> bool {
        let mut st = self.shared.lock();
        let orphan = self.decide.is_none() && Arc::strong_count(&self.shared) == 1;
        if orphan && !st.conn.is_closed() {
            st.conn.disconnect();
            return true;
        }
        false
    }

    /// Ended once the core is closed and its last bytes (the DISCONNECT) are written.
    fn finished(&mut self, cx: &mut Context<'_>) -> Option<Result<(), Error>> {
        let mut st = self.shared.lock();
        let flushed = self.wpos == self.wbuf.len() && !st.conn.wants_write();
        if !st.conn.is_closed() || !(flushed || self.write_failed) {
            return None;
        }
        let _ = Pin::new(&mut self.sock).poll_close(cx);
        st.done = true;
        st.wake_all();
        Some(match &st.lost {
            Some(Lost::Io(kind, msg)) => Err(Error::Io(io::Error::new(*kind, msg.clone()))),
            _ => Ok(()),
        })
    }
}

impl Future for Driver {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        {
            let mut st = this.shared.lock();
            if !st.driver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                st.driver = Some(cx.waker().clone());
            }
        }
        for _ in 0..BUDGET {
            let mut progress = this.orphaned();
            progress |= this.read(cx);
            progress |= this.events();
            progress |= this.transmit(cx);
            progress |= this.timer(cx);
            if let Some(r) = this.finished(cx) {
                return Poll::Ready(r);
            }
            if !progress {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Drop for Driver {
    /// A driver dropped before the end (its runtime shut down) leaves no task hanging.
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.driver = None;
        if !st.done {
            st.done = true;
            st.set_lost(Lost::Io(
                io::ErrorKind::ConnectionAborted,
                "the connection driver stopped".into(),
            ));
        }
        st.wake_all();
    }
}
