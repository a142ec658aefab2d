//! `seashell serve`: a real SSH server for development and tests, built on the blocking
//! adapter. Commands run as the current OS user through the user's shell, with pipes or a
//! pseudo-terminal; the `sftp` subsystem is served by the built-in SFTP server ([`sftp`]),
//! with sshd's `Subsystem`, `ForceCommand` and `ChrootDirectory` ([`session_options`]).
//! There is no privilege separation: see `docs/serve.md`.
//!
//! ```text
//! seashell serve [--listen ADDR | -i] [--host-key PATH]... [--authorized-keys PATH]
//!                [--password-file PATH] [--user NAME]... [-o Option=Value]... [-E LOG] [-q] [-v]
//! ```

pub use seashell_adapter::authorized_keys;
pub mod cert_auth;
pub mod diag;
pub mod handler;
pub mod inetd;
pub mod process;
pub mod pty;
pub mod session_options;
pub mod sftp;
pub mod sshd_options;

use authorized_keys::AuthorizedKeys;
use handler::{Policy, ServeHandler};
use seashell_adapter::Gate;
use seashell_blocking::Server;
use seashell_proto::{PrivateKey, ServerConfig};
use sshd_options::Tunables;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The usage text of `seashell serve`.
pub const USAGE: &str = "usage: seashell serve [--listen ADDR | -i] [--host-key PATH]... [--authorized-keys PATH]\n\
    \x20                     [--password-file PATH] [--user NAME]... [-o Option=Value]... [-E LOG]\n\
    \x20                     [-q] [-v]";

/// The address listened on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:2222";

/// Diagnostics of the server, on stderr or in the `-E` file ([`diag`]). Copy it freely.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Log {
    /// How many `-v` were given: per-connection lines from 1.
    pub verbose: u8,
    /// `-q`: no notes or warnings (errors and the listening line remain).
    pub quiet: bool,
}

impl Log {
    /// A note or warning, unless `-q`.
    pub fn info(self, msg: &str) {
        if !self.quiet {
            diag::emit(msg);
        }
    }

    /// A per-connection line, with `-v`.
    pub fn debug(self, msg: &str) {
        if self.verbose > 0 {
            diag::emit(msg);
        }
    }

    /// An error or the listening line: always.
    pub fn always(self, msg: &str) {
        diag::emit(msg);
    }
}

/// The command line of `seashell serve`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeArgs {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--host-key`, in order.
    pub host_keys: Vec<PathBuf>,
    /// `--authorized-keys`.
    pub authorized_keys: Option<PathBuf>,
    /// `--password-file`.
    pub password_file: Option<PathBuf>,
    /// `--user`, in order.
    pub users: Vec<String>,
    /// `-o` options, in order.
    pub options: Vec<String>,
    /// `-i`: serve one connection on stdin/stdout instead of listening.
    pub inetd: bool,
    /// `-E`: append the log to this file instead of stderr.
    pub log_file: Option<PathBuf>,
    /// Diagnostics.
    pub log: Log,
}

/// Parses the arguments after `serve`; `Ok(None)` asks for the usage.
pub fn parse_args(args: &[String]) -> Result<Option<ServeArgs>, String> {
    let mut a = ServeArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, attached) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| match attached.clone().or_else(|| it.next().cloned()) {
            Some(v) => Ok(v),
            None => Err(format!("{name} needs a value")),
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--listen" => a.listen = Some(value(flag)?),
            "--host-key" => a.host_keys.push(value(flag)?.into()),
            "--authorized-keys" => a.authorized_keys = Some(value(flag)?.into()),
            "--password-file" => a.password_file = Some(value(flag)?.into()),
            "--user" => a.users.push(value(flag)?),
            "-o" => a.options.push(value(flag)?),
            "-E" => a.log_file = Some(value(flag)?.into()),
            "-i" => a.inetd = true,
            "-q" => a.log.quiet = true,
            _ if flag.starts_with("-o") => a.options.push(flag.get(2..).unwrap_or("").to_owned()),
            _ if flag.starts_with("-E") => a.log_file = flag.get(2..).map(PathBuf::from),
            _ if is_verbose_flag(flag) => {
                let n = u8::try_from(flag.len() - 1).unwrap_or(u8::MAX);
                a.log.verbose = a.log.verbose.saturating_add(n);
            }
            _ => return Err(format!("unknown argument \"{arg}\"")),
        }
    }
    if a.inetd && a.listen.is_some() {
        return Err("-i and --listen cannot be used together".into());
    }
    Ok(Some(a))
}

