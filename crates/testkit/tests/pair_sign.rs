//! The sign decision for keys held elsewhere (`AuthMethod::ExternalKey`): the query goes
//! first and a signature is asked only after PK_OK, so a key the server refuses costs no
//! signature; a refused or dropped request moves on to the next method; a bad signature is
//! caught before it leaves; a foreign token changes nothing.

use seashell_proto::{
    AuthAttempt, AuthDecision, AuthMethod, ClientConfig, Error, Event, ServerConfig, SignRequest,
};
use seashell_testkit::Pair;
use seashell_testkit::pair::{test_host_key, test_user_key};
use std::sync::Arc;
use std::time::Duration;

fn pair() -> Pair {
    let mut client = ClientConfig::new("alice");
    client.handshake_timeout = Duration::from_secs(600);
    Pair::new(client, ServerConfig::new(vec![test_host_key()]))
}

/// What the client side saw.
#[derive(Default)]
struct Log {
    sign_requests: usize,
    methods_events: usize,
    server_attempts: Vec<String>,
}

/// Runs a pair where the client offers `keys` as external keys in turn; `signer` answers
/// each sign request (Some(true): sign with the matching private key; Some(false): refuse;
/// None: drop the token). The server accepts only `accepted` (by public key).
fn drive(
    keys: Vec<Arc<seashell_proto::PrivateKey>>,
    accepted: seashell_proto::PublicKey,
    mut signer: impl FnMut(usize) -> Option<bool>,
) -> (Pair, Log) {
    let mut p = pair();
    let mut log = Log::default();
    let mut next = 0;
    let mut sign_count = 0;
    let mut attempts = Vec::new();
    let keys2 = keys.clone();
    p.run(
        Duration::from_secs(1),
        |c, ev| match ev {
            Event::HostKey(k) => c.accept_host_key(k).unwrap(),
            Event::AuthMethods {
                choice, methods, ..
            } => {
                log.methods_events += 1;
                match keys2.get(next) {
                    Some(k) => {
                        next += 1;
                        c.authenticate(choice, AuthMethod::ExternalKey(k.public_key()))
                            .unwrap();
                    }
                    None => {
                        let _ = c.give_up_auth(choice, methods);
                    }
                }
            }
            Event::SignRequest(mut req) => {
                log.sign_requests += 1;
                let n = sign_count;
                sign_count += 1;
                match signer(n) {
                    Some(true) => {
                        let key = keys2.iter().find(|k| k.public_key() == *req.key()).unwrap();
                        let sig = key.sign(req.algorithm(), req.data()).unwrap();
                        c.provide_signature(&mut req, &sig).unwrap();
                    }
                    Some(false) => c.refuse_signature(req).unwrap(),
                    None => drop(req),
                }
            }
            _ => {}
        },
        |s, ev| {
            if let Event::AuthRequest(r) = ev {
                let (name, key) = match r.attempt() {
                    AuthAttempt::PublicKeyQuery { key, .. } => ("query", Some(key.clone())),
                    AuthAttempt::PublicKey { key, .. } => ("signed", Some(key.clone())),
                    _ => ("other", None),
                };
                attempts.push(name.to_owned());
                let ok = key.as_ref() == Some(&accepted);
                let d = if ok {
                    AuthDecision::Accept
                } else {
                    AuthDecision::Reject
                };
                s.answer_auth(r, d).unwrap();
            }
        },
    );
    log.server_attempts = attempts;
    (p, log)
}

#[test]
fn refused_key_costs_no_signature_then_accepted_key_signs() {
    let refused = test_user_key(1);
    let good = test_user_key(2);
    let (p, log) = drive(vec![refused, good.clone()], good.public_key(), |_| {
        Some(true)
    });
    assert!(p.client.is_authenticated());
    // One signature only: for the key the server said PK_OK to.
    assert_eq!(log.sign_requests, 1);
    assert_eq!(log.server_attempts, ["other", "query", "query", "signed"]);
    assert_eq!(
        p.server.authenticated_user().unwrap().key,
        Some(good.public_key())
    );
}

