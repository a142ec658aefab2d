//! sshd's forwarding and keepalive settings as typed values, with sshd's defaults and
//! syntax: `AllowTcpForwarding`, `AllowStreamLocalForwarding`, `GatewayPorts`, `PermitOpen`,
//! `PermitListen`, `ClientAliveInterval` and `ClientAliveCountMax` (from `-o`, see
//! [`sshd_options`](super::sshd_options)), and the targets of the `authorized_keys`
//! options `permitopen="host:port"` and `permitlisten="[host:]port"`.
//!
//! Parsing and matching only: nothing here is enforced on a connection yet.
#![cfg_attr(
    not(test),
    allow(dead_code, reason = "parsed now; enforced once serve forwards ports")
)]

use seashell_proto::config::wildcard_match;
use std::time::Duration;

/// Which directions of a kind of forwarding are allowed (`AllowTcpForwarding`,
/// `AllowStreamLocalForwarding`): `yes`/`all` (sshd's default), `local`, `remote`, `no`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Directions {
    /// Both directions (`yes`, `all`).
    #[default]
    All,
    /// Only local forwarding (the client's `-L`: `direct-tcpip`, `direct-streamlocal`).
    Local,
    /// Only remote forwarding (the client's `-R`: `tcpip-forward`, `streamlocal-forward`).
    Remote,
    /// Neither.
    No,
}

impl Directions {
    /// Parses sshd's keyword values, case-insensitively.
    pub fn parse(value: &str) -> Option<Directions> {
        match value.to_ascii_lowercase().as_str() {
            "yes" | "all" => Some(Directions::All),
            "local" => Some(Directions::Local),
            "remote" => Some(Directions::Remote),
            "no" => Some(Directions::No),
            _ => None,
        }
    }

    /// Whether the client may open channels to targets through the server (`-L`, `-D`,
    /// `-W`, `-J`).
    pub fn allows_local(self) -> bool {
        matches!(self, Directions::All | Directions::Local)
    }

    /// Whether the client may ask the server to listen for it (`-R`).
    pub fn allows_remote(self) -> bool {
        matches!(self, Directions::All | Directions::Remote)
    }
}

/// `GatewayPorts`: which address a remote forwarding listens on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GatewayPorts {
    /// Loopback only, whatever the client asks (sshd's default).
    #[default]
    No,
    /// Every address (the wildcard), whatever the client asks.
    Yes,
    /// The address the client names; an empty one or `*` means every address.
    ClientSpecified,
}

impl GatewayPorts {
    /// Parses `no`, `yes` or `clientspecified`, case-insensitively.
    pub fn parse(value: &str) -> Option<GatewayPorts> {
        match value.to_ascii_lowercase().as_str() {
            "no" => Some(GatewayPorts::No),
            "yes" => Some(GatewayPorts::Yes),
            "clientspecified" => Some(GatewayPorts::ClientSpecified),
            _ => None,
        }
    }
}

/// One entry of `PermitOpen` / `permitopen=` (`host:port`) or of `PermitListen` /
/// `permitlisten=` (`[host:]port`). An IPv6 address is written in brackets
/// (`[::1]:22`); `/` may separate host and port as well as `:`; `*` as host or port means
/// any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host as written (brackets removed); `*` is any host.
    pub host: String,
    /// The port, or `None` for `*` (any port).
    pub port: Option<u16>,
}

impl Target {
    /// Parses a `PermitOpen` or `permitopen=` entry: `host:port`.
    pub fn parse_open(entry: &str) -> Result<Target, String> {
        parse_host_port(entry)
    }

    /// Parses a `PermitListen` or `permitlisten=` entry: `port`, `host:port` or `*:port`;
    /// a bare port means any listen host.
    pub fn parse_listen(entry: &str) -> Result<Target, String> {
        if entry.contains(':') {
            parse_host_port(entry)
        } else {
            parse_host_port(&format!("*:{entry}"))
        }
    }

    fn port_matches(&self, port: u32) -> bool {
        self.port.is_none_or(|p| u32::from(p) == port)
    }

    /// Whether this `PermitOpen` entry allows connecting to `host`:`port`. As in sshd, the
    /// host is compared as written, without resolving it (`localhost` does not allow
    /// `127.0.0.1`).
    pub fn permits_open(&self, host: &str, port: u32) -> bool {
        self.port_matches(port) && (self.host == "*" || self.host == host)
    }

