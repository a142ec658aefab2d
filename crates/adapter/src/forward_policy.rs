//! What a server lets its clients forward, decided once for every adapter and for `seashell
//! serve`: sshd's `AllowTcpForwarding`, `AllowStreamLocalForwarding`, `PermitOpen`,
//! `PermitListen` and `GatewayPorts`, narrowed per user by the authorized_keys options
//! `no-port-forwarding`, `permitopen` and `permitlisten`. No I/O: it answers yes or no and
//! names the address to bind.

use std::fmt;

/// Which directions a kind of forwarding is allowed in (sshd's `yes|all|no|local|remote`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardAllow {
    /// Both directions (`yes`, `all`).
    All,
    /// Neither (`no`).
    No,
    /// Only the client's connections out through the server (`local`: `ssh -L`).
    Local,
    /// Only the server's listeners back to the client (`remote`: `ssh -R`).
    Remote,
}

impl ForwardAllow {
    /// Parses sshd's keyword value.
    pub fn parse(value: &str) -> Option<ForwardAllow> {
        match value.to_ascii_lowercase().as_str() {
            "yes" | "all" => Some(ForwardAllow::All),
            "no" => Some(ForwardAllow::No),
            "local" => Some(ForwardAllow::Local),
            "remote" => Some(ForwardAllow::Remote),
            _ => None,
        }
    }

    fn local(self) -> bool {
        matches!(self, ForwardAllow::All | ForwardAllow::Local)
    }

    fn remote(self) -> bool {
        matches!(self, ForwardAllow::All | ForwardAllow::Remote)
    }
}

/// sshd's `GatewayPorts`: which address a remote forward binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayPorts {
    /// Loopback only, whatever the client asks (`no`, the default).
    No,
    /// Every address, whatever the client asks (`yes`).
    Yes,
    /// The address the client asks for (`clientspecified`).
    ClientSpecified,
}

impl GatewayPorts {
    /// Parses sshd's keyword value.
    pub fn parse(value: &str) -> Option<GatewayPorts> {
        match value.to_ascii_lowercase().as_str() {
            "no" => Some(GatewayPorts::No),
            "yes" => Some(GatewayPorts::Yes),
            "clientspecified" => Some(GatewayPorts::ClientSpecified),
            _ => None,
        }
    }
}

/// One `host:port` pattern of `PermitOpen`/`PermitListen`; `*` matches any host or port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The host (`*` for any). `PermitListen` entries without a host have `localhost`.
    pub host: String,
    /// The port, `None` for `*`.
    pub port: Option<u32>,
}

impl HostPort {
    /// Parses `host:port`, `[v6]:port`, `*:port`, `host:*`, or (with `default_host`) a bare
    /// `port`.
    pub fn parse(text: &str, default_host: Option<&str>) -> Option<HostPort> {
        let (host, port) = match text.rsplit_once(':') {
            Some((h, p)) => (h.trim_start_matches('[').trim_end_matches(']'), p),
            None => (default_host?, text),
        };
        if host.is_empty() {
            return None;
        }
        let port = match port {
            "*" => None,
            p => Some(p.parse::<u32>().ok().filter(|p| *p <= 65535)?),
        };
        Some(HostPort {
            host: host.to_owned(),
            port,
        })
    }

    fn matches(&self, host: &str, port: u32) -> bool {
        (self.host == "*" || self.host.eq_ignore_ascii_case(host))
            && self.port.is_none_or(|p| p == port)
    }
}

/// A `PermitOpen`/`PermitListen` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permits {
    /// Anything (`any`, the default).
    Any,
    /// Nothing (`none`).
    None,
    /// Only these.
    Only(Vec<HostPort>),
}

impl Permits {
    fn allows(&self, host: &str, port: u32) -> bool {
        match self {
            Permits::Any => true,
            Permits::None => false,
            Permits::Only(list) => list.iter().any(|hp| hp.matches(host, port)),
        }
    }

