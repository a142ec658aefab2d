//! OpenSSL's legacy ("traditional") encrypted PEM: a PKCS#1 or SEC1 key whose armor carries
//! `Proc-Type: 4,ENCRYPTED` and `DEK-Info: <cipher>,<hex IV>` headers (RFC 1421). This is what
//! `ssh-keygen -m PEM -N pass` and `openssl rsa -aes256` write.
//!
//! The key is derived with OpenSSL's `EVP_BytesToKey` (MD5, one iteration, the first 8 bytes
//! of the IV as salt): `D_1 = MD5(pass || salt)`, `D_i = MD5(D_{i-1} || pass || salt)`, their
//! concatenation cut to the key length. The body is CBC with PKCS#7 padding. No crate
//! implements this deprecated scheme, so it is written here on top of `md-5`, `aes`, `des` and
//! `cbc`; a wrong passphrase shows as bad padding or a body that is not DER.

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::{BlockModeEncrypt, BlockSizeUser, KeyIvInit};
use des::TdesEde3;
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use crate::KeyFileError;
use crate::encrypted::{cbc_decrypt, whole_blocks};

/// A DEK-Info cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DekCipher {
    Aes(usize),
    DesEde3,
}

impl DekCipher {
    fn from_name(name: &str) -> Option<DekCipher> {
        Some(match name.to_ascii_uppercase().as_str() {
            "AES-128-CBC" => DekCipher::Aes(16),
            "AES-192-CBC" => DekCipher::Aes(24),
            "AES-256-CBC" => DekCipher::Aes(32),
            "DES-EDE3-CBC" => DekCipher::DesEde3,
            _ => return None,
        })
    }

    fn key_len(self) -> usize {
        match self {
            DekCipher::Aes(k) => k,
            DekCipher::DesEde3 => 24,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            DekCipher::Aes(_) => 16,
            DekCipher::DesEde3 => 8,
        }
    }
}

/// Whether the armor headers mark the key as encrypted.
pub(crate) fn is_encrypted(proc_type: Option<&str>) -> bool {
    proc_type.is_some_and(|v| v.replace(' ', "").eq_ignore_ascii_case("4,ENCRYPTED"))
}

/// Parses `DEK-Info: cipher,hexiv` (no passphrase needed): errors that do not depend on the
/// passphrase come first.
fn parse_dek_info(dek_info: Option<&str>) -> Result<(DekCipher, Vec<u8>), KeyFileError> {
    let dek = dek_info.ok_or(KeyFileError::Malformed("PEM DEK-Info header"))?;
    let (name, iv_hex) = dek
        .split_once(',')
        .ok_or(KeyFileError::Malformed("PEM DEK-Info header"))?;
    let cipher = DekCipher::from_name(name.trim()).ok_or_else(|| {
        KeyFileError::Unsupported(format!(
            "PEM encryption {}",
            crate::openssh::printable(name.trim().as_bytes())
        ))
    })?;
    let iv = decode_hex(iv_hex.trim()).ok_or(KeyFileError::Malformed("PEM DEK-Info IV"))?;
    if iv.len() != cipher.iv_len() {
        return Err(KeyFileError::Malformed("PEM DEK-Info IV"));
    }
    Ok((cipher, iv))
}

/// Checks the headers of an encrypted legacy PEM key without decrypting it.
pub(crate) fn check(dek_info: Option<&str>) -> Result<(), KeyFileError> {
    parse_dek_info(dek_info).map(|_| ())
}

/// Decrypts the body of a legacy encrypted PEM key.
pub(crate) fn decrypt(
    dek_info: Option<&str>,
    data: &[u8],
    passphrase: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let (cipher, iv) = parse_dek_info(dek_info)?;
    if passphrase.is_empty() {
        return Err(KeyFileError::Encrypted);
    }
    let block = cipher.iv_len();
    if data.is_empty() || !data.len().is_multiple_of(block) {
        return Err(KeyFileError::Malformed("encrypted PEM body length"));
    }
    let key = bytes_to_key(
        passphrase,
        iv.get(..8).unwrap_or_default(),
        cipher.key_len(),
    );
    let mut plain = Zeroizing::new(data.to_vec());
    match cipher {
        DekCipher::Aes(16) => cbc_decrypt::<cbc::Decryptor<Aes128>>(&key, &iv, &mut plain)?,
        DekCipher::Aes(24) => cbc_decrypt::<cbc::Decryptor<Aes192>>(&key, &iv, &mut plain)?,
        DekCipher::Aes(_) => cbc_decrypt::<cbc::Decryptor<Aes256>>(&key, &iv, &mut plain)?,
        DekCipher::DesEde3 => cbc_decrypt::<cbc::Decryptor<TdesEde3>>(&key, &iv, &mut plain)?,
    }
    let pad = usize::from(*plain.last().unwrap_or(&0));
    let len = plain.len();
    let padding_ok = (1..=block).contains(&pad)
        && plain
            .get(len - pad..)
            .is_some_and(|p| p.iter().all(|&b| usize::from(b) == pad));
    if !padding_ok {
        return Err(KeyFileError::BadPassphrase);
    }
    plain.truncate(len - pad);
    Ok(plain)
}

/// Encrypts DER with AES-128-CBC as `ssh-keygen -m PEM` does; returns the `DEK-Info` value
/// and the encrypted body.
pub(crate) fn encrypt(der: &[u8], passphrase: &[u8]) -> Result<(String, Vec<u8>), KeyFileError> {
    let mut iv = [0u8; 16];
    crate::generate::fill_random(&mut iv)?;
    let key = bytes_to_key(passphrase, &iv[..8], 16);
    let pad = 16 - der.len() % 16;
    let mut body = Zeroizing::new(Vec::with_capacity(der.len() + pad));
    body.extend_from_slice(der);
    body.resize(der.len() + pad, u8::try_from(pad).unwrap_or(16));
    let mut m = cbc::Encryptor::<Aes128>::new_from_slices(&key, &iv)
        .map_err(|_| KeyFileError::Malformed("cipher key"))?;
    let blocks = whole_blocks::<<Aes128 as BlockSizeUser>::BlockSize>(&mut body)
        .ok_or(KeyFileError::Malformed("PEM body length"))?;
    m.encrypt_blocks(blocks);
    let hex: String = iv.iter().map(|b| format!("{b:02X}")).collect();
    Ok((format!("AES-128-CBC,{hex}"), body.to_vec()))
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration.
fn bytes_to_key(passphrase: &[u8], salt: &[u8], key_len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(key_len + 16));
    let mut prev = Zeroizing::new(Vec::new());
    while key.len() < key_len {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(passphrase);
        h.update(salt);
        let d = h.finalize();
        *prev = d.to_vec();
        key.extend_from_slice(&d);
    }
    key.truncate(key_len);
    key
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 64 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_then_decrypt() {
        let der = b"0123456789abcdef-some der bytes".to_vec();
        let (dek, body) = encrypt(&der, b"pw").unwrap();
        assert!(dek.starts_with("AES-128-CBC,"));
        let plain = decrypt(Some(&dek), &body, b"pw").unwrap();
        assert_eq!(plain.as_slice(), der.as_slice());
        assert!(matches!(
            decrypt(Some(&dek), &body, b""),
            Err(KeyFileError::Encrypted)
        ));
        assert!(matches!(
            decrypt(Some("BF-CBC,0011223344556677"), &body, b"pw"),
            Err(KeyFileError::Unsupported(_))
        ));
        assert!(decrypt(Some("AES-128-CBC,00"), &body, b"pw").is_err());
    }
}
