//! ssh_config for the command line: the command line's settings go first, then
//! `~/.ssh/config` and `/etc/ssh/ssh_config` (or only `-F`'s file), first value wins.
//! [`apply`] resolves the configuration for the destination and fills what the command
//! line left unset; [`dump`] is `-G`.

use crate::args::Settings;
use crate::forward::{ForwardKind, parse_forward_keyword};
use crate::log::LogLevel;
use crate::options::apply_option;
use crate::session_options::{RequestTty, SessionType};
use seashell_config::forward::{Endpoint, Forward};
use seashell_config::values::{self, EscapeChar};
use seashell_config::{CommandLine, ConfigError, Request, ResolvedConfig, SshConfigFiles};
use seashell_proto::config::AlgorithmSlot;

/// The files `-F` (or its absence) selects.
pub fn files(s: &Settings) -> SshConfigFiles {
    match &s.config_file {
        Some(f) => SshConfigFiles::from_flag(f),
        None => SshConfigFiles::Default,
    }
}

/// The command line as the resolver's first source: the flags' settings, then each `-o`.
pub fn command_line(s: &Settings) -> Vec<CommandLine> {
    let set = |k: &str, v: &str| CommandLine::Set(k.to_owned(), vec![v.to_owned()]);
    let mut out = Vec::new();
    if let Some(u) = &s.user {
        out.push(set("User", u));
    }
    if let Some(p) = s.port {
        out.push(set("Port", &p.to_string()));
    }
    // As ssh: `-i` paths are `~`-expanded at once, and one that does not exist is
    // skipped with a warning.
    let home = seashell_config::ConfigEnv::local(&seashell_config::StdEnv).home;
    for f in &s.identity_flags {
        let path = seashell_config::tokens::tilde(f, &home);
        if let Err(e) = std::fs::metadata(&path) {
            eprintln!(
                "Warning: Identity file {path} not accessible: {}.",
                crate::run::io_text(&e)
            );
            continue;
        }
        out.push(set("IdentityFile", &path));
    }
    for (kind, spec) in &s.forward_flags {
        out.push(CommandLine::Forward(*kind, spec.clone()));
    }
    if let Some(j) = &s.jump_flag {
        out.push(set("ProxyJump", j));
    }
    let o = &s.session;
    if let Some(l) = o.flag_log_level {
        out.push(set("LogLevel", l.name()));
    }
    if let Some(t) = o.request_tty {
        let v = match t {
            RequestTty::No => "no",
            RequestTty::Yes => "yes",
            RequestTty::Force => "force",
            RequestTty::Auto => "auto",
        };
        out.push(set("RequestTTY", v));
    }
    if let Some(t) = o.session_type {
        let v = match t {
            SessionType::None => "none",
            SessionType::Subsystem => "subsystem",
            SessionType::Default => "default",
        };
        out.push(set("SessionType", v));
    }
    let flags = [
        ("StdinNull", o.stdin_null),
        ("ForkAfterAuthentication", o.fork_after_authentication),
        ("GatewayPorts", o.gateway_ports),
        ("Compression", s.options.compression),
    ];
    for (k, v) in flags {
        if let Some(v) = v {
            out.push(set(k, values::flag_name(v)));
        }
    }
    if let Some(c) = &s.cipher_flag {
        out.push(set("Ciphers", c));
    }
    if let Some(m) = &s.mac_flag {
        out.push(set("MACs", m));
    }
    out.extend(s.option_texts.iter().cloned().map(CommandLine::Option));
    out
}

