//! What `seashell serve` refuses to forward, driven by OpenSSH's `ssh`: the authorized_keys
//! options `permitopen`, `permitlisten`, `no-port-forwarding`, `restrict` and `from=`, and
//! the sshd options `AllowTcpForwarding`, `AllowStreamLocalForwarding`, `DisableForwarding`,
//! `PermitOpen`, `PermitListen` and `GatewayPorts`, each with sshd's matching rules; and
//! `ClientAliveInterval`/`ClientAliveCountMax` ending a frozen (SIGSTOPped) client with
//! sshd's log line.

mod serve_common;

use seashell_conformance::process::text;
use seashell_conformance::with_timeout;
use seashell_testkit::tcp_service::pattern_digest;
use seashell_testkit::{Behaviour, TcpService, check_sink};
use serve_common::openssh::{
    OpenSsh, RemoteForward, free_port, wait_for_log, wait_for_path, wait_for_port, wait_until,
};
use serve_common::{HostKey, Keys, Serve, start_serve};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A test fails after this long rather than hanging.
const LIMIT: Duration = Duration::from_secs(180);
/// What ssh prints for a channel the server refused by policy.
const PROHIBITED: &str = "administratively prohibited";
/// What ssh prints for a remote forward the server refused.
const RFWD_FAILED: &str = "remote port forwarding failed";

/// Keys and `ssh`; `None` without `ssh`.
fn setup() -> Option<(Keys, OpenSsh)> {
    let keys = Keys::new();
    let ssh = OpenSsh::new(&keys)?;
    Some((keys, ssh))
}

/// Starts serve with the user key authorized behind `options` (an authorized_keys options
/// field, or empty) and `extra` arguments; `ssh` trusts it.
fn serve(keys: &Keys, ssh: &OpenSsh, options: &str, extra: &[&str]) -> Serve {
    let line = match options {
        "" => keys.user_public(),
        o => format!("{o} {}", keys.user_public()),
    };
    std::fs::write(keys.path().join("authorized_keys"), line + "\n").expect("authorized_keys");
    let serve = start_serve(keys, &[HostKey::Ed25519], extra).expect("starting seashell serve");
    ssh.trust(keys, &serve);
    serve
}

/// `ssh -W target` with 64 KiB to a sink: `Ok` with the sink's answer checked, or the
/// stderr of the refusal.
fn stdio_to(ssh: &OpenSsh, serve: &Serve, target: &str) -> Result<(), String> {
    let got = ssh.stdio_forward(serve, target, 3, 64 << 10)?;
    assert_eq!(
        got,
        format!("{} {}\n", pattern_digest(3, 64 << 10), 64 << 10)
    );
    Ok(())
}

#[track_caller]
fn assert_prohibited(r: Result<(), String>, what: &str) {
    match r {
        Ok(()) => panic!("{what}: allowed"),
        Err(err) => assert!(err.contains(PROHIBITED), "{what}: {err}"),
    }
}

/// Whether a connection to `ip:port` is accepted.
fn reachable(ip: &str, port: u16) -> bool {
    TcpStream::connect((ip, port)).is_ok()
}

/// `ssh -N -L LISTEN:TARGET` (TCP ports or Unix paths) listens, and a connection through it
/// is refused by the server: ssh says "administratively prohibited".
fn assert_local_forward_refused(ssh: &OpenSsh, s: &Serve, listen: &str, target: &str) {
    let tunnel = ssh.spawn(s, &["-N", "-L", &format!("{listen}:{target}")]);
    match listen.parse::<u16>() {
        Ok(port) => {
            let addr = format!("127.0.0.1:{port}");
            wait_for_port(&addr, &tunnel);
            assert!(check_sink(&addr, 1, 1024).is_err(), "-L {listen}:{target}");
        }
        // wait_for_path's own probe connection is the one refused.
        Err(_) => wait_for_path(Path::new(listen), &tunnel),
    }
    let said = wait_until(Duration::from_secs(10), || {
        tunnel.stderr().contains(PROHIBITED)
    });
    assert!(said, "-L {listen}:{target}: {}", tunnel.stderr());
}

