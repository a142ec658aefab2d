//! What a server lets its clients forward, decided once for every adapter and for `seashell
//! serve`: sshd's `AllowTcpForwarding`, `AllowStreamLocalForwarding`, `PermitOpen`,
//! `PermitListen` and `GatewayPorts`, narrowed per user by the authorized_keys options
//! `no-port-forwarding`, `permitopen` and `permitlisten`. No I/O: it answers yes or no and
//! names the address to bind.
//!
//! The syntax and the matching rules are sshd's (OpenSSH 9): a `PermitOpen` host is compared
//! exactly as written, without resolving it or ignoring case (`localhost` does not allow
//! `127.0.0.1`); a `PermitListen` host is a pattern (`*`, `?`) matched against the listen
//! address the client sent, lowered; a bare `PermitListen` port means any listen address;
//! `*` as a port means any port; `any` and `none` stand alone. The server's lists and the
//! key's lists must both allow a forward.

use seashell_proto::config::wildcard_match;
use std::fmt;

/// Which directions a kind of forwarding is allowed in (sshd's `yes|all|no|local|remote`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardAllow {
    /// Both directions (`yes`, `all`; sshd's default).
    #[default]
    All,
    /// Neither (`no`).
    No,
    /// Only the client's connections out through the server (`local`: `ssh -L`, `-D`, `-W`).
    Local,
    /// Only the server's listeners back to the client (`remote`: `ssh -R`).
    Remote,
}

impl ForwardAllow {
    /// Parses sshd's keyword value, case-insensitively.
    pub fn parse(value: &str) -> Option<ForwardAllow> {
        match value.to_ascii_lowercase().as_str() {
            "yes" | "all" => Some(ForwardAllow::All),
            "no" => Some(ForwardAllow::No),
            "local" => Some(ForwardAllow::Local),
            "remote" => Some(ForwardAllow::Remote),
            _ => None,
        }
    }

    /// Whether the client may connect out through the server.
    pub fn allows_local(self) -> bool {
        matches!(self, ForwardAllow::All | ForwardAllow::Local)
    }

    /// Whether the client may have the server listen for it.
    pub fn allows_remote(self) -> bool {
        matches!(self, ForwardAllow::All | ForwardAllow::Remote)
    }
}

/// sshd's `GatewayPorts`: which address a remote forward binds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GatewayPorts {
    /// Loopback only, whatever the client asks (`no`, the default); a client may still
    /// pick `127.0.0.1` or `::1`.
    #[default]
    No,
    /// Every address, whatever the client asks (`yes`).
    Yes,
    /// The address the client asks for (`clientspecified`); empty or `*` is every address.
    ClientSpecified,
}

impl GatewayPorts {
    /// Parses sshd's keyword value, case-insensitively.
    pub fn parse(value: &str) -> Option<GatewayPorts> {
        match value.to_ascii_lowercase().as_str() {
            "no" => Some(GatewayPorts::No),
            "yes" => Some(GatewayPorts::Yes),
            "clientspecified" => Some(GatewayPorts::ClientSpecified),
            _ => None,
        }
    }
}

/// One entry of `PermitOpen`/`permitopen=` (`host:port`) or `PermitListen`/`permitlisten=`
/// (`[host:]port`). `*` as the host or the port matches any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The host as written, brackets removed (`*` for any).
    pub host: String,
    /// The port (1 to 65535), `None` for `*`.
    pub port: Option<u32>,
}

