//! `-o` options for `seashell serve`, named as in `sshd_config` (case-insensitive names,
//! `Name=Value` or `Name Value`).

use super::session_options::SessionOptions;
use crate::units::{parse_rekey_limit, parse_time};
use seashell_adapter::{
    AdmissionConfig, ForwardAllow, ForwardingPolicy, GatewayPorts, HostPort, Permits,
};
use seashell_proto::ServerConfig;
use seashell_proto::config::{AlgorithmSlot, compression_names};
use seashell_proto::kex::dh::Modp;
use seashell_proto::kex::moduli::parse_moduli;
use seashell_proto::transport::compress::CompressionAlg;
use std::time::Duration;

/// What `-o` options can change: the core's server configuration and which authentication
/// methods are enabled.
#[derive(Debug, Clone)]
pub struct Tunables {
    /// The core configuration (algorithms, limits, banner).
    pub config: ServerConfig,
    /// `PubkeyAuthentication`.
    pub pubkey: bool,
    /// `PasswordAuthentication` (only with a password file).
    pub password: bool,
    /// `KbdInteractiveAuthentication` (only with a password file).
    pub kbd_interactive: bool,
    /// `AllowTcpForwarding`, `AllowStreamLocalForwarding`, `GatewayPorts`, `PermitOpen`,
    /// `PermitListen`, with sshd's defaults (ports below 1024 only when running as root).
    pub forwarding: ForwardingPolicy,
    /// `DisableForwarding`: no forwarding at all, whatever the other options say.
    pub disable_forwarding: bool,
    /// `MaxStartups`, `PerSourceMaxStartups`, `PerSourceNetBlockSize`,
    /// `PerSourcePenalties`, `PerSourcePenaltyExemptList`, `MaxConnections`.
    pub admission: AdmissionConfig,
    /// `ProxyProtocol` (Seashell's own): connections come through a load balancer that
    /// starts each with a PROXY protocol v1/v2 header naming the real client.
    pub proxy_protocol: bool,
    /// `Subsystem`, `ForceCommand`, `ChrootDirectory`.
    pub sessions: SessionOptions,
}

impl Tunables {
    /// The defaults: the core's defaults, every method enabled, sshd's forwarding.
    pub fn new(config: ServerConfig) -> Tunables {
        Tunables {
            config,
            pubkey: true,
            password: true,
            kbd_interactive: true,
            forwarding: ForwardingPolicy {
                privileged_ports: rustix::process::geteuid().is_root(),
                ..ForwardingPolicy::default()
            },
            disable_forwarding: false,
            admission: AdmissionConfig::default(),
            proxy_protocol: false,
            sessions: SessionOptions::default(),
        }
    }

    /// The forwarding policy the options give, before any key narrows it.
    pub fn forwarding_policy(&self) -> ForwardingPolicy {
        if self.disable_forwarding {
            ForwardingPolicy::deny_all()
        } else {
            self.forwarding.clone()
        }
    }
}

/// `LoginGraceTime 0` means no limit; the core needs a finite deadline, so use this.
const NO_LIMIT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Splits `Name=Value` or `Name Value` into the lower-cased name and the value.
pub fn split(option: &str) -> Result<(String, String), String> {
    let option = option.trim();
    let at = option
        .find(|c: char| c == '=' || c.is_ascii_whitespace())
        .ok_or_else(|| format!("option \"{option}\" has no value"))?;
    let name = option.get(..at).unwrap_or_default().to_ascii_lowercase();
    let rest = option.get(at..).unwrap_or_default();
    let value = rest
        .trim_start()
        .strip_prefix('=')
        .unwrap_or(rest)
        .trim()
        .to_owned();
    if value.is_empty() {
        return Err(format!("option \"{option}\" has no value"));
    }
    Ok((name, value))
}

