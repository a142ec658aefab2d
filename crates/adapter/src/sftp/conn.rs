//! The glue between one `sftp` subsystem channel and the sans-I/O [`ClientEngine`]: the
//! engine and the bytes not yet written sit behind one mutex, and every poll function moves
//! bytes both ways before it looks for its reply. So whichever thread or task polls drives
//! the session for all of them; a reply for another request wakes that request's waiter.
//!
//! A request is a [`Reply`] future: dropping it before the reply came abandons the id
//! ([`ClientEngine::abandon`]), so a cancelled call leaves nothing behind.

use super::error::{client_error, unsupported};
use super::link::Link;
use crate::wait::WakerSet;
use seashell_sftp::client::{ClientConfig, ClientEngine, ClientError, ServerInfo, expect_limits};
use seashell_sftp::{ExtendedRequest, Limits, Request, Response};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Most bytes taken from the channel in one step.
const READ_STEP: usize = 256 * 1024;

/// One SFTP session: the channel, the engine, who waits for which reply.
#[derive(Debug)]
pub(crate) struct Conn {
    link: Link,
    state: Mutex<State>,
    server: OnceLock<(ServerInfo, Option<Limits>)>,
}

#[derive(Debug)]
struct State {
    /// The engine; its output is written to the channel from its own buffer.
    engine: ClientEngine,
    /// Waiters by request id.
    waiters: HashMap<u32, Waker>,
    /// Waiters for room in the request table.
    room: WakerSet,
    /// Waiters for anything the server sends (the handshake).
    others: WakerSet,
    /// OPEN and OPENDIR requests whose caller went away: a handle they bring is closed.
    orphans: Vec<u32>,
    /// Fire-and-forget requests (CLOSEs) waiting for room in the request table.
    deferred: Vec<Request>,
    /// When the server last sent bytes (or the session started).
    last_input: Instant,
}

impl Conn {
    /// Wraps a transport on which an SFTP server listens. `SSH_FXP_INIT` is queued.
    pub(crate) fn new(link: Link, config: ClientConfig) -> Conn {
        Conn {
            link,
            state: Mutex::new(State {
                engine: ClientEngine::new(config),
                waiters: HashMap::new(),
                room: WakerSet::default(),
                others: WakerSet::default(),
                orphans: Vec::new(),
                deferred: Vec::new(),
                last_input: Instant::now(),
            }),
            server: OnceLock::new(),
        }
    }

    /// When the server last sent bytes (or the session started).
    pub(crate) fn last_input(&self) -> Instant {
        self.lock().last_input
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for `SSH_FXP_VERSION`, then asks for `limits@openssh.com` when offered.
    pub(crate) async fn handshake(&self) -> io::Result<()> {
        let info =
            std::future::poll_fn(|cx| self.poll_with(cx, &[], |st| st.engine.server().cloned()))
                .await?;
        let limits = if info.has_extension(seashell_sftp::extension_names::LIMITS) {
            let r = self
                .call(Request::Extended {
                    id: 0,
                    request: ExtendedRequest::Limits,
                })
                .await?;
            Some(expect_limits(r).map_err(|e| super::error::sftp_error(e, "limits"))?)
        } else {
            None
        };
        let _ = self.server.set((info, limits));
        Ok(())
    }

    /// The server's version and extensions (after the handshake).
    pub(crate) fn server(&self) -> Option<&ServerInfo> {
        self.server.get().map(|(s, _)| s)
    }

    /// The server's `limits@openssh.com` reply, if it offers the extension.
    pub(crate) fn limits(&self) -> Option<&Limits> {
        self.server.get().and_then(|(_, l)| l.as_ref())
    }

    /// Whether the server advertised extension `name`.
    pub(crate) fn has_extension(&self, name: &str) -> bool {
        self.server().is_some_and(|s| s.has_extension(name))
    }

    /// Fails with `Unsupported` unless the server advertised `name`.
    pub(crate) fn require(&self, name: &str) -> io::Result<()> {
        if self.has_extension(name) {
            Ok(())
        } else {
            Err(unsupported(name))
        }
    }

    /// Queues `request` (its id is assigned here) once the request table has room, and
    /// writes what the channel takes at once.
    pub(crate) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        request: &mut Option<Request>,
    ) -> Poll<io::Result<u32>> {
        self.poll_queue(cx, |engine| {
            let Some(req) = request.take() else {
                return Ok(Err(io::Error::other("request already sent")));
            };
            Ok(Ok(engine.send(req)?))
        })
    }

