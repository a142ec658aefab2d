//! Private keys as the agent protocol carries them in `ADD_IDENTITY` (RFC 9987 §4.2.1, the
//! same layout as a key in an OpenSSH private key file's private section):
//!
//! ```text
//! ssh-ed25519:          string type, string public (32), string seed||public (64)
//! ecdsa-sha2-nistpNNN:  string type, string curve, string Q, mpint d
//! ssh-rsa:              string type, mpint n, mpint e, mpint d, mpint iqmp, mpint p, mpint q
//! ```

use crate::error::AgentError;
use seashell_proto::PrivateKey;
use seashell_proto::keys::EcdsaCurve;
use seashell_proto::wire::Reader;
use zeroize::Zeroizing;

/// A private key's wire encoding (type and fields, no comment), held in wiped memory.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBlob {
    bytes: Zeroizing<Vec<u8>>,
    key_type: String,
}

impl core::fmt::Debug for KeyBlob {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyBlob({} <redacted>)", self.key_type)
    }
}

impl KeyBlob {
    /// Reads one key's fields from `r`, leaving `r` after them (at the comment).
    ///
    /// # Errors
    /// [`AgentError::UnsupportedKeyType`] for certificates, security keys, DSA and unknown
    /// types (their fields cannot be skipped without knowing them);
    /// [`AgentError::Malformed`] if a field is missing.
    pub fn read(r: &mut Reader<'_>) -> Result<KeyBlob, AgentError> {
        let start = r.rest();
        let key_type = r.string("key type")?;
        let fields = match key_type {
            b"ssh-ed25519" => 2,
            b"ssh-rsa" => 6,
            t if EcdsaCurve::from_key_type(t).is_some() => 3,
            other => {
                return Err(AgentError::UnsupportedKeyType(
                    String::from_utf8_lossy(other).into_owned(),
                ));
            }
        };
        for _ in 0..fields {
            r.string("key field")?;
        }
        let used = start.len() - r.remaining();
        Ok(KeyBlob {
            bytes: Zeroizing::new(start.get(..used).unwrap_or_default().to_vec()),
            key_type: String::from_utf8_lossy(key_type).into_owned(),
        })
    }

    /// Parses a blob holding exactly one key and nothing else.
    ///
    /// # Errors
    /// As [`read`](Self::read), and [`AgentError::Malformed`] for trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<KeyBlob, AgentError> {
        let mut r = Reader::new(bytes);
        let k = KeyBlob::read(&mut r)?;
        r.end("key blob")?;
        Ok(k)
    }

    /// The wire bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The key type name.
    pub fn key_type(&self) -> &str {
        &self.key_type
    }

    /// Builds the key.
    ///
    /// # Errors
    /// [`AgentError::BadKey`] if the parts do not make a usable key (a public half that
    /// does not match, an RSA key ring cannot sign with).
    pub fn to_private_key(&self) -> Result<PrivateKey, AgentError> {
        let mut r = Reader::new(&self.bytes);
        let key_type = r.string("key type")?;
        let key = match key_type {
            b"ssh-ed25519" => {
                let public: [u8; 32] = r
                    .string("ed25519 public")?
                    .try_into()
                    .map_err(|_| AgentError::BadKey)?;
                let secret = r.string("ed25519 private")?;
                if secret.len() != 64 || secret.get(32..) != Some(&public[..]) {
                    return Err(AgentError::BadKey);
                }
                let mut seed = Zeroizing::new([0u8; 32]);
                seed.copy_from_slice(secret.get(..32).ok_or(AgentError::BadKey)?);
                PrivateKey::ed25519_from_seed_and_public(&seed, &public)
            }
            b"ssh-rsa" => {
                let n = r.mpint_positive("rsa n")?;
                let e = r.mpint_positive("rsa e")?;
                let d = r.mpint_positive("rsa d")?;
                let iqmp = r.mpint_positive("rsa iqmp")?;
                let p = r.mpint_positive("rsa p")?;
                let q = r.mpint_positive("rsa q")?;
                PrivateKey::rsa_from_components(n, e, d, iqmp, p, q)
            }
            t => {
                let curve = EcdsaCurve::from_key_type(t).ok_or(AgentError::BadKey)?;
                if r.string("curve")? != curve.identifier().as_bytes() {
                    return Err(AgentError::BadKey);
                }
                let q = r.string("ecdsa point")?;
                let d = r.mpint_positive("ecdsa scalar")?;
                PrivateKey::ecdsa_from_scalar(curve, d, q)
            }
        };
        key.map_err(|_| AgentError::BadKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seashell_proto::wire;

    pub(crate) fn ed25519_blob(seed: [u8; 32]) -> (KeyBlob, PrivateKey) {
        let key = PrivateKey::ed25519_from_seed(&seed).unwrap();
        let seashell_proto::PublicKey::Ed25519(public) = key.public_key() else {
            panic!("not ed25519");
        };
        let mut b = Vec::new();
        wire::put_string(&mut b, b"ssh-ed25519");
        wire::put_string(&mut b, &public);
        let mut secret = seed.to_vec();
        secret.extend_from_slice(&public);
        wire::put_string(&mut b, &secret);
        (KeyBlob::from_bytes(&b).unwrap(), key)
    }

    #[test]
    fn ed25519_round_trip_and_mismatch() {
        let (blob, key) = ed25519_blob([7; 32]);
        assert_eq!(blob.key_type(), "ssh-ed25519");
        assert_eq!(
            blob.to_private_key().unwrap().public_key(),
            key.public_key()
        );
        // A seed whose public half differs is refused.
        let mut bytes = blob.bytes().to_vec();
        let last = bytes.len() - 40;
        bytes[last] ^= 1;
        let bad = KeyBlob::from_bytes(&bytes).unwrap();
        assert_eq!(bad.to_private_key().unwrap_err(), AgentError::BadKey);
    }

    #[test]
    fn unknown_and_truncated_types_are_typed_errors() {
        let mut b = Vec::new();
        wire::put_string(&mut b, b"ssh-dss");
        assert!(matches!(
            KeyBlob::from_bytes(&b),
            Err(AgentError::UnsupportedKeyType(t)) if t == "ssh-dss"
        ));
        let mut t = Vec::new();
        wire::put_string(&mut t, b"ssh-rsa");
        wire::put_string(&mut t, &[1, 2]);
        assert!(matches!(
            KeyBlob::from_bytes(&t),
            Err(AgentError::Malformed(_))
        ));
    }
}
