//! Forwarding specifications (`-L`, `-R`, `-D`, `-W` and the `LocalForward`, `RemoteForward`,
//! `DynamicForward` keywords) in every form OpenSSH accepts, parsed into typed values.
//!
//! A specification is up to four `:`-separated fields. A field in square brackets is taken
//! literally (IPv6 addresses: `[::1]:8080`); elsewhere `\` escapes the next character. A
//! field containing `/` is a Unix-domain socket path. The number of fields and which of them
//! are paths decide the form:
//!
//! | fields | form |
//! |---|---|
//! | 1 | `port` or `socket`: dynamic (`-D`, `-R port`) |
//! | 2 | `bind:port` (dynamic), `port:socket`, `socket:socket` |
//! | 3 | `port:host:hostport`, `socket:host:hostport`, `bind:port:socket` |
//! | 4 | `bind:port:host:hostport` |
//!
//! Ports are numbers 0-65535 or service names from `/etc/services`. Listening on port 0 is
//! only allowed for remote forwards (the server picks the port); a target port 0 never is.

use std::fmt;

/// The longest host name OpenSSH accepts in a forward (`NI_MAXHOST`, less the terminator).
const MAX_HOST: usize = 1024;
/// The longest Unix-domain socket path (`sizeof(sun_path)`, less the terminator).
const MAX_SOCKET_PATH: usize = 107;

/// The address a TCP listener binds to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BindAddress {
    /// None given: the loopback address, or every address with `-g`/`GatewayPorts` (for a
    /// remote forward, the server's `GatewayPorts` decides; we ask for `localhost`).
    Default,
    /// `*` or an empty address: every address.
    Any,
    /// This address or host name.
    Host(String),
}

impl BindAddress {
    fn from_field(field: &str) -> BindAddress {
        match field {
            "" | "*" => BindAddress::Any,
            host => BindAddress::Host(host.to_owned()),
        }
    }

    /// The address to bind locally, as ssh does: the default is the loopback address
    /// unless `gateway_ports`; `None` means every address.
    pub fn local_bind(&self, gateway_ports: bool) -> Option<&str> {
        match self {
            BindAddress::Default if gateway_ports => None,
            BindAddress::Default => Some("localhost"),
            BindAddress::Any => None,
            BindAddress::Host(h) => Some(h),
        }
    }

    /// The address a remote forward asks the server to bind, as ssh sends it in
    /// `tcpip-forward`: `localhost` by default, the empty string for every address.
    pub fn remote_request(&self) -> &str {
        match self {
            BindAddress::Default => "localhost",
            BindAddress::Any => "",
            BindAddress::Host(h) => h,
        }
    }
}

/// Where a forward listens (on this side for `-L`/`-D`, on the server for `-R`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Listen {
    /// A TCP port (0: let the server choose, remote forwards only).
    Tcp {
        /// The address to bind.
        bind: BindAddress,
        /// The port.
        port: u16,
    },
    /// A Unix-domain socket at this path.
    Unix(String),
}

impl Listen {
    /// The listening side as ssh's debug messages name it (`LOCALHOST:8080` when no address
    /// was given, `*:8080` with `-g`, or the socket path).
    pub fn describe(&self, gateway_ports: bool) -> String {
        match self {
            Listen::Tcp {
                bind: BindAddress::Default,
                port,
            } if gateway_ports => format!("*:{port}"),
            Listen::Tcp {
                bind: BindAddress::Default,
                port,
            } => format!("LOCALHOST:{port}"),
            Listen::Tcp {
                bind: BindAddress::Any,
                port,
            } => format!("*:{port}"),
            Listen::Tcp {
                bind: BindAddress::Host(h),
                port,
            } => format!("{h}:{port}"),
            Listen::Unix(path) => path.clone(),
        }
    }
}

/// Where forwarded connections go (reached from the server for `-L`, from this side for `-R`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A TCP host and port (never 0).
    Tcp {
        /// Host name or address.
        host: String,
        /// Port, 1-65535.
        port: u16,
    },
    /// A Unix-domain socket at this path.
    Unix(String),
    /// Wherever each connection asks, as a SOCKS proxy (`-D`, `-R [bind:]port`).
    Dynamic,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            Target::Unix(path) => f.write_str(path),
            Target::Dynamic => f.write_str("socks"),
        }
    }
}

/// One forward: a listener and where its connections go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Forward {
    /// Where it listens.
    pub listen: Listen,
    /// Where connections go.
    pub target: Target,
}

