//! The server side of user authentication (RFC 4252, RFC 4256). Every attempt becomes an
//! [`AuthRequest`] event after the core has checked what it can (signatures, lengths,
//! state); the application's [`AuthDecision`] is applied with OpenSSH's limits: failures
//! counted and capped, failure replies delayed, the user name fixed for the connection.
//!
//! Public keys are accepted with the algorithms of `ServerConfig::pubkey_accepted_algorithms`,
//! by the `publickey` method and its host-bound form `publickey-hostbound-v00@openssh.com`
//! (OpenSSH `PROTOCOL` §2.5), which must name the host key of our key exchange.

use crate::auth::client::HOSTBOUND_METHOD;
use crate::config::ServerConfig;
use crate::error::{ApiMisuse, Error, InvalidMessage, PeerMisbehaved};
use crate::event::{AuthAttempt, AuthDecision, AuthRequest, AuthenticatedUser, PromptRequest};
use crate::keys::PublicKey;
use crate::wire::{self, Reader, msg};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Longest password considered (OpenSSH `MAX_PASSWORD_LEN`).
const MAX_PASSWORD_LEN: usize = 1024;
/// Most keyboard-interactive prompts per round (OpenSSH's limit on responses).
pub const MAX_PROMPTS: usize = 100;
/// Attempts of any kind after which the connection ends regardless (OpenSSH).
const MAX_ATTEMPTS: u32 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitServiceRequest,
    Ready,
    /// An attempt is with the application.
    Deciding,
    /// Keyboard-interactive prompts were sent; this many answers are due.
    Prompting(usize),
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    None,
    Password,
    Query { key: PublicKey, algorithm: String },
    PublicKey { key: PublicKey },
    Interactive,
}

#[derive(Debug)]
struct Pending {
    serial: u64,
    kind: Kind,
    at: Instant,
}

/// What an attempt is checked against: the session identifier (signed over) and the blob of
/// the host key our key exchange used (host-bound requests must name it).
#[derive(Debug, Clone, Copy)]
pub struct Session<'a> {
    /// The session identifier.
    pub id: &'a [u8],
    /// Our host key's blob, once a key exchange has finished.
    pub host_key: Option<&'a [u8]>,
}

/// What the connection must do after an auth step.
#[derive(Debug, Default)]
pub struct AuthOutput {
    /// Payloads to send now.
    pub send: Vec<Vec<u8>>,
    /// A failure reply to send no earlier than the given time.
    pub delayed: Option<(Instant, Vec<u8>)>,
    /// An event for the application.
    pub request: Option<AuthRequest>,
    /// The client is authenticated.
    pub authenticated: Option<AuthenticatedUser>,
}

/// Server authentication state.
#[derive(Debug)]
pub struct ServerAuth {
    state: State,
    methods: Vec<String>,
    /// Signature algorithms accepted for user keys.
    accepted_algorithms: Vec<String>,
    user: Option<String>,
    pending: Option<Pending>,
    failures: u32,
    attempts: u32,
    max_failures: u32,
    /// A key proven in an earlier (partial) step.
    proven_key: Option<PublicKey>,
    banner: Option<String>,
    delay: Duration,
    delay_secret: [u8; 16],
    authenticated: Option<AuthenticatedUser>,
}

fn failure(methods: &[String], partial: bool) -> Vec<u8> {
    let mut p = vec![msg::USERAUTH_FAILURE];
    wire::put_name_list(&mut p, methods);
    wire::put_bool(&mut p, partial);
    p
}

impl ServerAuth {
    /// Offers `config.auth_methods`, accepts user keys with
    /// `config.pubkey_accepted_algorithms`, allows `config.max_auth_tries` failed attempts and
    /// delays failure replies by at least `config.auth_failure_delay` (plus a per-user amount
    /// derived from `delay_secret`).
    pub fn new(config: &ServerConfig, delay_secret: [u8; 16]) -> ServerAuth {
        ServerAuth {
            state: State::AwaitServiceRequest,
            methods: config.auth_methods.clone(),
            accepted_algorithms: config.pubkey_accepted_algorithms.clone(),
            user: None,
            pending: None,
            failures: 0,
            attempts: 0,
            max_failures: config.max_auth_tries,
            proven_key: None,
            banner: config.banner.clone(),
            delay: config.auth_failure_delay,
            delay_secret,
            authenticated: None,
        }
    }

