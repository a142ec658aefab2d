//! [`ResolvedConfig`]: the values of the supported keywords, filled first-value-wins (lists
//! accumulate), with the value checks and error messages of OpenSSH's `readconf.c`.

use crate::env::ConfigEnv;
use crate::forward::{Forward, parse_forward};
use crate::jump::{Jump, parse_jump};
use crate::keywords::Key;
use crate::tokens;
use crate::values::*;
use seashell_proto::config::{AlgorithmSlot, apply_algorithm_spec};

/// The most identity and certificate files (OpenSSH's `SSH_MAX_IDENTITY_FILES`).
pub const MAX_IDENTITY_FILES: usize = 100;
/// The most known-hosts files per keyword (`SSH_MAX_HOSTS_FILES`).
pub const MAX_HOSTS_FILES: usize = 16;
/// The most entries of other lists (forwards, `SendEnv`, `SetEnv`, domains).
pub const MAX_LIST: usize = 1024;

/// Every supported keyword's value for one destination. `None` (or an empty list) means
/// not set; the accessors give OpenSSH's defaults. Paths are as written (`~`, `%` tokens and
/// `${VAR}` unexpanded) unless noted; see [`crate::Expanded`] for the expanded forms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedConfig {
    /// The destination as given on the command line.
    pub host_arg: String,
    /// The host to connect to: `HostName` with `%h` expanded, lower case, canonicalized.
    /// Set by the resolver.
    pub hostname: String,
    /// `HostName` as written.
    pub hostname_setting: Option<String>,
    /// `User`.
    pub user: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `IdentityFile`, in order, without duplicates.
    pub identity_files: Vec<String>,
    /// `CertificateFile`, in order.
    pub certificate_files: Vec<String>,
    /// `ProxyJump` (`Some(None)`: `none`).
    pub proxy_jump: Option<Option<Jump>>,
    /// `ProxyCommand` as written (`none` kept).
    pub proxy_command: Option<String>,
    /// `LocalForward` and `DynamicForward` (no connect side), in order.
    pub local_forwards: Vec<Forward>,
    /// `RemoteForward` (no connect side: dynamic), in order.
    pub remote_forwards: Vec<Forward>,
    /// `Ciphers` spec (`+`, `-`, `^` forms resolved by [`ResolvedConfig::ciphers`]).
    pub ciphers: Option<String>,
    /// `MACs` spec.
    pub macs: Option<String>,
    /// `KexAlgorithms` spec.
    pub kex_algorithms: Option<String>,
    /// `HostKeyAlgorithms` spec.
    pub host_key_algorithms: Option<String>,
    /// `PubkeyAcceptedAlgorithms` spec.
    pub pubkey_accepted_algorithms: Option<String>,
    /// `ServerAliveInterval`, seconds.
    pub server_alive_interval: Option<u32>,
    /// `ServerAliveCountMax`.
    pub server_alive_count_max: Option<u32>,
    /// `ConnectTimeout` (`Some(None)`: `none`).
    pub connect_timeout: Option<Option<u32>>,
    /// `StrictHostKeyChecking`.
    pub strict_host_key_checking: Option<Strict>,
    /// `UserKnownHostsFile` (`["none"]` for none).
    pub user_known_hosts_files: Vec<String>,
    /// `GlobalKnownHostsFile`.
    pub global_known_hosts_files: Vec<String>,
    /// `HashKnownHosts`.
    pub hash_known_hosts: Option<bool>,
    /// `BatchMode`.
    pub batch_mode: Option<bool>,
    /// `IdentitiesOnly`.
    pub identities_only: Option<bool>,
    /// `IdentityAgent` (`none`, `SSH_AUTH_SOCK` or a path, unexpanded).
    pub identity_agent: Option<String>,
    /// `ForwardAgent`.
    pub forward_agent: Option<ForwardAgent>,
    /// `Compression`.
    pub compression: Option<bool>,
    /// `LogLevel`.
    pub log_level: Option<LogLevel>,
    /// `RequestTTY`.
    pub request_tty: Option<RequestTty>,
    /// `SessionType`.
    pub session_type: Option<SessionType>,
    /// `StdinNull`.
    pub stdin_null: Option<bool>,
    /// `ForkAfterAuthentication`.
    pub fork_after_authentication: Option<bool>,
    /// `ExitOnForwardFailure`.
    pub exit_on_forward_failure: Option<bool>,
    /// `GatewayPorts`.
    pub gateway_ports: Option<bool>,
    /// `SendEnv` patterns, in order.
    pub send_env: Vec<String>,
    /// `SetEnv` `NAME=value` entries.
    pub set_env: Vec<String>,
    /// `AddKeysToAgent` and its lifetime in seconds (0: none).
    pub add_keys_to_agent: Option<(AddKeys, u32)>,
    /// `CheckHostIP`.
    pub check_host_ip: Option<bool>,
    /// `UpdateHostKeys`.
    pub update_host_keys: Option<YesNoAsk>,
    /// `CanonicalizeHostname`.
    pub canonicalize_hostname: Option<Canonicalize>,
    /// `CanonicalDomains`.
    pub canonical_domains: Vec<String>,
    /// `CanonicalizeMaxDots`.
    pub canonicalize_max_dots: Option<u32>,
    /// `CanonicalizeFallbackLocal`.
    pub canonicalize_fallback_local: Option<bool>,
    /// `IgnoreUnknown` pattern list.
    pub ignore_unknown: Option<String>,
    /// `PasswordAuthentication`.
    pub password_authentication: Option<bool>,
    /// `PubkeyAuthentication`.
    pub pubkey_authentication: Option<PubkeyAuth>,
    /// `RekeyLimit` bytes (0: the cipher's default).
    pub rekey_limit: Option<u64>,
    /// `RekeyLimit`'s time, seconds (0: none).
    pub rekey_interval: Option<u32>,
    /// `EscapeChar`.
    pub escape_char: Option<EscapeChar>,
    /// `StreamLocalBindUnlink`.
    pub stream_local_bind_unlink: Option<bool>,
    /// `ClearAllForwardings`.
    pub clear_all_forwardings: Option<bool>,
    /// `HostKeyAlias`.
    pub host_key_alias: Option<String>,
    /// `Tag` (for `Match tagged`).
    pub tag: Option<String>,
    /// The local user and host the configuration was resolved for.
    pub local: crate::env::LocalInfo,
    /// The expanded paths (`~`, `%` tokens, `${VAR}`), filled by the resolver.
    pub expanded: crate::expand::Expanded,
    /// Notes about lines that applied but were ignored (OpenSSH keywords Seashell does not
    /// act on, deprecated ones), with file and line, for a debug log.
    pub ignored: Vec<String>,
}

