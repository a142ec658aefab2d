//! CBC mode for the legacy, opt-in ciphers `aes128-cbc`, `aes192-cbc`, `aes256-cbc` and
//! `3des-cbc` (RFC 4253 §6.3), from the RustCrypto `cbc`, `aes` and `des` crates.
//!
//! The chaining value carries over between packets, as RFC 4253 requires: the IV of a packet
//! is the last ciphertext block of the packet before it. The `cbc` encryptor and decryptor
//! keep that block as their state, so encrypting (or decrypting) a packet in two calls, first
//! block then the rest, gives the same result as one call.
//!
//! CBC without encrypt-then-MAC has the length-field oracle described by Albrecht, Paterson
//! and Watson (2009); the packet reader counters it the way OpenSSH does (see
//! [`crate::transport::packet`]).

use super::cipher::CipherAlg;
use crate::error::CryptoError;
use cbc::cipher::array::{Array, ArraySize};
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, BlockSizeUser, KeyIvInit};

/// Splits `data` into whole cipher blocks, or `None` if it is not a multiple of the block.
fn whole_blocks<N: ArraySize>(data: &mut [u8]) -> Option<&mut [Array<u8, N>]> {
    let (blocks, tail) = Array::slice_as_chunks_mut(data);
    tail.is_empty().then_some(blocks)
}

fn encrypt<M: BlockModeEncrypt>(m: &mut M, data: &mut [u8]) -> Result<(), CryptoError> {
    let blocks =
        whole_blocks::<<M as BlockSizeUser>::BlockSize>(data).ok_or(CryptoError::Signing)?;
    m.encrypt_blocks(blocks);
    Ok(())
}

fn decrypt<M: BlockModeDecrypt>(m: &mut M, data: &mut [u8]) -> Result<(), CryptoError> {
    let blocks =
        whole_blocks::<<M as BlockSizeUser>::BlockSize>(data).ok_or(CryptoError::BadMac)?;
    m.decrypt_blocks(blocks);
    Ok(())
}

/// Keys a mode object from the first `key_len`/`iv_len` bytes of the derived material.
fn keyed<M: KeyIvInit>(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<M, CryptoError> {
    let k = key.get(..alg.key_len()).ok_or(CryptoError::KeyAgreement)?;
    let iv = iv.get(..alg.iv_len()).ok_or(CryptoError::KeyAgreement)?;
    M::new_from_slices(k, iv).map_err(|_| CryptoError::KeyAgreement)
}

/// One direction's CBC encryptor.
pub enum CbcEncryptor {
    /// AES-128.
    A128(cbc::Encryptor<aes::Aes128>),
    /// AES-192.
    A192(cbc::Encryptor<aes::Aes192>),
    /// AES-256.
    A256(cbc::Encryptor<aes::Aes256>),
    /// Three-key triple DES (EDE).
    Tdes(cbc::Encryptor<des::TdesEde3>),
}

impl core::fmt::Debug for CbcEncryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CbcEncryptor")
    }
}

impl CbcEncryptor {
    /// Keys the encryptor for a CBC `alg`; other algorithms are refused.
    pub fn new(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<CbcEncryptor, CryptoError> {
        Ok(match alg {
            CipherAlg::Aes128Cbc => CbcEncryptor::A128(keyed(alg, key, iv)?),
            CipherAlg::Aes192Cbc => CbcEncryptor::A192(keyed(alg, key, iv)?),
            CipherAlg::Aes256Cbc => CbcEncryptor::A256(keyed(alg, key, iv)?),
            CipherAlg::TripleDesCbc => CbcEncryptor::Tdes(keyed(alg, key, iv)?),
            _ => return Err(CryptoError::KeyAgreement),
        })
    }

    /// Encrypts `data` in place, continuing the chain. `data` must be whole blocks.
    pub fn encrypt(&mut self, data: &mut [u8]) -> Result<(), CryptoError> {
        match self {
            CbcEncryptor::A128(c) => encrypt(c, data),
            CbcEncryptor::A192(c) => encrypt(c, data),
            CbcEncryptor::A256(c) => encrypt(c, data),
            CbcEncryptor::Tdes(c) => encrypt(c, data),
        }
    }
}

/// One direction's CBC decryptor.
pub enum CbcDecryptor {
    /// AES-128.
    A128(cbc::Decryptor<aes::Aes128>),
    /// AES-192.
    A192(cbc::Decryptor<aes::Aes192>),
    /// AES-256.
    A256(cbc::Decryptor<aes::Aes256>),
    /// Three-key triple DES (EDE).
    Tdes(cbc::Decryptor<des::TdesEde3>),
}

impl core::fmt::Debug for CbcDecryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CbcDecryptor")
    }
}

