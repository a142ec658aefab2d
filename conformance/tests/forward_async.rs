//! Forwarding through the tokio adapter against a private OpenSSH sshd: a local forward and
//! a remote forward (port 0) each carrying a stream byte-exact to a local TCP service, a
//! dynamic forward serving `curl --socks5-hostname`, a `direct-tcpip` stream, and a second
//! SSH connection through the first (a jump host) with its own host-key policy.

use seashell_conformance::{KeyKind, key_config, start_sshd, with_timeout};
use seashell_testkit::tcp_service::{Behaviour, TcpService, check_sink, check_source};
use seashell_testkit::{exchange_unix, shared_socket_dir, unix_echo};
use seashell_tokio::{Client, ForwardTarget, Session};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(120);
const BYTES: u64 = 32 << 20;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
}

fn tcp(port: u16) -> ForwardTarget {
    ForwardTarget::Tcp {
        host: "127.0.0.1".into(),
        port,
    }
}

/// Runs a blocking check off the runtime's threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| panic!("blocking task: {e}"))
}

#[test]
fn tokio_forwarding_against_sshd() {
    let Some(sshd) = start_sshd(Default::default()) else {
        return;
    };
    let sink = TcpService::start(Behaviour::Sink).unwrap();
    let source = TcpService::start(Behaviour::Source {
        seed: 5,
        len: BYTES,
    })
    .unwrap();
    let echo = TcpService::start(Behaviour::Echo).unwrap();
    let http = TcpService::start(Behaviour::Http("through socks")).unwrap();
    let addr = sshd.addr();
    let config = key_config(&sshd, KeyKind::Ed25519);
    with_timeout(LIMIT, "tokio forwarding", move || {
        runtime().block_on(async move {
            let session: Session = Client::connect(&addr, config.clone()).await.unwrap();

            // -L: a stream to the sink, digest checked at both ends.
            let local = session
                .forward_local("127.0.0.1:0", tcp(sink.port()))
                .await
                .unwrap();
            let at = local.local_addr().to_string();
            let sent = blocking(move || check_sink(&at, 11, BYTES)).await;
            assert_eq!(sent, Ok(BYTES));

            // -R 0: sshd binds a port and tells us which; the source streams to us.
            let bound = session
                .forward_remote("127.0.0.1", 0, tcp(source.port()))
                .await
                .unwrap();
            assert_ne!(bound, 0);
            let got = blocking(move || check_source(&format!("127.0.0.1:{bound}"), 5, BYTES)).await;
            assert_eq!(got, Ok(BYTES));
            session
                .cancel_remote_forward("127.0.0.1", bound)
                .await
                .unwrap();

            // direct-tcpip as a stream.
            let mut ch = session
                .open_direct_tcpip("127.0.0.1", echo.port())
                .await
                .unwrap();
            ch.write_all(b"ping through a channel").await.unwrap();
            ch.shutdown().await.unwrap();
            let mut back = Vec::new();
            ch.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, b"ping through a channel");

            // -D: curl through SOCKS5 with remote name resolution.
            let socks = session.forward_dynamic("127.0.0.1:0").await.unwrap();
            let proxy = format!("socks5h://{}", socks.local_addr());
            let url = format!("http://localhost:{}/", http.port());
            let out = blocking(move || {
                std::process::Command::new("curl")
                    .args(["-sS", "--max-time", "20", "-x", &proxy, &url])
                    .output()
            })
            .await;
            match out {
                Ok(o) => assert_eq!(
                    String::from_utf8_lossy(&o.stdout),
                    "through socks",
                    "{}",
                    String::from_utf8_lossy(&o.stderr)
                ),
                Err(e) => eprintln!("skipped: curl not runnable ({e})"),
            }

            // -J: SSH over a direct-tcpip channel, with its own host-key policy.
            let inner = Client::connect_via(&session, &addr, config).await.unwrap();
            let out = inner.exec("echo via the jump host").await.unwrap();
            assert_eq!(out.stdout, b"via the jump host\n");
            assert_eq!(out.status.code(), Some(0));
        })
    });
    drop(sshd);
}

