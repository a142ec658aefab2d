//! A [`ClientConfig`] from OpenSSH's `ssh_config`: resolve the configuration for a host
//! with [`seashell_config`], then [`client_config`] maps what the adapters act on (user,
//! algorithms, compression, rekey limits, keepalive, connect timeout, known hosts
//! (`UserKnownHostsFile`, `GlobalKnownHostsFile`, `StrictHostKeyChecking`, `HashKnownHosts`,
//! `UpdateHostKeys`), the agent (`IdentityAgent`, `ForwardAgent`, `IdentitiesOnly`), identity
//! files and their certificates). [`SshConfigTarget::resolve`] does both and
//! gives the address to connect to.
//!
//! ```no_run
//! use seashell_adapter::ssh_config::SshConfigTarget;
//! use seashell_config::SshConfigFiles;
//! let target = SshConfigTarget::resolve("myalias", &SshConfigFiles::Default)?;
//! // connect to (target.host, target.port) with target.config
//! # Ok::<(), seashell_adapter::ssh_config::SshConfigError>(())
//! ```

use crate::config::ClientConfig;
use crate::host_keys::{HostKeyPolicy, KnownHostsFiles, StrictHostKeyChecking};
use seashell_config::values::{ForwardAgent, PubkeyAuth, Strict, YesNoAsk};
use seashell_config::{ConfigError, DEFAULT_IDENTITY_FILES, ResolvedConfig, SshConfigFiles};
use seashell_keys::KeyFileError;
use seashell_proto::config::{AlgorithmSlot, compression_names};
use seashell_proto::transport::compress::CompressionAlg;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a configuration could not be turned into a [`ClientConfig`].
#[derive(Debug)]
pub enum SshConfigError {
    /// The configuration files are invalid (OpenSSH's messages, with file and line).
    Config(ConfigError),
    /// A value cannot be used (an algorithm list that leaves nothing, a bad `%` token in an
    /// `IdentityFile`).
    Value(String),
    /// A configured identity file exists but cannot be used (not for a missing file, nor for
    /// one that needs a passphrase: those are skipped, as `ssh` skips them without a
    /// prompt).
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        error: KeyFileError,
    },
}