/// Resolves the configuration for the destination (`s.host`), keeps it in `s.config`, and
/// fills every setting the command line did not give: the host becomes `HostName`, then
/// user, port, identities, algorithms, forwards, `ProxyJump` and the session keywords.
/// Keywords Seashell does not act on are ignored, except a `ProxyCommand`, which is refused
/// (connecting directly instead would not be what the configuration asks for).
///
/// # Errors
/// The configuration's messages (OpenSSH's, with file and line), or a value the command
/// line's parser refuses.
pub fn apply(s: &mut Settings) -> Result<(), ConfigError> {
    let err = |m: String| ConfigError {
        messages: vec![format!("seashell: {m}")],
    };
    if let Some(m) = s.deferred_errors.first() {
        return Err(err(m.clone()));
    }
    let c = resolve(s)?;
    s.host = c.hostname.clone();
    if let Some(u) = &c.user {
        s.user.get_or_insert_with(|| u.clone());
    }
    if let Some(p) = c.port {
        s.port.get_or_insert(p);
    }
    // As ssh, a configured identity file that does not exist is passed over (`-i` ones
    // were checked with a warning already). When none is left, the default files are tried
    // (ssh would try none).
    let identities = c.expanded.identity_files.clone().map_err(err)?;
    s.identity_files = identities
        .into_iter()
        .filter(|f| std::path::Path::new(f).exists())
        .collect();
    // Algorithm lists, resolved by the configuration (names Seashell lacks left out).
    let o = &mut s.options;
    let slots = [
        (&mut o.ciphers, c.ciphers.is_some(), AlgorithmSlot::Cipher),
        (&mut o.macs, c.macs.is_some(), AlgorithmSlot::Mac),
        (
            &mut o.kex_algorithms,
            c.kex_algorithms.is_some(),
            AlgorithmSlot::Kex,
        ),
        (
            &mut o.host_key_algorithms,
            c.host_key_algorithms.is_some(),
            AlgorithmSlot::HostKey,
        ),
        (
            &mut o.pubkey_accepted_algorithms,
            c.pubkey_accepted_algorithms.is_some(),
            AlgorithmSlot::PubkeyAccepted,
        ),
    ];
    for (field, set, slot) in slots {
        if set && field.is_none() {
            *field = Some(c.algorithms(slot).map_err(err)?);
        }
    }
    let mut texts: Vec<String> = Vec::new();
    if let Some(v) = c.strict_host_key_checking {
        let word = match v {
            values::Strict::Yes => "yes",
            values::Strict::No => "no",
            values::Strict::Ask => "ask",
            values::Strict::AcceptNew => "accept-new",
        };
        texts.push(format!("StrictHostKeyChecking {word}"));
    }
    let flags = [
        ("BatchMode", c.batch_mode),
        ("PasswordAuthentication", c.password_authentication),
        ("Compression", c.compression),
        ("ExitOnForwardFailure", c.exit_on_forward_failure),
        ("GatewayPorts", c.gateway_ports),
        ("StdinNull", c.stdin_null),
        ("ForkAfterAuthentication", c.fork_after_authentication),
        ("StreamLocalBindUnlink", c.stream_local_bind_unlink),
        ("ClearAllForwardings", c.clear_all_forwardings),
    ];
    for (k, v) in flags {
        if let Some(v) = v {
            texts.push(format!("{k} {}", values::flag_name(v)));
        }
    }
    if let Some(p) = c.pubkey_authentication {
        let on = p != values::PubkeyAuth::No;
        texts.push(format!("PubkeyAuthentication {}", values::flag_name(on)));
    }
    if let Some(Some(t)) = c.connect_timeout {
        texts.push(format!("ConnectTimeout {t}"));
    }
    if c.server_alive_interval.is_some() || c.batch_mode == Some(true) {
        texts.push(format!("ServerAliveInterval {}", c.server_alive_interval()));
    }
    if let Some(n) = c.server_alive_count_max {
        texts.push(format!("ServerAliveCountMax {n}"));
    }
    if let Some(l) = c.log_level {
        let name = match l {
            values::LogLevel::Quiet => "QUIET",
            other => other.name(),
        };
        texts.push(format!("LogLevel {name}"));
    }
    if let Some(t) = c.request_tty {
        let v = match t {
            values::RequestTty::No => "no",
            values::RequestTty::Yes => "yes",
            values::RequestTty::Force => "force",
            values::RequestTty::Auto => "auto",
        };
        texts.push(format!("RequestTTY {v}"));
    }
    if let Some(t) = c.session_type {
        texts.push(format!("SessionType {}", t.name()));
    }
    if let Some(b) = c.rekey_limit {
        let t = c
            .rekey_interval
            .filter(|t| *t > 0)
            .map_or("none".to_owned(), |t| t.to_string());
        let b = if b == 0 {
            "default".to_owned()
        } else {
            b.to_string()
        };
        texts.push(format!("RekeyLimit {b} {t}"));
    }
    match c.escape_char {
        Some(EscapeChar::None) => texts.push("EscapeChar none".into()),
        Some(EscapeChar::Char(ch)) if ch >= 32 && ch != b'"' && ch != b'\\' && ch < 127 => {
            texts.push(format!("EscapeChar \"{}\"", ch as char));
        }
        Some(EscapeChar::Char(ch)) if ch < 32 => {
            texts.push(format!("EscapeChar ^{}", (ch + 64) as char));
        }
        _ => {}
    }
    match &c.proxy_jump {
        Some(Some(j)) => texts.push(format!("ProxyJump {}", j.spec)),
        Some(None) => texts.push("ProxyJump none".into()),
        None => {}
    }
    if let Some(cmd) = c
        .proxy_command
        .as_deref()
        .filter(|p| !p.eq_ignore_ascii_case("none"))
        && c.proxy_jump.is_none()
    {
        return Err(err(format!(
            "ProxyCommand \"{cmd}\": keyword ProxyCommand is not supported yet"
        )));
    }
    for t in texts {
        apply_option(s, &t).map_err(|e| err(e.0))?;
    }
    if !c.user_known_hosts_files.is_empty() {
        s.options
            .known_hosts_files
            .get_or_insert_with(|| c.expanded.user_known_hosts_files.clone());
    }
    for f in &c.local_forwards {
        add_forward(s, f, false).map_err(err)?;
    }
    for f in &c.remote_forwards {
        add_forward(s, f, true).map_err(err)?;
    }
    resolve_jump_hosts(s)?;
    s.config = Some(Box::new(c));
    Ok(())
}

