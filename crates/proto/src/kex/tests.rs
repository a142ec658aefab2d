use super::curve25519::{Curve25519, HashInputs};
use super::negotiate::negotiate;
use super::*;
use crate::crypto::{CipherAlg, SystemRandom};
use proptest::prelude::*;

fn lists(kex: &[&str], hk: &[&str], ciphers: &[&str]) -> [Vec<String>; 10] {
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    [
        v(kex),
        v(hk),
        v(ciphers),
        v(ciphers),
        v(&[]),
        v(&[]),
        v(&["none"]),
        v(&["none"]),
        v(&[]),
        v(&[]),
    ]
}

#[test]
fn kexinit_round_trip_and_negotiation() {
    let rng = SystemRandom::new();
    let c = KexInit::build(
        lists(
            &["curve25519-sha256", "ext-info-c", STRICT_KEX_CLIENT],
            &["ssh-ed25519", "rsa-sha2-512"],
            &["aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"],
        ),
        &rng,
    )
    .unwrap();
    let s = KexInit::decode(
        KexInit::build(
            lists(
                &[
                    "curve25519-sha256@libssh.org",
                    "curve25519-sha256",
                    STRICT_KEX_SERVER,
                ],
                &["rsa-sha2-512", "ssh-ed25519"],
                &["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"],
            ),
            &rng,
        )
        .unwrap()
        .raw,
    )
    .unwrap();
    let c2 = KexInit::decode(c.raw.clone()).unwrap();
    assert_eq!(c2.lists, c.lists);
    let n = negotiate(&c2, &s, true).unwrap();
    assert_eq!(n.kex, KexAlg::Curve25519Sha256);
    assert_eq!(n.host_key, "ssh-ed25519");
    assert_eq!(n.cipher_c2s, CipherAlg::Aes256Gcm);
    assert!(s.offers(slot::KEX, STRICT_KEX_SERVER));
}

#[test]
fn markers_are_never_chosen() {
    let rng = SystemRandom::new();
    let c = KexInit::build(
        lists(
            &["ext-info-c", STRICT_KEX_CLIENT],
            &["ssh-ed25519"],
            &["aes128-gcm@openssh.com"],
        ),
        &rng,
    )
    .unwrap();
    let s = KexInit::build(
        lists(
            &["ext-info-c", STRICT_KEX_CLIENT],
            &["ssh-ed25519"],
            &["aes128-gcm@openssh.com"],
        ),
        &rng,
    )
    .unwrap();
    let e = negotiate(&c, &s, true).unwrap_err();
    assert!(matches!(e, Error::PeerIncompatible(_)), "{e:?}");
}

#[test]
fn no_common_cipher_names_both_lists() {
    let rng = SystemRandom::new();
    let c = KexInit::build(
        lists(
            &["curve25519-sha256"],
            &["ssh-ed25519"],
            &["aes128-gcm@openssh.com"],
        ),
        &rng,
    )
    .unwrap();
    let s = KexInit::build(
        lists(&["curve25519-sha256"], &["ssh-ed25519"], &["aes128-ctr"]),
        &rng,
    )
    .unwrap();
    let e = negotiate(&c, &s, true).unwrap_err().to_string();
    assert!(
        e.contains("aes128-gcm@openssh.com") && e.contains("aes128-ctr"),
        "{e}"
    );
}

#[test]
fn trailing_byte_after_kexinit_rejected() {
    let rng = SystemRandom::new();
    let c = KexInit::build(
        lists(
            &["curve25519-sha256"],
            &["ssh-ed25519"],
            &["aes128-gcm@openssh.com"],
        ),
        &rng,
    )
    .unwrap();
    let mut raw = c.raw.to_vec();
    raw.push(0);
    assert!(KexInit::decode(Bytes::from(raw)).is_err());
}

#[test]
fn x25519_both_sides_agree_and_reject_bad_points() {
    let inputs = HashInputs {
        client_ident: b"a",
        server_ident: b"b",
        client_kexinit: b"c",
        server_kexinit: b"d",
        host_key: b"e",
    };
    let a = Curve25519::generate().unwrap();
    let b = Curve25519::generate().unwrap();
    let (pa, pb) = (*a.public(), *b.public());
    let ka = a
        .finish(KexAlg::Curve25519Sha256, &pb, inputs, true)
        .unwrap();
    let kb = b
        .finish(KexAlg::Curve25519Sha256, &pa, inputs, false)
        .unwrap();
    assert_eq!(ka.exchange_hash, kb.exchange_hash);
    assert_eq!(*ka.shared_secret, *kb.shared_secret);
    // All-zero point (low order) and wrong lengths fail, never panic.
    for bad in [vec![0u8; 32], vec![1u8; 31], vec![1u8; 33], vec![]] {
        let c = Curve25519::generate().unwrap();
        assert!(
            c.finish(KexAlg::Curve25519Sha256, &bad, inputs, true)
                .is_err()
        );
    }
}

proptest! {
    #[test]
    fn kexinit_decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = KexInit::decode(Bytes::from(data));
    }
}
