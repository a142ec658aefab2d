//! Packet ciphers: `chacha20-poly1305@openssh.com`, `aes128-gcm@openssh.com` and
//! `aes256-gcm@openssh.com`. Both directions work in place on the packet buffer.

use crate::error::CryptoError;
use ring::aead;
use ring::aead::chacha20_poly1305_openssh as chacha;
use zeroize::Zeroizing;

/// Length of every AEAD tag we support.
pub const TAG_LEN: usize = 16;

/// A negotiated packet cipher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherAlg {
    /// `chacha20-poly1305@openssh.com`: encrypted length, Poly1305 tag.
    ChaCha20Poly1305,
    /// `aes128-gcm@openssh.com` (RFC 5647): length in clear as AAD.
    Aes128Gcm,
    /// `aes256-gcm@openssh.com` (RFC 5647).
    Aes256Gcm,
}

impl CipherAlg {
    /// Every supported cipher, in our default preference order.
    pub const ALL: [CipherAlg; 3] = [
        CipherAlg::ChaCha20Poly1305,
        CipherAlg::Aes128Gcm,
        CipherAlg::Aes256Gcm,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            CipherAlg::ChaCha20Poly1305 => "chacha20-poly1305@openssh.com",
            CipherAlg::Aes128Gcm => "aes128-gcm@openssh.com",
            CipherAlg::Aes256Gcm => "aes256-gcm@openssh.com",
        }
    }

    /// Looks a cipher up by its wire name.
    pub fn from_name(name: &str) -> Option<CipherAlg> {
        CipherAlg::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            CipherAlg::ChaCha20Poly1305 => chacha::KEY_LEN,
            CipherAlg::Aes128Gcm => 16,
            CipherAlg::Aes256Gcm => 32,
        }
    }

    /// IV length in bytes (the GCM nonce; chacha derives its nonce from the sequence number).
    pub fn iv_len(self) -> usize {
        match self {
            CipherAlg::ChaCha20Poly1305 => 0,
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => 12,
        }
    }

    /// The block size that packet lengths must be a multiple of.
    pub fn block_len(self) -> usize {
        match self {
            CipherAlg::ChaCha20Poly1305 => 8,
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => 16,
        }
    }
}

/// RFC 5647 nonce: 4 fixed bytes and a 64-bit invocation counter, incremented per packet.
struct GcmNonce([u8; 12]);

impl GcmNonce {
    fn next(&mut self) -> aead::Nonce {
        let n = aead::Nonce::assume_unique_for_key(self.0);
        let mut ctr = [0u8; 8];
        ctr.copy_from_slice(self.0.get(4..12).unwrap_or(&[0; 8]));
        let ctr = u64::from_be_bytes(ctr).wrapping_add(1);
        if let Some(tail) = self.0.get_mut(4..12) {
            tail.copy_from_slice(&ctr.to_be_bytes());
        }
        n
    }
}

fn gcm_key(alg: CipherAlg, key: &[u8]) -> Result<aead::LessSafeKey, CryptoError> {
    let ring_alg = match alg {
        CipherAlg::Aes128Gcm => &aead::AES_128_GCM,
        _ => &aead::AES_256_GCM,
    };
    let k = key.get(..alg.key_len()).ok_or(CryptoError::KeyAgreement)?;
    let unbound = aead::UnboundKey::new(ring_alg, k).map_err(|_| CryptoError::KeyAgreement)?;
    Ok(aead::LessSafeKey::new(unbound))
}

fn gcm_nonce(iv: &[u8]) -> Result<GcmNonce, CryptoError> {
    let mut n = [0u8; 12];
    n.copy_from_slice(iv.get(..12).ok_or(CryptoError::KeyAgreement)?);
    Ok(GcmNonce(n))
}

fn chacha_key(key: &[u8]) -> Result<Zeroizing<[u8; chacha::KEY_LEN]>, CryptoError> {
    let mut k = Zeroizing::new([0u8; chacha::KEY_LEN]);
    k.copy_from_slice(
        key.get(..chacha::KEY_LEN)
            .ok_or(CryptoError::KeyAgreement)?,
    );
    Ok(k)
}

// One sealer and one opener live per connection direction: the size difference is harmless
// and boxing would add a pointer chase per packet.
#[allow(clippy::large_enum_variant)]
enum SealerInner {
    ChaCha(chacha::SealingKey),
    Gcm(aead::LessSafeKey, GcmNonce),
}

/// Encrypts and authenticates outgoing packets.
pub struct Sealer {
    alg: CipherAlg,
    inner: SealerInner,
}

impl core::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Sealer({})", self.alg.name())
    }
}

