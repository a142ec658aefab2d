//! What a server's accept loop decides, the same for every adapter: how long to pause after
//! `accept` fails ([`AcceptBackoff`]), and the set of live connections a graceful shutdown
//! stops and drains ([`Connections`], [`ShutdownHandle`]).

use crate::shared::Shared;
use crate::wait::WakerSet;
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The first pause after `accept` fails for want of a resource.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause: the loop tries again at least this often.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The pause after a failed `accept`: none for a connection that died in the backlog,
/// growing (10 ms, doubling, at most 1 s) while descriptors or memory are exhausted, so
/// the server neither spins nor gives up; the listener itself broken is fatal.
#[derive(Debug, Default, Clone)]
pub struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    /// A new backoff (no failures yet).
    pub fn new() -> AcceptBackoff {
        AcceptBackoff::default()
    }

    /// `accept` returned a connection: the next failure starts from the shortest pause.
    pub fn accepted(&mut self) {
        self.failures = 0;
    }

    /// `accept` failed with `e`: how long to pause before the next try, or the error back
    /// when the listener cannot accept again (closed, not a socket).
    pub fn failed(&mut self, e: io::Error) -> Result<Duration, io::Error> {
        use rustix::io::Errno;
        let errno = e.raw_os_error().map(Errno::from_raw_os_error);
        match errno {
            // The connection was aborted or reset while queued, a signal, a firewall's
            // refusal, a transient protocol error: the next one may be fine.
            Some(
                Errno::CONNABORTED
                | Errno::CONNRESET
                | Errno::INTR
                | Errno::AGAIN
                | Errno::PROTO
                | Errno::PERM
                | Errno::NETDOWN
                | Errno::HOSTUNREACH
                | Errno::NETUNREACH
                | Errno::TIMEDOUT,
            ) => Ok(Duration::ZERO),
            // The listener is gone.
            Some(Errno::BADF | Errno::NOTSOCK | Errno::INVAL | Errno::OPNOTSUPP) => Err(e),
            // Out of descriptors (EMFILE, ENFILE), buffers or memory, or anything unknown:
            // pause, longer each time, and try again.
            _ => {
                let pause = FIRST_PAUSE
                    .saturating_mul(1u32 << self.failures.min(16))
                    .min(MAX_PAUSE);
                self.failures = self.failures.saturating_add(1);
                Ok(pause)
            }
        }
    }
}

/// The live connections of one server, for a graceful shutdown: stop accepting, let the
/// sessions end by themselves up to a deadline, then disconnect the rest.
#[derive(Debug, Default)]
pub struct Connections {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// By registration number (a map: thousands of connections may end at once).
    live: HashMap<u64, Weak<Shared>>,
    next: u64,
    stopping: bool,
    /// Woken when shutdown starts (the accept loop) and when a connection ends (the drain).
    waiters: WakerSet,
}

impl Connections {
    /// An empty set.
    pub fn new() -> Arc<Connections> {
        Arc::new(Connections::default())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a connection; it leaves the set when the returned guard is dropped.
    pub fn register(self: &Arc<Self>, shared: &Arc<Shared>) -> Registered {
        let mut inner = self.lock();
        let id = inner.next;
        inner.next += 1;
        inner.live.insert(id, Arc::downgrade(shared));
        Registered {
            set: self.clone(),
            id,
        }
    }

    /// How many connections are live.
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    /// Whether no connection is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts the shutdown: the accept loop stops taking connections.
    pub fn stop(&self) {
        let mut inner = self.lock();
        inner.stopping = true;
        inner.waiters.wake();
    }

    /// Whether the shutdown has started.
    pub fn is_stopping(&self) -> bool {
        self.lock().stopping
    }

    /// Ready once the shutdown has started (registers `cx` otherwise).
    pub fn poll_stopping(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.lock();
        if inner.stopping {
            return Poll::Ready(());
        }
        inner.waiters.register(cx.waker());
        Poll::Pending
    }

    /// Ready once no connection is live (registers `cx` otherwise).
    pub fn poll_drained(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.lock();
        if inner.live.is_empty() {
            return Poll::Ready(());
        }
        inner.waiters.register(cx.waker());
        Poll::Pending
    }

    /// Ends every live connection with a DISCONNECT.
    pub fn disconnect_all(&self) {
        let live: Vec<Arc<Shared>> = self
            .lock()
            .live
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for shared in live {
            shared.disconnect();
        }
    }

    /// Registers a waker for the next change (used by loops that wait on several things).
    pub fn register_waker(&self, w: &Waker) {
        self.lock().waiters.register(w);
    }
}

/// A connection's place in [`Connections`]; dropping it removes the connection.
#[derive(Debug)]
pub struct Registered {
    set: Arc<Connections>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut inner = self.set.lock();
        inner.live.remove(&self.id);
        inner.waiters.wake();
    }
}

/// Stops a running server gracefully, from any thread or task: it stops accepting, lets
/// live sessions end by themselves for the drain time, then disconnects the rest; the
/// server's `run` then returns.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    connections: Arc<Connections>,
    drain: Arc<Mutex<Duration>>,
}

impl ShutdownHandle {
    /// The handle of a server whose connections are `connections`.
    pub fn new(connections: Arc<Connections>) -> ShutdownHandle {
        ShutdownHandle {
            connections,
            drain: Arc::new(Mutex::new(Duration::ZERO)),
        }
    }

    /// Starts the shutdown, letting sessions run for up to `drain` before they are
    /// disconnected.
    pub fn shutdown(&self, drain: Duration) {
        *self.drain.lock().unwrap_or_else(|p| p.into_inner()) = drain;
        self.connections.stop();
    }

    /// The drain time the shutdown was started with.
    pub fn drain(&self) -> Duration {
        *self.drain.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The server's live connections.
    pub fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(e: rustix::io::Errno) -> io::Error {
        io::Error::from_raw_os_error(e.raw_os_error())
    }

    #[test]
    fn exhausted_descriptors_pause_longer_each_time_up_to_a_second() {
        use rustix::io::Errno;
        let mut b = AcceptBackoff::new();
        let pauses: Vec<Duration> = (0..10)
            .map(|_| b.failed(errno(Errno::MFILE)).unwrap())
            .collect();
        assert_eq!(pauses[0], FIRST_PAUSE);
        assert_eq!(pauses[1], FIRST_PAUSE * 2);
        assert!(pauses.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*pauses.last().unwrap(), MAX_PAUSE);
        assert_eq!(b.failed(errno(Errno::NFILE)).unwrap(), MAX_PAUSE);
        b.accepted();
        assert_eq!(b.failed(errno(Errno::NOBUFS)).unwrap(), FIRST_PAUSE);
    }

    #[test]
    fn aborted_connections_retry_at_once_and_a_broken_listener_is_fatal() {
        use rustix::io::Errno;
        let mut b = AcceptBackoff::new();
        assert_eq!(b.failed(errno(Errno::CONNABORTED)).unwrap(), Duration::ZERO);
        assert_eq!(b.failed(errno(Errno::INTR)).unwrap(), Duration::ZERO);
        assert!(b.failed(errno(Errno::BADF)).is_err());
        assert!(b.failed(errno(Errno::NOTSOCK)).is_err());
    }
}
