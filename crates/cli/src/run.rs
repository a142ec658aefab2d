//! Running the command line: connecting, checking the host key, authenticating, and
//! handing the command over to [`crate::pipe`].

use crate::args::Settings;
use crate::askpass;
use crate::forward::{Forward, ForwardSpec, Target};
use crate::log::Log;
use crate::remote;
use crate::session_options::SessionType;
use crate::tty;
use seashell_blocking::{
    Client, ClientConfig, Error, ExitStatus, HostKeyPolicy, StrictHostKeyChecking,
};
use seashell_keys::{HostKeyStatus, KnownHosts, host_pattern, load_private_key};
use seashell_proto::PublicKey;
use seashell_proto::transport::compress::CompressionAlg;
use std::io::IsTerminal;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A fatal error: printed as `seashell: <message>`, exit status 255.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal(pub String);

/// The identities tried when none is given, in OpenSSH's order.
const DEFAULT_IDENTITIES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// Connects, runs the command and returns how it ended.
pub fn run(s: &Settings) -> Result<ExitStatus, Fatal> {
    let log = Log::global();
    check_supported(s)?;
    let tty = tty_decision(s, log);
    if s.options.strict_ask {
        log.warn(
            "seashell: StrictHostKeyChecking=ask: prompting is not supported; treating it as yes",
        );
    }
    let home = std::env::home_dir().unwrap_or_default();
    let user = match &s.user {
        Some(u) => u.clone(),
        None => local_user()
            .ok_or_else(|| Fatal("cannot tell the local user name; give one with -l".into()))?,
    };
    let port = s.port.unwrap_or(22);
    let host = s.host.as_str();
    let password_used = Arc::new(AtomicBool::new(false));
    let config = build_config(s, &user, &home, log, &password_used)?;

    let sock = connect(host, port, s, log)?;
    let peer = peer_ip(&sock);
    let session =
        Client::handshake(sock, host, port, config).map_err(|e| describe(e, &user, host, port))?;
    if let Some(id) = session.server_ident() {
        log.debug(&format!("Remote software version: {id}"));
    }
    if let Some(n) = session.negotiated() {
        log.debug(&format!("kex: algorithm: {}", n.kex.name()));
        log.debug(&format!("kex: host key algorithm: {}", n.host_key));
        // OpenSSH's wording: `kex: server->client cipher: X MAC: Y compression: Z`.
        let mac = |m: Option<seashell_proto::crypto::MacAlg>| m.map_or("<implicit>", |m| m.name());
        log.debug(&format!(
            "kex: server->client cipher: {} MAC: {} compression: {}",
            n.cipher_s2c.name(),
            mac(n.mac_s2c),
            n.comp_s2c.name()
        ));
        log.debug(&format!(
            "kex: client->server cipher: {} MAC: {} compression: {}",
            n.cipher_c2s.name(),
            mac(n.mac_c2s),
            n.comp_c2s.name()
        ));
    }
    let method = if password_used.load(Ordering::SeqCst) {
        "password"
    } else {
        "publickey"
    };
    log.verbose(&format!(
        "Authenticated to {host} ([{}]:{port}) using \"{method}\".",
        peer
    ));
    if s.session.session_type == Some(SessionType::None) {
        log.debug("Not starting a session (-N).");
        let ended = remote::hold(&session, log).map_err(|e| describe(e, &user, host, port))?;
        log.debug(&format!("{ended:?}"));
        return Ok(ExitStatus::Unknown);
    }
    let subsystem = s.session.session_type == Some(SessionType::Subsystem);
    let what = match &s.command {
        None => remote::What::Shell,
        Some(c) if subsystem => {
            log.debug(&format!("Sending subsystem: {c}"));
            remote::What::Subsystem(c.clone())
        }
        Some(c) => {
            log.debug(&format!("Sending command: {c}"));
            remote::What::Exec(c.clone())
        }
    };
    // A command without a pseudo-terminal does not read a terminal: its stdin ends at once.
    let terminal_stdin = s.command.is_some() && !tty.allocate && std::io::stdin().is_terminal();
    let plan = remote::Plan {
        what,
        pty: tty.allocate,
        escape: s.session.escape_char.unwrap_or_default(),
        stdin_null: s.session.stdin_null == Some(true) || terminal_stdin,
        host: host.to_owned(),
    };
    let ended = remote::run(&session, &plan, log).map_err(|e| describe(e, &user, host, port))?;
    let status = match ended {
        remote::Ended::Status(status) => status,
        remote::Ended::Disconnected | remote::Ended::Killed(_) => return Ok(ExitStatus::Unknown),
        remote::Ended::Lost(why) => {
            log.debug(&format!("connection lost: {why}"));
            return Ok(ExitStatus::Unknown);
        }
    };
    match &status {
        ExitStatus::Code(c) => log.debug(&format!("Exit status {c}")),
        ExitStatus::Signal(sig) => log.debug(&format!("Remote command killed by signal {sig}")),
        ExitStatus::Unknown => log.debug("The server sent no exit status"),
    }
    let _ = session.close();
    Ok(status)
}

