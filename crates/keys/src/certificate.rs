//! Certificate files (`id_ed25519-cert.pub`, one `*-cert-v01@openssh.com base64 comment`
//! line), their `ssh-keygen -L` rendering, and `ssh-keygen -V` validity intervals.
//!
//! The certificates themselves (parsing, issuing, checking) are
//! [`seashell_proto::keys::cert`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use seashell_proto::keys::cert::CERT_SUFFIX;
use seashell_proto::keys::{Certificate, PublicKey};

use crate::KeyFileError;
use crate::fingerprint::key_label;

/// Parses a certificate line (`type base64 [comment]`).
///
/// # Errors
/// As [`crate::parse_public_key_line`], and [`KeyFileError::Unsupported`] if the line holds
/// a plain key.
pub fn parse_certificate_line(line: &str) -> Result<(Certificate, String), KeyFileError> {
    let (key, comment) = crate::parse_public_key_line(line)?;
    match key {
        PublicKey::Certificate(c) => Ok((*c, comment)),
        other => Err(KeyFileError::Unsupported(format!(
            "{} is a plain key, not a certificate",
            other.key_type()
        ))),
    }
}

/// Reads a certificate file (its first non-comment line).
///
/// # Errors
/// [`KeyFileError::Io`] if the file cannot be read, otherwise as
/// [`parse_certificate_line`].
pub fn load_certificate(path: &Path) -> Result<Certificate, KeyFileError> {
    let text = std::fs::read_to_string(path)?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or(KeyFileError::Malformed("certificate file"))?;
    Ok(parse_certificate_line(line)?.0)
}

/// The certificate path `ssh` looks for next to an identity: `key-cert.pub` for `key`.
pub fn certificate_path_for(identity: &Path) -> PathBuf {
    let mut s = identity.as_os_str().to_owned();
    s.push("-cert.pub");
    PathBuf::from(s)
}

/// A time as `ssh-keygen` prints it: `YYYY-MM-DDTHH:MM:SS` (UTC here).
pub fn format_time(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(i64::MAX / 2);
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The validity as `ssh-keygen` words it: `forever`, `from A to B`, `after A`, `before B`.
pub fn format_validity(valid_after: u64, valid_before: u64) -> String {
    match (valid_after, valid_before) {
        (0, u64::MAX) => "forever".to_owned(),
        (0, b) => format!("before {}", format_time(b)),
        (a, u64::MAX) => format!("after {}", format_time(a)),
        (a, b) => format!("from {} to {}", format_time(a), format_time(b)),
    }
}

/// Renders a certificate as `ssh-keygen -L -f path` does.
pub fn describe_certificate(cert: &Certificate, path: &str) -> String {
    let f = cert.fields();
    let mut out = String::new();
    let _ = writeln!(out, "{path}:");
    let _ = writeln!(
        out,
        "        Type: {} {} certificate",
        cert.key_type(),
        f.cert_type.name()
    );
    let _ = writeln!(
        out,
        "        Public key: {}-CERT {}",
        key_label(&f.key),
        f.key.fingerprint()
    );
    let _ = writeln!(
        out,
        "        Signing CA: {} {} (using {})",
        key_label(cert.signature_key()),
        cert.signature_key().fingerprint(),
        cert.signature_algorithm().unwrap_or_default()
    );
    let _ = writeln!(out, "        Key ID: \"{}\"", f.key_id);
    let _ = writeln!(out, "        Serial: {}", f.serial);
    let _ = writeln!(
        out,
        "        Valid: {}",
        format_validity(f.valid_after, f.valid_before)
    );
    if f.principals.is_empty() {
        out.push_str("        Principals: (none)\n");
    } else {
        out.push_str("        Principals: \n");
        for p in &f.principals {
            let _ = writeln!(out, "                {p}");
        }
    }
    for (title, list, critical) in [
        ("Critical Options", &f.critical_options, true),
        ("Extensions", &f.extensions, false),
    ] {
        if list.is_empty() {
            let _ = writeln!(out, "        {title}: (none)");
            continue;
        }
        let _ = writeln!(out, "        {title}: ");
        for (name, data) in list {
            let value = if critical {
                f.critical_string(name)
            } else {
                None
            };
            match value {
                Some(v) => {
                    let _ = writeln!(out, "                {name} {v}");
                }
                None if data.is_empty() => {
                    let _ = writeln!(out, "                {name}");
                }
                None => {
                    let _ = writeln!(
                        out,
                        "                UNKNOWN OPTION: {name} (len {})",
                        data.len()
                    );
                }
            }
        }
    }
    out
}

/// Why a validity interval could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValidity(pub String);

impl std::fmt::Display for BadValidity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Invalid certificate life specification {}", self.0)
    }
}