    /// Who authenticated, once done.
    pub fn authenticated(&self) -> Option<&AuthenticatedUser> {
        self.authenticated.as_ref()
    }

    /// Whether the client is authenticated.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Handles SERVICE_REQUEST and returns SERVICE_ACCEPT.
    pub fn on_service_request(&mut self, payload: &[u8]) -> Result<Vec<u8>, Error> {
        let mut r = Reader::new(payload);
        r.u8("service request")?;
        let name = r.string("service name")?;
        r.end("service request")?;
        if self.state != State::AwaitServiceRequest || name != b"ssh-userauth" {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::SERVICE_REQUEST).into());
        }
        self.state = State::Ready;
        let mut p = vec![msg::SERVICE_ACCEPT];
        wire::put_string(&mut p, b"ssh-userauth");
        Ok(p)
    }

    /// Whether an attempt is with the application (later requests must wait for it).
    pub fn is_deciding(&self) -> bool {
        matches!(self.state, State::Deciding)
    }

    /// Handles USERAUTH_REQUEST (50) and USERAUTH_INFO_RESPONSE (61). `session` is the
    /// session identifier and the blob of the host key our key exchange used.
    pub fn on_message(
        &mut self,
        payload: &[u8],
        session: &Session<'_>,
        now: Instant,
    ) -> Result<AuthOutput, Error> {
        let n = payload.first().copied().unwrap_or(0);
        match (n, self.state) {
            (msg::USERAUTH_REQUEST, State::Ready | State::Prompting(_)) => {
                self.on_request(payload, session, now)
            }
            (61, State::Prompting(expected)) => self.on_info_response(payload, expected, now),
            _ => Err(PeerMisbehaved::UnexpectedMessage(n).into()),
        }
    }

    fn on_request(
        &mut self,
        payload: &[u8],
        session: &Session<'_>,
        now: Instant,
    ) -> Result<AuthOutput, Error> {
        let mut r = Reader::new(payload);
        r.u8("userauth request")?;
        let user = r.utf8("user name")?.to_owned();
        let service = r.string("service name")?;
        let method = r.string("method name")?;
        if service != b"ssh-connection" {
            return Err(InvalidMessage::BadValue("service is not ssh-connection").into());
        }
        match &self.user {
            Some(u) if *u != user => {
                return Err(
                    InvalidMessage::BadValue("change of user name during authentication").into(),
                );
            }
            _ => self.user = Some(user.clone()),
        }
        self.attempts += 1;
        if self.attempts > MAX_ATTEMPTS {
            return Err(PeerMisbehaved::TooManyPendingRequests.into());
        }
        let mut out = AuthOutput::default();
        if let Some(b) = self.banner.take() {
            let mut p = vec![msg::USERAUTH_BANNER];
            wire::put_string(&mut p, b.as_bytes());
            wire::put_string(&mut p, b"");
            out.send.push(p);
        }
        let hostbound = method == HOSTBOUND_METHOD.as_bytes();
        // The host-bound form is offered whenever `publickey` is.
        let offered = self
            .methods
            .iter()
            .any(|m| m.as_bytes() == method || (hostbound && m == "publickey"));
        let (kind, attempt) = match method {
            b"none" => (Kind::None, AuthAttempt::None),
            _ if !offered => return self.fail_now(out, now, true),
            b"password" => {
                let change = r.bool("password change")?;
                let pw = r.string("password")?;
                if change || pw.len() > MAX_PASSWORD_LEN {
                    return self.fail_now(out, now, true);
                }
                let pw = Zeroizing::new(String::from_utf8_lossy(pw).into_owned());
                (Kind::Password, AuthAttempt::Password(pw))
            }
            _ if method == b"publickey" || hostbound => {
                let signed = r.bool("has signature")?;
                let algorithm = r.utf8("public key algorithm")?.to_owned();
                let blob = r.string("public key blob")?;
                if hostbound {
                    // As OpenSSH: a request bound to another host key ends the connection.
                    let host_key = r.string("server host key")?;
                    if Some(host_key) != session.host_key {
                        return Err(InvalidMessage::BadValue(
                            "publickey-hostbound request names another host key",
                        )
                        .into());
                    }
                }
                let Ok(key) = PublicKey::from_blob(blob) else {
                    return self.fail_now(out, now, true);
                };
                let acceptable = self.accepted_algorithms.contains(&algorithm)
                    && key.signature_algorithms().contains(&algorithm.as_str());
                if !acceptable {
                    return self.fail_now(out, now, true);
                }
                if !signed {
                    r.end("publickey query")?;
                    (
                        Kind::Query {
                            key: key.clone(),
                            algorithm: algorithm.clone(),
                        },
                        AuthAttempt::PublicKeyQuery { key, algorithm },
                    )
                } else {
                    let signed_len = payload.len() - r.remaining();
                    let sig = r.string("signature")?;
                    r.end("publickey request")?;
                    let mut data = Vec::with_capacity(session.id.len() + 4 + signed_len);
                    wire::put_string(&mut data, session.id);
                    data.extend_from_slice(payload.get(..signed_len).unwrap_or_default());
                    let Ok(sk) = key.verify_detailed(&algorithm, &data, sig) else {
                        return self.fail_now(out, now, true);
                    };
                    (
                        Kind::PublicKey { key: key.clone() },
                        AuthAttempt::PublicKey { key, algorithm, sk },
                    )
                }
            }
            b"keyboard-interactive" => {
                r.string("language")?;
                let submethods = String::from_utf8_lossy(r.string("submethods")?).into_owned();
                r.end("keyboard-interactive request")?;
                (
                    Kind::Interactive,
                    AuthAttempt::KeyboardInteractive { submethods },
                )
            }
            _ => return self.fail_now(out, now, true),
        };
        Ok(self.ask(out, kind, attempt, user, now))
    }

    fn on_info_response(
        &mut self,
        payload: &[u8],
        expected: usize,
        now: Instant,
    ) -> Result<AuthOutput, Error> {
        let mut r = Reader::new(payload);
        r.u8("info response")?;
        let count = r.u32("number of responses")?;
        if usize::try_from(count).ok() != Some(expected) || expected > MAX_PROMPTS {
            return Err(InvalidMessage::BadValue("keyboard-interactive response count").into());
        }
        let mut answers = Vec::new();
        for _ in 0..expected {
            answers.push(Zeroizing::new(
                String::from_utf8_lossy(r.string("response")?).into_owned(),
            ));
        }
        r.end("info response")?;
        let user = self.user.clone().unwrap_or_default();
        Ok(self.ask(
            AuthOutput::default(),
            Kind::Interactive,
            AuthAttempt::KeyboardInteractiveResponses(answers),
            user,
            now,
        ))
    }

    fn ask(
        &mut self,
        mut out: AuthOutput,
        kind: Kind,
        attempt: AuthAttempt,
        user: String,
        now: Instant,
    ) -> AuthOutput {
        let ticket = crate::event::Ticket::new();
        self.pending = Some(Pending {
            serial: ticket.serial(),
            kind,
            at: now,
        });
        self.state = State::Deciding;
        out.request = Some(AuthRequest {
            user,
            attempt,
            ticket,
        });
        out
    }

    /// A failure decided by the core (bad signature, unknown method, …), without asking.
    fn fail_now(
        &mut self,
        out: AuthOutput,
        now: Instant,
        counts: bool,
    ) -> Result<AuthOutput, Error> {
        self.fail(out, now, counts, true)
    }

    /// Refuses the attempt; the reply waits for the failure delay when `delay` (every
    /// method but `none`, which only asks for the list, as in OpenSSH's `auth2.c`).
    fn fail(
        &mut self,
        mut out: AuthOutput,
        at: Instant,
        counts: bool,
        delay: bool,
    ) -> Result<AuthOutput, Error> {
        if counts {
            self.failures += 1;
            if self.failures > self.max_failures {
                return Err(PeerMisbehaved::TooManyAuthFailures.into());
            }
        }
        self.state = State::Ready;
        if delay {
            out.delayed = Some((at + self.delay_for_user(), failure(&self.methods, false)));
        } else {
            out.send.push(failure(&self.methods, false));
        }
        Ok(out)
    }

    /// OpenSSH-style minimum failure delay: the configured floor plus up to 4 ms derived from
    /// the user name and a per-server secret, the same for every attempt on that name.
    fn delay_for_user(&self) -> Duration {
        let user = self.user.as_deref().unwrap_or_default();
        let h = crate::crypto::sha256(&[&self.delay_secret[..], user.as_bytes()].concat());
        let jitter = u64::from(u16::from_be_bytes([h[0], h[1]])) % 4000;
        self.delay + Duration::from_micros(jitter)
    }

    /// Whether request `serial` is waiting for the application's decision.
    pub fn is_pending(&self, serial: u64) -> bool {
        self.pending.as_ref().is_some_and(|p| p.serial == serial)
    }

    /// Applies the application's decision on request `serial`. A decision that does not fit
    /// the request (wrong token, prompts for a non-interactive attempt, partial success for
    /// an unproven key query) is refused and leaves the request pending.
    pub fn answer(&mut self, serial: u64, decision: AuthDecision) -> Result<AuthOutput, Error> {
        let misuse = match (&self.pending, &decision) {
            (Some(p), _) if p.serial != serial => Some("no such authentication request pending"),
            (None, _) => Some("no such authentication request pending"),
            (Some(p), AuthDecision::Prompt(_)) if p.kind != Kind::Interactive => {
                Some("prompts answer only keyboard-interactive")
            }
            (Some(_), AuthDecision::Prompt(pr)) if pr.prompts.len() > MAX_PROMPTS => {
                Some("more than 100 keyboard-interactive prompts")
            }
            (Some(p), AuthDecision::Partial { .. }) if matches!(p.kind, Kind::Query { .. }) => {
                Some("a key query proves nothing: answer it with Accept (PK_OK) or Reject")
            }
            _ => None,
        };
        if let Some(why) = misuse {
            return Err(ApiMisuse::WrongState(why).into());
        }
        let Some(pending) = self.pending.take() else {
            return Err(ApiMisuse::WrongState("no such authentication request pending").into());
        };
        let user = self.user.clone().unwrap_or_default();
        let mut out = AuthOutput::default();
        match (decision, &pending.kind) {
            (AuthDecision::Accept, Kind::Query { key, algorithm }) => {
                let mut p = vec![msg::USERAUTH_PK_OK];
                wire::put_string(&mut p, algorithm.as_bytes());
                wire::put_string(&mut p, &key.to_blob());
                out.send.push(p);
                self.state = State::Ready;
            }
            (AuthDecision::Accept, kind) => {
                let key = match kind {
                    Kind::PublicKey { key } => Some(key.clone()),
                    _ => self.proven_key.clone(),
                };
                let who = AuthenticatedUser {
                    user,
                    method: kind.name().to_owned(),
                    key,
                };
                out.send.push(vec![msg::USERAUTH_SUCCESS]);
                self.state = State::Done;
                self.authenticated = Some(who.clone());
                out.authenticated = Some(who);
            }
            (AuthDecision::Partial { methods }, kind) => {
                if let Kind::PublicKey { key } = kind {
                    self.proven_key = Some(key.clone());
                }
                self.methods = methods;
                out.send.push(failure(&self.methods, true));
                self.state = State::Ready;
            }
            (AuthDecision::Prompt(prompts), _) => {
                out.send.push(info_request(&prompts));
                self.state = State::Prompting(prompts.prompts.len());
            }
            (AuthDecision::Reject, kind) => {
                // As OpenSSH: every failure counts except the client's opening `none` probe.
                let none = matches!(kind, Kind::None);
                let counts = !none || self.attempts > 1;
                return self.fail(out, pending.at, counts, !none);
            }
        }
        Ok(out)
    }
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::None => "none",
            Kind::Password => "password",
            Kind::Query { .. } | Kind::PublicKey { .. } => "publickey",
            Kind::Interactive => "keyboard-interactive",
        }
    }
}

fn info_request(p: &PromptRequest) -> Vec<u8> {
    let mut out = vec![60];
    wire::put_string(&mut out, p.name.as_bytes());
    wire::put_string(&mut out, p.instruction.as_bytes());
    wire::put_string(&mut out, b"");
    wire::put_u32(&mut out, u32::try_from(p.prompts.len()).unwrap_or(0));
    for (text, echo) in &p.prompts {
        wire::put_string(&mut out, text.as_bytes());
        wire::put_bool(&mut out, *echo);
    }
    out
}