/// `ssh -N -R PATH:...` is refused: ssh gives up, and nothing is left at the path.
fn assert_unix_remote_forward_refused(ssh: &OpenSsh, s: &Serve, keys: &Keys) {
    let path = keys.path().join("r.sock");
    let target = keys.path().join("t.sock");
    let spec = format!("{}:{}", path.display(), target.display());
    let mut unix = ssh.spawn(s, &["-N", "-R", &spec]);
    assert!(
        unix.wait_exit(Duration::from_secs(20)).is_some(),
        "-R {spec}"
    );
    assert!(unix.stderr().contains(RFWD_FAILED), "{}", unix.stderr());
    assert!(!path.exists());
}

#[test]
fn permitopen_allows_only_its_targets() {
    let Some((keys, ssh)) = setup() else { return };
    with_timeout(LIMIT, "permitopen", move || {
        let sink = TcpService::start(Behaviour::Sink).expect("sink");
        let other = TcpService::start(Behaviour::Sink).expect("other sink");
        let options = format!("permitopen=\"127.0.0.1:{}\"", sink.port());
        let s = serve(&keys, &ssh, &options, &[]);
        let allowed = format!("127.0.0.1:{}", sink.port());
        assert_eq!(stdio_to(&ssh, &s, &allowed), Ok(()));
        let refused = format!("127.0.0.1:{}", other.port());
        assert_prohibited(stdio_to(&ssh, &s, &refused), "-W another port");
        // The host is compared as written: localhost is not 127.0.0.1.
        let by_name = format!("localhost:{}", sink.port());
        assert_prohibited(stdio_to(&ssh, &s, &by_name), "-W by another name");
        // -L to another target: ssh listens, the channel is refused when used.
        assert_local_forward_refused(&ssh, &s, &free_port().to_string(), &refused);
    });
}

#[test]
fn server_and_key_lists_must_both_allow() {
    let Some((keys, ssh)) = setup() else { return };
    with_timeout(LIMIT, "PermitOpen and permitopen", move || {
        let [a, b, c] = [(); 3].map(|()| TcpService::start(Behaviour::Sink).expect("sink"));
        let at = |t: &TcpService| format!("127.0.0.1:{}", t.port());
        let permit = format!("PermitOpen={} {}", at(&a), at(&b));
        let options = format!("permitopen=\"{}\",permitopen=\"{}\"", at(&b), at(&c));
        let s = serve(&keys, &ssh, &options, &["-o", &permit]);
        assert_prohibited(stdio_to(&ssh, &s, &at(&a)), "only the server allows it");
        assert_eq!(stdio_to(&ssh, &s, &at(&b)), Ok(()));
        assert_prohibited(stdio_to(&ssh, &s, &at(&c)), "only the key allows it");
    });
}

#[test]
fn no_port_forwarding_and_restrict_refuse_every_forward() {
    let Some((keys, ssh)) = setup() else { return };
    with_timeout(LIMIT, "no-port-forwarding", move || {
        let sink = TcpService::start(Behaviour::Sink).expect("sink");
        let target = format!("127.0.0.1:{}", sink.port());
        for options in ["no-port-forwarding", "restrict"] {
            let s = serve(&keys, &ssh, options, &[]);
            // Commands still run.
            let ran = ssh.run(&s, &[], &["echo still here"]);
            assert_eq!(text(&ran.stdout), "still here\n", "{options}");
            assert_prohibited(stdio_to(&ssh, &s, &target), options);
            assert_local_forward_refused(&ssh, &s, &free_port().to_string(), &target);
            let r = ssh.remote_forward(&s, "", 0, &target);
            assert!(r.refusal().contains(RFWD_FAILED), "{options}");
            assert_unix_remote_forward_refused(&ssh, &s, &keys);
        }
        // restrict,port-forwarding gives forwarding back.
        let s = serve(&keys, &ssh, "restrict,port-forwarding", &[]);
        assert_eq!(stdio_to(&ssh, &s, &target), Ok(()));
    });
}

