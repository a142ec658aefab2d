//! The client side of user authentication: `none`, `password`, `publickey` (or its
//! host-bound form `publickey-hostbound-v00@openssh.com` when the server offers it) and
//! `keyboard-interactive`.

use crate::error::{ApiMisuse, Error, InvalidMessage, PeerMisbehaved};
use crate::event::{AuthChoice, Event, SignRequest, sanitize};
use crate::keys::{PrivateKey, PublicKey};
use crate::wire::{self, Reader, msg};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Longest password we send (OpenSSH refuses longer ones).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The EXT_INFO extension with which a server says it accepts host-bound public key
/// authentication (OpenSSH `PROTOCOL` §2.5), with value `"0"`.
pub const HOSTBOUND_EXTENSION: &str = "publickey-hostbound@openssh.com";
/// The method name of host-bound public key authentication: a `publickey` request that also
/// carries, and signs, the server's host key from the key exchange.
pub const HOSTBOUND_METHOD: &str = "publickey-hostbound-v00@openssh.com";

/// A way to authenticate.
#[derive(Clone)]
#[non_exhaustive]
pub enum AuthMethod {
    /// The `none` method (learns which methods the server accepts).
    None,
    /// The `password` method.
    Password(Zeroizing<String>),
    /// The `publickey` method with an in-memory key. The signature algorithm is the first of
    /// `ClientConfig::pubkey_accepted_algorithms` that suits the key and that the server lists
    /// in `server-sig-algs` (RSA keys: `rsa-sha2-512`, `rsa-sha2-256`, or `ssh-rsa` if added).
    /// When the server advertises `publickey-hostbound@openssh.com`, the request is sent as
    /// `publickey-hostbound-v00@openssh.com`, binding the signature to the server's host key.
    PublicKey(Arc<PrivateKey>),
    /// The `publickey` method with a key whose private half is held elsewhere (an agent, a
    /// hardware token). The core first asks whether the server would accept the key (a
    /// request without signature); only when the server answers `PK_OK` does it raise
    /// [`Event::SignRequest`], answered with `provide_signature` (the signature blob) or
    /// `refuse_signature` (try another method). A key the server refuses costs no
    /// signature. Algorithm choice and the host-bound form are as for
    /// [`PublicKey`](Self::PublicKey).
    ExternalKey(PublicKey),
    /// The `keyboard-interactive` method: the server's questions arrive as
    /// [`Event::AuthPrompts`] and are answered with `answer_prompts`.
    KeyboardInteractive,
}

impl core::fmt::Debug for AuthMethod {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AuthMethod::None => f.write_str("None"),
            AuthMethod::Password(_) => f.write_str("Password(<redacted>)"),
            AuthMethod::PublicKey(k) => write!(f, "PublicKey({})", k.public_key().fingerprint()),
            AuthMethod::ExternalKey(k) => write!(f, "ExternalKey({})", k.fingerprint()),
            AuthMethod::KeyboardInteractive => f.write_str("KeyboardInteractive"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// SERVICE_REQUEST not yet sent (the first key exchange is not done).
    Idle,
    /// SERVICE_REQUEST sent.
    AwaitServiceAccept,
    /// The application's turn to pick a method.
    AwaitMethod,
    /// A request is in flight.
    InFlight,
    /// A keyboard-interactive request is in flight (message 60 is INFO_REQUEST).
    Interactive,
    /// The application owes answers to this many prompts.
    Prompted(usize),
    /// The server accepted a queried key; the application owes its signature.
    AwaitSignature,
    /// Authenticated.
    Done,
}

/// Client authentication state.
#[derive(Debug)]
pub struct ClientAuth {
    state: State,
    last_methods: Vec<String>,
    /// The server advertised `publickey-hostbound@openssh.com` = `"0"`.
    hostbound: bool,
    /// The query in flight for an [`AuthMethod::ExternalKey`], or the signature owed for it.
    query: Option<Query>,
}

/// A `publickey` query sent for a key signed elsewhere.
#[derive(Debug)]
struct Query {
    key: PublicKey,
    algorithm: &'static str,
    /// The signed request up to (not including) the signature.
    payload: Vec<u8>,
    /// What the signature covers: the session identifier, then `payload`.
    signed: Vec<u8>,
}

/// What a request needs from the connection besides the method.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The session identifier (the first exchange hash), signed over for `publickey`.
    pub session_id: &'a [u8],
    /// The server's `server-sig-algs`, if it sent EXT_INFO.
    pub server_sig_algs: Option<&'a [String]>,
    /// The signature algorithms we may sign with, in preference order.
    pub accepted_algorithms: &'a [String],
    /// The server's host key blob from the key exchange, used for host-bound requests.
    pub host_key: Option<&'a [u8]>,
}

