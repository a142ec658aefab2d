//! Forwarding with the `seashell` command against a private OpenSSH sshd: `-L` and `-R`
//! each carry 256 MiB byte-exact to a local TCP service (digest checked at both ends), `-R 0`
//! reports the port sshd bound, `-D` serves `curl --socks5-hostname`, `-W` relays stdin and
//! stdout (also as OpenSSH's `ProxyCommand`), Unix-domain sockets both ways, `-g`,
//! `ExitOnForwardFailure`, `-f`, and keepalive against a frozen server.

use seashell_conformance::process::text;
use seashell_conformance::{KeyKind, Sshd, SshdOptions, seashell_bin, start_sshd, with_timeout};
use seashell_testkit::tcp_service::{Behaviour, TcpService, check_sink, check_source};
use seashell_testkit::{exchange_unix, shared_socket_dir, unix_echo};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A hung client fails its test after this long.
const LIMIT: Duration = Duration::from_secs(240);
/// The bulk transfer through each of `-L` and `-R`.
const BULK: u64 = 256 << 20;

/// `seashell` logging in to `sshd` with its ed25519 key, strict known_hosts, batch mode.
fn seashell(sshd: &Sshd, home: &Path) -> Command {
    seashell_port(sshd, home, sshd.port(), &sshd.known_hosts_file())
}

/// [`seashell`] connecting to `port` (a relay in front of `sshd`, or nothing) and checking
/// the host key against `known`.
fn seashell_port(sshd: &Sshd, home: &Path, port: u16, known: &Path) -> Command {
    let mut cmd = Command::new(seashell_bin());
    cmd.env("HOME", home)
        .env_remove("SSH_ASKPASS")
        .env_remove("DISPLAY")
        .arg("-p")
        .arg(port.to_string())
        .arg("-i")
        .arg(sshd.user_key(KeyKind::Ed25519))
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .stdin(Stdio::null());
    cmd
}

fn destination(sshd: &Sshd) -> String {
    format!("{}@127.0.0.1", sshd.login_user())
}

/// Runs to the end with a time limit, capturing stdout and stderr.
fn finish(cmd: &mut Command, what: &str) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning seashell");
    with_timeout(LIMIT, what, move || {
        child.wait_with_output().expect("waiting for seashell")
    })
}

