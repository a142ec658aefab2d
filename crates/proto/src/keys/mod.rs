//! In-memory SSH keys: public keys as they travel on the wire, private keys for signing, and
//! signature blobs.
//!
//! Supported key types are `ssh-ed25519` (RFC 8709), `ecdsa-sha2-nistp256`,
//! `ecdsa-sha2-nistp384` and `ecdsa-sha2-nistp521` (RFC 5656) and `ssh-rsa` (RFC 4253 §6.6)
//! with the `rsa-sha2-256` / `rsa-sha2-512` signature algorithms of RFC 8332 and the legacy
//! SHA-1 `ssh-rsa` signature algorithm. Keys can make and check SHA-1 signatures, but the
//! configuration decides whether they are ever used: `ssh-rsa` is in no default list
//! ([`crate::config::DEFAULT_HOST_KEY_ALGORITHMS`]).
//!
//! Every parser here treats its input as hostile: lengths are checked before use, trailing
//! bytes are refused, and nothing is allocated from a count the input chose.

pub mod cert;
pub mod cert_check;
mod ecdsa;
pub mod mldsa;
mod private;
mod rsa;
pub mod sk;

pub use cert::{CertFields, CertType, Certificate};
pub use cert_check::CertError;
pub use ecdsa::{ECDSA_SHA2_NISTP256, ECDSA_SHA2_NISTP384, ECDSA_SHA2_NISTP521, EcdsaCurve};
pub use private::{PrivateKey, RSA_SIGN_MAX_BITS, RSA_SIGN_MIN_BITS, SecretParts};
pub use sk::SkSignatureInfo;

use core::fmt;

use base64ct::{Base64Unpadded, Encoding};
use ring::{digest, signature};

use crate::error::{CryptoError, Error, PeerMisbehaved};
use crate::wire::{Reader, put_mpint, put_string};

/// The key type name of Ed25519 keys.
pub const SSH_ED25519: &str = "ssh-ed25519";
/// The key type name of RSA keys, also the SHA-1 RSA signature algorithm (RFC 4253 §6.6).
pub const SSH_RSA: &str = "ssh-rsa";
/// The RSA signature algorithm with SHA-256 (RFC 8332).
pub const RSA_SHA2_256: &str = "rsa-sha2-256";
/// The RSA signature algorithm with SHA-512 (RFC 8332).
pub const RSA_SHA2_512: &str = "rsa-sha2-512";

/// The smallest RSA modulus accepted when parsing, in bits.
const RSA_MIN_BITS: usize = 1024;
/// The largest RSA modulus accepted when parsing, in bits.
const RSA_MAX_BITS: usize = 16384;