impl HostPort {
    /// Parses a `PermitOpen` or `permitopen=` entry: `host:port`, `host/port`,
    /// `[v6]:port`, with `*` for any host or port.
    pub fn parse_open(entry: &str) -> Result<HostPort, String> {
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
                Ok(n) if n > 0 => Some(u32::from(n)),
                _ => return Err(bad("the port is not 1 to 65535 or *")),
            },
        };
        Ok(HostPort {
            host: host.to_owned(),
            port,
        })
    }

    /// Parses a `PermitListen` or `permitlisten=` entry: `port` (any listen address),
    /// `host:port`, `*:port`, `[v6]:port`.
    pub fn parse_listen(entry: &str) -> Result<HostPort, String> {
        if entry.contains(':') {
            HostPort::parse_open(entry)
        } else {
            HostPort::parse_open(&format!("*:{entry}"))
        }
    }

    /// [`parse_open`](Self::parse_open) with `default_host` for a bare port, as an
    /// `Option`.
    pub fn parse(text: &str, default_host: Option<&str>) -> Option<HostPort> {
        match default_host {
            Some(host) if !text.contains([':', '/']) => {
                HostPort::parse_open(&format!("{host}:{text}")).ok()
            }
            _ => HostPort::parse_open(text).ok(),
        }
    }

    fn port_matches(&self, port: u32) -> bool {
        self.port.is_none_or(|p| p == port)
    }

    /// Whether this `PermitOpen` entry allows connecting to `host:port`: the host exactly
    /// as written, or `*`.
    pub fn permits_open(&self, host: &str, port: u32) -> bool {
        self.port_matches(port) && (self.host == "*" || self.host == host)
    }

    /// Whether this `PermitListen` entry allows listening on `address:port` as the client
    /// named it: the entry's host is a pattern, matched against the address lowered.
    pub fn permits_listen(&self, address: &str, port: u32) -> bool {
        self.port_matches(port) && wildcard_match(&self.host, &address.to_ascii_lowercase())
    }

    /// Whether every forward `other` allows, this entry allows too (used to narrow a list
    /// without ever widening it).
    fn covers(&self, other: &HostPort) -> bool {
        (self.host == "*" || self.host == other.host)
            && (self.port.is_none() || self.port == other.port)
    }
}

/// A `PermitOpen`/`PermitListen` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Permits {
    /// Anything (`any`, the default).
    #[default]
    Any,
    /// Nothing (`none`).
    None,
    /// Only these.
    Only(Vec<HostPort>),
}

impl Permits {
    /// Parses an option value: blank-separated entries, each with `entry`
    /// ([`HostPort::parse_open`] or [`HostPort::parse_listen`]); `any` or `none` alone.
    pub fn parse(
        value: &str,
        entry: fn(&str) -> Result<HostPort, String>,
    ) -> Result<Permits, String> {
        let words: Vec<&str> = value.split_ascii_whitespace().collect();
        let keyword = |w: &&str| w.eq_ignore_ascii_case("any") || w.eq_ignore_ascii_case("none");
        match words.as_slice() {
            [] => Err("no value".into()),
            [w] if w.eq_ignore_ascii_case("any") => Ok(Permits::Any),
            [w] if w.eq_ignore_ascii_case("none") => Ok(Permits::None),
            _ if words.iter().any(keyword) => Err("\"any\" and \"none\" must stand alone".into()),
            _ => words
                .iter()
                .map(|w| entry(w))
                .collect::<Result<Vec<_>, _>>()
                .map(Permits::Only),
        }
    }

    /// Whether some entry satisfies `allows` (always for `Any`, never for `None`).
    pub fn permits(&self, allows: impl Fn(&HostPort) -> bool) -> bool {
        match self {
            Permits::Any => true,
            Permits::None => false,
            Permits::Only(list) => list.iter().any(allows),
        }
    }

    /// This list narrowed to `entries`: only what both allow (an entry is kept when one of
    /// ours covers it entirely, so the result never allows more than either).
    fn narrowed(&self, entries: &[HostPort]) -> Permits {
        match self {
            Permits::Any => Permits::Only(entries.to_vec()),
            Permits::None => Permits::None,
            Permits::Only(ours) => Permits::Only(
                entries
                    .iter()
                    .filter(|e| ours.iter().any(|o| o.covers(e)))
                    .cloned()
                    .collect(),
            ),
        }
    }
}

