//! RSA private-key arithmetic that ring does not provide: the CRT exponents ring needs to load
//! an OpenSSH key, signing with the SHA-1 `ssh-rsa` algorithm (RFC 4253 §6.6), and signing
//! with keys larger than ring's 4096-bit limit (up to 8192 bits, every algorithm).
//!
//! ring verifies SHA-1 PKCS#1 v1.5 signatures (`RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY`)
//! and signatures of moduli up to 8192 bits, but makes neither. Rather than pull in a second
//! RSA implementation for these, the signer here is the textbook one on top of crypto-bigint,
//! which is already a dependency: EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2) with SHA-1,
//! SHA-256 or SHA-512, then `s = m^d mod n` with crypto-bigint's constant-time Montgomery
//! exponentiation. Every signature is checked with ring's verifier before it leaves, so a
//! computation error can never put a faulty signature (or key material) on the wire.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Odd};
use ring::{digest, signature};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{CryptoError, Error};

/// The DER `DigestInfo` prefix for SHA-1 (RFC 8017 §9.2, note 1).
const SHA1_DIGEST_INFO: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
/// The DER `DigestInfo` prefix for SHA-256 (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
/// The DER `DigestInfo` prefix for SHA-512 (RFC 8017 §9.2, note 1).
const SHA512_DIGEST_INFO: [u8; 19] = [
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];
/// The least `0xff` padding EMSA-PKCS1-v1_5 requires.
const MIN_PADDING: usize = 8;

/// A `BoxedUint` that is wiped when dropped.
pub(super) struct WipedUint(pub(super) BoxedUint);

impl Drop for WipedUint {
    fn drop(&mut self) {
        self.0.as_mut_words().zeroize();
    }
}

/// The hash of an RSA PKCS#1 v1.5 signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RsaHash {
    /// SHA-1 (`ssh-rsa`).
    Sha1,
    /// SHA-256 (`rsa-sha2-256`).
    Sha256,
    /// SHA-512 (`rsa-sha2-512`).
    Sha512,
}