#[test]
fn from_refuses_a_login_from_another_address() {
    let Some((keys, ssh)) = setup() else { return };
    with_timeout(LIMIT, "from=", move || {
        for (options, allowed) in [
            ("from=\"10.9.8.7\"", false),
            ("from=\"!127.0.0.1,*\"", false),
            ("from=\"127.0.0.*\"", true),
        ] {
            let s = serve(&keys, &ssh, options, &[]);
            let ran = ssh.run(&s, &[], &["echo in"]);
            if allowed {
                assert_eq!(
                    text(&ran.stdout),
                    "in\n",
                    "{options}: {}",
                    text(&ran.stderr)
                );
            } else {
                assert_eq!(ran.status.code(), Some(255), "{options}");
                let err = text(&ran.stderr);
                assert!(err.contains("Permission denied"), "{options}: {err}");
            }
        }
    });
}

#[test]
fn allow_tcp_forwarding_and_friends() {
    let Some((keys, ssh)) = setup() else { return };
    with_timeout(LIMIT, "AllowTcpForwarding", move || {
        let sink = TcpService::start(Behaviour::Sink).expect("sink");
        let target = format!("127.0.0.1:{}", sink.port());
        for (value, local, remote) in [
            ("no", false, false),
            ("local", true, false),
            ("remote", false, true),
        ] {
            let option = format!("AllowTcpForwarding={value}");
            let s = serve(&keys, &ssh, "", &["-o", &option]);
            match stdio_to(&ssh, &s, &target) {
                Ok(()) => assert!(local, "{option}: -W allowed"),
                Err(e) => assert!(!local && e.contains(PROHIBITED), "{option}: {e}"),
            }
            match ssh.remote_forward(&s, "", 0, &target) {
                RemoteForward::Listening(..) => assert!(remote, "{option}: -R allowed"),
                RemoteForward::Refused(e) => assert!(!remote && e.contains(RFWD_FAILED), "{e}"),
            }
        }
        let s = serve(&keys, &ssh, "", &["-o", "DisableForwarding=yes"]);
        assert_prohibited(stdio_to(&ssh, &s, &target), "DisableForwarding");

        // AllowStreamLocalForwarding=no: TCP goes on, Unix sockets do not.
        let s = serve(&keys, &ssh, "", &["-o", "AllowStreamLocalForwarding=no"]);
        assert_eq!(stdio_to(&ssh, &s, &target), Ok(()));
        assert_unix_remote_forward_refused(&ssh, &s, &keys);
        let local = keys.path().join("l.sock").display().to_string();
        let target = keys.path().join("t.sock").display().to_string();
        assert_local_forward_refused(&ssh, &s, &local, &target);
    });
}

#[test]
fn permit_listen_and_permitlisten() {
    let Some((keys, ssh)) = setup() else { return };
    with_timeout(LIMIT, "PermitListen", move || {
        let sink = TcpService::start(Behaviour::Sink).expect("sink");
        let target = format!("127.0.0.1:{}", sink.port());
        let (a, b) = (free_port(), free_port());
        let option = format!("PermitListen=localhost:{a}");
        let s = serve(&keys, &ssh, "", &["-o", &option]);
        let ok = ssh.remote_forward(&s, "localhost", a, &target);
        assert_eq!(ok.port(), a);
        assert_eq!(
            check_sink(&format!("127.0.0.1:{a}"), 4, 1 << 20),
            Ok(1 << 20)
        );
        drop(ok);
        // Its listener goes with its connection.
        assert!(wait_until(Duration::from_secs(10), || !reachable(
            "127.0.0.1",
            a
        )));
        let other = ssh.remote_forward(&s, "localhost", b, &target);
        assert!(other.refusal().contains(RFWD_FAILED));
        // The address is matched as named: 127.0.0.1 is not "localhost".
        let numeric = ssh.remote_forward(&s, "127.0.0.1", a, &target);
        assert!(numeric.refusal().contains(RFWD_FAILED));
        drop(s);

        // A bare port in permitlisten: any listen address, that port only.
        let s = serve(&keys, &ssh, &format!("permitlisten=\"{b}\""), &[]);
        assert_eq!(ssh.remote_forward(&s, "", b, &target).port(), b);
        let refused = ssh.remote_forward(&s, "", a, &target);
        assert!(refused.refusal().contains(RFWD_FAILED));
    });
}