/// Why a forwarding request was refused (the text goes to the log and to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub &'static str);

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// What a server lets its clients forward. The default is sshd's: TCP and Unix-socket
/// forwarding both ways, any target, any listen address, remote listeners on loopback
/// only, no ports below 1024.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardingPolicy {
    /// `AllowTcpForwarding`.
    pub tcp: ForwardAllow,
    /// `AllowStreamLocalForwarding`.
    pub streamlocal: ForwardAllow,
    /// `PermitOpen`: targets of `direct-tcpip`.
    pub permit_open: Permits,
    /// `PermitListen`: listen addresses of `tcpip-forward`.
    pub permit_listen: Permits,
    /// The key's `permitopen=` entries (sshd's user permissions): a target must be allowed
    /// by these and by [`permit_open`](Self::permit_open).
    pub key_permit_open: Permits,
    /// The key's `permitlisten=` entries, checked with [`permit_listen`](Self::permit_listen).
    pub key_permit_listen: Permits,
    /// `GatewayPorts`.
    pub gateway_ports: GatewayPorts,
    /// Whether listeners may take ports below 1024 (sshd allows it only for root).
    pub privileged_ports: bool,
    /// `AllowAgentForwarding no` (also set by `DisableForwarding`, [`deny_all`](Self::deny_all),
    /// and a key's `no-agent-forwarding` or `restrict`): agent requests are refused.
    pub no_agent_forwarding: bool,
}

/// The forwarding options of one authorized_keys line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyForwardingOptions {
    /// `no-port-forwarding` (or `restrict` without `port-forwarding`): no TCP or Unix-socket
    /// forwarding at all.
    pub no_port_forwarding: bool,
    /// `permitopen="host:port"` entries.
    pub permit_open: Vec<HostPort>,
    /// `permitlisten="[host:]port"` entries.
    pub permit_listen: Vec<HostPort>,
    /// `no-agent-forwarding` (or `restrict` without `agent-forwarding`).
    pub no_agent_forwarding: bool,
}

impl ForwardingPolicy {
    /// Nothing at all.
    pub fn deny_all() -> ForwardingPolicy {
        ForwardingPolicy {
            tcp: ForwardAllow::No,
            streamlocal: ForwardAllow::No,
            permit_open: Permits::None,
            permit_listen: Permits::None,
            no_agent_forwarding: true,
            ..ForwardingPolicy::default()
        }
    }

    /// This policy narrowed by the options of the key a user authenticated with (sshd
    /// applies both: a key option can only take away).
    pub fn restricted_by(&self, key: &KeyForwardingOptions) -> ForwardingPolicy {
        let mut p = self.clone();
        if key.no_port_forwarding {
            p.tcp = ForwardAllow::No;
            p.streamlocal = ForwardAllow::No;
        }
        if key.no_agent_forwarding {
            p.no_agent_forwarding = true;
        }
        if !key.permit_open.is_empty() {
            p.key_permit_open = p.key_permit_open.narrowed(&key.permit_open);
        }
        if !key.permit_listen.is_empty() {
            p.key_permit_listen = p.key_permit_listen.narrowed(&key.permit_listen);
        }
        p
    }

    /// May the client connect through us to `host:port` (`direct-tcpip`, `ssh -L`)?
    pub fn check_direct_tcpip(&self, host: &str, port: u32) -> Result<(), Denied> {
        if !self.tcp.allows_local() {
            return Err(Denied("TCP forwarding is disabled"));
        }
        let allows = |e: &HostPort| e.permits_open(host, port);
        if !self.permit_open.permits(allows) || !self.key_permit_open.permits(allows) {
            return Err(Denied(
                "the target is not permitted (PermitOpen, permitopen)",
            ));
        }
        Ok(())
    }

    /// May the client connect through us to the Unix socket `path`?
    pub fn check_direct_streamlocal(&self, path: &str) -> Result<(), Denied> {
        let _ = path;
        if !self.streamlocal.allows_local() {
            return Err(Denied("Unix-socket forwarding is disabled"));
        }
        Ok(())
    }

