use super::*;
use crate::wire::{put_string, put_u32};
use base64ct::Base64;
use proptest::prelude::*;

mod kat;

/// Generated with `ssh-keygen -q -N '' -t ed25519 -C kat@seashell`.
const ED25519_LINE: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFT4WRDQpHhN8Uz1WO1gieVo8wXwL7ECAQYG4F384fRQ kat@seashell";
/// `ssh-keygen -lf` of [`ED25519_LINE`].
const ED25519_FP: &str = "SHA256:eGOLUSVN+aX6heNxJl83M8Tor0pLZjQaCUKCK+kjY/Y";

/// Components of a 2048-bit key from `ssh-keygen -t rsa -b 2048 -m PEM`, dumped with
/// `openssl rsa -text`; `ssh-keygen -lf` printed [`RSA_FP`] for it.
const RSA_FP: &str = "SHA256:acRRYkwcTFsCyW07P4z30IpLJzyGjGn7J+hXF8yG0K0";
/// A P-256 key from `ssh-keygen -t ecdsa -b 256 -m PEM`, dumped with `openssl ec -text`;
/// `ssh-keygen -lf` printed [`EC_FP`] for it.
const EC_FP: &str = "SHA256:+gKnYbenOYM5g4j6qwQ7cFZRr0uTE9Bv8yeVHi2eAhw";
const RSA_N: &str = concat!(
    "00a29d1cb055f720e6e57343209daf1f80c69f30bd5624c6571d42692acedebcfd063541c739f683",
    "b68c92dc67d7d38e0cd034900dbb5f061fe6c387421f6066a5d93e69ad760180cb0d6ccf7722af93",
    "332aa0d875324cead01bd2c3779faaa258bd670761f10586506ba9028b8acbbf7d34103387976261",
    "84af9c94200cfe45826be477a6e97441e9284962b14d969a4f9204f3c22e0dd92178c7b792be1672",
    "e84cd80c1d807b208cfb7067d075e5b6aee5e2e534b692d56b3cc65dd7b16bd7e5bb26b51cf586f0",
    "dbf3ea84e4ebfb6240326fe35eccb7c76901640875ff895fc7fe04e1c1fd3ad2f8d0c0b73fff446a",
    "a95e5b1c466811d699ccacbb58d97064d7",
);
const RSA_D: &str = concat!(
    "29dbd394b8ac42b5ecfe7c9b1abc0799f886e5def71bc44a8c6799f6c105a91460d2b8b9f5fbb4ef",
    "fac39b24c7f3d72f09315e9b8a4ded9faca14c6202fda7aead7b596ca361c3ab812b2f447593488a",
    "f5402e380cd8abe1222860d49c2f2a57397a19f6663a8bd68bc017bd9fdecece05e6ddbcdb8521a1",
    "2c2b5c1ddbfa601dc729122ca7b6b394aab3675e9636d0099d85dba2dc958c5a26959ba324131c03",
    "d5f94c95ebd4cb37158815d365e1e8045e74a9e5d388fad43d49b13caf728e529faec91d9ea26d3a",
    "daa510d3d88b5e20f4f15a0575c32378072ddb88ff0655367becd5b173fe51f50aed2887d1e38e47",
    "8950375eccabd0750206dac46c23e051",
);
const RSA_P: &str = concat!(
    "00daa346281215ef67d83fb00ddfca628574b6dd57313b68312c4a216ffc8c1595ad9df170e289c1",
    "e0fa8e0e739314adcdb55cf53fcf75020d17cca2a46a4b82aac45f248be8bb10c8c5442f869d43ee",
    "c5be684f865046c80e89b074f4f391640d93ffa9b3cf6396c70c64168c5508d201dcb2315cc72d7e",
    "1247a7d07820550503",
);
const RSA_Q: &str = concat!(
    "00be66f560768079f8286e2f48eeabfb91b37401d47316b6bf6422fd38f22ff38a21be736dc19f8f",
    "b80a7cbf779923507872085842e13f2cab23d2c115198d7196e4ab72e0dfa2a1cee5b0b0d4227a87",
    "69c664e3690b8fc8a53d4f710b4fc7b93ff74f090a0e66e1946bad46750c0f38f1ee222f4e34f581",
    "b3947fe9b48524c69d",
);
const RSA_IQMP: &str = concat!(
    "00d9b2b99dacfefa2bd70c8dff29c74c331fc080dcf526987c666debdf3546039e0ac0e7f3a6f4a8",
    "8a2e270659ba98d3c688513f4859f6fcb108ac19df38dd283fa8fffe4f65a6847872b1c6c6b3be19",
    "0fdb9c890609eab5f667628f5da252ec78a195da7a748cbd8923150bd372dbda93a4e91a21afbb15",
    "14601fbd98836a7ef7",
);
const EC_D: &str = "345b0cabd4bdfd9fe948d20b2a6663450a1f26e781e265648e37dc710917baa9";
const EC_Q: &str = concat!(
    "04ad9ab137ff7e7900884932267db67740cb8b007b696b5a352dcf1ea970caabb7c7a51f4acc16aa",
    "46de904cbd79cf35ba8dc3779f4e5f792f814a632818c31d4d",
);

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn rsa_key() -> PrivateKey {
    PrivateKey::rsa_from_components(
        &unhex(RSA_N),
        &[1, 0, 1],
        &unhex(RSA_D),
        &unhex(RSA_IQMP),
        &unhex(RSA_P),
        &unhex(RSA_Q),
    )
    .unwrap()
}

