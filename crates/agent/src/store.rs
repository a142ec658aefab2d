//! The agent side: [`KeyStore`] holds keys with their comments and constraints and answers
//! requests; [`ConnectionState`] is what one client connection adds (its framing and its
//! `session-bind@openssh.com` bindings). Time is an input: lifetimes expire on the `now`
//! the caller passes.

use crate::error::AgentError;
use crate::frame::{Framer, frame};
use crate::message::{
    Constraint, EXT_QUERY, EXT_SESSION_BIND, Extension, Identity, RSA_SHA2_256, RSA_SHA2_512,
    Request, Response, SessionBind, query_data,
};
use seashell_proto::keys::{RSA_SHA2_256 as ALG_256, RSA_SHA2_512 as ALG_512, SSH_RSA};
use seashell_proto::{PrivateKey, PublicKey};
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Most keys one store holds.
pub const MAX_KEYS: usize = 1024;
/// Most session bindings one connection records (OpenSSH's `AGENT_MAX_SESSION_IDS`).
pub const MAX_BINDINGS: usize = 16;
/// After the n-th failed unlock, no unlock is checked for n times this (OpenSSH's delay).
pub const UNLOCK_BACKOFF: Duration = Duration::from_millis(100);

/// How a store treats what it cannot do itself.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// A lifetime applied to keys added without one (`ssh-agent -t`).
    pub default_lifetime: Option<Duration>,
    /// Whether keys may be added with the confirm constraint. The store cannot ask the
    /// user; a caller that can (an askpass program) answers each [`KeyStore::handle`]
    /// sign of a confirm key through `confirm`. Off by default: such adds are refused.
    pub allow_confirm: bool,
}

struct Entry {
    key: Arc<PrivateKey>,
    public: PublicKey,
    blob: Vec<u8>,
    comment: String,
    expires: Option<Instant>,
    confirm: bool,
}

/// The keys an agent holds.
pub struct KeyStore {
    config: StoreConfig,
    keys: Vec<Entry>,
    /// SHA-256 of the lock passphrase while locked.
    locked: Option<Zeroizing<[u8; 32]>>,
    /// Failed unlocks since the last success, and when the next attempt may be checked:
    /// OpenSSH's back-off (0.1 s per failure, up to 100), on the caller's clock.
    unlock_failures: u32,
    unlock_not_before: Option<Instant>,
}

impl core::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyStore")
            .field("keys", &self.keys.len())
            .field("locked", &self.locked.is_some())
            .finish()
    }
}

/// One recorded `session-bind@openssh.com`: the session a connection serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The server's host key.
    pub host_key: PublicKey,
    /// The session identifier.
    pub session_id: Vec<u8>,
    /// Bound for forwarding (else for user authentication).
    pub forwarding: bool,
}

/// What one client connection of the agent holds: its framing and its bindings.
#[derive(Debug, Default)]
pub struct ConnectionState {
    framer: Framer,
    bindings: Vec<Binding>,
}

impl ConnectionState {
    /// A new connection.
    pub fn new() -> ConnectionState {
        ConnectionState::default()
    }

    /// The sessions this connection was bound to, in order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }
}

fn digest(pass: &[u8]) -> Zeroizing<[u8; 32]> {
    let d = ring::digest::digest(&ring::digest::SHA256, pass);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(d.as_ref());
    out
}

impl KeyStore {
    /// An empty, unlocked store.
    pub fn new(config: StoreConfig) -> KeyStore {
        KeyStore {
            config,
            keys: Vec::new(),
            locked: None,
            unlock_failures: 0,
            unlock_not_before: None,
        }
    }

    /// Whether the store is locked.
    pub fn is_locked(&self) -> bool {
        self.locked.is_some()
    }

    /// The keys held, with their comments.
    pub fn identities(&self) -> Vec<(PublicKey, String)> {
        self.keys
            .iter()
            .map(|e| (e.public.clone(), e.comment.clone()))
            .collect()
    }

