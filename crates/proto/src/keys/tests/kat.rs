//! Known answers from OpenSSH and OpenSSL-backed tools: P-384 and P-521 keys made by
//! `ssh-keygen`, signatures made by `ssh-keygen -Y sign`, and a SHA-1 RSA signature made by
//! Python's `cryptography` (OpenSSL) for the RSA test key.

use super::*;
use ring::digest;

/// `ssh-keygen -t ecdsa -b 384`, private scalar and public point.
const P384_D: &str = concat!(
    "3a94eefdeda3a1d4436a7a042e3f254704d639cd1fc40e517955bbdf7aed4f1308e703ce4064cc83",
    "37bf13dc0f501981",
);
const P384_Q: &str = concat!(
    "046585e232b4089f50e44c078f762a3c3297abdbb94dd154c50ec6bf440958c99fb73169c9d9b7e8",
    "61c67bceed229a6008f0967f7e69216c344666f481c8ac3f3708185fe276cea8b3ca28f70cd2d45e",
    "8bc6d6cb28aa8fa10f3998c1236405c07c",
);
/// `ssh-keygen -lf` of the P-384 key.
const P384_FP: &str = "SHA256:jnvEcbyQ+3L6x3hW1xk6mWt25VVTDnA//p6CIJ6iYbM";
/// The signature blob inside `ssh-keygen -Y sign -n file` of [`MESSAGE`] with the P-384 key.
const P384_SSHSIG: &str = concat!(
    "0000001365636473612d736861322d6e69737470333834000000690000003100fa24def80769f5ba",
    "927dcb5137597833a5fc8761af690029a6fe432f8bbf1880f2da9bee65a4ea741988c67aad608119",
    "00000030044d3a6deed89a217bad7522a37d86f0cf002b3e7727bac69a3bab77dcab47c2c597b145",
    "6e2fd9a08e24e2cffa114914",
);

/// `ssh-keygen -t ecdsa -b 521`, private scalar and public point.
const P521_D: &str = concat!(
    "002a8d27aa419b2249437900b8ec73070e5103563e2990144b3f9e8cbe6e1adf5efeb24f3f8a3cf5",
    "3a34586d974331b74900deeae9a873909b4529a9d576c0441880",
);
const P521_Q: &str = concat!(
    "0400d236bb60d1ad5574ba169288a31e50c6e99a926c52214ab3400460d04230fa760454d13a8780",
    "3071c3640db07b52c1327bb8e9dcd3efe187ccca70b5a220912ebd0012533aae6f4b2b0197dd53ec",
    "1e4813c5e2b148f50370591f88d5d9dd0994b9484545880787204ab49265ec57bb69c945382fab1d",
    "2e3f842f2190ed6858ab21bbc3",
);
/// `ssh-keygen -lf` of the P-521 key.
const P521_FP: &str = "SHA256:VzYEs7VPGpaYn+SIyD8WaLlNsxMfWZsXiim5ShS48cE";
/// The signature blob inside `ssh-keygen -Y sign -n file` of [`MESSAGE`] with the P-521 key.
const P521_SSHSIG: &str = concat!(
    "0000001365636473612d736861322d6e697374703532310000008c000000420083467b0084a73bda",
    "de97849f1c5e34a6b8721aece8ac07e84fd35e58299d2f09741bad090f2f785ee43388b339707a19",
    "2cf380d1444a06add26a5838f36f22af42000000420198a2858d53222ce2333ef4aae41fa9ced9b2",
    "251ed3bc57d52d1b8287674c86d24928fa8600ef39487f74a42f1be355107b6ea9e781aaf9d77b61",
    "38f13be93415d1",
);

/// The message signed in these answers.
const MESSAGE: &[u8] = b"seashell kat message\n";

