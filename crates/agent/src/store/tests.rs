use super::*;
use crate::KeyBlob;
use crate::client::{Client, Reply};
use seashell_proto::wire;

fn ed25519(seed: u8) -> (KeyBlob, PublicKey) {
    let key = PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap();
    let PublicKey::Ed25519(public) = key.public_key() else {
        panic!()
    };
    let mut b = Vec::new();
    wire::put_string(&mut b, b"ssh-ed25519");
    wire::put_string(&mut b, &public);
    let mut secret = vec![seed; 32];
    secret.extend_from_slice(&public);
    wire::put_string(&mut b, &secret);
    (KeyBlob::from_bytes(&b).unwrap(), key.public_key())
}

fn add(key: KeyBlob, constraints: Vec<Constraint>) -> Request {
    Request::Add {
        key,
        comment: "test key".into(),
        constraints,
    }
}

/// Drives a store through the client state machine, over framed bytes both ways.
fn call(store: &mut KeyStore, conn: &mut ConnectionState, req: &Request, now: Instant) -> Reply {
    let mut c = Client::new();
    c.request(req).unwrap();
    let mut wire_out = Vec::new();
    c.poll_transmit(&mut wire_out);
    let mut back = Vec::new();
    store.feed(conn, &wire_out, now, &mut back).unwrap();
    c.feed(&back).unwrap();
    c.poll_reply().unwrap().unwrap()
}

#[test]
fn add_list_sign_remove() {
    let now = Instant::now();
    let mut s = KeyStore::new(StoreConfig::default());
    let mut c = ConnectionState::new();
    let (blob, public) = ed25519(1);
    assert_eq!(
        call(&mut s, &mut c, &add(blob, vec![]), now),
        Reply::Success
    );
    let Reply::Identities(ids) = call(&mut s, &mut c, &Request::RequestIdentities, now) else {
        panic!()
    };
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].key, public.to_blob());
    assert_eq!(ids[0].comment, "test key");
    let sign = Request::Sign {
        key: public.to_blob(),
        data: b"data".to_vec(),
        flags: 0,
    };
    let Reply::Signature(sig) = call(&mut s, &mut c, &sign, now) else {
        panic!()
    };
    public.verify("ssh-ed25519", b"data", &sig).unwrap();
    assert_eq!(
        call(&mut s, &mut c, &Request::Remove(public.to_blob()), now),
        Reply::Success
    );
    assert_eq!(call(&mut s, &mut c, &sign, now), Reply::Failure);
    assert_eq!(
        call(&mut s, &mut c, &Request::Remove(public.to_blob()), now),
        Reply::Failure
    );
}

#[test]
fn lifetime_expires_on_the_callers_clock() {
    let t0 = Instant::now();
    let mut s = KeyStore::new(StoreConfig::default());
    let mut c = ConnectionState::new();
    let (blob, _) = ed25519(2);
    call(
        &mut s,
        &mut c,
        &add(blob, vec![Constraint::Lifetime(10)]),
        t0,
    );
    assert_eq!(s.next_expiry(), Some(t0 + Duration::from_secs(10)));
    let list = |s: &mut KeyStore, c: &mut ConnectionState, t| match call(
        s,
        c,
        &Request::RequestIdentities,
        t,
    ) {
        Reply::Identities(ids) => ids.len(),
        _ => panic!(),
    };
    assert_eq!(list(&mut s, &mut c, t0 + Duration::from_secs(9)), 1);
    assert_eq!(list(&mut s, &mut c, t0 + Duration::from_secs(10)), 0);
    // A default lifetime applies to keys added without one.
    let mut d = KeyStore::new(StoreConfig {
        default_lifetime: Some(Duration::from_secs(5)),
        ..StoreConfig::default()
    });
    let (blob, _) = ed25519(3);
    call(&mut d, &mut c, &add(blob, vec![]), t0);
    assert_eq!(d.next_expiry(), Some(t0 + Duration::from_secs(5)));
}

#[test]
fn confirm_and_unknown_constraints_are_refused() {
    let now = Instant::now();
    let mut s = KeyStore::new(StoreConfig::default());
    let mut c = ConnectionState::new();
    let (blob, _) = ed25519(4);
    assert_eq!(
        call(
            &mut s,
            &mut c,
            &add(blob.clone(), vec![Constraint::Confirm]),
            now
        ),
        Reply::Failure
    );
    let ext = Constraint::Extension {
        name: "restrict-destination-v00@openssh.com".into(),
        data: vec![],
    };
    assert_eq!(
        call(&mut s, &mut c, &add(blob, vec![ext]), now),
        Reply::Failure
    );
    assert!(s.identities().is_empty());
}

