//! How long `seashell serve` takes to run a command, against OpenSSH's `sshd` on the same
//! machine: the time from `ssh` sending the `exec` request to `ssh` receiving the exit
//! status, read from `ssh -vvv`'s timestamped log lines (`Sending command` and
//! `rtype exit-status`), for `exec true`. Runs of the two servers are interleaved.
//!
//! Both servers run the same shell, the login user's, without start-up files: sshd gets
//! `SetEnv SHLVL=1` (bash, as Debian builds it, reads `~/.bashrc` for `bash -c` only when
//! `SSH_CLIENT` is set and `SHLVL` is below 2), and `seashell serve` a `HOME` with no rc
//! file. An rc file that takes 120 ms (root's `pyenv init` on the development VM) would
//! otherwise be what is measured, on either server.
//!
//! The test fails if serve's median is clearly worse than sshd's, which catches a poll
//! interval, a sleep or a delayed-ACK stall in the exec path. The figures are printed:
//!
//! ```sh
//! cargo test -p seashell-conformance --test serve_exec_latency -- --nocapture
//! SEASHELL_LATENCY_RUNS=50 cargo test --release -p seashell-conformance --test serve_exec_latency -- --nocapture
//! ```

mod serve_common;

use seashell_conformance::process::current_user;
use seashell_conformance::seashell_bin;
use seashell_testkit::{KeyKind, Sshd, SshdOptions, require_peer, ssh_client};
use serve_common::{HostKey, Keys};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs per server unless `SEASHELL_LATENCY_RUNS` says otherwise.
const DEFAULT_RUNS: usize = 15;
/// A server that does not print its listening line within this long failed to start.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// One `ssh` run that takes longer than this is killed and fails the test.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// One `ssh` run: exec request to exit status, and the whole run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    exec: Duration,
    whole: Duration,
}

/// A target: a port, a login user, a key and a `known_hosts`.
struct Target {
    name: &'static str,
    port: u16,
    user: String,
    key: PathBuf,
    known_hosts: PathBuf,
}

/// The login shell of `user` in `/etc/passwd`, else `/bin/sh`.
fn login_shell(user: &str) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.first() == Some(&user)).then(|| f.get(6).map(|s| (*s).to_owned()))?
            })
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".to_owned())
}

/// A running `seashell serve` on `127.0.0.1:0`, killed on drop.
struct Serve {
    child: Child,
    port: u16,
    _home: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `seashell serve -q` with `shell` and an empty home directory.
fn start_serve(keys: &Keys, shell: &str) -> Serve {
    let home = tempfile::tempdir().expect("temporary home");
    let mut child = Command::new(seashell_bin())
        .args([
            "serve",
            "-q",
            "--listen",
            "127.0.0.1:0",
            "--user",
            &current_user(),
        ])
        .arg("--host-key")
        .arg(keys.host_key(HostKey::Ed25519))
        .arg("--authorized-keys")
        .arg(keys.path().join("authorized_keys"))
        .env("SHELL", shell)
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning seashell serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("seashell serve: listening on ") {
                let port = rest
                    .split_whitespace()
                    .next()
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| p.parse::<u16>().ok());
                let _ = tx.send(port);
            }
        }
    });
    let port = rx
        .recv_timeout(READY_LIMIT)
        .ok()
        .flatten()
        .expect("seashell serve printed its listening line");
    Serve {
        child,
        port,
        _home: home,
    }
}

