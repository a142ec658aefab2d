//! The only place that touches `ring`: packet ciphers, randomness and hashes. Everything else
//! in the core goes through these types, so a second crypto backend is a contained change.

pub mod cbc;
pub mod cipher;
pub mod ctr;
pub mod mac;
pub mod random;

pub use cipher::{CipherAlg, Opener, Sealer};
pub use mac::MacAlg;
pub use random::{SecureRandom, SystemRandom};

/// The hash of a key-exchange method (exchange hash and key derivation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-1, only for the opt-in legacy `diffie-hellman-*-sha1` methods.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    fn ring(self) -> &'static ring::digest::Algorithm {
        match self {
            HashAlg::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha256 => &ring::digest::SHA256,
            HashAlg::Sha384 => &ring::digest::SHA384,
            HashAlg::Sha512 => &ring::digest::SHA512,
        }
    }

    /// Hashes the concatenation of `parts`.
    pub fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = ring::digest::Context::new(self.ring());
        for p in parts {
            ctx.update(p);
        }
        ctx.finish().as_ref().to_vec()
    }
}

/// SHA-256 of `data` (fingerprints).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}
