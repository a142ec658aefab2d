//! Host-key trust policies, answering the core's host-key decision.

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
    /// Like `AcceptNew` (a changed key is still refused: Seashell never connects to a host
    /// whose key changed).
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

    /// Decides whether `key`, proven by `host:port`, is trusted.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> Result<(), Error> {
        let fp = key.fingerprint();
        match self {
            HostKeyPolicy::AcceptAnyInsecure => Ok(()),
            HostKeyPolicy::Fingerprint(want) if *want == fp => Ok(()),
            HostKeyPolicy::Fingerprint(want) => Err(Error::HostKey(format!(
                "host key verification failed: {} key fingerprint is {fp}, expected {want}",
                key.key_type()
            ))),
            HostKeyPolicy::Custom(f) => f(host, port, key).map_err(Error::HostKey),
            HostKeyPolicy::KnownHosts { files, strict } => {
                check_known_hosts(files, *strict, host, port, key)
            }
        }
    }
}

fn check_known_hosts(
    files: &[PathBuf],
    strict: StrictHostKeyChecking,
    host: &str,
    port: u16,
    key: &PublicKey,
) -> Result<(), Error> {
    let fp = key.fingerprint();
    let name = host_pattern(host, port);
    for file in files {
        let known = KnownHosts::load(file)?;
        match known.check(host, port, key) {
            HostKeyStatus::Trusted => return Ok(()),
            HostKeyStatus::Revoked => {
                return Err(Error::HostKey(format!(
                    "host key verification failed: the {} key {fp} of {name} is marked as revoked in {}",
                    key.key_type(),
                    file.display()
                )));
            }
            HostKeyStatus::Mismatch { known } => {
                let lines: Vec<String> = known.iter().map(|(_, line)| line.to_string()).collect();
                return Err(Error::HostKey(format!(
                    "host key verification failed: REMOTE HOST IDENTIFICATION HAS CHANGED for {name}: \
                     the server offered {} key {fp}, which differs from {}:{} (possible man-in-the-middle attack)",
                    key.key_type(),
                    file.display(),
                    lines.join(",")
                )));
            }
            HostKeyStatus::Unknown => {}
        }
    }
    match strict {
        StrictHostKeyChecking::Yes => Err(Error::HostKey(format!(
            "host key verification failed: no {} host key is known for {name} (fingerprint {fp}) and strict checking is on",
            key.key_type()
        ))),
        StrictHostKeyChecking::AcceptNew | StrictHostKeyChecking::No => {
            if let Some(file) = files.first()
                && file.as_os_str() != "/dev/null"
            {
                append_known_host(file, host, port, key)?;
            }
            Ok(())
        }
    }
}