    /// May the client have us listen on `address:port` (`tcpip-forward`, `ssh -R`)? Returns
    /// the address to bind, as sshd picks it under `GatewayPorts`.
    pub fn listen_address(&self, address: &str, port: u32) -> Result<String, Denied> {
        if !self.tcp.allows_remote() {
            return Err(Denied("TCP forwarding is disabled"));
        }
        if port > 65535 {
            return Err(Denied("bad port"));
        }
        if port != 0 && port < 1024 && !self.privileged_ports {
            return Err(Denied("privileged port"));
        }
        let allows = |e: &HostPort| e.permits_listen(address, port);
        if !self.permit_listen.permits(allows) || !self.key_permit_listen.permits(allows) {
            return Err(Denied(
                "the address is not permitted (PermitListen, permitlisten)",
            ));
        }
        let bind = match (self.gateway_ports, address) {
            (GatewayPorts::Yes, _) => "0.0.0.0",
            (GatewayPorts::ClientSpecified, "" | "*") => "0.0.0.0",
            (GatewayPorts::ClientSpecified, "localhost") => "127.0.0.1",
            (GatewayPorts::ClientSpecified, other) => other,
            (GatewayPorts::No, loopback @ ("127.0.0.1" | "::1")) => loopback,
            (GatewayPorts::No, _) => "127.0.0.1",
        };
        Ok(bind.to_owned())
    }

