//! In-memory SSH keys: public keys as they travel on the wire, private keys for signing, and
//! signature blobs.
//!
//! Supported key types are `ssh-ed25519` (RFC 8709), `ecdsa-sha2-nistp256` (RFC 5656) and
//! `ssh-rsa` (RFC 4253 §6.6) with the `rsa-sha2-256` / `rsa-sha2-512` signature algorithms of
//! RFC 8332. SHA-1 `ssh-rsa` signatures are neither produced nor accepted.
//!
//! Every parser here treats its input as hostile: lengths are checked before use, trailing
//! bytes are refused, and nothing is allocated from a count the input chose.

mod private;

pub use private::PrivateKey;

use core::fmt;

use base64ct::{Base64Unpadded, Encoding};
use ring::{digest, signature};

use crate::error::{CryptoError, Error, InvalidMessage, PeerMisbehaved};
use crate::wire::{Reader, put_mpint, put_string};

/// The key type name of Ed25519 keys.
pub const SSH_ED25519: &str = "ssh-ed25519";
/// The key type name of ECDSA keys on NIST P-256.
pub const ECDSA_SHA2_NISTP256: &str = "ecdsa-sha2-nistp256";
/// The key type name of RSA keys.
pub const SSH_RSA: &str = "ssh-rsa";
/// The RSA signature algorithm with SHA-256 (RFC 8332).
pub const RSA_SHA2_256: &str = "rsa-sha2-256";
/// The RSA signature algorithm with SHA-512 (RFC 8332).
pub const RSA_SHA2_512: &str = "rsa-sha2-512";

/// The curve identifier inside an `ecdsa-sha2-nistp256` blob.
const NISTP256: &[u8] = b"nistp256";
/// Length of an uncompressed SEC1 P-256 point.
const P256_POINT_LEN: usize = 65;
/// Length of a P-256 scalar or coordinate.
pub(crate) const P256_SCALAR_LEN: usize = 32;
/// The smallest RSA modulus accepted when parsing, in bits.
const RSA_MIN_BITS: usize = 1024;
/// The largest RSA modulus accepted when parsing, in bits.
const RSA_MAX_BITS: usize = 16384;

/// A public key of one of the supported types.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An Ed25519 public key.
    Ed25519([u8; 32]),
    /// An ECDSA P-256 public key: the 65-byte uncompressed SEC1 point (`0x04 || x || y`).
    EcdsaP256(Vec<u8>),
    /// An RSA public key.
    Rsa {
        /// The public exponent, big-endian, without leading zero bytes.
        e: Vec<u8>,
        /// The modulus, big-endian, without leading zero bytes.
        n: Vec<u8>,
    },
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} {})", self.key_type(), self.fingerprint())
    }
}

impl PublicKey {
    /// Parses an SSH public key blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4).
    ///
    /// The whole input must be one blob; trailing bytes are refused. RSA moduli must be
    /// 1024 to 16384 bits with an odd exponent `3 <= e`, and ECDSA keys must use `nistp256` with
    /// a 65-byte uncompressed point.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if the blob does not decode, [`CryptoError::BadPublicKey`] if
    /// it decodes but names an unsupported type or holds an unacceptable key.
    pub fn from_blob(blob: &[u8]) -> Result<PublicKey, Error> {
        let mut r = Reader::new(blob);
        let key_type = r.string("public key type")?;
        let key = match key_type {
            b"ssh-ed25519" => {
                let pk = r.string("ed25519 public key")?;
                let pk: [u8; 32] = pk.try_into().map_err(|_| CryptoError::BadPublicKey)?;
                PublicKey::Ed25519(pk)
            }
            b"ecdsa-sha2-nistp256" => {
                let curve = r.string("ecdsa curve name")?;
                if curve != NISTP256 {
                    return Err(CryptoError::BadPublicKey.into());
                }
                let q = r.string("ecdsa public point")?;
                check_p256_point(q)?;
                PublicKey::EcdsaP256(q.to_vec())
            }
            b"ssh-rsa" => {
                let e = r.mpint_positive("rsa public exponent")?;
                let n = r.mpint_positive("rsa modulus")?;
                check_rsa_public(e, n)?;
                PublicKey::Rsa {
                    e: e.to_vec(),
                    n: n.to_vec(),
                }
            }
            _ => return Err(CryptoError::BadPublicKey.into()),
        };
        r.end("public key blob")?;
        Ok(key)
    }