/// The service we authenticate for.
const CONNECTION_SERVICE: &[u8] = b"ssh-connection";

impl Default for ClientAuth {
    fn default() -> Self {
        ClientAuth {
            state: State::Idle,
            last_methods: Vec::new(),
            hostbound: false,
            query: None,
        }
    }
}

impl ClientAuth {
    /// The SERVICE_REQUEST to send once the first key exchange is done.
    pub fn service_request(&mut self) -> Vec<u8> {
        self.state = State::AwaitServiceAccept;
        let mut p = vec![msg::SERVICE_REQUEST];
        wire::put_string(&mut p, b"ssh-userauth");
        p
    }

    /// Whether SERVICE_REQUEST is still to be sent (once, after our first NEWKEYS).
    pub fn needs_service_request(&self) -> bool {
        self.state == State::Idle
    }

    /// Takes note of an EXT_INFO extension: `publickey-hostbound@openssh.com` with version
    /// `"0"` turns on host-bound public key requests. Other extensions are ignored here.
    pub fn on_extension(&mut self, name: &[u8], value: &[u8]) {
        if name == HOSTBOUND_EXTENSION.as_bytes() && value == b"0" {
            self.hostbound = true;
        }
    }

    /// Whether authentication has succeeded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether an EXT_INFO may arrive now (RFC 8308 §2.4: just before USERAUTH_SUCCESS).
    pub fn in_progress(&self) -> bool {
        matches!(
            self.state,
            State::AwaitMethod
                | State::InFlight
                | State::Interactive
                | State::Prompted(_)
                | State::AwaitSignature
        )
    }

    /// Builds the INFO_RESPONSE carrying the answers to the prompts of [`Event::AuthPrompts`].
    pub fn answer_prompts(&mut self, answers: &[Zeroizing<String>]) -> Result<Vec<u8>, Error> {
        match self.state {
            State::Prompted(n) if n == answers.len() => {}
            _ => {
                return Err(
                    ApiMisuse::WrongState("no prompts are waiting for these answers").into(),
                );
            }
        }
        let mut p = vec![61];
        wire::put_u32(&mut p, u32::try_from(answers.len()).unwrap_or(0));
        for a in answers {
            wire::put_string(&mut p, a.as_bytes());
        }
        self.state = State::Interactive;
        Ok(p)
    }

