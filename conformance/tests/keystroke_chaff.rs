//! OpenSSH 10's `ssh` in an interactive session on a real terminal against `seashell serve`:
//! the client sees `ping@openssh.com` in our EXT_INFO and sends keystroke-timing chaff
//! (hundreds of SSH2_MSG_PING packets, OpenSSH 9.5+ `ObscureKeystrokeTiming`), and the session
//! goes on undisturbed: the typed command and the exit status come through. (OpenSSH does not
//! log the PONGs it gets; that each PING gets its PONG is checked in `pair_ping.rs`.)

use seashell_conformance::in_ci;
use seashell_conformance::matrix::run::OPENSSH10_ENV;
use seashell_conformance::process::{current_user, peer_script, run_limited, text};
use seashell_conformance::serve::Serve;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn keygen(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&path)
        .status()
        .expect("running ssh-keygen")
        .success();
    assert!(ok, "ssh-keygen failed");
    path
}

#[test]
fn openssh10_keystroke_chaff_pings_do_not_disturb_the_session() {
    let ssh = match std::env::var_os(OPENSSH10_ENV) {
        Some(root) => Path::new(&root).join("usr/bin/ssh"),
        None if in_ci() => panic!("{OPENSSH10_ENV} is not set in CI (.ci/run sets it)"),
        None => {
            eprintln!("skipped: {OPENSSH10_ENV} is not set (OpenSSH 10 from bookworm-backports)");
            return;
        }
    };
    let python = Path::new("/usr/bin/python3");
    assert!(
        ssh.exists() && python.exists(),
        "{} or python3 missing",
        ssh.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let host = keygen(dir.path(), "host");
    let user = keygen(dir.path(), "user");
    let serve = Serve::start(&[host], &user.with_extension("pub"), &[] as &[&str])
        .expect("starting seashell serve");
    let ssh_log = dir.path().join("ssh.log");
    let mut cmd = Command::new(python);
    cmd.arg(peer_script("pty_typist.py"))
        .arg("echo typed-$((6*7))")
        .arg("--")
        .arg(&ssh)
        .args(["-vvv", "-tt", "-F", "/dev/null", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .arg("-E")
        .arg(&ssh_log)
        .arg("-i")
        .arg(&user)
        .args(["-p", &serve.port().to_string()])
        .arg(format!("{}@127.0.0.1", current_user()))
        .env("TERM", "dumb");
    let ran = run_limited(&mut cmd, Duration::from_secs(60)).expect("running the pty typist");
    let out = text(&ran.stdout);
    let log = std::fs::read_to_string(&ssh_log).unwrap_or_default();
    let context = format!(
        "output:\n{out}\nssh log tail:\n{}\nserve log:\n{}",
        tail(&log),
        serve.log()
    );
    assert!(out.contains("typed-42"), "{context}");
    assert!(out.trim_end().ends_with("status 7"), "{context}");
    assert!(log.contains("ping@openssh.com=<0>"), "{context}");
    // "obfuscate_keystroke_timing: stopping: ... (N chaff packets sent)" with some N > 0.
    let chaff: u64 = log
        .lines()
        .filter_map(|l| {
            l.split(" (")
                .nth(1)?
                .strip_suffix(" chaff packets sent)")?
                .parse::<u64>()
                .ok()
        })
        .sum();
    assert!(chaff > 0, "no keystroke chaff was sent: {context}");
    eprintln!("OpenSSH 10 sent {chaff} chaff pings during the session");
    assert!(serve.log().contains("shell with pty"), "{context}");
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