impl fmt::Display for SshConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SshConfigError::Config(e) => write!(f, "{e}"),
            SshConfigError::Value(m) => f.write_str(m),
            SshConfigError::Key { path, error } => {
                write!(f, "identity file {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for SshConfigError {}

impl From<SshConfigError> for crate::Error {
    /// An `io::Error` of kind `InvalidInput` whose source is the configuration error.
    fn from(e: SshConfigError) -> Self {
        crate::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    }
}

/// Where to connect and with what: the result of [`SshConfigTarget::resolve`].
#[derive(Debug)]
pub struct SshConfigTarget {
    /// The host to connect to (`HostName`, canonicalized).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The client configuration.
    pub config: ClientConfig,
    /// Everything the configuration says, for settings the adapters do not act on.
    pub resolved: ResolvedConfig,
}

impl SshConfigTarget {
    /// Resolves `host` from `files` (`SshConfigFiles::Default`: `~/.ssh/config`, then
    /// `/etc/ssh/ssh_config`) and maps it with [`client_config`].
    ///
    /// # Errors
    /// See [`SshConfigError`].
    pub fn resolve(host: &str, files: &SshConfigFiles) -> Result<SshConfigTarget, SshConfigError> {
        let resolved = seashell_config::resolve(host, files).map_err(SshConfigError::Config)?;
        let config = client_config(&resolved)?;
        Ok(SshConfigTarget {
            host: resolved.hostname.clone(),
            port: resolved.port(),
            config,
            resolved,
        })
    }

    /// The address to connect to directly (`host:port`, `[v6]:port`).
    ///
    /// # Errors
    /// [`SshConfigError::Value`] if the configuration routes the host through `ProxyJump` or
    /// `ProxyCommand`: a direct connection would bypass the route it asks for (reach the jump
    /// host first and use `Client::connect_via`).
    pub fn direct_address(&self) -> Result<String, SshConfigError> {
        if matches!(self.resolved.proxy_jump, Some(Some(_)))
            || self
                .resolved
                .proxy_command
                .as_deref()
                .is_some_and(|c| c != "none")
        {
            return Err(SshConfigError::Value(format!(
                "{}: the configuration asks for ProxyJump or ProxyCommand; connect through the \
                 jump host with connect_via",
                self.host
            )));
        }
        Ok(if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        })
    }
}

/// The [`ClientConfig`] a resolved configuration asks for. Identity files (the configured
/// ones, else `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`) are loaded now; missing and
/// passphrase-protected ones are skipped.
///
/// # Errors
/// See [`SshConfigError`].
pub fn client_config(c: &ResolvedConfig) -> Result<ClientConfig, SshConfigError> {
    let value = SshConfigError::Value;
    let mut lists = Vec::new();
    for (set, slot) in [
        (c.ciphers.is_some(), AlgorithmSlot::Cipher),
        (c.macs.is_some(), AlgorithmSlot::Mac),
        (c.kex_algorithms.is_some(), AlgorithmSlot::Kex),
        (c.host_key_algorithms.is_some(), AlgorithmSlot::HostKey),
        (
            c.pubkey_accepted_algorithms.is_some(),
            AlgorithmSlot::PubkeyAccepted,
        ),
    ] {
        if set {
            lists.push((slot, c.algorithms(slot).map_err(value)?));
        }
    }
    let mut config = ClientConfig::new(c.remote_user()).with_core(|mut core| {
        for (slot, list) in &lists {
            core = match slot {
                AlgorithmSlot::Cipher => core.ciphers(list),
                AlgorithmSlot::Mac => core.macs(list),
                AlgorithmSlot::Kex => core.kex_algorithms(list),
                AlgorithmSlot::HostKey => core.host_key_algorithms(list),
                _ => core.pubkey_accepted_algorithms(list),
            };
        }
        if c.compression == Some(true) {
            core = core.compression(&compression_names(&CompressionAlg::PREFERRED));
        }
        if let Some(bytes) = c.rekey_limit.filter(|b| *b > 0) {
            core.rekey_bytes = bytes;
        }
        if let Some(t) = c.rekey_interval.filter(|t| *t > 0) {
            core.rekey_interval = Some(Duration::from_secs(t.into()));
        }
        core
    });
    let interval = c.server_alive_interval();
    if interval > 0 {
        config = config.keepalive(
            Duration::from_secs(interval.into()),
            c.server_alive_count_max.unwrap_or(3),
        );
    }
    if let Some(Some(t)) = c.connect_timeout.filter(|t| *t != Some(0)) {
        config.connect_timeout = Duration::from_secs(t.into());
    }
    let strict = match c.strict_host_key_checking.unwrap_or(Strict::Ask) {
        Strict::Yes | Strict::Ask => StrictHostKeyChecking::Yes,
        Strict::AcceptNew => StrictHostKeyChecking::AcceptNew,
        Strict::No => StrictHostKeyChecking::No,
    };
    let known = KnownHostsFiles {
        user_files: paths(&c.expanded.user_known_hosts_files),
        global_files: paths(&c.expanded.global_known_hosts_files),
        strict,
        hash_new: c.hash_known_hosts == Some(true),
    };
    // UpdateHostKeys=ask needs a confirmation a library cannot ask for: treated as no.
    if c.update_host_keys() == YesNoAsk::Yes {
        config.update_host_keys = Some(known.clone());
    }
    config.host_key_policy = HostKeyPolicy::KnownHostsFiles(known);
    config.agent = match c.expanded.identity_agent.as_deref() {
        None | Some("SSH_AUTH_SOCK") => crate::agent::agent_from_env(),
        Some("none") => None,
        Some(path) => Some(PathBuf::from(path)),
    };
    config.forward_agent = match &c.forward_agent {
        Some(ForwardAgent::Yes) => crate::agent::agent_from_env(),
        Some(ForwardAgent::Path(_)) => c.expanded.forward_agent_path.as_ref().map(PathBuf::from),
        Some(ForwardAgent::No) | None => None,
    };
    if c.pubkey_authentication != Some(PubkeyAuth::No) {
        let files = c.expanded.identity_files.clone().map_err(value)?;
        let files = if files.is_empty() {
            DEFAULT_IDENTITY_FILES
                .iter()
                .map(|f| seashell_config::tokens::tilde(f, &c.local.home))
                .collect()
        } else {
            files
        };
        let certificates = paths(&c.expanded.certificate_files.clone().map_err(value)?);
        let mut identities = Vec::new();
        for f in files {
            let path = PathBuf::from(&f);
            match seashell_keys::load_private_key(&path) {
                Ok(key) => {
                    identities.push(key.public_key());
                    config = config.key(key);
                    config = with_certificates(config, &path, &certificates)?;
                }
                Err(KeyFileError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                // Only the agent can use it; IdentitiesOnly still lets the agent offer it.
                Err(KeyFileError::Encrypted) => {
                    if let Some((public, _)) = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|text| seashell_keys::public_key_of_key_file(&text).ok())
                    {
                        identities.push(public);
                    }
                }
                Err(error) => return Err(SshConfigError::Key { path, error }),
            }
        }
        if c.identities_only == Some(true) {
            config.agent_keys_only = Some(identities);
        }
    }
    Ok(config)
}

fn paths(list: &[String]) -> Vec<PathBuf> {
    list.iter().map(PathBuf::from).collect()
}

/// Adds `key_path`'s certificates: its `-cert.pub` and every `CertificateFile` that certifies
/// it (the others belong to other identities).
fn with_certificates(
    mut config: ClientConfig,
    key_path: &Path,
    certificates: &[PathBuf],
) -> Result<ClientConfig, SshConfigError> {
    let next_to_it = seashell_keys::certificate_path_for(key_path);
    for cert in std::iter::once(&next_to_it).chain(certificates) {
        if cert.exists() {
            // A certificate of another key is not an error: it is for another identity.
            if let Ok(c) = config.clone().certificate_file(key_path, cert) {
                config = c;
            }
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use seashell_config::{MemoryEnv, Request, resolve_with};

    fn resolved(text: &str) -> ResolvedConfig {
        let env = MemoryEnv::default().file("/cfg", text);
        resolve_with(
            &env,
            &Request::new("h"),
            &SshConfigFiles::Only("/cfg".into()),
        )
        .unwrap()
    }

    #[test]
    fn maps_the_settings_the_adapters_act_on() {
        let c = resolved(
            "User bob\nCiphers aes256-gcm@openssh.com\nCompression yes\nServerAliveInterval 15\nServerAliveCountMax 2\nConnectTimeout 7\nRekeyLimit 1G 1h\nStrictHostKeyChecking accept-new\nUserKnownHostsFile /kh\nIdentityFile /no/such/key\n",
        );
        let cfg = client_config(&c).unwrap();
        assert_eq!(cfg.core.user, "bob");
        assert_eq!(cfg.core.ciphers, ["aes256-gcm@openssh.com"]);
        assert_eq!(
            cfg.core.compression.first().map(String::as_str),
            Some("zlib@openssh.com")
        );
        assert_eq!(cfg.keepalive_interval, Some(Duration::from_secs(15)));
        assert_eq!(cfg.keepalive_count_max, 2);
        assert_eq!(cfg.connect_timeout, Duration::from_secs(7));
        assert_eq!(cfg.core.rekey_bytes, 1 << 30);
        assert_eq!(cfg.core.rekey_interval, Some(Duration::from_secs(3600)));
        assert!(cfg.keys.is_empty());
        match cfg.host_key_policy {
            HostKeyPolicy::KnownHostsFiles(k) => {
                assert_eq!(k.user_files, [PathBuf::from("/kh")]);
                assert_eq!(k.strict, StrictHostKeyChecking::AcceptNew);
                assert!(!k.hash_new);
            }
            other => panic!("{other:?}"),
        }
        // UpdateHostKeys is off by default with a UserKnownHostsFile of one's own, as in ssh.
        assert!(cfg.update_host_keys.is_none());
    }

    #[test]
    fn defaults_and_bad_values() {
        let cfg = client_config(&resolved("Port 2\n")).unwrap();
        assert_eq!(cfg.core.user, "me");
        match cfg.host_key_policy {
            HostKeyPolicy::KnownHostsFiles(k) => {
                assert_eq!(k.strict, StrictHostKeyChecking::Yes);
                assert_eq!(
                    k.global_files,
                    [
                        PathBuf::from("/etc/ssh/ssh_known_hosts"),
                        PathBuf::from("/etc/ssh/ssh_known_hosts2")
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        // ssh's defaults: UpdateHostKeys with the default files, no agent forwarding.
        assert!(cfg.update_host_keys.is_some());
        assert!(cfg.forward_agent.is_none());
        let c = client_config(&resolved(
            "IdentityAgent none\nHashKnownHosts yes\nForwardAgent /fwd.sock\n",
        ))
        .unwrap();
        assert!(c.agent.is_none());
        assert_eq!(c.forward_agent, Some(PathBuf::from("/fwd.sock")));
        match c.host_key_policy {
            HostKeyPolicy::KnownHostsFiles(k) => assert!(k.hash_new),
            other => panic!("{other:?}"),
        }
        let bad = client_config(&resolved("IdentityFile ~/%z\n")).unwrap_err();
        assert!(bad.to_string().contains("unknown key %z"), "{bad}");
    }
}
