//! Reaching the destination: the TCP connection (or, with `-J`, an SSH connection through
//! each jump host in turn), the host-key check with OpenSSH's messages, and authentication.
//! Every hop uses the command line's `-i` and `-o` settings (known hosts, algorithms, batch
//! mode, keepalive) with its own user and port.

use crate::agent_client;
use crate::args::Settings;
use crate::askpass;
use crate::hosts::HostSpec;
use crate::log::Log;
use crate::run::{Fatal, clean, expand_tilde, io_text};
use seashell_blocking::{
    Client, ClientConfig, Error, HostKeyPolicy, KnownHostsFiles, Session, StrictHostKeyChecking,
};
use seashell_keys::{
    HostKeyStatus, KeyFileError, KnownHosts, host_pattern, load_private_key,
    load_private_key_with_passphrase,
};
use seashell_proto::PublicKey;
use seashell_proto::transport::compress::CompressionAlg;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The identities tried when none is given, in OpenSSH's order.
const DEFAULT_IDENTITIES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// One SSH server on the way: a jump host or the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The user to log in as.
    pub user: String,
    /// The host as named.
    pub host: String,
    /// The port.
    pub port: u16,
}

/// The authenticated connection to the destination, and the jump hosts' connections it
/// runs over (kept open as long as it is).
#[derive(Debug)]
pub struct Connected {
    /// The destination's session.
    pub session: Session,
    /// The jump hosts' sessions, first hop first.
    pub _hops: Vec<Session>,
}

/// The hops in connection order: the jump hosts (each with its own user, default the local
/// user, and port, default 22), then the destination.
pub fn route(s: &Settings) -> Result<Vec<Hop>, Fatal> {
    let local = local_user();
    let need_local = || {
        local
            .clone()
            .ok_or_else(|| Fatal("cannot tell the local user name; give one with -l".into()))
    };
    let mut hops = Vec::new();
    for HostSpec { user, host, port } in s.session.jump_hosts.iter().flatten() {
        hops.push(Hop {
            user: match user {
                Some(u) => u.clone(),
                None => need_local()?,
            },
            host: host.clone(),
            port: port.unwrap_or(22),
        });
    }
    hops.push(Hop {
        user: match &s.user {
            Some(u) => u.clone(),
            None => need_local()?,
        },
        host: s.host.clone(),
        port: s.port.unwrap_or(22),
    });
    Ok(hops)
}

/// Connects through every hop of [`route`] and authenticates to each.
pub fn establish(s: &Settings, log: Log) -> Result<Connected, Fatal> {
    let home = std::env::home_dir().unwrap_or_default();
    let mut hops: Vec<Session> = Vec::new();
    let route = route(s)?;
    let last = route.len().saturating_sub(1);
    for (i, hop) in route.into_iter().enumerate() {
        let session = one_hop(s, hops.last(), &hop, &home, log, i == last)?;
        hops.push(session);
    }
    let session = hops
        .pop()
        .ok_or_else(|| Fatal("no destination".to_owned()))?;
    Ok(Connected {
        session,
        _hops: hops,
    })
}

