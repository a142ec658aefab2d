//! [`Connection`]: one SSH connection of either role, as a state machine with no I/O. The
//! parts both roles share are written here once; [`Side`] supplies the rest.

use super::core::Core;
use super::global::{GlobalReply, GlobalRequestId, GlobalRequestKind, Globals, Sent};
use super::kind::{ChannelKind, OpenFailure, Opener};
use super::side::Side;
use super::timers::{Due, Timers};
use super::{Channel, Channels};
use crate::error::{ApiMisuse, Error};
use crate::event::{
    ChannelId, DropBox, Event, IncomingChannel, IncomingGlobalRequest, SessionRequest,
};
use crate::kex::negotiate::Negotiated;
use crate::transport::ping::Ping;
use std::time::Instant;

/// A channel-open request handed to the application.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingOpen {
    pub serial: u64,
    pub remote_id: u32,
    pub session: bool,
}

/// Most channel-open requests the application may leave unanswered at once.
pub(crate) const MAX_PENDING_OPENS: usize = 64;

/// One SSH connection, as a state machine with no I/O: [`ClientConnection`](crate::ClientConnection)
/// is `Connection<Client>`, [`ServerConnection`](crate::ServerConnection) is
/// `Connection<Server>`.
///
/// Its methods fall in four categories:
///
/// - **Inputs** tell it what happened: [`feed`](Self::feed) (bytes from the peer),
///   [`feed_eof`](Self::feed_eof) (the peer closed the stream),
///   [`handle_timeout`](Self::handle_timeout) (a deadline passed).
/// - **Outputs** say what to do: [`poll_transmit`](Self::poll_transmit) (bytes to send),
///   [`poll_timeout`](Self::poll_timeout) (when to call `handle_timeout`),
///   [`poll_event`](Self::poll_event) (what the application must know or decide).
/// - **Commands** act: [`open_channel`](Self::open_channel), [`channel`](Self::channel)
///   (write, EOF, close, requests, `consume`), [`global_request`](Self::global_request),
///   [`ping`](Self::ping), [`rekey`](Self::rekey), [`disconnect`](Self::disconnect).
/// - **Decisions** answer the tokens events carry, in any order and at any later time:
///   [`accept_channel`](Self::accept_channel) / [`reject_channel`](Self::reject_channel),
///   [`reply_request`](Self::reply_request), [`reply_global`](Self::reply_global), and the
///   role's own (host key and authentication on the client, authentication on the server).
///   Every token carries a serial unique in the process: a token of another connection is
///   refused with [`Error::ApiMisuse`] and changes nothing. A token dropped unanswered is
///   refused to the peer at the next call, so the peer always gets a reply.
///
/// **Poll order.** After any input or command, drain `poll_transmit` (send everything it
/// appends), then read `poll_timeout`, then drain `poll_event` until it returns `None`.
///
/// **Errors.** A fatal error is sticky: the queued `SSH_MSG_DISCONNECT` is still available
/// from `poll_transmit`, `poll_event` yields one [`Event::ConnectionLost`], and every input
/// returns the same error. [`Error::ApiMisuse`] from a command or decision is not fatal: the
/// connection goes on as before.
#[derive(Debug)]
pub struct Connection<S> {
    pub(crate) core: Core,
    pub(crate) side: S,
    pub(crate) globals: Globals,
    pub(crate) timers: Timers,
    pub(crate) ping: Ping,
    pub(crate) pending_opens: Vec<PendingOpen>,
    pub(crate) dropped: DropBox,
}

impl<S: Side> Connection<S> {
    pub(crate) fn assemble(core: Core, side: S, timers: Timers) -> Connection<S> {
        Connection {
            core,
            side,
            globals: Globals::default(),
            timers,
            ping: Ping::default(),
            pending_opens: Vec::new(),
            dropped: DropBox::default(),
        }
    }

    // ----- inputs -----

    /// Feeds bytes received from the peer.
    pub fn feed(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        self.core.t.check_alive()?;
        self.core.t.push_input(data);
        let r = self
            .answer_dropped()
            .and_then(|()| S::on_timeout(self, now))
            .and_then(|()| self.process(now));
        self.timers.rekey.observe(self.core.kex.completed(), now);
        self.check(r)
    }