impl std::error::Error for BadValidity {}

/// Parses an `ssh-keygen -V` interval at `now` (Unix seconds) into
/// `(valid_after, valid_before)`: `from:to` where each side is a relative time
/// (`+52w1d`, `-1h`; units s, m, h, d, w, none = seconds), an absolute `YYYYMMDD`,
/// `YYYYMMDDHHMM[SS]` (UTC), or `always` / `forever`; or a single `+time`, meaning from a
/// minute before now (as ssh-keygen) until then.
///
/// # Errors
/// [`BadValidity`] for anything else.
pub fn parse_validity(spec: &str, now: u64) -> Result<(u64, u64), BadValidity> {
    let bad = || BadValidity(spec.to_owned());
    if !spec.contains(':') {
        let rest = spec.strip_prefix('+').ok_or_else(bad)?;
        let to = now.saturating_add(parse_relative(rest).ok_or_else(bad)?);
        return Ok(((now / 60 * 60).saturating_sub(60), to));
    }
    let (from, to) = spec.split_once(':').ok_or_else(bad)?;
    let from = match from {
        "always" => 0,
        f => parse_time(f, now).ok_or_else(bad)?,
    };
    let to = match to {
        "forever" => u64::MAX,
        t => parse_time(t, now).ok_or_else(bad)?,
    };
    if to <= from {
        return Err(bad());
    }
    Ok((from, to))
}

/// One side of an interval: relative (`+`/`-`) or absolute.
fn parse_time(s: &str, now: u64) -> Option<u64> {
    if let Some(r) = s.strip_prefix('+') {
        return Some(now.saturating_add(parse_relative(r)?));
    }
    if let Some(r) = s.strip_prefix('-') {
        return Some(now.saturating_sub(parse_relative(r)?));
    }
    parse_absolute(s)
}

/// `52w1d3h`: a sum of numbers with units (s, m, h, d, w; none is seconds).
fn parse_relative(s: &str) -> Option<u64> {
    seashell_proto::config::convtime(s)
}

/// An absolute time as `ssh-keygen -V` and `expiry-time=` write it: `YYYYMMDD`,
/// `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, read as UTC; Unix seconds, `None` if malformed.
pub fn parse_absolute_time(s: &str) -> Option<u64> {
    parse_absolute(s)
}

/// `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, UTC.
fn parse_absolute(s: &str) -> Option<u64> {
    if !matches!(s.len(), 8 | 12 | 14) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: core::ops::Range<usize>| s.get(r)?.parse::<u64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let hh = if s.len() >= 12 { num(8..10)? } else { 0 };
    let mm = if s.len() >= 12 { num(10..12)? } else { 0 };
    let ss = if s.len() == 14 { num(12..14)? } else { 0 };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let days = days_from_civil(i64::try_from(y).ok()?, m, d);
    let days = u64::try_from(days).ok()?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u64, d: u64) -> i64 {
    let (m, d) = (m as i64, d as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Whether a key type name is a certificate type.
pub fn is_certificate_type(name: &str) -> bool {
    name.ends_with(CERT_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00");
        assert_eq!(parse_absolute("20300101123000"), Some(1_893_501_000));
        assert_eq!(format_time(1_893_501_000), "2030-01-01T12:30:00");
        assert_eq!(parse_absolute("20000229"), Some(951_782_400));
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(parse_absolute("20001301"), None);
        assert_eq!(parse_absolute("2000010"), None);
    }

    #[test]
    fn validity_specs() {
        let now = 1_000_000;
        assert_eq!(parse_validity("always:forever", now), Ok((0, u64::MAX)));
        assert_eq!(
            parse_validity("-1d:+52w", now),
            Ok((now - 86_400, now + 52 * 604_800))
        );
        assert_eq!(
            parse_validity("+1w", now),
            Ok((now / 60 * 60 - 60, now + 604_800))
        );
        assert_eq!(
            parse_validity("-5m:forever", now),
            Ok((now - 300, u64::MAX))
        );
        assert_eq!(
            parse_relative("1w2d3h4m5s6"),
            Some(604_800 + 172_800 + 10_800 + 245 + 6)
        );
        for bad in [
            "", "20300101", "x:y", "+1y", "+:+1", "+2d:+1d", "always:", "+w",
        ] {
            assert!(parse_validity(bad, now).is_err(), "{bad}");
        }
        assert_eq!(format_validity(0, u64::MAX), "forever");
        assert!(format_validity(5, u64::MAX).starts_with("after "));
        assert!(format_validity(0, 5).starts_with("before "));
    }
}