    /// May the client have us listen on the Unix socket `path`
    /// (`streamlocal-forward@openssh.com`)? `PermitListen` does not apply (as in sshd).
    pub fn check_streamlocal_listen(&self, path: &str) -> Result<(), Denied> {
        let _ = path;
        if !self.streamlocal.allows_remote() {
            return Err(Denied("Unix-socket forwarding is disabled"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(s: &str) -> HostPort {
        HostPort::parse_open(s).unwrap()
    }

    fn listen(s: &str) -> HostPort {
        HostPort::parse_listen(s).unwrap()
    }

    fn hp(host: &str, port: Option<u32>) -> HostPort {
        HostPort {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn keywords() {
        assert_eq!(ForwardAllow::parse("YES"), Some(ForwardAllow::All));
        assert_eq!(ForwardAllow::parse("all"), Some(ForwardAllow::All));
        assert_eq!(ForwardAllow::parse("local"), Some(ForwardAllow::Local));
        assert_eq!(ForwardAllow::parse("remote"), Some(ForwardAllow::Remote));
        assert_eq!(ForwardAllow::parse("no"), Some(ForwardAllow::No));
        assert_eq!(ForwardAllow::parse("maybe"), None);
        assert!(ForwardAllow::Local.allows_local() && !ForwardAllow::Local.allows_remote());
        assert!(!ForwardAllow::Remote.allows_local() && ForwardAllow::Remote.allows_remote());
        assert!(!ForwardAllow::No.allows_local() && !ForwardAllow::No.allows_remote());
        assert_eq!(
            GatewayPorts::parse("ClientSpecified"),
            Some(GatewayPorts::ClientSpecified)
        );
        assert_eq!(GatewayPorts::parse("yes"), Some(GatewayPorts::Yes));
        assert_eq!(GatewayPorts::parse("no"), Some(GatewayPorts::No));
        assert_eq!(GatewayPorts::parse("local"), None);
    }

    #[test]
    fn entries_parse_as_sshd_does() {
        assert_eq!(open("db.internal:5432"), hp("db.internal", Some(5432)));
        assert_eq!(open("host/22"), hp("host", Some(22)));
        assert_eq!(open("[::1]:22"), hp("::1", Some(22)));
        assert_eq!(open("*:443"), hp("*", Some(443)));
        assert_eq!(open("web:*"), hp("web", None));
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
            assert!(HostPort::parse_open(bad).is_err(), "{bad}");
        }
        assert_eq!(listen("8080"), hp("*", Some(8080)));
        assert_eq!(listen("*"), hp("*", None));
        assert_eq!(listen("localhost:8080"), hp("localhost", Some(8080)));
        assert_eq!(listen("[::1]:80"), hp("::1", Some(80)));
        assert!(HostPort::parse_listen("0").is_err());
        assert!(HostPort::parse_listen("localhost:").is_err());
        assert_eq!(HostPort::parse("22", Some("h")), Some(hp("h", Some(22))));
        assert_eq!(HostPort::parse("[::1]:22", None), Some(hp("::1", Some(22))));
        assert_eq!(HostPort::parse("22", None), None);
    }

    #[test]
    fn matching_is_sshds() {
        let entry = hp("localhost", Some(80));
        assert!(entry.permits_open("localhost", 80));
        assert!(!entry.permits_open("127.0.0.1", 80), "not resolved");
        assert!(!entry.permits_open("LOCALHOST", 80), "case counts");
        assert!(!entry.permits_open("localhost", 81));
        assert!(hp("*", None).permits_open("anything", 1));
        let pattern = hp("local*", Some(8080));
        assert!(pattern.permits_listen("LocalHost", 8080), "lowered");
        assert!(!pattern.permits_listen("0.0.0.0", 8080));
        assert!(!pattern.permits_listen("localhost", 8081));
        assert!(hp("*", Some(8080)).permits_listen("", 8080));
        assert!(!hp("*", Some(8080)).permits_listen("", 0));
        assert!(hp("*", None).permits_listen("", 0));
        assert!(!hp("LOCALHOST", None).permits_listen("localhost", 1));
    }

    #[test]
    fn permit_lists() {
        let o = HostPort::parse_open;
        assert_eq!(Permits::parse("any", o), Ok(Permits::Any));
        assert_eq!(Permits::parse("NONE", o), Ok(Permits::None));
        assert_eq!(
            Permits::parse("a:1 [::1]:2", o),
            Ok(Permits::Only(vec![hp("a", Some(1)), hp("::1", Some(2))]))
        );
        for bad in ["a:1 any", "none a:1", "a:1 b", ""] {
            assert!(Permits::parse(bad, o).is_err(), "{bad}");
        }
        assert_eq!(
            Permits::parse("8080 localhost:9090", HostPort::parse_listen),
            Ok(Permits::Only(vec![
                hp("*", Some(8080)),
                hp("localhost", Some(9090))
            ]))
        );
        assert!(Permits::Any.permits(|_| false));
        assert!(!Permits::None.permits(|_| true));
    }

    #[test]
    fn defaults_are_sshds() {
        let p = ForwardingPolicy::default();
        assert!(p.check_direct_tcpip("example.org", 80).is_ok());
        assert!(p.check_direct_streamlocal("/tmp/s").is_ok());
        assert!(p.check_streamlocal_listen("/tmp/s").is_ok());
        assert_eq!(p.listen_address("localhost", 8080).unwrap(), "127.0.0.1");
        assert_eq!(p.listen_address("", 8080).unwrap(), "127.0.0.1");
        assert_eq!(p.listen_address("0.0.0.0", 0).unwrap(), "127.0.0.1");
        assert_eq!(p.listen_address("::1", 0).unwrap(), "::1");
        assert!(p.listen_address("", 80).is_err(), "privileged");
        let root = ForwardingPolicy {
            privileged_ports: true,
            ..ForwardingPolicy::default()
        };
        assert!(root.listen_address("", 80).is_ok());
        assert!(
            !p.no_agent_forwarding,
            "sshd allows agent forwarding by default"
        );
        let none = ForwardingPolicy::deny_all();
        assert!(none.no_agent_forwarding);
        let key = KeyForwardingOptions {
            no_agent_forwarding: true,
            ..KeyForwardingOptions::default()
        };
        assert!(p.restricted_by(&key).no_agent_forwarding);
        assert!(none.check_direct_tcpip("x", 1).is_err());
        assert!(none.listen_address("", 5000).is_err());
        assert!(none.check_direct_streamlocal("/tmp/s").is_err());
    }

    #[test]
    fn directions_and_gateway_ports() {
        let mut p = ForwardingPolicy {
            tcp: ForwardAllow::Local,
            ..ForwardingPolicy::default()
        };
        assert!(p.check_direct_tcpip("h", 1).is_ok());
        assert!(p.listen_address("", 9000).is_err());
        p.tcp = ForwardAllow::Remote;
        assert!(p.check_direct_tcpip("h", 1).is_err());
        p.gateway_ports = GatewayPorts::ClientSpecified;
        assert_eq!(p.listen_address("", 9000).unwrap(), "0.0.0.0");
        assert_eq!(p.listen_address("*", 9000).unwrap(), "0.0.0.0");
        assert_eq!(p.listen_address("localhost", 9000).unwrap(), "127.0.0.1");
        assert_eq!(p.listen_address("10.0.0.5", 9000).unwrap(), "10.0.0.5");
        p.gateway_ports = GatewayPorts::Yes;
        assert_eq!(p.listen_address("localhost", 9000).unwrap(), "0.0.0.0");
        assert_eq!(p.listen_address("127.0.0.1", 9000).unwrap(), "0.0.0.0");
        p.streamlocal = ForwardAllow::Local;
        assert!(p.check_direct_streamlocal("/s").is_ok());
        assert!(p.check_streamlocal_listen("/s").is_err());
    }

    #[test]
    fn server_lists() {
        let p = ForwardingPolicy {
            permit_open: Permits::Only(vec![
                open("db.internal:5432"),
                open("*:443"),
                open("web:*"),
            ]),
            permit_listen: Permits::Only(vec![listen("8080"), listen("localhost:9000")]),
            ..ForwardingPolicy::default()
        };
        assert!(p.check_direct_tcpip("db.internal", 5432).is_ok());
        assert!(p.check_direct_tcpip("db.internal", 5433).is_err());
        assert!(p.check_direct_tcpip("anything", 443).is_ok());
        assert!(p.check_direct_tcpip("web", 1).is_ok());
        assert!(p.listen_address("localhost", 8080).is_ok());
        assert!(
            p.listen_address("", 8080).is_ok(),
            "a bare port: any address"
        );
        assert!(p.listen_address("localhost", 9000).is_ok());
        assert!(p.listen_address("", 9000).is_err());
        assert!(p.listen_address("127.0.0.1", 9000).is_err(), "not resolved");
        assert!(p.listen_address("localhost", 8081).is_err());
    }

    #[test]
    fn key_options_only_narrow() {
        let server = ForwardingPolicy {
            permit_open: Permits::Only(vec![open("a:1"), open("b:2"), open("*:443")]),
            ..ForwardingPolicy::default()
        };
        let key = KeyForwardingOptions {
            permit_open: vec![open("b:2"), open("c:3"), open("db:*")],
            permit_listen: vec![listen("7000")],
            ..KeyForwardingOptions::default()
        };
        let p = server.restricted_by(&key);
        assert!(p.check_direct_tcpip("b", 2).is_ok());
        assert!(p.check_direct_tcpip("a", 1).is_err(), "not the key's");
        assert!(p.check_direct_tcpip("c", 3).is_err(), "not the server's");
        assert!(p.check_direct_tcpip("db", 443).is_ok(), "both allow it");
        assert!(p.check_direct_tcpip("db", 444).is_err());
        assert!(p.listen_address("localhost", 7000).is_ok());
        assert!(p.listen_address("localhost", 7001).is_err());
        // Narrowing again never widens.
        let again = p.restricted_by(&KeyForwardingOptions {
            permit_open: vec![open("b:2"), open("e:5")],
            ..KeyForwardingOptions::default()
        });
        assert!(again.check_direct_tcpip("b", 2).is_ok());
        assert!(again.check_direct_tcpip("e", 5).is_err());
        let off = ForwardingPolicy::default().restricted_by(&KeyForwardingOptions {
            no_port_forwarding: true,
            ..KeyForwardingOptions::default()
        });
        assert!(off.check_direct_tcpip("x", 1).is_err());
        assert!(off.listen_address("", 5000).is_err());
        assert!(off.check_streamlocal_listen("/tmp/s").is_err());
        assert!(off.check_direct_streamlocal("/tmp/s").is_err());
    }
}
