//! The connection's life on tokio, against our own server: exec, host-key and auth refusal,
//! and the end of a connection when its handles go (or on `close`).

use seashell_tokio::proto::{
    AuthAttempt, AuthDecision, PrivateKey, ServerConfig, SessionRequestKind,
};
use seashell_tokio::{
    Client, ClientConfig, Error, ExitStatus, Handler, HostKeyPolicy, Server, ServerChannel,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

/// Accepts user key 2; every command prints `hello` and exits 7.
struct Hello;

impl Handler for Hello {
    fn auth(&mut self, _: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::PublicKeyQuery { key: k, .. } | AuthAttempt::PublicKey { key: k, .. }
                if *k == key(2).public_key() =>
            {
                AuthDecision::Accept
            }
            _ => AuthDecision::Reject,
        }
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        if !matches!(request, SessionRequestKind::Exec(_)) {
            return false;
        }
        let ch = channel.clone();
        tokio::spawn(async move {
            let _ = ch.stdout().write_all(b"hello\n").await;
            ch.exit(7);
        });
        true
    }
}

fn server() -> (Server, String) {
    let server = Server::bind("127.0.0.1:0", ServerConfig::new(vec![Arc::new(key(1))])).unwrap();
    let addr = server.local_addr().unwrap().to_string();
    (server, addr)
}

fn client_config(user_key: u8) -> ClientConfig {
    ClientConfig::new("me")
        .host_key_policy(HostKeyPolicy::Fingerprint(
            key(1).public_key().fingerprint(),
        ))
        .key(key(user_key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_then_drop_ends_the_connection() {
    let (server, addr) = server();
    let served = tokio::spawn(async move { server.serve_one(Hello).await });
    let session = Client::connect(&addr, client_config(2)).await.unwrap();
    let out = session.exec("anything").await.unwrap();
    assert_eq!(out.stdout, b"hello\n");
    assert_eq!(out.status, ExitStatus::Code(7));
    let second = session.clone();
    drop(session);
    assert_eq!(second.exec("again").await.unwrap().status.code(), Some(7));
    drop(second);
    let r = tokio::time::timeout(Duration::from_secs(5), served).await;
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}

#[tokio::test]
async fn close_sends_disconnect() {
    let (server, addr) = server();
    let served = tokio::spawn(async move { server.serve_one(Hello).await });
    let session = Client::connect(&addr, client_config(2)).await.unwrap();
    session.clone().close().await.unwrap();
    assert!(session.is_closed());
    assert!(session.exec("late").await.is_err());
    let r = tokio::time::timeout(Duration::from_secs(5), served).await;
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}

#[tokio::test]
async fn refusals() {
    let (server, addr) = server();
    tokio::spawn(async move { server.run(|_| Hello).await });
    let wrong_host =
        client_config(2).host_key_policy(HostKeyPolicy::Fingerprint("SHA256:x".into()));
    let r = Client::connect(&addr, wrong_host).await;
    assert!(matches!(r, Err(Error::HostKey(_))), "{r:?}");
    let r = Client::connect(&addr, client_config(3)).await;
    assert!(matches!(r, Err(Error::Auth(_))), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pings_each_get_their_answer() {
    let (server, addr) = server();
    tokio::spawn(async move { server.serve_one(Hello).await });
    let session = Client::connect(&addr, client_config(2)).await.unwrap();
    let pings: Vec<_> = (0..8)
        .map(|_| {
            let s = session.clone();
            tokio::spawn(async move { s.ping().await })
        })
        .collect();
    for p in pings {
        let rtt = tokio::time::timeout(Duration::from_secs(5), p).await;
        assert!(matches!(rtt, Ok(Ok(Ok(Some(_))))), "{rtt:?}");
    }
    assert_eq!(session.exec("x").await.unwrap().status.code(), Some(7));
}