    /// Encodes the key as an SSH public key blob.
    pub fn to_blob(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, self.key_type().as_bytes());
        match self {
            PublicKey::Ed25519(pk) => put_string(&mut out, pk),
            PublicKey::EcdsaP256(q) => {
                put_string(&mut out, NISTP256);
                put_string(&mut out, q);
            }
            PublicKey::Rsa { e, n } => {
                put_mpint(&mut out, e);
                put_mpint(&mut out, n);
            }
        }
        out
    }

    /// The key type name: `"ssh-ed25519"`, `"ecdsa-sha2-nistp256"` or `"ssh-rsa"`.
    pub fn key_type(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => SSH_ED25519,
            PublicKey::EcdsaP256(_) => ECDSA_SHA2_NISTP256,
            PublicKey::Rsa { .. } => SSH_RSA,
        }
    }

    /// The SHA-256 fingerprint as `ssh-keygen -l` prints it: `"SHA256:"` followed by the
    /// unpadded base64 of SHA-256 over the public key blob.
    pub fn fingerprint(&self) -> String {
        let hash = digest::digest(&digest::SHA256, &self.to_blob());
        format!("SHA256:{}", Base64Unpadded::encode_string(hash.as_ref()))
    }

    /// The signature algorithms this key can verify and (as a private key) produce, most
    /// preferred first. RSA keys list `rsa-sha2-512` and `rsa-sha2-256`; the SHA-1 `ssh-rsa`
    /// signature algorithm is deliberately absent.
    pub fn signature_algorithms(&self) -> &'static [&'static str] {
        match self {
            PublicKey::Ed25519(_) => &[SSH_ED25519],
            PublicKey::EcdsaP256(_) => &[ECDSA_SHA2_NISTP256],
            PublicKey::Rsa { .. } => &[RSA_SHA2_512, RSA_SHA2_256],
        }
    }

    /// For RSA keys, the modulus size in bits; `None` for other key types.
    pub fn rsa_bits(&self) -> Option<usize> {
        match self {
            PublicKey::Rsa { n, .. } => Some(bit_len(n)),
            _ => None,
        }
    }

    /// Verifies the SSH signature blob `sig_blob` (`string(alg) string(signature)`) over
    /// `data`.
    ///
    /// `expected_alg` is the negotiated signature algorithm (for example `"rsa-sha2-256"`).
    /// It must be one of [`signature_algorithms`](Self::signature_algorithms), and the blob
    /// must name exactly it.
    ///
    /// RSA signatures shorter than the modulus are left-padded with zeros, as OpenSSH does;
    /// longer ones are refused. ECDSA signatures are `string(mpint r, mpint s)`.
    ///
    /// # Errors
    /// - [`PeerMisbehaved::SignatureAlgorithmMismatch`] if the algorithm names disagree or
    ///   `expected_alg` does not suit this key;
    /// - [`Error::InvalidMessage`] if the blob does not decode (truncated, trailing bytes);
    /// - [`CryptoError::BadSignature`] if the signature is malformed or does not verify.
    pub fn verify(&self, expected_alg: &str, data: &[u8], sig_blob: &[u8]) -> Result<(), Error> {
        if !self.signature_algorithms().contains(&expected_alg) {
            return Err(PeerMisbehaved::SignatureAlgorithmMismatch.into());
        }
        let mut r = Reader::new(sig_blob);
        let alg = r.string("signature algorithm")?;
        if alg != expected_alg.as_bytes() {
            return Err(PeerMisbehaved::SignatureAlgorithmMismatch.into());
        }
        let sig = r.string("signature")?;
        r.end("signature blob")?;
        let bad = |_| Error::Crypto(CryptoError::BadSignature);
        match self {
            PublicKey::Ed25519(pk) => {
                if sig.len() != 64 {
                    return Err(CryptoError::BadSignature.into());
                }
                signature::UnparsedPublicKey::new(&signature::ED25519, pk)
                    .verify(data, sig)
                    .map_err(bad)
            }
            PublicKey::EcdsaP256(q) => {
                let fixed = ecdsa_sig_to_fixed(sig)?;
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, q)
                    .verify(data, &fixed)
                    .map_err(bad)
            }
            PublicKey::Rsa { e, n } => {
                if sig.len() > n.len() {
                    return Err(CryptoError::BadSignature.into());
                }
                let mut padded = vec![0u8; n.len()];
                let start = n.len() - sig.len();
                padded
                    .get_mut(start..)
                    .ok_or(CryptoError::BadSignature)?
                    .copy_from_slice(sig);
                let params = if expected_alg == RSA_SHA2_512 {
                    &signature::RSA_PKCS1_2048_8192_SHA512
                } else {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                };
                signature::RsaPublicKeyComponents {
                    n: n.as_slice(),
                    e: e.as_slice(),
                }
                .verify(params, data, &padded)
                .map_err(bad)
            }
        }
    }
}

