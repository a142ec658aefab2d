//! Configuration of both roles: algorithms, limits and the random source.

mod server;
mod spec;

pub use server::ServerConfig;
pub use spec::{AlgorithmSlot, apply_algorithm_spec, convtime, wildcard_match};

use crate::crypto::{CipherAlg, MacAlg, SecureRandom, SystemRandom};
use crate::error::{ApiMisuse, Error};
use crate::kex::KexAlg;
use crate::transport::compress::CompressionAlg;
use crate::transport::{
    DEFAULT_MAX_PENDING_OUTPUT, DEFAULT_MAX_PENDING_OUTPUT_PREAUTH, MIN_PENDING_OUTPUT,
    MIN_PENDING_OUTPUT_PREAUTH,
};
use std::sync::Arc;
use std::time::Duration;

/// Every signature algorithm we implement, for host keys and user keys alike, in default
/// preference order, then the legacy SHA-1 `ssh-rsa` that no default list holds. This is the
/// list `+ssh-rsa`-style edits ([`apply_algorithm_spec`]) choose from.
pub const HOST_KEY_ALGORITHMS: [&str; 7] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
];

/// The default signature algorithms, for host keys (OpenSSH `HostKeyAlgorithms`) and user keys
/// (`PubkeyAcceptedAlgorithms`), in OpenSSH 10's order. SHA-1 `ssh-rsa` is left out, as in
/// OpenSSH since 8.8: a client or server uses it only when it is added to the configuration.
pub const DEFAULT_HOST_KEY_ALGORITHMS: [&str; 6] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
];

