//! Server configuration: host keys, algorithms and OpenSSH's limits.

use super::{DEFAULT_MAX_PACKET, DEFAULT_MAX_WINDOW, DEFAULT_WINDOW, DEFAULT_WINDOW_BUDGET};
use crate::crypto::{CipherAlg, MacAlg, SecureRandom, SystemRandom};
use crate::error::Error;
use crate::kex::KexAlg;
use crate::keys::PrivateKey;
use crate::transport::MIN_PENDING_OUTPUT_PREAUTH;
use crate::transport::compress::CompressionAlg;
use std::sync::Arc;
use std::time::Duration;

/// How a server connection behaves. Share it as `Arc<ServerConfig>`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Host keys; each offers those of its signature algorithms that
    /// [`host_key_algorithms`](Self::host_key_algorithms) lists.
    pub host_keys: Vec<Arc<PrivateKey>>,
    /// Key-exchange methods, in preference order.
    pub kex_algorithms: Vec<String>,
    /// Host-key signature algorithms, in preference order (only those a host key supports
    /// are offered; OpenSSH `HostKeyAlgorithms`). SHA-1 `ssh-rsa` is offered only if added.
    pub host_key_algorithms: Vec<String>,
    /// Signature algorithms accepted for user keys (OpenSSH `PubkeyAcceptedAlgorithms`),
    /// advertised in `server-sig-algs`. SHA-1 `ssh-rsa` is accepted only if added.
    pub pubkey_accepted_algorithms: Vec<String>,
    /// Ciphers, in preference order.
    pub ciphers: Vec<String>,
    /// MACs for the non-AEAD ciphers, in preference order.
    pub macs: Vec<String>,
    /// Compression methods, in preference order. The default, `none,zlib@openssh.com`, is
    /// sshd's `Compression yes`; `["none"]` is its `Compression no`.
    pub compression: Vec<String>,
    /// Our identification string, without CR LF.
    pub server_id: String,
    /// Authentication methods offered, in order.
    pub auth_methods: Vec<String>,
    /// A banner sent before authentication, if any.
    pub banner: Option<String>,
    /// Failed attempts allowed; the next failure disconnects (OpenSSH `MaxAuthTries`).
    pub max_auth_tries: u32,
    /// Time allowed from connect to authenticated (OpenSSH `LoginGraceTime`).
    pub login_grace_time: Duration,
    /// The least time between an attempt and its failure reply (OpenSSH waits at least 5 ms,
    /// plus a per-user amount, so failures do not reveal which users exist).
    pub auth_failure_delay: Duration,
    /// Most session channels open at once (OpenSSH `MaxSessions`).
    pub max_sessions: usize,
    /// The receive window each channel starts with.
    pub window_size: u32,
    /// The largest each channel's receive window grows to, doubling while the peer is limited
    /// by it (the window then covers the bandwidth-delay product of a long link). At most
    /// [`window_size`](Self::window_size): windows never grow. Default
    /// [`DEFAULT_MAX_WINDOW`](super::DEFAULT_MAX_WINDOW) (16 MiB); at most
    /// [`MAX_WINDOW_LIMIT`](super::MAX_WINDOW_LIMIT).
    pub max_window_size: u32,
    /// The most the receive windows of all channels of the connection may add up to through
    /// growth (each channel's starting window is always granted). Default
    /// [`DEFAULT_WINDOW_BUDGET`](super::DEFAULT_WINDOW_BUDGET) (64 MiB); 0: windows never grow.
    pub window_budget: u64,
    /// The largest channel data packet we accept.
    pub max_packet_size: u32,
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
    /// The random source for cookies and padding.
    pub rng: Arc<dyn SecureRandom>,
    /// Groups for `diffie-hellman-group-exchange-*` (e.g. parsed from an OpenSSH `moduli`
    /// file with [`crate::kex::moduli::parse_moduli`]); `None` uses the built-in RFC 3526
    /// groups 14 to 18.
    pub gex_groups: Option<Arc<Vec<crate::kex::dh::Modp>>>,
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
    /// Announce every host key to authenticated clients (`hostkeys-00@openssh.com`), so they
    /// can learn keys they have not seen (OpenSSH's `UpdateHostKeys`). Default: on.
    pub announce_host_keys: bool,
    /// Advertise EXT_INFO `agent-forward` (RFC 9987), so that clients ask for agent
    /// forwarding with `agent-req` ([`SessionRequestKind::AgentReq`](crate::SessionRequestKind::AgentReq))
    /// rather than `auth-agent-req@openssh.com`. Default: on (as OpenSSH 10.3+).
    pub advertise_agent_forward: bool,
}

