//! The client role: [`ClientConnection`], the sans-I/O state machine of one SSH client
//! connection.

mod dispatch;

use crate::auth::client::{AuthMethod, ClientAuth};
use crate::config::ClientConfig;
use crate::connection::core::Core;
use crate::connection::{Channel, Channels};
use crate::error::{ApiMisuse, Error};
use crate::event::{ChannelId, Event, HostKeyCheck};
use crate::kex::machine::{KexLists, KexMachine, KexStep, Role};
use crate::kex::rekey_timer::earliest;
use crate::keys::PublicKey;
use crate::transport::conn::Transport;
use crate::transport::ping::Ping;
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
    core: Core,
    auth: ClientAuth,
    server_sig_algs: Option<Vec<String>>,
    ping: Ping,
    deadline: Option<Instant>,
}

impl ClientConnection {
    /// Starts a connection: queues our identification line and our first KEXINIT.
    pub fn new(config: Arc<ClientConfig>, now: Instant) -> Result<ClientConnection, Error> {
        config.validate()?;
        let lists = KexLists {
            kex: config.kex_algorithms.clone(),
            host_key: config.host_key_algorithms.clone(),
            ciphers: config.ciphers.clone(),
            macs: config.macs.clone(),
            compression: config.compression.clone(),
        };
        let core = Core::start(
            Transport::new(config.client_id.clone(), config.rng.clone(), false),
            KexMachine::new(Role::Client),
            Channels::new(config.window_size, config.max_packet_size, false),
            lists,
            config.rekey_bytes,
            config.rekey_interval,
        )?;
        let conn = ClientConnection {
            deadline: Some(now + config.handshake_timeout),
            core,
            config,
            auth: ClientAuth::default(),
            server_sig_algs: None,
            ping: Ping::default(),
        };
        Ok(conn)
    }
    /// Feeds bytes received from the server.
    pub fn feed(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        self.core.t.check_alive()?;
        self.core.t.push_input(data);
        let r = self.process();
        self.core
            .rekey_timer
            .observe(self.core.kex.completed(), now);
        self.check(r)
    }

    /// Tells the connection that the server closed the byte stream.
    pub fn feed_eof(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        self.core.feed_eof()
    }

    /// Runs timers that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.core.t.check_alive()?;
        self.core.rekey_if_due(now)?;
        match self.deadline {
            Some(d) if now >= d => self.check(Err(Error::Timeout)),
            _ => Ok(()),
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.core.t.is_closed() {
            None
        } else {
            earliest(self.deadline, self.core.rekey_timer.deadline())
        }
    }