/// Each `-J`/`ProxyJump` hop is a host name for the configuration too, as for the `ssh`
/// OpenSSH runs for it: its `HostName`, and its `User` and `Port` unless the hop names them.
fn resolve_jump_hosts(s: &mut Settings) -> Result<(), ConfigError> {
    let files = files(s);
    let Some(hops) = s.session.jump_hosts.as_mut() else {
        return Ok(());
    };
    for hop in hops.iter_mut() {
        let mut req = Request::new(hop.host.clone());
        if let Some(u) = &hop.user {
            req.command_line
                .push(CommandLine::Set("User".into(), vec![u.clone()]));
        }
        if let Some(p) = hop.port {
            req.command_line
                .push(CommandLine::Set("Port".into(), vec![p.to_string()]));
        }
        let c = seashell_config::resolve_with(&seashell_config::StdEnv, &req, &files)?;
        hop.host = c.hostname.clone();
        if hop.user.is_none() {
            hop.user = c.user.clone();
        }
        if hop.port.is_none() {
            hop.port = c.port;
        }
    }
    Ok(())
}

/// Adds a configured forward unless the command line already has it.
fn add_forward(s: &mut Settings, f: &Forward, remote: bool) -> Result<(), String> {
    let mut words = vec![endpoint(&f.listen)];
    let kind = match (&f.connect, remote) {
        (Some(c), r) => {
            words.push(endpoint(c));
            if r {
                ForwardKind::Remote
            } else {
                ForwardKind::Local
            }
        }
        (None, true) => ForwardKind::Remote,
        (None, false) => ForwardKind::Dynamic,
    };
    let spec = parse_forward_keyword(&words, kind)?;
    if !s.session.forwards.contains(&spec) {
        s.session.forwards.push(spec);
    }
    Ok(())
}

/// One side of a forward as the command line writes it.
fn endpoint(e: &Endpoint) -> String {
    match e {
        Endpoint::Tcp { host: None, port } => port.to_string(),
        Endpoint::Tcp {
            host: Some(h),
            port,
        } => format!("[{h}]:{port}"),
        Endpoint::Path(p) => p.clone(),
    }
}

/// Resolves the configuration for `s.host` with the command line first.
pub fn resolve(s: &Settings) -> Result<ResolvedConfig, ConfigError> {
    let mut req = Request::new(s.host.clone());
    req.command_line = command_line(s);
    req.remote_command = s.command.clone();
    seashell_config::resolve_with(&seashell_config::StdEnv, &req, &files(s))
}

