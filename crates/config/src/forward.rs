//! `LocalForward`, `RemoteForward` and `DynamicForward` specifications as OpenSSH parses
//! them (`parse_forward`), and how `ssh -G` prints them.

use crate::env::ConfigEnv;

/// One side of a forward: a TCP address or a Unix-domain socket path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A host (or `None`: the default address) and port.
    Tcp {
        /// The host or bind address.
        host: Option<String>,
        /// The port (0 for "any", on the listening side of a remote forward).
        port: u16,
    },
    /// A socket path.
    Path(String),
}

/// A forward. A dynamic (SOCKS) forward has no `connect` side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Where to listen.
    pub listen: Endpoint,
    /// Where to connect; `None` for a dynamic forward.
    pub connect: Option<Endpoint>,
}

/// Longest host name (`NI_MAXHOST`) and socket path accepted.
const MAX_HOST: usize = 1025;
const MAX_SUN_PATH: usize = 104;

/// A port as OpenSSH's `a2port`: a number 0-65535 or a TCP service name.
pub fn a2port(s: &str, env: &dyn ConfigEnv) -> Option<u16> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    env.service_port(s)
}

/// Splits one field: `[...]` taken literally, else up to the next `:` with `\` escapes.
/// Returns (field, is a path, rest).
fn field(s: &str) -> Option<(String, bool, &str)> {
    if let Some(inner) = s.strip_prefix('[') {
        let end = inner.find(']')?;
        let f = &inner[..end];
        let after = &inner[end + 1..];
        let rest = match after.strip_prefix(':') {
            Some(r) => r,
            None if after.is_empty() => after,
            None => return None,
        };
        return Some((f.to_owned(), f.contains('/'), rest));
    }
    let mut out = String::new();
    let mut path = false;
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            ':' => return Some((out, path, &s[i + 1..])),
            c => {
                path |= c == '/';
                out.push(c);
            }
        }
    }
    Some((out, path, ""))
}

/// Parses a forward specification (`spec` is the two keyword words joined by `:` or the one
/// word of a dynamic forward, `${VAR}` already expanded).
pub fn parse_forward(
    spec: &str,
    dynamic: bool,
    remote: bool,
    env: &dyn ConfigEnv,
) -> Option<Forward> {
    let mut rest = spec.trim_start();
    let mut f: Vec<(String, bool)> = Vec::new();
    while !rest.is_empty() && f.len() < 4 {
        let (arg, path, r) = field(rest)?;
        f.push((arg, path));
        rest = r;
    }
    if !rest.is_empty() {
        return None;
    }
    let port = |s: &str| a2port(s, env);
    let tcp = |h: Option<&str>, p: &str| -> Option<Endpoint> {
        Some(Endpoint::Tcp {
            host: h.map(str::to_owned),
            port: port(p)?,
        })
    };
    let (listen, connect) = match f.as_slice() {
        [(a, true)] => (Endpoint::Path(a.clone()), None),
        [(a, false)] => (tcp(None, a)?, None),
        [(a, true), (b, true)] => (Endpoint::Path(a.clone()), Some(Endpoint::Path(b.clone()))),
        [(a, _), (b, true)] => (tcp(None, a)?, Some(Endpoint::Path(b.clone()))),
        [(a, _), (b, false)] => (tcp(Some(a), b)?, None),
        [(a, true), (b, _), (c, _)] => (Endpoint::Path(a.clone()), Some(tcp(Some(b), c)?)),
        [(a, _), (b, _), (c, true)] => (tcp(Some(a), b)?, Some(Endpoint::Path(c.clone()))),
        [(a, _), (b, _), (c, _)] => (tcp(None, a)?, Some(tcp(Some(b), c)?)),
        [(a, _), (b, _), (c, _), (d, _)] => (tcp(Some(a), b)?, Some(tcp(Some(c), d)?)),
        _ => return None,
    };
    let n = f.len();
    if dynamic {
        if !(n == 1 || n == 2) || connect.is_some() {
            return None;
        }
    } else {
        let has_path =
            matches!(listen, Endpoint::Path(_)) || matches!(connect, Some(Endpoint::Path(_)));
        if !(n == 3 || n == 4 || has_path) {
            return None;
        }
        match &connect {
            Some(Endpoint::Tcp { port: 0, .. }) | None => return None,
            _ => {}
        }
    }
    if let Endpoint::Tcp { port: 0, .. } = listen
        && !remote
    {
        return None;
    }
    for e in std::iter::once(&listen).chain(connect.as_ref()) {
        let ok = match e {
            Endpoint::Tcp { host, .. } => host.as_ref().is_none_or(|h| h.len() < MAX_HOST),
            Endpoint::Path(p) => p.len() < MAX_SUN_PATH,
        };
        if !ok {
            return None;
        }
    }
    Some(Forward { listen, connect })
}

impl Endpoint {
    /// As `ssh -G` prints one side: `port`, `[host]:port` or the path.
    pub fn dump(&self) -> String {
        match self {
            Endpoint::Tcp { host: None, port } => port.to_string(),
            Endpoint::Tcp {
                host: Some(h),
                port,
            } => format!("[{h}]:{port}"),
            Endpoint::Path(p) => p.clone(),
        }
    }

    /// As a forwarding argument Seashell's command line reads back (`host:port`, with
    /// brackets around a host containing `:`).
    pub fn spec(&self) -> String {
        match self {
            Endpoint::Tcp { host: None, port } => port.to_string(),
            Endpoint::Tcp {
                host: Some(h),
                port,
            } => format!("[{h}]:{port}"),
            Endpoint::Path(p) => p.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MemoryEnv;

    fn p(spec: &str, dynamic: bool, remote: bool) -> Option<Forward> {
        parse_forward(spec, dynamic, remote, &MemoryEnv::default())
    }

    fn tcp(h: Option<&str>, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: h.map(str::to_owned),
            port,
        }
    }

    #[test]
    fn forms() {
        assert_eq!(
            p("8080:db:5432", false, false),
            Some(Forward {
                listen: tcp(None, 8080),
                connect: Some(tcp(Some("db"), 5432))
            })
        );
        assert_eq!(
            p("[::1]:8080:[fe80::1]:ssh", false, false),
            Some(Forward {
                listen: tcp(Some("::1"), 8080),
                connect: Some(tcp(Some("fe80::1"), 22))
            })
        );
        assert_eq!(
            p("/tmp/a.sock:/run/b.sock", false, false).map(|f| f.listen),
            Some(Endpoint::Path("/tmp/a.sock".into()))
        );
        assert_eq!(
            p("1080", true, false),
            Some(Forward {
                listen: tcp(None, 1080),
                connect: None
            })
        );
        assert_eq!(
            p("*:1080", true, false),
            Some(Forward {
                listen: tcp(Some("*"), 1080),
                connect: None
            })
        );
        assert_eq!(
            p("0:h:1", false, true).map(|f| f.listen),
            Some(tcp(None, 0))
        );
        assert!(p("0:h:1", false, false).is_none());
        assert!(p("8080:h", false, false).is_none());
        assert!(p("8080:h:0", false, false).is_none());
        assert!(p("a:b:c:d:e", false, false).is_none());
        assert!(p("[x:1", false, false).is_none());
    }

    #[test]
    fn dumps() {
        assert_eq!(tcp(Some("127.0.0.1"), 1).dump(), "[127.0.0.1]:1");
        assert_eq!(tcp(None, 8080).dump(), "8080");
    }
}