impl Sealer {
    /// Keys a sealer with derived key material (`key` and `iv` at least as long as the
    /// algorithm needs).
    pub fn new(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<Sealer, CryptoError> {
        let inner = match alg {
            CipherAlg::ChaCha20Poly1305 => {
                SealerInner::ChaCha(chacha::SealingKey::new(&*chacha_key(key)?))
            }
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => {
                SealerInner::Gcm(gcm_key(alg, key)?, gcm_nonce(iv)?)
            }
        };
        Ok(Sealer { alg, inner })
    }

    /// The algorithm.
    pub fn alg(&self) -> CipherAlg {
        self.alg
    }

    /// Seals `packet` (the 4-byte length followed by the padded payload) in place and returns
    /// the tag to append. `packet` must be at least 4 bytes.
    pub fn seal(&mut self, seq: u32, packet: &mut [u8]) -> Result<[u8; TAG_LEN], CryptoError> {
        if packet.len() < 4 {
            return Err(CryptoError::Signing);
        }
        let mut tag = [0u8; TAG_LEN];
        match &mut self.inner {
            SealerInner::ChaCha(k) => k.seal_in_place(seq, packet, &mut tag),
            SealerInner::Gcm(k, nonce) => {
                let (len, body) = packet.split_at_mut(4);
                let t = k
                    .seal_in_place_separate_tag(nonce.next(), aead::Aad::from(&*len), body)
                    .map_err(|_| CryptoError::Signing)?;
                tag.copy_from_slice(t.as_ref());
            }
        }
        Ok(tag)
    }
}

#[allow(clippy::large_enum_variant)]
enum OpenerInner {
    ChaCha(chacha::OpeningKey),
    Gcm(aead::LessSafeKey, GcmNonce),
}

/// Decrypts and authenticates incoming packets.
pub struct Opener {
    alg: CipherAlg,
    inner: OpenerInner,
}

impl core::fmt::Debug for Opener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Opener({})", self.alg.name())
    }
}

impl Opener {
    /// Keys an opener with derived key material.
    pub fn new(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<Opener, CryptoError> {
        let inner = match alg {
            CipherAlg::ChaCha20Poly1305 => {
                OpenerInner::ChaCha(chacha::OpeningKey::new(&*chacha_key(key)?))
            }
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => {
                OpenerInner::Gcm(gcm_key(alg, key)?, gcm_nonce(iv)?)
            }
        };
        Ok(Opener { alg, inner })
    }

    /// The algorithm.
    pub fn alg(&self) -> CipherAlg {
        self.alg
    }

    /// The packet length from the first 4 bytes on the wire. For chacha this decrypts with
    /// the length key; the value is unauthenticated until [`Opener::open`] succeeds.
    pub fn packet_length(&self, seq: u32, first4: [u8; 4]) -> u32 {
        match &self.inner {
            OpenerInner::ChaCha(k) => u32::from_be_bytes(k.decrypt_packet_length(seq, first4)),
            OpenerInner::Gcm(..) => u32::from_be_bytes(first4),
        }
    }

    /// Authenticates and decrypts `packet` (4-byte length, then ciphertext) in place, checking
    /// `tag`. On success the bytes after the length are plaintext.
    pub fn open(&mut self, seq: u32, packet: &mut [u8], tag: &[u8]) -> Result<(), CryptoError> {
        let mut t = [0u8; TAG_LEN];
        t.copy_from_slice(tag.get(..TAG_LEN).ok_or(CryptoError::BadMac)?);
        match &mut self.inner {
            OpenerInner::ChaCha(k) => {
                k.open_in_place(seq, packet, &t)
                    .map_err(|_| CryptoError::BadMac)?;
            }
            OpenerInner::Gcm(k, nonce) => {
                if packet.len() < 4 {
                    return Err(CryptoError::BadMac);
                }
                let (len, body) = packet.split_at_mut(4);
                k.open_in_place_separate_tag(
                    nonce.next(),
                    aead::Aad::from(&*len),
                    aead::Tag::from(t),
                    body,
                    0..,
                )
                .map_err(|_| CryptoError::BadMac)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_every_cipher() {
        for alg in CipherAlg::ALL {
            let key = vec![7u8; alg.key_len()];
            let iv = vec![9u8; alg.iv_len()];
            let mut s = Sealer::new(alg, &key, &iv).unwrap();
            let mut o = Opener::new(alg, &key, &iv).unwrap();
            for seq in [0u32, 1, 2, u32::MAX] {
                let mut pkt = vec![0, 0, 0, 28];
                pkt.extend_from_slice(&[4u8; 28]);
                let orig = pkt.clone();
                let tag = s.seal(seq, &mut pkt).unwrap();
                assert_ne!(pkt[4..], orig[4..]);
                assert_eq!(o.packet_length(seq, pkt[..4].try_into().unwrap()), 28);
                o.open(seq, &mut pkt, &tag).unwrap();
                assert_eq!(pkt[4..], orig[4..]);
            }
        }
    }

    #[test]
    fn tampering_is_detected() {
        for alg in CipherAlg::ALL {
            let key = vec![1u8; alg.key_len()];
            let iv = vec![2u8; alg.iv_len()];
            for flip in 0..36 {
                let mut s = Sealer::new(alg, &key, &iv).unwrap();
                let mut o = Opener::new(alg, &key, &iv).unwrap();
                let mut pkt = vec![0, 0, 0, 16];
                pkt.extend_from_slice(&[5u8; 16]);
                let mut tag = s.seal(3, &mut pkt).unwrap();
                if flip < pkt.len() {
                    pkt[flip] ^= 1;
                } else {
                    tag[flip - pkt.len()] ^= 1;
                }
                assert_eq!(
                    o.open(3, &mut pkt, &tag),
                    Err(CryptoError::BadMac),
                    "{alg:?} {flip}"
                );
            }
        }
    }
}
