//! OpenSSH's `ssh` forwarding through `seashell serve` (the real binary): `-L` and `-R`
//! each carry a large stream byte-exact to a local TCP service (the SHA-256 of what was sent
//! checked where it arrives), `-R 0:...` prints the port serve bound, `-D` serves
//! `curl --socks5-hostname`, `-J` jumps through one serve to another, `-W` relays stdio,
//! and Unix sockets are forwarded both ways (`-L path:path`, `-R path:path`, with sshd's
//! rules: the listening socket is the user's only, an existing path is not replaced).
//!
//! Refusals (sshd options and authorized_keys options) and keepalive are in
//! `serve_forwarding_policy.rs`.

mod serve_common;

use seashell_conformance::process::text;
use seashell_conformance::with_timeout;
use seashell_testkit::tcp_service::{digest_stream, pattern_digest, send_pattern};
use seashell_testkit::{Behaviour, TcpService, check_sink, check_source};
use serve_common::openssh::{OpenSsh, RemoteForward, free_port, wait_for_path, wait_for_port};
use serve_common::{HostKey, Keys, Serve, start_serve};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// A test fails after this long rather than hanging.
const LIMIT: Duration = Duration::from_secs(240);
/// The stream carried through each of `-L` and `-R`.
const BIG: u64 = 256 << 20;
/// The stream carried through `-W` and the Unix-socket forwards.
const SMALL: u64 = 16 << 20;

/// A serve with sshd's default forwarding and `ssh` trusting it; `None` without `ssh`.
fn setup() -> Option<(Keys, Serve, OpenSsh)> {
    let keys = Keys::new();
    let ssh = OpenSsh::new(&keys)?;
    let serve = start_serve(&keys, &[HostKey::Ed25519], &[]).expect("starting seashell serve");
    ssh.trust(&keys, &serve);
    Some((keys, serve, ssh))
}

/// MiB/s for `bytes` in `elapsed`.
fn rate(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / elapsed.as_secs_f64()
}

#[test]
fn local_forward_carries_a_stream_byte_exact() {
    let Some((_keys, serve, ssh)) = setup() else {
        return;
    };
    with_timeout(LIMIT, "ssh -L through serve", move || {
        let sink = TcpService::start(Behaviour::Sink).expect("sink");
        let local = free_port();
        let spec = format!("{local}:127.0.0.1:{}", sink.port());
        let tunnel = ssh.spawn(&serve, &["-N", "-L", &spec]);
        let addr = format!("127.0.0.1:{local}");
        wait_for_port(&addr, &tunnel);
        let start = Instant::now();
        assert_eq!(check_sink(&addr, 11, BIG), Ok(BIG), "{}", tunnel.stderr());
        let elapsed = start.elapsed();
        eprintln!(
            "ssh -L through serve: {} MiB byte-exact in {elapsed:.2?} ({:.0} MiB/s)",
            BIG >> 20,
            rate(BIG, elapsed)
        );
    });
}

#[test]
fn remote_forward_of_port_0_reports_the_port_and_carries_a_stream() {
    let Some((_keys, serve, ssh)) = setup() else {
        return;
    };
    with_timeout(LIMIT, "ssh -R 0 through serve", move || {
        let source = TcpService::start(Behaviour::Source { seed: 5, len: BIG }).expect("source");
        let target = format!("127.0.0.1:{}", source.port());
        let forward = ssh.remote_forward(&serve, "", 0, &target);
        let port = forward.port();
        let RemoteForward::Listening(tunnel, _) = &forward else {
            unreachable!("port() checked it")
        };
        // ssh's own message: "Allocated port N for remote forward to 127.0.0.1:P".
        let said = format!("Allocated port {port} for remote forward to {target}");
        assert!(tunnel.stderr().contains(&said), "{}", tunnel.stderr());
        let start = Instant::now();
        let got = check_source(&format!("127.0.0.1:{port}"), 5, BIG);
        assert_eq!(got, Ok(BIG), "{}", tunnel.stderr());
        let elapsed = start.elapsed();
        eprintln!(
            "ssh -R 0 through serve (port {port}): {} MiB byte-exact in {elapsed:.2?} ({:.0} MiB/s)",
            BIG >> 20,
            rate(BIG, elapsed)
        );
    });
}

