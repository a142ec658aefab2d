//! `seashell serve -i` (inetd mode: one connection on stdin/stdout, as `sshd -i`) driven by
//! OpenSSH's `ssh`: through `-o ProxyCommand=...` (stdin and stdout are pipes), and with an
//! accepted TCP socket as stdin and stdout, as inetd or systemd socket activation
//! (`Accept=yes`) hand it over. Each run checks the command's stdout, stderr, stdin and exit
//! status, the host key (strict checking against the key given with `--host-key`), what
//! the server tells the command about the client (`SSH_CLIENT`), its log (stderr or `-E`),
//! and that a key restricted with `from=` is refused when the client's address is unknown.

mod serve_common;

use seashell_conformance::process::current_user;
use seashell_conformance::seashell_bin;
use seashell_testkit::{require_peer, ssh_client};
use serve_common::{HostKey, Keys};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A hung client or server fails its test after this long.
const LIMIT: Duration = Duration::from_secs(60);
/// What every remote command here runs: all three streams and a status.
const COMMAND: &str = "echo out; echo err >&2; echo \"client=$SSH_CLIENT\"; cat; exit 7";
/// Sent to the command's stdin.
const STDIN: &[u8] = b"from stdin\n";

/// What a finished `ssh` gave.
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Quotes `s` for `sh -c` (ssh runs a `ProxyCommand` through the shell).
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `seashell serve -i` with the test's host key, authorized keys and user, as a shell
/// command line.
fn serve_i(keys: &Keys, authorized: &Path, extra: &[&str]) -> String {
    let mut words = vec![
        sh_quote(&seashell_bin().display().to_string()),
        "serve".into(),
        "-i".into(),
        "--host-key".into(),
        sh_quote(&keys.host_key(HostKey::Ed25519).display().to_string()),
        "--authorized-keys".into(),
        sh_quote(&authorized.display().to_string()),
        "--user".into(),
        sh_quote(&current_user()),
    ];
    words.extend(extra.iter().map(|w| sh_quote(w)));
    words.join(" ")
}

/// A `known_hosts` for `host` (as ssh names it) holding only the test's ed25519 host key.
fn known_hosts(keys: &Keys, host: &str) -> PathBuf {
    let path = keys
        .path()
        .join(format!("known_hosts_{}", host.replace(':', "_")));
    let line = format!("{host} {}\n", keys.host_public(HostKey::Ed25519));
    std::fs::write(&path, line).expect("writing known_hosts");
    path
}

