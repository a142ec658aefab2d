//! [`AdmissionConfig`] and its options, with sshd's names, defaults and string forms.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::netblock::ExemptList;

/// Why an admission option's text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `MaxStartups` is not `start` or `start:rate:full` with `0 < start <= full` and
    /// `1 <= rate <= 100`.
    MaxStartups(String),
    /// `PerSourceMaxStartups` is neither `none` nor a positive integer.
    PerSourceMaxStartups(String),
    /// `PerSourceNetBlockSize` is not `v4` or `v4:v6` with `v4 <= 32`, `v6 <= 128`.
    NetBlockSize(String),
    /// A `PerSourcePenalties` word is not one sshd knows.
    UnknownPenaltyKeyword(String),
    /// `yes` or `no` in `PerSourcePenalties` was not alone.
    PenaltyYesNoNotAlone,
    /// `PerSourcePenalties` was empty.
    NoPenaltyKeywords,
    /// A `PerSourcePenalties` duration is not in sshd's time format (`90`, `90s`, `1m30s`,
    /// `1.5s`, ...) or is absurdly large.
    BadDuration(String),
    /// A `max-sources4:`/`max-sources6:` value is not a positive integer.
    BadCount(String),
    /// A `PerSourcePenaltyExemptList` entry is empty, or a CIDR whose mask is too long or
    /// which has bits set past its mask (sshd refuses `192.0.2.0/33` and `192.0.2.0/8`).
    ExemptList(String),
    /// `MaxConnections` is neither `none` nor a positive integer.
    MaxConnections(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MaxStartups(s) => write!(f, "invalid MaxStartups spec {s:?}"),
            ConfigError::PerSourceMaxStartups(s) => {
                write!(f, "invalid PerSourceMaxStartups value {s:?}")
            }
            ConfigError::NetBlockSize(s) => write!(f, "invalid PerSourceNetBlockSize spec {s:?}"),
            ConfigError::UnknownPenaltyKeyword(s) => {
                write!(f, "unsupported PerSourcePenalties keyword {s:?}")
            }
            ConfigError::PenaltyYesNoNotAlone => {
                write!(f, "PerSourcePenalties \"yes\"/\"no\" must appear alone")
            }
            ConfigError::NoPenaltyKeywords => write!(f, "no PerSourcePenalties specified"),
            ConfigError::BadDuration(s) => {
                write!(f, "invalid PerSourcePenalties time value {s:?}")
            }
            ConfigError::BadCount(s) => write!(f, "invalid PerSourcePenalties count {s:?}"),
            ConfigError::ExemptList(s) => {
                write!(
                    f,
                    "invalid PerSourcePenaltyExemptList address argument {s:?}"
                )
            }
            ConfigError::MaxConnections(s) => write!(f, "invalid MaxConnections value {s:?}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// sshd's `MaxStartups start:rate:full`: random early drop of unauthenticated connections.
///
/// With `n` connections currently unauthenticated, a new one is refused: never if
/// `n < start`; always if `n >= full` (or if `rate` is 100); otherwise with probability
/// `p/100` where `p = rate + (100 - rate) * (n - start) / (full - start)` in integer
/// arithmetic (sshd's `should_drop_connection`, staircase included). Default `10:30:100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxStartups {
    /// Unauthenticated connections at which dropping starts (default 10).
    pub start: u32,
    /// Drop probability in percent at `start`, 1..=100 (default 30).
    pub rate: u32,
    /// Unauthenticated connections at which every new one is dropped (default 100).
    pub full: u32,
}

impl Default for MaxStartups {
    fn default() -> Self {
        MaxStartups {
            start: 10,
            rate: 30,
            full: 100,
        }
    }
}

impl MaxStartups {
    /// The drop probability in percent with `unauthenticated` connections standing.
    pub fn drop_percent(&self, unauthenticated: u32) -> u32 {
        if unauthenticated < self.start {
            return 0;
        }
        if unauthenticated >= self.full || self.rate >= 100 {
            return 100;
        }
        // full > unauthenticated >= start, so full - start > 0.
        let span = u64::from(self.full - self.start);
        let step = u64::from(100 - self.rate) * u64::from(unauthenticated - self.start) / span;
        // step < 100 - rate, so this fits.
        self.rate + step as u32
    }
}

impl FromStr for MaxStartups {
    type Err = ConfigError;

    /// `"start:rate:full"` or `"n"` (which means `n:30:n`, as in sshd).
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::MaxStartups(s.to_owned());
        let parts: Vec<&str> = s.split(':').collect();
        let v = match parts.as_slice() {
            [n] => {
                let n = parse_positive(n).ok_or_else(bad)?;
                MaxStartups {
                    start: n,
                    rate: 30,
                    full: n,
                }
            }
            [a, b, c] => {
                let start = parse_positive(a).ok_or_else(bad)?;
                let rate = parse_positive(b).ok_or_else(bad)?;
                let full = parse_positive(c).ok_or_else(bad)?;
                if start > full || rate > 100 {
                    return Err(bad());
                }
                MaxStartups { start, rate, full }
            }
            _ => return Err(bad()),
        };
        Ok(v)
    }
}

