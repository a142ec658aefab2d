//! FIDO signatures made in software, in the layouts of OpenSSH `PROTOCOL.u2f`.

use super::*;
use crate::keys::PrivateKey;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

const APP: &str = "ssh:";

/// What the authenticator signs: SHA256(app) || flags || counter || ext || SHA256(msg) (or
/// the clientData hash for webauthn).
fn to_sign(flags: u8, counter: u32, ext: &[u8], msghash: &[u8]) -> Vec<u8> {
    let mut v = sha256(APP.as_bytes()).as_ref().to_vec();
    v.push(flags);
    v.extend_from_slice(&counter.to_be_bytes());
    v.extend_from_slice(ext);
    v.extend_from_slice(msghash);
    v
}

fn ed_key() -> (Ed25519KeyPair, PublicKey) {
    let pair = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).unwrap();
    let key: [u8; 32] = pair.public_key().as_ref().try_into().unwrap();
    let public = PublicKey::SkEd25519 {
        key,
        application: APP.into(),
    };
    (pair, public)
}

fn ed_sig(pair: &Ed25519KeyPair, flags: u8, counter: u32, msg: &[u8]) -> Vec<u8> {
    let sig = pair.sign(&to_sign(flags, counter, &[], sha256(msg).as_ref()));
    let mut out = Vec::new();
    put_string(&mut out, SK_SSH_ED25519.as_bytes());
    put_string(&mut out, sig.as_ref());
    out.push(flags);
    put_u32(&mut out, counter);
    out
}

fn ec_key() -> (EcdsaKeyPair, PublicKey) {
    let rng = SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng).unwrap();
    let public = PublicKey::SkEcdsa {
        point: pair.public_key().as_ref().to_vec(),
        application: APP.into(),
    };
    (pair, public)
}

/// An ECDSA signature over `signed` as `string(mpint r, mpint s)` contents.
fn ec_raw(pair: &EcdsaKeyPair, signed: &[u8]) -> Vec<u8> {
    let fixed = pair.sign(&SystemRandom::new(), signed).unwrap();
    EcdsaCurve::NistP256.fixed_to_ssh(fixed.as_ref()).unwrap()
}

fn ec_sig(pair: &EcdsaKeyPair, flags: u8, counter: u32, msg: &[u8]) -> Vec<u8> {
    let raw = ec_raw(pair, &to_sign(flags, counter, &[], sha256(msg).as_ref()));
    let mut out = Vec::new();
    put_string(&mut out, SK_ECDSA_SHA2_NISTP256.as_bytes());
    put_string(&mut out, &raw);
    out.push(flags);
    put_u32(&mut out, counter);
    out
}

#[test]
fn ed25519_sk_signatures() {
    let (pair, key) = ed_key();
    let blob = key.to_blob();
    assert_eq!(PublicKey::from_blob(&blob).unwrap(), key);
    assert_eq!(key.key_type(), SK_SSH_ED25519);
    let sig = ed_sig(&pair, SK_USER_PRESENCE, 7, b"msg");
    let info = key.verify_detailed(SK_SSH_ED25519, b"msg", &sig).unwrap();
    assert_eq!(
        info,
        Some(SkSignatureInfo {
            flags: SK_USER_PRESENCE,
            counter: 7
        })
    );
    assert!(info.unwrap().user_present() && !info.unwrap().user_verified());
    assert!(key.verify(SK_SSH_ED25519, b"other", &sig).is_err());
    // Flags and counter are signed: changing them breaks the signature.
    let mut tampered = sig.clone();
    let at = tampered.len() - 5;
    tampered[at] = 0;
    assert!(key.verify(SK_SSH_ED25519, b"msg", &tampered).is_err());
    // Another application is another key.
    let PublicKey::SkEd25519 { key: raw, .. } = key.clone() else {
        unreachable!()
    };
    let other = PublicKey::SkEd25519 {
        key: raw,
        application: "ssh:other".into(),
    };
    assert!(other.verify(SK_SSH_ED25519, b"msg", &sig).is_err());
    // A plain Ed25519 signature is no sk signature.
    let plain = PrivateKey::ed25519_from_seed(&[9; 32])
        .unwrap()
        .sign("ssh-ed25519", b"msg")
        .unwrap();
    assert!(key.verify(SK_SSH_ED25519, b"msg", &plain).is_err());
}

#[test]
fn ecdsa_sk_signatures() {
    let (pair, key) = ec_key();
    assert_eq!(PublicKey::from_blob(&key.to_blob()).unwrap(), key);
    let sig = ec_sig(&pair, SK_USER_PRESENCE | SK_USER_VERIFICATION, 1, b"msg");
    let info = key
        .verify_detailed(SK_ECDSA_SHA2_NISTP256, b"msg", &sig)
        .unwrap()
        .unwrap();
    assert!(info.user_present() && info.user_verified());
    let no_touch = ec_sig(&pair, 0, 2, b"msg");
    let info = key
        .verify_detailed(SK_ECDSA_SHA2_NISTP256, b"msg", &no_touch)
        .unwrap()
        .unwrap();
    assert!(!info.user_present());
    assert!(key.verify(SK_ECDSA_SHA2_NISTP256, b"msg2", &sig).is_err());
    // Trailing bytes are refused.
    let mut long = sig.clone();
    long.push(0);
    assert!(key.verify(SK_ECDSA_SHA2_NISTP256, b"msg", &long).is_err());
}

