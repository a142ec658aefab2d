//! Private keys: construction from raw components and signing.

use core::fmt;

use crypto_bigint::{BoxedUint, NonZero};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use zeroize::{Zeroize, Zeroizing};

use super::{
    ECDSA_SHA2_NISTP256, P256_SCALAR_LEN, PublicKey, RSA_SHA2_256, RSA_SHA2_512, SSH_ED25519,
    bit_len, check_p256_point, left_pad_into, strip_leading_zeros,
};
use crate::error::{CryptoError, Error};
use crate::wire::{put_mpint, put_string};

/// The largest RSA modulus ring can sign with, in bits.
const RSA_SIGN_MAX_BITS: usize = 4096;

/// A private key that can sign.
///
/// It wraps ring's key pairs. ring keeps its own copy of the secret material and does not
/// wipe it on drop; every buffer this crate allocates for secrets is wiped. `Debug` prints
/// only the key type and the public fingerprint.
///
/// Signing and some constructors draw randomness from the operating system through
/// [`ring::rand::SystemRandom`] (ring's RNG cannot be injected): ECDSA nonces are random
/// (hedged with the key and message), Ed25519 and RSA PKCS#1 v1.5 signatures are deterministic.
pub struct PrivateKey {
    inner: Inner,
    public: PublicKey,
}

enum Inner {
    Ed25519(Ed25519KeyPair),
    EcdsaP256(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({} {})",
            self.public.key_type(),
            self.public.fingerprint()
        )
    }
}

/// A `BoxedUint` that is wiped when dropped.
struct WipedUint(BoxedUint);

impl Drop for WipedUint {
    fn drop(&mut self) {
        self.0.as_mut_words().zeroize();
    }
}

