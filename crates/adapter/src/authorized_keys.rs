//! OpenSSH `authorized_keys` files, for servers built on the adapters (`seashell serve`
//! uses it): one key per line, optionally preceded by options
//! (`no-pty,command="..." ssh-ed25519 AAAA... comment`).
//!
//! Options are parsed, never skipped blindly: the ones `seashell serve` enforces (`command`,
//! `from` (patterns and CIDR blocks), `no-pty`, `pty`, `restrict`, the forwarding ones
//! `no-port-forwarding`, `port-forwarding`, `permitopen`, `permitlisten`, and
//! `cert-authority`, `principals`, `expiry-time`, `no-touch-required`, `verify-required`)
//! apply to connections authenticated with the key; the ones about features it does not offer
//! (X11, agent, user rc, `tunnel`, and `environment`, which sshd ignores by default) need no
//! action; any other option could restrict the key in a way we would not honour, so such a
//! key is left out (fail closed) with a warning.

use crate::{HostPort, KeyForwardingOptions};
use seashell_proto::PublicKey;
use seashell_proto::config::wildcard_match;
use seashell_proto::keys::cert_check::cidr_contains;
use std::net::IpAddr;

/// Restrictions an `authorized_keys` line puts on sessions authenticated with its key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOptions {
    /// `command="..."`: run this instead of what the client asks.
    pub command: Option<String>,
    /// `no-pty` (or `restrict` without `pty`): refuse pseudo-terminals.
    pub no_pty: bool,
    /// `from="..."`: patterns the client address must match (`!` negates).
    pub from: Option<Vec<String>>,
    /// `no-port-forwarding` (or `restrict` without `port-forwarding`), `permitopen="host:port"`
    /// and `permitlisten="[host:]port"` (each time they appear): they narrow the server's
    /// forwarding policy, never widen it.
    pub forwarding: KeyForwardingOptions,
    /// `cert-authority`: the key is a CA; certificates it signs are accepted (never the key
    /// itself).
    pub cert_authority: bool,
    /// `principals="a,b"` (with `cert-authority`): a certificate must name one of these
    /// instead of the user name.
    pub principals: Option<Vec<String>>,
    /// `expiry-time="YYYYMMDD[HHMM[SS]]"` (UTC): the key is refused from then on (Unix
    /// seconds).
    pub expiry_time: Option<u64>,
    /// `no-touch-required`: FIDO signatures without user presence are accepted.
    pub no_touch_required: bool,
    /// `verify-required`: FIDO signatures must show user verification (PIN, biometrics).
    pub verify_required: bool,
    /// `tunnel="n"`: the tun device a tunnel may use (tunnels are never offered).
    pub tunnel: Option<u32>,
}

impl KeyOptions {
    /// Whether a client at `ip` may use the key (`from=` patterns; no `from=` allows all).
    /// A client whose address is unknown (`seashell serve -i` on pipes) matches no
    /// `from=`, so a key restricted that way cannot be used. An IPv4-mapped IPv6 address
    /// (`::ffff:10.0.0.5`, a dual-stack listener's view of an IPv4 client) is matched as the
    /// IPv4 address it is, and patterns match case-insensitively, as in OpenSSH.
    pub fn allows_from(&self, ip: Option<IpAddr>) -> bool {
        let Some(patterns) = &self.from else {
            return true;
        };
        let Some(ip) = ip else {
            return false;
        };
        let text = ip.to_canonical().to_string().to_ascii_lowercase();
        let mut allowed = false;
        for p in patterns {
            let p = p.to_ascii_lowercase();
            let (negated, pat) = match p.strip_prefix('!') {
                Some(neg) => (true, neg),
                None => (false, p.as_str()),
            };
            let hit = if pat.contains('/') {
                cidr_contains(pat, ip.to_canonical()) == Some(true)
            } else {
                wildcard_match(pat, &text)
            };
            match (hit, negated) {
                (true, true) => return false,
                (true, false) => allowed = true,
                _ => {}
            }
        }
        allowed
    }

    /// Whether the key has expired (`expiry-time`) at `now_unix`.
    pub fn expired(&self, now_unix: u64) -> bool {
        self.expiry_time.is_some_and(|t| now_unix >= t)
    }
}