impl ServerConfig {
    /// The defaults with these host keys: every supported algorithm, OpenSSH's limits.
    pub fn new(host_keys: Vec<Arc<PrivateKey>>) -> ServerConfig {
        ServerConfig {
            host_keys,
            kex_algorithms: KexAlg::SERVER_DEFAULTS
                .iter()
                .map(|k| k.name().to_owned())
                .collect(),
            host_key_algorithms: super::default_signature_algorithms(),
            pubkey_accepted_algorithms: super::default_pubkey_algorithms(),
            ciphers: CipherAlg::DEFAULTS
                .iter()
                .map(|c| c.name().to_owned())
                .collect(),
            macs: MacAlg::SERVER_DEFAULTS
                .iter()
                .map(|m| m.name().to_owned())
                .collect(),
            compression: super::compression_names(&CompressionAlg::DEFAULTS),
            server_id: concat!("SSH-2.0-Seashell_", env!("CARGO_PKG_VERSION")).to_owned(),
            auth_methods: vec![
                "publickey".into(),
                "password".into(),
                "keyboard-interactive".into(),
            ],
            banner: None,
            max_auth_tries: 6,
            login_grace_time: Duration::from_secs(120),
            auth_failure_delay: Duration::from_millis(5),
            max_sessions: 10,
            window_size: DEFAULT_WINDOW,
            max_window_size: DEFAULT_MAX_WINDOW,
            window_budget: DEFAULT_WINDOW_BUDGET,
            max_packet_size: DEFAULT_MAX_PACKET,
            rekey_bytes: u64::MAX,
            rekey_interval: None,
            keepalive_interval: None,
            keepalive_count_max: 3,
            idle_timeout: None,
            announce_host_keys: true,
            advertise_agent_forward: true,
            max_pending_output_preauth: crate::transport::DEFAULT_MAX_PENDING_OUTPUT_PREAUTH,
            max_pending_output: crate::transport::DEFAULT_MAX_PENDING_OUTPUT,
            rng: Arc::new(SystemRandom::new()),
            gex_groups: None,
        }
    }

    /// The host-key algorithms actually offered: the configured ones some host key supports.
    pub fn offered_host_key_algorithms(&self) -> Vec<String> {
        self.host_key_algorithms
            .iter()
            .filter(|a| {
                self.host_keys
                    .iter()
                    .any(|k| k.public_key().signature_algorithms().contains(&a.as_str()))
            })
            .cloned()
            .collect()
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), Error> {
        super::check_signature_algorithms(
            &self.host_key_algorithms,
            "unsupported or empty host key algorithm list",
        )?;
        super::check_signature_algorithms(
            &self.pubkey_accepted_algorithms,
            "unsupported or empty public key algorithm list",
        )?;
        // The banner goes out before authentication, with the key exchange and the replies.
        if self
            .banner
            .as_ref()
            .is_some_and(|b| b.len() + MIN_PENDING_OUTPUT_PREAUTH > self.max_pending_output_preauth)
        {
            return Err(super::bad_config(
                "banner too long for max_pending_output_preauth (keep 16 KiB beside it)",
            ));
        }
        if self.offered_host_key_algorithms().is_empty() {
            return Err(super::bad_config(
                "no host key supports any configured host key algorithm",
            ));
        }
        super::validate_common(&super::Common {
            kex: &self.kex_algorithms,
            ciphers: &self.ciphers,
            macs: &self.macs,
            compression: &self.compression,
            window: self.window_size,
            max_window: self.max_window_size,
            max_packet: self.max_packet_size,
            ident: &self.server_id,
            output: (self.max_pending_output_preauth, self.max_pending_output),
        })
    }
}