/// `host:port`, with brackets around an IPv6 address.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Connects to `to` (directly, or through the session `via`), checks its host key and
/// authenticates, with ssh's messages.
fn one_hop(
    s: &Settings,
    via: Option<&Session>,
    to: &Hop,
    home: &Path,
    log: Log,
    destination: bool,
) -> Result<Session, Fatal> {
    let password_used = Arc::new(AtomicBool::new(false));
    let mut config = build_config(s, to, home, log, &password_used)?;
    // The agent goes to the destination only, as with ssh -A.
    if destination && s.options.forward_agent == Some(true) {
        config.forward_agent = std::env::var_os("SSH_AUTH_SOCK")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if config.forward_agent.is_some() {
            log.debug("Requesting authentication agent forwarding.");
        }
    }
    let (host, port) = (to.host.as_str(), to.port);
    let (session, peer) = match via {
        None => {
            let sock = connect(host, port, s, log)?;
            let peer_ip = sock.peer_addr().ok().map(|a| a.ip());
            if let (Some(ip), true) = (peer_ip, s.trust.check_host_ip == Some(true)) {
                let known = known_hosts_files(s, home);
                let inner = config.host_key_policy.clone();
                config.host_key_policy = crate::check_host_ip::wrap(inner, known, ip, log);
            }
            let ip = peer_ip.map(|ip| ip.to_string()).unwrap_or_default();
            let session = Client::handshake(sock, host, port, config);
            (session, format!("[{ip}]:{port}"))
        }
        Some(via) => {
            log.debug(&format!(
                "Connecting to {host} port {port} through the jump host."
            ));
            let session = Client::connect_via(via, &host_port(host, port), config);
            (session, "via proxy".to_owned())
        }
    };
    let session = session.map_err(|e| describe(e, &to.user, host, port))?;
    log_negotiated(&session, log);
    let method = if password_used.load(Ordering::SeqCst) {
        "password"
    } else {
        "publickey"
    };
    log.verbose(&format!(
        "Authenticated to {host} ({peer}) using \"{method}\"."
    ));
    Ok(session)
}