#[test]
fn lock_hides_keys_until_the_right_passphrase() {
    let now = Instant::now();
    let mut s = KeyStore::new(StoreConfig::default());
    let mut c = ConnectionState::new();
    let (blob, public) = ed25519(5);
    call(&mut s, &mut c, &add(blob, vec![]), now);
    let pw = |p: &[u8]| Zeroizing::new(p.to_vec());
    assert_eq!(
        call(&mut s, &mut c, &Request::Unlock(pw(b"x")), now),
        Reply::Failure
    );
    assert_eq!(
        call(&mut s, &mut c, &Request::Lock(pw(b"secret")), now),
        Reply::Success
    );
    assert_eq!(
        call(&mut s, &mut c, &Request::RequestIdentities, now),
        Reply::Identities(vec![])
    );
    let sign = Request::Sign {
        key: public.to_blob(),
        data: vec![1],
        flags: 0,
    };
    assert_eq!(call(&mut s, &mut c, &sign, now), Reply::Failure);
    assert_eq!(
        call(&mut s, &mut c, &Request::Unlock(pw(b"wrong")), now),
        Reply::Failure
    );
    // Right after a failure even the right passphrase is refused: guessing is slowed.
    assert_eq!(
        call(&mut s, &mut c, &Request::Unlock(pw(b"secret")), now),
        Reply::Failure
    );
    let later = now + UNLOCK_BACKOFF;
    assert_eq!(
        call(&mut s, &mut c, &Request::Unlock(pw(b"wrong")), later),
        Reply::Failure
    );
    // Two failures: 200 ms.
    let t = later + UNLOCK_BACKOFF;
    assert_eq!(
        call(&mut s, &mut c, &Request::Unlock(pw(b"secret")), t),
        Reply::Failure
    );
    let t = later + UNLOCK_BACKOFF * 2;
    assert_eq!(
        call(&mut s, &mut c, &Request::Unlock(pw(b"secret")), t),
        Reply::Success
    );
    let now = t;
    assert!(matches!(
        call(&mut s, &mut c, &sign, now),
        Reply::Signature(_)
    ));
}

#[test]
fn query_and_session_bind() {
    let now = Instant::now();
    let mut s = KeyStore::new(StoreConfig::default());
    let mut c = ConnectionState::new();
    assert_eq!(
        call(&mut s, &mut c, &Request::Extension(Extension::Query), now),
        Reply::Extensions(vec![EXT_QUERY.into(), EXT_SESSION_BIND.into()])
    );
    let host = PrivateKey::ed25519_from_seed(&[9; 32]).unwrap();
    let sid = vec![7u8; 32];
    let good = SessionBind {
        host_key: host.public_key().to_blob(),
        session_id: sid.clone(),
        signature: host.sign("ssh-ed25519", &sid).unwrap(),
        forwarding: true,
    };
    let bind = |b: &SessionBind| Request::Extension(Extension::SessionBind(b.clone()));
    assert_eq!(call(&mut s, &mut c, &bind(&good), now), Reply::Success);
    assert_eq!(c.bindings().len(), 1);
    // A signature over another identifier is refused.
    let mut forged = good.clone();
    forged.session_id = vec![8u8; 32];
    assert_eq!(call(&mut s, &mut c, &bind(&forged), now), Reply::Failure);
    // After a binding for authentication, nothing more binds.
    let mut auth = good.clone();
    auth.session_id = vec![6u8; 32];
    auth.signature = host.sign("ssh-ed25519", &auth.session_id).unwrap();
    auth.forwarding = false;
    assert_eq!(call(&mut s, &mut c, &bind(&auth), now), Reply::Success);
    let mut later = good.clone();
    later.session_id = vec![5u8; 32];
    later.signature = host.sign("ssh-ed25519", &later.session_id).unwrap();
    assert_eq!(call(&mut s, &mut c, &bind(&later), now), Reply::Failure);
    assert_eq!(c.bindings().len(), 2);
}

#[test]
fn rsa_flags_choose_the_algorithm() {
    // The flag-to-algorithm mapping, checked on the store's choice for an RSA public key.
    let flags_alg = |flags: u32| {
        if flags & RSA_SHA2_512 != 0 {
            ALG_512
        } else if flags & RSA_SHA2_256 != 0 {
            ALG_256
        } else {
            SSH_RSA
        }
    };
    assert_eq!(flags_alg(RSA_SHA2_512 | RSA_SHA2_256), "rsa-sha2-512");
    assert_eq!(flags_alg(RSA_SHA2_256), "rsa-sha2-256");
    assert_eq!(flags_alg(0), "ssh-rsa");
}

#[test]
fn garbage_gets_failure_and_oversize_closes() {
    let now = Instant::now();
    let mut s = KeyStore::new(StoreConfig::default());
    let mut c = ConnectionState::new();
    let mut out = Vec::new();
    s.feed(&mut c, &frame(&[num_sign_truncated()]), now, &mut out)
        .unwrap();
    assert_eq!(out, frame(&Response::Failure.encode()));
    let mut big = ConnectionState::new();
    let len = u32::try_from(crate::MAX_MESSAGE + 1).unwrap().to_be_bytes();
    assert!(s.feed(&mut big, &len, now, &mut Vec::new()).is_err());
}

fn num_sign_truncated() -> u8 {
    crate::message::num::SIGN_REQUEST
}
