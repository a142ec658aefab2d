//! [`AnyConnection`]: the role-neutral view of a connection, for code that drives either role
//! alike (adapters, test harnesses, fuzzers).

use super::{
    Channel, ChannelKind, Connection, GlobalReply, GlobalRequestId, GlobalRequestKind, OpenFailure,
    Side,
};
use crate::client::ClientConnection;
use crate::error::Error;
use crate::event::{ChannelId, Event, IncomingChannel, IncomingGlobalRequest, SessionRequest};
use crate::kex::negotiate::Negotiated;
use crate::server::ServerConnection;
use std::any::Any;
use std::time::Instant;

/// A connection of either role, as the code that moves its bytes sees it: the object-safe
/// face of [`Connection`], whose documentation describes each method. It is implemented once,
/// for `Connection<S>` of both roles.
///
/// The methods fall in four categories:
///
/// - **Inputs**: [`feed`](Self::feed), [`feed_eof`](Self::feed_eof),
///   [`handle_timeout`](Self::handle_timeout).
/// - **Outputs**: [`poll_transmit`](Self::poll_transmit), [`poll_timeout`](Self::poll_timeout),
///   [`poll_event`](Self::poll_event).
/// - **Commands**: [`channel`](Self::channel), [`open_channel`](Self::open_channel),
///   [`global_request`](Self::global_request), [`ping`](Self::ping), [`rekey`](Self::rekey),
///   [`disconnect`](Self::disconnect).
/// - **Decisions**: [`accept_channel`](Self::accept_channel),
///   [`reject_channel`](Self::reject_channel), [`reply_request`](Self::reply_request),
///   [`reply_global`](Self::reply_global); the role-specific ones are on
///   [`ClientConnection`] and [`ServerConnection`], reached through
///   [`as_client`](Self::as_client) and [`as_server`](Self::as_server).
///
/// **Poll order.** After any input or command, drain `poll_transmit` (send everything it
/// appends), then read `poll_timeout`, then drain `poll_event` until it returns `None`.
///
/// Errors are sticky: after a fatal error the queued `SSH_MSG_DISCONNECT` is still available
/// from `poll_transmit`, `poll_event` yields one [`Event::ConnectionLost`], and every input
/// returns the same error.
pub trait AnyConnection: Send + core::fmt::Debug {
    /// Feeds bytes received from the peer.
    fn feed(&mut self, now: Instant, data: &[u8]) -> Result<(), Error>;
    /// Tells the connection that the peer closed the byte stream.
    fn feed_eof(&mut self, now: Instant) -> Result<(), Error>;
    /// Runs the timers due at `now`.
    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error>;
    /// Appends bytes ready for the wire to `buf`; returns how many.
    fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize;
    /// Whether bytes are waiting in `poll_transmit`.
    fn wants_write(&self) -> bool;
    /// How many bytes wait for `poll_transmit` to take them (see
    /// [`Connection::pending_output`]): stop reading from the peer above a high-water mark.
    fn pending_output(&self) -> usize;
    /// When `handle_timeout` should next be called.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The next event, if any.
    fn poll_event(&mut self) -> Option<Event>;
    /// A handle on a channel, or `None` if it does not exist.
    fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>>;
    /// Opens a channel of `kind`.
    fn open_channel(&mut self, kind: ChannelKind) -> Result<ChannelId, Error>;
    /// Sends a global request.
    fn global_request(
        &mut self,
        kind: GlobalRequestKind,
        want_reply: bool,
    ) -> Result<Option<GlobalRequestId>, Error>;
    /// Whether the peer answers pings.
    fn can_ping(&self) -> bool;
    /// Sends a transport-level ping.
    fn ping(&mut self, data: &[u8]) -> Result<(), Error>;
    /// Accepts a channel the peer asked for.
    fn accept_channel(&mut self, incoming: IncomingChannel) -> Result<ChannelId, Error>;
    /// Refuses a channel the peer asked for.
    fn reject_channel(
        &mut self,
        incoming: IncomingChannel,
        reason: OpenFailure,
        description: &str,
    ) -> Result<(), Error>;
    /// Answers a channel request.
    fn reply_request(&mut self, request: SessionRequest, ok: bool) -> Result<(), Error>;
    /// Answers a global request.
    fn reply_global(
        &mut self,
        request: IncomingGlobalRequest,
        reply: GlobalReply,
    ) -> Result<(), Error>;
    /// What channel `id` carries.
    fn channel_kind(&self, id: ChannelId) -> Option<&ChannelKind>;
    /// Starts a key re-exchange now.
    fn rekey(&mut self) -> Result<(), Error>;
    /// Ends the connection with `SSH_MSG_DISCONNECT` (reason "by application").
    fn disconnect(&mut self);
    /// Whether the connection has failed or closed.
    fn is_closed(&self) -> bool;
    /// Whether user authentication has succeeded.
    fn is_authenticated(&self) -> bool;
    /// How many key exchanges have completed (the first one and every rekey).
    fn key_exchanges(&self) -> u64;
    /// The algorithms the last key exchange chose, once known.
    fn negotiated(&self) -> Option<&Negotiated>;
    /// The session identifier (the first exchange hash).
    fn session_id(&self) -> Option<&[u8]>;
    /// The peer's identification line.
    fn peer_ident(&self) -> Option<&str>;
    /// The connection as `Any`, for the downcasts below.
    fn as_any(&mut self) -> &mut dyn Any;
    /// The client connection, if this is one.
    fn as_client(&mut self) -> Option<&mut ClientConnection> {
        self.as_any().downcast_mut()
    }
    /// The server connection, if this is one.
    fn as_server(&mut self) -> Option<&mut ServerConnection> {
        self.as_any().downcast_mut()
    }
}

