//! Source addresses as admission sees them: IPv4-mapped IPv6 unwrapped, masked to a
//! netblock, and matched against `PerSourcePenaltyExemptList`.

use seashell_proto::config::wildcard_match;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::config::{ConfigError, NetBlockSize};

/// `::ffff:a.b.c.d` (an IPv4 peer on a dual-stack socket) as the IPv4 address `a.b.c.d`;
/// every other address unchanged. Admission accounts, and `from=` patterns should match,
/// on the normalised address, so one peer is one source whichever socket it came in on.
pub fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// `ip` with every bit past the first `bits` cleared (`bits` is capped at the width).
pub fn mask_ip(ip: IpAddr, bits: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(bits.min(32));
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let bits = u32::from(bits.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// The netblock `ip` (already normalised) belongs to under `size`.
pub(crate) fn netblock(ip: IpAddr, size: NetBlockSize) -> IpAddr {
    let bits = match ip {
        IpAddr::V4(_) => size.ipv4,
        IpAddr::V6(_) => size.ipv6,
    };
    mask_ip(ip, bits)
}

/// One entry of an address list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// `addr/len` (or a bare address, its full length).
    Cidr {
        net: IpAddr,
        bits: u8,
        negated: bool,
    },
    /// A `*`/`?` wildcard pattern over the address's text.
    Pattern { pattern: String, negated: bool },
}

/// sshd's `PerSourcePenaltyExemptList`: a comma-separated list of addresses, CIDR ranges
/// (`192.0.2.0/24`, `2001:db8::/32`) and `*`/`?` wildcard patterns (`10.1.*`), any of them
/// negated with a leading `!`. An address is exempt when some entry matches it and no
/// negated entry does (sshd's `addr_match_list`). Empty by default (nobody exempt).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExemptList {
    entries: Vec<Entry>,
    text: String,
}

impl ExemptList {
    /// Whether `ip` (normalised first) is exempt.
    pub fn matches(&self, ip: IpAddr) -> bool {
        let ip = normalize_ip(ip);
        let mut text: Option<String> = None;
        let mut found = false;
        for entry in &self.entries {
            let (hit, negated) = match entry {
                Entry::Cidr { net, bits, negated } => {
                    let same_family = net.is_ipv4() == ip.is_ipv4();
                    (same_family && mask_ip(ip, *bits) == *net, *negated)
                }
                Entry::Pattern { pattern, negated } => {
                    let text = text.get_or_insert_with(|| ip.to_string());
                    (wildcard_match(pattern, text), *negated)
                }
            };
            if hit {
                if negated {
                    return false;
                }
                found = true;
            }
        }
        found
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Display for ExemptList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for ExemptList {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let mut entries = Vec::new();
        for item in s.split(',') {
            let bad = || ConfigError::ExemptList(item.to_owned());
            let (negated, body) = match item.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            if body.is_empty() {
                return Err(bad());
            }
            match parse_cidr(body) {
                CidrParse::Ok(net, bits) => entries.push(Entry::Cidr { net, bits, negated }),
                CidrParse::Inconsistent => return Err(bad()),
                CidrParse::NotCidr => entries.push(Entry::Pattern {
                    pattern: body.to_owned(),
                    negated,
                }),
            }
        }
        Ok(ExemptList {
            entries,
            text: s.to_owned(),
        })
    }
}

enum CidrParse {
    Ok(IpAddr, u8),
    /// An address with a mask too long, or host bits set: an error, as in sshd.
    Inconsistent,
    /// Not an address at all: a wildcard pattern.
    NotCidr,
}

fn parse_cidr(s: &str) -> CidrParse {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return CidrParse::NotCidr;
    };
    let ip = normalize_ip(ip);
    let width: u8 = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => width,
        Some(b) => {
            if b.is_empty() || !b.bytes().all(|c| c.is_ascii_digit()) || b.len() > 3 {
                return CidrParse::NotCidr;
            }
            match b.parse::<u8>() {
                Ok(n) if n <= width => n,
                _ => return CidrParse::Inconsistent,
            }
        }
    };
    if mask_ip(ip, bits) != ip {
        return CidrParse::Inconsistent;
    }
    CidrParse::Ok(ip, bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn mapped_v6_becomes_v4() {
        assert_eq!(normalize_ip(ip("::ffff:10.0.0.5")), ip("10.0.0.5"));
        assert_eq!(normalize_ip(ip("2001:db8::1")), ip("2001:db8::1"));
        // IPv4-compatible (deprecated ::a.b.c.d) is not mapped and stays IPv6.
        assert_eq!(normalize_ip(ip("::10.0.0.5")), ip("::10.0.0.5"));
        assert_eq!(normalize_ip(ip("10.0.0.5")), ip("10.0.0.5"));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_ip(ip("10.1.2.3"), 24), ip("10.1.2.0"));
        assert_eq!(mask_ip(ip("10.1.2.3"), 0), ip("0.0.0.0"));
        assert_eq!(mask_ip(ip("10.1.2.3"), 32), ip("10.1.2.3"));
        assert_eq!(mask_ip(ip("2001:db8:1:2:3::4"), 64), ip("2001:db8:1:2::"));
        assert_eq!(mask_ip(ip("2001:db8::4"), 0), ip("::"));
    }

    #[test]
    fn exempt_list_cidr_patterns_and_negation() {
        let list: ExemptList = "192.0.2.0/24,10.1.*,2001:db8::/32,!192.0.2.7"
            .parse()
            .unwrap();
        assert!(list.matches(ip("192.0.2.1")));
        assert!(list.matches(ip("::ffff:192.0.2.1")));
        assert!(!list.matches(ip("192.0.2.7")));
        assert!(list.matches(ip("10.1.200.3")));
        assert!(!list.matches(ip("10.2.0.1")));
        assert!(list.matches(ip("2001:db8:ffff::1")));
        assert!(!list.matches(ip("2001:db9::1")));
        let single: ExemptList = "198.51.100.9".parse().unwrap();
        assert!(single.matches(ip("198.51.100.9")));
        assert!(!single.matches(ip("198.51.100.8")));
        assert!(!ExemptList::default().matches(ip("198.51.100.9")));
    }

    #[test]
    fn exempt_list_rejects_inconsistent_masks_and_empty_entries() {
        for bad in [
            "192.0.2.0/33",
            "192.0.2.0/8",
            "2001:db8::1/32",
            "a,,b",
            "!",
            "",
        ] {
            assert!(
                matches!(bad.parse::<ExemptList>(), Err(ConfigError::ExemptList(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("10.*.1", "10.200.3.1"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("1?.0.0.1", "10.0.0.1"));
        assert!(!wildcard_match("1?.0.0.1", "1.0.0.1"));
        assert!(!wildcard_match("10.*", "11.0.0.1"));
    }
}
