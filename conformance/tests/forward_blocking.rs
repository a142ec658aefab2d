//! Forwarding through the blocking adapter: against a private OpenSSH sshd (a local and a
//! remote forward each carrying a stream byte-exact to a local TCP service, a dynamic
//! forward serving `curl --socks5-hostname`, a `direct-tcpip` stream) and against our own
//! blocking server with a forwarding policy (what it allows works, what it refuses is a typed
//! refusal).

use seashell_blocking::proto::{AuthAttempt, AuthDecision, PrivateKey, ServerConfig};
use seashell_blocking::{
    Client, ClientConfig, Error, ForwardTarget, Handler, HostKeyPolicy, Server,
};
use seashell_conformance::{KeyKind, key_config, start_sshd, with_timeout};
use seashell_testkit::tcp_service::{Behaviour, TcpService, check_sink, check_source};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);
const BYTES: u64 = 32 << 20;

fn tcp(port: u16) -> ForwardTarget {
    ForwardTarget::Tcp {
        host: "127.0.0.1".into(),
        port,
    }
}

#[test]
fn blocking_forwarding_against_sshd() {
    let Some(sshd) = start_sshd(Default::default()) else {
        return;
    };
    let sink = TcpService::start(Behaviour::Sink).unwrap();
    let source = TcpService::start(Behaviour::Source {
        seed: 6,
        len: BYTES,
    })
    .unwrap();
    let echo = TcpService::start(Behaviour::Echo).unwrap();
    let http = TcpService::start(Behaviour::Http("blocking socks")).unwrap();
    let addr = sshd.addr();
    let config = key_config(&sshd, KeyKind::Ed25519);
    with_timeout(LIMIT, "blocking forwarding", move || {
        let session = Client::connect(&addr, config).unwrap();
        let local = session
            .forward_local("127.0.0.1:0", tcp(sink.port()))
            .unwrap();
        assert_eq!(
            check_sink(&local.local_addr().to_string(), 12, BYTES),
            Ok(BYTES)
        );

        let bound = session
            .forward_remote("127.0.0.1", 0, tcp(source.port()))
            .unwrap();
        assert_ne!(bound, 0);
        assert_eq!(
            check_source(&format!("127.0.0.1:{bound}"), 6, BYTES),
            Ok(BYTES)
        );
        session.cancel_remote_forward("127.0.0.1", bound).unwrap();

        let mut ch = session.open_direct_tcpip("127.0.0.1", echo.port()).unwrap();
        ch.write_all(b"blocking ping").unwrap();
        ch.send_eof().unwrap();
        let mut back = Vec::new();
        ch.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"blocking ping");

        let socks = session.forward_dynamic("127.0.0.1:0").unwrap();
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "20", "--socks5-hostname"])
            .arg(socks.local_addr().to_string())
            .arg(format!("http://localhost:{}/", http.port()))
            .output();
        match out {
            Ok(o) => assert_eq!(
                String::from_utf8_lossy(&o.stdout),
                "blocking socks",
                "{}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("skipped: curl not runnable ({e})"),
        }
    });
    drop(sshd);
}

fn key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

/// Accepts user key 2; forwards as `policy` says.
struct Forwarder {
    policy: seashell_adapter::ForwardingPolicy,
}

impl Handler for Forwarder {
    fn auth(&mut self, _: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::PublicKey { key: k, .. } | AuthAttempt::PublicKeyQuery { key: k, .. }
                if *k == key(2).public_key() =>
            {
                AuthDecision::Accept
            }
            _ => AuthDecision::Reject,
        }
    }

    fn forwarding(&mut self) -> seashell_adapter::ForwardingPolicy {
        self.policy.clone()
    }
}

fn own_server(policy: seashell_adapter::ForwardingPolicy) -> String {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new(vec![Arc::new(key(1))])).unwrap();
    let addr = server.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let _ = server.run(move |_| Forwarder {
            policy: policy.clone(),
        });
    });
    addr
}

fn own_client() -> ClientConfig {
    ClientConfig::new("tester")
        .host_key_policy(HostKeyPolicy::Fingerprint(
            key(1).public_key().fingerprint(),
        ))
        .key(key(2))
}

#[test]
fn blocking_forwarding_through_our_server() {
    use seashell_adapter::{ForwardAllow, ForwardingPolicy};
    let sink = TcpService::start(Behaviour::Sink).unwrap();
    let source = TcpService::start(Behaviour::Source {
        seed: 8,
        len: BYTES,
    })
    .unwrap();
    with_timeout(LIMIT, "blocking forwarding, own server", move || {
        let addr = own_server(ForwardingPolicy::default());
        let session = Client::connect(&addr, own_client()).unwrap();
        let local = session
            .forward_local("127.0.0.1:0", tcp(sink.port()))
            .unwrap();
        assert_eq!(
            check_sink(&local.local_addr().to_string(), 13, BYTES),
            Ok(BYTES)
        );
        let bound = session.forward_remote("", 0, tcp(source.port())).unwrap();
        assert_eq!(
            check_source(&format!("127.0.0.1:{bound}"), 8, BYTES),
            Ok(BYTES)
        );

        // Only -R allowed: -L is refused with "administratively prohibited".
        let addr = own_server(ForwardingPolicy {
            tcp: ForwardAllow::Remote,
            ..ForwardingPolicy::default()
        });
        let session = Client::connect(&addr, own_client()).unwrap();
        match session.open_direct_tcpip("127.0.0.1", sink.port()) {
            Err(Error::OpenFailed { reason: 1, .. }) => {}
            other => panic!("expected a refusal, got {other:?}"),
        }
        // The default handler forwards nothing at all.
        let addr = own_server(ForwardingPolicy::deny_all());
        let session = Client::connect(&addr, own_client()).unwrap();
        assert!(session.forward_remote("", 0, tcp(sink.port())).is_err());
        assert!(session.open_direct_tcpip("127.0.0.1", sink.port()).is_err());
    });
}
