//! Test support for Seashell.
//!
//! [`Pair`] wires a client core and a server core together in memory, with a virtual clock,
//! latency and chunking policies, for fast end-to-end tests without sockets.
//!
//! The main item is [`Sshd`], a private OpenSSH server on `127.0.0.1` for integration
//! tests, with generated host and user keys. When a peer program is not installed, tests
//! skip through [`require_peer`] (except in CI, where a missing peer is an error).
//!
//! ```no_run
//! use seashell_testkit::{require_peer, KeyKind, Sshd, SshdOptions};
//!
//! let Some(sshd) = require_peer(Sshd::start(SshdOptions::default())) else {
//!     return;
//! };
//! let _key = sshd.user_key(KeyKind::Ed25519);
//! let _line = sshd.known_hosts_line(KeyKind::Ed25519);
//! ```

mod keys;
pub mod pair;
mod peer;
mod sshd;
pub mod tcp_service;
mod unix_socket;

pub use keys::KeyKind;
pub use pair::{Chunking, Pair};
pub use peer::{PeerError, find_program, require_peer, ssh_client, test_password};
pub use sshd::{Sshd, SshdOptions, banner_ok};
pub use tcp_service::{Behaviour, TcpService, check_sink, check_source};
pub use unix_socket::{exchange_unix, shared_socket_dir, unix_echo};