mod own_server {
    use seashell_tokio::proto::{AuthAttempt, AuthDecision, PrivateKey, ServerConfig};
    use seashell_tokio::{ClientConfig, Handler, HostKeyPolicy, Server};
    use std::sync::Arc;

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
    }

    /// Accepts user key 2; forwarding as `policy` says.
    pub struct Forwarder {
        pub policy: seashell_adapter::ForwardingPolicy,
    }

    impl Handler for Forwarder {
        fn auth(&mut self, _: &str, attempt: &AuthAttempt) -> AuthDecision {
            match attempt {
                AuthAttempt::PublicKey { key: k, .. }
                | AuthAttempt::PublicKeyQuery { key: k, .. }
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

    /// Starts our tokio server with `policy`; returns its address.
    pub fn start(policy: seashell_adapter::ForwardingPolicy) -> String {
        let server =
            Server::bind("127.0.0.1:0", ServerConfig::new(vec![Arc::new(key(1))])).unwrap();
        let addr = server.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let _ = server
                .run(move |_| Forwarder {
                    policy: policy.clone(),
                })
                .await;
        });
        addr
    }

    pub fn client() -> ClientConfig {
        ClientConfig::new("tester")
            .host_key_policy(HostKeyPolicy::Fingerprint(
                key(1).public_key().fingerprint(),
            ))
            .key(key(2))
    }
}

#[test]
fn tokio_forwarding_through_our_server() {
    use seashell_adapter::{ForwardingPolicy, HostPort, Permits};
    let sink = TcpService::start(Behaviour::Sink).unwrap();
    let source = TcpService::start(Behaviour::Source {
        seed: 3,
        len: BYTES,
    })
    .unwrap();
    let echo = TcpService::start(Behaviour::Echo).unwrap();
    with_timeout(LIMIT, "tokio forwarding, own server", move || {
        runtime().block_on(async move {
            // sshd's defaults, but only the sink and the source may be reached.
            let policy = ForwardingPolicy {
                permit_open: Permits::Only(vec![
                    HostPort::parse(&format!("127.0.0.1:{}", sink.port()), None).unwrap(),
                    HostPort::parse(&format!("127.0.0.1:{}", source.port()), None).unwrap(),
                ]),
                ..ForwardingPolicy::default()
            };
            let addr = own_server::start(policy);
            let session = Client::connect(&addr, own_server::client()).await.unwrap();
            let local = session
                .forward_local("127.0.0.1:0", tcp(sink.port()))
                .await
                .unwrap();
            let at = local.local_addr().to_string();
            assert_eq!(blocking(move || check_sink(&at, 4, BYTES)).await, Ok(BYTES));

            let bound = session
                .forward_remote("localhost", 0, tcp(source.port()))
                .await
                .unwrap();
            let got = blocking(move || check_source(&format!("127.0.0.1:{bound}"), 3, BYTES)).await;
            assert_eq!(got, Ok(BYTES));

            // PermitOpen refuses the echo service; the refusal is typed.
            let refused = session.open_direct_tcpip("127.0.0.1", echo.port()).await;
            match refused {
                Err(seashell_tokio::Error::OpenFailed { reason: 1, .. }) => {}
                other => panic!("expected administratively prohibited, got {other:?}"),
            }
            // A privileged port is not granted to a remote forward.
            assert!(
                session
                    .forward_remote("", 80, tcp(echo.port()))
                    .await
                    .is_err()
            );
        })
    });
}

#[test]
fn tokio_streamlocal_both_ways_against_sshd() {
    let Some(sshd) = start_sshd(Default::default()) else {
        return;
    };
    // sshd's session runs as the login user, who may not be us: it must reach the sockets.
    let dir = shared_socket_dir().unwrap();
    let echo_path = dir.path().join("echo.sock");
    unix_echo(&echo_path).unwrap();
    let remote_path = dir.path().join("remote.sock");
    let tcp_echo = TcpService::start(Behaviour::Echo).unwrap();
    let addr = sshd.addr();
    let config = key_config(&sshd, KeyKind::Ed25519);
    with_timeout(LIMIT, "tokio streamlocal", move || {
        runtime().block_on(async move {
            let session = Client::connect(&addr, config).await.unwrap();
            // direct-streamlocal: the server connects to a Unix socket.
            let mut ch = session
                .open_direct_streamlocal(echo_path.to_str().unwrap())
                .await
                .unwrap();
            ch.write_all(b"unix hello").await.unwrap();
            ch.shutdown().await.unwrap();
            let mut back = Vec::new();
            ch.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, b"unix hello");

            // streamlocal-forward: sshd listens on a Unix socket, we forward to TCP here.
            session
                .forward_remote_streamlocal(remote_path.to_str().unwrap(), tcp(tcp_echo.port()))
                .await
                .unwrap();
            let got = blocking(move || {
                exchange_unix(&remote_path, b"through sshd's unix listener").unwrap()
            })
            .await;
            assert_eq!(got, b"through sshd's unix listener");
        })
    });
    drop(sshd);
}
