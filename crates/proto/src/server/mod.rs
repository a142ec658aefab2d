//! The server role: [`ServerConnection`], the sans-I/O state machine of one SSH server
//! connection. Every decision (each auth attempt, each channel, each session request) is an
//! event carrying a token the application answers later.

mod dispatch;

use crate::auth::server::{AuthOutput, ServerAuth};
use crate::config::ServerConfig;
use crate::connection::core::Core;
use crate::connection::handle::Parts;
use crate::connection::{Channel, Channels};
use crate::error::{ApiMisuse, Error};
use crate::event::{
    AuthDecision, AuthRequest, AuthenticatedUser, ChannelId, Event, IncomingChannel, SessionRequest,
};
use crate::kex::machine::{KexLists, KexMachine, KexStep, Role};
use crate::kex::rekey_timer::earliest;
use crate::transport::conn::Transport;
use crate::wire::{self, msg};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

/// Most channel-open requests the application may leave unanswered at once.
const MAX_PENDING_OPENS: usize = 64;

/// One SSH server connection, as a state machine with no I/O.
///
/// **Poll order.** After any input (`feed`, `feed_eof`, `handle_timeout`) or command, drain
/// [`poll_transmit`](Self::poll_transmit), then read [`poll_timeout`](Self::poll_timeout),
/// then drain [`poll_event`](Self::poll_event).
///
/// Nothing of the connection layer happens before authentication: channel and global requests
/// from an unauthenticated client end the connection (RFC 4252 §6).
#[derive(Debug)]
pub struct ServerConnection {
    config: Arc<ServerConfig>,
    core: Core,
    auth: ServerAuth,
    /// Tokens of channel-open requests the application has not answered yet.
    pending_opens: Vec<u64>,
    grace_deadline: Option<Instant>,
    /// Failure replies held back until their release time.
    delayed: VecDeque<(Instant, Vec<u8>)>,
}

impl ServerConnection {
    /// Starts a connection: queues our identification line and our first KEXINIT.
    pub fn new(config: Arc<ServerConfig>, now: Instant) -> Result<ServerConnection, Error> {
        config.validate()?;
        let lists = KexLists {
            kex: config.kex_algorithms.clone(),
            host_key: config.offered_host_key_algorithms(),
            ciphers: config.ciphers.clone(),
            macs: config.macs.clone(),
            compression: config.compression.clone(),
        };
        let mut secret = [0u8; 16];
        config.rng.fill(&mut secret)?;
        let auth = ServerAuth::new(&config, secret);
        let core = Core::start(
            Transport::new(config.server_id.clone(), config.rng.clone(), true),
            KexMachine::new(Role::Server).with_gex_groups(config.gex_groups.clone()),
            Channels::new(config.window_size, config.max_packet_size, true),
            lists,
            config.rekey_bytes,
            config.rekey_interval,
        )?;
        let conn = ServerConnection {
            grace_deadline: Some(now + config.login_grace_time),
            core,
            auth,
            pending_opens: Vec::new(),
            delayed: VecDeque::new(),
            config,
        };
        Ok(conn)
    }

    /// Feeds bytes received from the client.
    pub fn feed(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        self.core.t.check_alive()?;
        self.core.t.push_input(data);
        let r = self.release_delayed(now).and_then(|()| self.process(now));
        self.core
            .rekey_timer
            .observe(self.core.kex.completed(), now);
        self.check(r)
    }

    /// Tells the connection that the client closed the byte stream.
    pub fn feed_eof(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        self.core.feed_eof()
    }

    /// Runs timers due at `now`: delayed failure replies and the login grace time.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.core.t.check_alive()?;
        let r = self.release_delayed(now);
        self.check(r)?;
        self.core.rekey_if_due(now)?;
        match self.grace_deadline {
            Some(d) if now >= d => self.check(Err(Error::Timeout)),
            _ => Ok(()),
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.core.t.is_closed() {
            return None;
        }
        let delayed = self.delayed.front().map(|(at, _)| *at);
        earliest(
            earliest(self.grace_deadline, delayed),
            self.core.rekey_timer.deadline(),
        )
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

    /// Answers an [`Event::AuthRequest`]. A token this connection is not waiting for (issued
    /// by another connection, or already answered) is an [`Error::ApiMisuse`] that leaves the
    /// connection as it was. A decision that does not fit the request (prompts for a
    /// password, partial success for an unproven key query) ends the connection.
    pub fn answer_auth(
        &mut self,
        request: AuthRequest,
        decision: AuthDecision,
    ) -> Result<(), Error> {
        self.core.t.check_alive()?;
        if !self.auth.is_pending(request.serial) {
            return Err(ApiMisuse::WrongState("no such authentication request pending").into());
        }
        let out = self.auth.answer(request.serial, decision);
        let r = out.and_then(|o| self.apply_auth(o));
        self.check(r)
    }

    /// Accepts an [`Event::ChannelOpenRequest`] and returns the new channel.
    pub fn accept_channel(&mut self, incoming: IncomingChannel) -> Result<ChannelId, Error> {
        self.core.t.check_alive()?;
        self.take_open_token(&incoming)?;
        let (id, p) = self.core.channels.accept(incoming)?;
        let r = self.send(p);
        self.check(r)?;
        Ok(id)
    }

    /// Refuses an [`Event::ChannelOpenRequest`] with an RFC 4254 reason code.
    pub fn reject_channel(
        &mut self,
        incoming: IncomingChannel,
        reason: u32,
        description: &str,
    ) -> Result<(), Error> {
        self.core.t.check_alive()?;
        self.take_open_token(&incoming)?;
        let r = self.send(Channels::reject(incoming, reason, description));
        self.check(r)
    }

    /// Answers an [`Event::ChannelRequest`]. Replies leave in the order the requests arrived,
    /// whatever order they are answered in.
    pub fn reply_request(&mut self, request: SessionRequest, ok: bool) -> Result<(), Error> {
        self.core.t.check_alive()?;
        if !request.want_reply {
            return Ok(());
        }
        if !self.core.channels.contains(request.id) {
            return Ok(());
        }
        // An unknown token is the application's mistake: refused, the connection goes on.
        let replies = self.core.channels.reply(request.id, request.serial, ok)?;
        let r = replies.into_iter().try_for_each(|p| self.send(p));
        self.check(r)
    }

    /// A handle on a channel, or `None` if it does not exist.
    pub fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
        self.core.channel(id)
    }

