//! # seashell-agent: the ssh-agent protocol without I/O
//!
//! The SSH agent protocol (RFC 9987, OpenSSH's `PROTOCOL.agent`) for both sides, as values
//! and state machines that never touch a socket, a thread or a clock:
//!
//! - [`frame`]: the length-prefixed framing, bounded at [`MAX_MESSAGE`] (256 KiB, as
//!   OpenSSH) — [`Framer`] cuts a byte stream into messages;
//! - [`message`]: every request ([`Request`]) and reply ([`Response`]) with encoders and
//!   bounded, typed-error decoders;
//! - [`keyblob`]: private keys as the agent protocol carries them (`ADD_IDENTITY`), parsed
//!   into [`seashell_proto::PrivateKey`];
//! - [`Client`]: the requesting side — queue a request, feed the agent's bytes, get the
//!   typed reply that request expects;
//! - [`KeyStore`]: the agent side — keys with comments and constraints, lifetimes on a
//!   caller-supplied clock, lock and unlock, `query` and `session-bind@openssh.com`.
//!
//! Sockets belong to the caller: `seashell-adapter` drives a [`Client`] over `SSH_AUTH_SOCK`,
//! and the `seashell agent` command serves a [`KeyStore`].
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod client;
mod error;
pub mod frame;
pub mod keyblob;
pub mod message;
mod store;

pub use client::{Client, Reply, check_signature, usable_identities};
pub use error::AgentError;
pub use frame::{Framer, MAX_MESSAGE, frame};
pub use keyblob::KeyBlob;
pub use message::{Constraint, Extension, Identity, Request, Response, SessionBind};
pub use store::{Binding, ConnectionState, KeyStore, StoreConfig};
