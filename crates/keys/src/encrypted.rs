//! Decrypting the private section of a passphrase-protected `openssh-key-v1` file: the
//! `bcrypt` KDF (`bcrypt_pbkdf`) and the ciphers `ssh-keygen -Z` writes.
//!
//! The semantics follow OpenSSH's `sshkey.c` (`private2_decrypt`): the KDF derives
//! `key_len + iv_len` bytes from the passphrase, salt and rounds; the private section is
//! decrypted with the cipher in one call with sequence number 0; AEAD ciphers append their
//! tag after the encrypted string (outside it) and nothing may follow the tag. A failed tag,
//! or check integers that differ after decryption, mean a wrong passphrase.
//!
//! Every derived key, IV and decrypted byte lives in a buffer that is wiped on drop.

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::array::{Array, ArraySize};
use cbc::cipher::{BlockModeDecrypt, BlockSizeUser, KeyIvInit, StreamCipher};
use ring::aead::{self, chacha20_poly1305_openssh as chacha};
use seashell_proto::wire::Reader;
use zeroize::Zeroizing;

use crate::KeyFileError;

/// The most bcrypt rounds accepted in a key file.
///
/// `ssh-keygen` writes 16 by default and `-a N` sets more; guides recommend 64 to 256. A
/// round costs about 5 ms for the 48 bytes `aes256-ctr` needs (OpenSSH's `ssh-keygen -y` on a
/// 100-round key takes 0.5 s), so the cap bounds a hostile file to about 5 s of CPU, while a
/// file claiming 2^32 rounds (days) is refused before any work is done.
pub const MAX_KDF_ROUNDS: u32 = 1024;

/// The longest bcrypt salt accepted (`ssh-keygen` writes 16 bytes).
const MAX_SALT_LEN: usize = 1024;

/// A cipher for key files: its name, key/IV/tag lengths and block size (OpenSSH `cipher.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyCipher {
    Ctr(usize),
    Cbc(usize),
    Gcm(usize),
    ChaCha,
}

impl KeyCipher {
    fn from_name(name: &[u8]) -> Option<KeyCipher> {
        Some(match name {
            b"aes128-ctr" => KeyCipher::Ctr(16),
            b"aes192-ctr" => KeyCipher::Ctr(24),
            b"aes256-ctr" => KeyCipher::Ctr(32),
            b"aes128-cbc" => KeyCipher::Cbc(16),
            b"aes192-cbc" => KeyCipher::Cbc(24),
            b"aes256-cbc" => KeyCipher::Cbc(32),
            b"aes128-gcm@openssh.com" => KeyCipher::Gcm(16),
            b"aes256-gcm@openssh.com" => KeyCipher::Gcm(32),
            b"chacha20-poly1305@openssh.com" => KeyCipher::ChaCha,
            _ => return None,
        })
    }

    fn key_len(self) -> usize {
        match self {
            KeyCipher::Ctr(k) | KeyCipher::Cbc(k) | KeyCipher::Gcm(k) => k,
            KeyCipher::ChaCha => chacha::KEY_LEN,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            KeyCipher::Ctr(_) | KeyCipher::Cbc(_) => 16,
            KeyCipher::Gcm(_) => 12,
            KeyCipher::ChaCha => 0,
        }
    }

    fn tag_len(self) -> usize {
        match self {
            KeyCipher::Ctr(_) | KeyCipher::Cbc(_) => 0,
            KeyCipher::Gcm(_) | KeyCipher::ChaCha => 16,
        }
    }

    /// The block size: the encrypted section is a whole number of these, and the padding
    /// inside it is shorter than one.
    pub(crate) fn block_len(self) -> usize {
        match self {
            KeyCipher::ChaCha => 8,
            _ => 16,
        }
    }
}

/// The outer, still-encrypted parts of a key file.
pub(crate) struct Sealed<'a> {
    /// The cipher name field.
    pub cipher: &'a [u8],
    /// The KDF name field.
    pub kdf: &'a [u8],
    /// The KDF options field.
    pub kdf_options: &'a [u8],
    /// The encrypted private section (the string's contents).
    pub encrypted: &'a [u8],
    /// Everything after the private section string: the AEAD tag, if any.
    pub trailer: &'a [u8],
}

/// Checks the cipher and KDF of an encrypted key (without a passphrase): errors that do not
/// depend on the passphrase come first, as in OpenSSH.
pub(crate) fn check_sealed(s: &Sealed<'_>) -> Result<(), KeyFileError> {
    cipher_and_kdf(s).map(|_| ())
}

