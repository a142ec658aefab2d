//! `-o Keyword=Value` options, with OpenSSH's spelling and rules: keywords are
//! case-insensitive, the value follows `=` or whitespace, double quotes group words, and the
//! first value given for a keyword wins.

use crate::args::Settings;
use crate::hosts::parse_port;
use crate::keywords::{Unhandled, classify};
use crate::units::{parse_rekey_limit, parse_time};
use seashell_blocking::StrictHostKeyChecking;
use seashell_config::Key;
use seashell_proto::config::{AlgorithmSlot, apply_algorithm_spec};
use std::time::Duration;

/// The settings given with `-o` (other than `Port`, `User` and `IdentityFile`, which live in
/// [`Settings`] beside their flags). `None` means not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `Ciphers`, resolved to the final list.
    pub ciphers: Option<Vec<String>>,
    /// `KexAlgorithms`, resolved.
    pub kex_algorithms: Option<Vec<String>>,
    /// `MACs`, resolved.
    pub macs: Option<Vec<String>>,
    /// `HostKeyAlgorithms`, resolved.
    pub host_key_algorithms: Option<Vec<String>>,
    /// `PubkeyAcceptedAlgorithms` (or its old name `PubkeyAcceptedKeyTypes`), resolved.
    pub pubkey_accepted_algorithms: Option<Vec<String>>,
    /// `StrictHostKeyChecking`.
    pub strict: Option<StrictHostKeyChecking>,
    /// Whether `StrictHostKeyChecking=ask` was given (treated as `yes`).
    pub strict_ask: bool,
    /// `UserKnownHostsFile`: paths, unexpanded; `/dev/null` and `none` already removed.
    pub known_hosts_files: Option<Vec<String>>,
    /// `BatchMode`.
    pub batch_mode: Option<bool>,
    /// `PasswordAuthentication`.
    pub password_authentication: Option<bool>,
    /// `PubkeyAuthentication`.
    pub pubkey_authentication: Option<bool>,
    /// `ConnectTimeout` (zero: none).
    pub connect_timeout: Option<Duration>,
    /// `Compression` (or `-C`): offer `zlib@openssh.com,zlib,none` instead of
    /// `none,zlib@openssh.com`.
    pub compression: Option<bool>,
    /// `RekeyLimit`.
    pub rekey_limit: Option<crate::units::RekeyLimit>,
    /// `IdentityAgent`: `none`, `SSH_AUTH_SOCK` or a socket path (unexpanded).
    pub identity_agent: Option<String>,
    /// `IdentitiesOnly`: offer only the identity files, not the agent's other keys.
    pub identities_only: Option<bool>,
    /// `ForwardAgent` (or `-A` / `-a`): `yes` or `no`.
    pub forward_agent: Option<bool>,
}

/// A bad `-o` option; the message is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError(pub String);