fn ecdsa_key() -> PrivateKey {
    PrivateKey::ecdsa_from_scalar(EcdsaCurve::NistP256, &unhex(EC_D), &unhex(EC_Q)).unwrap()
}

/// The P-384 key of the [`kat`] module.
fn p384_key() -> PrivateKey {
    kat::p384_key()
}

/// The P-521 key of the [`kat`] module.
fn p521_key() -> PrivateKey {
    kat::p521_key()
}

fn ed25519_key() -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[7u8; 32]).unwrap()
}

/// Every (key, algorithm) pair we can sign with.
fn all_keys() -> Vec<(PrivateKey, &'static str)> {
    vec![
        (ed25519_key(), SSH_ED25519),
        (ecdsa_key(), ECDSA_SHA2_NISTP256),
        (p384_key(), ECDSA_SHA2_NISTP384),
        (p521_key(), ECDSA_SHA2_NISTP521),
        (rsa_key(), RSA_SHA2_256),
        (rsa_key(), RSA_SHA2_512),
        (rsa_key(), SSH_RSA),
    ]
}

fn sig_blob(alg: &[u8], sig: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_string(&mut out, alg);
    put_string(&mut out, sig);
    out
}

/// Splits a signature blob into (alg, inner signature).
fn split_blob(blob: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut r = Reader::new(blob);
    let alg = r.string("a").unwrap().to_vec();
    let sig = r.string("s").unwrap().to_vec();
    r.end("e").unwrap();
    (alg, sig)
}

#[test]
fn ed25519_fingerprint_matches_ssh_keygen() {
    let b64 = ED25519_LINE.split(' ').nth(1).unwrap();
    let blob = Base64::decode_vec(b64).unwrap();
    let key = PublicKey::from_blob(&blob).unwrap();
    assert_eq!(key.key_type(), "ssh-ed25519");
    assert_eq!(key.to_blob(), blob);
    assert_eq!(key.fingerprint(), ED25519_FP);
}

#[test]
fn rsa_and_ecdsa_fingerprints_match_ssh_keygen() {
    let rsa = rsa_key().public_key();
    assert_eq!(rsa.fingerprint(), RSA_FP);
    assert_eq!(rsa.rsa_bits(), Some(2048));
    assert_eq!(PublicKey::from_blob(&rsa.to_blob()).unwrap(), rsa);
    let ec = ecdsa_key().public_key();
    assert_eq!(ec.fingerprint(), EC_FP);
    assert_eq!(PublicKey::from_blob(&ec.to_blob()).unwrap(), ec);
}

#[test]
fn sign_verify_round_trip_every_algorithm() {
    for (key, alg) in all_keys() {
        let public = key.public_key();
        assert!(public.signature_algorithms().contains(&alg));
        let blob = key.sign(alg, b"exchange hash").unwrap();
        let (got_alg, _) = split_blob(&blob);
        assert_eq!(got_alg, alg.as_bytes());
        public.verify(alg, b"exchange hash", &blob).unwrap();
        // Also through a re-parsed public key.
        let reparsed = PublicKey::from_blob(&public.to_blob()).unwrap();
        reparsed.verify(alg, b"exchange hash", &blob).unwrap();
    }
}

