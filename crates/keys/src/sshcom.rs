//! ssh.com (SECSH) private key files, as `puttygen -O private-sshcom` writes them:
//! `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`, RFC 4716-style headers (`Comment: "..."`,
//! continued with `\`), base64.
//!
//! Inside: the magic `0x3f6ff9eb`, the total length, the key type (a string such as
//! `if-modn{sign{rsa-pkcs1-sha1},encrypt{rsa-pkcs1v2-oaep}}`), the cipher (`none` or
//! `3des-cbc`) and a string holding the (encrypted) key data. That data starts with the
//! length of what follows, then for RSA the components e, d, n, u, p, q in ssh.com's
//! integer encoding (a uint32 bit count, then the big-endian bytes), where u = p⁻¹ mod q.
//! `3des-cbc` uses the key `MD5(pass) || MD5(pass || MD5(pass))` cut to 24 bytes and a zero
//! IV. DSA keys (`dl-modp{...}`) are refused; puttygen writes no other key types in this
//! format.

use des::TdesEde3;
use md5::{Digest, Md5};
use seashell_proto::keys::PrivateKey;
use seashell_proto::wire::Reader;
use zeroize::Zeroizing;

use crate::KeyFileError;
use crate::encrypted::cbc_decrypt;

/// The first line of an ssh.com private key file.
pub(crate) const BEGIN: &str = "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----";
const END: &str = "---- END SSH2 ENCRYPTED PRIVATE KEY ----";
const MAGIC: u32 = 0x3f6f_f9eb;
/// The most bits accepted in one integer (the RSA size cap is checked again later).
const MAX_INT_BITS: u32 = 16_384;

/// A parsed ssh.com file, not yet decrypted.
pub(crate) struct SshCom {
    /// The `Comment` header (empty if none).
    pub comment: String,
    /// Whether the key data is encrypted (`3des-cbc`).
    pub encrypted: bool,
    data: Zeroizing<Vec<u8>>,
}

fn malformed(what: &'static str) -> impl Fn(seashell_proto::error::InvalidMessage) -> KeyFileError {
    move |_| KeyFileError::Malformed(what)
}

/// Parses the armor and the outer structure; refuses unknown ciphers and key types (no
/// passphrase needed for these errors).
pub(crate) fn parse(text: &str) -> Result<SshCom, KeyFileError> {
    let (blob, comment) = crate::public::decode_rfc4716(text, END)?;
    let mut r = Reader::new(&blob);
    if r.u32("ssh.com magic").map_err(malformed("ssh.com magic"))? != MAGIC {
        return Err(KeyFileError::Malformed("ssh.com magic"));
    }
    let total = r
        .u32("ssh.com length")
        .map_err(malformed("ssh.com length"))?;
    if usize::try_from(total).ok() != Some(blob.len()) {
        return Err(KeyFileError::Malformed("ssh.com length"));
    }
    let key_type = r
        .string("key type")
        .map_err(malformed("ssh.com key type"))?;
    let cipher = r.string("cipher").map_err(malformed("ssh.com cipher"))?;
    let data = r
        .string("key data")
        .map_err(malformed("ssh.com key data"))?;
    r.end("ssh.com")
        .map_err(malformed("ssh.com trailing data"))?;
    if key_type.starts_with(b"dl-modp") {
        return Err(KeyFileError::Unsupported(
            "DSA private key (ssh.com format)".to_string(),
        ));
    }
    if !key_type.starts_with(b"if-modn{sign{rsa") {
        return Err(KeyFileError::Unsupported(format!(
            "ssh.com key type {}",
            crate::openssh::printable(key_type)
        )));
    }
    let encrypted = match cipher {
        b"none" => false,
        b"3des-cbc" => {
            if data.is_empty() || !data.len().is_multiple_of(8) {
                return Err(KeyFileError::Malformed("ssh.com encrypted data length"));
            }
            true
        }
        other => {
            return Err(KeyFileError::Unsupported(format!(
                "ssh.com cipher {}",
                crate::openssh::printable(other)
            )));
        }
    };
    Ok(SshCom {
        comment,
        encrypted,
        data: Zeroizing::new(data.to_vec()),
    })
}