/// Stops with a clear message when the settings ask for something Seashell cannot do yet.
fn check_supported(s: &Settings) -> Result<(), Fatal> {
    let o = &s.session;
    let not_yet = |what: &str| Err(Fatal(format!("{what} not supported yet")));
    if let Some(f) = o.forwards.first() {
        return not_yet(match f {
            ForwardSpec::Local(Forward {
                target: Target::Dynamic,
                ..
            }) => "dynamic forwarding (-D, DynamicForward) is",
            ForwardSpec::Local(_) => "local forwarding (-L, LocalForward) is",
            ForwardSpec::Remote(_) => "remote forwarding (-R, RemoteForward) is",
        });
    }
    if o.stdio_forward.is_some() {
        return not_yet("stdio forwarding (-W) is");
    }
    if o.jump_hosts.as_ref().is_some_and(|h| !h.is_empty()) {
        return not_yet("jump hosts (-J, ProxyJump) are");
    }
    if o.fork_after_authentication == Some(true) {
        return not_yet("going to the background (-f, ForkAfterAuthentication) is");
    }
    match o.session_type {
        Some(SessionType::Subsystem) if s.command.is_none() => {
            return Err(Fatal("-s needs a subsystem name as the command".to_owned()));
        }
        _ => {}
    }
    // Passed to the adapter's keepalive setting (see build_config); refused until the core
    // sends the probes.
    if o.server_alive_interval.is_some_and(|t| !t.is_zero()) {
        return not_yet("ServerAliveInterval is");
    }
    Ok(())
}

/// Whether to ask for a pseudo-terminal, as ssh decides (with its note when stdin is not a
/// terminal).
fn tty_decision(s: &Settings, log: Log) -> tty::TtyDecision {
    let decision = tty::decide(tty::TtyInputs {
        request: s.session.request_tty,
        has_command: s.command.is_some(),
        session_type: s.session.session_type,
        stdin_is_tty: std::io::stdin().is_terminal(),
        stdin_null: s.session.stdin_null == Some(true),
    });
    if decision.warn {
        log.warn(tty::NOT_A_TERMINAL);
    }
    decision
}

/// The blocking client's configuration from the settings.
fn build_config(
    s: &Settings,
    user: &str,
    home: &Path,
    log: Log,
    password_used: &Arc<AtomicBool>,
) -> Result<ClientConfig, Fatal> {
    let o = &s.options;
    let mut config = ClientConfig::new(user).with_core(|mut c| {
        if let Some(list) = &o.ciphers {
            c = c.ciphers(list);
        }
        if let Some(list) = &o.macs {
            c = c.macs(list);
        }
        if let Some(list) = &o.kex_algorithms {
            c = c.kex_algorithms(list);
        }
        if let Some(list) = &o.host_key_algorithms {
            c = c.host_key_algorithms(list);
        }
        if let Some(on) = o.compression {
            let algs: &[CompressionAlg] = if on {
                &CompressionAlg::PREFERRED
            } else {
                &CompressionAlg::DEFAULTS
            };
            c = c.compression(&seashell_proto::config::compression_names(algs));
        }
        if let Some(list) = &o.pubkey_accepted_algorithms {
            c = c.pubkey_accepted_algorithms(list);
        }
        if let Some(limit) = o.rekey_limit {
            c.rekey_bytes = limit.bytes;
            c.rekey_interval = limit.interval;
        }
        c
    });
    if let Some(interval) = s.session.server_alive_interval.filter(|t| !t.is_zero()) {
        config = config.keepalive(interval, s.session.server_alive_count_max.unwrap_or(3));
    }
    for key in load_keys(s, home, log)? {
        config = config.key(key);
    }
    let batch = o.batch_mode == Some(true);
    if o.password_authentication != Some(false) && !batch {
        let (used, host) = (password_used.clone(), s.host.clone());
        config.password_prompt = Some(Arc::new(move |user: &str| {
            log.debug("Next authentication method: password");
            let pw = askpass::read_password(&format!("{user}@{host}'s password: "), log);
            if pw.is_some() {
                used.store(true, Ordering::SeqCst);
            }
            pw
        }));
    }
    let files: Vec<PathBuf> = match &o.known_hosts_files {
        Some(list) => list.iter().map(|f| expand_tilde(f, home)).collect(),
        None => vec![home.join(".ssh").join("known_hosts")],
    };
    let strict = o.strict.unwrap_or(StrictHostKeyChecking::Yes);
    config.host_key_policy = host_key_policy(files, strict, log);
    Ok(config)
}

