//! `ssh-mldsa44-ed25519` against an independent implementation: puressh (a pure-Rust SSH
//! implementation speaking OpenSSH 10.6's algorithms). Its `sshd` presents an
//! `ssh-mldsa44-ed25519` host key made by its `ssh-keygen`; our client verifies it and logs
//! in with an `ssh-mldsa44-ed25519` user key of ours.
//!
//! puressh's programs are named like OpenSSH's (`sshd`, `ssh-keygen`), so they are looked
//! for only in `$SEASHELL_PURESSH/bin` (default `/opt/puressh/bin`), as installed by
//! `.ci/run` (`cargo install puressh --locked --features server --debug --root /opt/puressh`).
//! Without them the test is skipped with a message, except in CI (`CI=true`), where it fails.

use seashell_blocking::{Client, ClientConfig, HostKeyPolicy};
use seashell_conformance::process::{current_user, text};
use seashell_proto::PrivateKey;
use seashell_proto::keys::mldsa::SSH_MLDSA44_ED25519;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// puressh's `bin` directory, if the `programs` are there.
fn puressh_bin(programs: &[&str]) -> Option<PathBuf> {
    let dir = std::env::var_os("SEASHELL_PURESSH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/puressh"))
        .join("bin");
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| !dir.join(p).is_file())
        .collect();
    if !missing.is_empty() {
        assert!(
            !seashell_conformance::in_ci(),
            "puressh {missing:?} not found in {} (CI installs it)",
            dir.display()
        );
        eprintln!(
            "SKIPPED mldsa44 interop: puressh {missing:?} not found in {} (cargo install \
             puressh --locked --features server --debug --root /opt/puressh, or set SEASHELL_PURESSH)",
            dir.display()
        );
        return None;
    }
    Some(dir)
}

/// A running puressh `sshd`, killed on drop.
struct PureSshd {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for PureSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PureSshd {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts puressh's sshd with `host_key` and `authorized_keys`, and waits for its banner.
fn start(bin: &Path, dir: &Path, host_key: &Path, authorized: &Path) -> PureSshd {
    let port = free_port();
    let log = dir.join("sshd.log");
    let log_file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(bin.join("sshd"))
        .args(["-D", "-e", "-f", "/dev/null", "-p", &port.to_string()])
        .args(["-o", "ListenAddress=127.0.0.1", "--no-strict-modes"])
        .args(["--permit-root-login", "yes", "-u", &current_user()])
        .arg("-h")
        .arg(host_key)
        .arg("-A")
        .arg(authorized)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("starting puressh sshd");
    let sshd = PureSshd { child, port, log };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 8];
            if s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"SSH-2.0"))
            {
                return sshd;
            }
        }
        assert!(
            Instant::now() < deadline,
            "puressh sshd did not start:\n{}",
            sshd.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn mldsa44_ed25519_host_and_user_keys_with_puressh() {
    let Some(bin) = puressh_bin(&["sshd", "ssh-keygen"]) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let host = dir.join("host_mldsa");
    let out = Command::new(bin.join("ssh-keygen"))
        .args(["-q", "-t", "mldsa44-ed25519", "-N", "", "-f"])
        .arg(&host)
        .output()
        .expect("puressh ssh-keygen");
    assert!(out.status.success(), "ssh-keygen: {}", text(&out.stderr));
    let host_pub = std::fs::read_to_string(host.with_extension("pub")).expect("host .pub");
    assert!(host_pub.starts_with(SSH_MLDSA44_ED25519), "{host_pub}");

    let user_key = PrivateKey::mldsa44_ed25519_from_seeds(&[0x42; 64]).expect("user key");
    let user_line = seashell_conformance::openssh_public_line(&user_key.public_key());
    let authorized = dir.join("authorized_keys");
    std::fs::write(&authorized, format!("{user_line}\n")).expect("authorized_keys");
    let sshd = start(&bin, dir, &host, &authorized);

    // The host key must be the one ssh-keygen wrote, proven with an mldsa44 signature.
    let want = host_pub
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let verifier = move |_: &str, _: u16, key: &seashell_proto::PublicKey| {
        let got = seashell_conformance::openssh_public_line(key);
        if got == want {
            Ok(())
        } else {
            Err(format!("unexpected host key {got}"))
        }
    };
    let config = ClientConfig::new(current_user())
        .host_key_policy(HostKeyPolicy::Custom(Arc::new(verifier)))
        .key(user_key)
        .with_core(|c| {
            c.host_key_algorithms(&[SSH_MLDSA44_ED25519])
                .pubkey_accepted_algorithms(&[SSH_MLDSA44_ED25519])
        });
    let session = Client::connect(&format!("127.0.0.1:{}", sshd.port), config)
        .unwrap_or_else(|e| panic!("login to puressh failed: {e}\n{}", sshd.log()));
    let out = session.exec("echo ok").expect("exec");
    assert_eq!(out.stdout, b"ok\n", "{}", sshd.log());
}

#[test]
fn puressh_ssh_logs_in_to_serve_with_mldsa44_keys() {
    let Some(bin) = puressh_bin(&["ssh", "ssh-keygen"]) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let keygen = |name: &str| {
        let path = dir.join(name);
        let out = Command::new(bin.join("ssh-keygen"))
            .args(["-q", "-t", "mldsa44-ed25519", "-N", "", "-f"])
            .arg(&path)
            .output()
            .expect("puressh ssh-keygen");
        assert!(out.status.success(), "ssh-keygen: {}", text(&out.stderr));
        path
    };
    let host = keygen("host");
    let user = keygen("user");
    let authorized = dir.join("authorized_keys");
    std::fs::copy(user.with_extension("pub"), &authorized).expect("authorized_keys");
    let serve = seashell_conformance::serve::Serve::start(
        std::slice::from_ref(&host),
        &authorized,
        &[
            "-o",
            "HostKeyAlgorithms=+ssh-mldsa44-ed25519",
            "-o",
            "PubkeyAcceptedAlgorithms=+ssh-mldsa44-ed25519",
        ],
    )
    .expect("seashell serve with an mldsa44 host key");
    let host_pub = std::fs::read_to_string(host.with_extension("pub")).expect("host .pub");
    let known = dir.join("known_hosts");
    std::fs::write(&known, format!("[127.0.0.1]:{} {host_pub}", serve.port())).expect("kh");
    let mut cmd = Command::new(bin.join("ssh"));
    cmd.args(["-F", "/dev/null", "-p", &serve.port().to_string()])
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .args(["-o", "HostKeyAlgorithms=ssh-mldsa44-ed25519"])
        .args(["-o", "PubkeyAcceptedAlgorithms=ssh-mldsa44-ed25519"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known.display()))
        .arg("-i")
        .arg(&user)
        .args(["-l", &current_user(), "127.0.0.1", "echo ok"])
        .env_remove("SSH_AUTH_SOCK");
    let ran = seashell_conformance::process::run_limited(&mut cmd, Duration::from_secs(60))
        .expect("running puressh ssh");
    assert!(
        ran.status.success() && ran.stdout == b"ok\n",
        "puressh ssh: {:?} {}\nserve log:\n{}",
        ran.status,
        text(&ran.stderr),
        serve.log()
    );
    assert!(
        serve.log().contains("hostkey=ssh-mldsa44-ed25519"),
        "{}",
        serve.log()
    );
}