/// `ssh` in batch mode with the user key, strict host-key checking against `known`, no
/// user configuration, and `SHELL=/bin/sh` (the shell of the `ProxyCommand` and, inherited
/// through it, of the server's commands: bash would read the user's start-up files).
fn ssh(keys: &Keys, known: &Path, extra: &[String]) -> Command {
    let ssh = require_peer(ssh_client()).expect("ssh");
    let mut cmd = Command::new(ssh);
    cmd.args([
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
    ])
    .args([
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
    ])
    .arg("-o")
    .arg(format!("UserKnownHostsFile={}", known.display()))
    .args(["-o", "IdentitiesOnly=yes", "-i"])
    .arg(keys.user_key())
    .args(["-l", &current_user()])
    .args(extra)
    .env("SHELL", "/bin/sh")
    .env_remove("SSH_AUTH_SOCK")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Kills the process `pid` (one we started) unless the guard is dropped within [`LIMIT`].
fn watchdog(pid: u32, what: &'static str) -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(LIMIT) {
            eprintln!("{what}: still running after {LIMIT:?}; killing pid {pid}");
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    tx
}

/// Writes [`STDIN`] to `child`, closes its stdin, and collects its output and status.
fn finish(mut child: Child) -> Ran {
    let _dog = watchdog(child.id(), "ssh");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(STDIN).expect("writing ssh's stdin");
    }
    let out = child.wait_with_output().expect("waiting for ssh");
    Ran {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ssh_available() -> bool {
    require_peer(ssh_client()).is_some()
}

#[test]
fn proxy_command_runs_a_command_on_pipes() {
    if !ssh_available() {
        return;
    }
    let keys = Keys::new();
    let known = known_hosts(&keys, "inetd-test");
    // -v with no -E: the log goes to stderr, which ssh passes through; stdout stays the
    // SSH stream alone, or nothing below would work.
    let proxy = serve_i(&keys, &keys.path().join("authorized_keys"), &["-v"]);
    let child = ssh(
        &keys,
        &known,
        &[
            "-o".into(),
            format!("ProxyCommand={proxy}"),
            "inetd-test".into(),
            COMMAND.into(),
        ],
    )
    .spawn()
    .expect("spawning ssh");
    let ran = finish(child);
    assert_eq!(ran.status.code(), Some(7), "stderr:\n{}", ran.stderr);
    assert_eq!(
        ran.stdout, "out\nclient=UNKNOWN 65535 65535\nfrom stdin\n",
        "stderr:\n{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("err\n"), "{}", ran.stderr);
    // The server's -v lines, tagged with its pid, reached ssh's stderr.
    assert!(
        ran.stderr.contains("inetd mode: stdin is not a TCP socket"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("UNKNOWN port 65535 channel 0: exit status 7"),
        "{}",
        ran.stderr
    );
}

#[test]
fn proxy_command_refuses_a_from_restricted_key() {
    if !ssh_available() {
        return;
    }
    let keys = Keys::new();
    let known = known_hosts(&keys, "inetd-test");
    let restricted = keys.path().join("authorized_keys_from");
    let user_pub = std::fs::read_to_string(keys.user_key().with_extension("pub")).expect(".pub");
    std::fs::write(&restricted, format!("from=\"127.0.0.1\" {user_pub}")).expect("writing");
    let log = keys.path().join("serve.log");
    let log_arg = log.display().to_string();
    let proxy = serve_i(&keys, &restricted, &["-v", "-E", &log_arg]);
    let child = ssh(
        &keys,
        &known,
        &[
            "-o".into(),
            format!("ProxyCommand={proxy}"),
            "inetd-test".into(),
            "true".into(),
        ],
    )
    .spawn()
    .expect("spawning ssh");
    let ran = finish(child);
    assert_eq!(ran.status.code(), Some(255), "stderr:\n{}", ran.stderr);
    assert!(ran.stderr.contains("Permission denied"), "{}", ran.stderr);
    // With -E nothing of the server's reaches ssh's stderr; it is in the file.
    assert!(!ran.stderr.contains("seashell serve"), "{}", ran.stderr);
    // The key was refused at ssh's query already (queries are not logged), so the log
    // shows the connection and no authentication. The same key with a known address is
    // accepted in `a_tcp_socket_on_stdin_is_served_directly`.
    let text = std::fs::read_to_string(&log).expect("reading the -E log");
    assert!(
        text.contains("UNKNOWN port 65535: connection accepted"),
        "{text}"
    );
    assert!(!text.contains("authenticated"), "{text}");
}

#[test]
fn a_tcp_socket_on_stdin_is_served_directly() {
    if !ssh_available() {
        return;
    }
    let keys = Keys::new();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding");
    let port = listener.local_addr().expect("local address").port();
    let known = known_hosts(&keys, &format!("[127.0.0.1]:{port}"));
    // The client address is known here, so a from= restricted key works.
    let restricted = keys.path().join("authorized_keys_from");
    let user_pub = std::fs::read_to_string(keys.user_key().with_extension("pub")).expect(".pub");
    std::fs::write(&restricted, format!("from=\"127.0.0.1\" {user_pub}")).expect("writing");
    let log = keys.path().join("serve.log");
    let client = ssh(
        &keys,
        &known,
        &[
            "-p".into(),
            port.to_string(),
            "127.0.0.1".into(),
            COMMAND.into(),
        ],
    )
    .spawn()
    .expect("spawning ssh");
    let (sock, peer) = listener.accept().expect("accepting ssh's connection");
    // As inetd does: the accepted socket is the server's stdin and stdout.
    let fd = OwnedFd::from(sock);
    let mut server = Command::new(seashell_bin())
        .args(["serve", "-i", "-v", "--user", &current_user()])
        .arg("--host-key")
        .arg(keys.host_key(HostKey::Ed25519))
        .arg("--authorized-keys")
        .arg(&restricted)
        .arg("-E")
        .arg(&log)
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::from(fd.try_clone().expect("dup")))
        .stdout(Stdio::from(fd))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning seashell serve -i");
    let _server_dog = watchdog(server.id(), "seashell serve -i");
    let ran = finish(client);
    let status = server.wait().expect("waiting for the server");
    let mut server_stderr = String::new();
    if let Some(mut e) = server.stderr.take() {
        let _ = e.read_to_string(&mut server_stderr);
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        ran.status.code(),
        Some(7),
        "ssh:\n{}\nlog:\n{text}",
        ran.stderr
    );
    assert_eq!(
        ran.stdout,
        format!("out\nclient=127.0.0.1 {} {port}\nfrom stdin\n", peer.port()),
        "log:\n{text}"
    );
    assert!(ran.stderr.contains("err\n"), "{}", ran.stderr);
    // The one connection ended, and so did the server, cleanly.
    assert!(status.success(), "{status}; log:\n{text}");
    assert!(server_stderr.is_empty(), "{server_stderr}");
    assert!(text.contains(&format!("serving {peer} on stdin")), "{text}");
    assert!(
        text.contains(&format!("{peer}: connection closed")),
        "{text}"
    );
}

#[test]
fn inetd_mode_and_listen_exclude_each_other() {
    let out = Command::new(seashell_bin())
        .args(["serve", "-i", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .output()
        .expect("running seashell serve");
    assert_eq!(out.status.code(), Some(255));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("-i and --listen cannot be used together"),
        "{err}"
    );
}
