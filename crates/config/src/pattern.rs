//! OpenSSH's patterns: `*` and `?` wildcards, comma-separated lists with `!` negation, and
//! CIDR lists for `Match localnetwork`. The matcher is iterative (no backtracking blow-up).

use std::net::IpAddr;

/// Whether `s` matches the wildcard pattern `pattern` (`*`: any run, `?`: one character).
pub fn match_pattern(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(&c) if c == '?' || s.get(si) == Some(&c) => {
                si += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
}

/// The result of matching a pattern list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMatch {
    /// A positive pattern matched and no negated one did.
    Yes,
    /// Nothing matched.
    No,
    /// A negated pattern matched.
    Negated,
}

/// Matches `s` against a comma-separated list of patterns, `!` negating one; with
/// `lower`, `s` is compared in lower case (as host names are).
pub fn match_pattern_list(s: &str, list: &str, lower: bool) -> ListMatch {
    let s = if lower {
        s.to_ascii_lowercase()
    } else {
        s.to_owned()
    };
    let mut got = ListMatch::No;
    for sub in list.split(',') {
        let (negated, pat) = match sub.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, sub),
        };
        let pat = if lower {
            pat.to_ascii_lowercase()
        } else {
            pat.to_owned()
        };
        if match_pattern(&s, &pat) {
            if negated {
                return ListMatch::Negated;
            }
            got = ListMatch::Yes;
        }
    }
    got
}

/// A host name against a pattern list, case-insensitively (OpenSSH's `match_hostname`).
pub fn match_hostname(host: &str, list: &str) -> bool {
    match_pattern_list(host, list, true) == ListMatch::Yes
}

/// One `address/bits` entry of a CIDR list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address.
    pub addr: IpAddr,
    /// The prefix length.
    pub bits: u8,
}

/// Parses a comma-separated CIDR list (`10.0.0.0/8,::1/128`); a bare address is a host.
pub fn parse_cidr_list(list: &str) -> Option<Vec<Cidr>> {
    list.split(',')
        .map(|item| {
            let (a, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
                None => (item, None),
            };
            let addr: IpAddr = a.parse().ok()?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = bits.unwrap_or(max);
            (bits <= max).then_some(Cidr { addr, bits })
        })
        .collect()
}

/// Whether `addr` is inside `net`.
pub fn cidr_contains(net: &Cidr, addr: &IpAddr) -> bool {
    fn masked(bytes: &[u8], bits: u8) -> Vec<u8> {
        bytes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let start = (i * 8) as u32;
                let keep = u32::from(bits).saturating_sub(start).min(8);
                if keep == 0 {
                    0
                } else {
                    b & (0xffu8 << (8 - keep))
                }
            })
            .collect()
    }
    match (net.addr, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            masked(&n.octets(), net.bits) == masked(&a.octets(), net.bits)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            masked(&n.octets(), net.bits) == masked(&a.octets(), net.bits)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(match_pattern("host.example.com", "*.example.com"));
        assert!(match_pattern("abc", "a?c"));
        assert!(match_pattern("", "*"));
        assert!(!match_pattern("abc", "a?"));
        assert!(match_pattern("aaab", "*a*b"));
        assert!(!match_pattern("aaa", "*a*b"));
        assert!(match_pattern("x", "x**"));
        // No exponential blow-up.
        let long = "a".repeat(5000);
        let pat = "*a".repeat(200) + "b";
        assert!(!match_pattern(&long, &pat));
    }

    #[test]
    fn lists_and_negation() {
        assert_eq!(
            match_pattern_list("web1", "db*,web*", false),
            ListMatch::Yes
        );
        assert_eq!(
            match_pattern_list("web1", "web*,!web1", false),
            ListMatch::Negated
        );
        assert_eq!(match_pattern_list("x", "a,b", false), ListMatch::No);
        assert!(match_hostname("WEB.Example.COM", "*.example.com"));
        assert!(!match_hostname("a", "!a"));
    }

    #[test]
    fn cidrs() {
        let l = parse_cidr_list("10.0.0.0/8,::1,192.168.1.0/24").unwrap();
        let has = |a: &str| {
            let a: IpAddr = a.parse().unwrap();
            l.iter().any(|n| cidr_contains(n, &a))
        };
        assert!(has("10.2.3.4"));
        assert!(has("::1"));
        assert!(has("192.168.1.77"));
        assert!(!has("192.168.2.1"));
        assert!(parse_cidr_list("10.0.0.0/33").is_none());
        assert!(parse_cidr_list("nope").is_none());
    }
}