    /// Handles SERVICE_ACCEPT and returns the `none` request to send, which tells us the
    /// methods the server accepts.
    pub fn on_service_accept(&mut self, payload: &[u8], user: &str) -> Result<Vec<u8>, Error> {
        if self.state != State::AwaitServiceAccept {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::SERVICE_ACCEPT).into());
        }
        let mut r = Reader::new(payload);
        r.u8("service accept")?;
        if r.string("service name")? != b"ssh-userauth" {
            return Err(InvalidMessage::BadValue("service accepted is not ssh-userauth").into());
        }
        r.end("service accept")?;
        self.state = State::InFlight;
        Ok(request_header(user, "none"))
    }

    /// Builds the request for `method`; `ctx` carries what `publickey` signs over and the
    /// algorithm choices.
    pub fn request(
        &mut self,
        method: &AuthMethod,
        user: &str,
        ctx: &RequestContext<'_>,
    ) -> Result<Vec<u8>, Error> {
        if self.state != State::AwaitMethod {
            return Err(
                ApiMisuse::WrongState("authenticate: not waiting for an auth method").into(),
            );
        }
        let p = match method {
            AuthMethod::None => request_header(user, "none"),
            AuthMethod::Password(pw) => {
                if pw.len() > MAX_PASSWORD_LEN {
                    return Err(ApiMisuse::BadConfig("password longer than 1024 bytes").into());
                }
                let mut p = request_header(user, "password");
                wire::put_bool(&mut p, false);
                wire::put_string(&mut p, pw.as_bytes());
                p
            }
            AuthMethod::PublicKey(key) => {
                let host_key = if self.hostbound { ctx.host_key } else { None };
                publickey_request(key, user, ctx, host_key)?
            }
            AuthMethod::ExternalKey(key) => {
                let host_key = if self.hostbound { ctx.host_key } else { None };
                let (query, p) = publickey_query(key, user, ctx, host_key)?;
                self.query = Some(query);
                p
            }
            AuthMethod::KeyboardInteractive => {
                let mut p = request_header(user, "keyboard-interactive");
                wire::put_string(&mut p, b"");
                wire::put_string(&mut p, b"");
                self.state = State::Interactive;
                return Ok(p);
            }
        };
        self.state = State::InFlight;
        Ok(p)
    }

    /// Whether a signature is owed for an [`AuthMethod::ExternalKey`] the server accepted.
    pub fn awaiting_signature(&self) -> bool {
        self.state == State::AwaitSignature
    }

    /// Completes the accepted query with `signature` (an SSH signature blob, `string alg ||
    /// string sig`) and returns the signed request. The signature is checked first: it must
    /// use the algorithm asked for and verify with the key over the data.
    ///
    /// # Errors
    /// [`ApiMisuse::WrongState`] if no signature is owed; [`CryptoError::BadSignature`]
    /// (nothing sent; the signature is still owed, or may be refused) if it does not verify.
    pub fn provide_signature(&mut self, signature: &[u8]) -> Result<Vec<u8>, Error> {
        let q = match (&self.query, self.state) {
            (Some(q), State::AwaitSignature) => q,
            _ => return Err(ApiMisuse::WrongState("no signature is owed").into()),
        };
        q.key
            .verify(q.algorithm, &q.signed, signature)
            .map_err(|_| crate::error::CryptoError::BadSignature)?;
        let mut p = q.payload.clone();
        wire::put_string(&mut p, signature);
        self.query = None;
        self.state = State::InFlight;
        Ok(p)
    }

    /// Gives up the accepted query (the agent refused, or the answer was dropped): the
    /// application chooses another method.
    ///
    /// # Errors
    /// [`ApiMisuse::WrongState`] if no signature is owed.
    pub fn refuse_signature(&mut self) -> Result<Event, Error> {
        if self.state != State::AwaitSignature {
            return Err(ApiMisuse::WrongState("no signature is owed").into());
        }
        self.query = None;
        self.state = State::AwaitMethod;
        Ok(Event::AuthMethods {
            methods: self.last_methods.clone(),
            partial_success: false,
            choice: AuthChoice::new(),
        })
    }

    /// Handles USERAUTH_FAILURE, USERAUTH_SUCCESS, USERAUTH_BANNER and message 60.
    pub fn on_message(&mut self, payload: &[u8]) -> Result<Option<Event>, Error> {
        let mut r = Reader::new(payload);
        let n = r.u8("userauth")?;
        let in_flight = matches!(self.state, State::InFlight | State::Interactive);
        match n {
            msg::USERAUTH_BANNER if self.state != State::Done && self.state != State::Idle => {
                let text = r.string("banner")?;
                r.string("banner language")?;
                r.end("banner")?;
                Ok(Some(Event::Banner(sanitize(text))))
            }
            msg::USERAUTH_FAILURE if in_flight => {
                let methods = r.name_list("auth methods")?;
                let partial_success = r.bool("partial success")?;
                r.end("userauth failure")?;
                self.query = None;
                self.last_methods = wire::names(methods).map(str::to_owned).collect();
                self.state = State::AwaitMethod;
                Ok(Some(Event::AuthMethods {
                    methods: self.last_methods.clone(),
                    partial_success,
                    choice: AuthChoice::new(),
                }))
            }
            msg::USERAUTH_SUCCESS if in_flight => {
                r.end("userauth success")?;
                self.state = State::Done;
                Ok(Some(Event::Authenticated))
            }
            // SSH_MSG_USERAUTH_INFO_REQUEST (RFC 4256).
            60 if self.state == State::Interactive => {
                let name = sanitize(r.string("prompt name")?);
                let instruction = sanitize(r.string("prompt instruction")?);
                r.string("prompt language")?;
                let count = r.u32("number of prompts")?;
                if count > 100 {
                    return Err(InvalidMessage::BadValue("more than 100 prompts").into());
                }
                let mut prompts = Vec::new();
                for _ in 0..count {
                    let text = sanitize(r.string("prompt")?);
                    prompts.push((text, r.bool("echo")?));
                }
                r.end("info request")?;
                self.state = State::Prompted(prompts.len());
                Ok(Some(Event::AuthPrompts {
                    prompts: crate::event::PromptRequest {
                        name,
                        instruction,
                        prompts,
                    },
                    choice: AuthChoice::new(),
                }))
            }
            // PK_OK answers only a query we sent (message 60 means INFO_REQUEST during
            // keyboard-interactive, handled above).
            msg::USERAUTH_PK_OK if self.state == State::InFlight && self.query.is_some() => {
                let algorithm = r.string("pk ok algorithm")?;
                let blob = r.string("pk ok key")?;
                r.end("pk ok")?;
                let q = self
                    .query
                    .as_ref()
                    .ok_or(PeerMisbehaved::UnexpectedMessage(n))?;
                if algorithm != q.algorithm.as_bytes() || blob != q.key.to_blob() {
                    return Err(InvalidMessage::BadValue("PK_OK for another key").into());
                }
                self.state = State::AwaitSignature;
                Ok(Some(Event::SignRequest(SignRequest::new(
                    q.key.clone(),
                    q.algorithm,
                    q.signed.clone(),
                ))))
            }
            other => Err(PeerMisbehaved::UnexpectedMessage(other).into()),
        }
    }
}