#[test]
fn verify_fails_for_wrong_data_or_key() {
    let other = PrivateKey::ed25519_from_seed(&[8u8; 32])
        .unwrap()
        .public_key();
    for (key, alg) in all_keys() {
        let blob = key.sign(alg, b"data").unwrap();
        let err = key.public_key().verify(alg, b"datb", &blob).unwrap_err();
        assert_eq!(err, Error::Crypto(CryptoError::BadSignature));
        assert!(other.verify(alg, b"data", &blob).is_err());
    }
}

#[test]
fn verify_fails_for_wrong_alg_name_in_blob() {
    let mismatch = Error::PeerMisbehaved(PeerMisbehaved::SignatureAlgorithmMismatch);
    for (key, alg) in all_keys() {
        let (_, sig) = split_blob(&key.sign(alg, b"data").unwrap());
        for wrong in [
            "ssh-rsa",
            "ssh-ed25519x",
            "",
            "ecdsa-sha2-nistp384",
            "rsa-sha2-512",
        ] {
            if wrong == alg {
                continue;
            }
            let blob = sig_blob(wrong.as_bytes(), &sig);
            assert_eq!(
                key.public_key().verify(alg, b"data", &blob).unwrap_err(),
                mismatch
            );
        }
    }
}

#[test]
fn verify_fails_on_rsa_algorithm_mismatch() {
    let key = rsa_key();
    let mismatch = Error::PeerMisbehaved(PeerMisbehaved::SignatureAlgorithmMismatch);
    let blob512 = key.sign(RSA_SHA2_512, b"data").unwrap();
    let err = key
        .public_key()
        .verify(RSA_SHA2_256, b"data", &blob512)
        .unwrap_err();
    assert_eq!(err, mismatch);
    // Relabelled: the name says sha256 but the signature was made with sha512.
    let (_, sig) = split_blob(&blob512);
    let relabelled = sig_blob(RSA_SHA2_256.as_bytes(), &sig);
    let err = key
        .public_key()
        .verify(RSA_SHA2_256, b"data", &relabelled)
        .unwrap_err();
    assert_eq!(err, Error::Crypto(CryptoError::BadSignature));
}

#[test]
fn expected_alg_must_suit_key() {
    let mismatch = Error::PeerMisbehaved(PeerMisbehaved::SignatureAlgorithmMismatch);
    let rsa = rsa_key();
    let (_, sig) = split_blob(&rsa.sign(RSA_SHA2_256, b"d").unwrap());
    // A SHA-256 signature relabelled as SHA-1 ssh-rsa does not verify.
    let blob = sig_blob(b"ssh-rsa", &sig);
    assert_eq!(
        rsa.public_key().verify("ssh-rsa", b"d", &blob).unwrap_err(),
        Error::Crypto(CryptoError::BadSignature)
    );
    // An ECDSA key does not verify with another curve's algorithm.
    let p384 = p384_key();
    let blob = p384.sign(ECDSA_SHA2_NISTP384, b"d").unwrap();
    let (_, sig) = split_blob(&blob);
    for other in [ECDSA_SHA2_NISTP256, ECDSA_SHA2_NISTP521] {
        let relabelled = sig_blob(other.as_bytes(), &sig);
        assert_eq!(
            p384.public_key()
                .verify(other, b"d", &relabelled)
                .unwrap_err(),
            mismatch
        );
    }
    let ed = ed25519_key();
    let blob = ed.sign(SSH_ED25519, b"d").unwrap();
    assert_eq!(
        ed.public_key()
            .verify(RSA_SHA2_256, b"d", &blob)
            .unwrap_err(),
        mismatch
    );
}