/// Checks an uncompressed SEC1 P-256 point's framing (the curve check happens in ring).
pub(crate) fn check_p256_point(q: &[u8]) -> Result<(), Error> {
    if q.len() != P256_POINT_LEN || q.first() != Some(&0x04) {
        return Err(CryptoError::BadPublicKey.into());
    }
    Ok(())
}

/// Checks the RSA public parameters (magnitudes without leading zeros) against the parse-time
/// bounds.
fn check_rsa_public(e: &[u8], n: &[u8]) -> Result<(), Error> {
    let bits = bit_len(n);
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return Err(CryptoError::BadPublicKey.into());
    }
    let e_odd = e.last().is_some_and(|&b| b & 1 == 1);
    let e_small = e.len() == 1 && e.first().is_some_and(|&b| b < 3);
    if !e_odd || e_small || e.len() > n.len() {
        return Err(CryptoError::BadPublicKey.into());
    }
    Ok(())
}

/// The bit length of a big-endian magnitude (leading zero bytes allowed).
pub(crate) fn bit_len(m: &[u8]) -> usize {
    let start = m.iter().position(|&b| b != 0).unwrap_or(m.len());
    let m = m.get(start..).unwrap_or_default();
    match m.first() {
        None => 0,
        Some(&top) => (m.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

/// Converts an SSH ECDSA signature (`mpint r, mpint s`) into ring's fixed `r || s` form.
fn ecdsa_sig_to_fixed(sig: &[u8]) -> Result<[u8; 2 * P256_SCALAR_LEN], Error> {
    let mut r = Reader::new(sig);
    let bad = |_: InvalidMessage| Error::Crypto(CryptoError::BadSignature);
    let sig_r = r.mpint_positive("ecdsa signature r").map_err(bad)?;
    let sig_s = r.mpint_positive("ecdsa signature s").map_err(bad)?;
    r.end("ecdsa signature").map_err(bad)?;
    let mut fixed = [0u8; 2 * P256_SCALAR_LEN];
    let (fr, fs) = fixed.split_at_mut(P256_SCALAR_LEN);
    left_pad_into(fr, sig_r).ok_or(CryptoError::BadSignature)?;
    left_pad_into(fs, sig_s).ok_or(CryptoError::BadSignature)?;
    Ok(fixed)
}

/// Copies the non-empty magnitude `src` right-aligned into `dst` (zero-filled on the left).
/// Returns `None` if `src` is empty or longer than `dst`.
pub(crate) fn left_pad_into(dst: &mut [u8], src: &[u8]) -> Option<()> {
    if src.is_empty() || src.len() > dst.len() {
        return None;
    }
    let start = dst.len() - src.len();
    let (zeros, tail) = dst.split_at_mut(start);
    zeros.fill(0);
    tail.copy_from_slice(src);
    Some(())
}

/// Strips leading zero bytes from a big-endian magnitude.
pub(crate) fn strip_leading_zeros(m: &[u8]) -> &[u8] {
    let start = m.iter().position(|&b| b != 0).unwrap_or(m.len());
    m.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests;
