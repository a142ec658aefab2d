//! MACs for the non-AEAD ciphers: `hmac-sha2-256`, `hmac-sha2-512`, `hmac-sha1` and their
//! encrypt-then-MAC forms (`-etm@openssh.com`). Tags are compared in constant time.

use crate::error::CryptoError;
use ring::hmac;
use subtle::ConstantTimeEq;

/// A negotiated MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacAlg {
    /// `hmac-sha2-256-etm@openssh.com`.
    HmacSha256Etm,
    /// `hmac-sha2-512-etm@openssh.com`.
    HmacSha512Etm,
    /// `hmac-sha2-256` (RFC 6668), MAC over the plaintext.
    HmacSha256,
    /// `hmac-sha2-512` (RFC 6668).
    HmacSha512,
    /// `hmac-sha1-etm@openssh.com` (legacy, opt-in).
    HmacSha1Etm,
    /// `hmac-sha1` (legacy, opt-in).
    HmacSha1,
}

impl MacAlg {
    /// Every supported MAC; the SHA-1 ones are legacy and not in the defaults.
    pub const ALL: [MacAlg; 6] = [
        MacAlg::HmacSha256Etm,
        MacAlg::HmacSha512Etm,
        MacAlg::HmacSha256,
        MacAlg::HmacSha512,
        MacAlg::HmacSha1Etm,
        MacAlg::HmacSha1,
    ];

    /// A server's default offer: encrypt-then-MAC only (ssh-audit warns on MAC-then-encrypt).
    pub const SERVER_DEFAULTS: [MacAlg; 2] = [MacAlg::HmacSha256Etm, MacAlg::HmacSha512Etm];

    /// The default offer, ETM first (OpenSSH's order without UMAC and SHA-1).
    pub const DEFAULTS: [MacAlg; 4] = [
        MacAlg::HmacSha256Etm,
        MacAlg::HmacSha512Etm,
        MacAlg::HmacSha256,
        MacAlg::HmacSha512,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            MacAlg::HmacSha256Etm => "hmac-sha2-256-etm@openssh.com",
            MacAlg::HmacSha512Etm => "hmac-sha2-512-etm@openssh.com",
            MacAlg::HmacSha256 => "hmac-sha2-256",
            MacAlg::HmacSha512 => "hmac-sha2-512",
            MacAlg::HmacSha1Etm => "hmac-sha1-etm@openssh.com",
            MacAlg::HmacSha1 => "hmac-sha1",
        }
    }

    /// Looks a MAC up by name.
    pub fn from_name(name: &str) -> Option<MacAlg> {
        MacAlg::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the MAC covers the ciphertext (encrypt-then-MAC, length in clear).
    pub fn is_etm(self) -> bool {
        matches!(
            self,
            MacAlg::HmacSha256Etm | MacAlg::HmacSha512Etm | MacAlg::HmacSha1Etm
        )
    }

    /// Key length in bytes (the hash output length, as RFC 4253 and RFC 6668 use).
    pub fn key_len(self) -> usize {
        self.tag_len()
    }

    /// Tag length in bytes.
    pub fn tag_len(self) -> usize {
        match self {
            MacAlg::HmacSha256Etm | MacAlg::HmacSha256 => 32,
            MacAlg::HmacSha512Etm | MacAlg::HmacSha512 => 64,
            MacAlg::HmacSha1Etm | MacAlg::HmacSha1 => 20,
        }
    }

    fn ring(self) -> hmac::Algorithm {
        match self {
            MacAlg::HmacSha256Etm | MacAlg::HmacSha256 => hmac::HMAC_SHA256,
            MacAlg::HmacSha512Etm | MacAlg::HmacSha512 => hmac::HMAC_SHA512,
            MacAlg::HmacSha1Etm | MacAlg::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        }
    }
}

/// A keyed MAC for one direction.
pub struct MacKey {
    alg: MacAlg,
    key: hmac::Key,
}

impl core::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "MacKey({})", self.alg.name())
    }
}

impl MacKey {
    /// Keys `alg` with derived key material (at least `alg.key_len()` bytes).
    pub fn new(alg: MacAlg, key: &[u8]) -> Result<MacKey, CryptoError> {
        let k = key.get(..alg.key_len()).ok_or(CryptoError::KeyAgreement)?;
        Ok(MacKey {
            alg,
            key: hmac::Key::new(alg.ring(), k),
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> MacAlg {
        self.alg
    }

    /// MAC over `uint32 seq || data`.
    pub fn sign(&self, seq: u32, data: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&seq.to_be_bytes());
        ctx.update(data);
        ctx.sign()
    }

    /// Checks `tag` against the MAC over `uint32 seq || data`, in constant time.
    pub fn verify(&self, seq: u32, data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
        let want = self.sign(seq, data);
        if bool::from(want.as_ref().ct_eq(tag)) {
            Ok(())
        } else {
            Err(CryptoError::BadMac)
        }
    }
}
