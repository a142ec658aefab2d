//! `ProxyJump` values (`[user@]host[:port]` hops, or `ssh://` URIs, comma-separated) and
//! how `ssh -G` prints them.

use crate::env::ConfigEnv;
use crate::forward::a2port;

/// The parsed `ProxyJump`: the last hop in detail (the one connected to last, before the
/// destination) and the hops before it as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jump {
    /// The whole value as written (comment removed).
    pub spec: String,
    /// The last hop's user.
    pub user: Option<String>,
    /// The last hop's host.
    pub host: String,
    /// The last hop's port.
    pub port: Option<u16>,
    /// The hops before the last one, as written (`a,b`).
    pub extra: Option<String>,
}

/// One hop: `(user, host, port)`.
pub type Hop = (Option<String>, String, Option<u16>);

/// Parses `[user@]host[:port]` (host in brackets for IPv6) or `ssh://[user@]host[:port]`.
pub fn parse_hop(s: &str, env: &dyn ConfigEnv) -> Option<Hop> {
    let s = s
        .strip_prefix("ssh://")
        .map_or(s, |r| r.strip_suffix('/').unwrap_or(r));
    let (user, hp) = match s.rfind('@') {
        Some(i) => (Some(s[..i].to_owned()), &s[i + 1..]),
        None => (None, s),
    };
    if user.as_deref() == Some("") {
        return None;
    }
    let (host, port) = if let Some(inner) = hp.strip_prefix('[') {
        let end = inner.find(']')?;
        let after = &inner[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(a2port(p, env).filter(|p| *p > 0)?),
            None if after.is_empty() => None,
            None => return None,
        };
        (inner[..end].to_owned(), port)
    } else {
        match hp.split_once(':') {
            Some((h, p)) if !p.contains(':') => {
                (h.to_owned(), Some(a2port(p, env).filter(|p| *p > 0)?))
            }
            Some(_) => return None,
            None => (hp.to_owned(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some((user, host, port))
}

/// A `ProxyJump` value with a hop that is not `[user@]host[:port]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadJump;

/// Parses a `ProxyJump` value; `Ok(None)` for `none`. Every hop's syntax is checked.
pub fn parse_jump(value: &str, env: &dyn ConfigEnv) -> Result<Option<Jump>, BadJump> {
    let spec = value
        .split('#')
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_owned();
    if spec.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let mut last = None;
    for hop in spec.rsplit(',') {
        let h = parse_hop(hop, env).ok_or(BadJump)?;
        last.get_or_insert(h);
    }
    let (user, host, port) = last.ok_or(BadJump)?;
    let extra = spec
        .rfind(',')
        .filter(|i| *i > 0)
        .map(|i| spec[..i].to_owned());
    Ok(Some(Jump {
        spec,
        user,
        host,
        port,
        extra,
    }))
}

impl Jump {
    /// As `ssh -G` prints it: the earlier hops, then `user@[host]:port` with brackets around
    /// a numeric host.
    pub fn dump(&self) -> String {
        let numeric =
            self.host.contains(':') || self.host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let mut s = String::new();
        if let Some(e) = &self.extra {
            s.push_str(e);
            s.push(',');
        }
        if let Some(u) = &self.user {
            s.push_str(u);
            s.push('@');
        }
        if numeric {
            s.push('[');
        }
        s.push_str(&self.host);
        if numeric {
            s.push(']');
        }
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MemoryEnv;

    #[test]
    fn jumps() {
        let env = MemoryEnv::default();
        let j = parse_jump("a,me@b:2222 # c", &env).unwrap().unwrap();
        assert_eq!(
            (j.user.as_deref(), j.host.as_str(), j.port),
            (Some("me"), "b", Some(2222))
        );
        assert_eq!(j.extra.as_deref(), Some("a"));
        assert_eq!(j.dump(), "a,me@b:2222");
        let j = parse_jump("ssh://u@[::1]:22", &env).unwrap().unwrap();
        assert_eq!(j.dump(), "u@[::1]:22");
        let j = parse_jump("10.0.0.1", &env).unwrap().unwrap();
        assert_eq!(j.dump(), "[10.0.0.1]");
        assert_eq!(parse_jump("none", &env), Ok(None));
        assert!(parse_jump("a,@b", &env).is_err());
        assert!(parse_jump("h:0", &env).is_err());
        assert!(parse_jump("", &env).is_err());
    }
}
