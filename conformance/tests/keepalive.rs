//! A frozen peer: `seashell serve` stopped with SIGSTOP (its TCP connection stays open, it
//! just never answers). The blocking and the tokio clients, with keepalive at 1 s × 2, must
//! end the session with a typed timeout within interval × (count + 1), not hang.

mod serve_common;

use seashell_blocking::{ClientConfig, Error, HostKeyPolicy};
use seashell_conformance::process::current_user;
use seashell_conformance::with_timeout;
use serve_common::{HostKey, Keys, start_serve};
use std::io;
use std::process::Command;
use std::time::{Duration, Instant};

const INTERVAL: Duration = Duration::from_secs(1);
const COUNT: u32 = 2;
/// interval × (count + 1), plus scheduling slack.
const BOUND: Duration = Duration::from_secs(3 + 2);

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

fn config(keys: &Keys) -> ClientConfig {
    ClientConfig::new(current_user())
        .key_file(keys.user_key())
        .unwrap()
        .host_key_policy(HostKeyPolicy::Fingerprint(
            keys.host_fingerprint(HostKey::Ed25519),
        ))
        .keepalive(INTERVAL, COUNT)
}

fn assert_keepalive_timeout(e: &Error, elapsed: Duration) {
    assert!(
        matches!(
            e,
            Error::Ssh(seashell_blocking::proto::Error::KeepaliveTimeout { count: COUNT })
        ),
        "{e:?}"
    );
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    assert!(elapsed <= BOUND, "detected after {elapsed:?}");
    assert!(
        elapsed >= INTERVAL * (COUNT + 1) - Duration::from_millis(200),
        "too early: {elapsed:?}"
    );
}

#[test]
fn blocking_client_detects_a_frozen_server() {
    let keys = Keys::new();
    let serve = start_serve(&keys, &[HostKey::Ed25519], &[]).unwrap();
    let (addr, pid, config) = (
        format!("127.0.0.1:{}", serve.port()),
        serve.pid(),
        config(&keys),
    );
    with_timeout(Duration::from_secs(60), "blocking keepalive", move || {
        let session = seashell_blocking::Client::connect(&addr, config).unwrap();
        assert_eq!(session.exec("echo alive").unwrap().stdout, b"alive\n");
        signal(pid, "-STOP");
        let start = Instant::now();
        let e = session.exec("echo never").unwrap_err();
        let elapsed = start.elapsed();
        signal(pid, "-CONT");
        assert_keepalive_timeout(&e, elapsed);
    });
    drop(serve);
}

#[test]
fn tokio_client_detects_a_frozen_server() {
    let keys = Keys::new();
    let serve = start_serve(&keys, &[HostKey::Ed25519], &[]).unwrap();
    let (addr, pid, config) = (
        format!("127.0.0.1:{}", serve.port()),
        serve.pid(),
        config(&keys),
    );
    with_timeout(Duration::from_secs(60), "tokio keepalive", move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let session = seashell_tokio::Client::connect(&addr, config)
                .await
                .unwrap();
            assert_eq!(session.exec("echo alive").await.unwrap().stdout, b"alive\n");
            signal(pid, "-STOP");
            let start = Instant::now();
            let e = session.exec("echo never").await.unwrap_err();
            let elapsed = start.elapsed();
            signal(pid, "-CONT");
            assert_keepalive_timeout(&e, elapsed);
        });
    });
    drop(serve);
}