    /// Adds a key directly (not through the protocol).
    ///
    /// # Errors
    /// [`AgentError::BadKey`] past [`MAX_KEYS`].
    pub fn add(
        &mut self,
        key: PrivateKey,
        comment: String,
        lifetime: Option<Duration>,
        now: Instant,
    ) -> Result<(), AgentError> {
        let public = key.public_key();
        let blob = public.to_blob();
        let lifetime = lifetime.or(self.config.default_lifetime);
        self.keys.retain(|e| e.blob != blob);
        if self.keys.len() >= MAX_KEYS {
            return Err(AgentError::BadKey);
        }
        self.keys.push(Entry {
            key: Arc::new(key),
            public,
            blob,
            comment,
            expires: lifetime.and_then(|l| now.checked_add(l)),
            confirm: false,
        });
        Ok(())
    }

    /// Forgets keys whose lifetime has passed.
    pub fn expire(&mut self, now: Instant) {
        self.keys.retain(|e| e.expires.is_none_or(|t| t > now));
    }

    /// When the next key expires, for the caller's timer.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.keys.iter().filter_map(|e| e.expires).min()
    }

    /// Takes bytes from a connection and appends the framed replies to `out`.
    ///
    /// # Errors
    /// A framing error (a message over 256 KiB, an empty one): close the connection.
    pub fn feed(
        &mut self,
        conn: &mut ConnectionState,
        mut bytes: &[u8],
        now: Instant,
        out: &mut Vec<u8>,
    ) -> Result<(), AgentError> {
        while !bytes.is_empty() {
            let n = conn.framer.push(bytes);
            bytes = bytes.get(n..).unwrap_or_default();
            match conn.framer.next_message()? {
                Some(msg) => {
                    let reply = match Request::decode(&msg) {
                        Ok(req) => self.handle(conn, req, now),
                        Err(_) => Response::Failure,
                    };
                    out.extend_from_slice(&frame(&reply.encode()));
                }
                None if n == 0 => break,
                None => {}
            }
        }
        Ok(())
    }

    /// Answers one request.
    pub fn handle(&mut self, conn: &mut ConnectionState, req: Request, now: Instant) -> Response {
        self.expire(now);
        if let Some(hash) = &self.locked {
            return match req {
                Request::Unlock(pass) => {
                    // Too soon after a failure: refused without looking at the passphrase.
                    if self.unlock_not_before.is_some_and(|t| now < t) {
                        return Response::Failure;
                    }
                    if bool::from(digest(&pass).ct_eq(hash.as_ref())) {
                        self.locked = None;
                        self.unlock_failures = 0;
                        self.unlock_not_before = None;
                        Response::Success
                    } else {
                        self.unlock_failures = (self.unlock_failures + 1).min(100);
                        let wait = UNLOCK_BACKOFF * self.unlock_failures;
                        self.unlock_not_before = now.checked_add(wait);
                        Response::Failure
                    }
                }
                // A locked agent lists nothing and signs nothing.
                Request::RequestIdentities => Response::Identities(Vec::new()),
                Request::Extension(Extension::SessionBind(b)) => bind(conn, &b),
                _ => Response::Failure,
            };
        }
        match req {
            Request::RequestIdentities => Response::Identities(
                self.keys
                    .iter()
                    .map(|e| Identity {
                        key: e.blob.clone(),
                        comment: e.comment.clone(),
                    })
                    .collect(),
            ),
            Request::Sign { key, data, flags } => self.sign(&key, &data, flags),
            Request::Add {
                key,
                comment,
                constraints,
            } => {
                let mut lifetime = None;
                let mut confirm = false;
                for c in constraints {
                    match c {
                        Constraint::Lifetime(s) => {
                            lifetime = Some(Duration::from_secs(u64::from(s)));
                        }
                        Constraint::Confirm if self.config.allow_confirm => confirm = true,
                        // No way to ask the user; unknown extension constraints cannot be
                        // honoured either: refuse rather than hold a key unconstrained.
                        Constraint::Confirm | Constraint::Extension { .. } => {
                            return Response::Failure;
                        }
                    }
                }
                let Ok(private) = key.to_private_key() else {
                    return Response::Failure;
                };
                if self.add(private, comment, lifetime, now).is_err() {
                    return Response::Failure;
                }
                if let Some(e) = self.keys.last_mut() {
                    e.confirm = confirm;
                }
                Response::Success
            }
            Request::Remove(blob) => {
                let before = self.keys.len();
                self.keys.retain(|e| e.blob != blob);
                status(self.keys.len() < before)
            }
            Request::RemoveAll => {
                self.keys.clear();
                Response::Success
            }
            Request::Lock(pass) => {
                self.locked = Some(digest(&pass));
                Response::Success
            }
            // Not locked: unlocking fails, as in OpenSSH.
            Request::Unlock(_) => Response::Failure,
            Request::Extension(Extension::Query) => Response::ExtensionResponse {
                name: EXT_QUERY.into(),
                data: query_data(&[EXT_QUERY, EXT_SESSION_BIND]),
            },
            Request::Extension(Extension::SessionBind(b)) => bind(conn, &b),
            Request::Extension(Extension::Other { .. }) | Request::Unsupported(_) => {
                Response::Failure
            }
        }
    }

    fn sign(&self, blob: &[u8], data: &[u8], flags: u32) -> Response {
        let Some(e) = self.keys.iter().find(|e| e.blob == blob) else {
            return Response::Failure;
        };
        // The store cannot ask for confirmation: a confirm key is never used silently.
        if e.confirm {
            return Response::Failure;
        }
        let alg = match &e.public {
            PublicKey::Rsa { .. } if flags & RSA_SHA2_512 != 0 => ALG_512,
            PublicKey::Rsa { .. } if flags & RSA_SHA2_256 != 0 => ALG_256,
            PublicKey::Rsa { .. } => SSH_RSA,
            other => match other.signature_algorithms().first() {
                Some(a) => a,
                None => return Response::Failure,
            },
        };
        match e.key.sign(alg, data) {
            Ok(sig) => Response::Signature(sig),
            Err(_) => Response::Failure,
        }
    }
}

