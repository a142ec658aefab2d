//! PuTTY private key files (`.ppk`), versions 2 and 3, plain or encrypted with `aes256-cbc`.
//!
//! The format (PuTTY's `sshpubk.c`): `Name: value` lines — the key type, `Encryption`,
//! `Comment`, `Public-Lines` followed by that many base64 lines of the public key blob, for
//! encrypted version 3 files the Argon2 parameters, `Private-Lines` and the private blob, and
//! `Private-MAC`. Version 3 derives 80 bytes with Argon2 (id, i or d): the AES-256 key, the
//! CBC IV and the HMAC-SHA-256 key (an unencrypted file uses an empty MAC key). Version 2
//! derives the AES key from SHA-1 of the passphrase (IV zero) and MACs with HMAC-SHA-1 keyed by
//! `SHA-1("putty-private-key-file-mac-key" || passphrase)`. The MAC covers the strings key
//! type, encryption, comment, public blob and (decrypted, padded) private blob.
//!
//! Parsed by hand: the format is a handful of text lines, and ssh-key's PPK support is a
//! pre-release that would pull in a second key stack. Argon2 costs are capped before any work.

use aes::Aes256;
use hmac::{Hmac, KeyInit, Mac};
use seashell_proto::keys::{EcdsaCurve, PrivateKey, PublicKey};
use seashell_proto::wire::{Reader, put_string};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle_eq::ct_eq;
use zeroize::Zeroizing;

use crate::KeyFileError;
use crate::encrypted::cbc_decrypt;

/// The most Argon2 memory accepted, in KiB (1 GiB; puttygen writes 8 MiB).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 1 << 20;
/// The most Argon2 passes accepted (puttygen tunes them to about 0.1 s: 8 to 30).
pub const MAX_ARGON2_PASSES: u32 = 256;
/// The largest product of memory (KiB) and passes accepted: about 4 s of work.
const MAX_ARGON2_WORK: u64 = 8 << 20;
/// The most base64 lines of a public or private blob (real ones are under 40).
const MAX_LINES: usize = 512;

/// A parsed `.ppk` file.
pub(crate) struct Ppk<'a> {
    version: u8,
    key_type: &'a str,
    encrypted: bool,
    comment: &'a str,
    public: Vec<u8>,
    kdf: Option<Argon2Params<'a>>,
    private: Zeroizing<Vec<u8>>,
    mac: Vec<u8>,
}

struct Argon2Params<'a> {
    flavour: argon2::Algorithm,
    memory: u32,
    passes: u32,
    parallelism: u32,
    salt: &'a str,
}

/// Whether `text` starts like a PuTTY key file; returns its version field.
pub(crate) fn sniff(text: &str) -> Option<&str> {
    text.trim_start()
        .strip_prefix("PuTTY-User-Key-File-")
        .and_then(|r| r.split(':').next())
}

struct Lines<'a> {
    inner: core::str::Lines<'a>,
}