    /// Queues an `SSH_FXP_WRITE` of up to `len` bytes at `offset` on `handle` once the
    /// request table has room; `fill` puts the data straight into the engine's output (see
    /// [`ClientEngine::send_write_with`]). The id and the data length, or `None` when `fill`
    /// wrote nothing.
    pub(crate) fn poll_send_write(
        &self,
        cx: &mut Context<'_>,
        handle: &[u8],
        offset: u64,
        len: u32,
        fill: &mut dyn FnMut(&mut [u8]) -> usize,
    ) -> Poll<io::Result<Option<(u32, u32)>>> {
        self.poll_queue(cx, |engine| {
            Ok(Ok(engine.send_write_with(handle, offset, len, fill)?))
        })
    }

    /// Runs `queue` on the engine once the request table has room, then writes what the
    /// channel takes at once.
    fn poll_queue<T>(
        &self,
        cx: &mut Context<'_>,
        queue: impl FnOnce(&mut ClientEngine) -> Result<io::Result<T>, ClientError>,
    ) -> Poll<io::Result<T>> {
        let mut st = self.lock();
        if let Some(e) = st.engine.failure() {
            return Poll::Ready(Err(client_error(e)));
        }
        if st.engine.capacity() == 0 {
            st.room.register(cx.waker());
            // Replies may be waiting in the channel: move them into the engine.
            let _ = self.pump(&mut st, cx);
            if st.engine.capacity() == 0 {
                return Poll::Pending;
            }
        }
        let r = match queue(&mut st.engine) {
            Ok(r) => r,
            Err(e) => Err(client_error(&e)),
        };
        let _ = self.write_out(&mut st, &mut Context::from_waker(Waker::noop()));
        Poll::Ready(r)
    }

    /// Sends `request` without waiting for room: for fire-and-forget requests (closing a
    /// dropped handle), whose reply is abandoned at once.
    /// When the request table is full it is sent as soon as there is room.
    pub(crate) fn send_and_forget(&self, request: Request) {
        let mut st = self.lock();
        st.deferred.push(request);
        st.send_deferred();
        let _ = self.write_out(&mut st, &mut Context::from_waker(Waker::noop()));
    }

    /// Sends `request` (waiting for room in the request table) and returns its id.
    pub(crate) async fn send(&self, request: Request) -> io::Result<u32> {
        let mut slot = Some(request);
        std::future::poll_fn(|cx| self.poll_send(cx, &mut slot)).await
    }

    /// The reply to `id`, moving bytes both ways meanwhile.
    pub(crate) fn poll_reply(&self, cx: &mut Context<'_>, id: u32) -> Poll<io::Result<Response>> {
        self.poll_with(cx, &[id], |st| {
            let r = st.engine.take_reply(id)?;
            st.waiters.remove(&id);
            Some(r)
        })
    }

    /// The first reply to arrive among `ids` (a pipeline's requests), with its id.
    pub(crate) fn poll_any(
        &self,
        cx: &mut Context<'_>,
        ids: &[u32],
    ) -> Poll<io::Result<(u32, Response)>> {
        self.poll_with(cx, ids, |st| {
            let id = ids.iter().copied().find(|&id| st.engine.has_reply(id))?;
            st.waiters.remove(&id);
            st.engine.take_reply(id).map(|r| (id, r))
        })
    }

    /// The reply to `id` if it has arrived, without waiting (but after moving the bytes that
    /// are there).
    pub(crate) fn try_reply(&self, id: u32) -> Option<io::Result<Response>> {
        match self.poll_reply(&mut Context::from_waker(Waker::noop()), id) {
            Poll::Ready(r) => Some(r),
            Poll::Pending => {
                self.lock().waiters.remove(&id);
                None
            }
        }
    }

    /// Gives a DATA buffer back to the engine once its bytes are written out (its
    /// allocation serves a later reply).
    pub(crate) fn recycle(&self, buf: Vec<u8>) {
        self.lock().engine.recycle(buf);
    }

    /// Gives up on `id`: its reply is dropped whenever it comes.
    pub(crate) fn abandon(&self, id: u32) {
        let mut st = self.lock();
        st.engine.abandon(id);
        st.waiters.remove(&id);
        st.room.wake();
    }

    /// Sends `request` and waits for its reply; cancelling abandons it.
    pub(crate) async fn call(&self, request: Request) -> io::Result<Response> {
        let opens = matches!(request, Request::Open { .. } | Request::OpenDir { .. });
        let id = self.send(request).await?;
        let mut reply = Reply::new(self, id);
        reply.opens = opens;
        reply.await
    }

    /// The caller of OPEN/OPENDIR `id` went away: the handle it brings, now or later, is
    /// closed (the server's handle table must not fill up with cancelled opens).
    fn orphan(&self, id: u32) {
        let mut st = self.lock();
        st.waiters.remove(&id);
        st.orphans.push(id);
        st.close_orphans();
        let _ = self.write_out(&mut st, &mut Context::from_waker(Waker::noop()));
    }