fn request_header(user: &str, method: &str) -> Vec<u8> {
    let mut p = vec![msg::USERAUTH_REQUEST];
    wire::put_string(&mut p, user.as_bytes());
    wire::put_string(&mut p, CONNECTION_SERVICE);
    wire::put_string(&mut p, method.as_bytes());
    p
}

/// Picks the signature algorithm for `key`, as OpenSSH does: of the algorithms in `accepted`
/// (in that order) that suit the key, the first the server lists in `server_sig_algs`; the
/// first that suits the key if the server sent no list or lists none of them.
///
/// # Errors
/// [`ApiMisuse::BadConfig`] if no accepted algorithm suits the key (for example an RSA key
/// when only `ssh-ed25519` is accepted).
pub fn signature_algorithm(
    key: &PrivateKey,
    accepted: &[String],
    server_sig_algs: Option<&[String]>,
) -> Result<&'static str, Error> {
    public_signature_algorithm(&key.public_key(), accepted, server_sig_algs)
}

/// [`signature_algorithm`] for a public key (the private half may be held elsewhere).
///
/// # Errors
/// As [`signature_algorithm`].
pub fn public_signature_algorithm(
    key: &PublicKey,
    accepted: &[String],
    server_sig_algs: Option<&[String]>,
) -> Result<&'static str, Error> {
    let ours = key.signature_algorithms();
    let mut usable = accepted
        .iter()
        .filter_map(|a| ours.iter().copied().find(|o| *o == a.as_str()));
    let first = usable.clone().next().ok_or(ApiMisuse::BadConfig(
        "no accepted signature algorithm suits this key",
    ))?;
    // server-sig-algs lists plain algorithms; a certificate signs with its plain one.
    let plain = crate::keys::cert::plain_algorithm;
    let listed =
        server_sig_algs.and_then(|list| usable.find(|a| list.iter().any(|s| s == plain(a))));
    Ok(listed.unwrap_or(first))
}