    /// Whether this `PermitListen` entry allows listening on `host`:`port`. As in sshd, the
    /// entry's host is a pattern (`*`, `?`) and the requested host is lowered first.
    pub fn permits_listen(&self, host: &str, port: u32) -> bool {
        self.port_matches(port) && wildcard_match(&self.host, &host.to_ascii_lowercase())
    }
}

/// Splits `host:port`, `host/port` or `[v6]:port` and checks the port (1 to 65535, or `*`).
fn parse_host_port(entry: &str) -> Result<Target, String> {
    let bad = |why: &str| format!("\"{entry}\": {why}");
    let (host, rest) = match entry.strip_prefix('[') {
        Some(inner) => {
            let (host, rest) = inner
                .split_once(']')
                .ok_or_else(|| bad("unterminated [address]"))?;
            let rest = rest
                .strip_prefix([':', '/'])
                .ok_or_else(|| bad("no port after [address]"))?;
            (host, rest)
        }
        None => entry
            .split_once([':', '/'])
            .ok_or_else(|| bad("not host:port"))?,
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = match rest {
        "*" => None,
        p => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(bad("the port is not 1 to 65535 or *")),
        },
    };
    Ok(Target {
        host: host.to_owned(),
        port,
    })
}

/// `PermitOpen` or `PermitListen`: `any` (sshd's default), `none`, or a list of targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Permit {
    /// No restriction.
    #[default]
    Any,
    /// Nothing is allowed.
    None,
    /// Only these targets.
    Only(Vec<Target>),
}

impl Permit {
    /// Parses an option value of blank-separated entries, with `parse` for each; `any` or
    /// `none` must stand alone.
    pub fn parse(value: &str, parse: fn(&str) -> Result<Target, String>) -> Result<Permit, String> {
        let words: Vec<&str> = value.split_ascii_whitespace().collect();
        match words.as_slice() {
            [] => Err("no value".into()),
            [w] if w.eq_ignore_ascii_case("any") => Ok(Permit::Any),
            [w] if w.eq_ignore_ascii_case("none") => Ok(Permit::None),
            _ if words
                .iter()
                .any(|w| w.eq_ignore_ascii_case("any") || w.eq_ignore_ascii_case("none")) =>
            {
                Err("\"any\" and \"none\" must stand alone".into())
            }
            _ => words
                .iter()
                .map(|w| parse(w))
                .collect::<Result<Vec<_>, _>>()
                .map(Permit::Only),
        }
    }

    /// Whether `allowed` accepts some entry of the list (always for `Any`, never for
    /// `None`).
    pub fn permits(&self, allowed: impl Fn(&Target) -> bool) -> bool {
        match self {
            Permit::Any => true,
            Permit::None => false,
            Permit::Only(targets) => targets.iter().any(allowed),
        }
    }
}

/// The server's forwarding settings, as sshd's `-o` options set them. The defaults are
/// sshd's: everything allowed, remote forwardings on loopback only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// `AllowTcpForwarding`.
    pub tcp: Directions,
    /// `AllowStreamLocalForwarding`.
    pub streamlocal: Directions,
    /// `GatewayPorts`.
    pub gateway_ports: GatewayPorts,
    /// `PermitOpen`: targets of local forwardings (`direct-tcpip`).
    pub permit_open: Permit,
    /// `PermitListen`: listen addresses of remote forwardings (`tcpip-forward`).
    pub permit_listen: Permit,
}

/// `ClientAliveInterval` and `ClientAliveCountMax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAlive {
    /// Ask a silent client for an answer after this long; `None` (sshd's default,
    /// `ClientAliveInterval 0`) never asks.
    pub interval: Option<Duration>,
    /// Unanswered requests before the connection is ended (sshd's default 3); 0 never ends
    /// it.
    pub count_max: u32,
}

