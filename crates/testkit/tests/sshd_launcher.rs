//! The sshd launcher against the real OpenSSH client.

use std::process::{Command, Stdio};

use seashell_testkit::{KeyKind, Sshd, SshdOptions, require_peer, ssh_client, test_password};

/// `ssh` with options that ignore the invoking user's config, agent and known_hosts.
fn ssh_command(sshd: &Sshd, kind: KeyKind) -> Option<Command> {
    let ssh = require_peer(ssh_client())?;
    let mut cmd = Command::new(ssh);
    cmd.args(["-F", "/dev/null", "-o", "StrictHostKeyChecking=yes"])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            sshd.known_hosts_file().display()
        ))
        .args(["-o", "GlobalKnownHostsFile=/dev/null"])
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
        ])
        .arg("-i")
        .arg(sshd.user_key(kind))
        .arg("-p")
        .arg(sshd.port().to_string())
        .arg(format!("{}@127.0.0.1", sshd.login_user()))
        .stdin(Stdio::null());
    Some(cmd)
}

#[test]
fn openssh_client_runs_a_command() {
    let Some(sshd) = require_peer(Sshd::start(SshdOptions::default())) else {
        return;
    };
    let Some(mut ssh) = ssh_command(&sshd, KeyKind::Ed25519) else {
        return;
    };
    let out = ssh
        .arg("echo out; echo err >&2; exit 3")
        .output()
        .expect("run ssh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout: {stdout}\nstderr: {stderr}\nsshd log:\n{}",
        sshd.log()
    );
    assert_eq!(stdout, "out\n");
    assert!(stderr.contains("err"), "stderr: {stderr}");
    assert!(sshd.log().contains("Accepted publickey"), "{}", sshd.log());
}

#[test]
fn every_user_key_and_host_key_works() {
    let Some(sshd) = require_peer(Sshd::start(SshdOptions::default())) else {
        return;
    };
    for kind in KeyKind::ALL {
        assert!(sshd.user_key(kind).exists());
        assert!(sshd.user_key(kind).with_extension("pub").exists());
        let line = sshd.known_hosts_line(kind);
        assert!(
            line.starts_with(&format!(
                "[127.0.0.1]:{} {} AAAA",
                sshd.port(),
                kind.key_type()
            )),
            "{line}"
        );
        // Pin the host key algorithm so each host key is exercised too.
        let host_alg = match kind {
            KeyKind::Ed25519 => "ssh-ed25519",
            KeyKind::Rsa => "rsa-sha2-256",
            KeyKind::EcdsaP256 => "ecdsa-sha2-nistp256",
        };
        let Some(mut ssh) = ssh_command(&sshd, kind) else {
            return;
        };
        let out = ssh
            .arg("-o")
            .arg(format!("HostKeyAlgorithms={host_alg}"))
            .arg("id -un")
            .output()
            .expect("run ssh");
        assert!(
            out.status.success(),
            "{kind:?}: {}\nsshd log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            sshd.log()
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            sshd.login_user()
        );
    }
    let known_hosts = std::fs::read_to_string(sshd.known_hosts_file()).unwrap();
    assert_eq!(known_hosts.lines().count(), 3);
    assert_eq!(sshd.addr(), format!("127.0.0.1:{}", sshd.port()));
}

#[test]
fn password_authentication_is_configurable() {
    let Some(on) = require_peer(Sshd::start(SshdOptions {
        password_authentication: true,
        ..SshdOptions::default()
    })) else {
        return;
    };
    let Some(off) = require_peer(Sshd::start(SshdOptions::default())) else {
        return;
    };
    assert_ne!(on.port(), off.port());
    let on_cfg = on.effective_config().unwrap();
    assert!(on_cfg.lines().any(|l| l == "passwordauthentication yes"));
    let off_cfg = off.effective_config().unwrap();
    assert!(off_cfg.lines().any(|l| l == "passwordauthentication no"));
    if let Some((user, password)) = test_password() {
        assert_eq!(on.login_user(), user);
        assert!(!password.is_empty());
    }
}

#[test]
fn extra_config_overrides_defaults_and_drop_cleans_up() {
    let Some(sshd) = require_peer(Sshd::start(SshdOptions {
        extra_config: vec![
            "PasswordAuthentication yes".into(),
            "Ciphers aes128-ctr".into(),
            "Match User nobody-in-particular".into(),
            "  PasswordAuthentication no".into(),
        ],
        log_level: "DEBUG1",
        ..SshdOptions::default()
    })) else {
        return;
    };
    let cfg = sshd.effective_config().unwrap();
    assert!(
        cfg.lines().any(|l| l == "passwordauthentication yes"),
        "{cfg}"
    );
    assert!(cfg.lines().any(|l| l == "ciphers aes128-ctr"), "{cfg}");
    assert!(cfg.lines().any(|l| l == "loglevel DEBUG"), "{cfg}");
    let dir = sshd.dir().to_path_buf();
    let port = sshd.port();
    drop(sshd);
    assert!(!dir.exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