fn cipher_and_kdf(s: &Sealed<'_>) -> Result<(KeyCipher, u32, usize), KeyFileError> {
    let cipher = KeyCipher::from_name(s.cipher).ok_or_else(|| {
        KeyFileError::Unsupported(format!(
            "key file cipher {}",
            crate::openssh::printable(s.cipher)
        ))
    })?;
    if s.kdf == b"none" {
        return Err(KeyFileError::Malformed("kdf for an encrypted key"));
    }
    if s.kdf != b"bcrypt" {
        return Err(KeyFileError::Unsupported(format!(
            "key file kdf {}",
            crate::openssh::printable(s.kdf)
        )));
    }
    let block = cipher.block_len();
    if s.encrypted.len() < block || !s.encrypted.len().is_multiple_of(block) {
        return Err(KeyFileError::Malformed("encrypted private section length"));
    }
    if s.trailer.len() != cipher.tag_len() {
        return Err(KeyFileError::Malformed("key file trailer"));
    }
    let mut o = Reader::new(s.kdf_options);
    let salt = o
        .string("bcrypt salt")
        .map_err(|_| KeyFileError::Malformed("bcrypt salt"))?;
    let rounds = o
        .u32("bcrypt rounds")
        .map_err(|_| KeyFileError::Malformed("bcrypt rounds"))?;
    o.end("kdf options")
        .map_err(|_| KeyFileError::Malformed("kdf options"))?;
    if salt.is_empty() || salt.len() > MAX_SALT_LEN {
        return Err(KeyFileError::Malformed("bcrypt salt"));
    }
    if rounds == 0 {
        return Err(KeyFileError::Malformed("bcrypt rounds"));
    }
    if rounds > MAX_KDF_ROUNDS {
        return Err(KeyFileError::Unsupported(format!(
            "{rounds} bcrypt rounds (at most {MAX_KDF_ROUNDS} are accepted)"
        )));
    }
    Ok((cipher, rounds, salt.len()))
}

/// Derives the key and IV from `passphrase` and decrypts the private section. Returns the
/// plaintext section (check integers, key, comment, padding) and the block size its padding
/// is measured against.
///
/// # Errors
/// [`KeyFileError::Encrypted`] if `passphrase` is empty, [`KeyFileError::BadPassphrase`] if
/// the AEAD tag does not verify, otherwise as [`check_sealed`].
pub(crate) fn decrypt(
    s: &Sealed<'_>,
    passphrase: &[u8],
) -> Result<(Zeroizing<Vec<u8>>, usize), KeyFileError> {
    let (cipher, rounds, _) = cipher_and_kdf(s)?;
    if passphrase.is_empty() {
        return Err(KeyFileError::Encrypted);
    }
    // Re-read the salt (checked above).
    let salt = Reader::new(s.kdf_options)
        .string("bcrypt salt")
        .map_err(|_| KeyFileError::Malformed("bcrypt salt"))?;
    let (key_len, iv_len) = (cipher.key_len(), cipher.iv_len());
    let mut material = Zeroizing::new([0u8; 64]);
    let derived = material
        .get_mut(..key_len + iv_len)
        .ok_or(KeyFileError::Malformed("cipher key length"))?;
    bcrypt_pbkdf::bcrypt_pbkdf(passphrase, salt, rounds, derived)
        .map_err(|_| KeyFileError::Malformed("bcrypt parameters"))?;
    let (key, iv) = derived.split_at(key_len);

    let mut plain = Zeroizing::new(s.encrypted.to_vec());
    match cipher {
        KeyCipher::Ctr(16) => ctr_apply::<ctr::Ctr128BE<Aes128>>(key, iv, &mut plain)?,
        KeyCipher::Ctr(24) => ctr_apply::<ctr::Ctr128BE<Aes192>>(key, iv, &mut plain)?,
        KeyCipher::Ctr(_) => ctr_apply::<ctr::Ctr128BE<Aes256>>(key, iv, &mut plain)?,
        KeyCipher::Cbc(16) => cbc_decrypt::<cbc::Decryptor<Aes128>>(key, iv, &mut plain)?,
        KeyCipher::Cbc(24) => cbc_decrypt::<cbc::Decryptor<Aes192>>(key, iv, &mut plain)?,
        KeyCipher::Cbc(_) => cbc_decrypt::<cbc::Decryptor<Aes256>>(key, iv, &mut plain)?,
        KeyCipher::Gcm(k) => gcm_open(k, key, iv, s.trailer, &mut plain)?,
        KeyCipher::ChaCha => chacha_open(key, s.trailer, &mut plain)?,
    }
    Ok((plain, cipher.block_len()))
}

