//! The requesting side: [`Client`] queues requests, takes the agent's bytes and hands back
//! each reply typed by what its request expects. Requests are answered in order (the agent
//! protocol has no request identifiers), so several may be in flight.

use crate::error::AgentError;
use crate::frame::{Framer, frame};
use crate::message::{EXT_QUERY, Extension, Identity, Request, Response, query_names};
use seashell_proto::PublicKey;
use std::collections::VecDeque;

/// Most requests in flight on one connection.
const MAX_IN_FLIGHT: usize = 64;

/// What kind of reply a request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Identities,
    Signature,
    Status,
    Extension,
    Query,
}

/// A reply, typed by its request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// `REQUEST_IDENTITIES`: the keys.
    Identities(Vec<Identity>),
    /// `SIGN_REQUEST`: the signature blob.
    Signature(Vec<u8>),
    /// Add, remove, lock, unlock, or an extension: it worked.
    Success,
    /// The agent refused (`SSH_AGENT_FAILURE`, or an extension failure).
    Failure,
    /// `query`: the extensions the agent supports.
    Extensions(Vec<String>),
    /// Another extension's own reply.
    ExtensionData {
        /// The extension's name.
        name: String,
        /// Its data.
        data: Vec<u8>,
    },
}

/// The requesting side of one agent connection, without I/O.
///
/// Call [`request`](Self::request), send what [`poll_transmit`](Self::poll_transmit)
/// appends, [`feed`](Self::feed) what the agent answers, and take replies from
/// [`poll_reply`](Self::poll_reply) in request order.
#[derive(Debug, Default)]
pub struct Client {
    out: Vec<u8>,
    framer: Framer,
    expect: VecDeque<Expect>,
    replies: VecDeque<Result<Reply, AgentError>>,
    broken: Option<AgentError>,
}

impl Client {
    /// A client with nothing in flight.
    pub fn new() -> Client {
        Client::default()
    }

    /// Queues a request.
    ///
    /// # Errors
    /// [`AgentError::UnexpectedMessage`] for a request with no defined reply
    /// ([`Request::Unsupported`]) or past 64 requests in flight; the sticky error once the
    /// stream broke.
    pub fn request(&mut self, req: &Request) -> Result<(), AgentError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        let expect = match req {
            Request::RequestIdentities => Expect::Identities,
            Request::Sign { .. } => Expect::Signature,
            Request::Extension(Extension::Query) => Expect::Query,
            Request::Extension(_) => Expect::Extension,
            Request::Unsupported(n) => return Err(AgentError::UnexpectedMessage(*n)),
            _ => Expect::Status,
        };
        if self.expect.len() >= MAX_IN_FLIGHT {
            return Err(AgentError::UnexpectedMessage(0));
        }
        self.out.extend_from_slice(&frame(&req.encode()));
        self.expect.push_back(expect);
        Ok(())
    }

    /// Appends the bytes to send to the agent.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) {
        buf.append(&mut self.out);
    }

    /// Whether replies are still awaited.
    pub fn waiting(&self) -> bool {
        !self.expect.is_empty()
    }

    /// Takes bytes from the agent.
    ///
    /// # Errors
    /// A framing error, an unsolicited reply or a reply of the wrong type: the stream is
    /// unusable afterwards (the error is sticky).
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), AgentError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        while !bytes.is_empty() {
            let n = self.framer.push(bytes);
            bytes = bytes.get(n..).unwrap_or_default();
            let msg = match self.framer.next_message() {
                Ok(Some(m)) => m,
                Ok(None) if n == 0 => break,
                Ok(None) => continue,
                Err(e) => return Err(self.fail(e)),
            };
            let Some(expect) = self.expect.pop_front() else {
                return Err(self.fail(AgentError::UnsolicitedReply));
            };
            let reply = match Response::decode(&msg).and_then(|r| typed(expect, r)) {
                Ok(r) => r,
                Err(e) => return Err(self.fail(e)),
            };
            self.replies.push_back(Ok(reply));
        }
        Ok(())
    }

    fn fail(&mut self, e: AgentError) -> AgentError {
        self.broken = Some(e.clone());
        e
    }

    /// The next reply, in request order.
    pub fn poll_reply(&mut self) -> Option<Result<Reply, AgentError>> {
        self.replies.pop_front()
    }
}

