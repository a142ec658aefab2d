//! Host-key trust policies, answering the core's host-key decision.

use crate::error::Error;
use seashell_keys::{HostKeyStatus, KnownHosts, append_known_host_names, host_pattern};
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

/// known_hosts checking with every OpenSSH setting: several user files, global files,
/// hashing of added names.
#[derive(Debug, Clone)]
pub struct KnownHostsFiles {
    /// `UserKnownHostsFile`: new keys are added to the first.
    pub user_files: Vec<PathBuf>,
    /// `GlobalKnownHostsFile`: read only.
    pub global_files: Vec<PathBuf>,
    /// What to do with unknown hosts.
    pub strict: StrictHostKeyChecking,
    /// `HashKnownHosts`: record new hosts hashed.
    pub hash_new: bool,
}

impl KnownHostsFiles {
    /// Every file, user files first.
    pub fn all_files(&self) -> Vec<PathBuf> {
        self.user_files
            .iter()
            .chain(&self.global_files)
            .cloned()
            .collect()
    }
}

/// How the server's host key is trusted.
///
/// known_hosts policies honour `@cert-authority` lines (a host certificate signed by a CA
/// trusted for the host is accepted if it is valid now and names the host) and `@revoked`
/// lines in every file.
#[derive(Clone)]
pub enum HostKeyPolicy {
    /// Check known_hosts files (the first is the one new keys are added to).
    KnownHosts {
        /// The files, user file first.
        files: Vec<PathBuf>,
        /// What to do with unknown hosts.
        strict: StrictHostKeyChecking,
    },
    /// Check known_hosts files with every setting ([`KnownHostsFiles`]).
    KnownHostsFiles(KnownHostsFiles),
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
            HostKeyPolicy::KnownHostsFiles(k) => f.debug_tuple("KnownHostsFiles").field(k).finish(),
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
            HostKeyPolicy::KnownHosts { files, strict } => check_known_hosts(
                &KnownHostsFiles {
                    user_files: files.clone(),
                    global_files: Vec::new(),
                    strict: *strict,
                    hash_new: false,
                },
                host,
                port,
                key,
            ),
            HostKeyPolicy::KnownHostsFiles(k) => check_known_hosts(k, host, port, key),
        }
    }

    /// The host-key algorithms to offer to `host:port`: for known_hosts policies,
    /// `configured` reordered as `ssh` does when `HostKeyAlgorithms` is not set (certificate
    /// algorithms first when a `@cert-authority` line matches the host, then the algorithms
    /// of keys already known); `configured` as it is otherwise or if a file cannot be read.
    pub fn host_key_algorithms(&self, host: &str, port: u16, configured: &[String]) -> Vec<String> {
        let files = match self {
            HostKeyPolicy::KnownHosts { files, .. } => files.clone(),
            HostKeyPolicy::KnownHostsFiles(k) => k.all_files(),
            _ => return configured.to_vec(),
        };
        match KnownHosts::load_files(&files) {
            Ok(known) => known.order_host_key_algorithms(host, port, configured),
            Err(_) => configured.to_vec(),
        }
    }
}

/// The current time in seconds since the Unix epoch (0 if the clock is before it).
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn check_known_hosts(
    policy: &KnownHostsFiles,
    host: &str,
    port: u16,
    key: &PublicKey,
) -> Result<(), Error> {
    let fp = key.fingerprint();
    let name = host_pattern(host, port);
    let files = policy.all_files();
    let now = unix_now();
    let all = KnownHosts::load_files(&files)?;
    let what = if key.certificate().is_some() {
        format!("{} certificate", key.key_type())
    } else {
        format!("{} key", key.key_type())
    };
    match all.check_at(host, port, key, now) {
        HostKeyStatus::Trusted => return Ok(()),
        HostKeyStatus::Revoked => {
            return Err(Error::HostKey(format!(
                "host key verification failed: the {what} {fp} of {name} is marked as revoked in {}",
                display_files(&files)
            )));
        }
        HostKeyStatus::CertificateInvalid(e) => {
            return Err(Error::HostKey(format!(
                "host key verification failed: the host certificate of {name} ({fp}) is not acceptable: {e}"
            )));
        }
        HostKeyStatus::Mismatch { .. } | HostKeyStatus::Unknown => {}
    }
    // Which file holds the differing key, for the message.
    for file in &files {
        let known = KnownHosts::load(file)?;
        if let HostKeyStatus::Mismatch { known } = known.check_at(host, port, key, now) {
            let lines: Vec<String> = known.iter().map(|(_, line)| line.to_string()).collect();
            return Err(Error::HostKey(format!(
                "host key verification failed: REMOTE HOST IDENTIFICATION HAS CHANGED for {name}: \
                 the server offered {} key {fp}, which differs from {}:{} (possible man-in-the-middle attack)",
                key.key_type(),
                file.display(),
                lines.join(",")
            )));
        }
    }
    match policy.strict {
        StrictHostKeyChecking::Yes => Err(Error::HostKey(format!(
            "host key verification failed: no {} host key is known for {name} (fingerprint {fp}) and strict checking is on",
            key.key_type()
        ))),
        StrictHostKeyChecking::AcceptNew | StrictHostKeyChecking::No => {
            if let Some(file) = policy.user_files.first()
                && file.as_os_str() != "/dev/null"
            {
                append_known_host_names(file, &[host], port, key, policy.hash_new)?;
            }
            Ok(())
        }
    }
}

fn display_files(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    names.join(", ")
}