/// Applies one `-o` argument to `s`.
pub fn apply_option(s: &mut Settings, text: &str) -> Result<(), OptionError> {
    let text = text.trim_start();
    let key_end = text
        .find(|c: char| c == '=' || c.is_whitespace())
        .unwrap_or(text.len());
    let (key, rest) = text.split_at(key_end);
    // One `=` may separate the keyword from its value, with whitespace around it.
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    let words = split_words(rest).map_err(|e| OptionError(format!("option \"{key}\": {e}")))?;
    if key.is_empty() {
        return Err(OptionError("empty option".to_owned()));
    }
    let lower = key.to_ascii_lowercase();
    if let Some(done) = s.session.apply_keyword(&lower, key, &words) {
        return done;
    }
    if let Some(done) = s.trust.apply_keyword(&lower, key, &words) {
        return done;
    }
    // `HostName` is taken by the configuration resolver (`ssh_config::apply`).
    if lower == "hostname" && words.len() == 1 {
        return Ok(());
    }
    if !KEYWORDS.contains(&lower.as_str()) {
        return match classify(key, &words.join(" ")) {
            Unhandled::Harmless => Ok(()),
            // A valid OpenSSH keyword: `-G` takes it (as `ssh -G` does); a connection
            // refuses it (see `ssh_config::apply`).
            Unhandled::NotSupported(msg)
                if !matches!(
                    seashell_config::classify(&lower),
                    None | Some(seashell_config::Class::Supported(
                        Key::Host | Key::Match | Key::Include
                    ))
                ) =>
            {
                s.deferred_errors.push(msg);
                Ok(())
            }
            Unhandled::NotSupported(msg) => Err(OptionError(msg)),
            Unhandled::Unknown => Err(OptionError(format!("unsupported option \"{key}\""))),
        };
    }
    let value = match words.as_slice() {
        [] => return Err(OptionError(format!("missing value for option \"{key}\""))),
        [one] => one.as_str(),
        [_, extra, ..] if lower != "userknownhostsfile" && lower != "rekeylimit" => {
            return Err(OptionError(format!(
                "option \"{key}\" takes one value; unexpected \"{extra}\""
            )));
        }
        [first, ..] => first.as_str(),
    };
    let bad = |what: &str| {
        OptionError(format!(
            "bad value \"{value}\" for option \"{key}\": {what}"
        ))
    };
    let o = &mut s.options;
    match lower.as_str() {
        "ciphers" => {
            if o.ciphers.is_none() {
                o.ciphers = Some(
                    algorithms(AlgorithmSlot::Cipher, value, &defaults().ciphers)
                        .map_err(|e| bad(&e))?,
                );
            }
        }
        "macs" => {
            if o.macs.is_none() {
                o.macs = Some(
                    algorithms(AlgorithmSlot::Mac, value, &defaults().macs).map_err(|e| bad(&e))?,
                );
            }
        }
        "kexalgorithms" => {
            if o.kex_algorithms.is_none() {
                o.kex_algorithms = Some(
                    algorithms(AlgorithmSlot::Kex, value, &defaults().kex_algorithms)
                        .map_err(|e| bad(&e))?,
                );
            }
        }
        "hostkeyalgorithms" => {
            if o.host_key_algorithms.is_none() {
                let current = defaults().host_key_algorithms;
                let list = algorithms(AlgorithmSlot::HostKey, value, &current);
                o.host_key_algorithms = Some(list.map_err(|e| bad(&e))?);
            }
        }
        "pubkeyacceptedalgorithms" | "pubkeyacceptedkeytypes" => {
            if o.pubkey_accepted_algorithms.is_none() {
                let current = defaults().pubkey_accepted_algorithms;
                let list = algorithms(AlgorithmSlot::PubkeyAccepted, value, &current);
                o.pubkey_accepted_algorithms = Some(list.map_err(|e| bad(&e))?);
            }
        }
        "stricthostkeychecking" => {
            let (mode, ask) = match value.to_ascii_lowercase().as_str() {
                "yes" | "true" => (StrictHostKeyChecking::Yes, false),
                "ask" => (StrictHostKeyChecking::Yes, true),
                "accept-new" => (StrictHostKeyChecking::AcceptNew, false),
                "no" | "false" | "off" => (StrictHostKeyChecking::No, false),
                _ => return Err(bad("expected yes, accept-new, no, off or ask")),
            };
            if o.strict.is_none() {
                o.strict = Some(mode);
                o.strict_ask = ask;
            }
        }
        "userknownhostsfile" => {
            if o.known_hosts_files.is_none() {
                let files = words
                    .iter()
                    .filter(|w| !matches!(w.as_str(), "/dev/null" | "none"));
                o.known_hosts_files = Some(files.cloned().collect());
            }
        }
        "batchmode" => set_flag(&mut o.batch_mode, value, &[]).map_err(|e| bad(&e))?,
        "compression" => set_flag(&mut o.compression, value, &[]).map_err(|e| bad(&e))?,
        "identityagent" => {
            o.identity_agent.get_or_insert_with(|| value.to_owned());
        }
        "identitiesonly" => set_flag(&mut o.identities_only, value, &[]).map_err(|e| bad(&e))?,
        "forwardagent" => set_flag(&mut o.forward_agent, value, &[]).map_err(|e| bad(&e))?,
        "rekeylimit" => {
            let limit = parse_rekey_limit(&words.join(" ")).map_err(|e| bad(&e))?;
            o.rekey_limit.get_or_insert(limit);
        }
        "passwordauthentication" => {
            set_flag(&mut o.password_authentication, value, &[]).map_err(|e| bad(&e))?
        }
        "pubkeyauthentication" => set_flag(
            &mut o.pubkey_authentication,
            value,
            &["unbound", "host-bound"],
        )
        .map_err(|e| bad(&e))?,
        "connecttimeout" => {
            let t =
                parse_time(value).ok_or_else(|| bad("expected a time such as 10, 30s or 1m"))?;
            o.connect_timeout.get_or_insert(t);
        }
        "port" => {
            let p = parse_port(value).ok_or_else(|| bad("expected a port number 1-65535"))?;
            s.port.get_or_insert(p);
        }
        "user" => {
            s.user.get_or_insert_with(|| value.to_owned());
        }
        _ => s.identity_files.push(value.to_owned()), // "identityfile"
    }
    Ok(())
}

