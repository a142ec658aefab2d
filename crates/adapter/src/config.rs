//! What a client needs to connect, whatever the I/O: the core's configuration plus credentials and the
//! host-key policy.

use crate::error::Error;
use crate::host_keys::HostKeyPolicy;
use seashell_proto::PrivateKey;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// A password source asked when the server accepts passwords and none was configured.
pub type PasswordPrompt = Arc<dyn Fn(&str) -> Option<Zeroizing<String>> + Send + Sync>;

/// Configuration of a client connection (every adapter takes this type).
#[derive(Clone)]
pub struct ClientConfig {
    /// The core's configuration (user, algorithms, limits).
    pub core: seashell_proto::ClientConfig,
    /// Keys to try for `publickey`, in order.
    pub keys: Vec<Arc<PrivateKey>>,
    /// The ssh-agent socket whose keys are tried after [`keys`](Self::keys) (signatures
    /// come from the agent, asked only once the server accepted a key). Default:
    /// `SSH_AUTH_SOCK`, as ssh and paramiko; `None` uses no agent (OpenSSH's
    /// `IdentityAgent none`, or `IdentitiesOnly yes`).
    pub agent: Option<std::path::PathBuf>,
    /// Offer only these of the agent's keys (OpenSSH's `IdentitiesOnly yes`: the agent's
    /// keys that match the identity files). `None` (the default): every agent key.
    pub agent_keys_only: Option<Vec<seashell_proto::PublicKey>>,
    /// Forward this agent socket to the server (OpenSSH's `ForwardAgent`): each session
    /// asks for agent forwarding, and the agent channels the server opens are connected to
    /// it. Default: `None` (off).
    pub forward_agent: Option<std::path::PathBuf>,
    /// A password for `password` authentication.
    pub password: Option<Zeroizing<String>>,
    /// Asked for a password when the server accepts passwords and none is set.
    pub password_prompt: Option<PasswordPrompt>,
    /// How the host key is trusted (default: `~/.ssh/known_hosts`, strict).
    pub host_key_policy: HostKeyPolicy,
    /// Reorder the core's host-key algorithms per host from known_hosts, as `ssh` does when
    /// `HostKeyAlgorithms` is not set ([`HostKeyPolicy::host_key_algorithms`]): certificate
    /// algorithms first for hosts with a `@cert-authority` line. Default: on.
    pub order_host_key_algorithms: bool,
    /// OpenSSH's `UpdateHostKeys=yes`: after authentication, host keys the server proves it
    /// holds are added to the first user file of these settings, and recorded keys it no
    /// longer announces are removed (lines naming only this host). Only when the connection's
    /// host key was trusted through a plain known_hosts entry. Default: off.
    pub update_host_keys: Option<crate::host_keys::KnownHostsFiles>,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Probe the server after this long without hearing from it (OpenSSH's
    /// `ServerAliveInterval`); `None` (the default) never probes.
    pub keepalive_interval: Option<Duration>,
    /// Probes left unanswered before the connection is declared dead (OpenSSH's
    /// `ServerAliveCountMax`, default 3).
    pub keepalive_count_max: u32,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("core", &self.core)
            .field("keys", &self.keys.len())
            .field("agent", &self.agent)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("host_key_policy", &self.host_key_policy)
            .field("keepalive_interval", &self.keepalive_interval)
            .field("keepalive_count_max", &self.keepalive_count_max)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Defaults for `user`: no credentials yet, strict `~/.ssh/known_hosts`.
    pub fn new(user: impl Into<String>) -> ClientConfig {
        ClientConfig {
            core: seashell_proto::ClientConfig::new(user),
            keys: Vec::new(),
            agent: crate::agent::agent_from_env(),
            agent_keys_only: None,
            forward_agent: None,
            password: None,
            password_prompt: None,
            host_key_policy: HostKeyPolicy::default_known_hosts(),
            order_host_key_algorithms: true,
            update_host_keys: None,
            connect_timeout: Duration::from_secs(30),
            keepalive_interval: None,
            keepalive_count_max: 3,
        }
    }

    /// Probes the server after `interval` of silence and gives up after `count_max`
    /// unanswered probes (OpenSSH's `ServerAliveInterval` and `ServerAliveCountMax`).
    pub fn keepalive(mut self, interval: Duration, count_max: u32) -> Self {
        self.keepalive_interval = Some(interval);
        self.keepalive_count_max = count_max;
        self
    }

    /// The core's configuration as the connection is built with it: [`core`](Self::core)
    /// with the adapter-level settings (keepalive) applied.
    pub fn core_config(&self) -> seashell_proto::ClientConfig {
        let mut core = self.core.clone();
        core.keepalive_interval = self.keepalive_interval;
        core.keepalive_count_max = self.keepalive_count_max;
        core
    }

    /// [`core_config`](Self::core_config) for a connection to `host:port`: the host-key
    /// algorithms reordered from known_hosts when
    /// [`order_host_key_algorithms`](Self::order_host_key_algorithms) is on.
    pub fn core_config_for(&self, host: &str, port: u16) -> seashell_proto::ClientConfig {
        let mut core = self.core_config();
        if self.order_host_key_algorithms {
            core.host_key_algorithms =
                self.host_key_policy
                    .host_key_algorithms(host, port, &core.host_key_algorithms);
        }
        core
    }

    /// Loads an OpenSSH private key file and its certificate (`path-cert.pub`, as `ssh -i`
    /// picks it up) if there is one, and adds the certified key first, then the plain key.
    ///
    /// # Errors
    /// As [`key_file`](Self::key_file); an unreadable or foreign certificate file next to the
    /// key is an error too.
    pub fn key_file_with_certificate(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let cert_path = seashell_keys::certificate_path_for(path);
        let this = self.key_file(path)?;
        if !cert_path.exists() {
            return Ok(this);
        }
        this.certificate_file(path, &cert_path)
    }

    /// Loads the private key at `key_path` again and adds it presented with the certificate
    /// at `cert_path` (OpenSSH `CertificateFile`), before any key added so far.
    ///
    /// # Errors
    /// [`Error::KeyFile`] if either file cannot be read or the certificate certifies another
    /// key.
    pub fn certificate_file(
        mut self,
        key_path: impl AsRef<Path>,
        cert_path: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let cert = seashell_keys::load_certificate(cert_path.as_ref())?;
        let key = seashell_keys::load_private_key(key_path.as_ref())?;
        let certified = key
            .with_certificate(cert)
            .map_err(|_| seashell_keys::KeyFileError::Mismatch)?;
        self.keys.insert(0, Arc::new(certified));
        Ok(self)
    }

    /// Adds an in-memory key for `publickey` authentication.
    pub fn key(mut self, key: PrivateKey) -> Self {
        self.keys.push(Arc::new(key));
        self
    }

    /// Loads an OpenSSH private key file and adds it.
    ///
    /// # Errors
    /// [`Error::KeyFile`] if the file cannot be read or used; an encrypted key gives
    /// [`seashell_keys::KeyFileError::Encrypted`] (use
    /// [`key_file_with_passphrase`](Self::key_file_with_passphrase)).
    pub fn key_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let key = seashell_keys::load_private_key(path.as_ref())?;
        Ok(self.key(key))
    }

