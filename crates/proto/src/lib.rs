//! # seashell-proto: the sans-I/O SSHv2 core
//!
//! This crate holds the whole SSH protocol and none of the I/O: no sockets, no threads, no
//! clock reads, no runtime. A connection is a state machine that consumes bytes and emits bytes
//! and events.
//!
//! ```text
//!   wire bytes in  ──feed(now, &[u8])──▶ ┌──────────────────┐ ──poll_event()──▶ events
//!                                        │ ClientConnection │
//!   wire bytes out ◀─poll_transmit(buf)─ └──────────────────┘ ◀─commands─ application
//! ```
//!
//! Both roles are one type, [`Connection`] (`ClientConnection` and `ServerConnection` are
//! `Connection<Client>` and `Connection<Server>`), whose documentation lists the method
//! categories (inputs, outputs, commands, decisions). [`AnyConnection`] is its object-safe
//! face, for code that drives either role alike.
//!
//! **Poll order.** After any input (`feed`, `feed_eof`, `handle_timeout`) or command, drain
//! `poll_transmit` (send everything it appends), then read `poll_timeout`, then drain
//! `poll_event` until it returns `None`.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod auth;
pub mod client;
pub mod config;
pub mod connection;
pub mod crypto;
pub mod error;
pub mod event;
pub mod kex;
pub mod keys;
pub mod server;
pub mod transport;
pub mod wire;

pub use auth::client::AuthMethod;
pub use client::{Client, ClientConnection};
pub use config::{ClientConfig, ServerConfig};
pub use connection::{
    AnyConnection, Channel, ChannelKind, Connection, GlobalReply, GlobalRequestId,
    GlobalRequestKind, OpenFailure, Side,
};
pub use error::Error;
pub use event::{
    AuthAttempt, AuthChoice, AuthDecision, AuthRequest, AuthenticatedUser, ChannelId, Event,
    HostKeyCheck, IncomingChannel, IncomingGlobalRequest, PromptRequest, PtyRequest,
    SessionRequest, SessionRequestKind, SignRequest, TerminalModes,
};
pub use keys::{PrivateKey, PublicKey};
pub use server::{Server, ServerConnection};