/// The keywords we support, lower case.
const KEYWORDS: [&str; 20] = [
    "identityagent",
    "identitiesonly",
    "forwardagent",
    "ciphers",
    "macs",
    "kexalgorithms",
    "hostkeyalgorithms",
    "pubkeyacceptedalgorithms",
    "pubkeyacceptedkeytypes",
    "stricthostkeychecking",
    "userknownhostsfile",
    "batchmode",
    "passwordauthentication",
    "pubkeyauthentication",
    "connecttimeout",
    "compression",
    "rekeylimit",
    "port",
    "user",
    "identityfile",
];

/// The core's default configuration (for the current algorithm lists).
fn defaults() -> seashell_proto::ClientConfig {
    seashell_proto::ClientConfig::new(String::new())
}

/// Resolves an algorithm spec against the defaults and the slot's supported list.
fn algorithms(slot: AlgorithmSlot, spec: &str, current: &[String]) -> Result<Vec<String>, String> {
    apply_algorithm_spec(spec, current, &slot.supported())
}

/// Sets a yes/no flag if not set yet; `also_yes` are other spellings of yes.
fn set_flag(slot: &mut Option<bool>, value: &str, also_yes: &[&str]) -> Result<(), String> {
    let v = value.to_ascii_lowercase();
    let b = match v.as_str() {
        "yes" | "true" => true,
        "no" | "false" => false,
        other if also_yes.contains(&other) => true,
        _ => return Err("expected yes or no".to_owned()),
    };
    slot.get_or_insert(b);
    Ok(())
}