impl RsaHash {
    fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            RsaHash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            RsaHash::Sha256 => &digest::SHA256,
            RsaHash::Sha512 => &digest::SHA512,
        }
    }

    fn digest_info(self) -> &'static [u8] {
        match self {
            RsaHash::Sha1 => &SHA1_DIGEST_INFO,
            RsaHash::Sha256 => &SHA256_DIGEST_INFO,
            RsaHash::Sha512 => &SHA512_DIGEST_INFO,
        }
    }

    fn verify_alg(self) -> &'static signature::RsaParameters {
        match self {
            RsaHash::Sha1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            RsaHash::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            RsaHash::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

/// Signs with RSA PKCS#1 v1.5 by the private exponent alone: holds the public modulus and
/// exponent and the private exponent `d` (wiped on drop). Used for SHA-1 `ssh-rsa`
/// signatures and for every signature of keys larger than ring signs with.
pub(super) struct PkcsSigner {
    params: BoxedMontyParams,
    d: WipedUint,
    n: Vec<u8>,
    e: Vec<u8>,
    precision: u32,
}

impl PkcsSigner {
    /// Prepares a signer from big-endian magnitudes without leading zeros; `n` must be odd and
    /// `d` no longer than `n`. The caller has already checked the key with ring.
    pub(super) fn new(n: &[u8], e: &[u8], d: &[u8]) -> Result<PkcsSigner, Error> {
        let fail = |_| Error::Crypto(CryptoError::Signing);
        let precision = u32::try_from(n.len() * 8).map_err(|_| CryptoError::Signing)?;
        let modulus = BoxedUint::from_be_slice(n, precision).map_err(fail)?;
        let modulus: Option<Odd<BoxedUint>> = Odd::new(modulus).into();
        let modulus = modulus.ok_or(CryptoError::Signing)?;
        let d = WipedUint(BoxedUint::from_be_slice(d, precision).map_err(fail)?);
        Ok(PkcsSigner {
            params: BoxedMontyParams::new(modulus),
            d,
            n: n.to_vec(),
            e: e.to_vec(),
            precision,
        })
    }

    /// Signs `data`: EMSA-PKCS1-v1_5 with `hash`, then the private operation. Returns the
    /// signature as `k` bytes (the modulus length), verified before it is returned.
    pub(super) fn sign(&self, hash: RsaHash, data: &[u8]) -> Result<Vec<u8>, Error> {
        let k = self.n.len();
        let em = emsa_pkcs1_v15(hash, data, k)?;
        let fail = |_| Error::Crypto(CryptoError::Signing);
        let m = BoxedUint::from_be_slice(&em, self.precision).map_err(fail)?;
        let mut s = BoxedMontyForm::new(m, &self.params).pow(&self.d.0);
        let sig = s.retrieve().to_be_bytes();
        s.as_montgomery_mut().as_mut_words().zeroize();
        // to_be_bytes is whole limbs: the value (< n) sits in the last k bytes.
        let start = sig.len().checked_sub(k).ok_or(CryptoError::Signing)?;
        let sig = sig.get(start..).ok_or(CryptoError::Signing)?.to_vec();
        signature::RsaPublicKeyComponents {
            n: self.n.as_slice(),
            e: self.e.as_slice(),
        }
        .verify(hash.verify_alg(), data, &sig)
        .map_err(|_| CryptoError::Signing)?;
        Ok(sig)
    }
}

/// EMSA-PKCS1-v1_5 encoding with `alg` into `k` bytes:
/// `0x00 0x01 0xff… 0x00 DigestInfo(H(data))`.
fn emsa_pkcs1_v15(alg: RsaHash, data: &[u8], k: usize) -> Result<Vec<u8>, Error> {
    let hash = digest::digest(alg.digest_alg(), data);
    let t_len = alg.digest_info().len() + hash.as_ref().len();
    let ps_len = k
        .checked_sub(t_len + 3)
        .filter(|&n| n >= MIN_PADDING)
        .ok_or(CryptoError::Signing)?;
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(2 + ps_len, 0xff);
    em.push(0x00);
    em.extend_from_slice(alg.digest_info());
    em.extend_from_slice(hash.as_ref());
    Ok(em)
}

/// Computes `d mod (prime - 1)` in constant time at `precision` bits and returns it
/// big-endian (left-padded to the precision), in a buffer wiped on drop.
///
/// crypto-bigint's division makes internal copies that it does not wipe; every value held
/// here is wiped.
pub(super) fn crt_exponent(
    d: &[u8],
    prime: &[u8],
    precision: u32,
) -> Result<Zeroizing<Vec<u8>>, Error> {
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

/// Checks that `p * q = n` and `iqmp * q = 1 (mod p)` (big-endian magnitudes, none longer
/// than `n`). ring checks these itself for the keys it loads; keys too large for ring are
/// checked here so that a file with damaged primes is refused (a signer needs only `d`, but a
/// writer would copy the primes into new files).
pub(super) fn check_factors(n: &[u8], p: &[u8], q: &[u8], iqmp: &[u8]) -> Result<(), Error> {
    let fail = |_| Error::Crypto(CryptoError::Signing);
    let precision = u32::try_from(n.len() * 16).map_err(|_| CryptoError::Signing)?;
    let load = |m: &[u8]| -> Result<WipedUint, Error> {
        Ok(WipedUint(
            BoxedUint::from_be_slice(m, precision).map_err(fail)?,
        ))
    };
    let (n, p, q, iqmp) = (load(n)?, load(p)?, load(q)?, load(iqmp)?);
    let product = WipedUint(p.0.wrapping_mul(&q.0));
    if product.0 != n.0 {
        return Err(CryptoError::Signing.into());
    }
    let p_nz: Option<NonZero<BoxedUint>> = NonZero::new(p.0.clone()).into();
    let p_nz = p_nz.ok_or(CryptoError::Signing)?;
    let inverse_check = WipedUint(iqmp.0.wrapping_mul(&q.0).rem(&p_nz));
    let _wipe = WipedUint(p_nz.get());
    let one = BoxedUint::one_with_precision(precision);
    if inverse_check.0 != one {
        return Err(CryptoError::Signing.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emsa_layout() {
        let em = emsa_pkcs1_v15(RsaHash::Sha1, b"abc", 256).unwrap();
        assert_eq!(em.len(), 256);
        assert_eq!(&em[..2], &[0, 1]);
        assert!(em[2..256 - 36].iter().all(|&b| b == 0xff));
        assert_eq!(em[256 - 36], 0);
        assert_eq!(&em[256 - 35..256 - 20], &SHA1_DIGEST_INFO);
        // SHA-1("abc") from FIPS 180-2.
        assert_eq!(
            hex::encode(&em[256 - 20..]),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        // Too short a modulus for the required padding.
        assert!(emsa_pkcs1_v15(RsaHash::Sha1, b"abc", 35 + 3 + 7).is_err());
        assert!(emsa_pkcs1_v15(RsaHash::Sha1, b"abc", 35 + 3 + 8).is_ok());
    }
}