impl<S: Side> AnyConnection for Connection<S> {
    fn feed(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        Connection::feed(self, now, data)
    }
    fn feed_eof(&mut self, now: Instant) -> Result<(), Error> {
        Connection::feed_eof(self, now)
    }
    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        Connection::handle_timeout(self, now)
    }
    fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        Connection::poll_transmit(self, buf)
    }
    fn wants_write(&self) -> bool {
        Connection::wants_write(self)
    }
    fn pending_output(&self) -> usize {
        Connection::pending_output(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Connection::poll_timeout(self)
    }
    fn poll_event(&mut self) -> Option<Event> {
        Connection::poll_event(self)
    }
    fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
        Connection::channel(self, id)
    }
    fn open_channel(&mut self, kind: ChannelKind) -> Result<ChannelId, Error> {
        Connection::open_channel(self, kind)
    }
    fn global_request(
        &mut self,
        kind: GlobalRequestKind,
        want_reply: bool,
    ) -> Result<Option<GlobalRequestId>, Error> {
        Connection::global_request(self, kind, want_reply)
    }
    fn can_ping(&self) -> bool {
        Connection::can_ping(self)
    }
    fn ping(&mut self, data: &[u8]) -> Result<(), Error> {
        Connection::ping(self, data)
    }
    fn accept_channel(&mut self, incoming: IncomingChannel) -> Result<ChannelId, Error> {
        Connection::accept_channel(self, incoming)
    }
    fn reject_channel(
        &mut self,
        incoming: IncomingChannel,
        reason: OpenFailure,
        description: &str,
    ) -> Result<(), Error> {
        Connection::reject_channel(self, incoming, reason, description)
    }
    fn reply_request(&mut self, request: SessionRequest, ok: bool) -> Result<(), Error> {
        Connection::reply_request(self, request, ok)
    }
    fn reply_global(
        &mut self,
        request: IncomingGlobalRequest,
        reply: GlobalReply,
    ) -> Result<(), Error> {
        Connection::reply_global(self, request, reply)
    }
    fn channel_kind(&self, id: ChannelId) -> Option<&ChannelKind> {
        Connection::channel_kind(self, id)
    }
    fn rekey(&mut self) -> Result<(), Error> {
        Connection::rekey(self)
    }
    fn disconnect(&mut self) {
        Connection::disconnect(self)
    }
    fn is_closed(&self) -> bool {
        Connection::is_closed(self)
    }
    fn is_authenticated(&self) -> bool {
        Connection::is_authenticated(self)
    }
    fn key_exchanges(&self) -> u64 {
        Connection::key_exchanges(self)
    }
    fn negotiated(&self) -> Option<&Negotiated> {
        Connection::negotiated(self)
    }
    fn session_id(&self) -> Option<&[u8]> {
        Connection::session_id(self)
    }
    fn peer_ident(&self) -> Option<&str> {
        Connection::peer_ident(self)
    }
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}
