//! Admission control and the PROXY protocol in `seashell serve` (the real binary), with
//! other loopback addresses (127.0.0.2, 127.0.0.3) standing for other client machines:
//!
//! - 600 idle unauthenticated connections from one source do not lock out a client from
//!   another, with `PerSourceMaxStartups` set and a descriptor limit below 600;
//! - running out of descriptors (`EMFILE` on accept) is survived;
//! - `PerSourcePenalties`: a source that fails authentication is refused for the penalty
//!   time, another is not;
//! - HAProxy with `send-proxy-v2` in front of serve: `from=` and the log see the client's
//!   address, not HAProxy's;
//! - a PROXY header where none is expected, a bad one, or none where one is expected ends
//!   the connection without effect.

mod serve_common;

use seashell_blocking::proto::PrivateKey;
use seashell_blocking::{ClientConfig, HostKeyPolicy};
use seashell_conformance::attack::connect_from;
use seashell_conformance::in_ci;
use seashell_conformance::process::{current_user, text};
use seashell_conformance::serve::Serve;
use seashell_conformance::with_timeout;
use serve_common::openssh::{OpenSsh, free_port};
use serve_common::{HostKey, Keys, start_serve};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(120);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn serve_addr(serve: &Serve) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], serve.port()))
}

/// What the server sends on `sock` before it closes it (or 2 s pass).
fn read_until_closed(sock: &mut TcpStream) -> (Vec<u8>, bool) {
    read_until_closed_within(sock, Duration::from_secs(2))
}

/// What the server sends on `sock` before it closes it (or `wait` passes).
fn read_until_closed_within(sock: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    sock.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

/// Logs in to `addr` from `source` with our client and `key` (`None`: the user's key);
/// whether it got in.
fn login_from(source: &str, addr: SocketAddr, keys: &Keys, key: Option<PrivateKey>) -> bool {
    let Ok(sock) = connect_from(ip(source), addr) else {
        return false;
    };
    let config = ClientConfig::new(current_user()).host_key_policy(HostKeyPolicy::Fingerprint(
        keys.host_fingerprint(HostKey::Ed25519),
    ));
    let config = match key {
        Some(k) => config.key(k),
        None => config.key_file(keys.user_key()).expect("the user key"),
    };
    seashell_blocking::Client::handshake(sock, "127.0.0.1", addr.port(), config).is_ok()
}

/// `seashell serve` with `extra` options under a descriptor limit of `nofile`, and `ssh`
/// trusting it; `None` without `ssh`.
fn limited_serve(keys: &Keys, extra: &[&str], nofile: u64) -> Option<(Serve, OpenSsh)> {
    let ssh = OpenSsh::new(keys)?;
    let paths = [keys.host_key(HostKey::Ed25519)];
    let authorized = keys.path().join("authorized_keys");
    let serve = Serve::start_with_nofile(&paths, &authorized, extra, Some(nofile))
        .expect("serve with a descriptor limit");
    ssh.trust(keys, &serve);
    Some((serve, ssh))
}

fn wrong_key() -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[42; 32]).unwrap()
}

#[test]
fn idle_connections_from_one_source_do_not_lock_out_another() {
    let keys = Keys::new();
    let extra = ["-o", "PerSourceMaxStartups=5", "-o", "LoginGraceTime=60"];
    let Some((serve, ssh)) = limited_serve(&keys, &extra, 256) else {
        return;
    };
    let addr = serve_addr(&serve);
    with_timeout(LIMIT, "600 idle connections", move || {
        let mut idle: Vec<TcpStream> = (0..600)
            .map(|i| connect_from(ip("127.0.0.2"), addr).unwrap_or_else(|e| panic!("#{i}: {e}")))
            .collect();
        // The legitimate client gets in.
        let ran = ssh.run(&serve, &[], &["echo", "let-in"]);
        assert_eq!(
            text(&ran.stdout).trim(),
            "let-in",
            "{}\n{}",
            text(&ran.stderr),
            serve.log()
        );
        // All but 5 of the idle ones were refused, with sshd's words.
        let mut refused = 0;
        for s in &mut idle {
            // A refused connection is closed at once; an admitted one stays open.
            let (got, closed) = read_until_closed_within(s, Duration::from_millis(300));
            if closed && got.starts_with(b"Not allowed at this time") {
                refused += 1;
            }
        }
        assert!(refused >= 595, "refused {refused} of 600");
        assert!(ssh.run(&serve, &[], &["true"]).status.success());
    });
}