impl fmt::Display for MaxStartups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.start, self.rate, self.full)
    }
}

/// sshd's `PerSourceNetBlockSize v4[:v6]`: how many leading bits of a source address
/// group sources together for `PerSourceMaxStartups` and `PerSourcePenalties`.
/// Default `32:128` (each address on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetBlockSize {
    /// Prefix length for IPv4 sources, 0..=32 (default 32).
    pub ipv4: u8,
    /// Prefix length for IPv6 sources, 0..=128 (default 128).
    pub ipv6: u8,
}

impl Default for NetBlockSize {
    fn default() -> Self {
        NetBlockSize {
            ipv4: 32,
            ipv6: 128,
        }
    }
}

impl FromStr for NetBlockSize {
    type Err = ConfigError;

    /// `"24"` (IPv6 stays 128) or `"24:64"`.
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::NetBlockSize(s.to_owned());
        let (v4, v6) = match s.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let ipv4 = parse_u32(v4).filter(|v| *v <= 32).ok_or_else(bad)? as u8;
        let ipv6 = match v6 {
            Some(b) => parse_u32(b).filter(|v| *v <= 128).ok_or_else(bad)? as u8,
            None => 128,
        };
        Ok(NetBlockSize { ipv4, ipv6 })
    }
}

/// What `PerSourcePenalties` does once `max-sources4`/`max-sources6` sources are tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PenaltyOverflow {
    /// Make room by dropping the penalties closest to expiry (sshd's default).
    #[default]
    Permissive,
    /// Refuse every connection of that address family (except exempt sources) until a
    /// penalty expires; new penalties are not recorded meanwhile.
    DenyAll,
}

/// sshd's `PerSourcePenalties` (OpenSSH 9.8 and later): how long a source netblock is
/// refused after its connections behaved badly. Penalties of one netblock accumulate (each
/// extends the standing one) up to `max`, and are enforced only once more than `min` is
/// outstanding. Parse from sshd's form: `"yes"`, `"no"` or keywords such as
/// `"crash:90s authfail:5s min:15s max:10m overflow:deny-all"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerSourcePenalties {
    /// Penalties on at all (default yes; `"no"` turns them off).
    pub enabled: bool,
    /// `crash:` for a connection whose handling crashed (default 90 s).
    pub crash: Duration,
    /// `authfail:` for a connection that ended after failed authentication (default 5 s).
    pub authfail: Duration,
    /// `invaliduser:` for authentication attempted as an unknown user (default 5 s).
    pub invaliduser: Duration,
    /// `noauth:` for a connection that ended without trying to authenticate (default 1 s).
    pub noauth: Duration,
    /// `grace-exceeded:` for a connection that outlived `LoginGraceTime` (default 10 s).
    pub grace_exceeded: Duration,
    /// `refuseconnection:` for a connection refused by configuration, sshd's
    /// `RefuseConnection` (default 10 s).
    pub refuseconnection: Duration,
    /// `min:` outstanding penalty needed before a source is refused (default 15 s).
    pub min: Duration,
    /// `max:` the longest a source can be refused for (default 10 min).
    pub max: Duration,
    /// `max-sources4:` IPv4 netblocks tracked at most (default 65536).
    pub max_sources4: usize,
    /// `max-sources6:` IPv6 netblocks tracked at most (default 65536).
    pub max_sources6: usize,
    /// `overflow:` what to do when the IPv4 table is full (default permissive).
    pub overflow: PenaltyOverflow,
    /// `overflow6:` the same for IPv6 (default: whatever `overflow` is).
    pub overflow6: PenaltyOverflow,
}