#[test]
fn sign_refuses_unsuitable_algorithm() {
    let signing = Error::Crypto(CryptoError::Signing);
    assert_eq!(ed25519_key().sign(RSA_SHA2_256, b"d").unwrap_err(), signing);
    assert_eq!(
        rsa_key().sign(ECDSA_SHA2_NISTP256, b"d").unwrap_err(),
        signing
    );
    assert_eq!(ecdsa_key().sign(SSH_ED25519, b"d").unwrap_err(), signing);
    assert_eq!(
        ecdsa_key().sign(ECDSA_SHA2_NISTP384, b"d").unwrap_err(),
        signing
    );
    assert_eq!(
        p384_key().sign(ECDSA_SHA2_NISTP521, b"d").unwrap_err(),
        signing
    );
    assert_eq!(
        p521_key().sign(ECDSA_SHA2_NISTP256, b"d").unwrap_err(),
        signing
    );
}

#[test]
fn mutated_signature_blobs_never_verify() {
    for (key, alg) in all_keys() {
        let public = key.public_key();
        let blob = key.sign(alg, b"payload").unwrap();
        for i in 0..blob.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut m = blob.clone();
                m[i] ^= mask;
                assert!(
                    public.verify(alg, b"payload", &m).is_err(),
                    "{alg} flip {i}"
                );
            }
            assert!(
                public.verify(alg, b"payload", &blob[..i]).is_err(),
                "{alg} cut {i}"
            );
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert!(public.verify(alg, b"payload", &longer).is_err());
    }
}

#[test]
fn rsa_short_signature_is_left_padded_long_one_refused() {
    let key = rsa_key();
    let public = key.public_key();
    // Find a signature whose first byte is zero (about one in 256) and strip it.
    let mut found = false;
    for i in 0u32..4096 {
        let data = i.to_be_bytes();
        let (_, sig) = split_blob(&key.sign(RSA_SHA2_256, &data).unwrap());
        if sig[0] == 0 {
            let short = sig_blob(RSA_SHA2_256.as_bytes(), &sig[1..]);
            public.verify(RSA_SHA2_256, &data, &short).unwrap();
            found = true;
            break;
        }
    }
    assert!(found, "no signature with a leading zero byte in 4096 tries");
    let (_, sig) = split_blob(&key.sign(RSA_SHA2_256, b"x").unwrap());
    let mut long = vec![0u8];
    long.extend_from_slice(&sig);
    let blob = sig_blob(RSA_SHA2_256.as_bytes(), &long);
    assert!(public.verify(RSA_SHA2_256, b"x", &blob).is_err());
}

#[test]
fn ecdsa_signature_encoding_rules() {
    let key = ecdsa_key();
    let public = key.public_key();
    let (_, inner) = split_blob(&key.sign(ECDSA_SHA2_NISTP256, b"m").unwrap());
    let mut r = Reader::new(&inner);
    let sr = r.mpint_positive("r").unwrap().to_vec();
    let ss = r.mpint_positive("s").unwrap().to_vec();
    // A 33-byte r (after stripping) is refused; a zero r is refused.
    for (bad_r, bad_s) in [
        (vec![1u8; 33], ss.clone()),
        (vec![], ss.clone()),
        (sr.clone(), vec![]),
    ] {
        let mut inner = Vec::new();
        put_mpint(&mut inner, &bad_r);
        put_mpint(&mut inner, &bad_s);
        let blob = sig_blob(ECDSA_SHA2_NISTP256.as_bytes(), &inner);
        let err = public.verify(ECDSA_SHA2_NISTP256, b"m", &blob).unwrap_err();
        assert_eq!(err, Error::Crypto(CryptoError::BadSignature));
    }
    // Trailing bytes inside the signature string are refused.
    let mut padded = inner.clone();
    padded.push(0);
    let blob = sig_blob(ECDSA_SHA2_NISTP256.as_bytes(), &padded);
    assert!(public.verify(ECDSA_SHA2_NISTP256, b"m", &blob).is_err());
}