impl<'a> Lines<'a> {
    fn field(&mut self, name: &'static str) -> Result<&'a str, KeyFileError> {
        let line = self.inner.next().ok_or(KeyFileError::Malformed(name))?;
        let (n, v) = line.split_once(": ").ok_or(KeyFileError::Malformed(name))?;
        if n != name {
            return Err(KeyFileError::Malformed(name));
        }
        Ok(v.trim_end())
    }

    fn blob(&mut self, name: &'static str) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
        let count: usize = self
            .field(name)?
            .parse()
            .map_err(|_| KeyFileError::Malformed(name))?;
        if count > MAX_LINES {
            return Err(KeyFileError::Malformed(name));
        }
        let mut b64 = Zeroizing::new(String::new());
        for _ in 0..count {
            b64.push_str(
                self.inner
                    .next()
                    .ok_or(KeyFileError::Malformed(name))?
                    .trim(),
            );
        }
        use base64ct::{Base64, Encoding};
        Ok(Zeroizing::new(
            Base64::decode_vec(&b64).map_err(|_| KeyFileError::Malformed(name))?,
        ))
    }
}

/// Parses the text of a `.ppk` file (no decryption yet).
pub(crate) fn parse(text: &str) -> Result<Ppk<'_>, KeyFileError> {
    let mut lines = Lines {
        inner: text.trim_start().lines(),
    };
    let first = lines.inner.next().ok_or(KeyFileError::Malformed("PPK"))?;
    let (head, key_type) = first
        .split_once(": ")
        .ok_or(KeyFileError::Malformed("PPK header"))?;
    let version = match head {
        "PuTTY-User-Key-File-2" => 2,
        "PuTTY-User-Key-File-3" => 3,
        other => {
            return Err(KeyFileError::Unsupported(format!(
                "PuTTY key file version {}",
                crate::openssh::printable(
                    other.trim_start_matches("PuTTY-User-Key-File-").as_bytes()
                )
            )));
        }
    };
    let key_type = key_type.trim_end();
    let encryption = lines.field("Encryption")?;
    let encrypted = match encryption {
        "none" => false,
        "aes256-cbc" => true,
        other => {
            return Err(KeyFileError::Unsupported(format!(
                "PuTTY key encryption {}",
                crate::openssh::printable(other.as_bytes())
            )));
        }
    };
    let comment = lines.field("Comment")?;
    let public = lines.blob("Public-Lines")?.to_vec();
    let kdf = if version == 3 && encrypted {
        let flavour = match lines.field("Key-Derivation")? {
            "Argon2id" => argon2::Algorithm::Argon2id,
            "Argon2i" => argon2::Algorithm::Argon2i,
            "Argon2d" => argon2::Algorithm::Argon2d,
            other => {
                return Err(KeyFileError::Unsupported(format!(
                    "PuTTY key derivation {}",
                    crate::openssh::printable(other.as_bytes())
                )));
            }
        };
        let num = |v: &str, what| v.parse::<u32>().map_err(|_| KeyFileError::Malformed(what));
        let memory = num(lines.field("Argon2-Memory")?, "Argon2-Memory")?;
        let passes = num(lines.field("Argon2-Passes")?, "Argon2-Passes")?;
        let parallelism = num(lines.field("Argon2-Parallelism")?, "Argon2-Parallelism")?;
        let salt = lines.field("Argon2-Salt")?;
        Some(Argon2Params {
            flavour,
            memory,
            passes,
            parallelism,
            salt,
        })
    } else {
        None
    };
    let private = lines.blob("Private-Lines")?;
    let mac =
        decode_hex(lines.field("Private-MAC")?).ok_or(KeyFileError::Malformed("Private-MAC"))?;
    Ok(Ppk {
        version,
        key_type,
        encrypted,
        comment,
        public,
        kdf,
        private,
        mac,
    })
}

impl Ppk<'_> {
    /// Whether the private blob is encrypted.
    pub(crate) fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// The comment.
    pub(crate) fn comment(&self) -> &str {
        self.comment
    }

    /// The public key (stored unencrypted).
    pub(crate) fn public_key(&self) -> Result<PublicKey, KeyFileError> {
        PublicKey::from_blob(&self.public).map_err(|_| KeyFileError::Malformed("PuTTY public blob"))
    }

    /// Checks the KDF parameters against the caps (no passphrase needed).
    pub(crate) fn check(&self) -> Result<(), KeyFileError> {
        if let Some(k) = &self.kdf {
            let work = u64::from(k.memory).saturating_mul(u64::from(k.passes));
            if k.memory > MAX_ARGON2_MEMORY_KIB
                || k.passes > MAX_ARGON2_PASSES
                || k.parallelism > 64
                || work > MAX_ARGON2_WORK
            {
                return Err(KeyFileError::Unsupported(format!(
                    "Argon2 parameters memory={} KiB passes={} parallelism={} (at most \
                     {MAX_ARGON2_MEMORY_KIB} KiB, {MAX_ARGON2_PASSES} passes)",
                    k.memory, k.passes, k.parallelism
                )));
            }
        }
        Ok(())
    }

    /// Decrypts (if needed), checks the MAC and builds the key.
    pub(crate) fn into_key(self, passphrase: &[u8]) -> Result<PrivateKey, KeyFileError> {
        self.check()?;
        let passphrase: &[u8] = if self.encrypted {
            if passphrase.is_empty() {
                return Err(KeyFileError::Encrypted);
            }
            passphrase
        } else {
            b""
        };
        let mut private = self.private.clone();
        let mac_ok = if self.version == 3 {
            let mut material = Zeroizing::new([0u8; 80]);
            if let Some(k) = &self.kdf {
                let salt = decode_hex(k.salt).ok_or(KeyFileError::Malformed("Argon2-Salt"))?;
                let params = argon2::Params::new(k.memory, k.passes, k.parallelism, Some(80))
                    .map_err(|_| KeyFileError::Malformed("Argon2 parameters"))?;
                argon2::Argon2::new(k.flavour, argon2::Version::V0x13, params)
                    .hash_password_into(passphrase, &salt, material.as_mut_slice())
                    .map_err(|_| KeyFileError::Malformed("Argon2 parameters"))?;
            }
            let (cipher_key, rest) = material.split_at(32);
            let (iv, mac_key) = rest.split_at(16);
            if self.encrypted {
                decrypt_blob(cipher_key, iv, &mut private)?;
            }
            let mac_key: &[u8] = if self.encrypted { mac_key } else { b"" };
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key)
                .map_err(|_| KeyFileError::Malformed("MAC key"))?;
            mac.update(&self.mac_data(&private));
            ct_eq(&mac.finalize().into_bytes(), &self.mac)
        } else {
            if self.encrypted {
                let mut key = Zeroizing::new([0u8; 40]);
                for (i, chunk) in key.chunks_mut(20).enumerate() {
                    let mut h = Sha1::new();
                    h.update((i as u32).to_be_bytes());
                    h.update(passphrase);
                    chunk.copy_from_slice(&h.finalize());
                }
                let (aes_key, _) = key.split_at(32);
                decrypt_blob(aes_key, &[0u8; 16], &mut private)?;
            }
            let mut h = Sha1::new();
            h.update(b"putty-private-key-file-mac-key");
            h.update(passphrase);
            let mac_key = Zeroizing::new(h.finalize().to_vec());
            let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&mac_key)
                .map_err(|_| KeyFileError::Malformed("MAC key"))?;
            mac.update(&self.mac_data(&private));
            ct_eq(&mac.finalize().into_bytes(), &self.mac)
        };
        if !mac_ok {
            return Err(if self.encrypted {
                KeyFileError::BadPassphrase
            } else {
                KeyFileError::Malformed("PuTTY key MAC")
            });
        }
        build_key(self.key_type, &self.public, &private)
    }

    fn mac_data(&self, private: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut data = Zeroizing::new(Vec::with_capacity(private.len() + self.public.len() + 64));
        put_string(&mut data, self.key_type.as_bytes());
        put_string(
            &mut data,
            if self.encrypted {
                b"aes256-cbc"
            } else {
                b"none"
            },
        );
        put_string(&mut data, self.comment.as_bytes());
        put_string(&mut data, &self.public);
        put_string(&mut data, private);
        data
    }
}