/// The start of a `publickey` request (or its host-bound form) for `key` with `alg`, with
/// the has-signature flag `signed`.
fn publickey_header(
    key: &PublicKey,
    alg: &str,
    user: &str,
    host_key: Option<&[u8]>,
    signed: bool,
) -> Vec<u8> {
    let method = if host_key.is_some() {
        HOSTBOUND_METHOD
    } else {
        "publickey"
    };
    let mut p = request_header(user, method);
    wire::put_bool(&mut p, signed);
    wire::put_string(&mut p, alg.as_bytes());
    wire::put_string(&mut p, &key.to_blob());
    if let Some(host_key) = host_key {
        wire::put_string(&mut p, host_key);
    }
    p
}

/// The query for a key signed elsewhere (RFC 4252 §7, has-signature false), and what its
/// signed request will be once the server accepts the key.
fn publickey_query(
    key: &PublicKey,
    user: &str,
    ctx: &RequestContext<'_>,
    host_key: Option<&[u8]>,
) -> Result<(Query, Vec<u8>), Error> {
    let algorithm = public_signature_algorithm(key, ctx.accepted_algorithms, ctx.server_sig_algs)?;
    let query = publickey_header(key, algorithm, user, host_key, false);
    let payload = publickey_header(key, algorithm, user, host_key, true);
    let mut signed = Vec::with_capacity(ctx.session_id.len() + 4 + payload.len());
    wire::put_string(&mut signed, ctx.session_id);
    signed.extend_from_slice(&payload);
    Ok((
        Query {
            key: key.clone(),
            algorithm,
            payload,
            signed,
        },
        query,
    ))
}