impl CbcDecryptor {
    /// Keys the decryptor for a CBC `alg`; other algorithms are refused.
    pub fn new(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<CbcDecryptor, CryptoError> {
        Ok(match alg {
            CipherAlg::Aes128Cbc => CbcDecryptor::A128(keyed(alg, key, iv)?),
            CipherAlg::Aes192Cbc => CbcDecryptor::A192(keyed(alg, key, iv)?),
            CipherAlg::Aes256Cbc => CbcDecryptor::A256(keyed(alg, key, iv)?),
            CipherAlg::TripleDesCbc => CbcDecryptor::Tdes(keyed(alg, key, iv)?),
            _ => return Err(CryptoError::KeyAgreement),
        })
    }

    /// Decrypts `data` in place, continuing the chain. Data that is not whole blocks is
    /// refused as [`CryptoError::BadMac`] and left as it was.
    pub fn decrypt(&mut self, data: &mut [u8]) -> Result<(), CryptoError> {
        match self {
            CbcDecryptor::A128(c) => decrypt(c, data),
            CbcDecryptor::A192(c) => decrypt(c, data),
            CbcDecryptor::A256(c) => decrypt(c, data),
            CbcDecryptor::Tdes(c) => decrypt(c, data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt) and F.2.2, the first two blocks, in two
    /// calls: the chain must carry over.
    #[test]
    fn nist_sp800_38a_f21_f22() {
        let key = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let iv = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let plain = hex::decode("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
            .unwrap();
        let cipher = "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2";
        let mut e = CbcEncryptor::new(CipherAlg::Aes128Cbc, &key, &iv).unwrap();
        let mut data = plain.clone();
        let (a, b) = data.split_at_mut(16);
        e.encrypt(a).unwrap();
        e.encrypt(b).unwrap();
        assert_eq!(hex::encode(&data), cipher);
        let mut d = CbcDecryptor::new(CipherAlg::Aes128Cbc, &key, &iv).unwrap();
        let (a, b) = data.split_at_mut(16);
        d.decrypt(a).unwrap();
        d.decrypt(b).unwrap();
        assert_eq!(data, plain);
    }

    #[test]
    fn partial_blocks_are_refused_untouched() {
        for alg in [CipherAlg::Aes256Cbc, CipherAlg::TripleDesCbc] {
            let (key, iv) = (vec![1u8; alg.key_len()], vec![2u8; alg.iv_len()]);
            let mut d = CbcDecryptor::new(alg, &key, &iv).unwrap();
            let mut data = vec![7u8; alg.block_len() + 1];
            assert_eq!(d.decrypt(&mut data), Err(CryptoError::BadMac));
            assert!(data.iter().all(|&b| b == 7));
            let mut e = CbcEncryptor::new(alg, &key, &iv).unwrap();
            assert!(e.encrypt(&mut data).is_err());
        }
        assert!(CbcEncryptor::new(CipherAlg::Aes128Ctr, &[0; 16], &[0; 16]).is_err());
    }

    #[test]
    fn tdes_round_trip_across_calls() {
        let alg = CipherAlg::TripleDesCbc;
        let (key, iv) = (vec![3u8; 24], vec![4u8; 8]);
        let mut e = CbcEncryptor::new(alg, &key, &iv).unwrap();
        let mut d = CbcDecryptor::new(alg, &key, &iv).unwrap();
        let plain: Vec<u8> = (0..64).collect();
        let mut data = plain.clone();
        e.encrypt(&mut data[..8]).unwrap();
        e.encrypt(&mut data[8..]).unwrap();
        assert_ne!(data, plain);
        d.decrypt(&mut data).unwrap();
        assert_eq!(data, plain);
    }
}
