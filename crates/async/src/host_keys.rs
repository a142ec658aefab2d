//! Host-key trust policies, answering the core's host-key decision.
//!
//! Interim: this mirrors `seashell_blocking::HostKeyPolicy` (same variants, same decisions,
//! over `seashell_keys::KnownHosts`) because the async crates may not depend on the blocking
//! one. Both should use one shared implementation once it moves to a common crate.

use crate::error::Error;
use seashell_keys::{HostKeyStatus, KnownHosts, append_known_host, host_pattern};
use seashell_proto::PublicKey;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// OpenSSH's `StrictHostKeyChecking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    /// Only keys already in known_hosts are trusted.
    Yes,
    /// Unknown hosts are trusted and recorded; changed keys are refused.
    AcceptNew,
    /// Like `AcceptNew`: a changed key is still refused.
    No,
}

/// A host-key decision in code: `(host, port, key)`, `Err(message)` to refuse.
pub type HostKeyVerifier = Arc<dyn Fn(&str, u16, &PublicKey) -> Result<(), String> + Send + Sync>;

/// How the server's host key is trusted.
#[derive(Clone)]
pub enum HostKeyPolicy {
    /// Check known_hosts files (the first is the one new keys are added to).
    KnownHosts {
        /// The files, user file first.
        files: Vec<PathBuf>,
        /// What to do with unknown hosts.
        strict: StrictHostKeyChecking,
    },
    /// Trust exactly the key with this `SHA256:` fingerprint.
    Fingerprint(String),
    /// Trust any key. Insecure: only for tests against throwaway servers.
    AcceptAnyInsecure,
    /// Decide in code: return `Err(message)` to refuse.
    Custom(HostKeyVerifier),
}

impl fmt::Debug for HostKeyPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKeyPolicy::KnownHosts { files, strict } => f
                .debug_struct("KnownHosts")
                .field("files", files)
                .field("strict", strict)
                .finish(),
            HostKeyPolicy::Fingerprint(fp) => f.debug_tuple("Fingerprint").field(fp).finish(),
            HostKeyPolicy::AcceptAnyInsecure => f.write_str("AcceptAnyInsecure"),
            HostKeyPolicy::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl HostKeyPolicy {
    /// The user's `~/.ssh/known_hosts`, strict.
    pub fn default_known_hosts() -> HostKeyPolicy {
        let home = std::env::home_dir().unwrap_or_default();
        HostKeyPolicy::KnownHosts {
            files: vec![home.join(".ssh").join("known_hosts")],
            strict: StrictHostKeyChecking::Yes,
        }
    }

    /// Decides whether `key`, proven by `host:port`, is trusted. (Reads known_hosts files
    /// synchronously: they are small.)
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> Result<(), Error> {
        let fp = key.fingerprint();
        let refuse = |why: String| {
            Err(Error::HostKey(format!(
                "host key verification failed: {why}"
            )))
        };
        match self {
            HostKeyPolicy::AcceptAnyInsecure => Ok(()),
            HostKeyPolicy::Fingerprint(want) if *want == fp => Ok(()),
            HostKeyPolicy::Fingerprint(want) => refuse(format!(
                "{} key fingerprint is {fp}, expected {want}",
                key.key_type()
            )),
            HostKeyPolicy::Custom(f) => f(host, port, key).map_err(Error::HostKey),
            HostKeyPolicy::KnownHosts { files, strict } => {
                let name = host_pattern(host, port);
                for file in files {
                    match KnownHosts::load(file)?.check(host, port, key) {
                        HostKeyStatus::Trusted => return Ok(()),
                        HostKeyStatus::Revoked => {
                            return refuse(format!("the key {fp} of {name} is revoked"));
                        }
                        HostKeyStatus::Mismatch { .. } => {
                            return refuse(format!(
                                "REMOTE HOST IDENTIFICATION HAS CHANGED for {name}: the server \
                                 offered {fp}, which differs from {}",
                                file.display()
                            ));
                        }
                        HostKeyStatus::Unknown => {}
                    }
                }
                if *strict == StrictHostKeyChecking::Yes {
                    return refuse(format!(
                        "no host key is known for {name} (fingerprint {fp})"
                    ));
                }
                if let Some(file) = files.first().filter(|f| f.as_os_str() != "/dev/null") {
                    append_known_host(file, host, port, key)?;
                }
                Ok(())
            }
        }
    }
}