impl Default for PerSourcePenalties {
    fn default() -> Self {
        PerSourcePenalties {
            enabled: true,
            crash: Duration::from_secs(90),
            authfail: Duration::from_secs(5),
            invaliduser: Duration::from_secs(5),
            noauth: Duration::from_secs(1),
            grace_exceeded: Duration::from_secs(10),
            refuseconnection: Duration::from_secs(10),
            min: Duration::from_secs(15),
            max: Duration::from_secs(600),
            max_sources4: 65536,
            max_sources6: 65536,
            overflow: PenaltyOverflow::Permissive,
            overflow6: PenaltyOverflow::Permissive,
        }
    }
}

impl PerSourcePenalties {
    /// Penalties switched off (`PerSourcePenalties no`).
    pub fn disabled() -> Self {
        PerSourcePenalties {
            enabled: false,
            ..PerSourcePenalties::default()
        }
    }
}

impl FromStr for PerSourcePenalties {
    type Err = ConfigError;

    /// sshd's syntax: whitespace-separated `keyword:value` words over the defaults, or
    /// `yes`/`no` alone. As in sshd, the first occurrence of a keyword wins, and
    /// `overflow6` follows `overflow` unless given.
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let words: Vec<&str> = s.split_whitespace().collect();
        if words.is_empty() {
            return Err(ConfigError::NoPenaltyKeywords);
        }
        let mut out = PerSourcePenalties::default();
        if words.len() == 1 {
            if words[0].eq_ignore_ascii_case("yes") {
                return Ok(out);
            }
            if words[0].eq_ignore_ascii_case("no") {
                return Ok(PerSourcePenalties::disabled());
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut overflow6_set = false;
        for word in words {
            if word.eq_ignore_ascii_case("yes") || word.eq_ignore_ascii_case("no") {
                return Err(ConfigError::PenaltyYesNoNotAlone);
            }
            let (key, value) = word
                .split_once(':')
                .ok_or_else(|| ConfigError::UnknownPenaltyKeyword(word.to_owned()))?;
            let first = !seen.contains(&key);
            seen.push(key);
            let duration = |slot: &mut Duration| -> Result<(), ConfigError> {
                let d = parse_sshd_time(value)?;
                if first {
                    *slot = d;
                }
                Ok(())
            };
            match key {
                "crash" => duration(&mut out.crash)?,
                "authfail" => duration(&mut out.authfail)?,
                "invaliduser" => duration(&mut out.invaliduser)?,
                "noauth" => duration(&mut out.noauth)?,
                "grace-exceeded" => duration(&mut out.grace_exceeded)?,
                "refuseconnection" => duration(&mut out.refuseconnection)?,
                "min" => duration(&mut out.min)?,
                "max" => duration(&mut out.max)?,
                "max-sources4" | "max-sources6" => {
                    let n = parse_positive(value)
                        .ok_or_else(|| ConfigError::BadCount(word.to_owned()))?
                        as usize;
                    if first {
                        if key == "max-sources4" {
                            out.max_sources4 = n;
                        } else {
                            out.max_sources6 = n;
                        }
                    }
                }
                "overflow" | "overflow6" => {
                    let mode = match value {
                        "deny-all" => PenaltyOverflow::DenyAll,
                        "permissive" => PenaltyOverflow::Permissive,
                        _ => return Err(ConfigError::UnknownPenaltyKeyword(word.to_owned())),
                    };
                    if first {
                        if key == "overflow" {
                            out.overflow = mode;
                        } else {
                            out.overflow6 = mode;
                            overflow6_set = true;
                        }
                    }
                }
                _ => return Err(ConfigError::UnknownPenaltyKeyword(word.to_owned())),
            }
        }
        if !overflow6_set {
            out.overflow6 = out.overflow;
        }
        Ok(out)
    }
}

/// Everything [`super::Admission`] enforces. `Default` is sshd's defaults plus no total cap.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdmissionConfig {
    /// sshd `MaxStartups` (default `10:30:100`).
    pub max_startups: MaxStartups,
    /// sshd `PerSourceMaxStartups`: unauthenticated connections allowed per source
    /// netblock, or `None` for no limit (sshd's default, `none`).
    pub per_source_max_startups: Option<u32>,
    /// sshd `PerSourceNetBlockSize` (default `32:128`).
    pub per_source_net_block_size: NetBlockSize,
    /// sshd `PerSourcePenalties` (default on, with sshd's durations).
    pub per_source_penalties: PerSourcePenalties,
    /// sshd `PerSourcePenaltyExemptList`: sources never penalised (default none).
    pub per_source_penalty_exempt_list: ExemptList,
    /// Seashell's own `MaxConnections`: connections open at once, authenticated or not;
    /// `None` (the default) for no limit. sshd has no such cap: unauthenticated
    /// connections, the only ones an unknown peer can open, are already bounded by
    /// `MaxStartups` (100 by default), and authenticated ones belong to accountable users
    /// whose number the operating system's descriptor and thread limits bound. Set it
    /// when those limits are lower than what the adapter may otherwise be asked to hold.
    pub max_connections: Option<u32>,
}