/// `-v`, `-vv`, ...
fn is_verbose_flag(flag: &str) -> bool {
    flag.strip_prefix('-')
        .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c == 'v'))
}

/// Runs `seashell serve` with the arguments after `serve`.
pub fn main(args: &[String]) -> ExitCode {
    let parsed = match parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("seashell serve: {e}\n{USAGE}");
            return ExitCode::from(255);
        }
    };
    let log = parsed.log;
    match run(parsed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log.always(&e);
            ExitCode::from(255)
        }
    }
}

/// Loads the host keys, or generates an ephemeral ed25519 key when none is given.
fn host_keys(paths: &[PathBuf], log: Log) -> Result<Vec<Arc<PrivateKey>>, String> {
    if paths.is_empty() {
        let key = PrivateKey::ed25519_generate()
            .map_err(|e| format!("cannot generate a host key: {e}"))?;
        log.info(&format!(
            "no --host-key given: generated an ephemeral ssh-ed25519 host key {} (in memory only)",
            key.public_key().fingerprint()
        ));
        return Ok(vec![Arc::new(key)]);
    }
    paths
        .iter()
        .map(|p| {
            seashell_keys::load_private_key(p)
                .map(Arc::new)
                .map_err(|e| format!("host key {}: {e}", p.display()))
        })
        .collect()
}

/// Takes the certificate options `TrustedUserCAKeys`, `AuthorizedPrincipalsFile`,
/// `RevokedKeys` and `HostCertificate` (the latter collected in `host_certs`); `false` for
/// any other option.
fn trust_option(
    trust: &mut cert_auth::UserTrust,
    host_certs: &mut Vec<PathBuf>,
    option: &str,
) -> Result<bool, String> {
    let Ok((name, value)) = sshd_options::split(option) else {
        return Ok(false);
    };
    match name.as_str() {
        "trustedusercakeys" => trust.trusted_cas.extend(
            cert_auth::read_key_list(Path::new(&value))
                .map_err(|e| format!("TrustedUserCAKeys {e}"))?,
        ),
        "revokedkeys" => trust.revoked.extend(
            cert_auth::read_key_list(Path::new(&value)).map_err(|e| format!("RevokedKeys {e}"))?,
        ),
        "authorizedprincipalsfile" => {
            trust.principals_file = (value != "none").then_some(value);
        }
        "hostcertificate" => host_certs.push(PathBuf::from(value)),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Each `HostCertificate` attached to a second copy of the host key it certifies (loaded
/// again from its file), so the server offers the key both plain and certified.
fn host_certificates(
    key_paths: &[PathBuf],
    keys: &[Arc<PrivateKey>],
    certs: &[PathBuf],
) -> Result<Vec<Arc<PrivateKey>>, String> {
    let mut out = Vec::new();
    for cert_path in certs {
        let cert = seashell_keys::load_certificate(cert_path)
            .map_err(|e| format!("HostCertificate {}: {e}", cert_path.display()))?;
        if cert.fields().cert_type != seashell_proto::keys::CertType::Host {
            return Err(format!(
                "HostCertificate {}: not a host certificate",
                cert_path.display()
            ));
        }
        let at = keys
            .iter()
            .position(|k| k.public_key() == *cert.key())
            .ok_or_else(|| {
                format!(
                    "HostCertificate {}: certifies none of the host keys",
                    cert_path.display()
                )
            })?;
        let path = key_paths.get(at).ok_or_else(|| {
            format!(
                "HostCertificate {}: the host key it certifies was not read from a file",
                cert_path.display()
            )
        })?;
        let key = seashell_keys::load_private_key(path)
            .map_err(|e| format!("host key {}: {e}", path.display()))?;
        let certified = key
            .with_certificate(cert)
            .map_err(|e| format!("HostCertificate {}: {e}", cert_path.display()))?;
        out.push(Arc::new(certified));
    }
    Ok(out)
}

/// Reads the first line of the password file.
fn read_password(path: &Path, log: Log) -> Result<Zeroizing<String>, String> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("password file {}: {e}", path.display()))?,
    );
    let first = text.lines().next().unwrap_or_default();
    if first.is_empty() {
        return Err(format!(
            "password file {}: the first line is empty",
            path.display()
        ));
    }
    if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
        log.info(&format!(
            "warning: password file {} is readable by other users",
            path.display()
        ));
    }
    Ok(Zeroizing::new(first.to_owned()))
}

