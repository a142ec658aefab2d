//! OpenSSH certificates end to end, both roles, against the real OpenSSH tools:
//!
//! - user certificates issued by `ssh-keygen -s` log in to `seashell serve`
//!   (`TrustedUserCAKeys`); expired ones, ones for another principal and ones used from an
//!   address their `source-address` refuses do not;
//! - a host certificate issued by `ssh-keygen -s -h` and presented by sshd
//!   (`HostCertificate`) is accepted by our library client and the `seashell` command through
//!   a known_hosts `@cert-authority` line, and refused with another CA;
//! - certificates issued by `seashell keygen -s` are accepted by sshd (user certificate via
//!   `TrustedUserCAKeys`, presented by `ssh` and by our client) and by `ssh` (host
//!   certificate presented by `seashell serve -o HostCertificate=...`).

use seashell_blocking::{Client, ClientConfig, HostKeyPolicy, StrictHostKeyChecking};
use seashell_conformance::process::{current_user, run_limited, text};
use seashell_conformance::serve::Serve;
use seashell_conformance::{SshdOptions, seashell_bin, start_sshd};
use seashell_testkit::{PeerError, find_program, require_peer, ssh_client};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// `ssh` and `ssh-keygen`, or `None` when they are missing outside CI.
#[track_caller]
fn peers() -> Option<(PathBuf, PathBuf)> {
    let ssh = require_peer(ssh_client())?;
    let keygen = require_peer(find_program("ssh-keygen").ok_or(PeerError::Missing {
        peer: "ssh-keygen",
        install: "apt-get install openssh-client",
    }))?;
    Some((ssh, keygen))
}

/// A new ed25519 key `dir/name` made by ssh-keygen.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "ed25519", "-C", name, "-f"])
        .arg(&path)
        .output()
        .expect("running ssh-keygen");
    assert!(out.status.success(), "ssh-keygen: {}", text(&out.stderr));
    path
}

fn pub_of(key: &Path) -> PathBuf {
    key.with_extension("pub")
}

/// Signs `key.pub` with `signer` (`ssh-keygen` or `seashell keygen`) and returns the
/// certificate path (`key-cert.pub`).
fn sign(signer: &[&str], ca: &Path, key: &Path, args: &[&str]) -> PathBuf {
    let (program, first) = signer.split_first().expect("a signer");
    let mut cmd = Command::new(program);
    cmd.args(first)
        .arg("-s")
        .arg(ca)
        .args(["-I", "conformance"])
        .args(args)
        .arg(pub_of(key));
    let ran = run_limited(&mut cmd, LIMIT).expect("running the signer");
    assert!(ran.status.success(), "{signer:?} -s: {}", text(&ran.stderr));
    let mut cert = key.as_os_str().to_owned();
    cert.push("-cert.pub");
    PathBuf::from(cert)
}

fn ssh_keygen() -> Vec<&'static str> {
    vec!["ssh-keygen", "-q"]
}

fn seashell_keygen() -> Vec<&'static str> {
    let bin = seashell_bin().to_str().expect("UTF-8 binary path");
    vec![bin, "keygen"]
}

/// `ssh` in batch mode to 127.0.0.1:`port` as `user` with identity `key` (its
/// `key-cert.pub` is picked up), checking the host against `known_hosts`, running `echo ok`.
fn ssh_login(
    ssh: &Path,
    port: u16,
    user: &str,
    key: &Path,
    known_hosts: &Path,
) -> Result<(), String> {
    let mut cmd = Command::new(ssh);
    cmd.args(["-F", "/dev/null", "-p", &port.to_string()])
        .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"])
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .arg("-i")
        .arg(key)
        .args(["-l", user, "127.0.0.1", "echo ok"])
        .env_remove("SSH_AUTH_SOCK");
    let ran = run_limited(&mut cmd, LIMIT)?;
    if ran.status.success() && text(&ran.stdout) == "ok\n" {
        Ok(())
    } else {
        Err(format!(
            "ssh failed ({:?}): {}",
            ran.status,
            text(&ran.stderr)
        ))
    }
}

/// A `seashell serve` trusting `ca` for user certificates, with `host_key` (and `extra`).
fn serve_with(dir: &Path, host_key: &Path, extra: &[String]) -> Serve {
    let empty = dir.join("authorized_keys");
    std::fs::write(&empty, "").expect("writing authorized_keys");
    Serve::start(&[host_key.to_path_buf()], &empty, extra).expect("starting seashell serve")
}