/// The default list as owned strings.
pub(crate) fn default_signature_algorithms() -> Vec<String> {
    DEFAULT_HOST_KEY_ALGORITHMS
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// The default user-key signature algorithms (OpenSSH `PubkeyAcceptedAlgorithms`): the
/// certificate algorithms of the default list first, then the plain ones, as OpenSSH 10.
pub(crate) fn default_pubkey_algorithms() -> Vec<String> {
    let certs = crate::keys::cert::CERT_ALGORITHMS
        .iter()
        .filter(|a| **a != "ssh-rsa-cert-v01@openssh.com");
    certs
        .chain(DEFAULT_HOST_KEY_ALGORITHMS.iter())
        .chain(crate::keys::sk::SK_ALGORITHMS.iter())
        .map(|s| (*s).to_owned())
        .collect()
}

/// Whether `name` is a signature algorithm we implement: a plain one of
/// [`HOST_KEY_ALGORITHMS`] or a certificate one of
/// [`CERT_ALGORITHMS`](crate::keys::cert::CERT_ALGORITHMS).
pub fn is_signature_algorithm(name: &str) -> bool {
    HOST_KEY_ALGORITHMS.contains(&name)
        || crate::keys::cert::CERT_ALGORITHMS.contains(&name)
        || crate::keys::sk::SK_ALGORITHMS.contains(&name)
        || name == crate::keys::mldsa::SSH_MLDSA44_ED25519
}

/// Checks a signature algorithm list: non-empty, every name implemented.
pub(crate) fn check_signature_algorithms(list: &[String], what: &'static str) -> Result<(), Error> {
    if list.is_empty() || list.iter().any(|n| !is_signature_algorithm(n)) {
        return Err(bad_config(what));
    }
    Ok(())
}

/// Default local channel window: 2 MiB, as OpenSSH.
pub const DEFAULT_WINDOW: u32 = 2 * 1024 * 1024;
/// Default maximum channel packet we accept: 32 KiB, as OpenSSH.
pub const DEFAULT_MAX_PACKET: u32 = 32 * 1024;
/// Default largest a channel's receive window grows to while the peer is limited by it:
/// 16 MiB, 320 MB/s on one channel at 50 ms round trip (see `docs/performance.md`).
pub const DEFAULT_MAX_WINDOW: u32 = 16 * 1024 * 1024;
/// Default most all channels' receive windows of one connection add up to through growth:
/// 64 MiB.
pub const DEFAULT_WINDOW_BUDGET: u64 = 64 * 1024 * 1024;
/// The largest `max_window_size` accepted: 1 GiB, far from the 32-bit window counters.
pub const MAX_WINDOW_LIMIT: u32 = 1024 * 1024 * 1024;

/// How a client connection behaves. Build it with [`ClientConfig::new`] and the builder
/// methods, then share it as `Arc<ClientConfig>`.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The user name to authenticate as.
    pub user: String,
    /// Key-exchange methods, in preference order.
    pub kex_algorithms: Vec<String>,
    /// Host-key signature algorithms, in preference order (OpenSSH `HostKeyAlgorithms`).
    pub host_key_algorithms: Vec<String>,
    /// Signature algorithms our user keys may sign with (OpenSSH `PubkeyAcceptedAlgorithms`),
    /// in preference order; the first the server lists in `server-sig-algs` is used.
    pub pubkey_accepted_algorithms: Vec<String>,
    /// Ciphers (both directions), in preference order.
    pub ciphers: Vec<String>,
    /// MACs for the non-AEAD ciphers, in preference order.
    pub macs: Vec<String>,
    /// Compression methods, in preference order: `none`, `zlib@openssh.com` (after
    /// authentication) and `zlib`. The default, `none,zlib@openssh.com`, is OpenSSH's without
    /// `-C`; [`CompressionAlg::PREFERRED`] is its `-C`.
    pub compression: Vec<String>,
    /// Our identification string, without CR LF.
    pub client_id: String,
    /// The receive window each channel starts with.
    pub window_size: u32,
    /// The largest each channel's receive window grows to, doubling while the peer is limited
    /// by it (the window then covers the bandwidth-delay product of a long link). At most
    /// [`window_size`](Self::window_size): windows never grow. Default
    /// [`DEFAULT_MAX_WINDOW`] (16 MiB); at most [`MAX_WINDOW_LIMIT`].
    pub max_window_size: u32,
    /// The most the receive windows of all channels of the connection may add up to through
    /// growth (each channel's starting window is always granted). Default
    /// [`DEFAULT_WINDOW_BUDGET`] (64 MiB); 0: windows never grow.
    pub window_budget: u64,
    /// The largest channel data packet we accept.
    pub max_packet_size: u32,
    /// Time allowed from connect to authenticated.
    pub handshake_timeout: Duration,
    /// Rekey after this many bytes in either direction (OpenSSH's `RekeyLimit`). The cipher's
    /// own limit applies too, whichever is lower: 1 GiB for chacha20-poly1305 and 3DES, 64 GiB
    /// for AES (OpenSSH's defaults). Default: no limit beyond the cipher's.
    pub rekey_bytes: u64,
    /// Rekey once the keys are this old (OpenSSH `RekeyLimit`'s time; none by default).
    pub rekey_interval: Option<Duration>,
    /// Send a keepalive after this long without a packet from the peer (OpenSSH's
    /// `ServerAliveInterval` on clients, `ClientAliveInterval` on servers). None: never.
    pub keepalive_interval: Option<Duration>,
    /// Keepalives that may go unanswered before the peer is declared dead and the connection
    /// ends with [`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout) (OpenSSH's
    /// `ServerAliveCountMax` / `ClientAliveCountMax`; default 3).
    pub keepalive_count_max: u32,
    /// End the connection after this long without a packet from the peer
    /// ([`Error::IdleTimeout`](crate::Error::IdleTimeout)). None: never.
    pub idle_timeout: Option<Duration>,
    /// Most bytes the connection holds for the peer before user authentication (what
    /// [`pending_output`](crate::Connection::pending_output) reports, plus messages held
    /// during a key exchange). A reply the peer's traffic calls for beyond it ends the
    /// connection with [`PeerMisbehaved::OutputFlood`](crate::error::PeerMisbehaved::OutputFlood)
    /// (and a DISCONNECT, which may exceed it). Default
    /// [`transport::DEFAULT_MAX_PENDING_OUTPUT_PREAUTH`](crate::transport::DEFAULT_MAX_PENDING_OUTPUT_PREAUTH)
    /// (64 KiB); at least 16 KiB.
    pub max_pending_output_preauth: usize,
    /// The same cap once authenticated. Channel data fills at most half of it (writes are cut
    /// short, never refused with an error). Default
    /// [`transport::DEFAULT_MAX_PENDING_OUTPUT`](crate::transport::DEFAULT_MAX_PENDING_OUTPUT) (8 MiB);
    /// at least 1 MiB and at least `max_pending_output_preauth`.
    pub max_pending_output: usize,
    /// The random source for cookies and padding.
    pub rng: Arc<dyn SecureRandom>,
}

