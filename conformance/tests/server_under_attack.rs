//! The servers under the attacks of issue 11, over TCP: hostile clients with a 4 KiB
//! receive buffer stop mid-banner, mid-KEX, or complete the key exchange and then flood
//! messages whose replies they never read. The stalled ones are closed at `LoginGraceTime`
//! whatever their socket is doing; the flooding one sooner, once its unread replies pass the
//! core's pre-authentication cap (`OutputFlood`). The server's memory stays flat: it stops
//! reading while its replies are unsent, and its core caps what it holds. Against `seashell serve` (the blocking
//! server, its own process, measured from /proc) and the tokio server (in this process).

mod serve_common;

use seashell_conformance::attack::{AttackOutcome, Stall, attack, peak_rss_bytes, rss_bytes};
use seashell_conformance::with_timeout;
use serve_common::{HostKey, Keys, start_serve};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The login grace time the servers run with.
const GRACE: Duration = Duration::from_secs(3);
/// How long after the grace time a close may come (scheduling, the 2 s closing wait).
const SLACK: Duration = Duration::from_secs(4);
/// Messages the flooding client tries to send (about 64 MiB on the wire).
const FLOOD: u64 = 2_000_000;
/// The most the server may grow while under attack.
const MAX_GROWTH: u64 = 24 << 20;

/// The stalled attackers, and with `flood` the flooding one too.
fn stalls(flood: bool) -> Vec<Stall> {
    let mut v = vec![Stall::MidBanner, Stall::MidKex];
    if flood {
        v.push(Stall::Flood { messages: FLOOD });
    }
    v
}

/// Runs the attacks at once against `addr`.
fn attacks(addr: SocketAddr, stalls: Vec<Stall>) -> Vec<(Stall, AttackOutcome)> {
    let threads: Vec<_> = stalls
        .into_iter()
        .map(|stall| {
            std::thread::spawn(move || {
                let outcome = attack(addr, stall, GRACE + SLACK + Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("{stall:?}: {e}"));
                (stall, outcome)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Every attacker was cut off at the grace time, and the flood was stopped short.
fn check(outcomes: &[(Stall, AttackOutcome)], growth: u64, server: &str) {
    for (stall, o) in outcomes {
        let closed = o
            .closed_after
            .unwrap_or_else(|| panic!("{server}: {stall:?} still open: {o:?}"));
        // A stalled client is closed at the grace time; a flooding one at the latest then
        // (its replies overflow the core's pre-authentication cap long before).
        let earliest = match stall {
            Stall::Flood { .. } | Stall::FloodAfterAuth { .. } => Duration::ZERO,
            _ => GRACE - Duration::from_millis(200),
        };
        assert!(
            closed >= earliest && closed <= GRACE + SLACK,
            "{server}: {stall:?} closed after {closed:?}, grace {GRACE:?}"
        );
        if let Stall::Flood { messages } | Stall::FloodAfterAuth { messages, .. } = stall {
            assert!(
                o.messages_sent < *messages,
                "{server}: the server took the whole flood ({o:?})"
            );
            println!(
                "{server}: flood of {} messages ({} KiB) taken before the server stopped \
                 reading; closed after {closed:?}",
                o.messages_sent,
                o.sent >> 10
            );
        }
    }
    println!("{server}: memory growth under attack: {} KiB", growth >> 10);
    assert!(growth < MAX_GROWTH, "{server}: grew by {growth} bytes");
}

#[test]
fn blocking_serve_closes_stalled_clients_at_the_grace_time() {
    blocking_serve_under(stalls(false));
}

#[test]
fn blocking_serve_holds_against_a_flooding_client() {
    blocking_serve_under(stalls(true));
}

fn blocking_serve_under(stalls: Vec<Stall>) {
    let keys = Keys::new();
    let grace = format!("LoginGraceTime={}", GRACE.as_secs());
    let serve = start_serve(&keys, &[HostKey::Ed25519], &["-o", &grace]).expect("serve");
    let addr: SocketAddr = format!("127.0.0.1:{}", serve.port()).parse().unwrap();
    with_timeout(Duration::from_secs(120), "serve under attack", move || {
        let stalls = stalls;
        let before = rss_bytes(serve.pid()).expect("serve's RSS");
        let outcomes = attacks(addr, stalls.clone());
        let peak = peak_rss_bytes(serve.pid()).expect("serve's peak RSS");
        check(&outcomes, peak.saturating_sub(before), "seashell serve");
        // Still serving.
        let again = attack(addr, Stall::MidBanner, GRACE + SLACK).unwrap();
        assert!(again.closed_after.is_some(), "{}", serve.log());
    });
}

#[test]
fn tokio_server_closes_stalled_clients_at_the_grace_time() {
    tokio_server_under(stalls(false));
}

#[test]
fn tokio_server_holds_against_a_flooding_client() {
    tokio_server_under(stalls(true));
}

#[test]
fn tokio_server_holds_against_an_authenticated_flooding_client() {
    // Logged in, the client floods and never reads: the server stops reading at its
    // high-water mark (its post-authentication cap, 8 MiB, is never reached) and drops the
    // connection once its socket has taken nothing for the write timeout.
    tokio_server_under(vec![Stall::FloodAfterAuth {
        messages: FLOOD,
        key_seed: 2,
    }]);
}

fn tokio_server_under(stalls: Vec<Stall>) {
    use seashell_tokio::proto::{PrivateKey, ServerConfig};
    /// Lets in the holder of the key of seed 2.
    struct KeyTwo;
    impl seashell_tokio::Handler for KeyTwo {
        fn auth(
            &mut self,
            _user: &str,
            attempt: &seashell_tokio::proto::AuthAttempt,
        ) -> seashell_tokio::proto::AuthDecision {
            use seashell_tokio::proto::{AuthAttempt, AuthDecision};
            let two = PrivateKey::ed25519_from_seed(&[2; 32])
                .unwrap()
                .public_key();
            match attempt {
                AuthAttempt::PublicKey { key, .. } | AuthAttempt::PublicKeyQuery { key, .. }
                    if *key == two =>
                {
                    AuthDecision::Accept
                }
                _ => AuthDecision::Reject,
            }
        }
    }
    with_timeout(Duration::from_secs(120), "tokio under attack", move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let key = PrivateKey::ed25519_from_seed(&[7; 32]).unwrap();
        let mut config = ServerConfig::new(vec![Arc::new(key)]);
        config.login_grace_time = GRACE;
        let addr = rt.block_on(async {
            let gate = seashell_adapter::Gate::default().with_write_timeout(Some(GRACE));
            let server = seashell_tokio::Server::bind("127.0.0.1:0", config)
                .unwrap()
                .with_gate(gate);
            let addr = server.local_addr().unwrap();
            tokio::spawn(async move { server.run(|_| KeyTwo).await });
            addr
        });
        let me = std::process::id();
        let before = rss_bytes(me).unwrap();
        let outcomes = attacks(addr, stalls.clone());
        // This process's peak includes the test harness; growth above the start is the
        // server's buffers (and the attackers' small ones).
        let after = peak_rss_bytes(me).unwrap().max(rss_bytes(me).unwrap());
        check(&outcomes, after.saturating_sub(before), "tokio server");
        drop(rt);
    });
}
