//! The client role: [`ClientConnection`], the sans-I/O state machine of one SSH client
//! connection.

mod channel;
mod dispatch;
mod kex;

pub use channel::Channel;

use crate::auth::client::{AuthMethod, ClientAuth};
use crate::config::ClientConfig;
use crate::connection::Channels;
use crate::error::{ApiMisuse, Error};
use crate::event::{ChannelId, Event, HostKeyCheck};
use crate::keys::PublicKey;
use crate::transport::packet::{PacketReader, PacketWriter};
use crate::transport::version::VersionReader;
use crate::wire::{self, msg};
use bytes::BytesMut;
use kex::KexState;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

/// One SSH client connection, as a state machine with no I/O.
///
/// **Poll order.** After any input (`feed`, `feed_eof`, `handle_timeout`) or command, drain
/// [`poll_transmit`](Self::poll_transmit) (send everything it appends), then read
/// [`poll_timeout`](Self::poll_timeout), then drain [`poll_event`](Self::poll_event).
///
/// Errors are sticky: after a fatal error the queued `SSH_MSG_DISCONNECT` is still available
/// from `poll_transmit`, `poll_event` yields one [`Event::ConnectionLost`], and every input
/// returns the same error.
#[derive(Debug)]
pub struct ClientConnection {
    config: Arc<ClientConfig>,
    inbuf: BytesMut,
    out: Vec<u8>,
    version: Option<VersionReader>,
    server_ident: Option<String>,
    reader: PacketReader,
    writer: PacketWriter,
    kex: KexState,
    auth: ClientAuth,
    channels: Channels,
    events: VecDeque<Event>,
    /// Non-KEX payloads held while our side of a key exchange is in progress.
    held: VecDeque<Vec<u8>>,
    server_sig_algs: Option<Vec<String>>,
    error: Option<Error>,
    deadline: Option<Instant>,
    disconnect_sent: bool,
}

impl ClientConnection {
    /// Starts a connection: queues our identification line and our first KEXINIT.
    pub fn new(config: Arc<ClientConfig>, now: Instant) -> Result<ClientConnection, Error> {
        config.validate()?;
        let mut out = Vec::with_capacity(64 * 1024);
        out.extend_from_slice(config.client_id.as_bytes());
        out.extend_from_slice(b"\r\n");
        let channels = Channels::new(config.window_size, config.max_packet_size);
        let mut conn = ClientConnection {
            deadline: Some(now + config.handshake_timeout),
            config,
            inbuf: BytesMut::with_capacity(64 * 1024),
            out,
            version: Some(VersionReader::default()),
            server_ident: None,
            reader: PacketReader::default(),
            writer: PacketWriter::default(),
            kex: KexState::default(),
            auth: ClientAuth::default(),
            channels,
            events: VecDeque::new(),
            held: VecDeque::new(),
            server_sig_algs: None,
            error: None,
            disconnect_sent: false,
        };
        conn.start_kex()?;
        Ok(conn)
    }

    /// Feeds bytes received from the server.
    pub fn feed(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        let _ = now;
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.inbuf.extend_from_slice(data);
        let r = self.process();
        self.check(r)
    }

    /// Tells the connection that the server closed the byte stream.
    pub fn feed_eof(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let e = if self.server_ident.is_none() {
            Error::PeerMisbehaved(crate::error::PeerMisbehaved::NotSsh)
        } else {
            Error::ConnectionClosed
        };
        self.disconnect_sent = true;
        self.check(Err(e))
    }