fn ctr_apply<C: KeyIvInit + StreamCipher>(
    key: &[u8],
    iv: &[u8],
    data: &mut [u8],
) -> Result<(), KeyFileError> {
    let mut c = C::new_from_slices(key, iv).map_err(|_| KeyFileError::Malformed("cipher key"))?;
    c.apply_keystream(data);
    Ok(())
}

pub(crate) fn cbc_decrypt<M: KeyIvInit + BlockModeDecrypt>(
    key: &[u8],
    iv: &[u8],
    data: &mut [u8],
) -> Result<(), KeyFileError> {
    let mut m = M::new_from_slices(key, iv).map_err(|_| KeyFileError::Malformed("cipher key"))?;
    let blocks = whole_blocks::<<M as BlockSizeUser>::BlockSize>(data)
        .ok_or(KeyFileError::Malformed("encrypted private section length"))?;
    m.decrypt_blocks(blocks);
    Ok(())
}

pub(crate) fn whole_blocks<N: ArraySize>(data: &mut [u8]) -> Option<&mut [Array<u8, N>]> {
    let (blocks, tail) = Array::slice_as_chunks_mut(data);
    tail.is_empty().then_some(blocks)
}

/// AES-GCM as OpenSSH applies it to key files: the 12-byte IV is the nonce, no AAD, the tag
/// follows the ciphertext.
fn gcm_open(
    key_len: usize,
    key: &[u8],
    iv: &[u8],
    tag: &[u8],
    data: &mut Zeroizing<Vec<u8>>,
) -> Result<(), KeyFileError> {
    let alg = if key_len == 16 {
        &aead::AES_128_GCM
    } else {
        &aead::AES_256_GCM
    };
    let key = aead::UnboundKey::new(alg, key).map_err(|_| KeyFileError::Malformed("cipher key"))?;
    let key = aead::LessSafeKey::new(key);
    let nonce =
        aead::Nonce::try_assume_unique_for_key(iv).map_err(|_| KeyFileError::Malformed("iv"))?;
    let tag = aead::Tag::try_from(tag).map_err(|_| KeyFileError::Malformed("key file trailer"))?;
    key.open_in_place_separate_tag(nonce, aead::Aad::empty(), tag, data.as_mut_slice(), 0..)
        .map_err(|_| KeyFileError::BadPassphrase)?;
    Ok(())
}

/// `chacha20-poly1305@openssh.com` as OpenSSH applies it to key files: sequence number 0 and
/// no encrypted length field, so the Poly1305 tag (keyed from K_2, block 0) covers the whole
/// section and the whole section is encrypted with K_2 from block 1.
///
/// ring implements the transport form, whose first 4 bytes are a length under K_1. Its tag is
/// computed the same way over the whole buffer, so opening a copy authenticates the section;
/// the K_2 keystream from block 1 is then the output of sealing zeros after a 4-byte prefix.
fn chacha_open(key: &[u8], tag: &[u8], data: &mut Zeroizing<Vec<u8>>) -> Result<(), KeyFileError> {
    let mut k = Zeroizing::new([0u8; chacha::KEY_LEN]);
    k.copy_from_slice(
        key.get(..chacha::KEY_LEN)
            .ok_or(KeyFileError::Malformed("cipher key"))?,
    );
    let tag: &[u8; chacha::TAG_LEN] = tag
        .try_into()
        .map_err(|_| KeyFileError::Malformed("key file trailer"))?;
    let mut scratch = Zeroizing::new(data.to_vec());
    chacha::OpeningKey::new(&k)
        .open_in_place(0, scratch.as_mut_slice(), tag)
        .map_err(|_| KeyFileError::BadPassphrase)?;
    let mut stream = Zeroizing::new(vec![0u8; data.len().saturating_add(4)]);
    let mut unused = [0u8; chacha::TAG_LEN];
    chacha::SealingKey::new(&k).seal_in_place(0, stream.as_mut_slice(), &mut unused);
    for (b, s) in data.iter_mut().zip(stream.iter().skip(4)) {
        *b ^= s;
    }
    Ok(())
}
