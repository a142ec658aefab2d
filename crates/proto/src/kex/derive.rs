//! Key derivation (RFC 4253 §7.2): `HASH(K || H || letter || session_id)`, extended by
//! `HASH(K || H || K1 || …)` until long enough.

use super::KexOutput;
use zeroize::Zeroizing;

/// Derives `len` bytes of key material for `letter` ('A'..='F').
pub fn derive_key(
    out: &KexOutput,
    session_id: &[u8],
    letter: u8,
    len: usize,
) -> Zeroizing<Vec<u8>> {
    let k = out.shared_secret.as_slice();
    let h = out.exchange_hash.as_slice();
    let mut key = Zeroizing::new(out.hash.hash(&[k, h, &[letter], session_id]));
    while key.len() < len {
        let more = out.hash.hash(&[k, h, key.as_slice()]);
        key.extend_from_slice(&more);
    }
    key.truncate(len);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::HashAlg;

    /// The extension rule of RFC 4253 §7.2: the second block is HASH(K || H || K1), and a
    /// shorter request is a prefix of a longer one.
    #[test]
    fn extension_rule() {
        let mut k = Vec::new();
        crate::wire::put_mpint(&mut k, &[0x87; 32]);
        let k = Zeroizing::new(k);
        let out = KexOutput {
            exchange_hash: vec![7u8; 32],
            shared_secret: k,
            hash: HashAlg::Sha256,
        };
        let sid = vec![9u8; 32];
        let long = derive_key(&out, &sid, b'C', 64);
        let k1 = HashAlg::Sha256.hash(&[&out.shared_secret, &out.exchange_hash, b"C", &sid]);
        let k2 = HashAlg::Sha256.hash(&[&out.shared_secret, &out.exchange_hash, &k1]);
        assert_eq!(&long[..32], &k1[..]);
        assert_eq!(&long[32..], &k2[..]);
        assert_eq!(&derive_key(&out, &sid, b'C', 12)[..], &k1[..12]);
    }
}
