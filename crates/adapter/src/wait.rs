//! Who waits for what: sets of wakers, and waiting for a poll function on a plain thread.
//!
//! Every operation of the session layer is a poll function taking a
//! [`Context`](std::task::Context). The async adapters `.await` them; the blocking adapter runs
//! them with [`block_on`], whose waker unparks the waiting thread. So the two share every line
//! of session logic and differ only in how a waiter sleeps.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// The tasks or threads waiting for one thing.
#[derive(Debug, Default)]
pub struct WakerSet(Vec<Waker>);

impl WakerSet {
    /// Adds `w` unless it (or a waker that wakes the same task) is already there.
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

    /// Moves every waiter to `out`, to be woken once a lock is released (a woken thread then
    /// does not run into the lock the waker still holds).
    pub fn wake_later(&mut self, out: &mut Vec<Waker>) {
        out.append(&mut self.0);
    }
}

/// Wakes a thread parked in [`block_on`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// One waker per thread, so waker sets recognise a thread that registers twice.
    static THREAD_WAKER: Waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
}

/// Runs `poll` on this thread until it is ready, parking the thread while it is pending. The
/// waker `poll` registers unparks this thread; a spurious unpark only costs another poll.
pub fn block_on<T>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
    THREAD_WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(v) = poll(&mut cx) {
                return v;
            }
            thread::park();
        }
    })
}

/// Like [`block_on`], but gives up at `deadline` (`None`: never) and returns `None` then. The
/// `poll` closure is dropped on return, so what it owns (a future) is cancelled.
pub fn block_on_until<T>(
    deadline: Option<std::time::Instant>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> Option<T> {
    THREAD_WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(v) = poll(&mut cx) {
                return Some(v);
            }
            match deadline {
                None => thread::park(),
                Some(d) => {
                    let left = d.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    thread::park_timeout(left);
                }
            }
        }
    })
}

/// Polls once with a waker that does nothing: for calls that must not wait.
pub fn poll_now<T>(poll: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
    poll(&mut Context::from_waker(Waker::noop()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn block_on_wakes_from_another_thread() {
        let slot: Arc<Mutex<(Option<u32>, WakerSet)>> = Arc::default();
        let s = slot.clone();
        let t = thread::spawn(move || {
            block_on(|cx| {
                let mut g = s.lock().unwrap();
                match g.0 {
                    Some(v) => Poll::Ready(v),
                    None => {
                        g.1.register(cx.waker());
                        Poll::Pending
                    }
                }
            })
        });
        thread::sleep(std::time::Duration::from_millis(20));
        {
            let mut g = slot.lock().unwrap();
            g.0 = Some(7);
            g.1.wake();
        }
        assert_eq!(t.join().unwrap(), 7);
    }

    #[test]
    fn block_on_until_gives_up_at_the_deadline_and_drops_the_poll() {
        let dropped = Arc::new(());
        let held = dropped.clone();
        let start = std::time::Instant::now();
        let deadline = start + std::time::Duration::from_millis(50);
        let r: Option<()> = block_on_until(Some(deadline), move |_| {
            let _keep = &held;
            Poll::Pending
        });
        assert_eq!(r, None);
        assert!(start.elapsed() >= std::time::Duration::from_millis(50));
        assert_eq!(Arc::strong_count(&dropped), 1, "the closure was dropped");
        assert_eq!(block_on_until(None, |_| Poll::Ready(3)), Some(3));
    }

    #[test]
    fn a_thread_registers_once() {
        let mut set = WakerSet::default();
        THREAD_WAKER.with(|w| {
            set.register(w);
            set.register(w);
        });
        assert_eq!(set.0.len(), 1);
    }
}