/// A `seashell` running in the background (`-N`), killed (by its own pid) when dropped; its
/// stderr lines arrive on `lines`.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning seashell");
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle` and returns it.
    fn line_with(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return l,
                Ok(l) => self.seen.push(l),
                Err(_) => break,
            }
        }
        panic!("no stderr line with {needle:?}; saw {:?}", self.seen);
    }

    /// The exit status, waiting at most `limit`.
    fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until something accepts connections on `127.0.0.1:port`.
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until something accepts connections on the Unix socket `path`.
fn wait_listening_unix(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while UnixStream::connect(path).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The port in `Allocated port N for remote forward to ...`.
fn allocated_port(line: &str) -> u16 {
    line.strip_prefix("Allocated port ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not an allocation line: {line:?}"))
}

#[test]
fn local_and_remote_forwards_carry_256_mib_byte_exact() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let sink = TcpService::start(Behaviour::Sink).expect("sink");
    let source = TcpService::start(Behaviour::Source { seed: 5, len: BULK }).expect("source");
    let local = free_port();
    let mut tunnel = Running::start(seashell(&sshd, home.path()).args([
        "-N",
        "-L",
        &format!("127.0.0.1:{local}:127.0.0.1:{}", sink.port()),
        "-R",
        &format!("0:127.0.0.1:{}", source.port()),
        &destination(&sshd),
    ]));
    let line = tunnel.line_with("Allocated port");
    assert_eq!(
        line,
        format!(
            "Allocated port {} for remote forward to 127.0.0.1:{}",
            allocated_port(&line),
            source.port()
        )
    );
    let remote = allocated_port(&line);
    wait_listening(local);
    with_timeout(LIMIT, "256 MiB through -L and -R", move || {
        let started = Instant::now();
        assert_eq!(
            check_sink(&format!("127.0.0.1:{local}"), 11, BULK),
            Ok(BULK)
        );
        let l = started.elapsed();
        assert_eq!(
            check_source(&format!("127.0.0.1:{remote}"), 5, BULK),
            Ok(BULK)
        );
        eprintln!(
            "256 MiB: -L {:.2} s, -R {:.2} s",
            l.as_secs_f64(),
            (started.elapsed() - l).as_secs_f64()
        );
    });
    assert_eq!(tunnel.wait(Duration::ZERO), None, "-N keeps running");
}

#[test]
fn dynamic_forward_serves_curl_socks5_hostname() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let http = TcpService::start(Behaviour::Http("through seashell -D")).expect("http");
    let socks = free_port();
    let _tunnel = Running::start(seashell(&sshd, home.path()).args([
        "-N",
        "-D",
        &socks.to_string(),
        &destination(&sshd),
    ]));
    wait_listening(socks);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--socks5-hostname"])
        .arg(format!("127.0.0.1:{socks}"))
        .arg(format!("http://localhost:{}/", http.port()))
        .output();
    match out {
        Ok(o) => assert_eq!(
            text(&o.stdout),
            "through seashell -D",
            "{}",
            text(&o.stderr)
        ),
        Err(e) => eprintln!("skipped: curl not runnable ({e})"),
    }
}

#[test]
fn stdio_forward_relays_and_serves_as_openssh_proxy_command() {
    let Some(hop) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let Some(target) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let echo = TcpService::start(Behaviour::Echo).expect("echo");
    // Piped through: stdin's end reaches the service, its reply and end come back.
    let mut cmd = seashell(&hop, home.path());
    cmd.args([
        "-W",
        &format!("127.0.0.1:{}", echo.port()),
        &destination(&hop),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning seashell -W");
    let mut stdin = child.stdin.take().expect("stdin");
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let sent = payload.clone();
    let writer = std::thread::spawn(move || {
        stdin.write_all(&sent).expect("writing to -W");
    });
    let o = with_timeout(LIMIT, "-W echo", move || {
        child.wait_with_output().expect("wait")
    });
    writer.join().expect("writer");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout == payload, "the echo came back different");

    // A target that refuses: ssh's messages, status 255.
    let o = finish(
        seashell(&hop, home.path()).args(["-W", "127.0.0.1:9", &destination(&hop)]),
        "-W refused",
    );
    assert_eq!(o.status.code(), Some(255));
    assert_eq!(
        text(&o.stderr),
        "channel 0: open failed: connect failed: Connection refused\nstdio forwarding failed\n"
    );

    // OpenSSH's ssh reaching `target` through `seashell -W` on `hop`.
    let Ok(ssh) = seashell_testkit::ssh_client() else {
        eprintln!("skipped: no OpenSSH ssh client");
        return;
    };
    let proxy = format!(
        "{} -p {} -i {} -o UserKnownHostsFile={} -o BatchMode=yes -W %h:%p {}",
        seashell_bin().display(),
        hop.port(),
        hop.user_key(KeyKind::Ed25519).display(),
        hop.known_hosts_file().display(),
        destination(&hop)
    );
    let o = finish(
        Command::new(ssh)
            .env("HOME", home.path())
            .args(["-F", "/dev/null", "-p", &target.port().to_string(), "-i"])
            .arg(target.user_key(KeyKind::Ed25519))
            .arg("-o")
            .arg(format!("ProxyCommand={proxy}"))
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                target.known_hosts_file().display()
            ))
            .args([
                "-o",
                "BatchMode=yes",
                &destination(&target),
                "echo via-seashell",
            ])
            .stdin(Stdio::null()),
        "ssh with seashell -W as ProxyCommand",
    );
    assert_eq!(text(&o.stdout), "via-seashell\n", "{}", text(&o.stderr));
    assert_eq!(o.status.code(), Some(0));
}

/// Sends `msg` to a local TCP port, half-closes, and returns what comes back.
fn exchange_tcp(port: u16, msg: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connecting");
    s.write_all(msg).expect("writing");
    s.shutdown(Shutdown::Write).expect("half-closing");
    let mut back = Vec::new();
    s.read_to_end(&mut back).expect("reading");
    back
}

#[test]
fn unix_domain_sockets_both_ways() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    // sshd's session runs as the login user, who may not be us: it must reach the sockets.
    let dir = shared_socket_dir().expect("socket dir");
    let echo_sock = dir.path().join("echo.sock");
    unix_echo(&echo_sock).expect("unix echo");
    let tcp_echo = TcpService::start(Behaviour::Echo).expect("echo");
    let local_sock = dir.path().join("local.sock");
    let remote_sock = dir.path().join("remote.sock");
    let tcp_to_unix = free_port();
    // A stale file where the local socket goes: StreamLocalBindUnlink removes it.
    std::fs::write(&local_sock, b"stale").expect("a stale file");
    let mut tunnel = Running::start(seashell(&sshd, home.path()).args([
        "-N",
        "-o",
        "ExitOnForwardFailure=yes",
        "-o",
        "StreamLocalBindUnlink=yes",
        // Unix socket here, Unix socket there.
        "-L",
        &format!("{}:{}", local_sock.display(), echo_sock.display()),
        // TCP here, Unix socket there.
        "-L",
        &format!("127.0.0.1:{tcp_to_unix}:{}", echo_sock.display()),
        // sshd listens on a Unix socket; we connect to TCP.
        "-R",
        &format!("{}:127.0.0.1:{}", remote_sock.display(), tcp_echo.port()),
        &destination(&sshd),
    ]));
    wait_listening_unix(&local_sock);
    wait_listening(tcp_to_unix);
    wait_listening_unix(&remote_sock);
    assert_eq!(
        exchange_unix(&local_sock, b"unix to unix").expect("unix to unix"),
        b"unix to unix"
    );
    assert_eq!(exchange_tcp(tcp_to_unix, b"tcp to unix"), b"tcp to unix");
    assert_eq!(
        exchange_unix(&remote_sock, b"remote unix to tcp").expect("remote unix"),
        b"remote unix to tcp"
    );
    assert_eq!(tunnel.wait(Duration::ZERO), None, "still forwarding");
}

#[test]
fn exit_on_forward_failure_and_gateway_ports() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port to occupy");
    let port = taken.local_addr().expect("addr").port();
    let local = format!("127.0.0.1:{port}:127.0.0.1:9");
    let dest = destination(&sshd);
    let o = finish(
        seashell(&sshd, home.path()).args([
            "-o",
            "ExitOnForwardFailure=yes",
            "-L",
            &local,
            &dest,
            "echo ran",
        ]),
        "-L on a taken port, ExitOnForwardFailure",
    );
    assert_eq!(o.status.code(), Some(255));
    assert_eq!(text(&o.stdout), "");
    assert_eq!(
        text(&o.stderr),
        format!(
            "bind [127.0.0.1]:{port}: Address already in use\ncannot listen to port: {port}\n\
             Could not request local forwarding.\n"
        )
    );
    // Without it: the same messages, and the command runs.
    let o = finish(
        seashell(&sshd, home.path()).args(["-L", &local, &dest, "echo ran"]),
        "-L on a taken port",
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o.stdout), "ran\n");
    assert!(text(&o.stderr).ends_with("Could not request local forwarding.\n"));
    // The server cannot listen there either.
    let remote = format!("127.0.0.1:{port}:127.0.0.1:9");
    let o = finish(
        seashell(&sshd, home.path()).args([
            "-o",
            "ExitOnForwardFailure=yes",
            "-R",
            &remote,
            &dest,
            "echo ran",
        ]),
        "-R on a taken port, ExitOnForwardFailure",
    );
    assert_eq!(o.status.code(), Some(255));
    assert_eq!(
        text(&o.stderr),
        format!("Error: remote port forwarding failed for listen port {port}\n")
    );
    let o = finish(
        seashell(&sshd, home.path()).args(["-R", &remote, &dest, "echo ran"]),
        "-R on a taken port",
    );
    assert_eq!(
        (o.status.code(), text(&o.stdout)),
        (Some(0), "ran\n".into())
    );
    assert_eq!(
        text(&o.stderr),
        format!("Warning: remote port forwarding failed for listen port {port}\n")
    );
    // ClearAllForwardings: no forward, so nothing fails.
    let o = finish(
        seashell(&sshd, home.path()).args([
            "-o",
            "ClearAllForwardings=yes",
            "-o",
            "ExitOnForwardFailure=yes",
            "-L",
            &local,
            &dest,
            "echo ran",
        ]),
        "ClearAllForwardings",
    );
    assert_eq!(
        (o.status.code(), text(&o.stdout), text(&o.stderr)),
        (Some(0), "ran\n".into(), String::new())
    );
    drop(taken);

    // Loopback by default; every address with -g.
    for (flag, want) in [(None, "loopback"), (Some("-g"), "every address")] {
        let p = free_port();
        let mut cmd = seashell(&sshd, home.path());
        cmd.args(flag)
            .args(["-N", "-L", &format!("{p}:127.0.0.1:9"), &dest]);
        let _tunnel = Running::start(&mut cmd);
        wait_listening(p);
        let bound = listening_addresses(p);
        let expect: &[&str] = if flag.is_some() {
            &["::"]
        } else {
            &["127.0.0.1", "::1"]
        };
        assert_eq!(bound, expect, "-L {p} should listen on {want}");
    }
}

/// The local addresses listening on TCP `port`, from `/proc/net/tcp` and `tcp6`.
fn listening_addresses(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(table) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (f.get(1), f.get(3)) else {
                continue;
            };
            let Some((addr, p)) = local.split_once(':') else {
                continue;
            };
            if *state != "0A" || u16::from_str_radix(p, 16) != Ok(port) {
                continue;
            }
            found.push(proc_address(addr, v6));
        }
    }
    found.sort();
    found
}

/// An address as `/proc/net/tcp*` writes it (32-bit words in host order), as text.
fn proc_address(hex: &str, v6: bool) -> String {
    let words: Vec<u32> = (0..hex.len() / 8)
        .filter_map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok())
        .map(u32::from_be)
        .collect();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    if v6 {
        let b: [u8; 16] = bytes.try_into().unwrap_or([0; 16]);
        std::net::Ipv6Addr::from(b).to_string()
    } else {
        let b: [u8; 4] = bytes.try_into().unwrap_or([0; 4]);
        std::net::Ipv4Addr::from(b).to_string()
    }
}

#[test]
fn fork_after_authentication_returns_and_keeps_forwarding() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let sink = TcpService::start(Behaviour::Sink).expect("sink");
    let p = free_port();
    let out = home.path().join("background.out");
    let file = std::fs::File::create(&out).expect("output file");
    let started = Instant::now();
    let status = seashell(&sshd, home.path())
        .args(["-f", "-L", &format!("{p}:127.0.0.1:{}", sink.port())])
        .args([&destination(&sshd), "sleep 3; echo background done"])
        .stdout(file.try_clone().expect("clone"))
        .stderr(file)
        .status()
        .expect("running seashell -f");
    assert_eq!(status.code(), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "-f returned only at the end"
    );
    // The background process forwards, then ends with its command.
    assert_eq!(
        check_sink(&format!("127.0.0.1:{p}"), 3, 1 << 20),
        Ok(1 << 20)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&out).unwrap_or_default() != "background done\n" {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            std::fs::read_to_string(&out)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A failure before authentication is reported in the foreground.
    let o = finish(
        seashell_port(&sshd, home.path(), 1, &sshd.known_hosts_file()).args([
            "-f",
            "127.0.0.1",
            "true",
        ]),
        "-f to a closed port",
    );
    assert_eq!(o.status.code(), Some(255));
    assert!(
        text(&o.stderr).contains("Connection refused"),
        "{}",
        text(&o.stderr)
    );
    let o = finish(
        seashell(&sshd, home.path()).args(["-f", "127.0.0.1"]),
        "-f, no command",
    );
    assert_eq!(
        (o.status.code(), text(&o.stderr)),
        (
            Some(255),
            "seashell: Cannot fork into background without a command to execute.\n".into()
        )
    );
}

/// A TCP relay to `to` that stops moving bytes (both ways, sockets left open) once
/// `frozen` is set: a server that hangs without closing anything.
fn freezable_proxy(to: String, frozen: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("proxy");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { continue };
            let Ok(server) = TcpStream::connect(&to) else {
                continue;
            };
            for (mut from, mut into) in [
                (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                ),
                (server, client),
            ] {
                let frozen = frozen.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || frozen.load(Ordering::SeqCst) {
                            break;
                        }
                        if into.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    // Hold both sockets open: frozen, not closed.
                    while frozen.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                });
            }
        }
    });
    port
}

#[test]
fn server_alive_interval_detects_a_frozen_server() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let frozen = Arc::new(AtomicBool::new(false));
    let port = freezable_proxy(sshd.addr(), frozen.clone());
    // sshd's host keys under the relay's port.
    let known = home.path().join("known_hosts.relay");
    let lines: Vec<String> = KeyKind::ALL
        .iter()
        .map(|&k| format!("[127.0.0.1]:{port} {}\n", sshd.host_public_key(k)))
        .collect();
    std::fs::write(&known, lines.concat()).expect("writing known_hosts");
    let mut cmd = seashell_port(&sshd, home.path(), port, &known);
    cmd.args([
        "-N",
        "-o",
        "ServerAliveInterval=1",
        "-o",
        "ServerAliveCountMax=2",
    ]);
    cmd.arg(destination(&sshd));
    let mut running = Running::start(&mut cmd);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        running.wait(Duration::ZERO),
        None,
        "alive while the server answers"
    );
    frozen.store(true, Ordering::SeqCst);
    let t = Instant::now();
    let code = running.wait(Duration::from_secs(15));
    assert_eq!(code, Some(255), "the frozen server was not detected");
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "took {:?}",
        t.elapsed()
    );
    let line = running.line_with("Timeout");
    assert_eq!(line, "Timeout, server 127.0.0.1 not responding.");
    frozen.store(false, Ordering::SeqCst);
}
