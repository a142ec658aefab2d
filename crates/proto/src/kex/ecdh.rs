//! `ecdh-sha2-nistp521` (RFC 5656) with the RustCrypto `p521` crate. Unlike ring's P-256 and
//! P-384, the private scalar comes from our [`SecureRandom`], so the method runs with fixed
//! randomness in tests. Peer points must be uncompressed SEC1 encodings of a point on the
//! curve (the crate rejects off-curve points; the identity has no such encoding).

use crate::crypto::SecureRandom;
use crate::error::{CryptoError, Error};
use p521::elliptic_curve::sec1::ToSec1Point;
use zeroize::Zeroizing;

/// Bytes of a P-521 field element or scalar.
const FIELD_LEN: usize = 66;
/// Bytes of an uncompressed SEC1 point: 0x04 || X || Y.
pub const P521_POINT_LEN: usize = 1 + 2 * FIELD_LEN;
/// Draws before giving up on finding a scalar in [1, n-1] (each draw fails with
/// probability about 2^-260, so this never happens with a working RNG).
const MAX_DRAWS: usize = 16;

/// Our ephemeral P-521 key.
pub struct P521 {
    secret: p521::SecretKey,
    public: Vec<u8>,
}

impl core::fmt::Debug for P521 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("P521 { .. }")
    }
}

impl P521 {
    /// Draws a scalar in [1, n-1] from `rng`: 66 bytes with the top 7 bits cleared (521
    /// bits), retried if zero or not below the group order.
    pub fn generate(rng: &dyn SecureRandom) -> Result<P521, Error> {
        for _ in 0..MAX_DRAWS {
            let mut bytes = Zeroizing::new([0u8; FIELD_LEN]);
            rng.fill(bytes.as_mut_slice())?;
            if let Some(top) = bytes.first_mut() {
                *top &= 0x01;
            }
            if let Ok(secret) = p521::SecretKey::from_slice(bytes.as_slice()) {
                let public = secret.public_key().to_sec1_point(false).as_bytes().to_vec();
                return Ok(P521 { secret, public });
            }
        }
        Err(CryptoError::Rng.into())
    }

    /// Our public point Q, uncompressed SEC1.
    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret: the x-coordinate of d·Q_peer, 66 bytes big-endian. Anything but an
    /// uncompressed point on the curve fails.
    pub fn agree(&self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if peer.len() != P521_POINT_LEN || peer.first() != Some(&0x04) {
            return Err(CryptoError::KeyAgreement.into());
        }
        let peer = p521::PublicKey::from_sec1_bytes(peer).map_err(|_| CryptoError::KeyAgreement)?;
        let shared = self.secret.diffie_hellman(&peer);
        Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SystemRandom;

    #[test]
    fn agree_both_ways_and_reject_bad_points() {
        let rng = SystemRandom::new();
        let a = P521::generate(&rng).unwrap();
        let b = P521::generate(&rng).unwrap();
        assert_eq!(a.public().len(), P521_POINT_LEN);
        assert_eq!(a.public()[0], 4);
        assert_eq!(*a.agree(b.public()).unwrap(), *b.agree(a.public()).unwrap());
        assert_eq!(a.agree(b.public()).unwrap().len(), FIELD_LEN);
        // Compressed form of a valid point: refused (RFC 5656 §6.6 asks for uncompressed).
        let compressed = p521::PublicKey::from_sec1_bytes(b.public())
            .unwrap()
            .to_sec1_point(true);
        assert!(a.agree(compressed.as_bytes()).is_err());
        // Off the curve: flip one bit of y.
        let mut off = b.public().to_vec();
        off[P521_POINT_LEN - 1] ^= 1;
        assert!(a.agree(&off).is_err());
        for bad in [
            vec![],
            vec![0u8],
            vec![4u8; P521_POINT_LEN],
            vec![0u8; P521_POINT_LEN],
        ] {
            assert!(a.agree(&bad).is_err());
        }
    }
}
