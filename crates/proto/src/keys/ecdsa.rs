//! ECDSA on the NIST curves (RFC 5656): the curve table, point framing and validation,
//! signature encoding, verification and the P-521 signer.
//!
//! P-256 and P-384 use ring (`ECDSA_P256_SHA256_FIXED`, `ECDSA_P384_SHA384_FIXED`). ring has
//! no P-521, so `ecdsa-sha2-nistp521` uses the RustCrypto `p521` crate with SHA-512 and
//! RFC 6979 deterministic nonces.

use p521::ecdsa::signature::{Signer, Verifier};
use ring::signature;
use zeroize::Zeroizing;

use super::{left_pad_into, strip_leading_zeros};
use crate::error::{CryptoError, Error, InvalidMessage};
use crate::wire::{Reader, put_mpint};

/// The key type name of ECDSA keys on NIST P-256.
pub const ECDSA_SHA2_NISTP256: &str = "ecdsa-sha2-nistp256";
/// The key type name of ECDSA keys on NIST P-384.
pub const ECDSA_SHA2_NISTP384: &str = "ecdsa-sha2-nistp384";
/// The key type name of ECDSA keys on NIST P-521.
pub const ECDSA_SHA2_NISTP521: &str = "ecdsa-sha2-nistp521";

/// The largest scalar length of the supported curves (P-521: 66 bytes).
const MAX_SCALAR_LEN: usize = 66;

/// A NIST curve of an ECDSA key. The key type `ecdsa-sha2-<identifier>` fixes the curve and
/// the hash: SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521 (RFC 5656 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcdsaCurve {
    /// NIST P-256 (secp256r1).
    NistP256,
    /// NIST P-384 (secp384r1).
    NistP384,
    /// NIST P-521 (secp521r1).
    NistP521,
}

impl EcdsaCurve {
    /// Every supported curve.
    pub const ALL: [EcdsaCurve; 3] = [
        EcdsaCurve::NistP256,
        EcdsaCurve::NistP384,
        EcdsaCurve::NistP521,
    ];