    /// Appends bytes ready for the wire to `buf`. Returns how many were appended.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        self.core.poll_transmit(buf)
    }

    /// Whether bytes are waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn wants_write(&self) -> bool {
        self.core.t.wants_write()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.poll_event()
    }

    /// Trusts the host key of a [`Event::HostKey`] and lets the connection continue.
    pub fn accept_host_key(&mut self, check: HostKeyCheck) -> Result<(), Error> {
        self.core.t.check_alive()?;
        let r = self
            .core
            .kex
            .accept_host_key(&mut self.core.t, check)
            .and_then(|step| self.after_kex_step(step));
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
        self.core.t.check_alive()?;
        let sid = self.core.kex.session_id().unwrap_or_default().to_vec();
        let host_key = self.core.kex.host_key().map(PublicKey::to_blob);
        let ctx = crate::auth::client::RequestContext {
            session_id: &sid,
            server_sig_algs: self.server_sig_algs.as_deref(),
            accepted_algorithms: &self.config.pubkey_accepted_algorithms,
            host_key: host_key.as_deref(),
        };
        let payload = self.auth.request(&method, &self.config.user, &ctx)?;
        let r = self.send(payload);
        self.check(r)
    }

    /// Answers the keyboard-interactive prompts of [`Event::AuthPrompts`], one answer per
    /// prompt, in order.
    pub fn answer_prompts(
        &mut self,
        answers: Vec<zeroize::Zeroizing<String>>,
    ) -> Result<(), Error> {
        self.core.t.check_alive()?;
        let payload = self.auth.answer_prompts(&answers)?;
        let r = self.send(payload);
        self.check(r)
    }

    /// Opens a `session` channel. [`Event::ChannelOpened`] follows.
    pub fn open_session(&mut self) -> Result<ChannelId, Error> {
        self.core.t.check_alive()?;
        if !self.auth.is_done() {
            return Err(ApiMisuse::WrongState("open_session before authentication").into());
        }
        let (id, payload) = self.core.channels.open("session")?;
        let r = self.send(payload);
        self.check(r)?;
        Ok(id)
    }

    /// A handle on a channel, or `None` if it does not exist.
    pub fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
        self.core.channel(id)
    }

    /// Starts a key re-exchange now (one also starts by itself after `rekey_bytes`).
    pub fn rekey(&mut self) -> Result<(), Error> {
        self.core.rekey()
    }

    /// Ends the connection with `SSH_MSG_DISCONNECT` (reason "by application").
    pub fn disconnect(&mut self) {
        let _ = self.check::<()>(Err(Error::LocallyClosed));
    }

    /// The server's host key, once accepted.
    pub fn host_key(&self) -> Option<&PublicKey> {
        self.core.kex.host_key()
    }

    /// The server's identification line.
    pub fn server_ident(&self) -> Option<&str> {
        self.core.t.peer_ident.as_deref()
    }

    /// The session identifier (the first exchange hash).
    pub fn session_id(&self) -> Option<&[u8]> {
        self.core.kex.session_id()
    }

    /// Whether the server advertised `ping@openssh.com`, so [`ping`](Self::ping) can be used.
    pub fn can_ping(&self) -> bool {
        self.ping.peer_supports
    }

    /// Sends a transport-level ping (`ping@openssh.com`) carrying `data` (at most 16 KiB);
    /// the answer arrives as [`Event::Pong`] with the same data. A server answers only once we
    /// are authenticated, and pings sent during a key exchange wait until it ends, so the pong
    /// measures a full round trip through the peer's transport. Fails with `ApiMisuse` before
    /// authentication, if the server did not advertise support, or if 64 pings are unanswered.
    pub fn ping(&mut self, data: &[u8]) -> Result<(), Error> {
        self.core.t.check_alive()?;
        if !self.auth.is_done() {
            return Err(ApiMisuse::WrongState("ping before authentication").into());
        }
        let p = self.ping.ping(data)?;
        let r = self.send(p);
        self.check(r)
    }

    /// Whether authentication has succeeded.
    pub fn is_authenticated(&self) -> bool {
        self.auth.is_done()
    }

    /// The algorithms the last key exchange chose, once known.
    pub fn negotiated(&self) -> Option<&crate::kex::negotiate::Negotiated> {
        self.core.negotiated()
    }

    /// How many key exchanges have completed (the first one and every rekey).
    pub fn key_exchanges(&self) -> u64 {
        self.core.kex.completed()
    }

    /// Whether the connection has failed or closed.
    pub fn is_closed(&self) -> bool {
        self.core.t.is_closed()
    }

    /// Records a fatal error once (see [`Transport::fail`]).
    fn check<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        self.core.check(r)
    }

    /// Sends a payload now, or holds it while our side of a key exchange is in progress.
    fn send(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        self.core.send(payload)
    }

    /// What follows our NEWKEYS: on the first exchange the service request, then everything
    /// held during the exchange, then wake writers.
    fn after_kex_step(&mut self, step: KexStep) -> Result<(), Error> {
        match step {
            KexStep::Nothing => Ok(()),
            KexStep::HostKey(check) => {
                self.core.t.events.push_back(Event::HostKey(check));
                Ok(())
            }
            KexStep::SentNewKeys { first } => {
                if first {
                    let p = self.auth.service_request();
                    self.core.t.write(&p)?;
                }
                self.core.t.release_held()?;
                self.core.channels.wake_writable(&mut self.core.t.events);
                Ok(())
            }
        }
    }

    fn maybe_rekey(&mut self) -> Result<(), Error> {
        self.core.maybe_rekey()
    }
}

#[cfg(test)]
mod tests;
