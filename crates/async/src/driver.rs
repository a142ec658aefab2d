//! The connection driver: one future per connection that moves bytes between the socket and
//! the shared [`Pump`] and sleeps until the core's next deadline (quinn's `ConnectionDriver`
//! pattern). Everything that is not socket or timer work is the pump's.

use crate::runtime::{AsyncSocket, AsyncTimer, Runtime};
use futures_io::{AsyncRead, AsyncWrite};
use seashell_adapter::{Error, Pump};
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

/// The future that runs one connection until it ends.
pub(crate) struct Driver {
    pump: Pump,
    sock: Box<dyn AsyncSocket>,
    runtime: Arc<dyn Runtime>,
    timer: Option<Pin<Box<dyn AsyncTimer>>>,
    timer_at: Option<Instant>,
    rbuf: Vec<u8>,
    needs_flush: bool,
}

impl Driver {
    pub fn new(pump: Pump, sock: Box<dyn AsyncSocket>, runtime: Arc<dyn Runtime>) -> Driver {
        Driver {
            pump,
            sock,
            runtime,
            timer: None,
            timer_at: None,
            rbuf: vec![0; READ_CHUNK],
            needs_flush: false,
        }
    }

    /// One socket read, fed to the core.
    fn read(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.pump.wants_read() {
            return false;
        }
        let Poll::Ready(r) = Pin::new(&mut self.sock).poll_read(cx, &mut self.rbuf) else {
            return false;
        };
        match r {
            Ok(n) => {
                let now = self.runtime.now();
                self.pump
                    .received(now, self.rbuf.get(..n).unwrap_or_default());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => self.pump.read_failed(e),
        }
        true
    }

    /// Writes what the core has queued until the socket pushes back.
    fn transmit(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        loop {
            let now = self.runtime.now();
            let out = self.pump.output(now);
            if out.is_empty() {
                if self.needs_flush && Pin::new(&mut self.sock).poll_flush(cx).is_ready() {
                    self.needs_flush = false;
                }
                return progress;
            }
            match Pin::new(&mut self.sock).poll_write(cx, out) {
                Poll::Pending => return progress,
                Poll::Ready(Ok(n)) if n > 0 => {
                    self.pump.wrote(now, n);
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(r) => {
                    let e = r.err().unwrap_or_else(|| io::ErrorKind::WriteZero.into());
                    self.pump.write_failed(e);
                    return true;
                }
            }
        }
    }

    /// Runs the core's timers when due, else arms the runtime timer for the next deadline.
    fn timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.pump.timeout() else {
            return false;
        };
        let now = self.runtime.now();
        if now >= at {
            self.pump.handle_timeout(now);
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
            self.pump.handle_timeout(now.max(at));
            self.timer_at = None;
        }
        fired
    }
}

impl Future for Driver {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.pump.set_waker(cx.waker());
        for _ in 0..BUDGET {
            let mut progress = this.pump.orphaned();
            progress |= this.read(cx);
            progress |= this.pump.events();
            progress |= this.transmit(cx);
            progress |= this.timer(cx);
            if let Some(r) = this.pump.finished() {
                let _ = Pin::new(&mut this.sock).poll_close(cx);
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