/// One usable line of an `authorized_keys` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedKey {
    /// The key.
    pub key: PublicKey,
    /// The line's options.
    pub options: KeyOptions,
    /// The line's comment (may be empty).
    pub comment: String,
}

/// An `authorized_keys` file, parsed.
#[derive(Debug, Clone, Default)]
pub struct AuthorizedKeys {
    /// The keys accepted, in file order.
    pub keys: Vec<AuthorizedKey>,
    /// One message per line that was left out, with its line number.
    pub skipped: Vec<String>,
}

impl AuthorizedKeys {
    /// Parses the text of an `authorized_keys` file. Never fails: lines that cannot be used
    /// are reported in [`AuthorizedKeys::skipped`].
    pub fn parse(text: &str) -> AuthorizedKeys {
        let mut out = AuthorizedKeys::default();
        for (no, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_line(line) {
                Ok(k) => out.keys.push(k),
                Err(why) => out.skipped.push(format!("line {}: {why}", no + 1)),
            }
        }
        out
    }

    /// The entry for `key`, if it is listed (the first matching line wins, as in OpenSSH).
    /// `cert-authority` lines are not keys that may log in themselves.
    pub fn find(&self, key: &PublicKey) -> Option<&AuthorizedKey> {
        self.keys
            .iter()
            .find(|k| k.key == *key && !k.options.cert_authority)
    }

    /// The `cert-authority` lines naming the CA key `ca`, in file order.
    pub fn cert_authorities<'a>(
        &'a self,
        ca: &'a PublicKey,
    ) -> impl Iterator<Item = &'a AuthorizedKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.options.cert_authority && k.key == *ca)
    }
}

/// Whether `word` names a public key type, so the line has no options before it.
fn is_key_type(word: &str) -> bool {
    matches!(
        word,
        "ssh-ed25519"
            | "ssh-rsa"
            | "ssh-dss"
            | "ecdsa-sha2-nistp256"
            | "ecdsa-sha2-nistp384"
            | "ecdsa-sha2-nistp521"
            | "sk-ssh-ed25519@openssh.com"
            | "sk-ecdsa-sha2-nistp256@openssh.com"
            | "webauthn-sk-ecdsa-sha2-nistp256@openssh.com"
            | "ssh-mldsa44-ed25519"
    ) || word.ends_with("-cert-v01@openssh.com")
}

/// Parses one non-empty, non-comment line.
fn parse_line(line: &str) -> Result<AuthorizedKey, String> {
    let first = line.split_ascii_whitespace().next().unwrap_or_default();
    let (options, key_part) = if is_key_type(first) {
        (KeyOptions::default(), line)
    } else {
        let (opts, rest) = split_options(line)?;
        (parse_options(&opts)?, rest)
    };
    let (key, comment) =
        seashell_keys::parse_public_key_line(key_part).map_err(|e| format!("{e}; key ignored"))?;
    Ok(AuthorizedKey {
        key,
        options,
        comment,
    })
}

/// Option items: `name` or `name="value"`, unquoted.
type OptionItems = Vec<(String, Option<String>)>;

/// Splits the options field (up to the first unquoted blank) from the rest of the line, and
/// splits it into `name` or `name="value"` items with the quotes removed.
fn split_options(line: &str) -> Result<(OptionItems, &str), String> {
    let mut items = Vec::new();
    let mut name = String::new();
    let mut value: Option<String> = None;
    let mut in_quotes = false;
    let mut chars = line.char_indices();
    let mut end = line.len();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\\' if in_quotes => {
                // Only \" is an escape in OpenSSH's option values; keep other backslashes.
                let next = chars.clone().next().map(|(_, n)| n);
                let target = value.get_or_insert_with(String::new);
                if next == Some('"') {
                    chars.next();
                    target.push('"');
                } else {
                    target.push('\\');
                }
            }
            _ if in_quotes => value.get_or_insert_with(String::new).push(c),
            '=' if value.is_none() => value = Some(String::new()),
            ',' => items.push((std::mem::take(&mut name), value.take())),
            ' ' | '\t' => {
                end = i;
                break;
            }
            _ => match &mut value {
                Some(v) => v.push(c),
                None => name.push(c),
            },
        }
    }
    if in_quotes {
        return Err("unterminated quoted option; key ignored".into());
    }
    items.push((name, value));
    let rest = line.get(end..).unwrap_or_default().trim_start();
    if rest.is_empty() {
        return Err("options but no key; line ignored".into());
    }
    Ok((items, rest))
}

