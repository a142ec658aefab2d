//! # seashell-conformance: shared helpers for the interop tests
//!
//! The tests in `conformance/tests/` run Seashell against real peers (today: a private
//! OpenSSH `sshd` from [`seashell_testkit`]). This library holds what they share:
//!
//! - starting a peer with [`start_sshd`] (skips locally when OpenSSH is missing, fails in CI),
//! - client configurations: [`key_config`], [`password_config`], [`restrict`],
//! - the algorithm lists the suite covers: [`CIPHERS`], [`HOST_KEY_ALGORITHMS`],
//! - the skip list `conformance/disabled.toml`: [`disabled_reason`], [`skip_if_disabled`],
//! - guards against hangs and log races: [`with_timeout`], [`wait_for_log`],
//! - small fixtures: [`openssh_public_line`], [`password_credentials`].
//!
//! ```no_run
//! use seashell_conformance::{key_config, start_sshd, KeyKind};
//! use seashell_testkit::SshdOptions;
//!
//! let Some(sshd) = start_sshd(SshdOptions::default()) else { return };
//! let session = seashell_blocking::Client::connect(&sshd.addr(), key_config(&sshd, KeyKind::Ed25519))
//!     .expect("login");
//! let out = session.exec("true").expect("exec");
//! assert_eq!(out.status.code(), Some(0));
//! ```

pub mod attack;
pub mod matrix;
pub mod process;
pub mod serve;
pub mod tmux;

use base64ct::{Base64, Encoding};
use seashell_blocking::{ClientConfig, HostKeyPolicy, StrictHostKeyChecking};
use seashell_proto::PublicKey;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use seashell_testkit::{KeyKind, Sshd, SshdOptions};

/// The packet ciphers every interop matrix covers (all that Seashell implements).
pub const CIPHERS: [&str; 3] = [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
];

/// The host-key signature algorithms every interop matrix covers.
pub const HOST_KEY_ALGORITHMS: [&str; 4] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "rsa-sha2-512",
    "rsa-sha2-256",
];

/// The skip list, compiled in so a test binary never depends on its working directory.
pub const DISABLED_TOML: &str = include_str!("../disabled.toml");

/// Whether the tests run in CI (`CI=true`), where nothing may be skipped silently.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Starts a private OpenSSH server.
///
/// Returns `None` (after printing a `skipped:` note) when OpenSSH is not installed and the
/// tests do not run in CI; panics in CI or when sshd is installed but fails to start. See
/// [`seashell_testkit::require_peer`].
#[track_caller]
pub fn start_sshd(opts: SshdOptions) -> Option<Sshd> {
    seashell_testkit::require_peer(Sshd::start(opts))
}

/// OpenSSH's `sftp-server`, as Debian installs it.
pub const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

/// [`start_sshd`] with OpenSSH's `sftp-server` binary as the `sftp` subsystem.
pub fn start_sftp_sshd() -> Option<Sshd> {
    start_sshd(SshdOptions {
        extra_config: vec![format!("Subsystem sftp {SFTP_SERVER}")],
        ..SshdOptions::default()
    })
}

/// Strict host-key checking against the server's own `known_hosts` file, as a careful user
/// would configure it: `KnownHosts { [sshd.known_hosts_file()], Yes }`.
pub fn strict_known_hosts(sshd: &Sshd) -> HostKeyPolicy {
    HostKeyPolicy::KnownHosts {
        files: vec![sshd.known_hosts_file()],
        strict: StrictHostKeyChecking::Yes,
    }
}

/// A configuration for `user` with strict host-key checking ([`strict_known_hosts`]) and no
/// credentials yet.
pub fn base_config(sshd: &Sshd, user: &str) -> ClientConfig {
    ClientConfig::new(user).host_key_policy(strict_known_hosts(sshd))
}

/// A configuration that logs in as [`Sshd::login_user`] with the user key of `kind` only.
///
/// # Panics
///
/// If the key file the testkit wrote cannot be loaded (a bug in Seashell's key loader).
#[track_caller]
pub fn key_config(sshd: &Sshd, kind: KeyKind) -> ClientConfig {
    let path = sshd.user_key(kind);
    match base_config(sshd, &sshd.login_user()).key_file(&path) {
        Ok(config) => config,
        Err(e) => panic!("loading the {kind:?} user key {}: {e}", path.display()),
    }
}

/// A configuration with only a password (no keys), for `user`.
pub fn password_config(sshd: &Sshd, user: &str, password: &str) -> ClientConfig {
    base_config(sshd, user).password(password)
}