impl SshCom {
    /// The key, decrypting it with `passphrase` if it is encrypted.
    pub(crate) fn into_key(self, passphrase: Option<&[u8]>) -> Result<PrivateKey, KeyFileError> {
        if !self.encrypted {
            return rsa_from_data(&self.data);
        }
        let passphrase = passphrase
            .filter(|p| !p.is_empty())
            .ok_or(KeyFileError::Encrypted)?;
        let key = derive_key(passphrase);
        let mut plain = self.data;
        cbc_decrypt::<cbc::Decryptor<TdesEde3>>(&key, &[0u8; 8], &mut plain)?;
        // A wrong passphrase gives garbage: a bad length or components that do not parse.
        rsa_from_data(&plain).map_err(|e| match e {
            KeyFileError::Malformed(_) | KeyFileError::Mismatch => KeyFileError::BadPassphrase,
            other => other,
        })
    }
}

/// `MD5(pass) || MD5(pass || MD5(pass))`, the first 24 bytes.
fn derive_key(passphrase: &[u8]) -> Zeroizing<Vec<u8>> {
    let first = Md5::digest(passphrase);
    let mut h = Md5::new();
    h.update(passphrase);
    h.update(first);
    let second = h.finalize();
    let mut key = Zeroizing::new(Vec::with_capacity(32));
    key.extend_from_slice(&first);
    key.extend_from_slice(&second);
    key.truncate(24);
    key
}

/// Reads one ssh.com integer: a uint32 bit count and that many bits of big-endian bytes.
fn integer<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], KeyFileError> {
    let bits = r
        .u32("integer")
        .map_err(malformed("ssh.com integer length"))?;
    if bits > MAX_INT_BITS {
        return Err(KeyFileError::Malformed("ssh.com integer length"));
    }
    let len = usize::try_from(bits.div_ceil(8)).map_err(|_| KeyFileError::Malformed("ssh.com"))?;
    r.take(len, "integer").map_err(malformed("ssh.com integer"))
}

/// The RSA key in the (decrypted) key data: length, e, d, n, u, p, q.
fn rsa_from_data(data: &[u8]) -> Result<PrivateKey, KeyFileError> {
    let mut outer = Reader::new(data);
    let len = outer
        .u32("length")
        .map_err(malformed("ssh.com key data length"))?;
    let len = usize::try_from(len).map_err(|_| KeyFileError::Malformed("ssh.com key data"))?;
    // Encrypted data is padded to the cipher block after the components.
    let inner = outer
        .take(len, "key data")
        .map_err(malformed("ssh.com key data length"))?;
    let mut r = Reader::new(inner);
    let e = integer(&mut r)?;
    let d = integer(&mut r)?;
    let n = integer(&mut r)?;
    let u = integer(&mut r)?;
    let p = integer(&mut r)?;
    let q = integer(&mut r)?;
    r.end("RSA").map_err(malformed("ssh.com RSA key data"))?;
    crate::openssh::check_rsa_bits(n)?;
    // u = p⁻¹ mod q: with the primes swapped it is the usual q⁻¹ mod p.
    let key = PrivateKey::rsa_from_components(n, e, d, u, q, p)
        .map_err(|_| KeyFileError::Malformed("rsa key components"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_derivation_is_md5_of_the_passphrase_then_of_passphrase_and_digest() {
        let key = derive_key(b"pw");
        assert_eq!(key.len(), 24);
        assert_eq!(&key[..16], Md5::digest(b"pw").as_slice());
        let mut input = b"pw".to_vec();
        input.extend_from_slice(&Md5::digest(b"pw"));
        assert_eq!(&key[16..], &Md5::digest(&input)[..8]);
    }
}