    /// The key type and signature algorithm name, e.g. `"ecdsa-sha2-nistp384"`.
    pub fn key_type(self) -> &'static str {
        match self {
            EcdsaCurve::NistP256 => ECDSA_SHA2_NISTP256,
            EcdsaCurve::NistP384 => ECDSA_SHA2_NISTP384,
            EcdsaCurve::NistP521 => ECDSA_SHA2_NISTP521,
        }
    }

    /// The curve identifier inside key blobs, e.g. `"nistp384"`.
    pub fn identifier(self) -> &'static str {
        match self {
            EcdsaCurve::NistP256 => "nistp256",
            EcdsaCurve::NistP384 => "nistp384",
            EcdsaCurve::NistP521 => "nistp521",
        }
    }

    /// The length of a scalar or coordinate in bytes: 32, 48 or 66.
    pub fn scalar_len(self) -> usize {
        match self {
            EcdsaCurve::NistP256 => 32,
            EcdsaCurve::NistP384 => 48,
            EcdsaCurve::NistP521 => MAX_SCALAR_LEN,
        }
    }

    /// The length of an uncompressed SEC1 point: `1 + 2 * scalar_len`.
    pub fn point_len(self) -> usize {
        1 + 2 * self.scalar_len()
    }

    /// The curve of key type `name` (`ecdsa-sha2-nistp256` …), if it is one.
    pub fn from_key_type(name: &[u8]) -> Option<EcdsaCurve> {
        EcdsaCurve::ALL
            .into_iter()
            .find(|c| c.key_type().as_bytes() == name)
    }

    /// Checks an uncompressed SEC1 point: its framing for every curve, and for P-521 that it
    /// lies on the curve. ring checks P-256 and P-384 points on the curve when it uses them
    /// (verification, and key construction from a private scalar).
    pub(crate) fn check_point(self, q: &[u8]) -> Result<(), Error> {
        if q.len() != self.point_len() || q.first() != Some(&0x04) {
            return Err(CryptoError::BadPublicKey.into());
        }
        if self == EcdsaCurve::NistP521 {
            p521::ecdsa::VerifyingKey::from_sec1_bytes(q).map_err(|_| CryptoError::BadPublicKey)?;
        }
        Ok(())
    }

    /// Verifies the inner signature `sig` (`mpint r, mpint s`) over `data` with point `q`.
    pub(crate) fn verify(self, q: &[u8], data: &[u8], sig: &[u8]) -> Result<(), Error> {
        let fixed = self.sig_to_fixed(sig)?;
        let bad = || Error::Crypto(CryptoError::BadSignature);
        let ring_alg = match self {
            EcdsaCurve::NistP256 => &signature::ECDSA_P256_SHA256_FIXED,
            EcdsaCurve::NistP384 => &signature::ECDSA_P384_SHA384_FIXED,
            EcdsaCurve::NistP521 => {
                let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(q).map_err(|_| bad())?;
                let sig = p521::ecdsa::Signature::from_slice(&fixed).map_err(|_| bad())?;
                return key.verify(data, &sig).map_err(|_| bad());
            }
        };
        signature::UnparsedPublicKey::new(ring_alg, q)
            .verify(data, &fixed)
            .map_err(|_| bad())
    }

    /// Converts an SSH ECDSA signature (`mpint r, mpint s`) into the fixed `r || s` form of
    /// this curve. Each of `r` and `s` must be positive and fit the scalar length.
    fn sig_to_fixed(self, sig: &[u8]) -> Result<Vec<u8>, Error> {
        let mut r = Reader::new(sig);
        let bad = |_: InvalidMessage| Error::Crypto(CryptoError::BadSignature);
        let sig_r = r.mpint_positive("ecdsa signature r").map_err(bad)?;
        let sig_s = r.mpint_positive("ecdsa signature s").map_err(bad)?;
        r.end("ecdsa signature").map_err(bad)?;
        let n = self.scalar_len();
        let mut fixed = vec![0u8; 2 * n];
        let (fr, fs) = fixed.split_at_mut(n);
        left_pad_into(fr, sig_r).ok_or(CryptoError::BadSignature)?;
        left_pad_into(fs, sig_s).ok_or(CryptoError::BadSignature)?;
        Ok(fixed)
    }

    /// Encodes a fixed `r || s` signature of this curve as the SSH `mpint r, mpint s`.
    pub(crate) fn fixed_to_ssh(self, fixed: &[u8]) -> Result<Vec<u8>, Error> {
        if fixed.len() != 2 * self.scalar_len() {
            return Err(CryptoError::Signing.into());
        }
        let (r, s) = fixed.split_at(self.scalar_len());
        let mut out = Vec::with_capacity(2 * (self.scalar_len() + 5));
        put_mpint(&mut out, r);
        put_mpint(&mut out, s);
        Ok(out)
    }

    /// The private scalar `d` (big-endian, leading zeros allowed) left-padded to the scalar
    /// length, in a buffer wiped on drop.
    pub(crate) fn padded_scalar(self, d: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut scalar = Zeroizing::new(vec![0u8; self.scalar_len()]);
        left_pad_into(scalar.as_mut_slice(), strip_leading_zeros(d))
            .ok_or(CryptoError::BadPublicKey)?;
        Ok(scalar)
    }
}

/// An ECDSA P-521 signing key (the `p521` crate wipes its scalar on drop).
pub(crate) struct P521Signer(p521::ecdsa::SigningKey);

impl P521Signer {
    /// Builds the signer from the private scalar and checks it yields `public_sec1`.
    pub(crate) fn new(d: &[u8], public_sec1: &[u8]) -> Result<P521Signer, Error> {
        EcdsaCurve::NistP521.check_point(public_sec1)?;
        let scalar = EcdsaCurve::NistP521.padded_scalar(d)?;
        let key = p521::ecdsa::SigningKey::from_slice(scalar.as_slice())
            .map_err(|_| CryptoError::BadPublicKey)?;
        let derived = key.verifying_key().to_sec1_point(false);
        if derived.as_bytes() != public_sec1 {
            return Err(CryptoError::BadPublicKey.into());
        }
        Ok(P521Signer(key))
    }

    /// Signs `data` (hashed with SHA-512, RFC 6979 nonce) and returns the SSH inner
    /// signature `mpint r, mpint s`.
    pub(crate) fn sign(&self, data: &[u8]) -> Result<Vec<u8>, Error> {
        let sig: p521::ecdsa::Signature =
            self.0.try_sign(data).map_err(|_| CryptoError::Signing)?;
        EcdsaCurve::NistP521.fixed_to_ssh(&sig.to_bytes())
    }
}