/// `-G`: the resolved configuration in `ssh -G`'s format.
///
/// # Errors
/// As [`resolve`], or an algorithm list that resolves to nothing.
pub fn dump(s: &Settings) -> Result<String, ConfigError> {
    let c = resolve(s)?;
    c.dump().map_err(|m| ConfigError { messages: vec![m] })
}

impl LogLevel {
    /// The name OpenSSH uses for this level.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Quiet => "QUIET",
            LogLevel::Fatal => "FATAL",
            LogLevel::Error => "ERROR",
            LogLevel::Info => "INFO",
            LogLevel::Verbose => "VERBOSE",
            LogLevel::Debug1 => "DEBUG1",
            LogLevel::Debug2 => "DEBUG2",
            LogLevel::Debug3 => "DEBUG3",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Parsed, parse};
    use crate::forward::ForwardSpec;

    fn settings(args: &[&str]) -> Settings {
        match parse(args) {
            Ok(Parsed::Run(s)) => *s,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn a_host_alias_fills_what_the_command_line_left_unset() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "").unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(
            &cfg,
            format!(
                "Host alias\n  HostName Real.Example\n  Port 2222\n  User cfg\n  IdentityFile {}\n  IdentityFile /no/such/key\n  LocalForward 8080 db:5432\n  ProxyJump hop1,me@hop2:2200\n  Ciphers aes128-ctr,umac-64@openssh.com\n  ServerAliveInterval 9\n  SendEnv LANG\n",
                key.display()
            ),
        )
        .unwrap();
        let f = cfg.display().to_string();
        let mut s = settings(&["-F", &f, "-p", "7", "alias", "true"]);
        apply(&mut s).unwrap();
        assert_eq!(s.host, "real.example");
        assert_eq!((s.port, s.user.as_deref()), (Some(7), Some("cfg")));
        assert_eq!(s.identity_files, [key.display().to_string()]);
        assert_eq!(s.session.forwards.len(), 1);
        assert!(matches!(s.session.forwards[0], ForwardSpec::Local(_)));
        let hops = s.session.jump_hosts.clone().unwrap();
        assert_eq!(hops.len(), 2);
        assert_eq!(
            (hops[1].user.as_deref(), hops[1].host.as_str(), hops[1].port),
            (Some("me"), "hop2", Some(2200))
        );
        assert_eq!(s.options.ciphers, Some(vec!["aes128-ctr".to_owned()]));
        assert_eq!(
            s.session.server_alive_interval,
            Some(std::time::Duration::from_secs(9))
        );
        assert_eq!(s.config.as_ref().unwrap().send_env, ["LANG"]);
    }

    #[test]
    fn command_line_seeds_and_refusals() {
        let s = settings(&[
            "-l", "u", "-L", "1:h:2", "-J", "j", "-N", "-C", "-o", "Port=3", "h",
        ]);
        let seeds = command_line(&s);
        let set = |k: &str, v: &str| CommandLine::Set(k.into(), vec![v.into()]);
        assert!(seeds.contains(&set("User", "u")));
        assert!(seeds.contains(&set("Port", "3")));
        assert!(seeds.contains(&CommandLine::Forward('L', "1:h:2".into())));
        assert!(seeds.contains(&set("ProxyJump", "j")));
        assert!(seeds.contains(&set("SessionType", "none")));
        assert!(seeds.contains(&set("RequestTTY", "no")));
        assert!(seeds.contains(&set("Compression", "yes")));
        assert_eq!(seeds.last(), Some(&CommandLine::Option("Port=3".into())));
        // A keyword the resolver takes but a connection cannot use yet: -G shows it,
        // connecting refuses it.
        let mut s = settings(&["-F", "none", "-o", "SendEnv=X", "h"]);
        assert!(dump(&s).unwrap().contains("\nsendenv X\n"));
        let e = apply(&mut s).unwrap_err();
        assert_eq!(
            e.messages,
            ["seashell: keyword SendEnv is not supported yet"]
        );
        // ProxyCommand from a file is refused rather than ignored.
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(&cfg, "ProxyCommand nc %h %p\n").unwrap();
        let mut s = settings(&["-F", &cfg.display().to_string(), "h"]);
        let e = apply(&mut s).unwrap_err();
        assert!(
            e.messages[0].contains("ProxyCommand is not supported yet"),
            "{e}"
        );
    }
}