/// Turns option items into [`KeyOptions`], refusing any we could not honour.
fn parse_options(items: &[(String, Option<String>)]) -> Result<KeyOptions, String> {
    let mut o = KeyOptions::default();
    let mut restrict = false;
    let mut pty = false;
    let mut port_forwarding = false;
    let mut agent_forwarding = false;
    for (name, value) in items {
        let lower = name.to_ascii_lowercase();
        let need_value = |v: &Option<String>| {
            v.clone()
                .ok_or_else(|| format!("option {name} needs a value; key ignored"))
        };
        match lower.as_str() {
            "command" => o.command = Some(need_value(value)?),
            "from" => {
                let list = need_value(value)?;
                let patterns: Vec<String> = list.split(',').map(str::to_owned).collect();
                let bad_cidr = |p: &&String| {
                    let p = p.trim_start_matches('!');
                    p.contains('/')
                        && cidr_contains(p, std::net::IpAddr::from([0u8, 0, 0, 0])).is_none()
                };
                if let Some(p) = patterns.iter().find(bad_cidr) {
                    return Err(format!(
                        "from=\"{list}\": bad address/mask \"{p}\"; key ignored"
                    ));
                }
                o.from = Some(patterns);
            }
            "no-pty" => o.no_pty = true,
            "pty" => pty = true,
            "restrict" => restrict = true,
            "no-port-forwarding" => o.forwarding.no_port_forwarding = true,
            "port-forwarding" => port_forwarding = true,
            "permitopen" => o.forwarding.permit_open.push(
                HostPort::parse_open(&need_value(value)?)
                    .map_err(|e| format!("permitopen={e}; key ignored"))?,
            ),
            "permitlisten" => o.forwarding.permit_listen.push(
                HostPort::parse_listen(&need_value(value)?)
                    .map_err(|e| format!("permitlisten={e}; key ignored"))?,
            ),
            "cert-authority" => o.cert_authority = true,
            "principals" => {
                let list = need_value(value)?;
                o.principals = Some(list.split(',').map(str::to_owned).collect());
            }
            "expiry-time" => {
                let v = need_value(value)?;
                let t = seashell_keys::certificate::parse_absolute_time(&v)
                    .ok_or_else(|| format!("expiry-time=\"{v}\": bad time; key ignored"))?;
                o.expiry_time = Some(o.expiry_time.map_or(t, |old| old.min(t)));
            }
            "no-touch-required" => o.no_touch_required = true,
            "verify-required" => o.verify_required = true,
            "tunnel" => {
                let v = need_value(value)?;
                let n = v
                    .parse::<u32>()
                    .map_err(|_| format!("tunnel=\"{v}\": bad device number; key ignored"))?;
                o.tunnel = Some(n);
            }
            // Features seashell serve does not offer (X11, agent forwarding, user rc,
            "no-agent-forwarding" => o.forwarding.no_agent_forwarding = true,
            "agent-forwarding" => agent_forwarding = true,
            // Features seashell serve does not offer (X11, user rc, tunnels): nothing to
            // restrict. `environment` is ignored as by sshd's default `PermitUserEnvironment no`.
            "no-x11-forwarding" | "no-user-rc" | "x11-forwarding" | "user-rc" | "environment" => {}
            _ => {
                return Err(format!(
                    "option \"{name}\" is not supported by seashell serve; key ignored"
                ));
            }
        }
    }
    if restrict && !pty {
        o.no_pty = true;
    }
    if restrict && !port_forwarding {
        o.forwarding.no_port_forwarding = true;
    }
    if restrict && !agent_forwarding {
        o.forwarding.no_agent_forwarding = true;
    }
    if o.principals.is_some() && !o.cert_authority {
        return Err("principals= without cert-authority; key ignored".into());
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOuJSIQ7At9AYMp/kqjhS1RdLtNis5431vGZC3QCs0qF";

    #[test]
    fn plain_lines_and_comments() {
        let text = format!("# comment\n\n{ED} me@host\n  {ED}\n");
        let ak = AuthorizedKeys::parse(&text);
        assert_eq!(ak.keys.len(), 2);
        assert_eq!(ak.keys[0].comment, "me@host");
        assert_eq!(ak.keys[0].options, KeyOptions::default());
        assert!(ak.skipped.is_empty());
        assert!(ak.find(&ak.keys[1].key).is_some());
    }

    #[test]
    fn options_are_parsed() {
        let line = format!(
            r#"no-pty,command="echo \"hi there\"",no-port-forwarding,from="127.0.0.*,!10.*" {ED} c"#
        );
        let ak = AuthorizedKeys::parse(&line);
        assert!(ak.skipped.is_empty(), "{:?}", ak.skipped);
        let o = &ak.keys[0].options;
        assert!(o.no_pty);
        assert_eq!(o.command.as_deref(), Some(r#"echo "hi there""#));
        assert!(o.allows_from(Some("127.0.0.1".parse().unwrap())));
        assert!(!o.allows_from(Some("10.0.0.1".parse().unwrap())));
        assert!(!o.allows_from(Some("192.168.0.1".parse().unwrap())));
        assert!(!o.allows_from(None));
        assert!(KeyOptions::default().allows_from(None));
        // A dual-stack listener sees IPv4 clients as IPv4-mapped IPv6 addresses: the
        // negation still applies, and so does the allowing pattern.
        assert!(!o.allows_from(Some("::ffff:10.0.0.5".parse().unwrap())));
        assert!(o.allows_from(Some("::ffff:127.0.0.1".parse().unwrap())));
        // Patterns are case-insensitive.
        let v6 = AuthorizedKeys::parse(&format!(r#"from="!FE80::*,*" {ED}"#));
        let v6 = &v6.keys[0].options;
        assert!(!v6.allows_from(Some("fe80::1".parse().unwrap())));
        assert!(v6.allows_from(Some("2001:db8::1".parse().unwrap())));
        assert_eq!(ak.keys[0].comment, "c");
    }

    #[test]
    fn restrict_implies_no_pty_unless_pty() {
        let ak = AuthorizedKeys::parse(&format!("restrict {ED}\nrestrict,pty {ED}"));
        assert!(ak.keys[0].options.no_pty);
        assert!(!ak.keys[1].options.no_pty);
    }

    #[test]
    fn forwarding_options() {
        let line = format!(
            r#"permitopen="db:5432",permitopen="[::1]:*",permitlisten="8080",permitlisten="localhost:9000" {ED}"#
        );
        let ak = AuthorizedKeys::parse(&line);
        assert!(ak.skipped.is_empty(), "{:?}", ak.skipped);
        let o = &ak.keys[0].options.forwarding;
        assert!(!o.no_port_forwarding);
        let open: Vec<(&str, Option<u32>)> = o
            .permit_open
            .iter()
            .map(|t| (t.host.as_str(), t.port))
            .collect();
        assert_eq!(open, [("db", Some(5432)), ("::1", None)]);
        let listen: Vec<(&str, Option<u32>)> = o
            .permit_listen
            .iter()
            .map(|t| (t.host.as_str(), t.port))
            .collect();
        assert_eq!(listen, [("*", Some(8080)), ("localhost", Some(9000))]);
        assert!(o.permit_open.iter().any(|t| t.permits_open("db", 5432)));
        assert!(!o.permit_open.iter().any(|t| t.permits_open("db", 22)));

        let ak = AuthorizedKeys::parse(&format!(
            "no-port-forwarding {ED}
restrict {ED}
restrict,port-forwarding {ED}
{ED}"
        ));
        let flags: Vec<bool> = ak
            .keys
            .iter()
            .map(|k| k.options.forwarding.no_port_forwarding)
            .collect();
        assert_eq!(flags, [true, true, false, false]);

        let ak = AuthorizedKeys::parse(&format!(
            "no-agent-forwarding {ED}
restrict {ED}
restrict,agent-forwarding {ED}
{ED}"
        ));
        let agent: Vec<bool> = ak
            .keys
            .iter()
            .map(|k| k.options.forwarding.no_agent_forwarding)
            .collect();
        assert_eq!(agent, [true, true, false, false]);
    }

    #[test]
    fn bad_forwarding_options_leave_the_key_out() {
        let text = format!(
            "permitopen=\"db\" {ED}
permitopen=\"db:0\" {ED}
permitlisten=\"x:\" {ED}
             permitopen {ED}
"
        );
        let ak = AuthorizedKeys::parse(&text);
        assert!(ak.keys.is_empty());
        assert_eq!(ak.skipped.len(), 4, "{:?}", ak.skipped);
        assert!(
            ak.skipped[0].contains("permitopen=\"db\""),
            "{:?}",
            ak.skipped
        );
    }

    #[test]
    fn unenforceable_and_broken_lines_are_skipped() {
        let text = format!(
            "expiry-time=\"2030\" {ED}\nprincipals=\"a\" {ED}\nfrom=\"10.0.0.1/8\" {ED}\n\
             command=\"unterminated {ED}\nno-pty\nssh-ed25519 !!!notbase64\n\
             ecdsa-sha2-nistp384 AAAA\nx-unknown {ED}\n"
        );
        let ak = AuthorizedKeys::parse(&text);
        assert!(ak.keys.is_empty());
        assert_eq!(ak.skipped.len(), 8, "{:?}", ak.skipped);
        assert!(ak.skipped[0].starts_with("line 1: expiry-time"));
        assert!(ak.skipped[7].starts_with("line 8: option \"x-unknown\""));
    }

    #[test]
    fn quoted_blanks_do_not_end_the_options() {
        let ak = AuthorizedKeys::parse(&format!("command=\"a b\tc\" {ED}"));
        assert_eq!(ak.keys[0].options.command.as_deref(), Some("a b\tc"));
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOuJSIQ7At9AYMp/kqjhS1RdLtNis5431vGZC3QCs0qF";

    #[test]
    fn certificate_and_fido_options() {
        let text = format!(
            "cert-authority,principals=\"root,ops\",expiry-time=\"20300101\",expiry-time=\"202901011200\" {ED}\n\
             no-touch-required,verify-required,tunnel=\"3\",no-agent-forwarding,no-X11-forwarding,no-user-rc {ED}\n\
             tunnel=\"x\" {ED}\n"
        );
        let ak = AuthorizedKeys::parse(&text);
        assert_eq!(ak.keys.len(), 2, "{:?}", ak.skipped);
        let ca = &ak.keys[0].options;
        assert!(ca.cert_authority);
        assert_eq!(ca.principals, Some(vec!["root".into(), "ops".into()]));
        // The earliest expiry-time wins.
        assert_eq!(ca.expiry_time, Some(1_861_963_200));
        assert!(!ca.expired(1_861_963_199));
        assert!(ca.expired(1_861_963_200));
        // A cert-authority line does not authorize its own key.
        assert!(
            ak.find(&ak.keys[0].key)
                .is_some_and(|k| !k.options.cert_authority)
        );
        assert_eq!(ak.cert_authorities(&ak.keys[0].key).count(), 1);
        let fido = &ak.keys[1].options;
        assert!(fido.no_touch_required && fido.verify_required);
        assert_eq!(fido.tunnel, Some(3));
        assert_eq!(ak.skipped.len(), 1);
    }

    #[test]
    fn from_with_cidr_blocks() {
        let ak = AuthorizedKeys::parse(&format!("from=\"10.0.0.0/8,!10.9.0.0/16,::1\" {ED}"));
        let o = &ak.keys[0].options;
        let ip = |s: &str| Some(s.parse().unwrap());
        assert!(o.allows_from(ip("10.1.2.3")));
        assert!(o.allows_from(ip("::ffff:10.1.2.3")));
        assert!(!o.allows_from(ip("10.9.2.3")));
        assert!(o.allows_from(ip("::1")));
        assert!(!o.allows_from(ip("11.0.0.1")));
    }
}
