//! The client role: [`Client`], what a [`ClientConnection`] holds beyond the common
//! [`Connection`], and the client's own commands and decisions (the host key, the choice of
//! authentication method, keyboard-interactive answers, host-key proofs).

mod dispatch;

use crate::auth::client::{AuthMethod, ClientAuth};
use crate::config::ClientConfig;
use crate::connection::core::Core;
use crate::connection::timers::{TimerConfig, Timers};
use crate::connection::{Channels, Connection, GlobalRequestId, GlobalRequestKind};
use crate::error::{ApiMisuse, Error, PeerIncompatible};
use crate::event::{AuthChoice, Event, HostKeyCheck, SignRequest};
use crate::kex::machine::{KexLists, KexMachine, Role};
use crate::keys::PublicKey;
use crate::transport::conn::{OutputLimits, Transport};
use std::sync::Arc;
use std::time::Instant;

/// The server's proof for this session, as an agent's `session-bind@openssh.com` carries
/// it (OpenSSH `PROTOCOL.agent` §1): the agent checks `signature` over `session_id` with
/// `host_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionBinding {
    /// The server's host key.
    pub host_key: PublicKey,
    /// The session identifier (the first exchange hash).
    pub session_id: Vec<u8>,
    /// The host key's signature over the session identifier.
    pub signature: Vec<u8>,
}

/// One SSH client connection, as a state machine with no I/O. See [`Connection`] for the
/// method categories, the poll order and errors.
pub type ClientConnection = Connection<Client>;

/// The client role's own state.
#[derive(Debug)]
pub struct Client {
    config: Arc<ClientConfig>,
    auth: ClientAuth,
    server_sig_algs: Option<Vec<String>>,
    /// The serial of the authentication step the application owes us.
    pending_choice: Option<u64>,
    /// The serial of the signature the application owes us.
    pending_sign: Option<u64>,
}

impl crate::connection::Side for Client {}