/// Builds a signed `publickey` request, or its host-bound form when `host_key` is given
/// (OpenSSH `PROTOCOL` §2.5: the host key blob follows the user key blob and is signed too).
fn publickey_request(
    key: &PrivateKey,
    user: &str,
    ctx: &RequestContext<'_>,
    host_key: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let alg = signature_algorithm(key, ctx.accepted_algorithms, ctx.server_sig_algs)?;
    let mut p = publickey_header(&key.public_key(), alg, user, host_key, true);
    // RFC 4252 §7: the signature covers the session id followed by the request so far.
    let mut signed = Vec::with_capacity(ctx.session_id.len() + 4 + p.len());
    wire::put_string(&mut signed, ctx.session_id);
    signed.extend_from_slice(&p);
    let sig = key.sign(alg, &signed)?;
    wire::put_string(&mut p, &sig);
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_HOST_KEY_ALGORITHMS, HOST_KEY_ALGORITHMS};

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn ctx<'a>(accepted: &'a [String], host_key: Option<&'a [u8]>) -> RequestContext<'a> {
        RequestContext {
            session_id: b"sid",
            server_sig_algs: None,
            accepted_algorithms: accepted,
            host_key,
        }
    }

    fn failure(methods: &str, partial: bool) -> Vec<u8> {
        let mut p = vec![msg::USERAUTH_FAILURE];
        wire::put_string(&mut p, methods.as_bytes());
        wire::put_bool(&mut p, partial);
        p
    }

    #[test]
    fn none_then_password_then_success() {
        let mut a = ClientAuth::default();
        let _ = a.service_request();
        let mut accept = vec![msg::SERVICE_ACCEPT];
        wire::put_string(&mut accept, b"ssh-userauth");
        let none = a.on_service_accept(&accept, "me").unwrap();
        assert_eq!(none[0], msg::USERAUTH_REQUEST);
        let ev = a.on_message(&failure("publickey,password", false)).unwrap();
        assert!(matches!(ev, Some(Event::AuthMethods { ref methods, .. }) if methods.len() == 2));
        let accepted = names(&DEFAULT_HOST_KEY_ALGORITHMS);
        let pw = a
            .request(
                &AuthMethod::Password(Zeroizing::new("pw".into())),
                "me",
                &ctx(&accepted, None),
            )
            .unwrap();
        assert_eq!(pw.last(), Some(&b'w'));
        assert!(matches!(
            a.on_message(&[msg::USERAUTH_SUCCESS]).unwrap(),
            Some(Event::Authenticated)
        ));
        assert!(a.is_done());
    }

    #[test]
    fn success_without_request_is_a_protocol_error() {
        let mut a = ClientAuth::default();
        assert!(a.on_message(&[msg::USERAUTH_SUCCESS]).is_err());
        let _ = a.service_request();
        assert!(a.on_message(&[msg::USERAUTH_SUCCESS]).is_err());
    }

    #[test]
    fn request_only_when_waiting_for_a_method() {
        let mut a = ClientAuth::default();
        let accepted = names(&DEFAULT_HOST_KEY_ALGORITHMS);
        assert!(
            a.request(&AuthMethod::None, "me", &ctx(&accepted, None))
                .is_err()
        );
    }

    #[test]
    fn signature_algorithm_follows_accepted_and_server_sig_algs() {
        let key = PrivateKey::ed25519_from_seed(&[1; 32]).unwrap();
        let defaults = names(&DEFAULT_HOST_KEY_ALGORITHMS);
        assert_eq!(
            signature_algorithm(&key, &defaults, None).unwrap(),
            "ssh-ed25519"
        );
        let list = names(&["rsa-sha2-256", "ssh-ed25519"]);
        assert_eq!(
            signature_algorithm(&key, &defaults, Some(&list)).unwrap(),
            "ssh-ed25519"
        );
        // Not accepted by our configuration: refused, whatever the server lists.
        let only_rsa = names(&["rsa-sha2-256"]);
        assert!(signature_algorithm(&key, &only_rsa, Some(&list)).is_err());
    }

    /// Builds a request with a fresh state machine that is waiting for a method.
    fn publickey_payload(hostbound_ext: Option<&[u8]>, host_key: Option<&[u8]>) -> Vec<u8> {
        let mut a = ClientAuth::default();
        let _ = a.service_request();
        let mut accept = vec![msg::SERVICE_ACCEPT];
        wire::put_string(&mut accept, b"ssh-userauth");
        a.on_service_accept(&accept, "me").unwrap();
        a.on_message(&failure("publickey", false)).unwrap();
        if let Some(v) = hostbound_ext {
            a.on_extension(HOSTBOUND_EXTENSION.as_bytes(), v);
        }
        let key = Arc::new(PrivateKey::ed25519_from_seed(&[3; 32]).unwrap());
        let accepted = names(&HOST_KEY_ALGORITHMS);
        a.request(&AuthMethod::PublicKey(key), "me", &ctx(&accepted, host_key))
            .unwrap()
    }

    #[test]
    fn hostbound_only_when_advertised_with_version_0() {
        let host = PrivateKey::ed25519_from_seed(&[9; 32])
            .unwrap()
            .public_key()
            .to_blob();
        let method = |p: &[u8]| {
            let mut r = Reader::new(p);
            r.u8("n").unwrap();
            r.string("user").unwrap();
            r.string("service").unwrap();
            r.string("method").unwrap().to_vec()
        };
        let plain = publickey_payload(None, Some(&host));
        assert_eq!(method(&plain), b"publickey");
        let other_version = publickey_payload(Some(b"1"), Some(&host));
        assert_eq!(method(&other_version), b"publickey");
        let bound = publickey_payload(Some(b"0"), Some(&host));
        assert_eq!(method(&bound), HOSTBOUND_METHOD.as_bytes());
        // Layout: ... bool, alg, key blob, host key blob, signature.
        let mut r = Reader::new(&bound);
        r.u8("n").unwrap();
        for _ in 0..3 {
            r.string("header").unwrap();
        }
        assert!(r.bool("signed").unwrap());
        assert_eq!(r.string("alg").unwrap(), b"ssh-ed25519");
        let user_blob = r.string("key").unwrap().to_vec();
        assert_eq!(r.string("host key").unwrap(), host.as_slice());
        let signed_len = bound.len() - r.remaining();
        let sig = r.string("sig").unwrap();
        r.end("request").unwrap();
        let mut data = Vec::new();
        wire::put_string(&mut data, b"sid");
        data.extend_from_slice(&bound[..signed_len]);
        let user_key = crate::keys::PublicKey::from_blob(&user_blob).unwrap();
        user_key.verify("ssh-ed25519", &data, sig).unwrap();
    }
}