fn decrypt_blob(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), KeyFileError> {
    if data.is_empty() || !data.len().is_multiple_of(16) {
        return Err(KeyFileError::Malformed("PuTTY private blob length"));
    }
    cbc_decrypt::<cbc::Decryptor<Aes256>>(key, iv, data)
}

/// Builds the key from the public and (decrypted) private blobs.
fn build_key(key_type: &str, public: &[u8], private: &[u8]) -> Result<PrivateKey, KeyFileError> {
    let m = |_| KeyFileError::Malformed("PuTTY private blob");
    let pk = PublicKey::from_blob(public).map_err(|_| match key_type {
        "ssh-ed25519" | "ssh-rsa" => KeyFileError::Malformed("PuTTY public blob"),
        _ if EcdsaCurve::from_key_type(key_type.as_bytes()).is_some() => {
            KeyFileError::Malformed("PuTTY public blob")
        }
        other => KeyFileError::Unsupported(format!(
            "key type {}",
            crate::openssh::printable(other.as_bytes())
        )),
    })?;
    if pk.key_type() != key_type {
        return Err(KeyFileError::Mismatch);
    }
    let mut r = Reader::new(private);
    let key = match &pk {
        PublicKey::Ed25519(public) => {
            let seed: [u8; 32] = r
                .string("ed25519 private key")
                .map_err(m)?
                .try_into()
                .map_err(|_| KeyFileError::Malformed("ed25519 private key"))?;
            let seed = Zeroizing::new(seed);
            PrivateKey::ed25519_from_seed_and_public(&seed, public)
                .map_err(|_| KeyFileError::Mismatch)?
        }
        PublicKey::Ecdsa { curve, point } => {
            let d = r.mpint_positive("ecdsa private scalar").map_err(m)?;
            PrivateKey::ecdsa_from_scalar(*curve, d, point).map_err(|_| KeyFileError::Mismatch)?
        }
        PublicKey::Rsa { e, n } => {
            let d = r.mpint_positive("rsa private exponent").map_err(m)?;
            let p = r.mpint_positive("rsa prime p").map_err(m)?;
            let q = r.mpint_positive("rsa prime q").map_err(m)?;
            let iqmp = r.mpint_positive("rsa iqmp").map_err(m)?;
            crate::openssh::check_rsa_bits(n)?;
            PrivateKey::rsa_from_components(n, e, d, iqmp, p, q)
                .map_err(|_| KeyFileError::Malformed("rsa key components"))?
        }
        #[allow(unreachable_patterns)]
        _ => return Err(KeyFileError::Unsupported(format!("key type {key_type}"))),
    };
    Ok(key)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 256 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

mod subtle_eq {
    /// Compares two byte strings in time independent of where they differ.
    pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}