/// A parsed forwarding request, by direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ForwardSpec {
    /// `-L` (target TCP or Unix) and `-D` (target [`Target::Dynamic`]): listen here,
    /// connect from the server.
    Local(Forward),
    /// `-R`: the server listens, we connect (or act as a SOCKS proxy with
    /// [`Target::Dynamic`]).
    Remote(Forward),
}

impl ForwardSpec {
    /// The forward, whichever its direction.
    pub fn forward(&self) -> &Forward {
        match self {
            ForwardSpec::Local(f) | ForwardSpec::Remote(f) => f,
        }
    }
}

/// Which flag or keyword a specification came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardKind {
    /// `-L`, `LocalForward`.
    Local,
    /// `-R`, `RemoteForward`.
    Remote,
    /// `-D`, `DynamicForward`.
    Dynamic,
}

impl ForwardKind {
    fn word(self) -> &'static str {
        match self {
            ForwardKind::Local => "local",
            ForwardKind::Remote => "remote",
            ForwardKind::Dynamic => "dynamic",
        }
    }
}

/// A specification that is not valid; displays as ssh's message
/// (`Bad local forwarding specification '...'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadForward {
    /// What kind of forward it was meant to be (`None`: `-W`).
    pub kind: Option<ForwardKind>,
    /// The text as given.
    pub spec: String,
}

impl fmt::Display for BadForward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.kind.map_or("stdio", ForwardKind::word);
        write!(f, "Bad {word} forwarding specification '{}'", self.spec)
    }
}

/// One field of a specification.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    text: String,
    is_path: bool,
}

/// Splits `spec` into at most four fields; `None` if it is malformed.
fn split_fields(spec: &str) -> Option<Vec<Field>> {
    let mut rest = spec.trim_start();
    let mut fields = Vec::new();
    while !rest.is_empty() {
        if fields.len() == 4 {
            return None; // Trailing garbage.
        }
        if let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']')?;
            let text = inner.get(..close)?;
            let after = inner.get(close + 1..)?;
            rest = match after.strip_prefix(':') {
                Some(r) => r,
                None if after.is_empty() => after,
                None => return None,
            };
            fields.push(Field {
                text: text.to_owned(),
                is_path: text.contains('/'),
            });
            continue;
        }
        let mut text = String::new();
        let mut is_path = false;
        let mut chars = rest.char_indices();
        let mut next_start = rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => text.push(chars.next()?.1),
                ':' => {
                    next_start = i + 1;
                    break;
                }
                c => {
                    is_path |= c == '/';
                    text.push(c);
                }
            }
        }
        rest = rest.get(next_start..).unwrap_or_default();
        fields.push(Field { text, is_path });
    }
    Some(fields)
}

/// A port: a number 0-65535 or a TCP service name.
fn port_of(text: &str) -> Option<u16> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    service_port(text)
}

/// The TCP port of a service name in `/etc/services` (as `getservbyname(name, "tcp")`).
fn service_port(name: &str) -> Option<u16> {
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let services = std::fs::read_to_string("/etc/services").ok()?;
    services.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let primary = words.next()?;
        let (port, proto) = words.next()?.split_once('/')?;
        let named = primary == name || words.any(|alias| alias == name);
        (named && proto == "tcp")
            .then(|| port.parse().ok())
            .flatten()
    })
}

/// The listening side from a bind-address field (if any) and a port or path field.
fn listen_tcp(bind: Option<&Field>, port: &Field) -> Option<Listen> {
    Some(Listen::Tcp {
        bind: bind.map_or(BindAddress::Default, |b| BindAddress::from_field(&b.text)),
        port: port_of(&port.text)?,
    })
}

fn target_tcp(host: &Field, port: &Field) -> Option<Target> {
    Some(Target::Tcp {
        host: host.text.clone(),
        port: port_of(&port.text).filter(|&p| p != 0)?,
    })
}

/// Interprets the fields of a dynamic forward: `port`, `socket` or `bind:port`.
fn dynamic(fields: &[Field]) -> Option<Listen> {
    match fields {
        [one] if one.is_path => Some(Listen::Unix(one.text.clone())),
        [port] => listen_tcp(None, port),
        [bind, port] => listen_tcp(Some(bind), port),
        _ => None,
    }
}