/// Sets `slot` if it is not set yet and the line applies.
fn first<T>(slot: &mut Option<T>, value: T, active: bool) {
    if active && slot.is_none() {
        *slot = Some(value);
    }
}

/// What [`ResolvedConfig::apply`] needs besides the line.
pub(crate) struct ApplyCx<'a> {
    pub env: &'a dyn ConfigEnv,
    pub active: bool,
}

impl ResolvedConfig {
    /// The port: `Port`, or 22.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(22)
    }

    /// The remote user: `User`, or `local_user`.
    pub fn user_or(&self, local_user: &str) -> String {
        self.user.clone().unwrap_or_else(|| local_user.to_owned())
    }

    /// `ServerAliveInterval` in seconds (0: off), with the default of Debian's OpenSSH: 300
    /// in batch mode, else 0.
    pub fn server_alive_interval(&self) -> u32 {
        self.server_alive_interval
            .unwrap_or(if self.batch_mode == Some(true) {
                300
            } else {
                0
            })
    }

    /// The remote user: `User`, or the local user.
    pub fn remote_user(&self) -> String {
        self.user_or(&self.local.user)
    }

    /// `UpdateHostKeys`, with OpenSSH's default: `yes` unless other known-hosts files than
    /// `~/.ssh/known_hosts` are configured.
    pub fn update_host_keys(&self) -> YesNoAsk {
        self.update_host_keys.unwrap_or_else(|| {
            let default_files = match self.user_known_hosts_files.as_slice() {
                [] => true,
                [one] => one == "~/.ssh/known_hosts",
                _ => false,
            };
            if default_files {
                YesNoAsk::Yes
            } else {
                YesNoAsk::No
            }
        })
    }

    /// Applies one directive (not `Host`, `Match` or `Include`). `words` are the lexed
    /// arguments, `rest` the raw text after the keyword (for `ProxyCommand`/`ProxyJump`),
    /// `kw` the keyword as written (lower case) for messages. Returns how many words were
    /// used, or OpenSSH's message for a bad value.
    pub(crate) fn apply(
        &mut self,
        key: Key,
        kw: &str,
        words: &[String],
        rest: &str,
        cx: &ApplyCx<'_>,
    ) -> Result<usize, String> {
        let active = cx.active;
        let arg = words.first().map(String::as_str).filter(|a| !a.is_empty());
        let missing = || "Missing argument.".to_owned();
        let unsupported =
            |a: Option<&str>| format!("unsupported option \"{}\".", a.unwrap_or("(null)"));
        macro_rules! flag {
            ($field:ident) => {{
                let v = arg.and_then(parse_flag).ok_or_else(|| unsupported(arg))?;
                first(&mut self.$field, v, active);
                1
            }};
        }
        macro_rules! multi {
            ($field:ident, $ty:ident) => {{
                let v = arg.and_then($ty::parse).ok_or_else(|| match arg {
                    None => "missing argument.".to_owned(),
                    a => unsupported(a),
                })?;
                first(&mut self.$field, v, active);
                1
            }};
        }
        macro_rules! algos {
            ($field:ident, $slot:expr, $what:literal) => {{
                let a = arg.ok_or_else(missing)?;
                check_algorithms(a, $slot).map_err(|_| format!($what, a))?;
                first(&mut self.$field, a.to_owned(), active);
                1
            }};
        }
        let used = match key {
            Key::Host | Key::Match | Key::Include => 0,
            Key::User => {
                first(&mut self.user, arg.ok_or_else(missing)?.to_owned(), active);
                1
            }
            Key::Hostname => {
                first(
                    &mut self.hostname_setting,
                    arg.ok_or_else(missing)?.to_owned(),
                    active,
                );
                1
            }
            Key::HostKeyAlias => {
                first(
                    &mut self.host_key_alias,
                    arg.ok_or_else(missing)?.to_owned(),
                    active,
                );
                1
            }
            Key::Tag => {
                first(&mut self.tag, arg.ok_or_else(missing)?.to_owned(), active);
                1
            }
            Key::IgnoreUnknown => {
                first(
                    &mut self.ignore_unknown,
                    arg.ok_or_else(missing)?.to_owned(),
                    active,
                );
                1
            }
            Key::Port => {
                let a = arg.ok_or_else(missing)?;
                let p = crate::forward::a2port(a, cx.env)
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("Bad port '{a}'."))?;
                first(&mut self.port, p, active);
                1
            }
            Key::IdentityFile | Key::CertificateFile => {
                let a = arg.ok_or_else(missing)?;
                let (list, what) = if key == Key::IdentityFile {
                    (&mut self.identity_files, "identity")
                } else {
                    (&mut self.certificate_files, "certificate")
                };
                if active {
                    if list.len() >= MAX_IDENTITY_FILES {
                        return Err(format!(
                            "Too many {what} files specified (max {MAX_IDENTITY_FILES})."
                        ));
                    }
                    if !list.iter().any(|f| f == a) {
                        list.push(a.to_owned());
                    }
                }
                1
            }
            Key::UserKnownHostsFile | Key::GlobalKnownHostsFile => {
                let list = if key == Key::UserKnownHostsFile {
                    &mut self.user_known_hosts_files
                } else {
                    &mut self.global_known_hosts_files
                };
                let was_empty = list.is_empty();
                for (i, a) in words.iter().enumerate() {
                    if a.is_empty() {
                        return Err(format!("keyword {kw} empty argument"));
                    }
                    if a.eq_ignore_ascii_case("none") && (i > 0 || words.len() > 1) {
                        return Err(format!("keyword {kw} \"none\" argument must appear alone."));
                    }
                    if active && was_empty {
                        if list.len() >= MAX_HOSTS_FILES {
                            return Err(format!("too many {kw} entries."));
                        }
                        list.push(a.clone());
                    }
                }
                words.len()
            }
            Key::ProxyCommand => {
                if rest.is_empty() {
                    return Err(missing());
                }
                let cmd = rest.trim_start_matches([' ', '\t', '=']);
                // A `ProxyJump` host set `ProxyCommand none` already; `ProxyJump none` did not.
                first(&mut self.proxy_command, cmd.to_owned(), active);
                words.len()
            }
            Key::ProxyJump => {
                if rest.is_empty() {
                    return Err(missing());
                }
                let value = rest.trim_start_matches([' ', '\t', '=']);
                let j = parse_jump(value, cx.env)
                    .map_err(|_| format!("Invalid ProxyJump \"{value}\""))?;
                if active && self.proxy_command.is_none() && self.proxy_jump.is_none() {
                    if j.is_some() {
                        self.proxy_command = Some("none".to_owned());
                    }
                    self.proxy_jump = Some(j);
                }
                words.len()
            }
            Key::LocalForward | Key::RemoteForward | Key::DynamicForward => {
                let a = arg.ok_or_else(missing)?;
                let remote = key == Key::RemoteForward;
                let mut dynamic = key == Key::DynamicForward;
                let mut used = 1;
                let mut spec = a.to_owned();
                if !dynamic {
                    match words.get(1).filter(|w| !w.is_empty()) {
                        Some(b) => {
                            spec = format!("{a}:{b}");
                            used = 2;
                        }
                        None if remote => dynamic = true,
                        None => return Err("Missing target argument.".into()),
                    }
                }
                let spec = tokens::dollar(&spec, cx.env)
                    .map_err(|_| "Bad forwarding specification.".to_owned())?;
                let f = parse_forward(&spec, dynamic, remote, cx.env)
                    .ok_or_else(|| "Bad forwarding specification.".to_owned())?;
                if active {
                    let list = if remote {
                        &mut self.remote_forwards
                    } else {
                        &mut self.local_forwards
                    };
                    if list.len() >= MAX_LIST {
                        return Err("too many forwards.".into());
                    }
                    if !list.contains(&f) {
                        list.push(f);
                    }
                }
                used
            }
            Key::Ciphers => algos!(ciphers, AlgorithmSlot::Cipher, "Bad SSH2 cipher spec '{}'."),
            Key::Macs => algos!(macs, AlgorithmSlot::Mac, "Bad SSH2 MAC spec '{}'."),
            Key::KexAlgorithms => {
                algos!(
                    kex_algorithms,
                    AlgorithmSlot::Kex,
                    "Bad SSH2 KexAlgorithms '{}'."
                )
            }
            Key::HostKeyAlgorithms => {
                algos!(
                    host_key_algorithms,
                    AlgorithmSlot::HostKey,
                    "Bad key types '{}'."
                )
            }
            Key::PubkeyAcceptedAlgorithms => algos!(
                pubkey_accepted_algorithms,
                AlgorithmSlot::PubkeyAccepted,
                "Bad key types '{}'."
            ),
            Key::ServerAliveInterval => {
                let t = time_arg(arg)?;
                if let Some(t) = t {
                    first(&mut self.server_alive_interval, t, active);
                }
                1
            }
            Key::ConnectTimeout => {
                let t = time_arg(arg)?;
                first(&mut self.connect_timeout, t, active);
                1
            }
            Key::ServerAliveCountMax => int_field(&mut self.server_alive_count_max, arg, active)?,
            Key::CanonicalizeMaxDots => int_field(&mut self.canonicalize_max_dots, arg, active)?,
            Key::StrictHostKeyChecking => multi!(strict_host_key_checking, Strict),
            Key::RequestTty => multi!(request_tty, RequestTty),
            Key::SessionType => multi!(session_type, SessionType),
            Key::PubkeyAuthentication => multi!(pubkey_authentication, PubkeyAuth),
            Key::CanonicalizeHostname => multi!(canonicalize_hostname, Canonicalize),
            Key::UpdateHostKeys => multi!(update_host_keys, YesNoAsk),
            Key::Compression => {
                let v = arg.and_then(parse_flag).filter(|_| {
                    arg.is_some_and(|a| {
                        a.eq_ignore_ascii_case("yes") || a.eq_ignore_ascii_case("no")
                    })
                });
                first(
                    &mut self.compression,
                    v.ok_or_else(|| unsupported(arg))?,
                    active,
                );
                1
            }
            Key::LogLevel => {
                let v = arg.and_then(LogLevel::parse).ok_or_else(|| {
                    format!("unsupported log level '{}'", arg.unwrap_or("<NONE>"))
                })?;
                first(&mut self.log_level, v, active);
                1
            }
            Key::HashKnownHosts => flag!(hash_known_hosts),
            Key::BatchMode => flag!(batch_mode),
            Key::IdentitiesOnly => flag!(identities_only),
            Key::StdinNull => flag!(stdin_null),
            Key::ForkAfterAuthentication => flag!(fork_after_authentication),
            Key::ExitOnForwardFailure => flag!(exit_on_forward_failure),
            Key::GatewayPorts => flag!(gateway_ports),
            Key::CheckHostIp => flag!(check_host_ip),
            Key::CanonicalizeFallbackLocal => flag!(canonicalize_fallback_local),
            Key::PasswordAuthentication => flag!(password_authentication),
            Key::StreamLocalBindUnlink => flag!(stream_local_bind_unlink),
            Key::ClearAllForwardings => flag!(clear_all_forwardings),
            Key::IdentityAgent => {
                let a = arg.ok_or_else(missing)?;
                check_agent_path(a, cx.env)?;
                first(&mut self.identity_agent, a.to_owned(), active);
                1
            }
            Key::ForwardAgent => {
                let a = arg.ok_or_else(missing)?;
                let v = match parse_flag(a) {
                    Some(true) => ForwardAgent::Yes,
                    Some(false) => ForwardAgent::No,
                    None => {
                        check_agent_path(a, cx.env)?;
                        ForwardAgent::Path(a.to_owned())
                    }
                };
                first(&mut self.forward_agent, v, active);
                1
            }
            Key::SendEnv => {
                for a in words {
                    if a.is_empty() || a.contains('=') {
                        return Err("Invalid environment name.".into());
                    }
                    if !active {
                        continue;
                    }
                    if let Some(pat) = a.strip_prefix('-') {
                        self.send_env
                            .retain(|e| !crate::pattern::match_pattern(e, pat));
                    } else if self.send_env.len() < MAX_LIST {
                        self.send_env.push(a.clone());
                    }
                }
                words.len()
            }
            Key::SetEnv => {
                let was_empty = self.set_env.is_empty();
                for a in words {
                    let Some((name, _)) = a.split_once('=') else {
                        return Err("Invalid SetEnv.".into());
                    };
                    if !active || !was_empty || self.set_env.len() >= MAX_LIST {
                        continue;
                    }
                    if !self
                        .set_env
                        .iter()
                        .any(|e| e.split_once('=').is_some_and(|(n, _)| n == name))
                    {
                        self.set_env.push(a.clone());
                    }
                }
                words.len()
            }
            Key::CanonicalDomains => {
                let was_empty = self.canonical_domains.is_empty();
                for (i, a) in words.iter().enumerate() {
                    if a.is_empty() {
                        return Err(format!("keyword {kw} empty argument"));
                    }
                    if a.eq_ignore_ascii_case("none") && (i > 0 || words.len() > 1) {
                        return Err(format!("keyword {kw} \"none\" argument must appear alone."));
                    }
                    let valid = a
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                        && !a.starts_with('.');
                    if !valid {
                        return Err(format!("domain name \"{a}\" contains invalid characters"));
                    }
                    if active && was_empty && self.canonical_domains.len() < 32 {
                        self.canonical_domains.push(a.clone());
                    }
                }
                words.len()
            }
            Key::AddKeysToAgent => {
                let (a, b) = (arg, words.get(1).map(String::as_str));
                let parsed = a.and_then(AddKeys::parse);
                let bad = || "unsupported option".to_owned();
                let (v, life) = match (parsed, b) {
                    (Some(AddKeys::Confirm), Some(t)) => (
                        AddKeys::Confirm,
                        parse_time(t).ok_or("invalid time value.")?,
                    ),
                    (Some(v), None) => (v, 0),
                    (None, None) => (AddKeys::Yes, a.and_then(parse_time).ok_or_else(bad)?),
                    _ => return Err(bad()),
                };
                first(&mut self.add_keys_to_agent, (v, life), active);
                words.len().min(2)
            }
            Key::RekeyLimit => {
                let a = arg.ok_or("Missing argument.")?;
                let bytes = if a == "default" {
                    0
                } else {
                    let v = parse_size(a)
                        .ok_or_else(|| format!("Bad number '{a}': Invalid argument"))?;
                    if v != 0 && v < 16 {
                        return Err("RekeyLimit too small".into());
                    }
                    v
                };
                first(&mut self.rekey_limit, bytes, active);
                match words.get(1).map(String::as_str) {
                    None => 1,
                    Some("none") => 2,
                    Some(t) => {
                        let t = time_arg(Some(t))?;
                        if let Some(t) = t {
                            first(&mut self.rekey_interval, t, active);
                        }
                        2
                    }
                }
            }
            Key::EscapeChar => {
                let a = arg.ok_or_else(missing)?;
                let v = EscapeChar::parse(a).ok_or("Bad escape character.")?;
                first(&mut self.escape_char, v, active);
                1
            }
        };
        Ok(used)
    }
}