    /// Tells the connection that the peer closed the byte stream.
    pub fn feed_eof(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        self.core.feed_eof()
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.core.t.check_alive()?;
        let r = self
            .answer_dropped()
            .and_then(|()| S::on_timeout(self, now));
        self.check(r)?;
        while let Some(due) = self.timers.take_due(now) {
            let r = match due {
                Due::Handshake => Err(Error::Timeout),
                Due::Idle => Err(Error::IdleTimeout),
                // Nothing is re-keyed by us before authentication: the rekey waits for it.
                Due::Rekey if !self.core.t.is_authenticated() => {
                    self.timers.rekey.defer();
                    Ok(())
                }
                Due::Rekey => self.core.rekey(),
                Due::Keepalive => self.keepalive(),
            };
            self.check(r)?;
        }
        Ok(())
    }

    // ----- outputs -----

    /// Appends bytes ready for the wire to `buf`. Returns how many were appended.
    ///
    /// Call it only when the previous batch has been written (or fits the socket's buffer):
    /// what is not taken stays in the connection, which holds at most
    /// [`max_pending_output`](crate::ServerConfig::max_pending_output) bytes for the peer
    /// (the `_preauth` cap before authentication). Channel writes cut short by that cap get an
    /// [`Event::Writable`] after this call.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        if !self.core.t.is_closed() {
            let r = self.answer_dropped();
            let _ = self.check(r);
        }
        let n = self.core.poll_transmit(buf);
        if self.core.t.take_output_blocked() && !self.core.t.is_closed() {
            let core = &mut self.core;
            core.channels.wake_writable(&mut core.t.events);
        }
        n
    }

    /// Whether bytes are waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn wants_write(&self) -> bool {
        self.core.t.wants_write()
    }

    /// How many bytes wait for [`poll_transmit`](Self::poll_transmit) to take them.
    ///
    /// An adapter whose socket is not draining should stop reading from the peer while this
    /// is above its high-water mark: every message read may add a reply. The connection
    /// itself never holds more than the configured cap
    /// ([`ServerConfig::max_pending_output`](crate::ServerConfig::max_pending_output), or
    /// `max_pending_output_preauth` before authentication; the same fields on
    /// [`ClientConfig`](crate::ClientConfig)) plus one final `SSH_MSG_DISCONNECT`: a reply the
    /// peer's traffic calls for beyond it ends the connection with
    /// [`PeerMisbehaved::OutputFlood`](crate::error::PeerMisbehaved::OutputFlood), and channel
    /// writes are accepted only up to half of it. Messages the application sends itself
    /// (requests, EOF, CLOSE, window adjusts) are never refused and may exceed it.
    pub fn pending_output(&self) -> usize {
        self.core.t.pending_output()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.core.t.is_closed() {
            None
        } else {
            self.timers.next(self.side.deadline())
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        let dropped = &self.dropped;
        self.core.t.events.pop_front().map(|e| e.arm(dropped))
    }

    // ----- commands -----

    /// A handle on a channel, or `None` if it does not exist.
    pub fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
        self.core.channel(id)
    }

    /// What channel `id` carries.
    pub fn channel_kind(&self, id: ChannelId) -> Option<&ChannelKind> {
        self.core.channels.kind(id)
    }

    /// Opens a channel of `kind` (one this role may open: a client opens sessions and direct
    /// connections, a server forwarded connections, X11 and agent channels).
    /// [`Event::ChannelOpened`] or [`Event::ChannelOpenFailed`] follows.
    pub fn open_channel(&mut self, kind: ChannelKind) -> Result<ChannelId, Error> {
        self.core.t.check_alive()?;
        if !self.side.is_authenticated() {
            return Err(ApiMisuse::WrongState("channels open only after authentication").into());
        }
        let ours = if S::SERVER {
            Opener::Server
        } else {
            Opener::Client
        };
        if !matches!(kind.opener(), Opener::Either) && kind.opener() != ours {
            return Err(ApiMisuse::WrongState("this role may not open that channel type").into());
        }
        let (id, payload) = self.core.channels.open(kind)?;
        let r = self.core.send_command(payload);
        self.check(r)?;
        Ok(id)
    }

    /// Opens a `session` channel. [`Event::ChannelOpened`] follows.
    pub fn open_session(&mut self) -> Result<ChannelId, Error> {
        self.open_channel(ChannelKind::Session)
    }

    /// Sends a global request. With `want_reply`, returns the id that
    /// [`Event::GlobalRequestSucceeded`] or [`Event::GlobalRequestFailed`] will name.
    pub fn global_request(
        &mut self,
        kind: GlobalRequestKind,
        want_reply: bool,
    ) -> Result<Option<GlobalRequestId>, Error> {
        self.core.t.check_alive()?;
        if !self.side.is_authenticated() {
            return Err(ApiMisuse::WrongState("global requests only after authentication").into());
        }
        let payload = kind.encode(want_reply);
        let id = if want_reply {
            let sent = match kind {
                GlobalRequestKind::TcpipForward { port, .. } => Sent::TcpipForward { port },
                GlobalRequestKind::CancelTcpipForward { port, .. } => Sent::CancelTcpip { port },
                GlobalRequestKind::StreamlocalForward { path } => Sent::Streamlocal { path },
                GlobalRequestKind::CancelStreamlocalForward { path } => {
                    Sent::CancelStreamlocal { path }
                }
                GlobalRequestKind::HostKeysProve(keys) => Sent::Prove(keys),
                _ => Sent::Plain,
            };
            Some(self.globals.sent(sent)?)
        } else {
            None
        };
        let r = self.core.send_command(payload);
        self.check(r)?;
        Ok(id)
    }

    /// Whether the peer advertised `ping@openssh.com`, so [`ping`](Self::ping) can be used.
    pub fn can_ping(&self) -> bool {
        self.ping.peer_supports
    }

    /// Sends a transport-level ping (`ping@openssh.com`) carrying `data` (at most 16 KiB);
    /// the answer arrives as [`Event::Pong`] with the same data. The peer answers only once
    /// we are authenticated, and pings sent during a key exchange wait until it ends.
    pub fn ping(&mut self, data: &[u8]) -> Result<(), Error> {
        self.core.t.check_alive()?;
        if !self.side.is_authenticated() {
            return Err(ApiMisuse::WrongState("ping before authentication").into());
        }
        let p = self.ping.ping(data)?;
        let r = self.core.send_command(p);
        self.check(r)
    }

    /// Starts a key re-exchange now (one also starts by itself after the volume or time limit,
    /// but only once the user is authenticated, as OpenSSH). Before authentication a peer may
    /// refuse it: a Seashell peer accepts [`MAX_PREAUTH_REKEYS`](crate::transport::MAX_PREAUTH_REKEYS),
    /// OpenSSH no limit but its login grace time.
    pub fn rekey(&mut self) -> Result<(), Error> {
        self.core.rekey()
    }

    /// Ends the connection with `SSH_MSG_DISCONNECT` (reason "by application").
    pub fn disconnect(&mut self) {
        let _ = self.check::<()>(Err(Error::LocallyClosed));
    }

    // ----- decisions common to both roles -----

    /// Accepts an [`Event::ChannelOpenRequest`] and returns the new channel.
    pub fn accept_channel(&mut self, mut incoming: IncomingChannel) -> Result<ChannelId, Error> {
        self.core.t.check_alive()?;
        self.take_open(&incoming)?;
        incoming.ticket.defuse();
        let (id, p) = self.core.channels.accept(incoming)?;
        let r = self.core.send(p);
        self.check(r)?;
        Ok(id)
    }

    /// Refuses an [`Event::ChannelOpenRequest`].
    pub fn reject_channel(
        &mut self,
        mut incoming: IncomingChannel,
        reason: OpenFailure,
        description: &str,
    ) -> Result<(), Error> {
        self.core.t.check_alive()?;
        self.take_open(&incoming)?;
        incoming.ticket.defuse();
        let p = Channels::reject(incoming.remote_id, reason.code(), description);
        let r = self.core.send(p);
        self.check(r)
    }

    /// Answers an [`Event::ChannelRequest`]. Replies leave in the order the requests arrived,
    /// whatever order they are answered in.
    pub fn reply_request(&mut self, mut request: SessionRequest, ok: bool) -> Result<(), Error> {
        self.core.t.check_alive()?;
        let serial = request.ticket.defuse();
        if !request.want_reply || !self.core.channels.contains(request.id) {
            return Ok(());
        }
        // An unknown token is the application's mistake: refused, the connection goes on.
        let replies = self.core.channels.reply(request.id, serial, ok)?;
        let r = replies.into_iter().try_for_each(|p| self.core.send(p));
        self.check(r)
    }

    /// Answers an [`Event::GlobalRequest`]. Replies leave in the order the requests arrived.
    pub fn reply_global(
        &mut self,
        mut request: IncomingGlobalRequest,
        reply: GlobalReply,
    ) -> Result<(), Error> {
        self.core.t.check_alive()?;
        let serial = request.ticket.serial();
        if !request.want_reply {
            request.ticket.defuse();
            self.globals.undecided = self.globals.undecided.saturating_sub(1);
            return Ok(());
        }
        if !self.globals.is_owed(serial) {
            return Err(ApiMisuse::WrongState("no such global request pending").into());
        }
        request.ticket.defuse();
        self.globals.undecided = self.globals.undecided.saturating_sub(1);
        let r = self.answer_global(serial, reply);
        self.check(r)
    }

    // ----- state -----

    /// Whether user authentication has succeeded.
    pub fn is_authenticated(&self) -> bool {
        self.side.is_authenticated()
    }

    /// Whether the connection has failed or closed.
    pub fn is_closed(&self) -> bool {
        self.core.t.is_closed()
    }

    /// The peer's identification line.
    pub fn peer_ident(&self) -> Option<&str> {
        self.core.t.peer_ident.as_deref()
    }

    /// The session identifier (the first exchange hash).
    pub fn session_id(&self) -> Option<&[u8]> {
        self.core.kex.session_id()
    }

    /// The algorithms the last key exchange chose, once known.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.core.negotiated()
    }

    /// How many key exchanges have completed (the first one and every rekey).
    pub fn key_exchanges(&self) -> u64 {
        self.core.kex.completed()
    }

    // ----- shared internals -----

    /// Records a fatal error once (errors are sticky).
    pub(crate) fn check<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        self.core.check(r)
    }

    /// Sends a payload now, or holds it during our side of a key exchange.
    pub(crate) fn send(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        self.core.send(payload)
    }

    /// Queues an event for the application.
    pub(crate) fn emit(&mut self, ev: Event) {
        self.core.t.events.push_back(ev);
    }

    /// Records our answer to the peer's global request `serial` and sends what is due.
    pub(crate) fn answer_global(&mut self, serial: u64, reply: GlobalReply) -> Result<(), Error> {
        for p in self.globals.answer(serial, reply)? {
            self.send(p)?;
        }
        Ok(())
    }

    /// A keepalive is due: the peer is dead after `count_max` unanswered, else one more
    /// probe goes out (a global request any answer to which proves the peer alive).
    fn keepalive(&mut self) -> Result<(), Error> {
        if let Err(count) = self.timers.keepalive_probe() {
            return Err(Error::KeepaliveTimeout { count });
        }
        if !self.side.is_authenticated() {
            return Ok(());
        }
        self.globals.sent(Sent::Keepalive)?;
        self.core
            .send_command(GlobalRequestKind::Keepalive.encode(true))
    }

    /// Refuses every decision whose token was dropped unanswered.
    fn answer_dropped(&mut self) -> Result<(), Error> {
        let serials = std::mem::take(&mut *self.dropped.lock().unwrap_or_else(|p| p.into_inner()));
        for serial in serials {
            if S::answer_dropped(self, serial)? {
                continue;
            }
            if let Some(i) = self.pending_opens.iter().position(|o| o.serial == serial) {
                let open = self.pending_opens.swap_remove(i);
                let p = Channels::reject(
                    open.remote_id,
                    OpenFailure::AdministrativelyProhibited.code(),
                    "refused",
                );
                self.send(p)?;
            } else if self.globals.is_owed(serial) {
                self.globals.undecided = self.globals.undecided.saturating_sub(1);
                self.answer_global(serial, GlobalReply::Failure)?;
            } else {
                for p in self.core.channels.reply_serial(serial, false) {
                    self.send(p)?;
                }
            }
        }
        Ok(())
    }

    /// Consumes the token of a pending open request; a token of another connection, or one
    /// already answered, is refused without effect.
    fn take_open(&mut self, incoming: &IncomingChannel) -> Result<(), Error> {
        let serial = incoming.ticket.serial();
        match self.pending_opens.iter().position(|o| o.serial == serial) {
            Some(i) => {
                self.pending_opens.swap_remove(i);
                Ok(())
            }
            None => Err(ApiMisuse::WrongState("no such channel-open request pending").into()),
        }
    }
}
