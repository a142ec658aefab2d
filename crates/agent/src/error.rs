//! The agent protocol's one error type.

use core::fmt;
use seashell_proto::error::InvalidMessage;

/// What went wrong in agent protocol handling.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentError {
    /// A message announced a length above [`MAX_MESSAGE`](crate::MAX_MESSAGE).
    TooLong(u32),
    /// A message was malformed (truncated, trailing bytes, bad value).
    Malformed(InvalidMessage),
    /// An empty message (no type byte).
    Empty,
    /// A message type this side does not know or does not expect here.
    UnexpectedMessage(u8),
    /// A key type the agent cannot hold (certificates, security keys, DSA).
    UnsupportedKeyType(String),
    /// A key blob whose parts do not make a usable key.
    BadKey,
    /// A reply arrived with no request waiting for it.
    UnsolicitedReply,
    /// The agent's signature does not verify or has another algorithm than asked.
    BadSignature,
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::TooLong(n) => write!(f, "agent message of {n} bytes is too long"),
            AgentError::Malformed(e) => write!(f, "malformed agent message: {e:?}"),
            AgentError::Empty => f.write_str("empty agent message"),
            AgentError::UnexpectedMessage(n) => write!(f, "unexpected agent message type {n}"),
            AgentError::UnsupportedKeyType(t) => write!(f, "unsupported key type {t}"),
            AgentError::BadKey => f.write_str("the key's parts do not make a usable key"),
            AgentError::UnsolicitedReply => f.write_str("agent reply without a request"),
            AgentError::BadSignature => f.write_str("the agent's signature does not verify"),
        }
    }
}

impl std::error::Error for AgentError {}

impl From<InvalidMessage> for AgentError {
    fn from(e: InvalidMessage) -> Self {
        AgentError::Malformed(e)
    }
}
