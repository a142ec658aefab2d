//! [`AnyConnection`]: the role-neutral view of a connection, for code that drives either role
//! alike (adapters, test harnesses, fuzzers).

use crate::client::ClientConnection;
use crate::connection::Channel;
use crate::error::Error;
use crate::event::{ChannelId, Event};
use crate::kex::negotiate::Negotiated;
use crate::server::ServerConnection;
use std::time::Instant;

/// A connection of either role, as the code that moves its bytes sees it.
///
/// The methods fall in four categories:
///
/// - **Inputs**: [`feed`](Self::feed), [`feed_eof`](Self::feed_eof),
///   [`handle_timeout`](Self::handle_timeout).
/// - **Outputs**: [`poll_transmit`](Self::poll_transmit), [`poll_timeout`](Self::poll_timeout),
///   [`poll_event`](Self::poll_event).
/// - **Commands**: [`channel`](Self::channel), [`rekey`](Self::rekey),
///   [`disconnect`](Self::disconnect).
/// - **Decisions**: answers to the tokens carried by events; the role-specific ones are on
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
    /// When `handle_timeout` should next be called.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The next event, if any.
    fn poll_event(&mut self) -> Option<Event>;
    /// A handle on a channel, or `None` if it does not exist.
    fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>>;
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
    /// The client connection, if this is one.
    fn as_client(&mut self) -> Option<&mut ClientConnection> {
        None
    }
    /// The server connection, if this is one.
    fn as_server(&mut self) -> Option<&mut ServerConnection> {
        None
    }
}

/// Both roles answer the role-neutral calls with their inherent methods of the same name.
macro_rules! delegate {
    ($ty:ty, $ident:ident, $down:ident) => {
        impl AnyConnection for $ty {
            fn feed(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
                <$ty>::feed(self, now, data)
            }
            fn feed_eof(&mut self, now: Instant) -> Result<(), Error> {
                <$ty>::feed_eof(self, now)
            }
            fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
                <$ty>::handle_timeout(self, now)
            }
            fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
                <$ty>::poll_transmit(self, buf)
            }
            fn wants_write(&self) -> bool {
                <$ty>::wants_write(self)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$ty>::poll_timeout(self)
            }
            fn poll_event(&mut self) -> Option<Event> {
                <$ty>::poll_event(self)
            }
            fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
                <$ty>::channel(self, id)
            }
            fn rekey(&mut self) -> Result<(), Error> {
                <$ty>::rekey(self)
            }
            fn disconnect(&mut self) {
                <$ty>::disconnect(self)
            }
            fn is_closed(&self) -> bool {
                <$ty>::is_closed(self)
            }
            fn is_authenticated(&self) -> bool {
                <$ty>::is_authenticated(self)
            }
            fn key_exchanges(&self) -> u64 {
                <$ty>::key_exchanges(self)
            }
            fn negotiated(&self) -> Option<&Negotiated> {
                <$ty>::negotiated(self)
            }
            fn session_id(&self) -> Option<&[u8]> {
                <$ty>::session_id(self)
            }
            fn peer_ident(&self) -> Option<&str> {
                <$ty>::$ident(self)
            }
            fn $down(&mut self) -> Option<&mut $ty> {
                Some(self)
            }
        }
    };
}

delegate!(ClientConnection, server_ident, as_client);
delegate!(ServerConnection, client_ident, as_server);
