//! Typed values of the resolved keywords, their parsers (OpenSSH's spellings) and the names
//! `ssh -G` prints for them.

/// Defines a multi-state enum: the spellings accepted (case-insensitive) and the name
/// printed (OpenSSH prints the first spelling in its table with that value).
macro_rules! multistate {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $print:literal [$($spelling:literal),+]),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vm])* $variant),+
        }
        impl $name {
            /// Parses one of OpenSSH's spellings (case-insensitive).
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.to_ascii_lowercase();
                $(if [$($spelling),+].contains(&s.as_str()) { return Some($name::$variant); })+
                None
            }
            /// The name `ssh -G` prints.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $print),+ }
            }
        }
    };
}

multistate!(
    /// `StrictHostKeyChecking`.
    Strict {
        /// `yes`: unknown hosts are refused.
        Yes = "true" ["true", "yes"],
        /// `no`/`off`: unknown hosts are added.
        No = "false" ["false", "no", "off"],
        /// `ask` (OpenSSH's default).
        Ask = "ask" ["ask"],
        /// `accept-new`.
        AcceptNew = "accept-new" ["accept-new"],
    }
);

multistate!(
    /// `RequestTTY`.
    RequestTty {
        /// `yes`.
        Yes = "true" ["true", "yes"],
        /// `no`.
        No = "false" ["false", "no"],
        /// `force`.
        Force = "force" ["force"],
        /// `auto` (the default).
        Auto = "auto" ["auto"],
    }
);

multistate!(
    /// `SessionType`.
    SessionType {
        /// `none` (`-N`).
        None = "none" ["none"],
        /// `subsystem` (`-s`).
        Subsystem = "subsystem" ["subsystem"],
        /// `default`.
        Default = "default" ["default"],
    }
);

multistate!(
    /// `PubkeyAuthentication`.
    PubkeyAuth {
        /// `yes`.
        Yes = "true" ["true", "yes"],
        /// `no`.
        No = "false" ["false", "no"],
        /// `unbound`.
        Unbound = "unbound" ["unbound"],
        /// `host-bound`.
        HostBound = "host-bound" ["host-bound"],
    }
);

multistate!(
    /// `CanonicalizeHostname`.
    Canonicalize {
        /// `yes`.
        Yes = "true" ["true", "yes"],
        /// `no` (the default).
        No = "false" ["false", "no"],
        /// `always`: also for proxied connections.
        Always = "always" ["always"],
    }
);

multistate!(
    /// `UpdateHostKeys`.
    YesNoAsk {
        /// `yes`.
        Yes = "true" ["true", "yes"],
        /// `no`.
        No = "false" ["false", "no"],
        /// `ask`.
        Ask = "ask" ["ask"],
    }
);

multistate!(
    /// `AddKeysToAgent`.
    AddKeys {
        /// `yes`.
        Yes = "true" ["true", "yes"],
        /// `no` (the default).
        No = "false" ["false", "no"],
        /// `ask`.
        Ask = "ask" ["ask"],
        /// `confirm`.
        Confirm = "confirm" ["confirm"],
    }
);

multistate!(
    /// `LogLevel`.
    LogLevel {
        /// `QUIET` (Debian's `ssh -G` prints it as `SILENT`, and so does Seashell).
        Quiet = "SILENT" ["quiet"],
        /// `FATAL`.
        Fatal = "FATAL" ["fatal"],
        /// `ERROR`.
        Error = "ERROR" ["error"],
        /// `INFO` (the default).
        Info = "INFO" ["info"],
        /// `VERBOSE`.
        Verbose = "VERBOSE" ["verbose"],
        /// `DEBUG1` (also `DEBUG`, the name `ssh -G` prints).
        Debug1 = "DEBUG" ["debug", "debug1"],
        /// `DEBUG2`.
        Debug2 = "DEBUG2" ["debug2"],
        /// `DEBUG3`.
        Debug3 = "DEBUG3" ["debug3"],
    }
);