/// RSASSA-PKCS1-v1_5 with SHA-1 of [`MESSAGE`] under the RSA test key, made by
/// `cryptography` (OpenSSL).
const RSA_SHA1_SIG: &str = concat!(
    "0a48b8fee7ecfc0325e14878f758875a80d7ff6a0e647eb6018ee2cec1c90edeadf07b99ed5c585b",
    "263bb388cadb86583368400deb127e3bb7781e882df9b86386abc15cf69855bc7d757853e0e0589e",
    "8f221023767dec5cdd6dbfbf1aa06ca5b494ea271fd6bba3e889664d3ddecd6a0c380ef466ae1661",
    "863a1c7b24e00a2917d3b728989c1eb963b628433f00ee39d1c68333ba205a210c24577d44a6e544",
    "54536cb268af2157c5babcca1769ff7932635f1e743d4d87c6e9acd450c6d1bb02464c2c3f6af09e",
    "aa0fa2aaf7262852cab829c3c28caecfd05f98abf916326b4048fda2770c443167a1917b281ce9cf",
    "46ae1d4c43ccfde151a631a0d6f6cbbe",
);

pub(super) fn p384_key() -> PrivateKey {
    PrivateKey::ecdsa_from_scalar(EcdsaCurve::NistP384, &unhex(P384_D), &unhex(P384_Q)).unwrap()
}

pub(super) fn p521_key() -> PrivateKey {
    PrivateKey::ecdsa_from_scalar(EcdsaCurve::NistP521, &unhex(P521_D), &unhex(P521_Q)).unwrap()
}

/// The data an SSHSIG signature covers (OpenSSH `PROTOCOL.sshsig`) for namespace `file`
/// and hash `sha512`.
fn sshsig_signed_data(message: &[u8]) -> Vec<u8> {
    let mut out = b"SSHSIG".to_vec();
    put_string(&mut out, b"file");
    put_string(&mut out, b"");
    put_string(&mut out, b"sha512");
    put_string(&mut out, digest::digest(&digest::SHA512, message).as_ref());
    out
}

fn ecdsa_blob(key_type: &[u8], curve: &[u8], point: &[u8]) -> Vec<u8> {
    let mut blob = Vec::new();
    put_string(&mut blob, key_type);
    put_string(&mut blob, curve);
    put_string(&mut blob, point);
    blob
}

#[test]
fn p384_and_p521_fingerprints_match_ssh_keygen() {
    for (key, fp, alg) in [
        (p384_key(), P384_FP, ECDSA_SHA2_NISTP384),
        (p521_key(), P521_FP, ECDSA_SHA2_NISTP521),
    ] {
        let public = key.public_key();
        assert_eq!(public.fingerprint(), fp);
        assert_eq!(public.key_type(), alg);
        assert_eq!(public.signature_algorithms(), [alg]);
        assert_eq!(PublicKey::from_blob(&public.to_blob()).unwrap(), public);
    }
}

#[test]
fn signatures_made_by_openssh_verify() {
    let data = sshsig_signed_data(MESSAGE);
    for (key, sig, alg) in [
        (p384_key(), P384_SSHSIG, ECDSA_SHA2_NISTP384),
        (p521_key(), P521_SSHSIG, ECDSA_SHA2_NISTP521),
    ] {
        let public = key.public_key();
        let blob = unhex(sig);
        public.verify(alg, &data, &blob).unwrap();
        assert_eq!(
            public.verify(alg, b"other data", &blob).unwrap_err(),
            Error::Crypto(CryptoError::BadSignature)
        );
        // Every single-bit change of the signature is refused.
        for i in 0..blob.len() {
            let mut m = blob.clone();
            m[i] ^= 0x01;
            assert!(public.verify(alg, &data, &m).is_err(), "{alg} byte {i}");
        }
    }
}

#[test]
fn rsa_sha1_signature_matches_openssl() {
    let key = rsa_key();
    let blob = key.sign(SSH_RSA, MESSAGE).unwrap();
    let (alg, sig) = split_blob(&blob);
    assert_eq!(alg, b"ssh-rsa");
    assert_eq!(hex::encode(&sig), RSA_SHA1_SIG);
    let public = key.public_key();
    public.verify(SSH_RSA, MESSAGE, &blob).unwrap();
    // A SHA-1 signature is not a SHA-2 one, whatever the label says.
    let relabelled = sig_blob(RSA_SHA2_256.as_bytes(), &sig);
    assert!(public.verify(RSA_SHA2_256, MESSAGE, &relabelled).is_err());
}

