//! AES in counter mode (`aes128-ctr`, `aes192-ctr`, `aes256-ctr`, RFC 4344), from the
//! RustCrypto `aes` and `ctr` crates (ring has no raw AES-CTR). The keystream continues
//! across packets, as SSH requires.

use crate::error::CryptoError;
use ctr::cipher::{KeyIvInit, StreamCipher};

/// One direction's AES-CTR keystream.
pub enum AesCtr {
    /// AES-128.
    A128(ctr::Ctr128BE<aes::Aes128>),
    /// AES-192.
    A192(ctr::Ctr128BE<aes::Aes192>),
    /// AES-256.
    A256(ctr::Ctr128BE<aes::Aes256>),
}

impl core::fmt::Debug for AesCtr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AesCtr")
    }
}

impl AesCtr {
    /// Keys the stream; `key` is 16, 24 or 32 bytes, `iv` 16.
    pub fn new(key: &[u8], iv: &[u8]) -> Result<AesCtr, CryptoError> {
        let iv = iv.get(..16).ok_or(CryptoError::KeyAgreement)?;
        let bad = |_| CryptoError::KeyAgreement;
        Ok(match key.len() {
            16 => AesCtr::A128(ctr::Ctr128BE::new_from_slices(key, iv).map_err(bad)?),
            24 => AesCtr::A192(ctr::Ctr128BE::new_from_slices(key, iv).map_err(bad)?),
            32 => AesCtr::A256(ctr::Ctr128BE::new_from_slices(key, iv).map_err(bad)?),
            _ => return Err(CryptoError::KeyAgreement),
        })
    }

    /// Encrypts or decrypts `data` in place, continuing the keystream.
    pub fn apply(&mut self, data: &mut [u8]) {
        match self {
            AesCtr::A128(c) => c.apply_keystream(data),
            AesCtr::A192(c) => c.apply_keystream(data),
            AesCtr::A256(c) => c.apply_keystream(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt), the first two blocks, applied in two calls.
    #[test]
    fn nist_sp800_38a_f51() {
        let key = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let iv = hex::decode("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").unwrap();
        let mut data =
            hex::decode("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
                .unwrap();
        let mut c = AesCtr::new(&key, &iv).unwrap();
        let (a, b) = data.split_at_mut(16);
        c.apply(a);
        c.apply(b);
        assert_eq!(
            hex::encode(data),
            "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
        );
    }
}