/// Applies one `-o` option. Unknown names and bad values are errors.
pub fn apply(t: &mut Tunables, option: &str) -> Result<(), String> {
    let (name, value) = split(option)?;
    let bad = |what: &str| format!("{name}: {what}: \"{value}\"");
    if t.admission
        .set(&name, &value)
        .map_err(|e| bad(&e.to_string()))?
    {
        return Ok(());
    }
    if t.sessions.apply(&name, &value)? {
        return Ok(());
    }
    match name.as_str() {
        "ciphers" => t.config.ciphers = AlgorithmSlot::Cipher.apply(&value, &t.config.ciphers)?,
        "kexalgorithms" => {
            t.config.kex_algorithms = AlgorithmSlot::Kex.apply(&value, &t.config.kex_algorithms)?
        }
        "macs" => t.config.macs = AlgorithmSlot::Mac.apply(&value, &t.config.macs)?,
        "hostkeyalgorithms" => {
            t.config.host_key_algorithms =
                AlgorithmSlot::HostKey.apply(&value, &t.config.host_key_algorithms)?
        }
        "pubkeyacceptedalgorithms" | "pubkeyacceptedkeytypes" => {
            t.config.pubkey_accepted_algorithms =
                AlgorithmSlot::PubkeyAccepted.apply(&value, &t.config.pubkey_accepted_algorithms)?
        }
        "compression" => {
            // sshd: `yes` (or the legacy `delayed`) means zlib@openssh.com after
            // authentication; `no` means none. Beyond sshd: an algorithm list, edited like
            // `Ciphers` (`zlib,none`, `+zlib`).
            t.config.compression = match value.to_ascii_lowercase().as_str() {
                "yes" | "delayed" => compression_names(&CompressionAlg::DEFAULTS),
                "no" => compression_names(&[CompressionAlg::None]),
                _ => AlgorithmSlot::Compression
                    .apply(&value, &t.config.compression)
                    .map_err(|e| format!("{e} (nor yes, delayed or no)"))?,
            };
        }
        "rekeylimit" => {
            let limit = parse_rekey_limit(&value).map_err(|e| bad(&e))?;
            t.config.rekey_bytes = limit.bytes;
            t.config.rekey_interval = limit.interval;
        }
        "maxauthtries" => {
            t.config.max_auth_tries = value.parse().map_err(|_| bad("not a number"))?;
        }
        "maxsessions" => {
            t.config.max_sessions = value.parse().map_err(|_| bad("not a number"))?;
        }
        "logingracetime" => {
            let d = parse_time(&value).ok_or_else(|| bad("not a time"))?;
            t.config.login_grace_time = if d.is_zero() { NO_LIMIT } else { d };
        }
        "proxyprotocol" => t.proxy_protocol = yes_no(&value).ok_or_else(|| bad("not yes/no"))?,
        "passwordauthentication" => t.password = yes_no(&value).ok_or_else(|| bad("not yes/no"))?,
        "pubkeyauthentication" => t.pubkey = yes_no(&value).ok_or_else(|| bad("not yes/no"))?,
        "kbdinteractiveauthentication" | "challengeresponseauthentication" => {
            t.kbd_interactive = yes_no(&value).ok_or_else(|| bad("not yes/no"))?;
        }
        "banner" => {
            t.config.banner = if value.eq_ignore_ascii_case("none") {
                None
            } else {
                let text = std::fs::read_to_string(&value)
                    .map_err(|e| format!("Banner: cannot read {value}: {e}"))?;
                Some(text)
            };
        }
        "modulifile" => {
            let groups = read_moduli(std::path::Path::new(&value))?;
            if groups.is_empty() {
                return Err(format!("ModuliFile: no usable group in {value}"));
            }
            t.config.gex_groups = Some(std::sync::Arc::new(groups));
        }
        "allowtcpforwarding" => {
            t.forwarding.tcp = ForwardAllow::parse(&value).ok_or_else(|| bad(DIRECTIONS))?;
        }
        "allowstreamlocalforwarding" => {
            t.forwarding.streamlocal =
                ForwardAllow::parse(&value).ok_or_else(|| bad(DIRECTIONS))?;
        }
        "allowagentforwarding" => {
            t.forwarding.no_agent_forwarding = !yes_no(&value).ok_or_else(|| bad("not yes/no"))?;
        }
        "disableforwarding" => {
            t.disable_forwarding = yes_no(&value).ok_or_else(|| bad("not yes/no"))?;
        }
        "gatewayports" => {
            t.forwarding.gateway_ports =
                GatewayPorts::parse(&value).ok_or_else(|| bad("not yes, no or clientspecified"))?;
        }
        "permitopen" => {
            t.forwarding.permit_open =
                Permits::parse(&value, HostPort::parse_open).map_err(|e| format!("{name}: {e}"))?;
        }
        "permitlisten" => {
            t.forwarding.permit_listen = Permits::parse(&value, HostPort::parse_listen)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        "clientaliveinterval" => {
            let d = parse_time(&value).ok_or_else(|| bad("not a time"))?;
            t.config.keepalive_interval = (!d.is_zero()).then_some(d);
        }
        "clientalivecountmax" => {
            // sshd: 0 never ends the connection (the probes still go out).
            let n: u32 = value.parse().map_err(|_| bad("not a number"))?;
            t.config.keepalive_count_max = if n == 0 { u32::MAX } else { n };
        }
        _ => return Err(format!("unsupported option \"{name}\"")),
    }
    Ok(())
}

/// The values of `AllowTcpForwarding` and `AllowStreamLocalForwarding`.
const DIRECTIONS: &str = "not yes, all, local, remote or no";

/// sshd's default `moduli` file (Debian ships it with openssh-server).
pub const DEFAULT_MODULI: &str = "/etc/ssh/moduli";
/// The most of a `moduli` file read (Debian's is about 600 KiB).
const MAX_MODULI_BYTES: u64 = 8 << 20;

/// Reads and parses an OpenSSH `moduli` file (bad lines are skipped).
pub fn read_moduli(path: &std::path::Path) -> Result<Vec<Modp>, String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_MODULI_BYTES).read_to_string(&mut text))
        .map_err(|e| format!("ModuliFile: cannot read {}: {e}", path.display()))?;
    Ok(parse_moduli(&text))
}

