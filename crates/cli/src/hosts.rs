//! Host specifications: the destination (`[user@]host` or `ssh://[user@]host[:port]`) and the
//! jump hosts of `-J`/`ProxyJump` (comma-separated `[user@]host[:port]` or `ssh://` URIs).

/// A user, host and port, each as given (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSpec {
    /// The user before `@`.
    pub user: Option<String>,
    /// The host name or address (without IPv6 brackets).
    pub host: String,
    /// The port after `:`.
    pub port: Option<u16>,
}

/// A port number 1..=65535, digits only.
pub fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|&p| p != 0)
}

/// Splits `host[:port]` or `[host][:port]`; `None` if malformed.
fn host_and_port(text: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(inner) = text.strip_prefix('[') {
        let (h, after) = inner.split_once(']')?;
        match after.strip_prefix(':') {
            Some(p) => (h, Some(parse_port(p)?)),
            None if after.is_empty() => (h, None),
            None => return None,
        }
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h, Some(parse_port(p)?)),
            None => (text, None),
        }
    };
    (!host.is_empty()).then_some((host, port))
}

/// Splits at the last `@` into a non-empty user and the rest; `None` if the user is empty.
fn user_and_rest(text: &str) -> Option<(Option<&str>, &str)> {
    match text.rsplit_once('@') {
        Some((u, rest)) if !u.is_empty() => Some((Some(u), rest)),
        Some(_) => None,
        None => Some((None, text)),
    }
}

/// Parses `ssh://[user@]host[:port][/]`. `None`: not a URI; `Some(None)`: a bad one.
pub fn parse_ssh_uri(text: &str) -> Option<Option<HostSpec>> {
    let rest = text.strip_prefix("ssh://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') {
        return Some(None);
    }
    let spec = user_and_rest(rest).and_then(|(user, hostport)| {
        let (host, port) = host_and_port(hostport)?;
        Some(HostSpec {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
        })
    });
    Some(spec)
}

/// Parses the destination argument: a URI, or `[user@]host` (no port: `h:22` is a host
/// name, as in ssh). `None` if it is invalid.
pub fn parse_destination(dest: &str) -> Option<HostSpec> {
    if let Some(uri) = parse_ssh_uri(dest) {
        return uri;
    }
    let (user, host) = user_and_rest(dest)?;
    (!host.is_empty()).then(|| HostSpec {
        user: user.map(str::to_owned),
        host: host.to_owned(),
        port: None,
    })
}

/// Parses one jump host: a URI or `[user@]host[:port]`.
fn parse_hop(text: &str) -> Option<HostSpec> {
    if let Some(uri) = parse_ssh_uri(text) {
        return uri;
    }
    let (user, hostport) = user_and_rest(text)?;
    let (host, port) = host_and_port(hostport)?;
    Some(HostSpec {
        user: user.map(str::to_owned),
        host: host.to_owned(),
        port,
    })
}

/// Parses a `-J`/`ProxyJump` value: the hops in the order they are connected through.
/// `none` gives no hops. `None` if any hop is invalid.
pub fn parse_jump(text: &str) -> Option<Vec<HostSpec>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("none") {
        return Some(Vec::new());
    }
    text.split(',').map(parse_hop).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(user: Option<&str>, host: &str, port: Option<u16>) -> HostSpec {
        HostSpec {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn destinations() {
        assert_eq!(parse_destination("h"), Some(spec(None, "h", None)));
        assert_eq!(parse_destination("u@h"), Some(spec(Some("u"), "h", None)));
        assert_eq!(
            parse_destination("a@b@h"),
            Some(spec(Some("a@b"), "h", None))
        );
        assert_eq!(parse_destination("h:22"), Some(spec(None, "h:22", None)));
        assert_eq!(
            parse_destination("ssh://u@[::1]:4/"),
            Some(spec(Some("u"), "::1", Some(4)))
        );
        for bad in [
            "@h",
            "u@",
            "",
            "ssh://h:0",
            "ssh://h/x",
            "ssh://@h",
            "ssh://",
        ] {
            assert_eq!(parse_destination(bad), None, "{bad}");
        }
    }

    #[test]
    fn jump_hosts() {
        assert_eq!(
            parse_jump("a@b:2,c"),
            Some(vec![spec(Some("a"), "b", Some(2)), spec(None, "c", None)])
        );
        assert_eq!(
            parse_jump("ssh://u@h:3"),
            Some(vec![spec(Some("u"), "h", Some(3))])
        );
        assert_eq!(
            parse_jump("[::1]:22,[fe80::2]"),
            Some(vec![
                spec(None, "::1", Some(22)),
                spec(None, "fe80::2", None)
            ])
        );
        assert_eq!(parse_jump("none"), Some(vec![]));
        assert_eq!(parse_jump("NONE"), Some(vec![]));
        for bad in [
            "",
            "a,,b",
            "a:0",
            "u@",
            "@h",
            "a:x",
            "[::1",
            "ssh://h/p",
            "a,",
        ] {
            assert_eq!(parse_jump(bad), None, "{bad}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("22"), Some(22));
        assert_eq!(parse_port("65535"), Some(65535));
        for bad in ["0", "65536", "", "2x", "+1", "-1"] {
            assert_eq!(parse_port(bad), None, "{bad}");
        }
    }
}