/// One `ssh -vvv ... true` against `t`, timed from its log lines.
fn sample(ssh: &Path, t: &Target) -> Sample {
    let started = Instant::now();
    let mut child = Command::new(ssh)
        .args(["-F", "/dev/null", "-vvv", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", t.known_hosts.display()))
        .args(["-o", "IdentitiesOnly=yes", "-i"])
        .arg(&t.key)
        .args([
            "-p",
            &t.port.to_string(),
            "-l",
            &t.user,
            "127.0.0.1",
            "true",
        ])
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning ssh");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    // Each line is stamped as it arrives (ssh writes its log unbuffered).
    std::thread::spawn(move || {
        let (mut sent, mut status) = (None, None);
        let mut log = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let now = Instant::now();
            if line.contains("Sending command:") {
                sent = Some(now);
            } else if line.contains("rtype exit-status") {
                status = Some(now);
            }
            log.push_str(&line);
            log.push('\n');
        }
        let _ = tx.send((sent, status, log));
    });
    let (sent, status, log) = rx.recv_timeout(RUN_LIMIT).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("{}: ssh did not finish within {RUN_LIMIT:?}", t.name)
    });
    let exit = child.wait().expect("waiting for ssh");
    let whole = started.elapsed();
    assert!(exit.success(), "{}: ssh failed ({exit}):\n{log}", t.name);
    match (sent, status) {
        (Some(s), Some(e)) => Sample {
            exec: e.saturating_duration_since(s),
            whole,
        },
        _ => panic!("{}: no exec/exit-status lines in ssh -vvv:\n{log}", t.name),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median, minimum and 90th percentile, in ms.
fn summary(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let n = v.len();
    let median = if n % 2 == 1 {
        ms(v[n / 2])
    } else {
        (ms(v[n / 2 - 1]) + ms(v[n / 2])) / 2.0
    };
    (median, ms(v[0]), ms(v[(n * 9 / 10).min(n - 1)]))
}

#[test]
fn exec_latency_is_no_worse_than_sshd() {
    let Some(ssh) = require_peer(ssh_client()) else {
        return;
    };
    let runs = std::env::var("SEASHELL_LATENCY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(DEFAULT_RUNS);
    let keys = Keys::new();
    let user = current_user();
    let shell = login_shell(&user);
    let serve = start_serve(&keys, &shell);
    let serve_known = keys.path().join("known_hosts_serve");
    std::fs::write(
        &serve_known,
        format!(
            "[127.0.0.1]:{} {}\n",
            serve.port,
            keys.host_public(HostKey::Ed25519)
        ),
    )
    .expect("writing known_hosts");
    let mut targets = vec![Target {
        name: "seashell serve",
        port: serve.port,
        user,
        key: keys.user_key(),
        known_hosts: serve_known,
    }];
    let sshd = require_peer(Sshd::start(SshdOptions {
        extra_config: vec!["SetEnv SHLVL=1".to_owned()],
        log_level: "ERROR",
        ..SshdOptions::default()
    }));
    if let Some(s) = &sshd {
        targets.push(Target {
            name: "sshd",
            port: s.port(),
            user: s.login_user(),
            key: s.user_key(KeyKind::Ed25519),
            known_hosts: s.known_hosts_file(),
        });
    }
    // One run each first, not counted (caches, the first key exchange's allocations).
    for t in &targets {
        sample(&ssh, t);
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); targets.len()];
    for _ in 0..runs {
        for (t, s) in targets.iter().zip(&mut samples) {
            s.push(sample(&ssh, t));
        }
    }
    println!("exec `true` with shell {shell}, {runs} interleaved runs per server, ms:");
    println!(
        "{:16} {:<32} whole ssh run",
        "server", "exec -> exit-status"
    );
    let mut medians = Vec::new();
    for (t, s) in targets.iter().zip(&samples) {
        let (em, emin, e90) = summary(s.iter().map(|x| x.exec).collect());
        let (wm, wmin, w90) = summary(s.iter().map(|x| x.whole).collect());
        let exec = format!("{em:.1} (min {emin:.1}, p90 {e90:.1})");
        println!(
            "{:16} {exec:<32} {wm:.1} (min {wmin:.1}, p90 {w90:.1})",
            t.name
        );
        medians.push(em);
    }
    let serve_median = medians[0];
    // Generous, for a loaded machine: a poll interval or a delayed ACK costs 40-200 ms.
    let bound = match medians.get(1) {
        Some(&sshd_median) => (2.0 * sshd_median).max(sshd_median + 20.0),
        None => 50.0,
    };
    assert!(
        serve_median <= bound,
        "seashell serve's exec latency (median {serve_median:.1} ms) is above {bound:.1} ms"
    );
}
