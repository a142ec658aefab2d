//! The server adapters' accept loops: a listener that fails with `EMFILE` is survived (the
//! loop pauses and goes on), and a graceful shutdown stops accepting, lets a session drain,
//! then disconnects what is left; in the blocking server and on tokio. The tokio server's
//! counters (`Gate::metrics`) follow a failed and a successful login.

use seashell_async::{AsyncListener, AsyncSocket, BoxFuture, Runtime};
use seashell_conformance::with_timeout;
use seashell_tokio::proto::{AuthAttempt, AuthDecision, PrivateKey, ServerConfig};
use seashell_tokio::{ClientConfig, Handler, HostKeyPolicy, TokioRuntime};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

fn key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

/// Lets in the holder of key 2.
#[derive(Clone)]
struct KeyTwo;

impl Handler for KeyTwo {
    fn auth(&mut self, _user: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::PublicKey { key: k, .. } | AuthAttempt::PublicKeyQuery { key: k, .. }
                if *k == key(2).public_key() =>
            {
                AuthDecision::Accept
            }
            _ => AuthDecision::Reject,
        }
    }
}

fn client() -> ClientConfig {
    ClientConfig::new("anyone")
        .host_key_policy(HostKeyPolicy::Fingerprint(
            key(1).public_key().fingerprint(),
        ))
        .key(key(2))
}