/// A public key of one of the supported types.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An Ed25519 public key.
    Ed25519([u8; 32]),
    /// An ECDSA public key on a NIST curve.
    Ecdsa {
        /// The curve, which also fixes the hash of its signatures.
        curve: EcdsaCurve,
        /// The uncompressed SEC1 point (`0x04 || x || y`), `curve.point_len()` bytes.
        point: Vec<u8>,
    },
    /// An RSA public key.
    Rsa {
        /// The public exponent, big-endian, without leading zero bytes.
        e: Vec<u8>,
        /// The modulus, big-endian, without leading zero bytes.
        n: Vec<u8>,
    },
    /// An OpenSSH certificate (`*-cert-v01@openssh.com`, see [`cert`]): signatures are made
    /// and checked by the certified key.
    Certificate(Box<Certificate>),
    /// A FIDO security-key Ed25519 key (`sk-ssh-ed25519@openssh.com`, see [`sk`]).
    SkEd25519 {
        /// The Ed25519 public key.
        key: [u8; 32],
        /// The FIDO application (relying party), usually `ssh:`.
        application: String,
    },
    /// A composite ML-DSA-44 + Ed25519 key (`ssh-mldsa44-ed25519`, see [`mldsa`]): the
    /// 1312-byte ML-DSA-44 public key followed by the 32-byte Ed25519 one.
    MlDsa44Ed25519(Vec<u8>),
    /// A FIDO security-key ECDSA P-256 key (`sk-ecdsa-sha2-nistp256@openssh.com`).
    SkEcdsa {
        /// The uncompressed SEC1 point.
        point: Vec<u8>,
        /// The FIDO application (relying party), usually `ssh:`.
        application: String,
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
    /// 1024 to 16384 bits with an odd exponent `3 <= e`. ECDSA keys must name the curve of
    /// their key type and hold an uncompressed point of its length (a P-521 point is also
    /// checked to lie on the curve here; ring checks P-256 and P-384 points when it uses them).
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if the blob does not decode, [`CryptoError::BadPublicKey`] if
    /// it decodes but names an unsupported type or holds an unacceptable key.
    pub fn from_blob(blob: &[u8]) -> Result<PublicKey, Error> {
        let mut r = Reader::new(blob);
        let key_type = r.string("public key type")?;
        if cert::cert_key_type(key_type).is_some() {
            return Ok(PublicKey::Certificate(Box::new(Certificate::from_blob(
                blob,
            )?)));
        }
        let key = match (key_type, EcdsaCurve::from_key_type(key_type)) {
            (_, Some(curve)) => {
                let identifier = r.string("ecdsa curve name")?;
                if identifier != curve.identifier().as_bytes() {
                    return Err(CryptoError::BadPublicKey.into());
                }
                let q = r.string("ecdsa public point")?;
                curve.check_point(q)?;
                PublicKey::Ecdsa {
                    curve,
                    point: q.to_vec(),
                }
            }
            (b"ssh-ed25519", None) => {
                let pk = r.string("ed25519 public key")?;
                let pk: [u8; 32] = pk.try_into().map_err(|_| CryptoError::BadPublicKey)?;
                PublicKey::Ed25519(pk)
            }
            (b"sk-ssh-ed25519@openssh.com", None) => sk::parse_ed25519(&mut r)?,
            (b"ssh-mldsa44-ed25519", None) => {
                let pk = r.string("mldsa44-ed25519 public key")?;
                mldsa::check_public(pk)?;
                PublicKey::MlDsa44Ed25519(pk.to_vec())
            }
            (b"sk-ecdsa-sha2-nistp256@openssh.com", None) => sk::parse_ecdsa(&mut r)?,
            (b"ssh-rsa", None) => {
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
        if let PublicKey::Certificate(c) = self {
            return c.to_blob();
        }
        let mut out = Vec::new();
        put_string(&mut out, self.key_type().as_bytes());
        match self {
            PublicKey::Ed25519(pk) => put_string(&mut out, pk),
            PublicKey::Ecdsa { curve, point } => {
                put_string(&mut out, curve.identifier().as_bytes());
                put_string(&mut out, point);
            }
            PublicKey::Rsa { e, n } => {
                put_mpint(&mut out, e);
                put_mpint(&mut out, n);
            }
            PublicKey::Certificate(_) => {}
            PublicKey::MlDsa44Ed25519(pk) => put_string(&mut out, pk),
            PublicKey::SkEd25519 { .. } | PublicKey::SkEcdsa { .. } => sk::encode(self, &mut out),
        }
        out
    }

    /// The key type name: `"ssh-ed25519"`, `"ecdsa-sha2-nistp256"` (or `-nistp384`,
    /// `-nistp521`) or `"ssh-rsa"`.
    pub fn key_type(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => SSH_ED25519,
            PublicKey::Ecdsa { curve, .. } => curve.key_type(),
            PublicKey::Rsa { .. } => SSH_RSA,
            PublicKey::Certificate(c) => c.key_type(),
            PublicKey::SkEd25519 { .. } => sk::SK_SSH_ED25519,
            PublicKey::SkEcdsa { .. } => sk::SK_ECDSA_SHA2_NISTP256,
            PublicKey::MlDsa44Ed25519(_) => mldsa::SSH_MLDSA44_ED25519,
        }
    }

    /// The key itself: the certified key of a certificate, else `self`.
    pub fn plain(&self) -> &PublicKey {
        match self {
            PublicKey::Certificate(c) => c.key(),
            other => other,
        }
    }

    /// The certificate, if this is one.
    pub fn certificate(&self) -> Option<&Certificate> {
        match self {
            PublicKey::Certificate(c) => Some(c),
            _ => None,
        }
    }

    /// The SHA-256 fingerprint as `ssh-keygen -l` prints it: `"SHA256:"` followed by the
    /// unpadded base64 of SHA-256 over the public key blob.
    /// A certificate's fingerprint is its certified key's, as in OpenSSH.
    pub fn fingerprint(&self) -> String {
        let hash = digest::digest(&digest::SHA256, &self.plain().to_blob());
        format!("SHA256:{}", Base64Unpadded::encode_string(hash.as_ref()))
    }

    /// The signature algorithms this key can verify and (as a private key) produce, most
    /// preferred first. RSA keys list `rsa-sha2-512`, `rsa-sha2-256` and last the legacy
    /// SHA-1 `ssh-rsa`: callers intersect this with their configured algorithm list, which
    /// holds `ssh-rsa` only when the user adds it.
    pub fn signature_algorithms(&self) -> &'static [&'static str] {
        match self {
            PublicKey::Ed25519(_) => &[SSH_ED25519],
            PublicKey::Ecdsa { curve, .. } => match curve {
                EcdsaCurve::NistP256 => &[ECDSA_SHA2_NISTP256],
                EcdsaCurve::NistP384 => &[ECDSA_SHA2_NISTP384],
                EcdsaCurve::NistP521 => &[ECDSA_SHA2_NISTP521],
            },
            PublicKey::Rsa { .. } => &[RSA_SHA2_512, RSA_SHA2_256, SSH_RSA],
            PublicKey::Certificate(c) => c.signature_algorithms(),
            PublicKey::SkEd25519 { .. } => &[sk::SK_SSH_ED25519],
            PublicKey::MlDsa44Ed25519(_) => &[mldsa::SSH_MLDSA44_ED25519],
            PublicKey::SkEcdsa { .. } => &[
                sk::SK_ECDSA_SHA2_NISTP256,
                sk::WEBAUTHN_SK_ECDSA_SHA2_NISTP256,
            ],
        }
    }

    /// For RSA keys, the modulus size in bits; `None` for other key types.
    pub fn rsa_bits(&self) -> Option<usize> {
        match self.plain() {
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
    /// longer ones are refused. ECDSA signatures are `string(mpint r, mpint s)`, hashed with
    /// SHA-256, SHA-384 or SHA-512 by curve.
    ///
    /// # Errors
    /// - [`PeerMisbehaved::SignatureAlgorithmMismatch`] if the algorithm names disagree or
    ///   `expected_alg` does not suit this key;
    /// - [`Error::InvalidMessage`] if the blob does not decode (truncated, trailing bytes);
    /// - [`CryptoError::BadSignature`] if the signature is malformed or does not verify.
    pub fn verify(&self, expected_alg: &str, data: &[u8], sig_blob: &[u8]) -> Result<(), Error> {
        self.verify_detailed(expected_alg, data, sig_blob)
            .map(|_| ())
    }

    /// [`verify`](Self::verify), also returning what a FIDO authenticator reported (flags
    /// and counter) for security-key signatures (`None` for other keys): user presence and
    /// verification are the caller's policy to check.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub fn verify_detailed(
        &self,
        expected_alg: &str,
        data: &[u8],
        sig_blob: &[u8],
    ) -> Result<Option<SkSignatureInfo>, Error> {
        if !self.signature_algorithms().contains(&expected_alg) {
            return Err(PeerMisbehaved::SignatureAlgorithmMismatch.into());
        }
        match self {
            // The certified key signs with the plain algorithm (OpenSSH PROTOCOL.certkeys).
            PublicKey::Certificate(c) => {
                c.key()
                    .verify_detailed(cert::plain_algorithm(expected_alg), data, sig_blob)
            }
            PublicKey::SkEd25519 { .. } | PublicKey::SkEcdsa { .. } => {
                sk::verify(self, expected_alg, data, sig_blob).map(Some)
            }
            _ => self
                .verify_plain(expected_alg, data, sig_blob)
                .map(|()| None),
        }
    }

    /// Verifies a signature of an Ed25519, ECDSA or RSA key (`expected_alg` already checked).
    fn verify_plain(&self, expected_alg: &str, data: &[u8], sig_blob: &[u8]) -> Result<(), Error> {
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
            PublicKey::Ecdsa { curve, point } => curve.verify(point, data, sig),
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
                let params = match expected_alg {
                    RSA_SHA2_512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    RSA_SHA2_256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    _ => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                };
                signature::RsaPublicKeyComponents {
                    n: n.as_slice(),
                    e: e.as_slice(),
                }
                .verify(params, data, &padded)
                .map_err(bad)
            }
            PublicKey::MlDsa44Ed25519(pk) => mldsa::verify(pk, data, sig),
            PublicKey::Certificate(_) | PublicKey::SkEd25519 { .. } | PublicKey::SkEcdsa { .. } => {
                Err(CryptoError::BadSignature.into())
            }
        }
    }
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