/// Parses `none` or a positive integer, the form of `PerSourceMaxStartups` and
/// `MaxConnections`.
pub fn parse_limit(s: &str) -> Option<Option<u32>> {
    if s == "none" {
        Some(None)
    } else {
        parse_positive(s).map(Some)
    }
}

impl AdmissionConfig {
    /// Sets one option from its sshd keyword (case-insensitive) and argument text:
    /// `MaxStartups`, `PerSourceMaxStartups`, `PerSourceNetBlockSize`,
    /// `PerSourcePenalties`, `PerSourcePenaltyExemptList`, `MaxConnections`. Returns
    /// `Ok(false)` for a keyword that is not an admission option (left to the caller).
    pub fn set(&mut self, keyword: &str, value: &str) -> Result<bool, ConfigError> {
        let value = value.trim();
        match keyword.to_ascii_lowercase().as_str() {
            "maxstartups" => self.max_startups = value.parse()?,
            "persourcemaxstartups" => {
                self.per_source_max_startups = parse_limit(value)
                    .ok_or_else(|| ConfigError::PerSourceMaxStartups(value.to_owned()))?
            }
            "persourcenetblocksize" => self.per_source_net_block_size = value.parse()?,
            "persourcepenalties" => self.per_source_penalties = value.parse()?,
            "persourcepenaltyexemptlist" => self.per_source_penalty_exempt_list = value.parse()?,
            "maxconnections" => {
                self.max_connections = parse_limit(value)
                    .ok_or_else(|| ConfigError::MaxConnections(value.to_owned()))?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_positive(s: &str) -> Option<u32> {
    parse_u32(s).filter(|v| *v > 0 && *v <= i32::MAX as u32)
}

/// The longest duration accepted in a penalty (a year): beyond it a value is a typo.
const MAX_PENALTY_SECS: f64 = 366.0 * 86400.0;

/// sshd's time format (`convtime`): one or more `<number>[s|m|h|d|w]` groups, a bare
/// number being seconds; only a seconds group may have a fraction (`1.5s`).
pub fn parse_sshd_time(s: &str) -> Result<Duration, ConfigError> {
    let bad = || ConfigError::BadDuration(s.to_owned());
    if s.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0f64;
    let mut seen_seconds = false;
    let mut rest = s;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..end];
        let fractional = number.contains('.');
        if number.is_empty() || number.ends_with('.') {
            return Err(bad());
        }
        let value: f64 = number.parse().map_err(|_| bad())?;
        let unit = rest[end..].chars().next();
        let multiplier = match unit {
            None | Some('s') | Some('S') => {
                if seen_seconds {
                    return Err(bad());
                }
                seen_seconds = true;
                1.0
            }
            Some('m') | Some('M') => 60.0,
            Some('h') | Some('H') => 3600.0,
            Some('d') | Some('D') => 86400.0,
            Some('w') | Some('W') => 604800.0,
            Some(_) => return Err(bad()),
        };
        if fractional && multiplier > 1.0 {
            return Err(bad());
        }
        total += value * multiplier;
        if total > MAX_PENALTY_SECS {
            return Err(bad());
        }
        rest = &rest[end + unit.map_or(0, char::len_utf8)..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}