/// Keys for `publickey`: the `-i`/`IdentityFile` ones (each must load), else the default
/// files that exist and load.
fn load_keys(
    s: &Settings,
    home: &Path,
    log: Log,
) -> Result<Vec<seashell_proto::PrivateKey>, Fatal> {
    if s.options.pubkey_authentication == Some(false) {
        return Ok(Vec::new());
    }
    let mut keys = Vec::new();
    if !s.identity_files.is_empty() {
        for f in &s.identity_files {
            let path = expand_tilde(f, home);
            let key = load_private_key(&path)
                .map_err(|e| Fatal(clean(&format!("identity file {}: {e}", path.display()))))?;
            log.debug(&format!(
                "identity file {} type {}",
                path.display(),
                key.public_key().key_type()
            ));
            keys.push(key);
        }
        return Ok(keys);
    }
    for name in DEFAULT_IDENTITIES {
        let path = home.join(".ssh").join(name);
        if !path.exists() {
            continue;
        }
        match load_private_key(&path) {
            Ok(key) => {
                log.debug(&format!(
                    "identity file {} type {}",
                    path.display(),
                    key.public_key().key_type()
                ));
                keys.push(key);
            }
            Err(e) => log.debug(&format!("skipping identity file {}: {e}", path.display())),
        }
    }
    Ok(keys)
}

/// known_hosts checking with OpenSSH's messages around the library's decision.
fn host_key_policy(files: Vec<PathBuf>, strict: StrictHostKeyChecking, log: Log) -> HostKeyPolicy {
    let inner = HostKeyPolicy::KnownHosts {
        files: files.clone(),
        strict,
    };
    HostKeyPolicy::Custom(Arc::new(move |host: &str, port: u16, key: &PublicKey| {
        log.debug(&format!(
            "Server host key: {} {}",
            key.key_type(),
            key.fingerprint()
        ));
        let known = files.iter().any(|f| {
            KnownHosts::load(f)
                .is_ok_and(|k| !matches!(k.check(host, port, key), HostKeyStatus::Unknown))
        });
        match inner.check(host, port, key) {
            Ok(()) if known => {
                log.debug(&format!(
                    "Host '{}' is known and matches the host key.",
                    host_pattern(host, port)
                ));
                Ok(())
            }
            Ok(()) => {
                if files.is_empty() {
                    log.warn(&format!(
                        "Warning: accepted the {} host key of '{}' without recording it (no known_hosts file).",
                        key.key_type(),
                        host_pattern(host, port)
                    ));
                } else {
                    log.warn(&format!(
                        "Warning: Permanently added '{}' ({}) to the list of known hosts.",
                        host_pattern(host, port),
                        key.key_type()
                    ));
                }
                Ok(())
            }
            Err(e) if known => Err(e.to_string()),
            Err(e) => {
                let looked: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                let looked = if looked.is_empty() {
                    "no known_hosts file in use".to_owned()
                } else {
                    looked.join(", ")
                };
                Err(format!("{e} (known hosts: {looked})"))
            }
        }
    }))
}