impl Connection<Client> {
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
            Transport::new(
                config.client_id.clone(),
                config.rng.clone(),
                false,
                OutputLimits {
                    preauth: config.max_pending_output_preauth,
                    authenticated: config.max_pending_output,
                },
            ),
            KexMachine::new(Role::Client),
            Channels::new(config.window_size, config.max_packet_size)
                .with_window_limits(config.max_window_size, config.window_budget),
            lists,
            config.rekey_bytes,
        )?;
        let timers = Timers::new(
            TimerConfig {
                handshake: config.handshake_timeout,
                rekey_interval: config.rekey_interval,
                keepalive_interval: config.keepalive_interval,
                keepalive_count_max: config.keepalive_count_max,
                idle_timeout: config.idle_timeout,
            },
            now,
        );
        let side = Client {
            auth: ClientAuth::default(),
            server_sig_algs: None,
            pending_choice: None,
            pending_sign: None,
            config,
        };
        Ok(Connection::assemble(core, side, timers))
    }

    /// Trusts the host key of an [`Event::HostKey`](crate::Event::HostKey) and lets the
    /// connection continue. A check of another connection is refused with
    /// [`Error::ApiMisuse`] and installs nothing.
    pub fn accept_host_key(&mut self, check: HostKeyCheck) -> Result<(), Error> {
        self.core.t.check_alive()?;
        let core = &mut self.core;
        let step = core.kex.accept_host_key(&mut core.t, check)?;
        let r = self.after_kex_step(step);
        self.check(r)
    }

    /// Refuses the host key of an [`Event::HostKey`](crate::Event::HostKey): the connection
    /// ends with [`Error::HostKeyRejected`] before any authentication data is sent.
    pub fn reject_host_key(&mut self, mut check: HostKeyCheck) -> Result<(), Error> {
        if self.core.kex.pending_host_key() != Some(check.ticket.serial()) {
            return Err(ApiMisuse::WrongState("no such host key decision pending").into());
        }
        check.ticket.defuse();
        let fingerprint = check.fingerprint();
        self.check::<()>(Err(Error::HostKeyRejected { fingerprint }))
    }

    /// Tries an authentication method; the answer to
    /// [`Event::AuthMethods`](crate::Event::AuthMethods).
    pub fn authenticate(&mut self, choice: AuthChoice, method: AuthMethod) -> Result<(), Error> {
        self.core.t.check_alive()?;
        self.take_choice(choice)?;
        let sid = self.core.kex.session_id().unwrap_or_default().to_vec();
        let host_key = self.core.kex.host_key().map(PublicKey::to_blob);
        let side = &mut self.side;
        let ctx = crate::auth::client::RequestContext {
            session_id: &sid,
            server_sig_algs: side.server_sig_algs.as_deref(),
            accepted_algorithms: &side.config.pubkey_accepted_algorithms,
            host_key: host_key.as_deref(),
        };
        let r = side
            .auth
            .request(&method, &side.config.user, &ctx)
            .and_then(|payload| self.core.send_command(payload));
        self.check(r)
    }

    /// Gives up authenticating: the connection ends with
    /// [`PeerIncompatible::NoMoreAuthMethods`].
    pub fn give_up_auth(&mut self, choice: AuthChoice, methods: Vec<String>) -> Result<(), Error> {
        self.take_choice(choice)?;
        self.check::<()>(Err(PeerIncompatible::NoMoreAuthMethods {
            remaining: methods,
        }
        .into()))
    }

    /// Answers the keyboard-interactive prompts of
    /// [`Event::AuthPrompts`](crate::Event::AuthPrompts), one answer per prompt, in order.
    pub fn answer_prompts(
        &mut self,
        choice: AuthChoice,
        answers: Vec<zeroize::Zeroizing<String>>,
    ) -> Result<(), Error> {
        self.core.t.check_alive()?;
        self.take_choice(choice)?;
        let r = self
            .side
            .auth
            .answer_prompts(&answers)
            .and_then(|payload| self.core.send_command(payload));
        self.check(r)
    }

    /// Answers an [`Event::SignRequest`](crate::Event::SignRequest) with the signature blob
    /// (`string alg || string sig`, as an agent returns it) and sends the signed request.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for a request of another connection or one already answered;
    /// [`Error::Crypto`] if the signature does not verify over the data with the algorithm
    /// asked for: nothing is sent and the request stays pending (refuse it to go on).
    pub fn provide_signature(
        &mut self,
        req: &mut SignRequest,
        signature: &[u8],
    ) -> Result<(), Error> {
        self.core.t.check_alive()?;
        if self.side.pending_sign != Some(req.ticket.serial()) {
            return Err(ApiMisuse::WrongState("no such signature request pending").into());
        }
        let payload = self.side.auth.provide_signature(signature)?;
        req.ticket.defuse();
        self.side.pending_sign = None;
        let r = self.core.send_command(payload);
        self.check(r)
    }

    /// Refuses an [`Event::SignRequest`](crate::Event::SignRequest) (the agent would not
    /// sign): the next [`Event::AuthMethods`](crate::Event::AuthMethods) follows, to try
    /// another method.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for a request of another connection or one already answered.
    pub fn refuse_signature(&mut self, mut req: SignRequest) -> Result<(), Error> {
        self.core.t.check_alive()?;
        if self.side.pending_sign != Some(req.ticket.serial()) {
            return Err(ApiMisuse::WrongState("no such signature request pending").into());
        }
        req.ticket.defuse();
        let r = self.refuse_pending_signature();
        self.check(r)
    }

    /// Drops the owed signature and raises the next choice of method.
    pub(crate) fn refuse_pending_signature(&mut self) -> Result<(), Error> {
        self.side.pending_sign = None;
        let ev = self.side.auth.refuse_signature()?;
        if let Event::AuthMethods { choice, .. } = &ev {
            self.side.pending_choice = Some(choice.ticket.serial());
        }
        self.emit(ev);
        Ok(())
    }

    /// Asks the server to prove it holds `keys` (`hostkeys-prove-00@openssh.com`), typically
    /// the new ones of an [`Event::HostKeysAnnounced`](crate::Event::HostKeysAnnounced).
    /// [`Event::HostKeysProven`](crate::Event::HostKeysProven) follows when every signature
    /// verifies, [`Event::GlobalRequestFailed`](crate::Event::GlobalRequestFailed) otherwise.
    pub fn prove_host_keys(&mut self, keys: Vec<PublicKey>) -> Result<GlobalRequestId, Error> {
        self.global_request(GlobalRequestKind::HostKeysProve(keys), true)?
            .ok_or(ApiMisuse::WrongState("no reply expected").into())
    }

    /// What an agent's `session-bind@openssh.com` needs, once the first key exchange is
    /// done and its host key accepted: the host key, the session identifier and the host
    /// key's signature over it.
    pub fn session_binding(&self) -> Option<SessionBinding> {
        let kex = &self.core.kex;
        Some(SessionBinding {
            host_key: kex.host_key()?.clone(),
            session_id: kex.session_id()?.to_vec(),
            signature: kex.session_signature()?.to_vec(),
        })
    }

    /// The server's host key, once accepted.
    pub fn host_key(&self) -> Option<&PublicKey> {
        self.core.kex.host_key()
    }

    /// The server's identification line.
    pub fn server_ident(&self) -> Option<&str> {
        self.peer_ident()
    }

    fn take_choice(&mut self, mut choice: AuthChoice) -> Result<(), Error> {
        if self.side.pending_choice != Some(choice.ticket.serial()) {
            return Err(ApiMisuse::WrongState("no such authentication step pending").into());
        }
        choice.ticket.defuse();
        self.side.pending_choice = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