#[test]
fn serve_accepts_ssh_keygen_user_certificates_and_refuses_bad_ones() {
    let Some((ssh, _)) = peers() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let ca = keygen(dir, "ca");
    let host = keygen(dir, "host");
    let user_key = keygen(dir, "user");
    let me = current_user();
    let serve = serve_with(
        dir,
        &host,
        &[
            "-o".into(),
            format!("TrustedUserCAKeys={}", pub_of(&ca).display()),
            // Refused logins must not get the test's address penalized.
            "-o".into(),
            "PerSourcePenalties=no".into(),
        ],
    );
    let known = dir.join("known_hosts");
    let host_line = std::fs::read_to_string(pub_of(&host)).expect("host .pub");
    std::fs::write(&known, format!("[127.0.0.1]:{} {host_line}", serve.port())).expect("kh");
    let login = || ssh_login(&ssh, serve.port(), &me, &user_key, &known);

    // No certificate: the plain key is not authorized.
    assert!(login().is_err(), "a plain key logged in");
    sign(&ssh_keygen(), &ca, &user_key, &["-n", &me, "-V", "-5m:+1h"]);
    login().unwrap_or_else(|e| panic!("valid certificate refused: {e}\n{}", serve.log()));

    let refused = [
        (
            "expired",
            vec!["-n", me.as_str(), "-V", "20200101:20200201"],
        ),
        (
            "other principal",
            vec!["-n", "someone-else", "-V", "-5m:+1h"],
        ),
        (
            "refused source address",
            vec!["-n", me.as_str(), "-O", "source-address=10.9.9.9/32"],
        ),
    ];
    for (case, args) in refused {
        sign(&ssh_keygen(), &ca, &user_key, &args);
        assert!(login().is_err(), "{case}: the certificate logged in");
    }
    let log = serve.log();
    for why in ["certificate has expired", "principal", "source-address"] {
        assert!(log.contains(why), "no {why:?} refusal in the log:\n{log}");
    }
    // A source-address that lists the client is fine.
    sign(
        &ssh_keygen(),
        &ca,
        &user_key,
        &["-n", &me, "-O", "source-address=127.0.0.0/8"],
    );
    login().unwrap_or_else(|e| panic!("source-address 127.0.0.0/8 refused: {e}"));
}

/// An sshd presenting `host_key` with the certificate `host_cert` and trusting `user_ca`.
fn sshd_with_certs(
    host_key: &Path,
    host_cert: &Path,
    user_ca: &Path,
) -> Option<seashell_conformance::Sshd> {
    start_sshd(SshdOptions {
        extra_config: vec![
            format!("HostKey {}", host_key.display()),
            format!("HostCertificate {}", host_cert.display()),
            format!("TrustedUserCAKeys {}", user_ca.display()),
        ],
        ..SshdOptions::default()
    })
}