/// Restricts the core to exactly one cipher and one host-key algorithm, so the connection
/// either negotiates those or fails.
pub fn restrict(config: ClientConfig, cipher: &str, host_key_algorithm: &str) -> ClientConfig {
    config.with_core(|c| {
        c.ciphers(&[cipher])
            .host_key_algorithms(&[host_key_algorithm])
    })
}

/// The credentials for password tests, from `SEASHELL_TEST_USER` and
/// `SEASHELL_TEST_PASSWORD` ([`seashell_testkit::test_password`]).
///
/// When they are not set, prints a `skipped:` note naming `test` and returns `None`; in CI
/// (`CI=true`) it panics instead, since `.ci/run` always sets them.
#[track_caller]
pub fn password_credentials(test: &str) -> Option<(String, String)> {
    if let Some(creds) = seashell_testkit::test_password() {
        return Some(creds);
    }
    assert!(
        !in_ci(),
        "{test}: CI=true but SEASHELL_TEST_USER / SEASHELL_TEST_PASSWORD are not set"
    );
    eprintln!(
        "skipped: {test}: set SEASHELL_TEST_USER and SEASHELL_TEST_PASSWORD to a local \
         account and its password (e.g. `echo 'seashell-test:SomePw123' | chpasswd`)"
    );
    None
}

/// A public key as an OpenSSH public-key line: `"type base64"`.
pub fn openssh_public_line(key: &PublicKey) -> String {
    format!(
        "{} {}",
        key.key_type(),
        Base64::encode_string(&key.to_blob())
    )
}

/// Writes `lines` (one `known_hosts` entry each) to a new file in `dir` and returns its path.
///
/// # Panics
///
/// If the file cannot be written.
#[track_caller]
pub fn write_known_hosts(dir: &std::path::Path, lines: &[String]) -> PathBuf {
    let path = dir.join("known_hosts.custom");
    let mut text = lines.join("\n");
    text.push('\n');
    if let Err(e) = std::fs::write(&path, text) {
        panic!("writing {}: {e}", path.display());
    }
    path
}

/// Runs `f` on its own thread and fails the calling test with a clear message if it takes
/// longer than `limit`: a flow-control or protocol bug then fails instead of hanging the
/// whole test run. A panic inside `f` is passed on unchanged.
///
/// On timeout the worker thread is abandoned; it ends with the test process.
#[track_caller]
pub fn with_timeout<T, F>(limit: Duration, what: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(what.to_owned())
        .spawn(move || {
            let _ = tx.send(f());
        });
    let worker = match worker {
        Ok(w) => w,
        Err(e) => panic!("{what}: cannot start a thread: {e}"),
    };
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => panic!("{what}: the worker ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no result within {limit:?} (hung?)")
        }
    }
}

/// Polls `sshd`'s log until `done` accepts it or `limit` passes, and returns the last log
/// read. Use it to wait for the line sshd writes when a connection ends, before asserting
/// on what the log does *not* contain.
pub fn wait_for_log(sshd: &Sshd, limit: Duration, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let log = sshd.log();
        if done(&log) || Instant::now() >= deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One entry of `conformance/disabled.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledCase {
    /// The case name, e.g. `"blocking/matrix/aes256-gcm@openssh.com/rsa-sha2-256"`.
    pub case: String,
    /// Why it is skipped (an issue link or a description of the peer's limitation).
    pub reason: String,
}

/// Parses the skip list: `[[disabled]]` tables with `case = "..."` and `reason = "..."`.
///
/// Only this subset of TOML is accepted (one basic string per key, `#` comments, `\"` and
/// `\\` escapes), so the suite needs no TOML parser. Malformed entries are an error.
pub fn parse_disabled(text: &str) -> Result<Vec<DisabledCase>, String> {
    let mut out = Vec::new();
    let mut current: Option<(Option<String>, Option<String>)> = None;
    let mut finish = |entry: Option<(Option<String>, Option<String>)>| match entry {
        None => Ok(()),
        Some((Some(case), Some(reason))) => {
            out.push(DisabledCase { case, reason });
            Ok(())
        }
        Some(_) => Err("a [[disabled]] entry needs both `case` and `reason`".to_owned()),
    };
    for (no, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[disabled]]" {
            finish(current.take())?;
            current = Some((None, None));
            continue;
        }
        let err = |m: &str| format!("disabled.toml line {}: {m}: {raw}", no + 1);
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| err("expected key = value"))?;
        let value = parse_basic_string(value.trim()).ok_or_else(|| err("expected \"string\""))?;
        let entry = current
            .as_mut()
            .ok_or_else(|| err("key outside a [[disabled]] table"))?;
        match key.trim() {
            "case" => entry.0 = Some(value),
            "reason" => entry.1 = Some(value),
            _ => return Err(err("unknown key (expected case or reason)")),
        }
    }
    finish(current.take())?;
    Ok(out)
}