impl PrivateKey {
    /// Builds an Ed25519 key from its 32-byte seed (the RFC 8032 private key).
    ///
    /// # Errors
    /// [`CryptoError::Signing`] if ring refuses the seed (it does not for 32 bytes).
    pub fn ed25519_from_seed(seed: &[u8; 32]) -> Result<PrivateKey, Error> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| CryptoError::Signing)?;
        let public = ed25519_public(&pair)?;
        Ok(PrivateKey {
            inner: Inner::Ed25519(pair),
            public,
        })
    }

    /// Builds an Ed25519 key from its seed and checks that it yields `public`.
    ///
    /// # Errors
    /// [`CryptoError::BadPublicKey`] if the public key does not belong to the seed.
    pub fn ed25519_from_seed_and_public(
        seed: &[u8; 32],
        public: &[u8; 32],
    ) -> Result<PrivateKey, Error> {
        let pair = Ed25519KeyPair::from_seed_and_public_key(seed, public)
            .map_err(|_| CryptoError::BadPublicKey)?;
        let public = ed25519_public(&pair)?;
        Ok(PrivateKey {
            inner: Inner::Ed25519(pair),
            public,
        })
    }

    /// Generates a fresh Ed25519 key from the operating system's random number generator.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the random number generator fails.
    pub fn ed25519_generate() -> Result<PrivateKey, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(seed.as_mut())
            .map_err(|_| CryptoError::Rng)?;
        PrivateKey::ed25519_from_seed(&seed)
    }

    /// Builds an RSA key from the components an OpenSSH key file holds: big-endian
    /// magnitudes of `n`, `e`, `d`, `iqmp` (= q⁻¹ mod p), `p` and `q`. Leading zero bytes are
    /// allowed. The CRT exponents d mod (p−1) and d mod (q−1) are computed here in constant
    /// time; every intermediate this crate owns is wiped afterwards.
    ///
    /// ring signs only with moduli of 2048 to 4096 bits whose primes are a multiple of 512 bits
    /// long, and with `e >= 65537`; other keys are refused. One signature is made as a
    /// self-test, so that inconsistent components are refused here and not at first use.
    ///
    /// # Errors
    /// [`CryptoError::Signing`] if the components are inconsistent or unsupported.
    pub fn rsa_from_components(
        n: &[u8],
        e: &[u8],
        d: &[u8],
        iqmp: &[u8],
        p: &[u8],
        q: &[u8],
    ) -> Result<PrivateKey, Error> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let d = strip_leading_zeros(d);
        let p = strip_leading_zeros(p);
        let q = strip_leading_zeros(q);
        let iqmp = strip_leading_zeros(iqmp);
        // Bound the work before any big-number arithmetic: ring refuses larger keys anyway.
        let n_bits = bit_len(n);
        if n_bits > RSA_SIGN_MAX_BITS || n_bits == 0 {
            return Err(CryptoError::Signing.into());
        }
        for part in [d, p, q, iqmp] {
            if part.len() > n.len() {
                return Err(CryptoError::Signing.into());
            }
        }
        // Whole bytes of n: d, p and q are no longer than n, so nothing is truncated.
        let precision = u32::try_from(n.len() * 8).map_err(|_| CryptoError::Signing)?;
        let dp = crt_exponent(d, p, precision)?;
        let dq = crt_exponent(d, q, precision)?;
        let components = ring::rsa::KeyPairComponents {
            public_key: ring::rsa::PublicKeyComponents { n, e },
            d,
            p,
            q,
            dP: strip_leading_zeros(&dp),
            dQ: strip_leading_zeros(&dq),
            qInv: iqmp,
        };
        let pair = RsaKeyPair::from_components(&components).map_err(|_| CryptoError::Signing)?;
        // ring checks dP and dQ (and so d) only when it signs, by verifying its own result:
        // sign once now so that a damaged key is refused here rather than at first use.
        let mut probe = vec![0u8; pair.public().modulus_len()];
        pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            b"seashell rsa key self-test",
            &mut probe,
        )
        .map_err(|_| CryptoError::Signing)?;
        Ok(PrivateKey {
            inner: Inner::Rsa(pair),
            public: PublicKey::Rsa {
                e: e.to_vec(),
                n: n.to_vec(),
            },
        })
    }

    /// Builds an ECDSA P-256 key from the private scalar `d` (big-endian, at most 32 bytes
    /// after leading zeros are stripped) and the uncompressed SEC1 public point.
    ///
    /// # Errors
    /// [`CryptoError::BadPublicKey`] if the point is malformed or does not match `d`.
    pub fn ecdsa_p256_from_scalar(d: &[u8], public_sec1: &[u8]) -> Result<PrivateKey, Error> {
        check_p256_point(public_sec1)?;
        let mut scalar = Zeroizing::new([0u8; P256_SCALAR_LEN]);
        left_pad_into(scalar.as_mut(), strip_leading_zeros(d)).ok_or(CryptoError::BadPublicKey)?;
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            scalar.as_ref(),
            public_sec1,
            &SystemRandom::new(),
        )
        .map_err(|_| CryptoError::BadPublicKey)?;
        let public = PublicKey::EcdsaP256(pair.public_key().as_ref().to_vec());
        Ok(PrivateKey {
            inner: Inner::EcdsaP256(pair),
            public,
        })
    }

    /// The public half of the key.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// Signs `data` with the signature algorithm `alg`, which must be one of
    /// `public_key().signature_algorithms()`, and returns the SSH signature blob
    /// `string(alg) string(signature)`. ECDSA signatures are encoded as
    /// `string(mpint r, mpint s)`.
    ///
    /// # Errors
    /// [`CryptoError::Signing`] if `alg` does not suit the key or ring fails to sign.
    pub fn sign(&self, alg: &str, data: &[u8]) -> Result<Vec<u8>, Error> {
        let sig = match (&self.inner, alg) {
            (Inner::Ed25519(pair), SSH_ED25519) => pair.sign(data).as_ref().to_vec(),
            (Inner::EcdsaP256(pair), ECDSA_SHA2_NISTP256) => {
                let fixed = pair
                    .sign(&SystemRandom::new(), data)
                    .map_err(|_| CryptoError::Signing)?;
                let (r, s) = fixed.as_ref().split_at(P256_SCALAR_LEN);
                let mut inner = Vec::with_capacity(2 * (P256_SCALAR_LEN + 5));
                put_mpint(&mut inner, r);
                put_mpint(&mut inner, s);
                inner
            }
            (Inner::Rsa(pair), RSA_SHA2_256 | RSA_SHA2_512) => {
                let padding: &'static dyn signature::RsaEncoding = if alg == RSA_SHA2_512 {
                    &signature::RSA_PKCS1_SHA512
                } else {
                    &signature::RSA_PKCS1_SHA256
                };
                let mut sig = vec![0u8; pair.public().modulus_len()];
                pair.sign(padding, &SystemRandom::new(), data, &mut sig)
                    .map_err(|_| CryptoError::Signing)?;
                sig
            }
            _ => return Err(CryptoError::Signing.into()),
        };
        let mut out = Vec::with_capacity(alg.len() + sig.len() + 8);
        put_string(&mut out, alg.as_bytes());
        put_string(&mut out, &sig);
        Ok(out)
    }
}

/// Reads the public key out of an Ed25519 key pair.
fn ed25519_public(pair: &Ed25519KeyPair) -> Result<PublicKey, Error> {
    let pk: [u8; 32] = pair
        .public_key()
        .as_ref()
        .try_into()
        .map_err(|_| CryptoError::Signing)?;
    Ok(PublicKey::Ed25519(pk))
}

/// Computes `d mod (prime - 1)` in constant time at `precision` bits and returns it
/// big-endian (left-padded to the precision), in a buffer wiped on drop.
///
/// crypto-bigint's division makes internal copies that it does not wipe; every value held
/// here is wiped.
fn crt_exponent(d: &[u8], prime: &[u8], precision: u32) -> Result<Zeroizing<Vec<u8>>, Error> {
    let fail = |_| Error::Crypto(CryptoError::Signing);
    let d = WipedUint(BoxedUint::from_be_slice(d, precision).map_err(fail)?);
    let prime = WipedUint(BoxedUint::from_be_slice(prime, precision).map_err(fail)?);
    let one = BoxedUint::one_with_precision(precision);
    let pm1 = prime.0.wrapping_sub(&one);
    let divisor: Option<NonZero<BoxedUint>> = NonZero::new(pm1).into();
    // p - 1 is zero when p is 1; p = 0 wraps to a non-zero value that ring later refuses
    // because p * q != n.
    let divisor = divisor.ok_or(CryptoError::Signing)?;
    let rem = WipedUint(d.0.rem(&divisor));
    let _wipe_divisor = WipedUint(divisor.get());
    Ok(Zeroizing::new(Vec::from(rem.0.to_be_bytes())))
}