#[test]
fn gateway_ports_decide_the_listen_address() {
    let Some((keys, ssh)) = setup() else { return };
    if !reachable_any_loopback() {
        eprintln!("skipped: 127.0.0.2 does not reach wildcard listeners here");
        return;
    }
    with_timeout(LIMIT, "GatewayPorts", move || {
        let sink = TcpService::start(Behaviour::Sink).expect("sink");
        let target = format!("127.0.0.1:{}", sink.port());
        // (option, bind asked ("" sends "localhost", "*" sends ""), reachable beyond
        // 127.0.0.1)
        for (option, bind, wide) in [
            ("GatewayPorts=no", "*", false),
            ("GatewayPorts=no", "0.0.0.0", false),
            ("GatewayPorts=yes", "", true),
            ("GatewayPorts=yes", "127.0.0.1", true),
            ("GatewayPorts=clientspecified", "", false),
            ("GatewayPorts=clientspecified", "127.0.0.1", false),
            ("GatewayPorts=clientspecified", "*", true),
        ] {
            let s = serve(&keys, &ssh, "", &["-o", option]);
            let r = ssh.remote_forward(&s, bind, 0, &target);
            let port = r.port();
            assert!(reachable("127.0.0.1", port), "{option} -R {bind}:0");
            assert_eq!(reachable("127.0.0.2", port), wide, "{option} -R {bind}:0");
        }
    });
}

/// Whether a wildcard listener is reachable through 127.0.0.2 (Linux routes all of
/// 127/8 to loopback).
fn reachable_any_loopback() -> bool {
    let Ok(l) = std::net::TcpListener::bind("0.0.0.0:0") else {
        return false;
    };
    l.local_addr()
        .is_ok_and(|a| reachable("127.0.0.2", a.port()))
}

#[test]
fn client_alive_ends_a_frozen_client() {
    let Some((keys, ssh)) = setup() else { return };
    let options = ["-o", "ClientAliveInterval=1", "-o", "ClientAliveCountMax=2"];
    let s = serve(&keys, &ssh, "", &options);
    with_timeout(LIMIT, "ClientAliveInterval", move || {
        let mut client = ssh.spawn(&s, &["-N"]);
        wait_for_log(&s, "authenticated");
        // Answered probes keep it alive.
        std::thread::sleep(Duration::from_millis(2500));
        assert!(client.exited().is_none(), "{}", client.stderr());
        assert!(!s.log().contains("Timeout"), "{}", s.log());
        let signal = |sig: &str| {
            let ok = Command::new("kill")
                .args([sig, &client.pid().to_string()])
                .status()
                .is_ok_and(|st| st.success());
            assert!(ok, "kill {sig}");
        };
        signal("-STOP");
        let frozen = Instant::now();
        let log = wait_for_log(&s, "Timeout, client not responding from user ");
        let elapsed = frozen.elapsed();
        signal("-CONT");
        eprintln!("a frozen ssh was dropped {elapsed:.2?} after SIGSTOP (interval 1 s, count 2)");
        // interval × (count + 1) after the last packet heard, which came at most one
        // interval before the stop; 2 s of slack for a loaded machine.
        assert!(elapsed <= Duration::from_secs(3 + 2), "{elapsed:?}");
        assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
        assert!(log.contains("127.0.0.1 port "), "{log}");
        assert_eq!(
            client
                .wait_exit(Duration::from_secs(20))
                .and_then(|st| st.code()),
            Some(255)
        );
    });
}