/// A time argument: `none` is `Ok(None)`.
fn time_arg(arg: Option<&str>) -> Result<Option<u32>, String> {
    let a = arg.ok_or("missing time value.")?;
    if a == "none" {
        return Ok(None);
    }
    parse_time(a)
        .map(Some)
        .ok_or_else(|| "invalid time value.".to_owned())
}

/// An integer keyword.
fn int_field(slot: &mut Option<u32>, arg: Option<&str>, active: bool) -> Result<usize, String> {
    let v = parse_int(arg.unwrap_or_default()).map_err(|e| format!("integer value {e}."))?;
    first(slot, v, active);
    Ok(1)
}

/// Algorithm names OpenSSH knows that Seashell does not implement: accepted in a
/// configuration (so a distribution's crypto policy is not an error) and left out when the
/// list is resolved.
const OPENSSH_ONLY: &[&str] = &[
    "3des-cbc",
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "rijndael-cbc@lysator.liu.se",
    "hmac-sha1",
    "hmac-sha1-96",
    "hmac-md5",
    "hmac-md5-96",
    "hmac-sha1-etm@openssh.com",
    "hmac-sha1-96-etm@openssh.com",
    "hmac-md5-etm@openssh.com",
    "hmac-md5-96-etm@openssh.com",
    "umac-64@openssh.com",
    "umac-128@openssh.com",
    "umac-64-etm@openssh.com",
    "umac-128-etm@openssh.com",
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "mlkem768nistp256-sha256",
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed448",
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-mldsa44-ed25519",
];