    /// The narrower of two lists: both must allow.
    fn and(&self, other: &Permits) -> Permits {
        match (self, other) {
            (Permits::Any, o) | (o, Permits::Any) => o.clone(),
            (Permits::None, _) | (_, Permits::None) => Permits::None,
            (Permits::Only(a), Permits::Only(_)) => {
                // Entries of `a` that the other list also allows (exact host and port).
                let kept = a
                    .iter()
                    .filter(|hp| match hp.port {
                        Some(p) => other.allows(&hp.host, p),
                        None => false,
                    })
                    .cloned()
                    .collect();
                Permits::Only(kept)
            }
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
/// forwarding both ways, any target, any listen port, remote listeners on loopback only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingPolicy {
    /// `AllowTcpForwarding`.
    pub tcp: ForwardAllow,
    /// `AllowStreamLocalForwarding`.
    pub streamlocal: ForwardAllow,
    /// `PermitOpen`: targets of `direct-tcpip`.
    pub permit_open: Permits,
    /// `PermitListen`: addresses of `tcpip-forward`.
    pub permit_listen: Permits,
    /// `GatewayPorts`.
    pub gateway_ports: GatewayPorts,
    /// Whether listeners may take ports below 1024 (sshd allows it only for root).
    pub privileged_ports: bool,
}

impl Default for ForwardingPolicy {
    fn default() -> Self {
        ForwardingPolicy {
            tcp: ForwardAllow::All,
            streamlocal: ForwardAllow::All,
            permit_open: Permits::Any,
            permit_listen: Permits::Any,
            gateway_ports: GatewayPorts::No,
            privileged_ports: false,
        }
    }
}

/// The forwarding options of one authorized_keys line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyForwardingOptions {
    /// `no-port-forwarding` (or `restrict` without `port-forwarding`).
    pub no_port_forwarding: bool,
    /// `permitopen="host:port"` entries.
    pub permit_open: Vec<HostPort>,
    /// `permitlisten="[host:]port"` entries.
    pub permit_listen: Vec<HostPort>,
}

impl ForwardingPolicy {
    /// Nothing at all.
    pub fn deny_all() -> ForwardingPolicy {
        ForwardingPolicy {
            tcp: ForwardAllow::No,
            streamlocal: ForwardAllow::No,
            permit_open: Permits::None,
            permit_listen: Permits::None,
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
        if !key.permit_open.is_empty() {
            p.permit_open = p.permit_open.and(&Permits::Only(key.permit_open.clone()));
        }
        if !key.permit_listen.is_empty() {
            p.permit_listen = p
                .permit_listen
                .and(&Permits::Only(key.permit_listen.clone()));
        }
        p
    }

    /// May the client connect through us to `host:port` (`direct-tcpip`, `ssh -L`)?
    pub fn check_direct_tcpip(&self, host: &str, port: u32) -> Result<(), Denied> {
        if !self.tcp.local() {
            return Err(Denied("TCP forwarding is disabled"));
        }
        if !self.permit_open.allows(host, port) {
            return Err(Denied("the target is not in PermitOpen"));
        }
        Ok(())
    }

    /// May the client connect through us to the Unix socket `path`?
    pub fn check_direct_streamlocal(&self, path: &str) -> Result<(), Denied> {
        let _ = path;
        if !self.streamlocal.local() {
            return Err(Denied("Unix-socket forwarding is disabled"));
        }
        Ok(())
    }

    /// May the client have us listen on `address:port` (`tcpip-forward`, `ssh -R`)? Returns
    /// the address to bind: loopback unless `GatewayPorts` lets the client choose.
    pub fn listen_address(&self, address: &str, port: u32) -> Result<String, Denied> {
        if !self.tcp.remote() {
            return Err(Denied("TCP forwarding is disabled"));
        }
        if port > 65535 {
            return Err(Denied("bad port"));
        }
        if port != 0 && port < 1024 && !self.privileged_ports {
            return Err(Denied("privileged port"));
        }
        let bind = match self.gateway_ports {
            GatewayPorts::No => "127.0.0.1",
            GatewayPorts::Yes => "0.0.0.0",
            GatewayPorts::ClientSpecified => match address {
                "" | "*" | "0.0.0.0" => "0.0.0.0",
                "localhost" => "127.0.0.1",
                other => other,
            },
        };
        // PermitListen names the address as the client gives it; a bare port matches
        // loopback requests ("localhost").
        let named = match address {
            "" | "*" | "0.0.0.0" => "*",
            "127.0.0.1" | "::1" => "localhost",
            other => other,
        };
        let allowed = match &self.permit_listen {
            Permits::Only(list) => list.iter().any(|hp| {
                (hp.host == "*" || hp.host.eq_ignore_ascii_case(named))
                    && hp.port.is_none_or(|p| p == port)
            }),
            other => other.allows(named, port),
        };
        if !allowed {
            return Err(Denied("the address is not in PermitListen"));
        }
        Ok(bind.to_owned())
    }

    /// May the client have us listen on the Unix socket `path`?
    pub fn check_streamlocal_listen(&self, path: &str) -> Result<(), Denied> {
        let _ = path;
        if !self.streamlocal.remote() {
            return Err(Denied("Unix-socket forwarding is disabled"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(s: &str) -> HostPort {
        HostPort::parse(s, Some("localhost")).unwrap()
    }

    #[test]
    fn defaults_are_sshds() {
        let p = ForwardingPolicy::default();
        assert!(p.check_direct_tcpip("example.org", 80).is_ok());
        assert_eq!(p.listen_address("", 8080).unwrap(), "127.0.0.1");
        assert_eq!(p.listen_address("0.0.0.0", 0).unwrap(), "127.0.0.1");
        assert!(p.listen_address("", 80).is_err(), "privileged");
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
        assert_eq!(p.listen_address("localhost", 9000).unwrap(), "127.0.0.1");
        assert_eq!(p.listen_address("10.0.0.5", 9000).unwrap(), "10.0.0.5");
        p.gateway_ports = GatewayPorts::Yes;
        assert_eq!(p.listen_address("localhost", 9000).unwrap(), "0.0.0.0");
        assert_eq!(ForwardAllow::parse("ALL"), Some(ForwardAllow::All));
        assert_eq!(
            GatewayPorts::parse("clientspecified"),
            Some(GatewayPorts::ClientSpecified)
        );
    }

    #[test]
    fn permit_lists_and_wildcards() {
        let p = ForwardingPolicy {
            permit_open: Permits::Only(vec![hp("db.internal:5432"), hp("*:443"), hp("web:*")]),
            permit_listen: Permits::Only(vec![hp("8080"), hp("*:9000")]),
            ..ForwardingPolicy::default()
        };
        assert!(p.check_direct_tcpip("db.internal", 5432).is_ok());
        assert!(p.check_direct_tcpip("db.internal", 5433).is_err());
        assert!(p.check_direct_tcpip("anything", 443).is_ok());
        assert!(p.check_direct_tcpip("web", 1).is_ok());
        assert!(p.listen_address("localhost", 8080).is_ok());
        assert!(
            p.listen_address("", 8080).is_err(),
            "a bare port is loopback only"
        );
        assert!(p.listen_address("", 9000).is_ok());
        assert!(p.listen_address("localhost", 8081).is_err());
        assert!(HostPort::parse("[::1]:22", None).is_some_and(|h| h.host == "::1"));
        assert!(HostPort::parse("h:99999", None).is_none());
        assert!(HostPort::parse("22", None).is_none());
    }

    #[test]
    fn key_options_only_narrow() {
        let server = ForwardingPolicy {
            permit_open: Permits::Only(vec![hp("a:1"), hp("b:2")]),
            ..ForwardingPolicy::default()
        };
        let key = KeyForwardingOptions {
            permit_open: vec![hp("b:2"), hp("c:3")],
            ..KeyForwardingOptions::default()
        };
        let p = server.restricted_by(&key);
        assert!(p.check_direct_tcpip("b", 2).is_ok());
        assert!(p.check_direct_tcpip("a", 1).is_err());
        assert!(p.check_direct_tcpip("c", 3).is_err());
        let off = ForwardingPolicy::default().restricted_by(&KeyForwardingOptions {
            no_port_forwarding: true,
            ..KeyForwardingOptions::default()
        });
        assert!(off.check_direct_tcpip("x", 1).is_err());
        assert!(off.listen_address("", 5000).is_err());
        assert!(off.check_streamlocal_listen("/tmp/s").is_err());
        assert!(
            ForwardingPolicy::deny_all()
                .check_direct_tcpip("x", 1)
                .is_err()
        );
    }
}
