//! The server role: [`Server`], what a [`ServerConnection`] holds beyond the common
//! [`Connection`], and the server's own decisions (each authentication attempt). Every
//! decision is an event carrying a token the application answers later.

mod dispatch;

use crate::auth::server::{AuthOutput, ServerAuth};
use crate::config::ServerConfig;
use crate::connection::core::Core;
use crate::connection::timers::{TimerConfig, Timers};
use crate::connection::{Channels, Connection, GlobalRequestKind};
use crate::error::{ApiMisuse, Error};
use crate::event::{AuthDecision, AuthRequest, AuthenticatedUser, Event};
use crate::kex::machine::{KexLists, KexMachine, Role};
use crate::transport::conn::{OutputLimits, Transport};
use crate::wire::{self, msg};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

/// One SSH server connection, as a state machine with no I/O. See [`Connection`] for the
/// method categories, the poll order and errors.
///
/// Nothing of the connection layer happens before authentication: channel and global requests
/// from an unauthenticated client end the connection (RFC 4252 §6).
pub type ServerConnection = Connection<Server>;

/// The server role's own state.
#[derive(Debug)]
pub struct Server {
    config: Arc<ServerConfig>,
    auth: ServerAuth,
    /// Failure replies held back until their release time.
    delayed: VecDeque<(Instant, Vec<u8>)>,
    /// Authentication messages that arrived while the application decided an earlier one.
    held: VecDeque<bytes::Bytes>,
}

/// Most authentication messages held while a decision is pending.
const MAX_HELD_AUTH: usize = 8;

impl crate::connection::Side for Server {}

impl Connection<Server> {
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
            Transport::new(
                config.server_id.clone(),
                config.rng.clone(),
                true,
                OutputLimits {
                    preauth: config.max_pending_output_preauth,
                    authenticated: config.max_pending_output,
                },
            ),
            KexMachine::new(Role::Server).with_gex_groups(config.gex_groups.clone()),
            Channels::new(config.window_size, config.max_packet_size)
                .with_window_limits(config.max_window_size, config.window_budget),
            lists,
            config.rekey_bytes,
        )?;
        let timers = Timers::new(
            TimerConfig {
                handshake: config.login_grace_time,
                rekey_interval: config.rekey_interval,
                keepalive_interval: config.keepalive_interval,
                keepalive_count_max: config.keepalive_count_max,
                idle_timeout: config.idle_timeout,
            },
            now,
        );
        let side = Server {
            auth,
            delayed: VecDeque::new(),
            held: VecDeque::new(),
            config,
        };
        Ok(Connection::assemble(core, side, timers))
    }

    /// Answers an [`Event::AuthRequest`]. A token this connection is not waiting for (issued
    /// by another connection, or already answered) is an [`Error::ApiMisuse`] that leaves the
    /// connection as it was. A decision that does not fit the request (prompts for a
    /// password, partial success for an unproven key query) ends the connection.
    pub fn answer_auth(
        &mut self,
        mut request: AuthRequest,
        decision: AuthDecision,
    ) -> Result<(), Error> {
        self.core.t.check_alive()?;
        let serial = request.ticket.serial();
        if !self.side.auth.is_pending(serial) {
            return Err(ApiMisuse::WrongState("no such authentication request pending").into());
        }
        request.ticket.defuse();
        self.decide_auth(serial, decision)
    }

    /// Who the client proved to be, once authenticated.
    pub fn authenticated_user(&self) -> Option<&AuthenticatedUser> {
        self.side.auth.authenticated()
    }

    /// The client's identification line.
    pub fn client_ident(&self) -> Option<&str> {
        self.peer_ident()
    }

    /// Whether the client sent `no-more-sessions@openssh.com` (later session opens are
    /// refused by the core).
    pub fn no_more_sessions(&self) -> bool {
        self.globals.no_more_sessions
    }

    pub(crate) fn decide_auth(&mut self, serial: u64, decision: AuthDecision) -> Result<(), Error> {
        let out = self.side.auth.answer(serial, decision);
        let r = out
            .and_then(|o| self.apply_auth(o))
            .and_then(|()| self.replay_held());
        self.check(r)
    }

    /// Processes the authentication messages held during the decision just taken, until the
    /// next one needs the application again.
    fn replay_held(&mut self) -> Result<(), Error> {
        use crate::connection::side::private::Sealed;
        while !self.side.auth.is_deciding() {
            let Some(payload) = self.side.held.pop_front() else {
                break;
            };
            let n = payload.first().copied().unwrap_or(0);
            let now = self.timers.now();
            Server::on_message(self, n, payload, now, false)?;
        }
        Ok(())
    }

    pub(crate) fn apply_auth(&mut self, out: AuthOutput) -> Result<(), Error> {
        if out.authenticated.is_some() {
            // Failure replies of earlier (pipelined) attempts still held back go first, in
            // order: the user is in, so their delay hides nothing any more.
            while let Some((_, p)) = self.side.delayed.pop_front() {
                self.send(p)?;
            }
        }
        for p in out.send {
            self.send(p)?;
        }
        if let Some(d) = out.delayed {
            self.side.delayed.push_back(d);
        }
        if let Some(req) = out.request {
            self.emit(Event::AuthRequest(req));
        }
        if let Some(who) = out.authenticated {
            self.timers.authenticated();
            self.emit(Event::ClientAuthenticated(who));
            self.announce_host_keys()?;
        }
        Ok(())
    }

    /// Tells the client every host key we hold (`hostkeys-00@openssh.com`), as sshd does once
    /// the user is authenticated, so it can learn keys it has not seen yet.
    fn announce_host_keys(&mut self) -> Result<(), Error> {
        if !self.side.config.announce_host_keys || self.side.config.host_keys.is_empty() {
            return Ok(());
        }
        let keys = self
            .side
            .config
            .host_keys
            .iter()
            .map(|k| k.public_key())
            // Certificates are not announced (OpenSSH announces plain keys only).
            .filter(|k| k.certificate().is_none())
            .collect();
        self.core
            .send_command(GlobalRequestKind::HostKeys(keys).encode(false))
    }

    /// EXT_INFO with `server-sig-algs` (the signature algorithms we accept for user keys),
    /// `publickey-hostbound@openssh.com` (when `publickey` is offered), `ping@openssh.com` and
    /// `agent-forward` (RFC 9987: clients ask for agent forwarding with `agent-req`).
    fn ext_info(&self) -> Vec<u8> {
        let config = &self.side.config;
        // Plain algorithms only: a certificate signs with its key's algorithm (FIDO
        // algorithms are left out too; clients do not consult the list for them).
        let plain: Vec<&str> = config
            .pubkey_accepted_algorithms
            .iter()
            .map(String::as_str)
            .filter(|a| {
                crate::config::HOST_KEY_ALGORITHMS.contains(a)
                    || *a == crate::keys::mldsa::SSH_MLDSA44_ED25519
            })
            .collect();
        let sig_algs = plain.join(",");
        let mut extensions: Vec<(&str, &[u8])> = vec![
            ("server-sig-algs", sig_algs.as_bytes()),
            (crate::transport::ping::EXTENSION, b"0"),
        ];
        if config.advertise_agent_forward {
            extensions.push((crate::connection::handle::AGENT_FORWARD_EXTENSION, b"0"));
        }
        if config.auth_methods.iter().any(|m| m == "publickey") {
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
}