fn status(ok: bool) -> Response {
    if ok {
        Response::Success
    } else {
        Response::Failure
    }
}

/// Records a `session-bind@openssh.com` after checking the host key's signature over the
/// session identifier, with OpenSSH's rules: a connection bound for authentication takes
/// no further binding, the same identifier may not come with another key, at most
/// [`MAX_BINDINGS`].
fn bind(conn: &mut ConnectionState, b: &SessionBind) -> Response {
    let Ok(host_key) = PublicKey::from_blob(&b.host_key) else {
        return Response::ExtensionFailure;
    };
    let alg = seashell_proto::wire::Reader::new(&b.signature)
        .string("signature algorithm")
        .ok()
        .and_then(|a| core::str::from_utf8(a).ok())
        .filter(|a| host_key.signature_algorithms().contains(a));
    let verified = alg.is_some_and(|a| host_key.verify(a, &b.session_id, &b.signature).is_ok());
    if !verified {
        return Response::ExtensionFailure;
    }
    for old in &conn.bindings {
        if !old.forwarding {
            return Response::ExtensionFailure;
        }
        if old.session_id == b.session_id {
            return if old.host_key == host_key {
                Response::Success
            } else {
                Response::ExtensionFailure
            };
        }
    }
    if conn.bindings.len() >= MAX_BINDINGS {
        return Response::ExtensionFailure;
    }
    conn.bindings.push(Binding {
        host_key,
        session_id: b.session_id.clone(),
        forwarding: b.forwarding,
    });
    Response::Success
}

#[cfg(test)]
mod tests;