    /// Whether the client has authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.auth.authenticated().is_some()
    }

    /// Who the client proved to be, once authenticated.
    pub fn authenticated_user(&self) -> Option<&AuthenticatedUser> {
        self.auth.authenticated()
    }

    /// The client's identification line.
    pub fn client_ident(&self) -> Option<&str> {
        self.core.t.peer_ident.as_deref()
    }

    /// The session identifier (the first exchange hash).
    pub fn session_id(&self) -> Option<&[u8]> {
        self.core.kex.session_id()
    }

    /// The algorithms the last key exchange chose, once known.
    pub fn negotiated(&self) -> Option<&crate::kex::negotiate::Negotiated> {
        self.core.negotiated()
    }

    /// How many key exchanges have completed.
    pub fn key_exchanges(&self) -> u64 {
        self.core.kex.completed()
    }

    /// Starts a key re-exchange now.
    pub fn rekey(&mut self) -> Result<(), Error> {
        self.core.rekey()
    }

    /// Ends the connection with `SSH_MSG_DISCONNECT` (reason "by application").
    pub fn disconnect(&mut self) {
        let _ = self.check::<()>(Err(Error::LocallyClosed));
    }

    /// Whether the connection has failed or closed.
    pub fn is_closed(&self) -> bool {
        self.core.t.is_closed()
    }

    fn parts(&mut self) -> Parts<'_> {
        self.core.parts()
    }

    fn check<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        self.core.check(r)
    }

    fn send(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        self.core.send(payload)
    }

    fn release_delayed(&mut self, now: Instant) -> Result<(), Error> {
        while let Some((at, _)) = self.delayed.front() {
            if *at > now {
                break;
            }
            if let Some((_, p)) = self.delayed.pop_front() {
                self.send(p)?;
            }
        }
        Ok(())
    }

    fn apply_auth(&mut self, out: AuthOutput) -> Result<(), Error> {
        for p in out.send {
            self.send(p)?;
        }
        if let Some(d) = out.delayed {
            self.delayed.push_back(d);
        }
        if let Some(req) = out.request {
            self.core.t.events.push_back(Event::AuthRequest(req));
        }
        if let Some(who) = out.authenticated {
            self.grace_deadline = None;
            // Failure replies still held back would now arrive after SUCCESS: drop them.
            self.delayed.clear();
            self.core
                .t
                .events
                .push_back(Event::ClientAuthenticated(who));
        }
        Ok(())
    }

    fn after_kex_step(&mut self, step: KexStep) -> Result<(), Error> {
        match step {
            KexStep::Nothing | KexStep::HostKey(_) => Ok(()),
            KexStep::SentNewKeys { first } => {
                if first && self.core.kex.peer_wants_ext_info {
                    self.core.t.write(&self.ext_info())?;
                }
                self.core.t.release_held()?;
                self.core.channels.wake_writable(&mut self.core.t.events);
                Ok(())
            }
        }
    }

    /// EXT_INFO with `server-sig-algs` (the signature algorithms we accept for user keys),
    /// `publickey-hostbound@openssh.com` (when `publickey` is offered) and `ping@openssh.com`.
    fn ext_info(&self) -> Vec<u8> {
        let sig_algs = self.config.pubkey_accepted_algorithms.join(",");
        let mut extensions: Vec<(&str, &[u8])> = vec![
            ("server-sig-algs", sig_algs.as_bytes()),
            (crate::transport::ping::EXTENSION, b"0"),
        ];
        if self.config.auth_methods.iter().any(|m| m == "publickey") {
            extensions.push((crate::auth::client::HOSTBOUND_EXTENSION, b"0"));
        }
        let mut p = vec![msg::EXT_INFO];
        wire::put_u32(&mut p, extensions.len() as u32);
        for (name, value) in extensions {
            wire::put_string(&mut p, name.as_bytes());
            wire::put_string(&mut p, value);
        }
        p
    }

    /// Consumes the token of a pending open request; a token of another connection, or one
    /// already answered, is refused without effect.
    fn take_open_token(&mut self, incoming: &IncomingChannel) -> Result<(), Error> {
        match self
            .pending_opens
            .iter()
            .position(|s| *s == incoming.serial)
        {
            Some(i) => {
                self.pending_opens.swap_remove(i);
                Ok(())
            }
            None => Err(ApiMisuse::WrongState("no such channel-open request pending").into()),
        }
    }

    fn open_request(&mut self, incoming: IncomingChannel) -> Result<(), Error> {
        let refuse = |why: &str, reason: u32, me: &mut Self, inc| {
            me.send(Channels::reject(inc, reason, why))
        };
        if incoming.kind != "session" {
            return refuse("unknown channel type", 3, self, incoming);
        }
        let open = self.core.channels.len() + self.pending_opens.len();
        if open >= self.config.max_sessions || self.pending_opens.len() >= MAX_PENDING_OPENS {
            return refuse("too many sessions", 1, self, incoming);
        }
        self.pending_opens.push(incoming.serial);
        self.core
            .t
            .events
            .push_back(Event::ChannelOpenRequest(incoming));
        Ok(())
    }
}