#[test]
fn mismatched_private_components_are_refused() {
    let other = PrivateKey::ed25519_from_seed(&[9u8; 32])
        .unwrap()
        .public_key();
    let PublicKey::Ed25519(other_pk) = other else {
        unreachable!()
    };
    assert!(PrivateKey::ed25519_from_seed_and_public(&[7u8; 32], &other_pk).is_err());
    let PublicKey::Ed25519(pk) = ed25519_key().public_key() else {
        unreachable!()
    };
    let key = PrivateKey::ed25519_from_seed_and_public(&[7u8; 32], &pk).unwrap();
    assert_eq!(key.public_key(), ed25519_key().public_key());

    let mut q = unhex(EC_Q);
    q[40] ^= 1;
    let p256 = EcdsaCurve::NistP256;
    assert!(PrivateKey::ecdsa_from_scalar(p256, &unhex(EC_D), &q).is_err());
    assert!(PrivateKey::ecdsa_from_scalar(p256, &[1u8; 33], &unhex(EC_Q)).is_err());
    assert!(PrivateKey::ecdsa_from_scalar(p256, &unhex(EC_D), &unhex(EC_Q)[1..]).is_err());
    // The right scalar and point, named with the wrong curve.
    let p384 = EcdsaCurve::NistP384;
    assert!(PrivateKey::ecdsa_from_scalar(p384, &unhex(EC_D), &unhex(EC_Q)).is_err());

    let (n, d, p, q, iqmp) = (
        unhex(RSA_N),
        unhex(RSA_D),
        unhex(RSA_P),
        unhex(RSA_Q),
        unhex(RSA_IQMP),
    );
    let e = [1u8, 0, 1];
    let mut bad_p = p.clone();
    bad_p[100] ^= 4;
    assert!(PrivateKey::rsa_from_components(&n, &e, &d, &iqmp, &bad_p, &q).is_err());
    assert!(PrivateKey::rsa_from_components(&n, &e, &d, &iqmp, &[1], &q).is_err());
    assert!(PrivateKey::rsa_from_components(&n, &e, &d, &iqmp, &[], &q).is_err());
    assert!(PrivateKey::rsa_from_components(&n, &e, &d, &q, &p, &q).is_err());
    assert!(PrivateKey::rsa_from_components(&[], &e, &d, &iqmp, &p, &q).is_err());
    let huge = vec![0xffu8; 1000];
    assert!(PrivateKey::rsa_from_components(&huge, &e, &d, &iqmp, &p, &q).is_err());
    assert!(PrivateKey::rsa_from_components(&n, &e, &huge, &iqmp, &p, &q).is_err());
    // A wrong d (and so wrong dP, dQ) is caught by the self-test signature.
    let mut bad_d = d.clone();
    bad_d[200] ^= 1;
    assert!(PrivateKey::rsa_from_components(&n, &e, &bad_d, &iqmp, &p, &q).is_err());
    // A wrong e likewise.
    assert!(PrivateKey::rsa_from_components(&n, &[1, 0, 3], &d, &iqmp, &p, &q).is_err());
}

#[test]
fn debug_does_not_print_secrets() {
    let key = PrivateKey::ed25519_from_seed(&[0xabu8; 32]).unwrap();
    let dbg = format!("{key:?}");
    assert!(dbg.contains("ssh-ed25519"));
    assert!(dbg.contains(&key.public_key().fingerprint()));
    assert!(!dbg.to_lowercase().contains("abab"));
    let rsa = format!("{:?}", rsa_key());
    assert!(!rsa.contains(&RSA_D[..16]));
}

#[test]
fn generated_ed25519_keys_work() {
    let a = PrivateKey::ed25519_generate().unwrap();
    let b = PrivateKey::ed25519_generate().unwrap();
    assert_ne!(a.public_key(), b.public_key());
    let blob = a.sign(SSH_ED25519, b"x").unwrap();
    a.public_key().verify(SSH_ED25519, b"x", &blob).unwrap();
}

fn rsa_blob(e: &[u8], n: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_string(&mut out, b"ssh-rsa");
    put_mpint(&mut out, e);
    put_mpint(&mut out, n);
    out
}

