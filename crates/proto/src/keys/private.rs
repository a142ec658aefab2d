//! Private keys: construction from raw components and signing.

use core::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use zeroize::Zeroizing;

use super::ecdsa::P521Signer;
use super::rsa::{PkcsSigner, RsaHash, check_factors, crt_exponent};
use super::{
    EcdsaCurve, PublicKey, RSA_SHA2_256, RSA_SHA2_512, SSH_ED25519, SSH_RSA, bit_len,
    strip_leading_zeros,
};
use crate::error::{CryptoError, Error};
use crate::wire::put_string;

/// The largest RSA modulus ring can sign with, in bits.
const RSA_RING_MAX_BITS: usize = 4096;
/// The largest RSA modulus accepted for signing (larger keys sign with crypto-bigint).
pub const RSA_SIGN_MAX_BITS: usize = 8192;
/// The smallest RSA modulus accepted for signing.
pub const RSA_SIGN_MIN_BITS: usize = 2048;

/// A private key that can sign.
///
/// It wraps ring's key pairs. ring keeps its own copy of the secret material and does not
/// wipe it on drop; every buffer this crate allocates for secrets is wiped. `Debug` prints
/// only the key type and the public fingerprint.
///
/// Signing and some constructors draw randomness from the operating system through
/// [`ring::rand::SystemRandom`] (ring's RNG cannot be injected): P-256 and P-384 ECDSA nonces
/// are random (ring hedges them with the key and message); P-521 ECDSA (RFC 6979), Ed25519
/// and RSA PKCS#1 v1.5 signatures are deterministic.
pub struct PrivateKey {
    inner: Inner,
    public: PublicKey,
    /// The secret components, kept for key-file writers (ring cannot export them).
    secret: Secret,
}

/// The secret components of a key (wiped on drop), with the public ones writers need.
enum Secret {
    Ed25519 {
        seed: Zeroizing<[u8; 32]>,
        public: [u8; 32],
    },
    /// The private scalar, left-padded to the curve's scalar length.
    Ecdsa {
        curve: EcdsaCurve,
        scalar: Zeroizing<Vec<u8>>,
        point: Vec<u8>,
    },
    /// Big-endian magnitudes without leading zeros.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        d: Zeroizing<Vec<u8>>,
        p: Zeroizing<Vec<u8>>,
        q: Zeroizing<Vec<u8>>,
        iqmp: Zeroizing<Vec<u8>>,
        dp: Zeroizing<Vec<u8>>,
        dq: Zeroizing<Vec<u8>>,
    },
    /// The ML-DSA-44 seed, then the Ed25519 seed.
    MlDsa44Ed25519 { seeds: Zeroizing<[u8; 64]> },
}

/// The secret components of a [`PrivateKey`], borrowed for writing key files
/// ([`PrivateKey::secret_parts`]).
///
/// Every field is secret except the public ones named as such. `Debug` prints only the key
/// type. Big numbers are big-endian magnitudes without leading zero bytes.
#[non_exhaustive]
pub enum SecretParts<'a> {
    /// An Ed25519 key.
    Ed25519 {
        /// The 32-byte seed (the RFC 8032 private key).
        seed: &'a [u8; 32],
        /// The public key (not secret).
        public: &'a [u8; 32],
    },
    /// An ECDSA key.
    Ecdsa {
        /// The curve.
        curve: EcdsaCurve,
        /// The private scalar, left-padded to `curve.scalar_len()` bytes.
        scalar: &'a [u8],
        /// The uncompressed SEC1 public point (not secret).
        point: &'a [u8],
    },
    /// An RSA key.
    Rsa {
        /// The modulus (not secret).
        n: &'a [u8],
        /// The public exponent (not secret).
        e: &'a [u8],
        /// The private exponent.
        d: &'a [u8],
        /// The first prime.
        p: &'a [u8],
        /// The second prime.
        q: &'a [u8],
        /// q⁻¹ mod p.
        iqmp: &'a [u8],
        /// d mod (p − 1).
        dp: &'a [u8],
        /// d mod (q − 1).
        dq: &'a [u8],
    },
    /// An `ssh-mldsa44-ed25519` key.
    MlDsa44Ed25519 {
        /// The 32-byte ML-DSA-44 seed, then the 32-byte Ed25519 seed.
        seeds: &'a [u8; 64],
    },
}

