//! OpenSSH's value formats shared by the client's and the server's options: times (`1h30m`),
//! sizes (`512M`) and `RekeyLimit`.

use std::time::Duration;

/// OpenSSH's time format: a number of seconds, or number+unit groups (`s`, `m`, `h`, `d`,
/// `w`, either case), like `90`, `1m30s`, `1w1d1s`.
pub fn parse_time(text: &str) -> Option<Duration> {
    seashell_proto::config::convtime(text).map(Duration::from_secs)
}

/// A size: `N`, `NK`, `NM` or `NG` (powers of 1024, either case).
pub fn parse_bytes(s: &str) -> Option<u64> {
    let (digits, shift) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (s.get(..s.len() - 1)?, 10),
        'M' => (s.get(..s.len() - 1)?, 20),
        'G' => (s.get(..s.len() - 1)?, 30),
        _ => (s, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// `RekeyLimit SIZE [TIME]`: the byte limit (`default`: none beyond the cipher's, as OpenSSH)
/// and the optional time limit (`none`, or absent: no time limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RekeyLimit {
    /// Rekey after this many bytes (`u64::MAX`: only the cipher's own limit).
    pub bytes: u64,
    /// Rekey when the keys are this old.
    pub interval: Option<Duration>,
}

/// Parses OpenSSH's `RekeyLimit` value: `default`, `512M`, `1G 1h`, `default none`.
pub fn parse_rekey_limit(value: &str) -> Result<RekeyLimit, String> {
    let mut words = value.split_whitespace();
    let bytes = match words.next() {
        Some(w) if w.eq_ignore_ascii_case("default") => u64::MAX,
        Some(w) => match parse_bytes(w) {
            // OpenSSH refuses limits below 16 bytes; the core needs room for one packet.
            Some(n) if n >= 16 => n,
            _ => {
                return Err(format!(
                    "bad size \"{w}\" (expected default or N[KMG], at least 16)"
                ));
            }
        },
        None => return Err("expected a size".to_owned()),
    };
    let interval = match words.next() {
        None => None,
        Some(w) if w.eq_ignore_ascii_case("none") => None,
        Some(w) => match parse_time(w) {
            Some(d) if !d.is_zero() => Some(d),
            Some(_) => None,
            None => return Err(format!("bad time \"{w}\"")),
        },
    };
    if let Some(extra) = words.next() {
        return Err(format!("unexpected \"{extra}\""));
    }
    Ok(RekeyLimit { bytes, interval })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("0"), Some(Duration::ZERO));
        assert_eq!(parse_time("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_time("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_time("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_time("1w1d1s"), Some(Duration::from_secs(691_201)));
        for bad in ["", "5x", "m", "s", "99999999999999999999"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("123"), Some(123));
        assert_eq!(parse_bytes("4K"), Some(4096));
        assert_eq!(parse_bytes("256m"), Some(256 << 20));
        assert_eq!(parse_bytes("1G"), Some(1 << 30));
        assert_eq!(parse_bytes("x"), None);
        assert_eq!(parse_bytes(""), None);
        assert_eq!(parse_bytes("99999999999999G"), None);
    }

    #[test]
    fn rekey_limits() {
        let d = |s| Some(Duration::from_secs(s));
        assert_eq!(
            parse_rekey_limit("default"),
            Ok(RekeyLimit {
                bytes: u64::MAX,
                interval: None
            })
        );
        assert_eq!(
            parse_rekey_limit("512M 1h"),
            Ok(RekeyLimit {
                bytes: 512 << 20,
                interval: d(3600)
            })
        );
        assert_eq!(
            parse_rekey_limit("Default none"),
            Ok(RekeyLimit {
                bytes: u64::MAX,
                interval: None
            })
        );
        for bad in ["", "x", "8", "1G soon", "1G 1h extra"] {
            assert!(parse_rekey_limit(bad).is_err(), "{bad}");
        }
    }
}
