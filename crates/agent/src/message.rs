//! Agent requests and replies (RFC 9987 §3–§4, OpenSSH `PROTOCOL.agent`): encoders and
//! decoders for both directions. Decoders borrow nothing past the call, bound every count
//! by the message length, and report typed errors.

use crate::error::AgentError;
use crate::keyblob::KeyBlob;
use seashell_proto::wire::{self, Reader};
use zeroize::Zeroizing;

/// Message numbers.
pub mod num {
    /// `SSH_AGENT_FAILURE`.
    pub const FAILURE: u8 = 5;
    /// `SSH_AGENT_SUCCESS`.
    pub const SUCCESS: u8 = 6;
    /// `SSH_AGENTC_REQUEST_IDENTITIES`.
    pub const REQUEST_IDENTITIES: u8 = 11;
    /// `SSH_AGENT_IDENTITIES_ANSWER`.
    pub const IDENTITIES_ANSWER: u8 = 12;
    /// `SSH_AGENTC_SIGN_REQUEST`.
    pub const SIGN_REQUEST: u8 = 13;
    /// `SSH_AGENT_SIGN_RESPONSE`.
    pub const SIGN_RESPONSE: u8 = 14;
    /// `SSH_AGENTC_ADD_IDENTITY`.
    pub const ADD_IDENTITY: u8 = 17;
    /// `SSH_AGENTC_REMOVE_IDENTITY`.
    pub const REMOVE_IDENTITY: u8 = 18;
    /// `SSH_AGENTC_REMOVE_ALL_IDENTITIES`.
    pub const REMOVE_ALL_IDENTITIES: u8 = 19;
    /// `SSH_AGENTC_ADD_SMARTCARD_KEY`.
    pub const ADD_SMARTCARD_KEY: u8 = 20;
    /// `SSH_AGENTC_REMOVE_SMARTCARD_KEY`.
    pub const REMOVE_SMARTCARD_KEY: u8 = 21;
    /// `SSH_AGENTC_LOCK`.
    pub const LOCK: u8 = 22;
    /// `SSH_AGENTC_UNLOCK`.
    pub const UNLOCK: u8 = 23;
    /// `SSH_AGENTC_ADD_ID_CONSTRAINED`.
    pub const ADD_ID_CONSTRAINED: u8 = 25;
    /// `SSH_AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED`.
    pub const ADD_SMARTCARD_KEY_CONSTRAINED: u8 = 26;
    /// `SSH_AGENTC_EXTENSION`.
    pub const EXTENSION: u8 = 27;
    /// `SSH_AGENT_EXTENSION_FAILURE`.
    pub const EXTENSION_FAILURE: u8 = 28;
    /// `SSH_AGENT_EXTENSION_RESPONSE`.
    pub const EXTENSION_RESPONSE: u8 = 29;
    /// Constraint `SSH_AGENT_CONSTRAIN_LIFETIME`.
    pub const CONSTRAIN_LIFETIME: u8 = 1;
    /// Constraint `SSH_AGENT_CONSTRAIN_CONFIRM`.
    pub const CONSTRAIN_CONFIRM: u8 = 2;
    /// Constraint `SSH_AGENT_CONSTRAIN_EXTENSION`.
    pub const CONSTRAIN_EXTENSION: u8 = 255;
}

/// Sign-request flag: an RSA key signs with `rsa-sha2-256`.
pub const RSA_SHA2_256: u32 = 0x02;
/// Sign-request flag: an RSA key signs with `rsa-sha2-512`.
pub const RSA_SHA2_512: u32 = 0x04;

/// The `query` extension (RFC 9987 §4.8.1).
pub const EXT_QUERY: &str = "query";
/// The `session-bind@openssh.com` extension.
pub const EXT_SESSION_BIND: &str = "session-bind@openssh.com";

/// Longest session identifier a `session-bind` may carry (OpenSSH's `AGENT_MAX_SID_LEN`).
pub const MAX_SESSION_ID: usize = 128;