#[test]
fn serve_survives_running_out_of_descriptors() {
    let keys = Keys::new();
    let extra = [
        "-o",
        "MaxStartups=1000",
        "-o",
        "PerSourcePenalties=no",
        "-o",
        "LoginGraceTime=60",
    ];
    // 48 descriptors: a few dozen connections exhaust them, and accept() fails with EMFILE.
    let Some((serve, ssh)) = limited_serve(&keys, &extra, 48) else {
        return;
    };
    let addr = serve_addr(&serve);
    with_timeout(LIMIT, "out of descriptors", move || {
        let idle: Vec<TcpStream> = (0..80)
            .map(|_| TcpStream::connect(addr).expect("the backlog takes it"))
            .collect();
        // Some were served (each took a descriptor), the rest wait in the backlog while
        // accept() fails; the server pauses and retries instead of ending.
        std::thread::sleep(Duration::from_millis(500));
        drop(idle);
        let ran = ssh.run(&serve, &[], &["echo", "still-here"]);
        assert_eq!(
            text(&ran.stdout).trim(),
            "still-here",
            "{}\n{}",
            text(&ran.stderr),
            serve.log()
        );
    });
}

#[test]
fn penalties_refuse_a_source_that_fails_authentication_not_another() {
    let keys = Keys::new();
    let serve = start_serve(
        &keys,
        &[HostKey::Ed25519],
        &["-o", "PerSourcePenalties=authfail:10s min:15s max:1m"],
    )
    .expect("serve");
    let addr = serve_addr(&serve);
    with_timeout(LIMIT, "penalties", move || {
        // Two failed logins from 127.0.0.2: 20 s of penalty, over the 15 s minimum.
        assert!(!login_from("127.0.0.2", addr, &keys, Some(wrong_key())));
        assert!(!login_from("127.0.0.2", addr, &keys, Some(wrong_key())));
        // Now the source is refused before any SSH, even with the right key...
        let t0 = Instant::now();
        let mut s = loop {
            let mut s = connect_from(ip("127.0.0.2"), addr).unwrap();
            let (got, _) = read_until_closed(&mut s);
            if got.starts_with(b"Not allowed at this time") {
                break s;
            }
            // The second connection's end may still be on its way to the gate.
            assert!(t0.elapsed() < Duration::from_secs(5), "never refused");
            std::thread::sleep(Duration::from_millis(100));
        };
        let _ = s.write_all(b"SSH-2.0-late\r\n");
        // ...while another source logs in.
        assert!(
            login_from("127.0.0.3", addr, &keys, None),
            "{}",
            serve.log()
        );
    });
}

/// HAProxy in TCP mode on `port`, sending PROXY v2 to serve at `backend`.
struct HaProxy {
    child: Child,
    _dir: tempfile::TempDir,
}

