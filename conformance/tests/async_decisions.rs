//! The async server's authentication decisions taken on another task: the handler hands
//! every attempt to an `AuthQueue`; a separate task answers each after an `.await` (a
//! stand-in for a database lookup). The right key logs in, a wrong one is refused, and an
//! attempt dropped unanswered is a refusal too.

use seashell_conformance::with_timeout;
use seashell_tokio::proto::{AuthAttempt, AuthDecision, PrivateKey, ServerConfig};
use seashell_tokio::{AuthQueue, Client, ClientConfig, Handler, HostKeyPolicy, Server};
use std::sync::Arc;
use std::time::Duration;

fn key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

struct Deferring(AuthQueue);

impl Handler for Deferring {
    fn auth_queue(&mut self) -> Option<AuthQueue> {
        Some(self.0.clone())
    }
}

fn client(seed: u8) -> ClientConfig {
    ClientConfig::new("db-user")
        .host_key_policy(HostKeyPolicy::Fingerprint(
            key(1).public_key().fingerprint(),
        ))
        .key(key(seed))
}

#[test]
fn auth_answered_from_another_task_after_an_await() {
    with_timeout(Duration::from_secs(60), "deferred auth", || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let queue = AuthQueue::new();
            let server =
                Server::bind("127.0.0.1:0", ServerConfig::new(vec![Arc::new(key(1))])).unwrap();
            let addr = server.local_addr().unwrap().to_string();
            let q = queue.clone();
            tokio::spawn(async move {
                let _ = server.run(move |_| Deferring(q.clone())).await;
            });
            // The "database": key 2 is db-user's; key 3 belongs to nobody; key 4's attempts
            // are dropped unanswered.
            let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let count = answered.clone();
            tokio::spawn(async move {
                while let Some(pending) = queue.next().await {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let decision = match pending.attempt() {
                        Some(AuthAttempt::PublicKey { key: k, .. })
                        | Some(AuthAttempt::PublicKeyQuery { key: k, .. })
                            if *k == key(2).public_key() && pending.user() == "db-user" =>
                        {
                            AuthDecision::Accept
                        }
                        Some(AuthAttempt::PublicKeyQuery { key: k, .. })
                            if *k == key(4).public_key() =>
                        {
                            drop(pending);
                            continue;
                        }
                        _ => AuthDecision::Reject,
                    };
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    pending.answer(decision);
                }
            });
            let session = Client::connect(&addr, client(2)).await.unwrap();
            assert!(!session.is_closed());
            assert!(answered.load(std::sync::atomic::Ordering::SeqCst) >= 2);
            let refused = Client::connect(&addr, client(3)).await;
            assert!(
                matches!(refused, Err(seashell_tokio::Error::Auth(_))),
                "{refused:?}"
            );
            let dropped = Client::connect(&addr, client(4)).await;
            assert!(
                matches!(dropped, Err(seashell_tokio::Error::Auth(_))),
                "{dropped:?}"
            );
        });
    });
}