impl Default for ClientAlive {
    fn default() -> Self {
        ClientAlive {
            interval: None,
            count_max: 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(host: &str, port: Option<u16>) -> Target {
        Target {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn directions_and_gateway_ports() {
        assert_eq!(Directions::parse("YES"), Some(Directions::All));
        assert_eq!(Directions::parse("all"), Some(Directions::All));
        assert_eq!(Directions::parse("local"), Some(Directions::Local));
        assert_eq!(Directions::parse("remote"), Some(Directions::Remote));
        assert_eq!(Directions::parse("no"), Some(Directions::No));
        assert_eq!(Directions::parse("maybe"), None);
        assert!(Directions::Local.allows_local() && !Directions::Local.allows_remote());
        assert!(!Directions::Remote.allows_local() && Directions::Remote.allows_remote());
        assert!(!Directions::No.allows_local() && !Directions::No.allows_remote());
        assert_eq!(Directions::default(), Directions::All);
        assert_eq!(
            GatewayPorts::parse("ClientSpecified"),
            Some(GatewayPorts::ClientSpecified)
        );
        assert_eq!(GatewayPorts::parse("yes"), Some(GatewayPorts::Yes));
        assert_eq!(GatewayPorts::parse("no"), Some(GatewayPorts::No));
        assert_eq!(GatewayPorts::parse("local"), None);
        assert_eq!(GatewayPorts::default(), GatewayPorts::No);
    }

    #[test]
    fn open_targets() {
        assert_eq!(
            Target::parse_open("db.internal:5432"),
            Ok(t("db.internal", Some(5432)))
        );
        assert_eq!(Target::parse_open("host/22"), Ok(t("host", Some(22))));
        assert_eq!(Target::parse_open("[::1]:22"), Ok(t("::1", Some(22))));
        assert_eq!(Target::parse_open("*:443"), Ok(t("*", Some(443))));
        assert_eq!(Target::parse_open("web:*"), Ok(t("web", None)));
        for bad in [
            "host",
            "host:",
            ":22",
            "host:0",
            "host:65536",
            "host:ssh",
            "[::1]22",
            "[::1",
            "::1:22",
        ] {
            assert!(Target::parse_open(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn listen_targets() {
        assert_eq!(Target::parse_listen("8080"), Ok(t("*", Some(8080))));
        assert_eq!(Target::parse_listen("*"), Ok(t("*", None)));
        assert_eq!(
            Target::parse_listen("localhost:8080"),
            Ok(t("localhost", Some(8080)))
        );
        assert_eq!(Target::parse_listen("[::1]:80"), Ok(t("::1", Some(80))));
        assert!(Target::parse_listen("0").is_err());
        assert!(Target::parse_listen("localhost:").is_err());
    }

    #[test]
    fn matching() {
        let open = t("localhost", Some(80));
        assert!(open.permits_open("localhost", 80));
        assert!(!open.permits_open("127.0.0.1", 80));
        assert!(!open.permits_open("LOCALHOST", 80));
        assert!(!open.permits_open("localhost", 81));
        assert!(t("*", None).permits_open("anything", 1));
        assert!(t("web", None).permits_open("web", 65535));
        let listen = t("local*", Some(8080));
        assert!(listen.permits_listen("LocalHost", 8080));
        assert!(!listen.permits_listen("0.0.0.0", 8080));
        assert!(!listen.permits_listen("localhost", 8081));
        assert!(t("*", Some(8080)).permits_listen("", 8080));
        assert!(!t("*", Some(8080)).permits_listen("", 0));
        assert!(t("*", None).permits_listen("", 0));
    }

    #[test]
    fn permit_lists() {
        let open = Target::parse_open;
        assert_eq!(Permit::parse("any", open), Ok(Permit::Any));
        assert_eq!(Permit::parse("NONE", open), Ok(Permit::None));
        assert_eq!(
            Permit::parse("a:1 [::1]:2", open),
            Ok(Permit::Only(vec![t("a", Some(1)), t("::1", Some(2))]))
        );
        assert!(Permit::parse("a:1 any", open).is_err());
        assert!(Permit::parse("none a:1", open).is_err());
        assert!(Permit::parse("a:1 b", open).is_err());
        assert!(Permit::parse("", open).is_err());
        let list = Permit::parse("a:1 b:*", open).unwrap();
        assert!(list.permits(|t| t.permits_open("b", 9)));
        assert!(!list.permits(|t| t.permits_open("a", 9)));
        assert!(Permit::Any.permits(|_| false));
        assert!(!Permit::None.permits(|_| true));
        assert_eq!(
            Permit::parse("8080 localhost:9090", Target::parse_listen),
            Ok(Permit::Only(vec![
                t("*", Some(8080)),
                t("localhost", Some(9090))
            ]))
        );
    }
}
