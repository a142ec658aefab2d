//! Jump hosts against two private OpenSSH sshd instances: `seashell -J` through two hops
//! (known hosts in one file or one file per hop, a hop whose key is unknown refused, the
//! final session running a command or forwarding), and the library underneath
//! (`Client::connect_via`), each hop with its own host-key policy.

use seashell_blocking::{Client, ClientConfig, Error, HostKeyPolicy, StrictHostKeyChecking};
use seashell_conformance::process::text;
use seashell_conformance::{KeyKind, Sshd, SshdOptions, seashell_bin, start_sshd, with_timeout};
use seashell_testkit::tcp_service::{Behaviour, TcpService, check_sink};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(120);

/// Two servers: the jump hosts, and (again the first) the destination.
fn two_sshd() -> Option<(Sshd, Sshd)> {
    Some((
        start_sshd(SshdOptions::default())?,
        start_sshd(SshdOptions::default())?,
    ))
}

/// `user@127.0.0.1:PORT` for a `-J` list.
fn hop(sshd: &Sshd) -> String {
    format!("{}@127.0.0.1:{}", sshd.login_user(), sshd.port())
}

/// `seashell -J a,b` to `a` again, checking host keys against `known` (one or more files).
fn jump_cmd(a: &Sshd, b: &Sshd, home: &Path, known: &[&Path]) -> Command {
    let files: Vec<String> = known.iter().map(|p| p.display().to_string()).collect();
    let mut cmd = Command::new(seashell_bin());
    cmd.env("HOME", home)
        .env_remove("SSH_ASKPASS")
        .env_remove("DISPLAY")
        .arg("-i")
        .arg(a.user_key(KeyKind::Ed25519))
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", files.join(" ")))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args(["-J", &format!("{},{}", hop(a), hop(b))])
        .args(["-p", &a.port().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn finish(cmd: &mut Command, what: &str) -> Output {
    let child = cmd.spawn().expect("spawning seashell");
    with_timeout(LIMIT, what, move || {
        child.wait_with_output().expect("waiting")
    })
}

/// How many logins sshd has accepted so far.
fn logins(sshd: &Sshd) -> usize {
    sshd.log().matches("Accepted publickey").count()
}

/// A known_hosts file with both servers' entries.
fn both_known(a: &Sshd, b: &Sshd, dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(a.known_hosts_file()).expect("a's known_hosts");
    text.push_str(&std::fs::read_to_string(b.known_hosts_file()).expect("b's known_hosts"));
    let path = dir.join("known_hosts.both");
    std::fs::write(&path, text).expect("writing known_hosts");
    path
}

#[test]
fn jump_through_two_sshd_hops() {
    let Some((a, b)) = two_sshd() else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let dest = format!("{}@127.0.0.1", a.login_user());

    // One known_hosts file naming both hosts.
    let both = both_known(&a, &b, home.path());
    let (a0, b0) = (logins(&a), logins(&b));
    let o = finish(
        jump_cmd(&a, &b, home.path(), &[&both]).args(["-v", &dest, "echo jumped"]),
        "-J a,b with one known_hosts",
    );
    assert_eq!(text(&o.stdout), "jumped\n", "{}", text(&o.stderr));
    assert_eq!(o.status.code(), Some(0));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "Authenticated to 127.0.0.1 ([127.0.0.1]:{}) using \"publickey\".",
            a.port()
        )),
        "{err}"
    );
    assert_eq!(
        err.matches("Authenticated to 127.0.0.1 (via proxy) using \"publickey\".")
            .count(),
        2,
        "{err}"
    );
    // a: the first hop and the destination; b: the second hop.
    assert_eq!((logins(&a) - a0, logins(&b) - b0), (2, 1));

    // One known_hosts file per hop.
    let o = finish(
        jump_cmd(
            &a,
            &b,
            home.path(),
            &[&a.known_hosts_file(), &b.known_hosts_file()],
        )
        .args([&dest, "echo per-hop files"]),
        "-J a,b with a file per hop",
    );
    assert_eq!(text(&o.stdout), "per-hop files\n", "{}", text(&o.stderr));

    // The second hop's key is unknown: refused there, status 255.
    let o = finish(
        jump_cmd(&a, &b, home.path(), &[&a.known_hosts_file()]).args([&dest, "echo no"]),
        "-J a,b without b's key",
    );
    assert_eq!(o.status.code(), Some(255));
    assert_eq!(text(&o.stdout), "");
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "no ssh-ed25519 host key is known for [127.0.0.1]:{}",
            b.port()
        )) || err.contains(&format!("[127.0.0.1]:{}", b.port())),
        "{err}"
    );

    // The final session forwards too.
    let sink = TcpService::start(Behaviour::Sink).expect("sink");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = jump_cmd(&a, &b, home.path(), &[&both])
        .args([
            "-N",
            "-L",
            &format!("{port}:127.0.0.1:{}", sink.port()),
            &dest,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning seashell -J -L");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "-L through the jump hosts never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = with_timeout(LIMIT, "-L through two hops", move || {
        check_sink(&format!("127.0.0.1:{port}"), 21, 16 << 20)
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r, Ok(16 << 20));
}

/// Strict checking against these files only.
fn known(files: &[PathBuf]) -> HostKeyPolicy {
    HostKeyPolicy::KnownHosts {
        files: files.to_vec(),
        strict: StrictHostKeyChecking::Yes,
    }
}

fn config(sshd: &Sshd, policy: HostKeyPolicy) -> ClientConfig {
    ClientConfig::new(sshd.login_user())
        .host_key_policy(policy)
        .key_file(sshd.user_key(KeyKind::Ed25519))
        .expect("loading the user key")
}

#[test]
fn library_jump_with_a_host_key_policy_per_hop() {
    let Some((a, b)) = two_sshd() else {
        return;
    };
    let (ka, kb) = (a.known_hosts_file(), b.known_hosts_file());
    let (addr_a, addr_b) = (a.addr(), b.addr());
    let hop1 = config(&a, known(std::slice::from_ref(&ka)));
    let hop2 = config(&b, known(std::slice::from_ref(&kb)));
    let last = config(&a, known(std::slice::from_ref(&ka)));
    let wrong = config(&b, known(std::slice::from_ref(&ka)));
    with_timeout(LIMIT, "connect_via, a policy per hop", move || {
        let first = Client::connect(&addr_a, hop1).expect("first hop");
        let second = Client::connect_via(&first, &addr_b, hop2).expect("second hop");
        let dest = Client::connect_via(&second, &addr_a, last).expect("destination");
        let out = dest.exec("echo library jump").expect("exec");
        assert_eq!(out.stdout, b"library jump\n");
        // The second hop checked against the first hop's file only: its key is unknown.
        match Client::connect_via(&first, &addr_b, wrong) {
            Err(Error::HostKey(msg)) => assert!(msg.contains("127.0.0.1"), "{msg}"),
            other => panic!("expected a host-key refusal, got {other:?}"),
        }
        // The refusal did not disturb the first hop.
        assert_eq!(
            first.exec("echo still here").expect("exec").stdout,
            b"still here\n"
        );
    });
}