impl ClientConfig {
    /// The defaults for `user`: every supported algorithm in OpenSSH's order, OpenSSH's limits.
    pub fn new(user: impl Into<String>) -> ClientConfig {
        ClientConfig {
            user: user.into(),
            kex_algorithms: KexAlg::DEFAULTS
                .iter()
                .map(|k| k.name().to_owned())
                .collect(),
            host_key_algorithms: default_signature_algorithms(),
            pubkey_accepted_algorithms: default_pubkey_algorithms(),
            ciphers: CipherAlg::DEFAULTS
                .iter()
                .map(|c| c.name().to_owned())
                .collect(),
            macs: MacAlg::DEFAULTS
                .iter()
                .map(|m| m.name().to_owned())
                .collect(),
            compression: compression_names(&CompressionAlg::DEFAULTS),
            client_id: concat!("SSH-2.0-Seashell_", env!("CARGO_PKG_VERSION")).to_owned(),
            window_size: DEFAULT_WINDOW,
            max_window_size: DEFAULT_MAX_WINDOW,
            window_budget: DEFAULT_WINDOW_BUDGET,
            max_packet_size: DEFAULT_MAX_PACKET,
            handshake_timeout: Duration::from_secs(120),
            rekey_bytes: u64::MAX,
            rekey_interval: None,
            keepalive_interval: None,
            keepalive_count_max: 3,
            idle_timeout: None,
            max_pending_output_preauth: DEFAULT_MAX_PENDING_OUTPUT_PREAUTH,
            max_pending_output: DEFAULT_MAX_PENDING_OUTPUT,
            rng: Arc::new(SystemRandom::new()),
        }
    }

    /// Sets the MACs, in preference order.
    pub fn macs<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.macs = names.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Sets the compression methods, in preference order.
    pub fn compression<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.compression = names.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Sets the ciphers, in preference order.
    pub fn ciphers<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.ciphers = names.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Sets the key-exchange methods, in preference order.
    pub fn kex_algorithms<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.kex_algorithms = names.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Sets the host-key algorithms, in preference order.
    pub fn host_key_algorithms<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.host_key_algorithms = names.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Sets the signature algorithms our user keys may sign with, in preference order.
    pub fn pubkey_accepted_algorithms<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.pubkey_accepted_algorithms = names.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Checks that every named algorithm is one we implement and every list is non-empty.
    pub fn validate(&self) -> Result<(), Error> {
        check_signature_algorithms(
            &self.host_key_algorithms,
            "unsupported or empty host key algorithm list",
        )?;
        check_signature_algorithms(
            &self.pubkey_accepted_algorithms,
            "unsupported or empty public key algorithm list",
        )?;
        validate_common(&Common {
            kex: &self.kex_algorithms,
            ciphers: &self.ciphers,
            macs: &self.macs,
            compression: &self.compression,
            window: self.window_size,
            max_window: self.max_window_size,
            max_packet: self.max_packet_size,
            ident: &self.client_id,
            output: (self.max_pending_output_preauth, self.max_pending_output),
        })
    }
}

/// What both roles' configurations must get right.
pub(crate) struct Common<'a> {
    pub kex: &'a [String],
    pub ciphers: &'a [String],
    pub macs: &'a [String],
    pub compression: &'a [String],
    pub window: u32,
    pub max_window: u32,
    pub max_packet: u32,
    pub ident: &'a str,
    /// The output caps before and after authentication.
    pub output: (usize, usize),
}

/// The wire names of `algs`, as a configuration list.
pub fn compression_names(algs: &[CompressionAlg]) -> Vec<String> {
    algs.iter().map(|c| c.name().to_owned()).collect()
}

pub(crate) fn bad_config(what: &'static str) -> Error {
    Error::ApiMisuse(ApiMisuse::BadConfig(what))
}