/// Checks an algorithm spec's names (not for `-` removals), as OpenSSH does: each must be
/// one Seashell implements or one OpenSSH knows.
fn check_algorithms(spec: &str, slot: AlgorithmSlot) -> Result<(), String> {
    if spec.starts_with('-') {
        return Ok(());
    }
    let body = spec.trim_start_matches(['+', '^']);
    let supported = slot.supported();
    if body
        .split(',')
        .all(|n| supported.contains(&n) || OPENSSH_ONLY.contains(&n))
    {
        Ok(())
    } else {
        Err(spec.to_owned())
    }
}

/// The spec without the names Seashell does not implement (`-` specs are kept whole);
/// `None` when a `+` or `^` spec adds nothing Seashell has.
fn supported_spec(spec: &str, slot: AlgorithmSlot) -> Option<String> {
    if spec.starts_with('-') {
        return Some(spec.to_owned());
    }
    let (op, body) = match spec.strip_prefix(['+', '^']) {
        Some(b) => (&spec[..1], b),
        None => ("", spec),
    };
    let supported = slot.supported();
    let kept: Vec<&str> = body.split(',').filter(|n| supported.contains(n)).collect();
    if kept.is_empty() && !op.is_empty() {
        return None;
    }
    Some(format!("{op}{}", kept.join(",")))
}

