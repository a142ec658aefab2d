//! Generating new keys: Ed25519, ECDSA on P-256, P-384 and P-521, and RSA of 2048 to 8192
//! bits, all from the operating system's random number generator.
//!
//! - Ed25519: 32 random bytes are the seed.
//! - P-256, P-384: ring generates the key as a PKCS#8 document, read back with the PKCS#8
//!   reader (ring does not hand out the scalar any other way).
//! - P-521: a random 521-bit scalar, redrawn in the (negligible) case it is zero or not below
//!   the group order; the `p521` crate derives the public point.
//! - RSA: the RustCrypto `rsa` crate generates the primes (`e = 65537`); the components are
//!   then loaded like a key read from a file, so the same checks apply.

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING};
use seashell_proto::keys::{EcdsaCurve, PrivateKey, RSA_SIGN_MAX_BITS, RSA_SIGN_MIN_BITS};
use zeroize::Zeroizing;

use crate::KeyFileError;

/// The kinds of key [`generate_key`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// Ed25519 (`ssh-keygen -t ed25519`).
    Ed25519,
    /// ECDSA on a NIST curve (`ssh-keygen -t ecdsa -b 256|384|521`).
    Ecdsa(EcdsaCurve),
    /// RSA with a modulus of this many bits, 2048 to 8192 (`ssh-keygen -t rsa -b N`).
    Rsa(usize),
}

/// The default RSA size, as `ssh-keygen`'s.
pub const DEFAULT_RSA_BITS: usize = 3072;

/// Fills `buf` from the operating system's random number generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), KeyFileError> {
    SystemRandom::new().fill(buf).map_err(|_| KeyFileError::Rng)
}

/// Generates a new key of `kind`.
///
/// RSA generation takes a while in unoptimised builds: about 1 s for 3072 bits, and tens of
/// seconds for 8192.
///
/// # Errors
/// [`KeyFileError::Unsupported`] for an RSA size outside 2048 to 8192 bits;
/// [`KeyFileError::Rng`] if the random number generator fails.
pub fn generate_key(kind: KeyKind) -> Result<PrivateKey, KeyFileError> {
    match kind {
        KeyKind::Ed25519 => {
            let mut seed = Zeroizing::new([0u8; 32]);
            fill_random(seed.as_mut_slice())?;
            PrivateKey::ed25519_from_seed(&seed).map_err(|_| KeyFileError::Rng)
        }
        KeyKind::Ecdsa(EcdsaCurve::NistP521) => generate_p521(),
        KeyKind::Ecdsa(curve) => {
            let alg = if curve == EcdsaCurve::NistP256 {
                &ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &ECDSA_P384_SHA384_FIXED_SIGNING
            };
            let doc = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &SystemRandom::new())
                .map_err(|_| KeyFileError::Rng)?;
            crate::der_keys::from_pkcs8(doc.as_ref())
        }
        KeyKind::Rsa(bits) => generate_rsa(bits),
    }
}

fn generate_p521() -> Result<PrivateKey, KeyFileError> {
    let curve = EcdsaCurve::NistP521;
    for _ in 0..64 {
        let mut scalar = Zeroizing::new([0u8; 66]);
        fill_random(scalar.as_mut_slice())?;
        // 521 bits: keep the low bit of the first byte.
        if let Some(top) = scalar.first_mut() {
            *top &= 0x01;
        }
        let Ok(signing) = p521::ecdsa::SigningKey::from_slice(scalar.as_slice()) else {
            continue;
        };
        let point = signing.verifying_key().to_sec1_point(false);
        return PrivateKey::ecdsa_from_scalar(curve, scalar.as_slice(), point.as_bytes())
            .map_err(|_| KeyFileError::Rng);
    }
    Err(KeyFileError::Rng)
}

fn generate_rsa(bits: usize) -> Result<PrivateKey, KeyFileError> {
    if !(RSA_SIGN_MIN_BITS..=RSA_SIGN_MAX_BITS).contains(&bits) {
        return Err(KeyFileError::Unsupported(format!(
            "{bits}-bit RSA key ({RSA_SIGN_MIN_BITS} to {RSA_SIGN_MAX_BITS} bits are supported)"
        )));
    }
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits).map_err(|_| KeyFileError::Rng)?;
    let primes = key.primes();
    let (p, q) = match primes {
        [p, q] => (p, q),
        _ => return Err(KeyFileError::Rng),
    };
    let iqmp = key.crt_coefficient().ok_or(KeyFileError::Rng)?;
    let be = |u: &rsa::BoxedUint| Zeroizing::new(u.to_be_bytes().to_vec());
    let n = be(key.n().as_ref());
    let e = be(key.e());
    let d = be(key.d());
    let p = be(p.as_ref());
    let q = be(q.as_ref());
    let iqmp = be(&iqmp);
    PrivateKey::rsa_from_components(&n, &e, &d, &iqmp, &p, &q).map_err(|_| KeyFileError::Rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_signs_and_verifies() {
        for kind in [
            KeyKind::Ed25519,
            KeyKind::Ecdsa(EcdsaCurve::NistP256),
            KeyKind::Ecdsa(EcdsaCurve::NistP384),
            KeyKind::Ecdsa(EcdsaCurve::NistP521),
            KeyKind::Rsa(2048),
        ] {
            let key = generate_key(kind).unwrap();
            let public = key.public_key();
            let alg = public.signature_algorithms()[0];
            let sig = key.sign(alg, b"data").unwrap();
            public.verify(alg, b"data", &sig).unwrap();
        }
        assert!(matches!(
            generate_key(KeyKind::Rsa(1024)),
            Err(KeyFileError::Unsupported(_))
        ));
    }
}