/// The debug lines about what the key exchange chose.
fn log_negotiated(session: &Session, log: Log) {
    if let Some(id) = session.server_ident() {
        log.debug(&format!("Remote software version: {id}"));
    }
    let Some(n) = session.negotiated() else {
        return;
    };
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

/// The blocking client's configuration from the settings.
fn build_config(
    s: &Settings,
    to: &Hop,
    home: &Path,
    log: Log,
    password_used: &Arc<AtomicBool>,
) -> Result<ClientConfig, Fatal> {
    let user = to.user.as_str();
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
    let agent = agent_client::agent_socket(s, home, log);
    let in_agent = agent
        .as_deref()
        .map(|a| agent_client::agent_keys(a, log))
        .unwrap_or_default();
    let (keys, identities) = load_keys(s, home, log, &in_agent)?;
    for key in keys {
        config.keys.push(Arc::new(key));
    }
    config.agent = agent;
    if o.identities_only == Some(true) {
        config.agent_keys_only = Some(identities);
    }
    let batch = o.batch_mode == Some(true);
    if o.password_authentication != Some(false) && !batch {
        let (used, host) = (password_used.clone(), to.host.clone());
        config.password_prompt = Some(Arc::new(move |user: &str| {
            log.debug("Next authentication method: password");
            let pw = askpass::read_password(&format!("{user}@{host}'s password: "), log);
            if pw.is_some() {
                used.store(true, Ordering::SeqCst);
            }
            pw
        }));
    }
    let known = known_hosts_files(s, home);
    // As ssh without HostKeyAlgorithms: certificate algorithms first for hosts with a
    // @cert-authority line, then the algorithms of keys already known for the host.
    config.order_host_key_algorithms = false;
    if o.host_key_algorithms.is_none() {
        let order = HostKeyPolicy::KnownHostsFiles(known.clone()).host_key_algorithms(
            &to.host,
            to.port,
            &config.core.host_key_algorithms,
        );
        config.core.host_key_algorithms = order;
    }
    // UpdateHostKeys=ask needs a confirmation we do not ask for: treated as no.
    if s.trust.update_host_keys == Some(crate::trust_options::UpdateHostKeys::Yes) {
        config.update_host_keys = Some(known.clone());
    }
    config.host_key_policy = host_key_policy(known, log);
    Ok(config)
}

/// The known_hosts settings: `UserKnownHostsFile` (default `~/.ssh/known_hosts`),
/// `GlobalKnownHostsFile`, `StrictHostKeyChecking`, `HashKnownHosts`.
fn known_hosts_files(s: &Settings, home: &Path) -> KnownHostsFiles {
    let o = &s.options;
    let files: Vec<PathBuf> = match &o.known_hosts_files {
        Some(list) => list.iter().map(|f| expand_tilde(f, home)).collect(),
        None => vec![home.join(".ssh").join("known_hosts")],
    };
    let global: Vec<PathBuf> = match &s.trust.global_known_hosts_files {
        Some(list) => list.iter().map(|f| expand_tilde(f, home)).collect(),
        None => crate::trust_options::DEFAULT_GLOBAL_KNOWN_HOSTS
            .iter()
            .map(PathBuf::from)
            .collect(),
    };
    KnownHostsFiles {
        user_files: files,
        global_files: global,
        strict: o.strict.unwrap_or(StrictHostKeyChecking::Yes),
        hash_new: s.trust.hash_known_hosts == Some(true),
    }
}

/// Keys for `publickey`: the `-i`/`IdentityFile` ones (each must load), else the default
/// files that exist and load, each also with its certificate (`-cert.pub`, `CertificateFile`);
/// and the public keys of every identity (for `IdentitiesOnly`). A file whose key the agent
/// holds (`in_agent`, by its `.pub`) is not read: the agent signs for it, and an encrypted
/// file asks no passphrase.
fn load_keys(
    s: &Settings,
    home: &Path,
    log: Log,
    in_agent: &[PublicKey],
) -> Result<(Vec<seashell_proto::PrivateKey>, Vec<PublicKey>), Fatal> {
    if s.options.pubkey_authentication == Some(false) {
        return Ok((Vec::new(), Vec::new()));
    }
    let batch = s.options.batch_mode == Some(true);
    let cert_files: Vec<PathBuf> = (s.trust.certificate_files.iter())
        .map(|f| expand_tilde(f, home))
        .collect();
    let explicit = !s.identity_files.is_empty();
    let paths: Vec<PathBuf> = if explicit {
        s.identity_files
            .iter()
            .map(|f| expand_tilde(f, home))
            .collect()
    } else {
        DEFAULT_IDENTITIES
            .iter()
            .map(|n| home.join(".ssh").join(n))
            .filter(|p| p.exists())
            .collect()
    };
    let (mut keys, mut publics) = (Vec::new(), Vec::new());
    for path in paths {
        if let Some(k) = agent_client::held_by_agent(&path, in_agent) {
            log.debug(&format!(
                "identity file {} type {}: held by the agent",
                path.display(),
                k.key_type()
            ));
            publics.push(k);
            continue;
        }
        let mut passphrase = None;
        match load_identity(&path, batch, log, &mut passphrase) {
            Ok(key) => {
                log.debug(&format!(
                    "identity file {} type {}",
                    path.display(),
                    key.public_key().key_type()
                ));
                publics.push(key.public_key());
                keys.extend(crate::identity_certs::with_certificates(
                    &path,
                    key,
                    passphrase,
                    &cert_files,
                    log,
                ));
            }
            Err(e) if explicit => {
                return Err(Fatal(clean(&format!(
                    "identity file {}: {e}",
                    path.display()
                ))));
            }
            Err(e) => log.debug(&format!("skipping identity file {}: {e}", path.display())),
        }
    }
    Ok((keys, publics))
}

/// How many times a key's passphrase is asked for (OpenSSH's `NumberOfPasswordPrompts`
/// default).
const PASSPHRASE_PROMPTS: usize = 3;

/// Loads a private key file; if it is encrypted, asks for its passphrase as `ssh` does
/// ("Enter passphrase for key '<path>': ", on the terminal or with askpass), up to
/// [`PASSPHRASE_PROMPTS`] times. With `BatchMode=yes`, or when nothing (or an empty line) is
/// given, the key's [`KeyFileError::Encrypted`] or last [`KeyFileError::BadPassphrase`] is
/// returned.
/// The passphrase that worked is left in `used` (to load the key again with a certificate).
fn load_identity(
    path: &Path,
    batch: bool,
    log: Log,
    used: &mut Option<zeroize::Zeroizing<String>>,
) -> Result<seashell_proto::PrivateKey, KeyFileError> {
    let mut err = match load_private_key(path) {
        Err(KeyFileError::Encrypted) if !batch => KeyFileError::Encrypted,
        other => return other,
    };
    let prompt = format!("Enter passphrase for key '{}': ", path.display());
    for _ in 0..PASSPHRASE_PROMPTS {
        let Some(passphrase) = askpass::read_password(&prompt, log) else {
            break;
        };
        if passphrase.is_empty() {
            log.debug("no passphrase given, try next key");
            break;
        }
        match load_private_key_with_passphrase(path, passphrase.as_bytes()) {
            Err(KeyFileError::BadPassphrase) => {
                log.debug("bad passphrase given, try again...");
                err = KeyFileError::BadPassphrase;
            }
            other => {
                *used = Some(passphrase);
                return other;
            }
        }
    }
    Err(err)
}

/// known_hosts checking with OpenSSH's messages around the library's decision.
fn host_key_policy(known_files: KnownHostsFiles, log: Log) -> HostKeyPolicy {
    let files = known_files.user_files.clone();
    let all = known_files.all_files();
    let inner = HostKeyPolicy::KnownHostsFiles(known_files);
    HostKeyPolicy::Custom(Arc::new(move |host: &str, port: u16, key: &PublicKey| {
        log.debug(&format!(
            "Server host key: {} {}",
            key.key_type(),
            key.fingerprint()
        ));
        if let Some(c) = key.certificate() {
            let f = c.fields();
            log.debug(&format!(
                "Server host certificate: {} {}, serial {} ID \"{}\" CA {} {} valid {}",
                c.key_type(),
                key.fingerprint(),
                f.serial,
                f.key_id,
                c.signature_key().key_type(),
                c.signature_key().fingerprint(),
                seashell_keys::certificate::format_validity(f.valid_after, f.valid_before)
            ));
        }
        let known = KnownHosts::load_files(&all)
            .is_ok_and(|k| !matches!(k.check(host, port, key), HostKeyStatus::Unknown));
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
pub fn describe(e: Error, user: &str, host: &str, port: u16) -> Fatal {
    Fatal(match e {
        Error::OpenFailed { .. } => format!(
            "connect to host {host} port {port}: {}",
            crate::tunnels::open_failure(&e)
        ),
        Error::HostKey(m) => m,
        Error::Auth(m) => format!("{user}@{host}: {m}"),
        Error::Io(e) => format!("connection to {host} port {port}: {}", io_text(&e)),
        other => format!("connection to {host} port {port}: {other}"),
    })
}

/// The name of the user running us (the one `seashell serve` uses too).
pub fn local_user() -> Option<String> {
    crate::serve::current_user()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_user_is_found() {
        assert!(local_user().is_some_and(|u| !u.is_empty()));
    }

    #[test]
    fn the_route_has_each_hop_with_its_own_user_and_port() {
        let s = match crate::args::parse(&["-J", "a@j1:2201,j2", "-p", "7", "-l", "me", "dest"]) {
            Ok(crate::args::Parsed::Run(s)) => *s,
            other => panic!("{other:?}"),
        };
        let hops = route(&s).unwrap();
        let local = local_user().unwrap();
        let hop = |user: &str, host: &str, port| Hop {
            user: user.to_owned(),
            host: host.to_owned(),
            port,
        };
        assert_eq!(
            hops,
            vec![
                hop("a", "j1", 2201),
                hop(&local, "j2", 22),
                hop("me", "dest", 7)
            ]
        );
        assert_eq!(host_port("::1", 22), "[::1]:22");
        assert_eq!(host_port("h", 2), "h:2");
    }
}