/// A TOML basic string (`"..."`, optionally followed by a `#` comment), unescaped.
fn parse_basic_string(s: &str) -> Option<String> {
    let mut chars = s.strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => break,
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    let rest = chars.as_str().trim();
    (rest.is_empty() || rest.starts_with('#')).then_some(out)
}

/// The reason `case` is listed in `conformance/disabled.toml`, if it is. An entry's `case`
/// may hold `*` and `?` wildcards (`client-*-vs-putty`); the first matching entry wins.
///
/// # Panics
///
/// If `disabled.toml` is malformed (so a typo cannot silently re-enable or hide cases).
pub fn disabled_reason(case: &str) -> Option<String> {
    match parse_disabled(DISABLED_TOML) {
        Ok(list) => list
            .into_iter()
            .find(|d| seashell_proto::config::wildcard_match(&d.case, case))
            .map(|d| d.reason),
        Err(e) => panic!("conformance/disabled.toml: {e}"),
    }
}

/// Prints a `skipped:` note and returns `true` when `case` is in `disabled.toml`.
pub fn skip_if_disabled(case: &str) -> bool {
    match disabled_reason(case) {
        Some(reason) => {
            eprintln!("skipped: {case}: disabled in conformance/disabled.toml: {reason}");
            true
        }
        None => false,
    }
}

/// The `seashell` binary. It is built (with `cargo build -p seashell-cli`, into this test's
/// target directory and profile) on first use if it is missing or older than its sources.
pub fn seashell_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("SEASHELL_BIN") {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().expect("current_exe");
        // <target>/<profile>/deps/cli-HASH → <target>/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary in <target>/<profile>/deps");
        let bin = profile_dir.join("seashell");
        if !is_stale(&bin) {
            return bin;
        }
        let target_dir = profile_dir.parent().expect("profile dir in a target dir");
        // The `dev` and `test` profiles build into `debug`; others into their own name.
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "seashell-cli",
                "--bin",
                "seashell",
            ])
            .args(["--profile", profile])
            .env("CARGO_TARGET_DIR", target_dir)
            .status()
            .expect("running cargo build -p seashell-cli");
        assert!(
            status.success(),
            "cargo build -p seashell-cli failed: {status}"
        );
        assert!(bin.exists(), "{} missing after cargo build", bin.display());
        bin
    })
}

/// Whether `bin` is missing or older than a source file of the crates it is built from.
fn is_stale(bin: &Path) -> bool {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return true;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut todo: Vec<PathBuf> = ["cli", "adapter", "blocking", "proto", "keys", "config"]
        .iter()
        .map(|c| root.join("crates").join(c))
        .chain([root.join("Cargo.toml"), root.join("Cargo.lock")])
        .collect();
    while let Some(p) = todo.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                todo.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.modified().is_ok_and(|m| m > built) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_skip_list_parses() {
        parse_disabled(DISABLED_TOML).unwrap();
    }

    #[test]
    fn skip_list_entries() {
        let text = r#"
# comment
[[disabled]]
case = "a/b"   # trailing comment
reason = "peer says \"no\""

[[disabled]]
reason = "second"
case = "c"
"#;
        let list = parse_disabled(text).unwrap();
        assert_eq!(
            list,
            vec![
                DisabledCase {
                    case: "a/b".into(),
                    reason: "peer says \"no\"".into()
                },
                DisabledCase {
                    case: "c".into(),
                    reason: "second".into()
                },
            ]
        );
        assert!(parse_disabled("[[disabled]]\ncase = \"x\"\n").is_err());
        assert!(parse_disabled("case = \"x\"\n").is_err());
        assert!(parse_disabled("[[disabled]]\ncase = x\nreason = \"r\"\n").is_err());
        assert!(parse_disabled("[[disabled]]\nfoo = \"x\"\n").is_err());
    }

    #[test]
    fn timeout_passes_values_and_panics() {
        assert_eq!(with_timeout(Duration::from_secs(5), "quick", || 7), 7);
        let r = std::panic::catch_unwind(|| {
            with_timeout(Duration::from_millis(50), "slow", || {
                std::thread::sleep(Duration::from_secs(2));
            })
        });
        assert!(r.is_err());
    }
}