/// Checks an agent socket value's `${VAR}` syntax (OpenSSH refuses bad ones when parsing).
fn check_agent_path(a: &str, env: &dyn ConfigEnv) -> Result<(), String> {
    let bad_env = a.starts_with('$')
        && !a.starts_with("${")
        && !a[1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if bad_env {
        return Err(format!("Invalid environment name {a}."));
    }
    if a.contains("${") {
        tokens::dollar(a, env).map_err(|_| format!("Invalid environment expansion {a}."))?;
    }
    Ok(())
}

/// The default algorithm list of a slot (the core's).
pub(crate) fn default_algorithms(slot: AlgorithmSlot) -> Vec<String> {
    let c = seashell_proto::ClientConfig::new(String::new());
    match slot {
        AlgorithmSlot::Cipher => c.ciphers,
        AlgorithmSlot::Mac => c.macs,
        AlgorithmSlot::Kex => c.kex_algorithms,
        AlgorithmSlot::HostKey => c.host_key_algorithms,
        AlgorithmSlot::PubkeyAccepted => c.pubkey_accepted_algorithms,
        AlgorithmSlot::Compression => c.compression,
    }
}

/// Resolves an optional spec against the slot's defaults.
pub(crate) fn algorithm_list(
    spec: Option<&str>,
    slot: AlgorithmSlot,
) -> Result<Vec<String>, String> {
    let defaults = default_algorithms(slot);
    match spec.and_then(|s| supported_spec(s, slot)) {
        None => Ok(defaults),
        Some(s) if s.is_empty() => Err(format!(
            "no algorithm Seashell implements in \"{}\"",
            spec.unwrap_or_default()
        )),
        Some(s) => apply_algorithm_spec(&s, &defaults, &slot.supported()),
    }
}