#[test]
fn our_client_trusts_sshd_host_certificates_through_cert_authority() {
    let Some(_) = peers() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let host_ca = keygen(dir, "host_ca");
    let other_ca = keygen(dir, "other_ca");
    let user_ca = keygen(dir, "user_ca");
    let host = keygen(dir, "host");
    let user_key = keygen(dir, "user");
    let host_cert = sign(
        &ssh_keygen(),
        &host_ca,
        &host,
        &["-h", "-n", "127.0.0.1", "-V", "-5m:+1h"],
    );
    let Some(sshd) = sshd_with_certs(&host, &host_cert, &pub_of(&user_ca)) else {
        return;
    };
    let user = sshd.login_user();
    sign(
        &ssh_keygen(),
        &user_ca,
        &user_key,
        &["-n", &user, "-V", "-5m:+1h"],
    );
    let ca_line = |ca: &Path| {
        let line = std::fs::read_to_string(pub_of(ca)).expect("CA .pub");
        format!("@cert-authority [127.0.0.1]:{} {line}", sshd.port())
    };
    let known = dir.join("known_hosts");
    std::fs::write(&known, ca_line(&host_ca)).expect("known_hosts");
    let wrong = dir.join("known_hosts_wrong");
    std::fs::write(&wrong, ca_line(&other_ca)).expect("known_hosts");

    // The library: the certificate is negotiated (a CA is known), checked, and the user
    // logs in with key + certificate (the certificate is all sshd accepts).
    let config = |file: &Path| {
        ClientConfig::new(user.clone())
            .host_key_policy(HostKeyPolicy::KnownHosts {
                files: vec![file.to_path_buf()],
                strict: StrictHostKeyChecking::Yes,
            })
            .key_file_with_certificate(&user_key)
            .expect("loading the user key and certificate")
    };
    let session = Client::connect(&sshd.addr(), config(&known)).unwrap_or_else(|e| {
        panic!(
            "login with a CA-signed host key failed: {e}\n{}",
            sshd.log()
        )
    });
    let out = session.exec("echo ok").expect("exec");
    assert_eq!(out.stdout, b"ok\n");
    drop(session);
    let err = Client::connect(&sshd.addr(), config(&wrong)).expect_err("another CA trusted");
    assert!(err.to_string().contains("host key"), "{err}");

    // The seashell command, through -o UserKnownHostsFile and -i (picking up -cert.pub).
    let home = dir.join("home");
    std::fs::create_dir(&home).expect("home");
    let run = |file: &Path| {
        let mut cmd = Command::new(seashell_bin());
        cmd.env("HOME", &home)
            .args(["-p", &sshd.port().to_string(), "-i"])
            .arg(&user_key)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", file.display()))
            .args([
                "-o",
                "GlobalKnownHostsFile=none",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .args(["-o", "BatchMode=yes", "-l", &user, "127.0.0.1", "echo ok"]);
        run_limited(&mut cmd, LIMIT).expect("running seashell")
    };
    let ran = run(&known);
    assert!(
        ran.status.success() && ran.stdout == b"ok\n",
        "seashell: {:?} {}",
        ran.status,
        text(&ran.stderr)
    );
    let ran = run(&wrong);
    assert!(!ran.status.success(), "seashell trusted another CA");
}

#[test]
fn openssh_accepts_certificates_issued_by_seashell_keygen() {
    let Some((ssh, _)) = peers() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let ca = keygen(dir, "ca");
    let host = keygen(dir, "host");
    let user_key = keygen(dir, "user");

    // sshd: host certificate from ssh-keygen (not under test here), user CA = our CA.
    let host_cert = sign(&ssh_keygen(), &ca, &host, &["-h", "-n", "127.0.0.1"]);
    let Some(sshd) = sshd_with_certs(&host, &host_cert, &pub_of(&ca)) else {
        return;
    };
    let user = sshd.login_user();
    sign(
        &seashell_keygen(),
        &ca,
        &user_key,
        &["-n", &user, "-V", "-5m:+1h"],
    );
    let known = dir.join("known_hosts");
    let ca_pub = std::fs::read_to_string(pub_of(&ca)).expect("CA .pub");
    std::fs::write(&known, format!("@cert-authority * {ca_pub}")).expect("known_hosts");
    // ssh presents our user certificate to sshd.
    ssh_login(&ssh, sshd.port(), &user, &user_key, &known)
        .unwrap_or_else(|e| panic!("sshd refused our user certificate: {e}\n{}", sshd.log()));
    // And our client presents it too.
    let config = ClientConfig::new(user.clone())
        .host_key_policy(HostKeyPolicy::KnownHosts {
            files: vec![known.clone()],
            strict: StrictHostKeyChecking::Yes,
        })
        .key_file_with_certificate(&user_key)
        .expect("key and certificate");
    let session = Client::connect(&sshd.addr(), config).expect("our client with our certificate");
    assert_eq!(session.exec("echo ok").expect("exec").stdout, b"ok\n");
    drop(session);
    drop(sshd);

    // seashell serve presents a host certificate we issued; ssh checks it against the CA.
    let serve_host = keygen(dir, "serve_host");
    let serve_cert = sign(
        &seashell_keygen(),
        &ca,
        &serve_host,
        &["-h", "-n", "127.0.0.1,localhost"],
    );
    let user_cert_ca = keygen(dir, "user_cert_ca");
    sign(
        &ssh_keygen(),
        &user_cert_ca,
        &user_key,
        &["-n", &current_user()],
    );
    let serve = serve_with(
        dir,
        &serve_host,
        &[
            "-o".into(),
            format!("HostCertificate={}", serve_cert.display()),
            "-o".into(),
            format!("TrustedUserCAKeys={}", pub_of(&user_cert_ca).display()),
        ],
    );
    ssh_login(&ssh, serve.port(), &current_user(), &user_key, &known)
        .unwrap_or_else(|e| panic!("ssh refused serve's host certificate: {e}\n{}", serve.log()));
    assert!(
        serve
            .log()
            .contains("hostkey=ssh-ed25519-cert-v01@openssh.com"),
        "the certificate was not negotiated:\n{}",
        serve.log()
    );
}

#[test]
fn update_host_keys_records_proven_keys_and_drops_stale_ones() {
    let Some(_) = peers() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let ed = keygen(dir, "host_ed");
    let ec = dir.join("host_ec");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "ecdsa", "-f"])
        .arg(&ec)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success());
    let stale = keygen(dir, "stale");
    let user_key = keygen(dir, "user");
    let authorized = dir.join("authorized_keys");
    std::fs::copy(pub_of(&user_key), &authorized).expect("authorized_keys");
    let serve = Serve::start(
        &[ed.clone(), ec.clone()],
        &authorized,
        &["-o", "PerSourcePenalties=no"],
    )
    .expect("seashell serve");
    let line = |key: &Path| {
        let text = std::fs::read_to_string(pub_of(key)).expect(".pub");
        let fields: Vec<&str> = text.split_whitespace().take(2).collect();
        format!("[127.0.0.1]:{} {}", serve.port(), fields.join(" "))
    };
    let known = dir.join("known_hosts");
    std::fs::write(&known, format!("{}\n{}\n", line(&ed), line(&stale))).expect("known_hosts");
    let home = dir.join("home");
    std::fs::create_dir(&home).expect("home");
    let mut cmd = Command::new(seashell_bin());
    cmd.env("HOME", &home)
        .args(["-p", &serve.port().to_string(), "-i"])
        .arg(&user_key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=none",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .args(["-o", "UpdateHostKeys=yes", "-o", "BatchMode=yes"])
        .args(["-l", &current_user(), "127.0.0.1", "echo ok"]);
    let ran = run_limited(&mut cmd, LIMIT).expect("running seashell");
    assert!(
        ran.status.success() && ran.stdout == b"ok\n",
        "{:?} {}\n{}",
        ran.status,
        text(&ran.stderr),
        serve.log()
    );
    let after = std::fs::read_to_string(&known).expect("known_hosts");
    let key_of = |key: &Path| line(key).split_whitespace().nth(2).map(str::to_owned);
    assert!(after.contains(&key_of(&ed).unwrap()), "{after}");
    assert!(
        after.contains(&key_of(&ec).unwrap()),
        "the proven key was not added:\n{after}"
    );
    assert!(
        !after.contains(&key_of(&stale).unwrap()),
        "the stale key stayed:\n{after}"
    );
}

