//! Host-bound public key authentication (`publickey-hostbound-v00@openssh.com`, OpenSSH
//! `PROTOCOL` §2.5) and the server's EXT_INFO: our client against our server in memory, and
//! a scripted client for requests our client never sends (another host key, a signature that
//! does not cover the host key).

#[path = "../../proto/tests/server_common/mod.rs"]
mod server_common;

use seashell_proto::auth::client::{HOSTBOUND_EXTENSION, HOSTBOUND_METHOD};
use seashell_proto::config::DEFAULT_HOST_KEY_ALGORITHMS;
use seashell_proto::wire::{self, Reader, msg};
use seashell_proto::{
    AuthAttempt, AuthDecision, AuthMethod, ClientConfig, Event, PrivateKey, ServerConfig,
};
use seashell_testkit::Pair;
use seashell_testkit::pair::{test_host_key, test_user_key};
use server_common::{RawClient, Rig, host_key, user_key, userauth};
use std::time::Duration;

/// A signed host-bound request naming `host_blob`; the signature covers the request as sent
/// unless `sign_without_host_key`, when it covers the plain `publickey` form instead.
fn hostbound_signed(
    key: &PrivateKey,
    session_id: &[u8],
    host_blob: &[u8],
    sign_without_host_key: bool,
) -> Vec<u8> {
    let mut p = userauth("alice", "ssh-connection", HOSTBOUND_METHOD);
    wire::put_bool(&mut p, true);
    wire::put_string(&mut p, b"ssh-ed25519");
    wire::put_string(&mut p, &key.public_key().to_blob());
    let unbound_len = p.len();
    wire::put_string(&mut p, host_blob);
    let covered = if sign_without_host_key {
        &p[..unbound_len]
    } else {
        &p[..]
    };
    let mut data = Vec::new();
    wire::put_string(&mut data, session_id);
    data.extend_from_slice(covered);
    let sig = key.sign("ssh-ed25519", &data).unwrap();
    wire::put_string(&mut p, &sig);
    p
}

/// The extensions of the server's first EXT_INFO, as (name, value) pairs.
fn ext_info(rig: &Rig) -> Vec<(String, String)> {
    let p = rig.client.all(msg::EXT_INFO)[0].clone();
    let mut r = Reader::new(&p);
    r.u8("n").unwrap();
    let count = r.u32("count").unwrap();
    (0..count)
        .map(|_| {
            let name = String::from_utf8(r.string("name").unwrap().to_vec()).unwrap();
            let value = String::from_utf8(r.string("value").unwrap().to_vec()).unwrap();
            (name, value)
        })
        .collect()
}

#[test]
fn ext_info_advertises_hostbound_and_the_accepted_algorithms() {
    let mut rig = Rig::default_rig();
    rig.kex();
    let ext = ext_info(&rig);
    let get = |n: &str| ext.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(get(HOSTBOUND_EXTENSION).as_deref(), Some("0"));
    assert_eq!(
        get("server-sig-algs").unwrap(),
        DEFAULT_HOST_KEY_ALGORITHMS.join(",")
    );

    // Opting in to SHA-1 RSA user keys shows in server-sig-algs.
    let mut config = ServerConfig::new(vec![host_key()]);
    config.pubkey_accepted_algorithms.push("ssh-rsa".into());
    let mut rig = Rig::new(config, RawClient::new(true));
    rig.kex();
    let ext = ext_info(&rig);
    let algs = ext.iter().find(|(k, _)| k == "server-sig-algs").unwrap();
    assert!(algs.1.ends_with(",ssh-rsa"), "{algs:?}");

    // No publickey method, no host-bound advertisement.
    let mut config = ServerConfig::new(vec![host_key()]);
    config.auth_methods = vec!["password".into()];
    let mut rig = Rig::new(config, RawClient::new(true));
    rig.kex();
    assert!(!ext_info(&rig).iter().any(|(k, _)| k == HOSTBOUND_EXTENSION));
}

#[test]
fn hostbound_request_for_our_host_key_is_accepted() {
    let mut rig = Rig::default_rig();
    rig.ready_for_auth();
    let sid = rig.sid();
    let host_blob = host_key().public_key().to_blob();
    let key = user_key(4);
    let ev = rig.send(&hostbound_signed(&key, &sid, &host_blob, false));
    let [Event::AuthRequest(req)] = <[Event; 1]>::try_from(ev).unwrap() else {
        panic!("no request: {:?}", rig.error)
    };
    assert!(
        matches!(req.attempt(), AuthAttempt::PublicKey { key: k, algorithm, .. }
            if *k == key.public_key() && algorithm == "ssh-ed25519")
    );
    rig.server.answer_auth(req, AuthDecision::Accept).unwrap();
    rig.pump();
    assert!(rig.client.got(msg::USERAUTH_SUCCESS));
    let who = rig.server.authenticated_user().unwrap();
    assert_eq!(who.key, Some(key.public_key()));
    assert_eq!(who.method, "publickey");
}

#[test]
fn hostbound_request_for_another_host_key_ends_the_connection() {
    let mut rig = Rig::default_rig();
    rig.ready_for_auth();
    let sid = rig.sid();
    let other = test_user_key(77).public_key().to_blob();
    let ev = rig.send(&hostbound_signed(&user_key(4), &sid, &other, false));
    assert!(
        ev.iter().all(|e| !matches!(e, Event::AuthRequest(_))),
        "{ev:?}"
    );
    assert!(rig.error.is_some());
    assert!(rig.client.got(msg::DISCONNECT));
    assert!(!rig.client.got(msg::USERAUTH_SUCCESS));
    assert!(rig.server.authenticated_user().is_none());
}

#[test]
fn hostbound_signature_must_cover_the_host_key() {
    let mut rig = Rig::default_rig();
    rig.ready_for_auth();
    let sid = rig.sid();
    let host_blob = host_key().public_key().to_blob();
    let ev = rig.send(&hostbound_signed(&user_key(4), &sid, &host_blob, true));
    assert!(ev.is_empty(), "{ev:?}");
    rig.advance(Duration::from_millis(20));
    assert_eq!(rig.client.all(msg::USERAUTH_FAILURE).len(), 1);
    assert!(rig.server.authenticated_user().is_none());
}

#[test]
fn our_client_authenticates_host_bound_with_our_server() {
    let server = ServerConfig::new(vec![test_host_key()]);
    let mut pair = Pair::new(ClientConfig::new("alice"), server);
    let key = test_user_key(5);
    let mut method = Some(AuthMethod::PublicKey(key.clone()));
    let mut attempts = Vec::new();
    pair.run(
        Duration::from_secs(5),
        |c, ev| match ev {
            Event::HostKey(k) => c.accept_host_key(k).unwrap(),
            Event::AuthMethods { choice, .. } => {
                if let Some(m) = method.take() {
                    c.authenticate(choice, m).unwrap();
                }
            }
            _ => {}
        },
        |s, ev| {
            if let Event::AuthRequest(r) = ev {
                let publickey = matches!(r.attempt(), AuthAttempt::PublicKey { .. });
                attempts.push(publickey);
                let d = if publickey {
                    AuthDecision::Accept
                } else {
                    AuthDecision::Reject
                };
                s.answer_auth(r, d).unwrap();
            }
        },
    );
    assert_eq!(attempts, [false, true]);
    assert!(pair.client.is_authenticated());
    let who = pair.server.authenticated_user().unwrap();
    assert_eq!(who.key, Some(key.public_key()));
}