fn webauthn_sig(
    pair: &EcdsaKeyPair,
    flags: u8,
    msg_in_client_data: &[u8],
    origin: &str,
    ext: &[u8],
) -> Vec<u8> {
    let mut client_data = webauthn_preamble(msg_in_client_data, origin);
    client_data.extend_from_slice(br#","crossOrigin":false}"#);
    let raw = ec_raw(pair, &to_sign(flags, 3, ext, sha256(&client_data).as_ref()));
    let mut out = Vec::new();
    put_string(&mut out, WEBAUTHN_SK_ECDSA_SHA2_NISTP256.as_bytes());
    put_string(&mut out, &raw);
    out.push(flags);
    put_u32(&mut out, 3);
    put_string(&mut out, origin.as_bytes());
    put_string(&mut out, &client_data);
    put_string(&mut out, ext);
    out
}

#[test]
fn webauthn_signatures() {
    let (pair, key) = ec_key();
    let alg = WEBAUTHN_SK_ECDSA_SHA2_NISTP256;
    let sig = webauthn_sig(&pair, SK_USER_PRESENCE, b"msg", "https://example.com", &[]);
    let info = key.verify_detailed(alg, b"msg", &sig).unwrap().unwrap();
    assert_eq!(info.counter, 3);
    // The challenge must be the signed data.
    let wrong = webauthn_sig(
        &pair,
        SK_USER_PRESENCE,
        b"other",
        "https://example.com",
        &[],
    );
    assert!(key.verify(alg, b"msg", &wrong).is_err());
    // Extensions need the ED flag and vice versa; the AD flag is refused; no quote in origin.
    let ext = webauthn_sig(&pair, SK_USER_PRESENCE, b"msg", "o", b"\xa0");
    assert!(key.verify(alg, b"msg", &ext).is_err());
    let ext = webauthn_sig(&pair, SK_USER_PRESENCE | 0x80, b"msg", "o", b"\xa0");
    assert!(key.verify(alg, b"msg", &ext).is_ok());
    let ad = webauthn_sig(&pair, SK_USER_PRESENCE | 0x40, b"msg", "o", &[]);
    assert!(key.verify(alg, b"msg", &ad).is_err());
    let quote = webauthn_sig(&pair, SK_USER_PRESENCE, b"msg", "o\"", &[]);
    assert!(key.verify(alg, b"msg", &quote).is_err());
    // The webauthn form is not accepted under the plain name, nor the reverse.
    assert!(key.verify(SK_ECDSA_SHA2_NISTP256, b"msg", &sig).is_err());
}

#[test]
fn sk_certificates_parse() {
    let (_, key) = ed_key();
    let ca = PrivateKey::ed25519_from_seed(&[1; 32]).unwrap();
    let fields = crate::keys::CertFields {
        nonce: vec![0; 32],
        key: key.clone(),
        serial: 1,
        cert_type: crate::keys::CertType::User,
        key_id: "sk".into(),
        principals: vec!["a".into()],
        valid_after: 0,
        valid_before: u64::MAX,
        critical_options: Vec::new(),
        extensions: Vec::new(),
    };
    let cert = crate::keys::Certificate::issue(&fields, &ca, "ssh-ed25519").unwrap();
    assert_eq!(cert.key_type(), "sk-ssh-ed25519-cert-v01@openssh.com");
    assert_eq!(cert.key(), &key);
    let (_, ec) = ec_key();
    let fields = crate::keys::CertFields {
        key: ec.clone(),
        ..fields
    };
    let cert = crate::keys::Certificate::issue(&fields, &ca, "ssh-ed25519").unwrap();
    assert_eq!(cert.key(), &ec);
    cert.verify_signature().unwrap();
}

#[test]
fn server_auth_accepts_sk_signatures_and_reports_the_flags() {
    use crate::auth::server::{ServerAuth, Session};
    use crate::event::AuthAttempt;
    use crate::wire::{msg, put_bool};
    let config = crate::config::ServerConfig::new(Vec::new());
    let mut auth = ServerAuth::new(&config, [0; 16]);
    let mut svc = vec![msg::SERVICE_REQUEST];
    put_string(&mut svc, b"ssh-userauth");
    auth.on_service_request(&svc).unwrap();
    let (pair, key) = ed_key();
    let session = Session {
        id: b"session id",
        host_key: None,
    };
    let request = |flags: u8| {
        let mut p = vec![msg::USERAUTH_REQUEST];
        put_string(&mut p, b"alice");
        put_string(&mut p, b"ssh-connection");
        put_string(&mut p, b"publickey");
        put_bool(&mut p, true);
        put_string(&mut p, SK_SSH_ED25519.as_bytes());
        put_string(&mut p, &key.to_blob());
        let mut signed = Vec::new();
        put_string(&mut signed, session.id);
        signed.extend_from_slice(&p);
        put_string(&mut p, &ed_sig(&pair, flags, 11, &signed));
        p
    };
    #[allow(clippy::disallowed_methods)] // the base of the test's virtual clock
    let now = std::time::Instant::now();
    let out = auth.on_message(&request(0x00), &session, now).unwrap();
    let req = out.request.expect("an attempt for the application");
    match req.attempt() {
        AuthAttempt::PublicKey { key: k, sk, .. } => {
            assert_eq!(k, &key);
            assert_eq!(
                *sk,
                Some(SkSignatureInfo {
                    flags: 0,
                    counter: 11
                })
            );
        }
        other => panic!("unexpected attempt {other:?}"),
    }
}
