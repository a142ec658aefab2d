//! The connection's life on smol, against our own server: exec and the end of a connection
//! when its handles go.

use futures_lite::AsyncWriteExt;
use seashell_smol::proto::{
    AuthAttempt, AuthDecision, PrivateKey, ServerConfig, SessionRequestKind,
};
use seashell_smol::{
    Client, ClientConfig, ExitStatus, Handler, HostKeyPolicy, Server, ServerChannel,
};
use std::sync::Arc;
use std::time::Duration;

fn key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

/// Accepts any user key; every command prints `hello` and exits 7.
struct Hello;

impl Handler for Hello {
    fn auth(&mut self, _: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::PublicKeyQuery { .. } | AuthAttempt::PublicKey { .. } => {
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
        smol::spawn(async move {
            let _ = ch.stdout().write_all(b"hello\n").await;
            ch.exit(7);
        })
        .detach();
        true
    }
}

#[test]
fn exec_then_drop_ends_the_connection() {
    smol::block_on(async {
        let server =
            Server::bind("127.0.0.1:0", ServerConfig::new(vec![Arc::new(key(1))])).unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let served = smol::spawn(async move { server.serve_one(Hello).await });
        let config = ClientConfig::new("me")
            .host_key_policy(HostKeyPolicy::Fingerprint(
                key(1).public_key().fingerprint(),
            ))
            .key(key(2));
        let session = Client::connect(&addr, config).await.unwrap();
        let out = session.exec("anything").await.unwrap();
        assert_eq!(
            (out.stdout.as_slice(), out.status),
            (&b"hello\n"[..], ExitStatus::Code(7))
        );
        drop(session);
        let timeout = async {
            smol::Timer::after(Duration::from_secs(5)).await;
            Err(seashell_smol::Error::Refused("timed out".into()))
        };
        futures_lite::future::or(served, timeout).await.unwrap();
    });
}