/// A key constraint of `ADD_ID_CONSTRAINED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// Forget the key after this many seconds.
    Lifetime(u32),
    /// Ask the user before each use.
    Confirm,
    /// An extension constraint; its data runs to the end of the message, so it must be
    /// the last one.
    Extension {
        /// Its name.
        name: String,
        /// Its data, opaque here.
        data: Vec<u8>,
    },
}

/// A `session-bind@openssh.com` extension request: the SSH session the agent connection
/// serves, with the host key's signature over its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionBind {
    /// The server's host key blob.
    pub host_key: Vec<u8>,
    /// The session identifier (exchange hash of the first key exchange).
    pub session_id: Vec<u8>,
    /// The host key's signature over the session identifier, from the key exchange.
    pub signature: Vec<u8>,
    /// Whether the binding is for forwarding (`true`) or user authentication.
    pub forwarding: bool,
}

/// An `SSH_AGENTC_EXTENSION` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// `query`: which extensions the agent supports.
    Query,
    /// `session-bind@openssh.com`.
    SessionBind(SessionBind),
    /// Anything else: the name and the opaque rest.
    Other {
        /// Its name.
        name: String,
        /// Its data.
        data: Vec<u8>,
    },
}

/// A request to the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// List the keys.
    RequestIdentities,
    /// Sign `data` with the key whose public blob is `key`.
    Sign {
        /// The public key blob.
        key: Vec<u8>,
        /// What to sign.
        data: Vec<u8>,
        /// [`RSA_SHA2_256`] / [`RSA_SHA2_512`].
        flags: u32,
    },
    /// Add a key (`ADD_IDENTITY`, or `ADD_ID_CONSTRAINED` when there are constraints).
    Add {
        /// The private key.
        key: KeyBlob,
        /// Its comment.
        comment: String,
        /// Constraints.
        constraints: Vec<Constraint>,
    },
    /// Remove the key whose public blob this is.
    Remove(Vec<u8>),
    /// Remove every key.
    RemoveAll,
    /// Lock with a passphrase.
    Lock(Zeroizing<Vec<u8>>),
    /// Unlock with the passphrase.
    Unlock(Zeroizing<Vec<u8>>),
    /// An extension.
    Extension(Extension),
    /// A request this crate does not handle (smartcard keys, SSH1): answered with failure.
    Unsupported(u8),
}

/// A public key the agent holds, with its comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The public key blob.
    pub key: Vec<u8>,
    /// The comment.
    pub comment: String,
}

/// A reply from the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `SSH_AGENT_SUCCESS`.
    Success,
    /// `SSH_AGENT_FAILURE`.
    Failure,
    /// `SSH_AGENT_EXTENSION_FAILURE`.
    ExtensionFailure,
    /// The keys.
    Identities(Vec<Identity>),
    /// A signature blob (`string alg || string sig`).
    Signature(Vec<u8>),
    /// An extension's reply: the extension name, then its data.
    ExtensionResponse {
        /// The extension's name.
        name: String,
        /// The rest.
        data: Vec<u8>,
    },
}

fn text(r: &mut Reader<'_>, what: &'static str) -> Result<String, AgentError> {
    Ok(String::from_utf8_lossy(r.string(what)?).into_owned())
}