#[test]
fn from_blob_rejects_bad_keys() {
    let bad = Error::Crypto(CryptoError::BadPublicKey);
    // Trailing bytes.
    for key in all_keys().into_iter().map(|(k, _)| k.public_key()) {
        let mut blob = key.to_blob();
        blob.push(0);
        assert!(PublicKey::from_blob(&blob).is_err());
    }
    // RSA bounds.
    let mut n = vec![0xc1u8; 64];
    n[63] |= 1;
    assert_eq!(
        PublicKey::from_blob(&rsa_blob(&[1, 0, 1], &n)).unwrap_err(),
        bad
    );
    let n = vec![0xc1u8; 16384 / 8 + 1];
    assert_eq!(
        PublicKey::from_blob(&rsa_blob(&[1, 0, 1], &n)).unwrap_err(),
        bad
    );
    let n = unhex(RSA_N);
    assert_eq!(
        PublicKey::from_blob(&rsa_blob(&[1, 0, 0], &n)).unwrap_err(),
        bad
    );
    assert_eq!(PublicKey::from_blob(&rsa_blob(&[1], &n)).unwrap_err(), bad);
    assert_eq!(PublicKey::from_blob(&rsa_blob(&[], &n)).unwrap_err(), bad);
    let key = PublicKey::from_blob(&rsa_blob(&[0, 0, 1, 0, 1], &n)).unwrap();
    assert_eq!(key, rsa_key().public_key());
    // A negative mpint.
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-rsa");
    put_string(&mut blob, &[0x81]);
    put_mpint(&mut blob, &n);
    assert!(PublicKey::from_blob(&blob).is_err());
    // ECDSA curve and point framing.
    let q = unhex(EC_Q);
    for (curve, point) in [
        (&b"nistp384"[..], q.clone()),
        (&b"nistp256"[..], q[..64].to_vec()),
        (&b"nistp256"[..], [&[0x02], &q[1..]].concat()),
    ] {
        let mut blob = Vec::new();
        put_string(&mut blob, b"ecdsa-sha2-nistp256");
        put_string(&mut blob, curve);
        put_string(&mut blob, &point);
        assert_eq!(PublicKey::from_blob(&blob).unwrap_err(), bad);
    }
    // Ed25519 length; unknown type; empty.
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-ed25519");
    put_string(&mut blob, &[0u8; 31]);
    assert_eq!(PublicKey::from_blob(&blob).unwrap_err(), bad);
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-dss");
    assert_eq!(PublicKey::from_blob(&blob).unwrap_err(), bad);
    assert!(PublicKey::from_blob(&[]).is_err());
    // A huge declared length is a truncation error, not an allocation.
    let mut blob = Vec::new();
    put_u32(&mut blob, u32::MAX);
    assert!(PublicKey::from_blob(&blob).is_err());
}

#[test]
fn mutated_public_blobs_never_panic() {
    for key in all_keys().into_iter().map(|(k, _)| k.public_key()) {
        let blob = key.to_blob();
        for i in 0..blob.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut m = blob.clone();
                m[i] ^= mask;
                if let Ok(k) = PublicKey::from_blob(&m) {
                    assert_eq!(PublicKey::from_blob(&k.to_blob()).unwrap(), k);
                }
            }
            assert!(PublicKey::from_blob(&blob[..i]).is_err());
        }
    }
}

proptest! {
    #[test]
    fn from_blob_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = PublicKey::from_blob(&bytes);
    }

    #[test]
    fn from_blob_never_panics_with_valid_prefix(
        which in 0usize..5,
        tail in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let name: &[u8] = [
            &b"ssh-ed25519"[..],
            b"ecdsa-sha2-nistp256",
            b"ecdsa-sha2-nistp384",
            b"ecdsa-sha2-nistp521",
            b"ssh-rsa",
        ][which];
        let mut blob = Vec::new();
        put_string(&mut blob, name);
        blob.extend_from_slice(&tail);
        let _ = PublicKey::from_blob(&blob);
    }

    #[test]
    fn verify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let ed = ed25519_key().public_key();
        prop_assert!(ed.verify(SSH_ED25519, b"d", &bytes).is_err());
        for key in [ecdsa_key(), p384_key(), p521_key()] {
            let ec = key.public_key();
            let alg = ec.key_type();
            prop_assert!(ec.verify(alg, b"d", &bytes).is_err());
            let blob = sig_blob(alg.as_bytes(), &bytes);
            prop_assert!(ec.verify(alg, b"d", &blob).is_err());
        }
        let rsa = rsa_key().public_key();
        let blob = sig_blob(b"ssh-rsa", &bytes);
        prop_assert!(rsa.verify(SSH_RSA, b"d", &blob).is_err());
    }
}