/// Interprets the fields of a forward with a target (`-L`, `-R`).
fn with_target(fields: &[Field]) -> Option<Forward> {
    let (listen, target) = match fields {
        [a, b] if a.is_path && b.is_path => {
            (Listen::Unix(a.text.clone()), Target::Unix(b.text.clone()))
        }
        [port, b] if b.is_path => (listen_tcp(None, port)?, Target::Unix(b.text.clone())),
        [a, host, port] if a.is_path => (Listen::Unix(a.text.clone()), target_tcp(host, port)?),
        [bind, port, c] if c.is_path => {
            (listen_tcp(Some(bind), port)?, Target::Unix(c.text.clone()))
        }
        [port, host, hostport] => (listen_tcp(None, port)?, target_tcp(host, hostport)?),
        [bind, port, host, hostport] => {
            (listen_tcp(Some(bind), port)?, target_tcp(host, hostport)?)
        }
        _ => return None,
    };
    Some(Forward { listen, target })
}

/// Whether the names and paths are within the system's limits.
fn within_limits(f: &Forward) -> bool {
    let listen_ok = match &f.listen {
        Listen::Tcp {
            bind: BindAddress::Host(h),
            ..
        } => h.len() < MAX_HOST,
        Listen::Tcp { .. } => true,
        Listen::Unix(p) => p.len() <= MAX_SOCKET_PATH,
    };
    let target_ok = match &f.target {
        Target::Tcp { host, .. } => host.len() < MAX_HOST,
        Target::Unix(p) => p.len() <= MAX_SOCKET_PATH,
        Target::Dynamic => true,
    };
    listen_ok && target_ok
}

/// Parses a `-L`, `-R` or `-D` argument as ssh does (`-R` falls back to the dynamic forms).
pub fn parse_forward(spec: &str, kind: ForwardKind) -> Result<ForwardSpec, BadForward> {
    let bad = || BadForward {
        kind: Some(kind),
        spec: spec.to_owned(),
    };
    let fields = split_fields(spec).ok_or_else(bad)?;
    let forward = match kind {
        ForwardKind::Local | ForwardKind::Remote => with_target(&fields),
        ForwardKind::Dynamic => None,
    };
    let forward = forward.or_else(|| match kind {
        ForwardKind::Local => None,
        ForwardKind::Remote | ForwardKind::Dynamic => dynamic(&fields).map(|listen| Forward {
            listen,
            target: Target::Dynamic,
        }),
    });
    let forward = forward
        .filter(within_limits)
        .filter(|f| kind == ForwardKind::Remote || !matches!(f.listen, Listen::Tcp { port: 0, .. }))
        .ok_or_else(bad)?;
    Ok(match kind {
        ForwardKind::Remote => ForwardSpec::Remote(forward),
        ForwardKind::Local | ForwardKind::Dynamic => ForwardSpec::Local(forward),
    })
}

/// Parses the `-o` form of `LocalForward`/`RemoteForward` (`listen target`, two words;
/// `RemoteForward` with one word is dynamic) and `DynamicForward` (one word). The error is
/// ssh's reason (`Missing target argument`, `Bad forwarding specification`).
pub fn parse_forward_keyword(words: &[String], kind: ForwardKind) -> Result<ForwardSpec, String> {
    const BAD: &str = "Bad forwarding specification";
    let spec = match (kind, words) {
        (ForwardKind::Dynamic, [one]) => one.clone(),
        (ForwardKind::Remote, [one]) => {
            return parse_forward(one, ForwardKind::Dynamic)
                .map(|s| ForwardSpec::Remote(s.forward().clone()))
                .map_err(|_| BAD.to_owned());
        }
        (ForwardKind::Local, [_]) => return Err("Missing target argument".to_owned()),
        (ForwardKind::Local | ForwardKind::Remote, [listen, target]) => {
            format!("{listen}:{target}")
        }
        _ => return Err(BAD.to_owned()),
    };
    parse_forward(&spec, kind).map_err(|_| BAD.to_owned())
}

/// Parses `-W host:port` (or `-W socket`): the target of stdio forwarding.
pub fn parse_stdio_forward(spec: &str) -> Result<Target, BadForward> {
    let bad = || BadForward {
        kind: None,
        spec: spec.to_owned(),
    };
    let fields = split_fields(spec).ok_or_else(bad)?;
    match fields.as_slice() {
        [path] if path.is_path && path.text.len() <= MAX_SOCKET_PATH => {
            Ok(Target::Unix(path.text.clone()))
        }
        [host, port] if host.text.len() < MAX_HOST => target_tcp(host, port).ok_or_else(bad),
        _ => Err(bad()),
    }
}

#[cfg(test)]
#[path = "forward_tests.rs"]
mod tests;