/// Splits a value into words at whitespace; double quotes group words.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => {
                if let Some(w) = cur.take() {
                    words.push(w);
                }
            }
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".to_owned());
    }
    if let Some(w) = cur {
        words.push(w);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(opts: &[&str]) -> Result<Settings, String> {
        let mut s = Settings::default();
        for o in opts {
            apply_option(&mut s, o).map_err(|e| e.0)?;
        }
        Ok(s)
    }

    fn all_ciphers() -> Vec<String> {
        seashell_proto::crypto::CipherAlg::DEFAULTS
            .iter()
            .map(|c| c.name().to_owned())
            .collect()
    }

    #[test]
    fn separators_and_case() {
        for form in [
            "Port=2",
            "port 2",
            "PORT = 2",
            "  Port\t2",
            "Port= 2",
            "Port =2",
        ] {
            assert_eq!(apply(&[form]).map(|s| s.port), Ok(Some(2)), "{form}");
        }
    }

    #[test]
    fn first_value_wins() {
        let s = apply(&["BatchMode=yes", "BatchMode=no", "User=a", "User=b"]).unwrap();
        assert_eq!(s.options.batch_mode, Some(true));
        assert_eq!(s.user.as_deref(), Some("a"));
        let s = apply(&[
            "Ciphers=aes128-gcm@openssh.com",
            "Ciphers=aes256-gcm@openssh.com",
        ])
        .unwrap();
        assert_eq!(
            s.options.ciphers,
            Some(vec!["aes128-gcm@openssh.com".to_owned()])
        );
    }

    #[test]
    fn algorithm_specs() {
        let s = apply(&["Ciphers=-aes*"]).unwrap();
        assert_eq!(
            s.options.ciphers,
            Some(vec!["chacha20-poly1305@openssh.com".to_owned()])
        );
        let s = apply(&["Ciphers ^aes256-gcm@openssh.com"]).unwrap();
        let list = s.options.ciphers.unwrap();
        assert_eq!(
            list.first().map(String::as_str),
            Some("aes256-gcm@openssh.com")
        );
        assert_eq!(list.len(), all_ciphers().len());
        let s = apply(&["HostKeyAlgorithms=rsa-sha2-256,ssh-ed25519"]).unwrap();
        assert_eq!(
            s.options.host_key_algorithms,
            Some(vec!["rsa-sha2-256".into(), "ssh-ed25519".into()])
        );
        let s = apply(&[
            "HostKeyAlgorithms=+ssh-rsa",
            "PubkeyAcceptedAlgorithms=+ssh-rsa",
        ])
        .unwrap();
        let lists = [
            s.options.host_key_algorithms,
            s.options.pubkey_accepted_algorithms,
        ];
        for list in lists {
            let list = list.unwrap();
            assert_eq!(list.last().map(String::as_str), Some("ssh-rsa"));
            // PubkeyAcceptedAlgorithms starts with the certificate algorithms, as OpenSSH.
            assert!(list.first().is_some_and(|a| a.starts_with("ssh-ed25519")));
        }
        let s = apply(&["KexAlgorithms=curve25519-sha256"]).unwrap();
        assert_eq!(
            s.options.kex_algorithms,
            Some(vec!["curve25519-sha256".to_owned()])
        );
        let s = apply(&["Ciphers=+3des-cbc,aes128-cbc"]).unwrap();
        let list = s.options.ciphers.unwrap();
        assert_eq!(list.len(), all_ciphers().len() + 2);
        assert_eq!(list.last().map(String::as_str), Some("aes128-cbc"));
        let e = apply(&["Ciphers=des-cbc"]).unwrap_err();
        assert!(e.contains("unsupported algorithm \"des-cbc\""), "{e}");
        let s = apply(&["Compression=yes", "Compression=no"]).unwrap();
        assert_eq!(s.options.compression, Some(true));
        assert!(apply(&["Compression=delayed"]).is_err());
        assert!(
            apply(&["Ciphers=-*"])
                .unwrap_err()
                .contains("empty algorithm list")
        );
    }

    #[test]
    fn host_key_checking_values() {
        let strict = |v: &str| {
            apply(&[&format!("StrictHostKeyChecking={v}")])
                .map(|s| (s.options.strict, s.options.strict_ask))
        };
        assert_eq!(strict("yes"), Ok((Some(StrictHostKeyChecking::Yes), false)));
        assert_eq!(strict("ASK"), Ok((Some(StrictHostKeyChecking::Yes), true)));
        assert_eq!(
            strict("accept-new"),
            Ok((Some(StrictHostKeyChecking::AcceptNew), false))
        );
        assert_eq!(strict("off"), Ok((Some(StrictHostKeyChecking::No), false)));
        assert_eq!(strict("no"), Ok((Some(StrictHostKeyChecking::No), false)));
        assert!(strict("maybe").unwrap_err().contains("bad value \"maybe\""));
    }

    #[test]
    fn known_hosts_files() {
        let s = apply(&["UserKnownHostsFile ~/a \"/b c\" /dev/null"]).unwrap();
        assert_eq!(
            s.options.known_hosts_files,
            Some(vec!["~/a".to_owned(), "/b c".to_owned()])
        );
        let s = apply(&["UserKnownHostsFile=/dev/null"]).unwrap();
        assert_eq!(s.options.known_hosts_files, Some(vec![]));
    }

    #[test]
    fn flags_and_times() {
        let s = apply(&[
            "PasswordAuthentication=no",
            "PubkeyAuthentication=host-bound",
            "ConnectTimeout=1m30s",
        ])
        .unwrap();
        assert_eq!(s.options.password_authentication, Some(false));
        assert_eq!(s.options.pubkey_authentication, Some(true));
        assert_eq!(s.options.connect_timeout, Some(Duration::from_secs(90)));
        assert!(
            apply(&["BatchMode=maybe"])
                .unwrap_err()
                .contains("expected yes or no")
        );
        assert!(apply(&["ConnectTimeout=abc"]).is_err());
    }

    #[test]
    fn rekey_limit_first_wins() {
        let s = apply(&["RekeyLimit=1G 1h", "RekeyLimit=2G"]).unwrap();
        let limit = s.options.rekey_limit.unwrap();
        assert_eq!(limit.bytes, 1 << 30);
        assert_eq!(limit.interval, Some(Duration::from_secs(3600)));
        assert!(apply(&["RekeyLimit=soon"]).is_err());
    }

    #[test]
    fn errors() {
        assert_eq!(
            apply(&["Bogus=1"]).unwrap_err(),
            "unsupported option \"Bogus\""
        );
        assert_eq!(
            apply(&["Ciphers"]).unwrap_err(),
            "missing value for option \"Ciphers\""
        );
        assert_eq!(
            apply(&["Port=1 2"]).unwrap_err(),
            "option \"Port\" takes one value; unexpected \"2\""
        );
        assert!(
            apply(&["Port=0"])
                .unwrap_err()
                .contains("bad value \"0\" for option \"Port\"")
        );
        assert!(
            apply(&["User=\"a"])
                .unwrap_err()
                .contains("unterminated quote")
        );
        assert_eq!(apply(&[""]).unwrap_err(), "empty option");
        let s = apply(&["IdentityFile=\"/k ey\"", "identityfile /b"]).unwrap();
        assert_eq!(s.identity_files, ["/k ey", "/b"]);
    }
}