fn config() -> ServerConfig {
    ServerConfig::new(vec![Arc::new(key(1))])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A tokio listener whose first `failures` accepts fail with `EMFILE`, as when the process
/// is out of descriptors.
#[derive(Debug)]
struct OutOfDescriptors {
    inner: Box<dyn AsyncListener>,
    failures: AtomicUsize,
    failed: Arc<AtomicUsize>,
}

impl AsyncListener for OutOfDescriptors {
    fn accept(&self) -> BoxFuture<'_, io::Result<(Box<dyn AsyncSocket>, SocketAddr)>> {
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            self.failed.fetch_add(1, Ordering::SeqCst);
            // EMFILE: too many open files.
            return Box::pin(async { Err(io::Error::from_raw_os_error(24)) });
        }
        self.inner.accept()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

#[test]
fn tokio_server_survives_emfile_on_accept() {
    with_timeout(LIMIT, "EMFILE", || {
        runtime().block_on(async {
            let failed = Arc::new(AtomicUsize::new(0));
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            std_listener.set_nonblocking(true).unwrap();
            let listener = OutOfDescriptors {
                inner: TokioRuntime.listen(std_listener).unwrap(),
                failures: AtomicUsize::new(5),
                failed: failed.clone(),
            };
            let addr = listener.local_addr().unwrap().to_string();
            let server =
                seashell_tokio::Server::from_listener(Box::new(listener), config()).unwrap();
            tokio::spawn(async move { server.run(|_| KeyTwo).await });
            // Logging in proves the loop went on after the failures.
            let session = seashell_tokio::Client::connect(&addr, client())
                .await
                .unwrap();
            drop(session);
            assert_eq!(
                failed.load(Ordering::SeqCst),
                5,
                "every mocked EMFILE was met"
            );
        })
    });
}

#[test]
fn blocking_server_shuts_down_gracefully() {
    with_timeout(LIMIT, "blocking shutdown", || {
        let server = seashell_blocking::Server::bind("127.0.0.1:0", config()).unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let handle = server.shutdown_handle();
        let run = std::thread::spawn(move || server.run(|_| KeyTwo));
        let session = seashell_blocking::Client::connect(&addr, client()).unwrap();
        assert_eq!(handle.connections().len(), 1);
        let t0 = Instant::now();
        handle.shutdown(Duration::from_millis(300));
        run.join().unwrap().unwrap();
        let took = t0.elapsed();
        // The live session had its drain time, then was disconnected.
        assert!(
            took >= Duration::from_millis(300),
            "returned after {took:?}"
        );
        assert!(took < Duration::from_secs(5), "returned after {took:?}");
        assert!(handle.connections().is_empty());
        assert!(
            session.exec("true").is_err(),
            "the session was disconnected"
        );
        // Nothing accepts any more.
        assert!(seashell_blocking::Client::connect(&addr, client()).is_err());
    });
}

#[test]
fn tokio_server_shuts_down_gracefully_and_a_drained_server_returns_at_once() {
    with_timeout(LIMIT, "tokio shutdown", || {
        runtime().block_on(async {
            let server = seashell_tokio::Server::bind("127.0.0.1:0", config()).unwrap();
            let addr = server.local_addr().unwrap().to_string();
            let handle = server.shutdown_handle();
            let run = tokio::spawn(async move { server.run(|_| KeyTwo).await });
            let session = seashell_tokio::Client::connect(&addr, client())
                .await
                .unwrap();
            // The session ends by itself within the drain time: run returns before it ends.
            drop(session);
            let t0 = Instant::now();
            handle.shutdown(Duration::from_secs(20));
            run.await.unwrap().unwrap();
            assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
            assert!(handle.connections().is_empty());
        })
    });
}

#[test]
fn tokio_server_counts_what_an_operator_graphs() {
    with_timeout(LIMIT, "metrics", || {
        runtime().block_on(async {
            let server = seashell_tokio::Server::bind("127.0.0.1:0", config()).unwrap();
            let addr = server.local_addr().unwrap().to_string();
            let gate = server.gate().clone();
            tokio::spawn(async move { server.run(|_| KeyTwo).await });
            // One login with the wrong key, one with the right one.
            let wrong = ClientConfig::new("anyone")
                .host_key_policy(HostKeyPolicy::Fingerprint(
                    key(1).public_key().fingerprint(),
                ))
                .key(key(3));
            assert!(seashell_tokio::Client::connect(&addr, wrong).await.is_err());
            let session = seashell_tokio::Client::connect(&addr, client())
                .await
                .unwrap();
            let live = gate.metrics().snapshot();
            assert_eq!(live.authenticated, 1, "{live:?}");
            drop(session);
            // The connection's end reaches the gate once its driver stops.
            let t0 = Instant::now();
            let m = loop {
                let m = gate.metrics().snapshot();
                if m.authenticated == 0 && m.bytes_in > 0 || t0.elapsed() > Duration::from_secs(5) {
                    break m;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            assert_eq!(m.connections_accepted, 2, "{m:?}");
            assert_eq!(m.auth_successes, 1, "{m:?}");
            // The wrong key's attempt; the `none` probes do not count.
            assert_eq!(m.auth_failures, 1, "{m:?}");
            assert_eq!((m.authenticated, m.unauthenticated), (0, 0), "{m:?}");
            assert!(m.bytes_in > 1000 && m.bytes_out > 1000, "{m:?}");
            let text = m.to_string();
            assert!(text.contains("seashell_"), "{text}");
        })
    });
}

/// Lets in the holder of key 2, and panics on any attempt by "boom".
#[derive(Clone)]
struct Fragile;

impl Handler for Fragile {
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        assert_ne!(
            user, "boom",
            "a deliberate bug in the application's handler"
        );
        KeyTwo.auth(user, attempt)
    }
}

#[test]
fn a_panicking_handler_ends_its_connection_only_and_penalises_its_source() {
    use seashell_conformance::attack::connect_from;
    with_timeout(LIMIT, "panic isolation", || {
        let server = seashell_blocking::Server::bind("127.0.0.1:0", config()).unwrap();
        let addr = server.local_addr().unwrap();
        let gate = server.gate().clone();
        std::thread::spawn(move || server.run(|_| Fragile));
        let from = |source: [u8; 4], user: &str| {
            let sock = connect_from(source.into(), addr).unwrap();
            let config = ClientConfig::new(user)
                .host_key_policy(HostKeyPolicy::Fingerprint(
                    key(1).public_key().fingerprint(),
                ))
                .key(key(2));
            seashell_blocking::Client::handshake(sock, "127.0.0.1", addr.port(), config)
        };
        let healthy = from([127, 0, 0, 1], "alice").unwrap();
        assert!(from([127, 0, 0, 2], "boom").is_err());
        // The other connection goes on, and new ones from elsewhere get in.
        let rtt = healthy
            .ping()
            .expect("the healthy connection still answers");
        assert!(rtt.is_some(), "our server answers ping@openssh.com");
        assert!(from([127, 0, 0, 3], "carol").is_ok());
        let m = gate.metrics().snapshot();
        assert_eq!(m.penalties_of(seashell_adapter::Penalty::Crash), 1, "{m:?}");
        // crash:90s is over the 15 s minimum: the source is refused for now.
        assert!(from([127, 0, 0, 2], "alice").is_err());
        assert!(from([127, 0, 0, 1], "alice").is_ok());
    });
}