impl HaProxy {
    fn start(port: u16, backend: u16) -> Option<HaProxy> {
        let Some(haproxy) = seashell_testkit::find_program("haproxy") else {
            assert!(!in_ci(), "haproxy is not installed (.ci/run installs it)");
            eprintln!("skipped: haproxy is not installed");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let cfg: PathBuf = dir.path().join("haproxy.cfg");
        std::fs::write(
            &cfg,
            format!(
                "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 5s\n  \
                 timeout client 60s\n  timeout server 60s\nfrontend ssh\n  bind 127.0.0.1:{port}\n  \
                 default_backend serve\nbackend serve\n  server s1 127.0.0.1:{backend} send-proxy-v2\n"
            ),
        )
        .unwrap();
        let child = Command::new(haproxy)
            .arg("-f")
            .arg(&cfg)
            .arg("-db")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting haproxy");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "haproxy did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(HaProxy { child, _dir: dir })
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn haproxy_send_proxy_v2_gives_serve_the_real_client() {
    let keys = Keys::new();
    // The key is good from 127.0.0.2 only: HAProxy's own address (127.0.0.1) is not.
    let authorized = keys.path().join("authorized_from");
    std::fs::write(
        &authorized,
        format!("from=\"127.0.0.2\" {}\n", keys.user_public()),
    )
    .unwrap();
    let paths = [keys.host_key(HostKey::Ed25519)];
    let serve = Serve::start(&paths, &authorized, &["-o", "ProxyProtocol=yes"]).expect("serve");
    let port = free_port();
    let Some(_haproxy) = HaProxy::start(port, serve.port()) else {
        return;
    };
    let front = SocketAddr::from(([127, 0, 0, 1], port));
    with_timeout(LIMIT, "haproxy", move || {
        assert!(
            login_from("127.0.0.2", front, &keys, None),
            "{}",
            serve.log()
        );
        assert!(
            !login_from("127.0.0.3", front, &keys, None),
            "from= let 127.0.0.3 in"
        );
        let log = serve.log();
        assert!(log.contains("127.0.0.2:"), "{log}");
        assert!(log.contains("127.0.0.3:"), "{log}");
        // The tracing spans (serve -v) carry the real client too, with the outcome.
        let traced = |needle: &str| {
            log.lines()
                .any(|l| l.contains("peer=127.0.0.2") && l.contains(needle))
        };
        assert!(traced("authenticated"), "{log}");
        assert!(traced("connection ended"), "{log}");
        println!("{log}");
        // Straight to serve, without HAProxy: no header, no connection.
        let mut direct = connect_from(ip("127.0.0.2"), serve_addr(&serve)).unwrap();
        direct.write_all(b"SSH-2.0-direct\r\n").unwrap();
        let (got, closed) = read_until_closed(&mut direct);
        assert!(closed && got.is_empty(), "{got:?}");
    });
}

#[test]
fn proxy_headers_are_refused_where_not_expected_and_when_malformed() {
    let keys = Keys::new();
    let plain = start_serve(&keys, &[HostKey::Ed25519], &[]).expect("serve");
    let proxied =
        start_serve(&keys, &[HostKey::Ed25519], &["-o", "ProxyProtocol=yes"]).expect("serve");
    with_timeout(LIMIT, "proxy headers", move || {
        // A header to a listener that does not expect one is a bad identification.
        let mut s = TcpStream::connect(serve_addr(&plain)).unwrap();
        s.write_all(b"PROXY TCP4 10.9.8.7 127.0.0.1 4000 22\r\nSSH-2.0-x\r\n")
            .unwrap();
        let (_, closed) = read_until_closed(&mut s);
        assert!(closed);
        assert!(!plain.log().contains("10.9.8.7"), "{}", plain.log());
        // Malformed headers, and SSH without a header, where one is expected.
        for bad in [
            &b"PROXY TCP4 999.1.1.1 127.0.0.1 4000 22\r\n"[..],
            b"PROXY TCP4 10.9.8.7 127.0.0.1 4000\r\n",
            b"\r\n\r\n\0\r\nQUIT\n\x2f\x11\x00\x0c",
            b"SSH-2.0-OpenSSH_10.0\r\n",
        ] {
            let mut s = TcpStream::connect(serve_addr(&proxied)).unwrap();
            let _ = s.write_all(bad);
            let _ = s.write_all(&[0u8; 64]);
            let (got, closed) = read_until_closed(&mut s);
            assert!(closed && got.is_empty(), "{bad:?}: {got:?}");
        }
        assert!(!proxied.log().contains("10.9.8.7"), "{}", proxied.log());
    });
}