fn typed(expect: Expect, r: Response) -> Result<Reply, AgentError> {
    Ok(match (expect, r) {
        (_, Response::Failure) => Reply::Failure,
        (Expect::Identities, Response::Identities(ids)) => Reply::Identities(ids),
        (Expect::Signature, Response::Signature(s)) => Reply::Signature(s),
        (Expect::Status | Expect::Extension | Expect::Query, Response::Success) => Reply::Success,
        (Expect::Extension | Expect::Query, Response::ExtensionFailure) => Reply::Failure,
        (Expect::Query, Response::ExtensionResponse { name, data }) if name == EXT_QUERY => {
            Reply::Extensions(query_names(&data)?)
        }
        (Expect::Extension, Response::ExtensionResponse { name, data }) => {
            Reply::ExtensionData { name, data }
        }
        (_, other) => {
            let n = other.encode().first().copied().unwrap_or(0);
            return Err(AgentError::UnexpectedMessage(n));
        }
    })
}

/// The public keys of an identities reply that this crate can use, with their comments;
/// keys of other types (certificates, security keys) are skipped, as OpenSSH's clients skip
/// keys they cannot parse.
pub fn usable_identities(ids: &[Identity]) -> Vec<(PublicKey, String)> {
    ids.iter()
        .filter_map(|i| Some((PublicKey::from_blob(&i.key).ok()?, i.comment.clone())))
        .collect()
}

/// Checks an agent's signature blob: it must use `algorithm` and verify with `key` over
/// `data`.
///
/// # Errors
/// [`AgentError::BadSignature`] otherwise.
pub fn check_signature(
    key: &PublicKey,
    algorithm: &str,
    data: &[u8],
    sig: &[u8],
) -> Result<(), AgentError> {
    key.verify(algorithm, data, sig)
        .map_err(|_| AgentError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Response;

    #[test]
    fn replies_come_in_request_order_and_typed() {
        let mut c = Client::new();
        c.request(&Request::RequestIdentities).unwrap();
        c.request(&Request::Sign {
            key: vec![1],
            data: vec![2],
            flags: 0,
        })
        .unwrap();
        c.request(&Request::Extension(Extension::Query)).unwrap();
        let mut out = Vec::new();
        c.poll_transmit(&mut out);
        assert_eq!(&out[..5], &[0, 0, 0, 1, 11]);
        let mut stream = frame(&Response::Identities(vec![]).encode());
        stream.extend(frame(&Response::Failure.encode()));
        stream.extend(frame(
            &Response::ExtensionResponse {
                name: "query".into(),
                data: crate::message::query_data(&["session-bind@openssh.com"]),
            }
            .encode(),
        ));
        for b in &stream {
            c.feed(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(c.poll_reply(), Some(Ok(Reply::Identities(vec![]))));
        assert_eq!(c.poll_reply(), Some(Ok(Reply::Failure)));
        assert_eq!(
            c.poll_reply(),
            Some(Ok(Reply::Extensions(vec![
                "session-bind@openssh.com".into()
            ])))
        );
        assert!(!c.waiting());
    }

    #[test]
    fn wrong_or_unsolicited_reply_breaks_the_stream() {
        let mut c = Client::new();
        assert_eq!(
            c.feed(&frame(&Response::Success.encode())),
            Err(AgentError::UnsolicitedReply)
        );
        assert!(c.request(&Request::RequestIdentities).is_err());
        let mut d = Client::new();
        d.request(&Request::RequestIdentities).unwrap();
        assert!(matches!(
            d.feed(&frame(&Response::Signature(vec![]).encode())),
            Err(AgentError::UnexpectedMessage(14))
        ));
    }
}
