//! Writing `openssh-key-v1` private key files (`PROTOCOL.key`), as `ssh-keygen` does: one key,
//! check integers from the RNG, the comment, padding `1, 2, 3, …` to the cipher's block size;
//! unencrypted (`none`) or encrypted with `aes256-ctr` and the `bcrypt` KDF (16-byte salt,
//! [`DEFAULT_KDF_ROUNDS`] rounds unless told otherwise), base64 in 70-column lines.

use aes::Aes256;
use base64ct::{Base64, Encoding};
use cbc::cipher::{KeyIvInit, StreamCipher};
use seashell_proto::keys::{PrivateKey, SecretParts};
use seashell_proto::wire::{put_mpint, put_string, put_u32};
use zeroize::Zeroizing;

use crate::KeyFileError;
use crate::armor::push_wrapped;
use crate::encrypted::MAX_KDF_ROUNDS;

/// The bcrypt rounds `ssh-keygen` uses by default (its `-a`).
pub const DEFAULT_KDF_ROUNDS: u32 = 16;

const MAGIC: &[u8] = b"openssh-key-v1\0";

/// Encodes `key` as an OpenSSH private key file with `comment`. With a non-empty
/// `passphrase` the private section is encrypted (`aes256-ctr`, bcrypt with `rounds`
/// rounds, 1 to [`MAX_KDF_ROUNDS`]).
///
/// # Errors
/// [`KeyFileError::Unsupported`] for a round count out of range; [`KeyFileError::Rng`]
/// if the random number generator fails.
pub fn encode_openssh_private_key(
    key: &PrivateKey,
    comment: &str,
    passphrase: &[u8],
    rounds: u32,
) -> Result<Zeroizing<String>, KeyFileError> {
    let encrypted = !passphrase.is_empty();
    if encrypted && !(1..=MAX_KDF_ROUNDS).contains(&rounds) {
        return Err(KeyFileError::Unsupported(format!(
            "{rounds} bcrypt rounds (1 to {MAX_KDF_ROUNDS})"
        )));
    }
    let block = if encrypted { 16 } else { 8 };
    let mut check = [0u8; 4];
    crate::generate::fill_random(&mut check)?;
    let mut section = Zeroizing::new(Vec::with_capacity(4096));
    section.extend_from_slice(&check);
    section.extend_from_slice(&check);
    let public = key.public_key();
    put_private_fields(&mut section, key)?;
    put_string(&mut section, comment.as_bytes());
    let mut pad = 1u8;
    while !section.len().is_multiple_of(block) {
        section.push(pad);
        pad = pad.wrapping_add(1);
    }

    let mut out = Zeroizing::new(Vec::with_capacity(section.len() + 512));
    out.extend_from_slice(MAGIC);
    if encrypted {
        let mut salt = [0u8; 16];
        crate::generate::fill_random(&mut salt)?;
        let mut material = Zeroizing::new([0u8; 48]);
        bcrypt_pbkdf::bcrypt_pbkdf(passphrase, &salt, rounds, material.as_mut_slice())
            .map_err(|_| KeyFileError::Malformed("bcrypt parameters"))?;
        let (k, iv) = material.split_at(32);
        let mut c = ctr::Ctr128BE::<Aes256>::new_from_slices(k, iv)
            .map_err(|_| KeyFileError::Malformed("cipher key"))?;
        c.apply_keystream(section.as_mut_slice());
        put_string(&mut out, b"aes256-ctr");
        put_string(&mut out, b"bcrypt");
        let mut options = Vec::with_capacity(24);
        put_string(&mut options, &salt);
        put_u32(&mut options, rounds);
        put_string(&mut out, &options);
    } else {
        put_string(&mut out, b"none");
        put_string(&mut out, b"none");
        put_string(&mut out, b"");
    }
    put_u32(&mut out, 1);
    put_string(&mut out, &public.to_blob());
    put_string(&mut out, &section);

    let b64 = Zeroizing::new(Base64::encode_string(&out));
    let mut text = Zeroizing::new(String::with_capacity(b64.len() + b64.len() / 70 + 80));
    text.push_str("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    push_wrapped(&mut text, &b64, 70);
    text.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    Ok(text)
}

/// Appends `key`'s type and private fields as an `openssh-key-v1` private section holds them,
/// which is also the ssh-agent protocol's `ADD_IDENTITY` encoding (RFC 9987 §4.2): Ed25519
/// `public, seed || public`; ECDSA `curve, point, scalar`; RSA `n, e, d, iqmp, p, q`.
///
/// # Errors
/// [`KeyFileError::Unsupported`] for a key type without this encoding.
pub(crate) fn put_private_fields(out: &mut Vec<u8>, key: &PrivateKey) -> Result<(), KeyFileError> {
    put_string(out, key.public_key().key_type().as_bytes());
    match key.secret_parts() {
        SecretParts::Ed25519 { seed, public } => {
            put_string(out, public);
            let mut both = Zeroizing::new([0u8; 64]);
            let (first, second) = both.split_at_mut(32);
            first.copy_from_slice(seed);
            second.copy_from_slice(public);
            put_string(out, both.as_slice());
        }
        SecretParts::Ecdsa {
            curve,
            scalar,
            point,
        } => {
            put_string(out, curve.identifier().as_bytes());
            put_string(out, point);
            put_mpint(out, scalar);
        }
        SecretParts::Rsa {
            n,
            e,
            d,
            p,
            q,
            iqmp,
            ..
        } => {
            for part in [n, e, d, iqmp, p, q] {
                put_mpint(out, part);
            }
        }
        _ => return Err(KeyFileError::Unsupported("key type".to_string())),
    }
    Ok(())
}