#[test]
fn dynamic_forward_serves_curl_socks5_hostname() {
    let Some((_keys, serve, ssh)) = setup() else {
        return;
    };
    let Some(curl) = seashell_testkit::require_peer(seashell_conformance::process::program(
        "curl",
        "apt-get install curl",
    )) else {
        return;
    };
    with_timeout(LIMIT, "ssh -D through serve", move || {
        let web = TcpService::start(Behaviour::Http("through the socks proxy\n")).expect("web");
        let socks = free_port();
        let tunnel = ssh.spawn(&serve, &["-N", "-D", &format!("127.0.0.1:{socks}")]);
        wait_for_port(&format!("127.0.0.1:{socks}"), &tunnel);
        // The name is resolved by the server: --socks5-hostname sends "localhost" as is.
        let out = std::process::Command::new(curl)
            .args(["-sS", "--max-time", "20", "--socks5-hostname"])
            .arg(format!("127.0.0.1:{socks}"))
            .arg(format!("http://localhost:{}/", web.port()))
            .output()
            .expect("running curl");
        assert!(out.status.success(), "curl: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "through the socks proxy\n");
    });
}

#[test]
fn jump_through_serve_to_a_second_serve() {
    let Some((keys, first, ssh)) = setup() else {
        return;
    };
    let second = start_serve(&keys, &[HostKey::Ed25519], &[]).expect("second serve");
    ssh.trust(&keys, &second);
    with_timeout(LIMIT, "ssh -J through serve", move || {
        let jump = format!("127.0.0.1:{}", first.port());
        let ran = ssh.run(
            &second,
            &["-J", &jump],
            &["echo jumped; echo \"$SSH_CONNECTION\""],
        );
        let out = text(&ran.stdout);
        assert!(
            ran.status.success(),
            "ssh -J: {:?} {}",
            ran.status,
            text(&ran.stderr)
        );
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("jumped"));
        // The second server sees the first one's connection from loopback, to its port.
        let conn: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
        let second_port = second.port().to_string();
        assert_eq!(conn.first(), Some(&"127.0.0.1"), "{out}");
        assert_eq!(conn.get(3), Some(&second_port.as_str()), "{out}");
        assert!(first.log().contains("authenticated"), "{}", first.log());
        assert!(second.log().contains("authenticated"), "{}", second.log());
    });
}

#[test]
fn stdio_forward_relays_to_a_tcp_service() {
    let Some((_keys, serve, ssh)) = setup() else {
        return;
    };
    with_timeout(LIMIT, "ssh -W through serve", move || {
        let sink = TcpService::start(Behaviour::Sink).expect("sink");
        let target = format!("127.0.0.1:{}", sink.port());
        let got = ssh.stdio_forward(&serve, &target, 21, SMALL);
        let want = format!("{} {SMALL}\n", pattern_digest(21, SMALL));
        assert_eq!(got, Ok(want));
    });
}

/// A Unix-socket sink at `path`: each connection is read to its end and answered with
/// `"<hex sha256> <length>\n"` (what the TCP sink answers).
fn unix_sink(path: &Path) {
    let listener = UnixListener::bind(path).expect("binding the Unix sink");
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                if let Ok((digest, len)) = digest_stream(&mut conn) {
                    let _ = conn.write_all(format!("{digest} {len}\n").as_bytes());
                }
            });
        }
    });
}

/// Sends `len` pattern bytes into the Unix socket `path` and returns the sink's answer
/// next to the one expected.
fn through_unix(path: &Path, seed: u64, len: u64) -> (String, String) {
    let mut conn = UnixStream::connect(path).expect("connecting to the forwarded socket");
    let mut reader = conn.try_clone().expect("clone");
    let answer = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = reader.read_to_string(&mut text);
        text
    });
    send_pattern(&mut conn, seed, len).expect("sending through the socket");
    conn.shutdown(Shutdown::Write).expect("shutdown");
    let got = answer.join().unwrap_or_default();
    (got, format!("{} {len}\n", pattern_digest(seed, len)))
}

#[test]
fn streamlocal_forwards_both_ways() {
    let Some((keys, serve, ssh)) = setup() else {
        return;
    };
    with_timeout(LIMIT, "streamlocal through serve", move || {
        let dir = keys.path();
        let (target, local, remote) = (dir.join("b.sock"), dir.join("a.sock"), dir.join("c.sock"));
        unix_sink(&target);

        // -L path:path: ssh listens on a.sock, serve connects to b.sock.
        let spec = format!("{}:{}", local.display(), target.display());
        let l = ssh.spawn(&serve, &["-N", "-L", &spec]);
        wait_for_path(&local, &l);
        let (got, want) = through_unix(&local, 31, SMALL);
        assert_eq!(got, want, "-L {spec}: {}", l.stderr());
        drop(l);

        // -R path:path: serve listens on c.sock (the user's only), ssh connects to b.sock.
        let spec = format!("{}:{}", remote.display(), target.display());
        let r = ssh.spawn(&serve, &["-N", "-R", &spec]);
        wait_for_path(&remote, &r);
        let mode = std::fs::metadata(&remote)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
        let (got, want) = through_unix(&remote, 32, SMALL);
        assert_eq!(got, want, "-R {spec}: {}", r.stderr());

        // The path exists: a second listener there is refused (StreamLocalBindUnlink no).
        let again = ssh.run(&serve, &["-N", "-R", &spec], &[]);
        assert_eq!(again.status.code(), Some(255));
        let err = text(&again.stderr);
        assert!(
            err.contains("remote port forwarding failed for listen path"),
            "{err}"
        );
        // The first one still works, and its socket goes when its client does.
        let (got, want) = through_unix(&remote, 33, 1 << 20);
        assert_eq!(got, want);
        drop(r);
        let gone = serve_common::openssh::wait_until(Duration::from_secs(10), || !remote.exists());
        assert!(gone, "{} left behind", remote.display());
    });
}