    /// Runs timers that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.deadline {
            Some(d) if now >= d => self.check(Err(Error::Timeout)),
            _ => Ok(()),
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error.is_some() {
            None
        } else {
            self.deadline
        }
    }

    /// Appends bytes ready for the wire to `buf`. Returns how many were appended.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.out.len();
        if buf.is_empty() {
            std::mem::swap(buf, &mut self.out);
        } else {
            buf.extend_from_slice(&self.out);
            self.out.clear();
        }
        n
    }

    /// Whether bytes are waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn wants_write(&self) -> bool {
        !self.out.is_empty()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Trusts the host key of a [`Event::HostKey`] and lets the connection continue.
    pub fn accept_host_key(&mut self, check: HostKeyCheck) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.on_host_key_accepted(check);
        self.check(r)
    }

    /// Refuses the host key of a [`Event::HostKey`]: the connection ends with
    /// [`Error::HostKeyRejected`] before any authentication data is sent.
    pub fn reject_host_key(&mut self, check: HostKeyCheck) {
        let fingerprint = check.fingerprint();
        let _ = self.check::<()>(Err(Error::HostKeyRejected { fingerprint }));
    }

    /// Tries an authentication method; answer to [`Event::AuthMethods`].
    pub fn authenticate(&mut self, method: AuthMethod) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let sid = self.kex.session_id().unwrap_or_default().to_vec();
        let payload = self.auth.request(
            &method,
            &self.config.user,
            &sid,
            self.server_sig_algs.as_deref(),
        )?;
        let r = self.send(payload);
        self.check(r)
    }

    /// Opens a `session` channel. [`Event::ChannelOpened`] follows.
    pub fn open_session(&mut self) -> Result<ChannelId, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if !self.auth.is_done() {
            return Err(ApiMisuse::WrongState("open_session before authentication").into());
        }
        let (id, payload) = self.channels.open("session")?;
        let r = self.send(payload);
        self.check(r)?;
        Ok(id)
    }

    /// A handle on a channel, or `None` if it does not exist.
    pub fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
        if self.channels.contains(id) {
            Some(Channel::new(self, id))
        } else {
            None
        }
    }

    /// Starts a key re-exchange now (one also starts by itself after `rekey_bytes`).
    pub fn rekey(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if !self.kex.is_idle() || self.kex.session_id().is_none() {
            return Ok(());
        }
        let r = self.start_kex();
        self.check(r)
    }

    /// Ends the connection with `SSH_MSG_DISCONNECT` (reason "by application").
    pub fn disconnect(&mut self) {
        let _ = self.check::<()>(Err(Error::LocallyClosed));
    }

    /// The server's host key, once accepted.
    pub fn host_key(&self) -> Option<&PublicKey> {
        self.kex.host_key()
    }

    /// The server's identification line.
    pub fn server_ident(&self) -> Option<&str> {
        self.server_ident.as_deref()
    }

    /// The session identifier (the first exchange hash).
    pub fn session_id(&self) -> Option<&[u8]> {
        self.kex.session_id()
    }

    /// Whether authentication has succeeded.
    pub fn is_authenticated(&self) -> bool {
        self.auth.is_done()
    }

    /// The algorithms the last key exchange chose, once known.
    pub fn negotiated(&self) -> Option<&crate::kex::negotiate::Negotiated> {
        self.kex.negotiated()
    }

    /// How many key exchanges have completed (the first one and every rekey).
    pub fn key_exchanges(&self) -> u64 {
        self.kex.completed()
    }

    /// Whether the connection has failed or closed.
    pub fn is_closed(&self) -> bool {
        self.error.is_some()
    }

    /// Records a fatal error once: queues DISCONNECT where the error calls for one, and
    /// the `ConnectionLost` event.
    fn check<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        let e = match r {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if self.error.is_none() {
            if let (Some(reason), false) = (e.disconnect_reason(), self.disconnect_sent) {
                let mut p = vec![msg::DISCONNECT];
                wire::put_u32(&mut p, reason);
                wire::put_string(&mut p, e.to_string().as_bytes());
                wire::put_string(&mut p, b"");
                let rng = self.config.rng.clone();
                let _ = self
                    .writer
                    .write(&mut self.out, rng.as_ref(), |o| o.extend_from_slice(&p));
                self.disconnect_sent = true;
            }
            self.held.clear();
            self.error = Some(e.clone());
            self.events.push_back(Event::ConnectionLost(e.clone()));
        }
        Err(e)
    }

    /// Sends a payload now, or holds it if it is not a transport or KEX message and our side of
    /// a key exchange is in progress.
    fn send(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        let n = payload.first().copied().unwrap_or(0);
        if self.kex.sending_blocked() && !msg::is_kex(n) && !msg::is_transport_generic(n) {
            self.held.push_back(payload);
            return Ok(());
        }
        self.write_payload(&payload)
    }

    fn write_payload(&mut self, payload: &[u8]) -> Result<(), Error> {
        let rng = self.config.rng.clone();
        self.writer.write(&mut self.out, rng.as_ref(), |o| {
            o.extend_from_slice(payload)
        })?;
        self.maybe_rekey()
    }

    /// Starts a rekey once either direction has carried `rekey_bytes` under the current keys.
    fn maybe_rekey(&mut self) -> Result<(), Error> {
        let limit = self.config.rekey_bytes;
        if self.kex.is_idle()
            && self.kex.session_id().is_some()
            && (self.writer.traffic().bytes > limit || self.reader.traffic().bytes > limit)
        {
            self.start_kex()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