    /// Polls `take` on the state until it gives a value, moving bytes meanwhile.
    fn poll_with<T>(
        &self,
        cx: &mut Context<'_>,
        ids: &[u32],
        mut take: impl FnMut(&mut State) -> Option<T>,
    ) -> Poll<io::Result<T>> {
        let mut st = self.lock();
        loop {
            if let Some(v) = take(&mut st) {
                st.room.wake();
                return Poll::Ready(Ok(v));
            }
            if let Some(e) = st.engine.failure() {
                return Poll::Ready(Err(client_error(e)));
            }
            match self.pump(&mut st, cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    if ids.is_empty() {
                        st.others.register(cx.waker());
                    }
                    for &id in ids {
                        st.waiters.insert(id, cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Writes what the engine queued, then reads what the channel has into the engine and
    /// wakes the waiters whose replies came. Ready when bytes were read (look again),
    /// pending when there was nothing to read.
    fn pump(&self, st: &mut State, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.write_out(st, cx)?;
        let mut fed = Ok(());
        let engine = &mut st.engine;
        let r = self.link.poll_read(cx, READ_STEP, |b| {
            if fed.is_ok() {
                fed = engine.feed(b);
            }
        });
        match r {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(0)) => st.engine.on_closed(),
            Poll::Ready(Ok(_)) => st.last_input = Instant::now(),
            Poll::Ready(Err(e)) => {
                st.engine.on_closed();
                st.wake_all();
                return Poll::Ready(Err(e));
            }
        }
        st.others.wake();
        if !st.orphans.is_empty() {
            st.close_orphans();
        }
        if !st.deferred.is_empty() {
            st.send_deferred();
        }
        if st.engine.failure().is_some() {
            st.wake_all();
        } else {
            let engine = &st.engine;
            let ready: Vec<u32> = st
                .waiters
                .keys()
                .copied()
                .filter(|id| engine.has_reply(*id))
                .collect();
            for id in ready {
                if let Some(w) = st.waiters.remove(&id) {
                    w.wake();
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Hands queued bytes to the channel as far as its window allows (pending parts stay
    /// queued; `cx` is woken when the window opens).
    fn write_out(&self, st: &mut State, cx: &mut Context<'_>) -> io::Result<()> {
        loop {
            let rest = st.engine.output();
            if rest.is_empty() {
                return Ok(());
            }
            match self.link.poll_write(cx, rest) {
                Poll::Ready(Ok(0)) | Poll::Pending => return Ok(()),
                Poll::Ready(Ok(n)) => st.engine.consume_output(n),
                Poll::Ready(Err(e)) => {
                    st.engine.on_closed();
                    st.wake_all();
                    return Err(e);
                }
            }
        }
    }
}

impl State {
    /// Closes the handles that orphaned opens brought (without waiting for the answer).
    fn close_orphans(&mut self) {
        if self.engine.failure().is_some() {
            self.orphans.clear();
            return;
        }
        let (engine, deferred) = (&mut self.engine, &mut self.deferred);
        self.orphans.retain(|&id| {
            if !engine.has_reply(id) {
                return true;
            }
            if let Some(Response::Handle { handle, .. }) = engine.take_reply(id) {
                deferred.push(Request::Close { id: 0, handle });
            }
            false
        });
        self.send_deferred();
    }

    /// Sends the fire-and-forget requests the table has room for; their replies are
    /// abandoned.
    fn send_deferred(&mut self) {
        while self.engine.capacity() > 0 && self.engine.failure().is_none() {
            let Some(request) = self.deferred.pop() else {
                break;
            };
            match self.engine.send(request) {
                Ok(id) => self.engine.abandon(id),
                // Not encodable (a handle longer than 4 GiB cannot exist): dropped.
                Err(_) => continue,
            }
        }
        if self.engine.failure().is_some() {
            self.deferred.clear();
        }
    }

    fn wake_all(&mut self) {
        for (_, w) in self.waiters.drain() {
            w.wake();
        }
        self.room.wake();
        self.others.wake();
    }
}

/// The reply to one request, as a future; dropping it first abandons the request.
#[derive(Debug)]
pub(crate) struct Reply<'a> {
    conn: &'a Conn,
    id: u32,
    done: bool,
    /// An OPEN or OPENDIR: dropped early, its handle is closed when it comes.
    opens: bool,
}

impl<'a> Reply<'a> {
    pub(crate) fn new(conn: &'a Conn, id: u32) -> Reply<'a> {
        Reply {
            conn,
            id,
            done: false,
            opens: false,
        }
    }
}

impl Future for Reply<'_> {
    type Output = io::Result<Response>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let r = self.conn.poll_reply(cx, self.id);
        if r.is_ready() {
            self.done = true;
        }
        r
    }
}

impl Drop for Reply<'_> {
    fn drop(&mut self) {
        if !self.done {
            if self.opens {
                self.conn.orphan(self.id);
            } else {
                self.conn.abandon(self.id);
            }
        }
    }
}