/// Checks the algorithm lists, the channel limits and the identification string.
pub(crate) fn validate_common(c: &Common<'_>) -> Result<(), Error> {
    if c.kex.is_empty() || c.kex.iter().any(|n| KexAlg::from_name(n).is_none()) {
        return Err(bad_config(
            "unsupported or empty key-exchange algorithm list",
        ));
    }
    if c.ciphers.is_empty() || c.ciphers.iter().any(|n| CipherAlg::from_name(n).is_none()) {
        return Err(bad_config("unsupported or empty cipher list"));
    }
    if c.macs.iter().any(|n| MacAlg::from_name(n).is_none()) {
        return Err(bad_config("unsupported MAC"));
    }
    if c.compression.is_empty()
        || c.compression
            .iter()
            .any(|n| CompressionAlg::from_name(n).is_none())
    {
        return Err(bad_config("unsupported or empty compression list"));
    }
    if c.max_packet < 1024 || c.window < c.max_packet {
        return Err(bad_config(
            "window must be at least the max packet size, which must be >= 1024",
        ));
    }
    if c.max_window > MAX_WINDOW_LIMIT {
        return Err(bad_config("max window size must be at most 1 GiB"));
    }
    let (preauth, authenticated) = c.output;
    if preauth < MIN_PENDING_OUTPUT_PREAUTH
        || authenticated < MIN_PENDING_OUTPUT
        || authenticated < preauth
    {
        return Err(bad_config(
            "output caps: pre-auth at least 16 KiB, post-auth at least 1 MiB and the pre-auth one",
        ));
    }
    if !c.ident.starts_with("SSH-2.0-") || c.ident.len() > 253 {
        return Err(bad_config(
            "identification must start with SSH-2.0- and fit 255 bytes",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_specs() {
        let all = ["a-1", "b-2", "c-3"];
        let cur: Vec<String> = vec!["a-1".into(), "b-2".into()];
        assert_eq!(apply_algorithm_spec("c-3", &cur, &all).unwrap(), ["c-3"]);
        assert_eq!(
            apply_algorithm_spec("+c-3", &cur, &all).unwrap(),
            ["a-1", "b-2", "c-3"]
        );
        assert_eq!(apply_algorithm_spec("-a*", &cur, &all).unwrap(), ["b-2"]);
        assert_eq!(
            apply_algorithm_spec("^c-3", &cur, &all).unwrap(),
            ["c-3", "a-1", "b-2"]
        );
        assert!(apply_algorithm_spec("zzz", &cur, &all).is_err());
        assert!(apply_algorithm_spec("-a-1,b-2", &cur, &all).is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("aes*", "aes128-gcm@openssh.com"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("x*", "y"));
    }

    #[test]
    fn ssh_rsa_is_supported_but_never_default() {
        let c = ClientConfig::new("me");
        assert_eq!(c.host_key_algorithms, DEFAULT_HOST_KEY_ALGORITHMS);
        assert_eq!(
            c.pubkey_accepted_algorithms[8..14],
            DEFAULT_HOST_KEY_ALGORITHMS
        );
        assert_eq!(
            c.pubkey_accepted_algorithms[0],
            "ssh-ed25519-cert-v01@openssh.com"
        );
        assert!(!DEFAULT_HOST_KEY_ALGORITHMS.contains(&"ssh-rsa"));
        let added =
            apply_algorithm_spec("+ssh-rsa", &c.host_key_algorithms, &HOST_KEY_ALGORITHMS).unwrap();
        assert_eq!(added.last().map(String::as_str), Some("ssh-rsa"));
        let c = c
            .host_key_algorithms(&added)
            .pubkey_accepted_algorithms(&["ssh-rsa"]);
        c.validate().unwrap();
        assert!(
            ClientConfig::new("me")
                .host_key_algorithms(&["ssh-dss"])
                .validate()
                .is_err()
        );
        assert!(
            ClientConfig::new("me")
                .pubkey_accepted_algorithms::<&str>(&[])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn window_growth_limits() {
        let mut c = ClientConfig::new("me");
        assert_eq!(
            (c.window_size, c.max_window_size, c.window_budget),
            (DEFAULT_WINDOW, DEFAULT_MAX_WINDOW, DEFAULT_WINDOW_BUDGET)
        );
        // A cap below the starting window only means no growth.
        c.max_window_size = 1024;
        c.validate().unwrap();
        c.max_window_size = MAX_WINDOW_LIMIT + 1;
        assert!(c.validate().is_err());
        let mut s = ServerConfig::new(Vec::new());
        s.max_window_size = u32::MAX;
        assert!(matches!(s.validate(), Err(Error::ApiMisuse(_))));
    }

    #[test]
    fn default_config_is_valid() {
        ClientConfig::new("me").validate().unwrap();
        assert!(
            ClientConfig::new("me")
                .ciphers(&["aes128-cbc"])
                .validate()
                .is_ok()
        );
        assert!(
            !ClientConfig::new("me")
                .ciphers
                .iter()
                .any(|c| c.ends_with("-cbc"))
        );
        assert!(
            ClientConfig::new("me")
                .ciphers(&["des-cbc"])
                .validate()
                .is_err()
        );
        assert_eq!(
            ClientConfig::new("me").compression,
            ["none", "zlib@openssh.com"]
        );
        let c = ClientConfig::new("me").compression(&["zlib", "none"]);
        c.validate().unwrap();
        assert!(c.compression(&["gzip"]).validate().is_err());
        let empty: [&str; 0] = [];
        assert!(
            ClientConfig::new("me")
                .compression(&empty)
                .validate()
                .is_err()
        );
    }
}
