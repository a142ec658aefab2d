//! Our client's `ping@openssh.com` against real sshds: OpenSSH 10 advertises it and answers
//! every PING with a PONG once we are authenticated; OpenSSH 9.2 does not advertise it, and
//! `Session::ping` then reports `None`.

use seashell_blocking::{Client, ClientConfig, HostKeyPolicy, StrictHostKeyChecking};
use seashell_conformance::in_ci;
use seashell_conformance::matrix::keys::Keys;
use seashell_conformance::matrix::run::OPENSSH10_ENV;
use seashell_conformance::matrix::servers::{PeerServer, start_sshd};
use seashell_conformance::process::current_user;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Connects with the user key, pings `n` times, then runs a command to show the connection
/// is intact. Returns the round trips (`None` if the server has no ping).
fn pings(server: &PeerServer, keys: &Keys, n: usize) -> Option<Vec<Duration>> {
    let known = server.known_hosts(keys).expect("known_hosts");
    let config = ClientConfig::new(server.user.clone())
        .host_key_policy(HostKeyPolicy::KnownHosts {
            files: vec![known],
            strict: StrictHostKeyChecking::Yes,
        })
        .key_file(keys.user_key())
        .expect("user key");
    let session = Client::connect(&format!("127.0.0.1:{}", server.port()), config)
        .unwrap_or_else(|e| panic!("connect: {e}\nsshd log:\n{}", server.log()));
    let mut rtts = Vec::new();
    for _ in 0..n {
        match session.ping().expect("ping") {
            Some(rtt) => rtts.push(rtt),
            None => return None,
        }
    }
    let out = session.exec("echo after-pings").expect("exec after pings");
    assert_eq!(out.stdout, b"after-pings\n");
    Some(rtts)
}

fn login_user() -> String {
    seashell_testkit::test_password().map_or_else(current_user, |(user, _)| user)
}

fn openssh10_root() -> Option<PathBuf> {
    match std::env::var_os(OPENSSH10_ENV) {
        Some(root) => Some(PathBuf::from(root)),
        None if in_ci() => panic!("{OPENSSH10_ENV} is not set in CI (.ci/run sets it)"),
        None => {
            eprintln!("skipped: {OPENSSH10_ENV} is not set (OpenSSH 10 from bookworm-backports)");
            None
        }
    }
}

#[test]
fn openssh10_answers_our_pings() {
    let Some(root) = openssh10_root() else {
        return;
    };
    let keys = Keys::generate().expect("keys");
    let lib = root.join("usr/lib/openssh");
    let server = start_sshd(
        &root.join("usr/sbin/sshd"),
        &root.join("usr/bin/ssh"),
        &[
            format!("SshdSessionPath {}", lib.join("sshd-session").display()),
            format!("SshdAuthPath {}", lib.join("sshd-auth").display()),
        ],
        &keys,
        &login_user(),
    )
    .expect("starting OpenSSH 10 sshd");
    let rtts = pings(&server, &keys, 5).expect("OpenSSH 10 advertises ping@openssh.com");
    assert_eq!(rtts.len(), 5);
    eprintln!("OpenSSH 10 ping round trips: {rtts:?}");
}

#[test]
fn openssh9_does_not_advertise_ping() {
    let sshd = Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        assert!(!in_ci(), "/usr/sbin/sshd is missing in CI");
        eprintln!("skipped: /usr/sbin/sshd is missing (apt-get install openssh-server)");
        return;
    }
    let keys = Keys::generate().expect("keys");
    let server = start_sshd(sshd, Path::new("/usr/bin/ssh"), &[], &keys, &login_user())
        .expect("starting sshd");
    assert_eq!(pings(&server, &keys, 1), None);
}