impl fmt::Debug for SecretParts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            SecretParts::Ed25519 { .. } => "Ed25519",
            SecretParts::Ecdsa { .. } => "Ecdsa",
            SecretParts::Rsa { .. } => "Rsa",
            SecretParts::MlDsa44Ed25519 { .. } => "MlDsa44Ed25519",
        };
        write!(f, "SecretParts::{kind}(..)")
    }
}

enum Inner {
    Ed25519(Ed25519KeyPair),
    /// P-256 or P-384, signed by ring.
    Ecdsa(EcdsaKeyPair, EcdsaCurve),
    EcdsaP521(P521Signer),
    /// `ssh-mldsa44-ed25519`.
    MlDsa44Ed25519(Box<super::mldsa::Signer>),
    Rsa {
        pair: RsaKeyPair,
        /// The legacy SHA-1 `ssh-rsa` signer (ring cannot make SHA-1 signatures).
        sha1: PkcsSigner,
    },
    /// An RSA key larger than ring signs with: every algorithm through crypto-bigint.
    RsaLarge(PkcsSigner),
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
            public: PublicKey::Ed25519(public),
            secret: Secret::Ed25519 {
                seed: Zeroizing::new(*seed),
                public,
            },
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
            public: PublicKey::Ed25519(public),
            secret: Secret::Ed25519 {
                seed: Zeroizing::new(*seed),
                public,
            },
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
    /// Moduli of 2048 to 4096 bits sign with ring, which needs primes of equal length and
    /// `e >= 65537`; other keys of that size are refused. Moduli of 4097 to 8192 bits
    /// ([`RSA_SIGN_MAX_BITS`]) sign with crypto-bigint (`m^d mod n`, slower: about 0.3 s per
    /// signature at 8192 bits); their primes are checked here (`p·q = n`,
    /// `iqmp·q = 1 mod p`). One signature is made as a self-test and verified, so that
    /// inconsistent components are refused here and not at first use.
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
        // Bound the work before any big-number arithmetic.
        let n_bits = bit_len(n);
        if !(RSA_SIGN_MIN_BITS..=RSA_SIGN_MAX_BITS).contains(&n_bits) {
            return Err(CryptoError::Signing.into());
        }
        for part in [e, d, p, q, iqmp] {
            if part.is_empty() || part.len() > n.len() {
                return Err(CryptoError::Signing.into());
            }
        }
        // Whole bytes of n: d, p and q are no longer than n, so nothing is truncated.
        let precision = u32::try_from(n.len() * 8).map_err(|_| CryptoError::Signing)?;
        let dp = crt_exponent(d, p, precision)?;
        let dq = crt_exponent(d, q, precision)?;
        let dp = Zeroizing::new(strip_leading_zeros(&dp).to_vec());
        let dq = Zeroizing::new(strip_leading_zeros(&dq).to_vec());
        let public = PublicKey::Rsa {
            e: e.to_vec(),
            n: n.to_vec(),
        };
        let make_secret = |dp: Zeroizing<Vec<u8>>, dq: Zeroizing<Vec<u8>>| Secret::Rsa {
            n: n.to_vec(),
            e: e.to_vec(),
            d: Zeroizing::new(d.to_vec()),
            p: Zeroizing::new(p.to_vec()),
            q: Zeroizing::new(q.to_vec()),
            iqmp: Zeroizing::new(iqmp.to_vec()),
            dp,
            dq,
        };
        if n_bits > RSA_RING_MAX_BITS {
            check_factors(n, p, q, iqmp)?;
            let signer = PkcsSigner::new(n, e, d)?;
            // The signer verifies what it makes: a wrong d fails here.
            signer.sign(RsaHash::Sha256, b"seashell rsa key self-test")?;
            return Ok(PrivateKey {
                inner: Inner::RsaLarge(signer),
                public,
                secret: make_secret(dp, dq),
            });
        }
        let components = ring::rsa::KeyPairComponents {
            public_key: ring::rsa::PublicKeyComponents { n, e },
            d,
            p,
            q,
            dP: &dp,
            dQ: &dq,
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
        let sha1 = PkcsSigner::new(n, e, d)?;
        Ok(PrivateKey {
            inner: Inner::Rsa { pair, sha1 },
            public,
            secret: make_secret(dp, dq),
        })
    }