/// A yes/no flag (`yes`, `true`, `no`, `false`).
pub fn parse_flag(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// How `ssh -G` prints a flag.
pub fn flag_name(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `ForwardAgent`: a flag or an agent socket path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardAgent {
    /// `no`.
    No,
    /// `yes`: the agent of `SSH_AUTH_SOCK`.
    Yes,
    /// The agent at this socket (unexpanded: `~`, `%` tokens and `${VAR}` allowed).
    Path(String),
}

/// `EscapeChar`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeChar {
    /// `none`.
    None,
    /// This byte.
    Char(u8),
}

impl EscapeChar {
    /// Parses ssh's forms: one character, `^X`, or `none`.
    pub fn parse(s: &str) -> Option<EscapeChar> {
        match s.as_bytes() {
            _ if s == "none" => Some(EscapeChar::None),
            [c] => Some(EscapeChar::Char(*c)),
            [b'^', c @ 64..=127] => Some(EscapeChar::Char(c & 31)),
            _ => None,
        }
    }

    /// As `ssh -G` prints it (`vis(3)` with `VIS_WHITE`).
    pub fn name(self) -> String {
        match self {
            EscapeChar::None => "none".into(),
            EscapeChar::Char(c) => match c {
                b' ' => "\\040".into(),
                b'\t' => "\\t".into(),
                b'\n' => "\\n".into(),
                b'\\' => "\\\\".into(),
                0..=31 => format!("\\^{}", (c + 64) as char),
                127 => "\\^?".into(),
                128..=255 => format!("\\{c:03o}"),
                c => (c as char).to_string(),
            },
        }
    }
}

/// OpenSSH's time format (`convtime`): seconds, or numbers with `s`, `m`, `h`, `d`, `w`
/// units added up (`1h30m`). `None` for a malformed or too large value.
pub fn parse_time(s: &str) -> Option<u32> {
    let total = seashell_proto::config::convtime(s)?;
    u32::try_from(total).ok().filter(|t| *t <= i32::MAX as u32)
}

/// A byte count with an optional `K`, `M`, `G` or `T` suffix (powers of 1024), as
/// OpenSSH's `scan_scaled`.
pub fn parse_size(s: &str) -> Option<u64> {
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// A non-negative integer (`atoi_err`).
pub fn parse_int(s: &str) -> Result<u32, &'static str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is invalid");
    }
    s.parse::<u32>()
        .ok()
        .filter(|v| *v <= i32::MAX as u32)
        .ok_or("is too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multistates() {
        assert_eq!(Strict::parse("OFF"), Some(Strict::No));
        assert_eq!(Strict::Yes.name(), "true");
        assert_eq!(
            Strict::parse("accept-new").map(Strict::name),
            Some("accept-new")
        );
        assert_eq!(LogLevel::parse("debug"), Some(LogLevel::Debug1));
        assert_eq!(
            LogLevel::parse("Verbose").map(LogLevel::name),
            Some("VERBOSE")
        );
        assert_eq!(PubkeyAuth::parse("host-bound"), Some(PubkeyAuth::HostBound));
        assert_eq!(RequestTty::parse("maybe"), None);
        assert_eq!(parse_flag("True"), Some(true));
        assert_eq!(parse_flag("ask"), None);
    }

    #[test]
    fn times_sizes_ints() {
        assert_eq!(parse_time("90"), Some(90));
        assert_eq!(parse_time("1h30m"), Some(5400));
        assert_eq!(parse_time("1W"), Some(604800));
        assert_eq!(parse_time("5x"), None);
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("99999999999"), None);
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("512k"), Some(512 << 10));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("1Q"), None);
        assert_eq!(parse_int("3"), Ok(3));
        assert!(parse_int("-1").is_err());
    }

    #[test]
    fn escape_chars() {
        assert_eq!(EscapeChar::parse("~"), Some(EscapeChar::Char(b'~')));
        assert_eq!(EscapeChar::parse("^]"), Some(EscapeChar::Char(0x1d)));
        assert_eq!(EscapeChar::parse("none"), Some(EscapeChar::None));
        assert_eq!(EscapeChar::parse("ab"), None);
        assert_eq!(EscapeChar::Char(0x1d).name(), "\\^]");
        assert_eq!(EscapeChar::Char(b'%').name(), "%");
    }
}