    /// Loads an OpenSSH private key file, decrypting it with `passphrase` if it is
    /// encrypted, and adds it. The passphrase is not kept.
    ///
    /// # Errors
    /// [`Error::KeyFile`] as [`key_file`](Self::key_file), and with
    /// [`seashell_keys::KeyFileError::BadPassphrase`] for a wrong passphrase.
    pub fn key_file_with_passphrase(
        self,
        path: impl AsRef<Path>,
        passphrase: &[u8],
    ) -> Result<Self, Error> {
        let key = seashell_keys::load_private_key_with_passphrase(path.as_ref(), passphrase)?;
        Ok(self.key(key))
    }

    /// Uses the agent at `path` (instead of `SSH_AUTH_SOCK`).
    pub fn agent(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.agent = Some(path.into());
        self
    }

    /// Forwards the agent at `path` (typically `SSH_AUTH_SOCK`, see
    /// [`agent_from_env`](crate::agent_from_env)) to the server, as `ssh -A`.
    pub fn forward_agent(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.forward_agent = Some(path.into());
        self
    }

    /// Uses no agent: only [`keys`](Self::keys) are offered (OpenSSH's
    /// `IdentityAgent none`; `IdentitiesOnly yes` has the same effect here).
    pub fn no_agent(mut self) -> Self {
        self.agent = None;
        self
    }

    /// Sets the password for `password` authentication.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Zeroizing::new(password.into()));
        self
    }

    /// Sets the host-key policy.
    pub fn host_key_policy(mut self, policy: HostKeyPolicy) -> Self {
        self.host_key_policy = policy;
        self
    }

    /// Changes the core configuration (algorithms, limits).
    pub fn with_core(
        mut self,
        f: impl FnOnce(seashell_proto::ClientConfig) -> seashell_proto::ClientConfig,
    ) -> Self {
        self.core = f(self.core);
        self
    }
}