    /// Builds an ECDSA key on `curve` from the private scalar `d` (big-endian, at most the
    /// curve's scalar length after leading zeros are stripped) and the uncompressed SEC1
    /// public point, which must belong to `d`.
    ///
    /// # Errors
    /// [`CryptoError::BadPublicKey`] if the point is malformed or does not match `d`.
    pub fn ecdsa_from_scalar(
        curve: EcdsaCurve,
        d: &[u8],
        public_sec1: &[u8],
    ) -> Result<PrivateKey, Error> {
        curve.check_point(public_sec1)?;
        let public = PublicKey::Ecdsa {
            curve,
            point: public_sec1.to_vec(),
        };
        let scalar = curve.padded_scalar(d)?;
        let signing = match curve {
            EcdsaCurve::NistP256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            EcdsaCurve::NistP384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            EcdsaCurve::NistP521 => {
                return Ok(PrivateKey {
                    inner: Inner::EcdsaP521(P521Signer::new(d, public_sec1)?),
                    public,
                    secret: Secret::Ecdsa {
                        curve,
                        scalar,
                        point: public_sec1.to_vec(),
                    },
                });
            }
        };
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            signing,
            scalar.as_slice(),
            public_sec1,
            &SystemRandom::new(),
        )
        .map_err(|_| CryptoError::BadPublicKey)?;
        Ok(PrivateKey {
            inner: Inner::Ecdsa(pair, curve),
            public,
            secret: Secret::Ecdsa {
                curve,
                scalar,
                point: public_sec1.to_vec(),
            },
        })
    }

    /// Builds an `ssh-mldsa44-ed25519` key from its 64 seed bytes (the ML-DSA-44 seed, then
    /// the Ed25519 seed, as OpenSSH's private key holds them).
    ///
    /// # Errors
    /// [`CryptoError::Signing`] if a half cannot be derived.
    pub fn mldsa44_ed25519_from_seeds(seeds: &[u8; 64]) -> Result<PrivateKey, Error> {
        let (signer, public) = super::mldsa::Signer::from_seeds(seeds)?;
        Ok(PrivateKey {
            inner: Inner::MlDsa44Ed25519(Box::new(signer)),
            public,
            secret: Secret::MlDsa44Ed25519 {
                seeds: Zeroizing::new(*seeds),
            },
        })
    }

    /// The public half of the key.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// The secret components, for writing the key to a file (OpenSSH, PEM, PKCS#8).
    ///
    /// This is the only way secret material leaves a `PrivateKey`. The borrowed slices live
    /// in buffers that are wiped when the key is dropped; callers that copy them should keep
    /// the copies in wiped buffers too (for example `zeroize::Zeroizing`).
    pub fn secret_parts(&self) -> SecretParts<'_> {
        match &self.secret {
            Secret::Ed25519 { seed, public } => SecretParts::Ed25519 { seed, public },
            Secret::Ecdsa {
                curve,
                scalar,
                point,
            } => SecretParts::Ecdsa {
                curve: *curve,
                scalar,
                point,
            },
            Secret::Rsa {
                n,
                e,
                d,
                p,
                q,
                iqmp,
                dp,
                dq,
            } => SecretParts::Rsa {
                n,
                e,
                d,
                p,
                q,
                iqmp,
                dp,
                dq,
            },
            Secret::MlDsa44Ed25519 { seeds } => SecretParts::MlDsa44Ed25519 { seeds },
        }
    }

    /// Presents this key with the certificate `cert` (which must certify this key): the
    /// public key becomes the certificate, and signatures for the certificate algorithms
    /// are made with the plain ones. Keep a second copy of the key to also offer it plain.
    ///
    /// # Errors
    /// [`CryptoError::BadPublicKey`] if `cert` certifies another key.
    pub fn with_certificate(mut self, cert: super::Certificate) -> Result<PrivateKey, Error> {
        if cert.key() != self.public.plain() {
            return Err(CryptoError::BadPublicKey.into());
        }
        self.public = PublicKey::Certificate(Box::new(cert));
        Ok(self)
    }

    /// Signs `data` with the signature algorithm `alg`, which must be one of
    /// `public_key().signature_algorithms()`, and returns the SSH signature blob
    /// `string(alg) string(signature)`. ECDSA signatures are encoded as
    /// `string(mpint r, mpint s)`. RSA keys also sign with the SHA-1 `ssh-rsa` algorithm when
    /// asked to; whether that is ever asked is the configuration's decision.
    ///
    /// # Errors
    /// [`CryptoError::Signing`] if `alg` does not suit the key or ring fails to sign.
    pub fn sign(&self, alg: &str, data: &[u8]) -> Result<Vec<u8>, Error> {
        // A certificate's key signs with the plain algorithm (OpenSSH PROTOCOL.certkeys).
        let alg = super::cert::plain_algorithm(alg);
        let sig = match (&self.inner, alg) {
            (Inner::Ed25519(pair), SSH_ED25519) => pair.sign(data).as_ref().to_vec(),
            (Inner::Ecdsa(pair, curve), _) if alg == curve.key_type() => {
                let fixed = pair
                    .sign(&SystemRandom::new(), data)
                    .map_err(|_| CryptoError::Signing)?;
                curve.fixed_to_ssh(fixed.as_ref())?
            }
            (Inner::EcdsaP521(signer), _) if alg == EcdsaCurve::NistP521.key_type() => {
                signer.sign(data)?
            }
            (Inner::Rsa { sha1, .. }, SSH_RSA) => sha1.sign(RsaHash::Sha1, data)?,
            (Inner::RsaLarge(signer), SSH_RSA) => signer.sign(RsaHash::Sha1, data)?,
            (Inner::RsaLarge(signer), RSA_SHA2_256) => signer.sign(RsaHash::Sha256, data)?,
            (Inner::RsaLarge(signer), RSA_SHA2_512) => signer.sign(RsaHash::Sha512, data)?,
            (Inner::MlDsa44Ed25519(s), super::mldsa::SSH_MLDSA44_ED25519) => s.sign(data)?,
            (Inner::Rsa { pair, .. }, RSA_SHA2_256 | RSA_SHA2_512) => {
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
fn ed25519_public(pair: &Ed25519KeyPair) -> Result<[u8; 32], Error> {
    let pk: [u8; 32] = pair
        .public_key()
        .as_ref()
        .try_into()
        .map_err(|_| CryptoError::Signing)?;
    Ok(pk)
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn secret_parts_return_the_components_and_debug_hides_them() {
        let key = PrivateKey::ed25519_from_seed(&[0x5a; 32]).unwrap();
        let parts = key.secret_parts();
        let SecretParts::Ed25519 { seed, public } = parts else {
            panic!("{parts:?}");
        };
        assert_eq!(seed, &[0x5a; 32]);
        assert_eq!(PublicKey::Ed25519(*public), key.public_key());
        let shown = format!("{:?}", key.secret_parts());
        assert_eq!(shown, "SecretParts::Ed25519(..)");
        assert!(!shown.contains("5a"));
    }
}
