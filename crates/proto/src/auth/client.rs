//! The client side of user authentication: `none`, `password` and `publickey`.

use crate::error::{ApiMisuse, Error, InvalidMessage, PeerMisbehaved};
use crate::event::{Event, sanitize};
use crate::keys::PrivateKey;
use crate::wire::{self, Reader, msg};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Longest password we send (OpenSSH refuses longer ones).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A way to authenticate.
#[derive(Clone)]
#[non_exhaustive]
pub enum AuthMethod {
    /// The `none` method (learns which methods the server accepts).
    None,
    /// The `password` method.
    Password(Zeroizing<String>),
    /// The `publickey` method with an in-memory key. RSA keys sign with `rsa-sha2-512` or
    /// `rsa-sha2-256`, chosen from the server's `server-sig-algs`.
    PublicKey(Arc<PrivateKey>),
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
    /// Authenticated.
    Done,
}

/// Client authentication state.
#[derive(Debug)]
pub struct ClientAuth {
    state: State,
    last_methods: Vec<String>,
}

/// The service we authenticate for.
const CONNECTION_SERVICE: &[u8] = b"ssh-connection";

impl Default for ClientAuth {
    fn default() -> Self {
        ClientAuth {
            state: State::Idle,
            last_methods: Vec::new(),
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

    /// Whether authentication has succeeded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether an EXT_INFO may arrive now (RFC 8308 §2.4: just before USERAUTH_SUCCESS).
    pub fn in_progress(&self) -> bool {
        matches!(
            self.state,
            State::AwaitMethod | State::InFlight | State::Interactive | State::Prompted(_)
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

    /// Builds the request for `method`. `session_id` is signed over for publickey;
    /// `server_sig_algs` (from EXT_INFO) picks the RSA signature algorithm.
    pub fn request(
        &mut self,
        method: &AuthMethod,
        user: &str,
        session_id: &[u8],
        server_sig_algs: Option<&[String]>,
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
                publickey_request(key, user, session_id, server_sig_algs)?
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
                self.last_methods = wire::names(methods).map(str::to_owned).collect();
                self.state = State::AwaitMethod;
                Ok(Some(Event::AuthMethods {
                    methods: self.last_methods.clone(),
                    partial_success,
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
                Ok(Some(Event::AuthPrompts(crate::event::PromptRequest {
                    name,
                    instruction,
                    prompts,
                })))
            }
            // SSH_MSG_USERAUTH_PASSWD_CHANGEREQ: we do not change passwords; treat as failure.
            msg::USERAUTH_PK_OK if in_flight => {
                self.state = State::AwaitMethod;
                Ok(Some(Event::AuthMethods {
                    methods: self.last_methods.clone(),
                    partial_success: false,
                }))
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

/// Picks the signature algorithm for `key`: for RSA the first of ours the server lists in
/// `server-sig-algs`, or `rsa-sha2-512` when it sent none.
pub fn signature_algorithm(key: &PrivateKey, server_sig_algs: Option<&[String]>) -> &'static str {
    let ours = key.public_key().signature_algorithms();
    let first = ours.first().copied().unwrap_or("ssh-ed25519");
    match server_sig_algs {
        Some(list) => ours
            .iter()
            .copied()
            .find(|a| list.iter().any(|s| s == a))
            .unwrap_or(first),
        None => first,
    }
}

fn publickey_request(
    key: &PrivateKey,
    user: &str,
    session_id: &[u8],
    server_sig_algs: Option<&[String]>,
) -> Result<Vec<u8>, Error> {
    let alg = signature_algorithm(key, server_sig_algs);
    let blob = key.public_key().to_blob();
    let mut p = request_header(user, "publickey");
    wire::put_bool(&mut p, true);
    wire::put_string(&mut p, alg.as_bytes());
    wire::put_string(&mut p, &blob);
    // RFC 4252 §7: the signature covers the session id followed by the request so far.
    let mut signed = Vec::with_capacity(session_id.len() + 4 + p.len());
    wire::put_string(&mut signed, session_id);
    signed.extend_from_slice(&p);
    let sig = key.sign(alg, &signed)?;
    wire::put_string(&mut p, &sig);
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let pw = a
            .request(
                &AuthMethod::Password(Zeroizing::new("pw".into())),
                "me",
                b"sid",
                None,
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
        assert!(a.request(&AuthMethod::None, "me", b"sid", None).is_err());
    }

    #[test]
    fn rsa_signature_algorithm_follows_server_sig_algs() {
        let key = PrivateKey::ed25519_from_seed(&[1; 32]).unwrap();
        assert_eq!(signature_algorithm(&key, None), "ssh-ed25519");
        let list = vec!["rsa-sha2-256".to_owned(), "ssh-ed25519".to_owned()];
        assert_eq!(signature_algorithm(&key, Some(&list)), "ssh-ed25519");
    }
}