/// Reads the authorized keys; a missing default file is only a note.
fn read_authorized(
    explicit: Option<&Path>,
    home: Option<&Path>,
    log: Log,
) -> Result<AuthorizedKeys, String> {
    let (path, required) = match (explicit, home) {
        (Some(p), _) => (p.to_path_buf(), true),
        (None, Some(h)) => (h.join(".ssh").join("authorized_keys"), false),
        (None, None) => return Ok(AuthorizedKeys::default()),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if required => return Err(format!("authorized keys {}: {e}", path.display())),
        Err(_) => {
            log.info(&format!("no {} (no key can log in)", path.display()));
            return Ok(AuthorizedKeys::default());
        }
    };
    let keys = AuthorizedKeys::parse(&text);
    for why in &keys.skipped {
        log.info(&format!("warning: {}: {why}", path.display()));
    }
    Ok(keys)
}

/// The name of the user running the server: `/etc/passwd` by uid, else `$USER`/`$LOGNAME`.
pub fn current_user() -> Option<String> {
    let uid = rustix::process::getuid().as_raw().to_string();
    let from_passwd = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
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

/// The policy for commands run as the current user, with `users` allowed to log in.
pub fn local_policy(users: Vec<String>, log: Log) -> Policy {
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .map_or_else(|| PathBuf::from("/bin/sh"), PathBuf::from);
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(std::env::home_dir);
    let me = current_user().unwrap_or_default();
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let mut base_env = vec![
        ("USER".to_owned(), me.clone()),
        ("LOGNAME".to_owned(), me),
        ("SHELL".to_owned(), shell.to_string_lossy().into_owned()),
        ("PATH".to_owned(), path),
    ];
    if let Some(h) = &home {
        base_env.push(("HOME".to_owned(), h.to_string_lossy().into_owned()));
    }
    Policy {
        users,
        authorized: AuthorizedKeys::default(),
        trust: cert_auth::UserTrust::default(),
        password: None,
        pubkey: true,
        password_auth: false,
        kbd_interactive: false,
        shell,
        home,
        base_env,
        forwarding: seashell_adapter::ForwardingPolicy::deny_all(),
        sessions: session_options::SessionOptions::default(),
        log,
    }
}

/// Sets the server up from the arguments and serves until killed (or, with `-i`, until the
/// one connection on stdin/stdout ends).
pub fn run(a: ServeArgs) -> Result<(), String> {
    if let Some(path) = &a.log_file {
        diag::log_to_file(path)?;
    }
    if a.inetd {
        diag::tag_with_pid();
    }
    diag::trace_to_log(a.log.verbose);
    let (t, policy, keys) = setup(&a)?;
    if a.inetd && t.proxy_protocol {
        return Err("ProxyProtocol is for a listener behind a load balancer, not -i".into());
    }
    if a.inetd {
        return inetd::serve_stdio(t.config, Arc::new(policy));
    }
    listen(&a, t, policy, &keys)
}

/// The options (core configuration, admission control) and the policy from the
/// arguments; also the host keys, for the listening line.
fn setup(a: &ServeArgs) -> Result<(Tunables, Policy, Vec<Arc<PrivateKey>>), String> {
    let log = a.log;
    let mut keys = host_keys(&a.host_keys, log)?;
    let mut trust = cert_auth::UserTrust::default();
    let mut host_certs = Vec::new();
    let mut rest = Vec::new();
    for o in &a.options {
        if !trust_option(&mut trust, &mut host_certs, o)? {
            rest.push(o);
        }
    }
    let certified = host_certificates(&a.host_keys, &keys, &host_certs)?;
    let mut t = Tunables::new(ServerConfig::new(keys.clone()));
    for o in rest {
        sshd_options::apply(&mut t, o)?;
    }
    if !certified.is_empty() {
        // Offer the certificate algorithms first, as sshd with HostCertificate.
        let mut algs: Vec<String> = certified
            .iter()
            .flat_map(|k| k.public_key().signature_algorithms().iter())
            .map(|a| (*a).to_owned())
            .filter(|a| !t.config.host_key_algorithms.contains(a))
            .collect();
        algs.dedup();
        algs.extend(t.config.host_key_algorithms.iter().cloned());
        t.config.host_key_algorithms = algs;
        t.config.host_keys.extend(certified.iter().cloned());
        keys.extend(certified);
    }
    sshd_options::default_moduli(&mut t);
    let users = if a.users.is_empty() {
        vec![current_user().ok_or("cannot tell who the current user is; give --user NAME")?]
    } else {
        a.users.clone()
    };
    let mut policy = local_policy(users, log);
    policy.trust = trust;
    policy.password = match &a.password_file {
        Some(p) => Some(read_password(p, log)?),
        None => None,
    };
    policy.forwarding = t.forwarding_policy();
    policy.sessions = t.sessions.clone();
    policy.pubkey = t.pubkey;
    policy.password_auth = t.password;
    policy.kbd_interactive = t.kbd_interactive;
    if t.pubkey {
        policy.authorized =
            read_authorized(a.authorized_keys.as_deref(), policy.home.as_deref(), log)?;
    }
    t.config.auth_methods = policy.methods();
    if t.config.auth_methods.is_empty() {
        return Err(
            "no authentication method is enabled (give --authorized-keys or --password-file)"
                .into(),
        );
    }
    t.config.validate().map_err(|e| format!("{e}"))?;
    Ok((t, policy, keys))
}

/// Listens on `--listen` and serves every connection on a thread of its own, forever.
fn listen(
    a: &ServeArgs,
    t: Tunables,
    policy: Policy,
    keys: &[Arc<PrivateKey>],
) -> Result<(), String> {
    let log = a.log;
    let listen = a.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let server = Server::bind(listen, t.config)
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?
        .with_gate(Gate::new(t.admission, t.proxy_protocol));
    let local = server.local_addr().map_err(|e| format!("{e}"))?;
    let fingerprints: Vec<String> = keys
        .iter()
        .map(|k| {
            let p = k.public_key();
            format!("{} {}", p.key_type(), p.fingerprint())
        })
        .collect();
    log.always(&format!(
        "listening on {local} (host keys: {}; users: {}; auth: {})",
        fingerprints.join(", "),
        policy.users.join(","),
        policy.methods().join(",")
    ));
    let policy = Arc::new(policy);
    loop {
        let result = server.run(|peer| ServeHandler::new(policy.clone(), peer, local));
        if let Err(e) = result {
            // accept() failed (out of descriptors, aborted connection): keep listening.
            log.info(&format!("accept failed: {e}"));
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_command_line() {
        let a = parse_args(&args(&[
            "--listen",
            "127.0.0.1:0",
            "--host-key=/k1",
            "--host-key",
            "/k2",
            "--authorized-keys",
            "/ak",
            "--password-file",
            "/pw",
            "--user",
            "a",
            "--user=b",
            "-o",
            "Ciphers=aes128-gcm@openssh.com",
            "-oMaxAuthTries=3",
            "-vv",
            "-q",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(a.listen.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(a.host_keys, [PathBuf::from("/k1"), PathBuf::from("/k2")]);
        assert_eq!(a.authorized_keys, Some(PathBuf::from("/ak")));
        assert_eq!(a.password_file, Some(PathBuf::from("/pw")));
        assert_eq!(a.users, ["a", "b"]);
        assert_eq!(
            a.options,
            ["Ciphers=aes128-gcm@openssh.com", "MaxAuthTries=3"]
        );
        assert_eq!(
            a.log,
            Log {
                verbose: 2,
                quiet: true
            }
        );
        assert!(!a.inetd);
        assert_eq!(a.log_file, None);
        let i = parse_args(&args(&["-i", "-E", "/log"])).unwrap().unwrap();
        assert!(i.inetd);
        assert_eq!(i.log_file, Some(PathBuf::from("/log")));
        let e = parse_args(&args(&["-E/other"])).unwrap().unwrap();
        assert_eq!(e.log_file, Some(PathBuf::from("/other")));
        assert!(parse_args(&args(&["-i", "--listen", "127.0.0.1:0"])).is_err());
        assert!(parse_args(&args(&["-E"])).is_err());
        assert_eq!(parse_args(&args(&["--help"])).unwrap(), None);
        assert!(parse_args(&args(&["--listen"])).is_err());
        assert!(parse_args(&args(&["--bogus"])).is_err());
        assert!(parse_args(&args(&["extra"])).is_err());
    }

    #[test]
    fn bad_options_fail_before_listening() {
        let a = parse_args(&args(&["-o", "PermitRootLogin=yes"]))
            .unwrap()
            .unwrap();
        let err = run(a).unwrap_err();
        assert!(err.contains("permitrootlogin"), "{err}");
    }

    #[test]
    fn password_file_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "hunter2\nignored\n").unwrap();
        assert_eq!(
            read_password(&p, Log::default()).unwrap().as_str(),
            "hunter2"
        );
        std::fs::write(&p, "\n").unwrap();
        assert!(read_password(&p, Log::default()).is_err());
        assert!(read_password(&dir.path().join("none"), Log::default()).is_err());
    }

    #[test]
    fn a_user_is_found() {
        assert!(current_user().is_some());
    }
}