#[test]
fn refused_or_dropped_signature_moves_to_the_next_key() {
    let a = test_user_key(3);
    let b = test_user_key(4);
    for answer in [Some(false), None] {
        // The server would accept both; the first signature is refused (or dropped).
        let keys = vec![a.clone(), b.clone()];
        let (p, log) = {
            let accepted_first = a.public_key();
            // Accept only a for the query, and both signed; simplest: accept `a`, then the
            // second key is refused and the client gives up, unless it went on.
            drive(keys, accepted_first, |n| {
                if n == 0 { answer } else { Some(true) }
            })
        };
        // The client went on to the next key after the refusal (a second query), which
        // the server refused: no authentication, and no connection left hanging.
        assert!(!p.client.is_authenticated());
        assert_eq!(log.sign_requests, 1);
        assert_eq!(log.server_attempts, ["other", "query", "query"]);
        assert!(log.methods_events >= 3);
    }
}

/// Accepts key queries and signed keys, refuses everything else (so `none` fails).
fn accept_keys(s: &mut seashell_proto::ServerConnection, ev: Event) {
    if let Event::AuthRequest(r) = ev {
        let d = match r.attempt() {
            AuthAttempt::PublicKeyQuery { .. } | AuthAttempt::PublicKey { .. } => {
                AuthDecision::Accept
            }
            _ => AuthDecision::Reject,
        };
        s.answer_auth(r, d).unwrap();
    }
}

#[test]
fn bad_signature_is_refused_before_it_leaves() {
    let good = test_user_key(5);
    let other = test_user_key(6);
    let mut p = pair();
    let mut checked = false;
    let mut offered = false;
    p.run(
        Duration::from_secs(1),
        |c, ev| match ev {
            Event::HostKey(k) => c.accept_host_key(k).unwrap(),
            Event::AuthMethods {
                choice, methods, ..
            } => {
                if offered {
                    let _ = c.give_up_auth(choice, methods);
                } else {
                    offered = true;
                    c.authenticate(choice, AuthMethod::ExternalKey(good.public_key()))
                        .unwrap();
                }
            }
            Event::SignRequest(mut req) => {
                // Signed by another key: refused by the core, nothing sent.
                let sig = other.sign("ssh-ed25519", req.data()).unwrap();
                let e = c.provide_signature(&mut req, &sig).unwrap_err();
                assert!(matches!(e, Error::Crypto(_)), "{e:?}");
                // The request is still pending: now sign properly.
                let sig = good.sign(req.algorithm(), req.data()).unwrap();
                c.provide_signature(&mut req, &sig).unwrap();
                checked = true;
            }
            _ => {}
        },
        accept_keys,
    );
    assert!(checked);
    assert!(p.client.is_authenticated());
}

#[test]
fn foreign_sign_token_is_refused() {
    let key = test_user_key(7);
    let mut a = pair();
    let mut b = pair();
    let mut held: Option<SignRequest> = None;
    for p in [&mut a, &mut b] {
        let mut offered = false;
        let mut got = None;
        p.run(
            Duration::from_secs(1),
            |c, ev| match ev {
                Event::HostKey(k) => c.accept_host_key(k).unwrap(),
                Event::AuthMethods { choice, .. } if !offered => {
                    offered = true;
                    c.authenticate(choice, AuthMethod::ExternalKey(key.public_key()))
                        .unwrap();
                }
                Event::SignRequest(req) => got = Some(req),
                _ => {}
            },
            accept_keys,
        );
        if held.is_none() {
            held = got;
        } else {
            let mut from_a = held.take().unwrap();
            let sig = key.sign(from_a.algorithm(), from_a.data()).unwrap();
            // a's request answered on b: refused, b still waits for its own.
            assert!(p.client.provide_signature(&mut from_a, &sig).is_err());
            assert!(!p.client.is_authenticated());
            let mut own = got.unwrap();
            let sig = key.sign(own.algorithm(), own.data()).unwrap();
            p.client.provide_signature(&mut own, &sig).unwrap();
            p.run(Duration::from_secs(1), |_, _| {}, accept_keys);
            assert!(p.client.is_authenticated());
        }
    }
}
