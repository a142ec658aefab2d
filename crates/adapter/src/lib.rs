//! # seashell-adapter: what every I/O adapter shares
//!
//! The blocking, tokio and smol adapters present the same API. Everything in it that is not
//! I/O lives here once: the client configuration (credentials, host-key policy, the core's
//! algorithms), the order credentials are tried in, host-key trust decisions, the error type,
//! and how a remote command ended. The adapters re-export these types.

mod auth;
mod config;
mod error;
mod exit;
mod host_keys;

pub use auth::{AuthPlan, split_host_port};
pub use config::{ClientConfig, PasswordPrompt};
pub use error::Error;
pub use exit::{ExitStatus, Output};
pub use host_keys::{HostKeyPolicy, HostKeyVerifier, StrictHostKeyChecking};