#[test]
fn check_host_ip_records_the_address_and_warns_when_its_key_differs() {
    let Some(_) = peers() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let host = keygen(dir, "host");
    let other = keygen(dir, "other");
    let user_key = keygen(dir, "user");
    let authorized = dir.join("authorized_keys");
    std::fs::copy(pub_of(&user_key), &authorized).expect("authorized_keys");
    let serve = Serve::start(
        std::slice::from_ref(&host),
        &authorized,
        &["-o", "PerSourcePenalties=no"],
    )
    .expect("seashell serve");
    let key_text = |key: &Path| {
        let text = std::fs::read_to_string(pub_of(key)).expect(".pub");
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let port = serve.port();
    let known = dir.join("known_hosts");
    let home = dir.join("home");
    std::fs::create_dir(&home).expect("home");
    let run = |strict: &str| {
        let mut cmd = Command::new(seashell_bin());
        cmd.env("HOME", &home)
            .args(["-p", &port.to_string(), "-i"])
            .arg(&user_key)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known.display()))
            .args(["-o", "GlobalKnownHostsFile=none", "-o", "CheckHostIP=yes"])
            .arg("-o")
            .arg(format!("StrictHostKeyChecking={strict}"))
            .args([
                "-o",
                "BatchMode=yes",
                "-l",
                &current_user(),
                "localhost",
                "echo ok",
            ]);
        run_limited(&mut cmd, LIMIT).expect("running seashell")
    };
    // The name is known, the address not: it is recorded, with ssh's warning.
    std::fs::write(&known, format!("[localhost]:{port} {}\n", key_text(&host))).expect("kh");
    let ran = run("yes");
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    assert!(
        text(&ran.stderr).contains("for IP address '[127.0.0.1]:"),
        "{}",
        text(&ran.stderr)
    );
    let after = std::fs::read_to_string(&known).expect("kh");
    assert!(
        after.contains(&format!("[127.0.0.1]:{port} {}", key_text(&host))),
        "{after}"
    );
    // The address has another key: a warning, and a refusal with strict checking.
    std::fs::write(
        &known,
        format!(
            "[localhost]:{port} {}\n[127.0.0.1]:{port} {}\n",
            key_text(&host),
            key_text(&other)
        ),
    )
    .expect("kh");
    let ran = run("accept-new");
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    assert!(text(&ran.stderr).contains("differs from the key for the IP address"));
    let ran = run("yes");
    assert!(
        !ran.status.success(),
        "strict checking let a differing IP key pass"
    );
}