/// Opens the TCP connection, trying each address of `host`.
fn connect(host: &str, port: u16, s: &Settings, log: Log) -> Result<TcpStream, Fatal> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| {
            Fatal(format!(
                "Could not resolve hostname {host}: {}",
                io_text(&e)
            ))
        })?
        .collect();
    let timeout = s.options.connect_timeout.filter(|t| !t.is_zero());
    let mut last = None;
    for a in &addrs {
        log.debug(&format!("Connecting to {host} [{}] port {port}.", a.ip()));
        let r = match timeout {
            Some(t) => TcpStream::connect_timeout(a, t),
            None => TcpStream::connect(a),
        };
        match r {
            Ok(sock) => {
                log.debug("Connection established.");
                return Ok(sock);
            }
            Err(e) => {
                log.debug(&format!(
                    "connect to address {} port {port}: {}",
                    a.ip(),
                    io_text(&e)
                ));
                last = Some(e);
            }
        }
    }
    let why = last.map_or_else(|| "no address".to_owned(), |e| io_text(&e));
    Err(Fatal(format!("connect to host {host} port {port}: {why}")))
}

/// A library error as the message OpenSSH would print.
fn describe(e: Error, user: &str, host: &str, port: u16) -> Fatal {
    Fatal(match e {
        Error::HostKey(m) => m,
        Error::Auth(m) => format!("{user}@{host}: {m}"),
        Error::Io(e) => format!("connection to {host} port {port}: {}", io_text(&e)),
        other => format!("connection to {host} port {port}: {other}"),
    })
}

/// An I/O error's text without Rust's `(os error N)` suffix and lookup prefix.
fn io_text(e: &std::io::Error) -> String {
    clean(&e.to_string())
}

/// `text` without ` (os error N)` and `failed to lookup address information: `.
pub fn clean(text: &str) -> String {
    let text = text.replace("failed to lookup address information: ", "");
    match text.find(" (os error ") {
        Some(i) => {
            let rest = text.get(i + 1..).unwrap_or_default();
            let end = rest.find(')').map_or(text.len(), |j| i + 1 + j + 1);
            format!(
                "{}{}",
                text.get(..i).unwrap_or_default(),
                text.get(end..).unwrap_or_default()
            )
        }
        None => text,
    }
}

fn peer_ip(sock: &TcpStream) -> String {
    sock.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// `~` and `~/...` expanded with `home`.
pub fn expand_tilde(path: &str, home: &Path) -> PathBuf {
    if path == "~" {
        return home.to_path_buf();
    }
    match path.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(path),
    }
}

/// The name of the user running us: from `/etc/passwd` by uid, else `$USER`/`$LOGNAME`.
fn local_user() -> Option<String> {
    let from_passwd = std::fs::metadata("/proc/self").ok().and_then(|m| {
        let uid = m.uid().to_string();
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            (f.nth(1)? == uid).then(|| name.to_owned())
        })
    });
    from_passwd
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|u| !u.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_expansion() {
        let home = Path::new("/home/me");
        assert_eq!(expand_tilde("~", home), PathBuf::from("/home/me"));
        assert_eq!(
            expand_tilde("~/.ssh/k", home),
            PathBuf::from("/home/me/.ssh/k")
        );
        assert_eq!(expand_tilde("/abs", home), PathBuf::from("/abs"));
        assert_eq!(expand_tilde("rel/~", home), PathBuf::from("rel/~"));
    }

    #[test]
    fn io_text_drops_os_error() {
        let e = std::io::Error::from_raw_os_error(111);
        assert_eq!(io_text(&e), "Connection refused");
        assert_eq!(
            clean("a: No such file (os error 2): b"),
            "a: No such file: b"
        );
        assert_eq!(
            clean("failed to lookup address information: Unknown host"),
            "Unknown host"
        );
    }

    #[test]
    fn unsupported_requests_are_refused_before_connecting() {
        let mut s = Settings {
            host: "nowhere.invalid".into(),
            ..Settings::default()
        };
        s.session.session_type = Some(SessionType::Subsystem);
        let e = run(&s).unwrap_err();
        assert_eq!(e.0, "-s needs a subsystem name as the command");
        s.session.session_type = None;
        s.session
            .forward_flag("8080:h:80", crate::forward::ForwardKind::Local)
            .unwrap();
        let e = run(&s).unwrap_err();
        assert_eq!(
            e.0,
            "local forwarding (-L, LocalForward) is not supported yet"
        );
    }

    #[test]
    fn local_user_is_found() {
        assert!(local_user().is_some_and(|u| !u.is_empty()));
    }
}
