//! Authentication decisions taken outside the connection's driver: a server's [`Handler`]
//! may hand every attempt to an [`AuthQueue`], which the application drains from any task or
//! thread and answers whenever it likes (after an `.await` on a database, say). The core
//! holds the client's further input meanwhile; a [`PendingAuth`] dropped unanswered is a
//! rejection.
//!
//! [`Handler`]: crate::Handler

use crate::shared::Shared;
use crate::wait::WakerSet;
use seashell_proto::{AuthAttempt, AuthDecision, AuthRequest};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Most attempts queued unanswered across all connections; past it, attempts are rejected
/// (an unanswered queue must not grow without bound).
const MAX_QUEUED: usize = 1024;

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<PendingAuth>,
    waiters: WakerSet,
    closed: bool,
}

/// A queue of authentication attempts from any number of connections. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct AuthQueue {
    inner: Arc<Mutex<Inner>>,
}

impl AuthQueue {
    /// An empty queue.
    pub fn new() -> AuthQueue {
        AuthQueue::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an attempt (rejected at once when the queue is full or closed).
    pub(crate) fn push(&self, pending: PendingAuth) {
        let mut inner = self.lock();
        if inner.closed || inner.queue.len() >= MAX_QUEUED {
            drop(inner);
            pending.answer(AuthDecision::Reject);
            return;
        }
        inner.queue.push_back(pending);
        inner.waiters.wake();
    }

    /// The next attempt to decide; `Ready(None)` once [`close`](Self::close)d and empty.
    pub fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<PendingAuth>> {
        let mut inner = self.lock();
        if let Some(p) = inner.queue.pop_front() {
            return Poll::Ready(Some(p));
        }
        if inner.closed {
            return Poll::Ready(None);
        }
        inner.waiters.register(cx.waker());
        Poll::Pending
    }

    /// The next attempt to decide, for async code: `queue.next().await`.
    pub async fn next(&self) -> Option<PendingAuth> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// The next attempt to decide, blocking the calling thread.
    pub fn next_blocking(&self) -> Option<PendingAuth> {
        crate::wait::block_on(|cx| self.poll_next(cx))
    }

    /// Stops the queue: what is queued can still be taken, later attempts are rejected.
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.waiters.wake();
    }
}

/// One authentication attempt waiting for the application's decision.
#[must_use = "an attempt dropped unanswered is rejected"]
#[derive(Debug)]
pub struct PendingAuth {
    request: Option<AuthRequest>,
    shared: Arc<Shared>,
    peer: Option<SocketAddr>,
}

impl PendingAuth {
    pub(crate) fn new(request: AuthRequest, shared: Arc<Shared>, peer: Option<SocketAddr>) -> Self {
        PendingAuth {
            request: Some(request),
            shared,
            peer,
        }
    }

    /// The user name the client gave.
    pub fn user(&self) -> &str {
        self.request.as_ref().map_or("", |r| r.user())
    }

    /// What the client tried, with what the core has proven (signatures are verified).
    pub fn attempt(&self) -> Option<&AuthAttempt> {
        self.request.as_ref().map(AuthRequest::attempt)
    }

    /// The client's address, when the adapter knows it.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Answers the attempt. A connection that has ended meanwhile ignores it.
    pub fn answer(mut self, decision: AuthDecision) {
        if let Some(request) = self.request.take() {
            let mut st = self.shared.lock();
            if let Some(s) = st.conn.as_server() {
                let _ = s.answer_auth(request, decision);
            }
            st.wake_driver();
        }
    }
}

impl Drop for PendingAuth {
    /// The request's token reports itself dropped; the driver is woken to refuse it.
    fn drop(&mut self) {
        if let Some(request) = self.request.take() {
            drop(request);
            self.shared.lock().wake_driver();
        }
    }
}