impl Request {
    /// Encodes the payload (without the length prefix; see [`frame`](crate::frame)).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut p = Zeroizing::new(Vec::new());
        match self {
            Request::RequestIdentities => p.push(num::REQUEST_IDENTITIES),
            Request::Sign { key, data, flags } => {
                p.push(num::SIGN_REQUEST);
                wire::put_string(&mut p, key);
                wire::put_string(&mut p, data);
                wire::put_u32(&mut p, *flags);
            }
            Request::Add {
                key,
                comment,
                constraints,
            } => {
                p.push(if constraints.is_empty() {
                    num::ADD_IDENTITY
                } else {
                    num::ADD_ID_CONSTRAINED
                });
                p.extend_from_slice(key.bytes());
                wire::put_string(&mut p, comment.as_bytes());
                for c in constraints {
                    match c {
                        Constraint::Lifetime(s) => {
                            p.push(num::CONSTRAIN_LIFETIME);
                            wire::put_u32(&mut p, *s);
                        }
                        Constraint::Confirm => p.push(num::CONSTRAIN_CONFIRM),
                        Constraint::Extension { name, data } => {
                            p.push(num::CONSTRAIN_EXTENSION);
                            wire::put_string(&mut p, name.as_bytes());
                            p.extend_from_slice(data);
                        }
                    }
                }
            }
            Request::Remove(key) => {
                p.push(num::REMOVE_IDENTITY);
                wire::put_string(&mut p, key);
            }
            Request::RemoveAll => p.push(num::REMOVE_ALL_IDENTITIES),
            Request::Lock(pw) | Request::Unlock(pw) => {
                p.push(if matches!(self, Request::Lock(_)) {
                    num::LOCK
                } else {
                    num::UNLOCK
                });
                wire::put_string(&mut p, pw);
            }
            Request::Extension(ext) => {
                p.push(num::EXTENSION);
                match ext {
                    Extension::Query => wire::put_string(&mut p, EXT_QUERY.as_bytes()),
                    Extension::SessionBind(b) => {
                        wire::put_string(&mut p, EXT_SESSION_BIND.as_bytes());
                        wire::put_string(&mut p, &b.host_key);
                        wire::put_string(&mut p, &b.session_id);
                        wire::put_string(&mut p, &b.signature);
                        wire::put_bool(&mut p, b.forwarding);
                    }
                    Extension::Other { name, data } => {
                        wire::put_string(&mut p, name.as_bytes());
                        p.extend_from_slice(data);
                    }
                }
            }
            Request::Unsupported(n) => p.push(*n),
        }
        p
    }

    /// Decodes a request payload (the agent's side).
    ///
    /// # Errors
    /// [`AgentError`] for an empty, truncated or malformed message, or a key type the
    /// agent cannot hold; the agent answers any error with `SSH_AGENT_FAILURE`.
    pub fn decode(payload: &[u8]) -> Result<Request, AgentError> {
        let mut r = Reader::new(payload);
        let n = r.u8("agent request").map_err(|_| AgentError::Empty)?;
        let req = match n {
            num::REQUEST_IDENTITIES => Request::RequestIdentities,
            num::SIGN_REQUEST => Request::Sign {
                key: r.string("key blob")?.to_vec(),
                data: r.string("data to sign")?.to_vec(),
                flags: r.u32("sign flags")?,
            },
            num::ADD_IDENTITY | num::ADD_ID_CONSTRAINED => {
                let key = KeyBlob::read(&mut r)?;
                let comment = text(&mut r, "comment")?;
                let mut constraints = Vec::new();
                if n == num::ADD_ID_CONSTRAINED {
                    while r.remaining() > 0 {
                        constraints.push(read_constraint(&mut r)?);
                    }
                }
                Request::Add {
                    key,
                    comment,
                    constraints,
                }
            }
            num::REMOVE_IDENTITY => Request::Remove(r.string("key blob")?.to_vec()),
            num::REMOVE_ALL_IDENTITIES => Request::RemoveAll,
            num::LOCK => Request::Lock(Zeroizing::new(r.string("passphrase")?.to_vec())),
            num::UNLOCK => Request::Unlock(Zeroizing::new(r.string("passphrase")?.to_vec())),
            num::EXTENSION => {
                let name = r.string("extension name")?;
                let ext = if name == EXT_QUERY.as_bytes() {
                    Extension::Query
                } else if name == EXT_SESSION_BIND.as_bytes() {
                    let b = SessionBind {
                        host_key: r.string("host key")?.to_vec(),
                        session_id: r.string("session id")?.to_vec(),
                        signature: r.string("signature")?.to_vec(),
                        forwarding: r.bool("is forwarding")?,
                    };
                    if b.session_id.len() > MAX_SESSION_ID {
                        return Err(AgentError::Malformed(
                            seashell_proto::error::InvalidMessage::BadValue("session id too long"),
                        ));
                    }
                    Extension::SessionBind(b)
                } else {
                    let name = String::from_utf8_lossy(name).into_owned();
                    return Ok(Request::Extension(Extension::Other {
                        name,
                        data: r.rest().to_vec(),
                    }));
                };
                Request::Extension(ext)
            }
            // Unknown and unsupported types (SSH1, smartcards): their bodies are ignored.
            other => return Ok(Request::Unsupported(other)),
        };
        r.end("agent request")?;
        Ok(req)
    }
}