/// Without `-o ModuliFile`, uses sshd's default file when it exists and has usable groups;
/// otherwise the core's built-in groups stay.
pub fn default_moduli(t: &mut Tunables) {
    if t.config.gex_groups.is_some() {
        return;
    }
    if let Ok(groups) = read_moduli(std::path::Path::new(DEFAULT_MODULI))
        && !groups.is_empty()
    {
        t.config.gex_groups = Some(std::sync::Arc::new(groups));
    }
}

/// `yes` or `no`, case-insensitive.
fn yes_no(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seashell_proto::PrivateKey;
    use std::sync::Arc;

    fn tunables() -> Tunables {
        let key = Arc::new(PrivateKey::ed25519_generate().unwrap());
        Tunables::new(ServerConfig::new(vec![key]))
    }

    #[test]
    fn splitting() {
        assert_eq!(split("Ciphers=a").unwrap(), ("ciphers".into(), "a".into()));
        assert_eq!(split("Ciphers a").unwrap(), ("ciphers".into(), "a".into()));
        assert_eq!(
            split("Ciphers = a").unwrap(),
            ("ciphers".into(), "a".into())
        );
        assert!(split("Ciphers").is_err());
        assert!(split("Ciphers=").is_err());
    }

    #[test]
    fn rekey_limit_option() {
        let mut t = tunables();
        apply(&mut t, "RekeyLimit 256M 30m").unwrap();
        assert_eq!(t.config.rekey_bytes, 256 << 20);
        assert_eq!(t.config.rekey_interval, Some(Duration::from_secs(1800)));
        apply(&mut t, "RekeyLimit=default none").unwrap();
        assert_eq!(
            (t.config.rekey_bytes, t.config.rekey_interval),
            (u64::MAX, None)
        );
        assert!(apply(&mut t, "RekeyLimit=lots").is_err());
    }

    #[test]
    fn moduli_file_option() {
        let dir = std::env::temp_dir().join(format!("seashell-moduli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (good, empty) = (dir.join("good"), dir.join("empty"));
        let g14 = seashell_proto::kex::dh::Group::G14.modp();
        let hex: String = g14.prime().iter().map(|b| format!("{b:02X}")).collect();
        std::fs::write(
            &good,
            format!("# comment\n20230101000000 2 6 100 2047 2 {hex}\n"),
        )
        .unwrap();
        std::fs::write(&empty, "# nothing\n").unwrap();
        let mut t = tunables();
        apply(&mut t, &format!("ModuliFile={}", good.display())).unwrap();
        assert_eq!(t.config.gex_groups.as_deref(), Some(&vec![g14]));
        assert!(apply(&mut t, &format!("ModuliFile={}", empty.display())).is_err());
        assert!(apply(&mut t, "ModuliFile=/nonexistent/moduli").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn forwarding_and_keepalive_options() {
        let mut t = tunables();
        assert_eq!(t.forwarding_policy().tcp, ForwardAllow::All);
        assert_eq!(t.forwarding_policy().permit_open, Permits::Any);
        assert!(!t.forwarding_policy().no_agent_forwarding);
        apply(&mut t, "AllowAgentForwarding no").unwrap();
        assert!(t.forwarding_policy().no_agent_forwarding);
        apply(&mut t, "AllowAgentForwarding=yes").unwrap();
        assert!(!t.forwarding_policy().no_agent_forwarding);
        assert_eq!(t.config.keepalive_interval, None);
        assert_eq!(t.config.keepalive_count_max, 3);
        apply(&mut t, "AllowTcpForwarding=local").unwrap();
        apply(&mut t, "allowstreamlocalforwarding no").unwrap();
        apply(&mut t, "GatewayPorts=clientspecified").unwrap();
        apply(&mut t, "PermitOpen=db:5432 [::1]:22 web:*").unwrap();
        apply(&mut t, "PermitListen 8080 localhost:9000").unwrap();
        apply(&mut t, "ClientAliveInterval=1m").unwrap();
        apply(&mut t, "ClientAliveCountMax=2").unwrap();
        let p = t.forwarding_policy();
        assert_eq!(p.tcp, ForwardAllow::Local);
        assert_eq!(p.streamlocal, ForwardAllow::No);
        assert_eq!(p.gateway_ports, GatewayPorts::ClientSpecified);
        assert!(p.check_direct_tcpip("db", 5432).is_ok());
        assert!(p.check_direct_tcpip("::1", 22).is_ok());
        assert!(p.check_direct_tcpip("web", 1).is_ok());
        assert!(p.check_direct_tcpip("db", 5433).is_err());
        assert!(p.check_direct_streamlocal("/tmp/s").is_err());
        let listen = |host: &str, port| p.permit_listen.permits(|e| e.permits_listen(host, port));
        assert!(listen("0.0.0.0", 8080) && listen("localhost", 9000));
        assert!(!listen("0.0.0.0", 9000));
        assert_eq!(t.config.keepalive_interval, Some(Duration::from_secs(60)));
        assert_eq!(t.config.keepalive_count_max, 2);
        apply(&mut t, "ClientAliveCountMax=0").unwrap();
        assert_eq!(t.config.keepalive_count_max, u32::MAX, "0: never ends");
        apply(&mut t, "PermitOpen none").unwrap();
        assert_eq!(t.forwarding.permit_open, Permits::None);
        apply(&mut t, "PermitOpen=any").unwrap();
        assert_eq!(t.forwarding.permit_open, Permits::Any);
        apply(&mut t, "ClientAliveInterval 0").unwrap();
        assert_eq!(t.config.keepalive_interval, None);
        apply(&mut t, "AllowTcpForwarding=yes").unwrap();
        apply(&mut t, "DisableForwarding=yes").unwrap();
        assert_eq!(t.forwarding_policy(), ForwardingPolicy::deny_all());
        for bad in [
            "AllowTcpForwarding=sometimes",
            "GatewayPorts=local",
            "PermitOpen=db",
            "PermitOpen=any db:1",
            "PermitListen=0",
            "ClientAliveInterval=soon",
            "ClientAliveCountMax=-1",
            "DisableForwarding=perhaps",
        ] {
            assert!(apply(&mut t, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_apply() {
        let mut t = tunables();
        apply(&mut t, "ciphers=-chacha*").unwrap();
        assert!(!t.config.ciphers.iter().any(|c| c.starts_with("chacha")));
        assert_eq!(t.config.ciphers[0], "aes128-gcm@openssh.com");
        apply(&mut t, "Ciphers ^chacha20-poly1305@openssh.com").unwrap();
        assert_eq!(t.config.ciphers[0], "chacha20-poly1305@openssh.com");
        apply(&mut t, "HostKeyAlgorithms=rsa-sha2-256").unwrap();
        assert_eq!(t.config.host_key_algorithms, ["rsa-sha2-256"]);
        apply(&mut t, "HostKeyAlgorithms=+ssh-rsa").unwrap();
        assert_eq!(t.config.host_key_algorithms, ["rsa-sha2-256", "ssh-rsa"]);
        apply(&mut t, "PubkeyAcceptedAlgorithms=+ssh-rsa").unwrap();
        let accepted = &t.config.pubkey_accepted_algorithms;
        assert_eq!(accepted.last().map(String::as_str), Some("ssh-rsa"));
        apply(&mut t, "KexAlgorithms=curve25519-sha256").unwrap();
        apply(&mut t, "MACs=+hmac-sha1").unwrap();
        assert_eq!(t.config.macs.last().map(String::as_str), Some("hmac-sha1"));
        apply(&mut t, "MaxAuthTries=2").unwrap();
        assert_eq!(t.config.max_auth_tries, 2);
        apply(&mut t, "MaxSessions 3").unwrap();
        assert_eq!(t.config.max_sessions, 3);
        apply(&mut t, "LoginGraceTime=1m").unwrap();
        assert_eq!(t.config.login_grace_time, Duration::from_secs(60));
        apply(&mut t, "LoginGraceTime=0").unwrap();
        assert_eq!(t.config.login_grace_time, NO_LIMIT);
        apply(&mut t, "PasswordAuthentication=no").unwrap();
        apply(&mut t, "PubkeyAuthentication=NO").unwrap();
        apply(&mut t, "KbdInteractiveAuthentication no").unwrap();
        assert!(!t.password && !t.pubkey && !t.kbd_interactive);
        assert!(apply(&mut t, "Ciphers=des-cbc").is_err());
        apply(&mut t, "Ciphers=+3des-cbc").unwrap();
        assert_eq!(
            t.config.ciphers.last().map(String::as_str),
            Some("3des-cbc")
        );
        apply(&mut t, "Compression=no").unwrap();
        assert_eq!(t.config.compression, ["none"]);
        apply(&mut t, "Compression delayed").unwrap();
        assert_eq!(t.config.compression, ["none", "zlib@openssh.com"]);
        apply(&mut t, "Compression=+zlib").unwrap();
        assert_eq!(t.config.compression, ["none", "zlib@openssh.com", "zlib"]);
        apply(&mut t, "Compression=zlib").unwrap();
        assert_eq!(t.config.compression, ["zlib"]);
        assert!(apply(&mut t, "Compression=gzip").is_err());
        assert!(apply(&mut t, "Compression=maybe").is_err());
        assert!(apply(&mut t, "MaxAuthTries=many").is_err());
        assert!(apply(&mut t, "PasswordAuthentication=maybe").is_err());
        assert!(apply(&mut t, "PermitRootLogin=yes").is_err());
        assert!(apply(&mut t, "Banner=/nonexistent/banner").is_err());
        apply(&mut t, "Banner=none").unwrap();
        assert_eq!(t.config.banner, None);
    }
}