#[test]
fn p521_signatures_are_deterministic() {
    let key = p521_key();
    let a = key.sign(ECDSA_SHA2_NISTP521, MESSAGE).unwrap();
    let b = key.sign(ECDSA_SHA2_NISTP521, MESSAGE).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, key.sign(ECDSA_SHA2_NISTP521, b"other").unwrap());
}

#[test]
fn wrong_curve_blobs_are_refused() {
    let bad = Error::Crypto(CryptoError::BadPublicKey);
    let q256 = unhex(EC_Q);
    let q384 = unhex(P384_Q);
    let q521 = unhex(P521_Q);
    let cases: [(&[u8], &[u8], &[u8]); 7] = [
        // Curve identifier of another curve.
        (b"ecdsa-sha2-nistp384", b"nistp256", &q384),
        (b"ecdsa-sha2-nistp521", b"nistp384", &q521),
        (b"ecdsa-sha2-nistp256", b"nistp521", &q256),
        // A point of another curve's size.
        (b"ecdsa-sha2-nistp384", b"nistp384", &q256),
        (b"ecdsa-sha2-nistp521", b"nistp521", &q384),
        (b"ecdsa-sha2-nistp256", b"nistp256", &q521),
        // A compressed-looking prefix.
        (
            b"ecdsa-sha2-nistp521",
            b"nistp521",
            &[&[0x03], &q521[1..]].concat(),
        ),
    ];
    for (key_type, curve, point) in cases {
        assert_eq!(
            PublicKey::from_blob(&ecdsa_blob(key_type, curve, point)).unwrap_err(),
            bad
        );
    }
}

#[test]
fn off_curve_points_are_refused() {
    // P-521 points are checked when parsed.
    let mut q = unhex(P521_Q);
    let last = q.len() - 1;
    q[last] ^= 1;
    let blob = ecdsa_blob(b"ecdsa-sha2-nistp521", b"nistp521", &q);
    assert_eq!(
        PublicKey::from_blob(&blob).unwrap_err(),
        Error::Crypto(CryptoError::BadPublicKey)
    );
    // P-256 and P-384 points are checked by ring when used: a genuine signature does not
    // verify under a point moved off the curve.
    for (key, alg) in [
        (ecdsa_key(), ECDSA_SHA2_NISTP256),
        (p384_key(), ECDSA_SHA2_NISTP384),
    ] {
        let blob = key.sign(alg, MESSAGE).unwrap();
        let PublicKey::Ecdsa { curve, mut point } = key.public_key() else {
            unreachable!()
        };
        let last = point.len() - 1;
        point[last] ^= 1;
        let moved = PublicKey::Ecdsa { curve, point };
        assert!(moved.verify(alg, MESSAGE, &blob).is_err());
    }
    // A P-521 private key whose stated point is not its own is refused.
    let mut q = unhex(P521_Q);
    q[10] ^= 1;
    assert!(PrivateKey::ecdsa_from_scalar(EcdsaCurve::NistP521, &unhex(P521_D), &q).is_err());
}

#[test]
fn ecdsa_scalars_longer_than_the_curve_are_refused() {
    for (key, alg) in [
        (ecdsa_key(), ECDSA_SHA2_NISTP256),
        (p384_key(), ECDSA_SHA2_NISTP384),
        (p521_key(), ECDSA_SHA2_NISTP521),
    ] {
        let len = EcdsaCurve::from_key_type(alg.as_bytes())
            .unwrap()
            .scalar_len();
        let public = key.public_key();
        let (_, inner) = split_blob(&key.sign(alg, b"m").unwrap());
        let mut r = Reader::new(&inner);
        let sr = r.mpint_positive("r").unwrap().to_vec();
        let ss = r.mpint_positive("s").unwrap().to_vec();
        for (bad_r, bad_s) in [
            (vec![1u8; len + 1], ss.clone()),
            (sr.clone(), vec![1u8; len + 1]),
            (vec![], ss.clone()),
        ] {
            let mut inner = Vec::new();
            put_mpint(&mut inner, &bad_r);
            put_mpint(&mut inner, &bad_s);
            let blob = sig_blob(alg.as_bytes(), &inner);
            assert_eq!(
                public.verify(alg, b"m", &blob).unwrap_err(),
                Error::Crypto(CryptoError::BadSignature)
            );
        }
    }
}