fn read_constraint(r: &mut Reader<'_>) -> Result<Constraint, AgentError> {
    Ok(match r.u8("constraint")? {
        num::CONSTRAIN_LIFETIME => Constraint::Lifetime(r.u32("lifetime")?),
        num::CONSTRAIN_CONFIRM => Constraint::Confirm,
        num::CONSTRAIN_EXTENSION => {
            let name = text(r, "constraint name")?;
            // The data's shape depends on the extension: it runs to the end.
            let data = r.rest().to_vec();
            let _ = r.take(data.len(), "constraint data")?;
            Constraint::Extension { name, data }
        }
        other => return Err(AgentError::UnexpectedMessage(other)),
    })
}

impl Response {
    /// Encodes the payload (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::new();
        match self {
            Response::Success => p.push(num::SUCCESS),
            Response::Failure => p.push(num::FAILURE),
            Response::ExtensionFailure => p.push(num::EXTENSION_FAILURE),
            Response::Identities(ids) => {
                p.push(num::IDENTITIES_ANSWER);
                wire::put_u32(&mut p, u32::try_from(ids.len()).unwrap_or(0));
                for id in ids {
                    wire::put_string(&mut p, &id.key);
                    wire::put_string(&mut p, id.comment.as_bytes());
                }
            }
            Response::Signature(sig) => {
                p.push(num::SIGN_RESPONSE);
                wire::put_string(&mut p, sig);
            }
            Response::ExtensionResponse { name, data } => {
                p.push(num::EXTENSION_RESPONSE);
                wire::put_string(&mut p, name.as_bytes());
                p.extend_from_slice(data);
            }
        }
        p
    }

    /// Decodes a reply payload (the client's side).
    ///
    /// # Errors
    /// [`AgentError`] for an empty, truncated or malformed reply or an unknown type.
    pub fn decode(payload: &[u8]) -> Result<Response, AgentError> {
        let mut r = Reader::new(payload);
        let n = r.u8("agent reply").map_err(|_| AgentError::Empty)?;
        let resp = match n {
            num::SUCCESS => Response::Success,
            // OpenSSH also treats the SSH1 and ssh.com failure codes as failure.
            num::FAILURE | 30 | 102 => Response::Failure,
            num::EXTENSION_FAILURE => Response::ExtensionFailure,
            num::IDENTITIES_ANSWER => {
                let count = r.u32("identity count")?;
                // Each identity takes at least 8 bytes: bound the count by the message.
                if u64::from(count) * 8 > r.remaining() as u64 {
                    return Err(AgentError::Malformed(
                        seashell_proto::error::InvalidMessage::BadValue("identity count"),
                    ));
                }
                let mut ids = Vec::new();
                for _ in 0..count {
                    ids.push(Identity {
                        key: r.string("key blob")?.to_vec(),
                        comment: text(&mut r, "comment")?,
                    });
                }
                Response::Identities(ids)
            }
            num::SIGN_RESPONSE => Response::Signature(r.string("signature")?.to_vec()),
            num::EXTENSION_RESPONSE => {
                let name = text(&mut r, "extension name")?;
                return Ok(Response::ExtensionResponse {
                    name,
                    data: r.rest().to_vec(),
                });
            }
            other => return Err(AgentError::UnexpectedMessage(other)),
        };
        r.end("agent reply")?;
        Ok(resp)
    }
}

/// The extension names of a `query` reply's data (a sequence of strings).
///
/// # Errors
/// [`AgentError::Malformed`] if the data is not a sequence of strings.
pub fn query_names(data: &[u8]) -> Result<Vec<String>, AgentError> {
    let mut r = Reader::new(data);
    let mut names = Vec::new();
    while r.remaining() > 0 {
        names.push(text(&mut r, "extension name")?);
    }
    Ok(names)
}

/// The data of a `query` reply naming `names`.
pub fn query_data(names: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names {
        wire::put_string(&mut out, n.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests;
