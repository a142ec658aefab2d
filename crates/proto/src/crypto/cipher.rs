//! Packet ciphers: the AEADs `chacha20-poly1305@openssh.com`, `aes128-gcm@openssh.com` and
//! `aes256-gcm@openssh.com`, AES-CTR with a MAC (plain or encrypt-then-MAC), and the legacy,
//! opt-in CBC ciphers with a MAC. Both directions work in place on the packet buffer.

use super::cbc::{CbcDecryptor, CbcEncryptor};
use super::ctr::AesCtr;
use super::mac::{MacAlg, MacKey};
use crate::error::CryptoError;
use ring::aead;
use ring::aead::chacha20_poly1305_openssh as chacha;
use zeroize::Zeroizing;

/// Length of every AEAD tag we support.
pub const TAG_LEN: usize = 16;
/// Longest tag of any cipher or MAC (HMAC-SHA-512).
pub const MAX_TAG_LEN: usize = 64;

/// A packet's authentication tag (AEAD tag or MAC).
#[derive(Debug, Clone, Copy)]
pub struct Tag {
    bytes: [u8; MAX_TAG_LEN],
    len: usize,
}

impl Tag {
    fn new(t: &[u8]) -> Tag {
        let mut bytes = [0u8; MAX_TAG_LEN];
        let len = t.len().min(MAX_TAG_LEN);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..len), t.get(..len)) {
            dst.copy_from_slice(src);
        }
        Tag { bytes, len }
    }
}

impl AsRef<[u8]> for Tag {
    fn as_ref(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// A negotiated packet cipher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherAlg {
    /// `chacha20-poly1305@openssh.com`: encrypted length, Poly1305 tag.
    ChaCha20Poly1305,
    /// `aes128-gcm@openssh.com` (RFC 5647): length in clear as AAD.
    Aes128Gcm,
    /// `aes256-gcm@openssh.com` (RFC 5647).
    Aes256Gcm,
    /// `aes128-ctr` (RFC 4344), with a MAC.
    Aes128Ctr,
    /// `aes192-ctr`, with a MAC.
    Aes192Ctr,
    /// `aes256-ctr`, with a MAC.
    Aes256Ctr,
    /// `aes128-cbc` (RFC 4253), with a MAC. Legacy: supported, not offered by default.
    Aes128Cbc,
    /// `aes192-cbc`, with a MAC. Legacy.
    Aes192Cbc,
    /// `aes256-cbc`, with a MAC. Legacy.
    Aes256Cbc,
    /// `3des-cbc` (three-key triple DES, 8-byte blocks), with a MAC. Legacy.
    TripleDesCbc,
}

impl CipherAlg {
    /// Every supported cipher: the defaults in preference order, then the legacy CBC ones.
    /// Name lookups and OpenSSH's `+`/`-`/`^` list syntax work on this list.
    pub const ALL: [CipherAlg; 10] = [
        CipherAlg::ChaCha20Poly1305,
        CipherAlg::Aes128Gcm,
        CipherAlg::Aes256Gcm,
        CipherAlg::Aes128Ctr,
        CipherAlg::Aes192Ctr,
        CipherAlg::Aes256Ctr,
        CipherAlg::Aes128Cbc,
        CipherAlg::Aes192Cbc,
        CipherAlg::Aes256Cbc,
        CipherAlg::TripleDesCbc,
    ];

    /// The default offer, in preference order (OpenSSH's, without the CBC ciphers).
    pub const DEFAULTS: [CipherAlg; 6] = [
        CipherAlg::ChaCha20Poly1305,
        CipherAlg::Aes128Gcm,
        CipherAlg::Aes256Gcm,
        CipherAlg::Aes128Ctr,
        CipherAlg::Aes192Ctr,
        CipherAlg::Aes256Ctr,
    ];

    /// Whether the cipher authenticates by itself (no MAC is negotiated).
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            CipherAlg::ChaCha20Poly1305 | CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm
        )
    }

    /// Whether the cipher is one of the CBC ones.
    pub fn is_cbc(self) -> bool {
        matches!(
            self,
            CipherAlg::Aes128Cbc
                | CipherAlg::Aes192Cbc
                | CipherAlg::Aes256Cbc
                | CipherAlg::TripleDesCbc
        )
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            CipherAlg::ChaCha20Poly1305 => "chacha20-poly1305@openssh.com",
            CipherAlg::Aes128Gcm => "aes128-gcm@openssh.com",
            CipherAlg::Aes256Gcm => "aes256-gcm@openssh.com",
            CipherAlg::Aes128Ctr => "aes128-ctr",
            CipherAlg::Aes192Ctr => "aes192-ctr",
            CipherAlg::Aes256Ctr => "aes256-ctr",
            CipherAlg::Aes128Cbc => "aes128-cbc",
            CipherAlg::Aes192Cbc => "aes192-cbc",
            CipherAlg::Aes256Cbc => "aes256-cbc",
            CipherAlg::TripleDesCbc => "3des-cbc",
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
            CipherAlg::Aes128Gcm | CipherAlg::Aes128Ctr | CipherAlg::Aes128Cbc => 16,
            CipherAlg::Aes192Ctr | CipherAlg::Aes192Cbc | CipherAlg::TripleDesCbc => 24,
            CipherAlg::Aes256Gcm | CipherAlg::Aes256Ctr | CipherAlg::Aes256Cbc => 32,
        }
    }

    /// IV length in bytes (the GCM nonce, the CTR counter block or the CBC IV; chacha derives
    /// its nonce from the sequence number).
    pub fn iv_len(self) -> usize {
        match self {
            CipherAlg::ChaCha20Poly1305 => 0,
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => 12,
            CipherAlg::TripleDesCbc => 8,
            _ => 16,
        }
    }

    /// The block size that packet lengths must be a multiple of.
    pub fn block_len(self) -> usize {
        match self {
            CipherAlg::ChaCha20Poly1305 | CipherAlg::TripleDesCbc => 8,
            _ => 16,
        }
    }
}

/// The encryption half of a non-AEAD cipher (which a MAC authenticates).
enum Encrypt {
    Ctr(AesCtr),
    Cbc(CbcEncryptor),
}

impl Encrypt {
    fn new(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<Encrypt, CryptoError> {
        if alg.is_cbc() {
            return Ok(Encrypt::Cbc(CbcEncryptor::new(alg, key, iv)?));
        }
        let k = key.get(..alg.key_len()).ok_or(CryptoError::KeyAgreement)?;
        Ok(Encrypt::Ctr(AesCtr::new(k, iv)?))
    }

    fn apply(&mut self, data: &mut [u8]) -> Result<(), CryptoError> {
        match self {
            Encrypt::Ctr(c) => {
                c.apply(data);
                Ok(())
            }
            Encrypt::Cbc(c) => c.encrypt(data),
        }
    }
}

/// The decryption half of a non-AEAD cipher.
enum Decrypt {
    Ctr(AesCtr),
    Cbc(CbcDecryptor),
}

impl Decrypt {
    fn new(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<Decrypt, CryptoError> {
        if alg.is_cbc() {
            return Ok(Decrypt::Cbc(CbcDecryptor::new(alg, key, iv)?));
        }
        let k = key.get(..alg.key_len()).ok_or(CryptoError::KeyAgreement)?;
        Ok(Decrypt::Ctr(AesCtr::new(k, iv)?))
    }

    fn apply(&mut self, data: &mut [u8]) -> Result<(), CryptoError> {
        match self {
            Decrypt::Ctr(c) => {
                c.apply(data);
                Ok(())
            }
            Decrypt::Cbc(c) => c.decrypt(data),
        }
    }
}

/// The MAC key a non-AEAD cipher needs.
fn mac_key(mac: Option<(MacAlg, &[u8])>) -> Result<MacKey, CryptoError> {
    let (m, mk) = mac.ok_or(CryptoError::KeyAgreement)?;
    MacKey::new(m, mk)
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
    WithMac(Encrypt, MacKey),
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
    /// algorithm needs). AEAD ciphers only; see [`Sealer::with_mac`].
    pub fn new(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<Sealer, CryptoError> {
        Sealer::with_mac(alg, key, iv, None)
    }

    /// Keys a sealer; a non-AEAD cipher needs its MAC and MAC key.
    pub fn with_mac(
        alg: CipherAlg,
        key: &[u8],
        iv: &[u8],
        mac: Option<(MacAlg, &[u8])>,
    ) -> Result<Sealer, CryptoError> {
        let inner = match alg {
            CipherAlg::ChaCha20Poly1305 => {
                SealerInner::ChaCha(chacha::SealingKey::new(&*chacha_key(key)?))
            }
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => {
                SealerInner::Gcm(gcm_key(alg, key)?, gcm_nonce(iv)?)
            }
            _ => SealerInner::WithMac(Encrypt::new(alg, key, iv)?, mac_key(mac)?),
        };
        Ok(Sealer { alg, inner })
    }

    /// The algorithm.
    pub fn alg(&self) -> CipherAlg {
        self.alg
    }

    /// The MAC, for a non-AEAD cipher.
    pub fn mac(&self) -> Option<MacAlg> {
        match &self.inner {
            SealerInner::WithMac(_, m) => Some(m.alg()),
            _ => None,
        }
    }

    /// Seals `packet` (the 4-byte length followed by the padded payload) in place and returns
    /// the tag to append. `packet` must be at least 4 bytes.
    pub fn seal(&mut self, seq: u32, packet: &mut [u8]) -> Result<Tag, CryptoError> {
        if packet.len() < 4 {
            return Err(CryptoError::Signing);
        }
        let mut tag = [0u8; TAG_LEN];
        match &mut self.inner {
            SealerInner::WithMac(enc, mac) if mac.alg().is_etm() => {
                if let Some(body) = packet.get_mut(4..) {
                    enc.apply(body)?;
                }
                return Ok(Tag::new(mac.sign(seq, packet).as_ref()));
            }
            SealerInner::WithMac(enc, mac) => {
                let t = Tag::new(mac.sign(seq, packet).as_ref());
                enc.apply(packet)?;
                return Ok(t);
            }
            SealerInner::ChaCha(k) => k.seal_in_place(seq, packet, &mut tag),
            SealerInner::Gcm(k, nonce) => {
                let (len, body) = packet.split_at_mut(4);
                let t = k
                    .seal_in_place_separate_tag(nonce.next(), aead::Aad::from(&*len), body)
                    .map_err(|_| CryptoError::Signing)?;
                tag.copy_from_slice(t.as_ref());
            }
        }
        Ok(Tag::new(&tag))
    }
}

#[allow(clippy::large_enum_variant)]
enum OpenerInner {
    ChaCha(chacha::OpeningKey),
    Gcm(aead::LessSafeKey, GcmNonce),
    WithMac(Decrypt, MacKey),
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
    /// Keys an opener with derived key material. AEAD ciphers only; see
    /// [`Opener::with_mac`].
    pub fn new(alg: CipherAlg, key: &[u8], iv: &[u8]) -> Result<Opener, CryptoError> {
        Opener::with_mac(alg, key, iv, None)
    }

    /// Keys an opener; a non-AEAD cipher needs its MAC and MAC key.
    pub fn with_mac(
        alg: CipherAlg,
        key: &[u8],
        iv: &[u8],
        mac: Option<(MacAlg, &[u8])>,
    ) -> Result<Opener, CryptoError> {
        let inner = match alg {
            CipherAlg::ChaCha20Poly1305 => {
                OpenerInner::ChaCha(chacha::OpeningKey::new(&*chacha_key(key)?))
            }
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => {
                OpenerInner::Gcm(gcm_key(alg, key)?, gcm_nonce(iv)?)
            }
            _ => OpenerInner::WithMac(Decrypt::new(alg, key, iv)?, mac_key(mac)?),
        };
        Ok(Opener { alg, inner })
    }

    /// The algorithm.
    pub fn alg(&self) -> CipherAlg {
        self.alg
    }

    /// The MAC, for a non-AEAD cipher.
    pub fn mac(&self) -> Option<MacAlg> {
        match &self.inner {
            OpenerInner::WithMac(_, m) => Some(m.alg()),
            _ => None,
        }
    }

    /// The tag length that follows each packet.
    pub fn tag_len(&self) -> usize {
        self.mac().map_or(TAG_LEN, MacAlg::tag_len)
    }

    /// How many leading bytes [`Opener::decrypt_length`] needs: one cipher block when the
    /// length is encrypted with the rest of the packet (CTR or CBC without ETM), else 4.
    pub fn length_prefix_len(&self) -> usize {
        match &self.inner {
            OpenerInner::WithMac(_, m) if !m.alg().is_etm() => self.alg.block_len(),
            _ => 4,
        }
    }

    /// Whether a bad length or MAC must not fail at once: CBC without encrypt-then-MAC, where
    /// when and how the failure shows would be an oracle on the decrypted length field. The
    /// packet reader then reads on, as OpenSSH's `ssh_packet_start_discard` does.
    pub fn discards_on_error(&self) -> bool {
        self.alg.is_cbc() && self.mac().is_some_and(|m| !m.is_etm())
    }

    /// Spends the time a MAC over `len` bytes takes, so a failure found before the MAC was
    /// checked costs as much as one found by the MAC (the end of an OpenSSH-style discard).
    pub fn burn_mac(&self, seq: u32, len: usize) {
        if let OpenerInner::WithMac(_, mac) = &self.inner {
            let filler = vec![0u8; len.min(crate::transport::MAX_PACKET_LEN)];
            let _ = mac.sign(seq, &filler);
        }
    }

    /// Reads the packet length from the first [`length_prefix_len`](Self::length_prefix_len)
    /// bytes. For CTR or CBC without ETM this decrypts that first block in place (the
    /// keystream or the chain moves on, so call it once per packet). The value is
    /// unauthenticated until [`Opener::open`] succeeds.
    pub fn decrypt_length(&mut self, seq: u32, prefix: &mut [u8]) -> u32 {
        let mut first4 = [0u8; 4];
        if let OpenerInner::WithMac(dec, m) = &mut self.inner
            && !m.alg().is_etm()
            && dec.apply(prefix).is_err()
        {
            return 0;
        }
        first4.copy_from_slice(prefix.get(..4).unwrap_or(&[0; 4]));
        match &self.inner {
            OpenerInner::ChaCha(_) => self.packet_length(seq, first4),
            _ => u32::from_be_bytes(first4),
        }
    }

    /// The packet length from the first 4 bytes on the wire, for AEAD ciphers. For chacha this
    /// decrypts with the length key; the value is unauthenticated until [`Opener::open`]
    /// succeeds.
    pub fn packet_length(&self, seq: u32, first4: [u8; 4]) -> u32 {
        match &self.inner {
            OpenerInner::ChaCha(k) => u32::from_be_bytes(k.decrypt_packet_length(seq, first4)),
            _ => u32::from_be_bytes(first4),
        }
    }

    /// Authenticates and decrypts `packet` (4-byte length, then ciphertext) in place, checking
    /// `tag`. On success the bytes after the length are plaintext. For CTR or CBC without ETM
    /// the first block must already have gone through [`Opener::decrypt_length`].
    pub fn open(&mut self, seq: u32, packet: &mut [u8], tag: &[u8]) -> Result<(), CryptoError> {
        let aead_tag = |tag: &[u8]| -> Result<[u8; TAG_LEN], CryptoError> {
            let mut t = [0u8; TAG_LEN];
            t.copy_from_slice(tag.get(..TAG_LEN).ok_or(CryptoError::BadMac)?);
            Ok(t)
        };
        match &mut self.inner {
            OpenerInner::WithMac(dec, mac) if mac.alg().is_etm() => {
                mac.verify(seq, packet, tag)?;
                if let Some(body) = packet.get_mut(4..) {
                    dec.apply(body)?;
                }
            }
            OpenerInner::WithMac(dec, mac) => {
                let first = self.alg.block_len();
                if let Some(rest) = packet.get_mut(first..) {
                    dec.apply(rest)?;
                }
                mac.verify(seq, packet, tag)?;
            }
            OpenerInner::ChaCha(k) => {
                k.open_in_place(seq, packet, &aead_tag(tag)?)
                    .map_err(|_| CryptoError::BadMac)?;
            }
            OpenerInner::Gcm(k, nonce) => {
                if packet.len() < 4 {
                    return Err(CryptoError::BadMac);
                }
                let t = aead_tag(tag)?;
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
        for alg in CipherAlg::ALL.into_iter().filter(|c| c.is_aead()) {
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
                o.open(seq, &mut pkt, tag.as_ref()).unwrap();
                assert_eq!(pkt[4..], orig[4..]);
            }
        }
    }

    /// The non-AEAD ciphers: CTR and the legacy CBC ones.
    fn with_mac_ciphers() -> impl Iterator<Item = CipherAlg> {
        CipherAlg::ALL.into_iter().filter(|c| !c.is_aead())
    }

    /// A packet (length field included) whose encrypted part is whole blocks for `mac`'s
    /// framing: 28 bytes after the length with ETM (length in clear), else 32 in all.
    fn plain_packet(mac: MacAlg, fill: u8) -> Vec<u8> {
        let body = if mac.is_etm() { 32u8 } else { 28 };
        let mut pkt = vec![0, 0, 0, body];
        pkt.resize(4 + usize::from(body), fill);
        pkt
    }

    fn keyed(alg: CipherAlg, mac: MacAlg) -> (Sealer, Opener) {
        let (key, iv, mk) = (vec![1u8; alg.key_len()], vec![2u8; alg.iv_len()], [3u8; 64]);
        (
            Sealer::with_mac(alg, &key, &iv, Some((mac, &mk))).unwrap(),
            Opener::with_mac(alg, &key, &iv, Some((mac, &mk))).unwrap(),
        )
    }

    /// Several packets in a row: the CTR keystream and the CBC chain carry over.
    #[test]
    fn mac_ciphers_round_trip_across_packets() {
        for alg in with_mac_ciphers() {
            for mac in MacAlg::ALL {
                let (mut s, mut o) = keyed(alg, mac);
                let mut prev: Option<Vec<u8>> = None;
                for seq in [0u32, 1, 2, u32::MAX] {
                    let orig = plain_packet(mac, 4);
                    let mut pkt = orig.clone();
                    let tag = s.seal(seq, &mut pkt).unwrap();
                    assert_ne!(pkt[4..], orig[4..], "{alg:?} {mac:?}");
                    // Same plaintext, different ciphertext: the state moved on.
                    assert_ne!(prev.as_ref(), Some(&pkt), "{alg:?} {mac:?}");
                    prev = Some(pkt.clone());
                    let prefix = o.length_prefix_len();
                    let len = o.decrypt_length(seq, &mut pkt[..prefix]);
                    assert_eq!(len as usize, orig.len() - 4, "{alg:?} {mac:?}");
                    o.open(seq, &mut pkt, tag.as_ref()).unwrap();
                    assert_eq!(pkt[4..], orig[4..], "{alg:?} {mac:?}");
                }
                assert_eq!(o.discards_on_error(), alg.is_cbc() && !mac.is_etm());
            }
        }
    }

    #[test]
    fn ctr_with_every_mac_detects_tampering() {
        for alg in with_mac_ciphers().filter(|c| !c.is_cbc()) {
            for mac in MacAlg::ALL {
                tamper_every_byte(alg, mac);
            }
        }
    }

    #[test]
    fn cbc_with_every_mac_detects_tampering() {
        for alg in with_mac_ciphers().filter(|c| c.is_cbc()) {
            for mac in MacAlg::ALL {
                tamper_every_byte(alg, mac);
            }
        }
    }

    /// Flipping any bit of the packet or the tag fails with `BadMac`; untouched, it opens.
    fn tamper_every_byte(alg: CipherAlg, mac: MacAlg) {
        let orig = plain_packet(mac, 5);
        for flip in 0..(orig.len() + mac.tag_len()) {
            let (mut s, mut o) = keyed(alg, mac);
            let mut pkt = orig.clone();
            let mut tag = s.seal(7, &mut pkt).unwrap().as_ref().to_vec();
            if flip < pkt.len() {
                pkt[flip] ^= 1;
            } else {
                tag[flip - pkt.len()] ^= 1;
            }
            let prefix = o.length_prefix_len();
            o.decrypt_length(7, &mut pkt[..prefix]);
            assert_eq!(
                o.open(7, &mut pkt, &tag),
                Err(CryptoError::BadMac),
                "{alg:?} {mac:?} {flip}"
            );
            let (mut s, mut o) = keyed(alg, mac);
            let mut pkt = orig.clone();
            let tag = s.seal(7, &mut pkt).unwrap();
            assert_eq!(
                o.decrypt_length(7, &mut pkt[..prefix]) as usize,
                orig.len() - 4
            );
            o.open(7, &mut pkt, tag.as_ref()).unwrap();
            assert_eq!(pkt[4..], orig[4..]);
        }
    }

    #[test]
    fn tampering_is_detected() {
        for alg in CipherAlg::ALL.into_iter().filter(|c| c.is_aead()) {
            let key = vec![1u8; alg.key_len()];
            let iv = vec![2u8; alg.iv_len()];
            for flip in 0..36 {
                let mut s = Sealer::new(alg, &key, &iv).unwrap();
                let mut o = Opener::new(alg, &key, &iv).unwrap();
                let mut pkt = vec![0, 0, 0, 16];
                pkt.extend_from_slice(&[5u8; 16]);
                let mut tag = s.seal(3, &mut pkt).unwrap().as_ref().to_vec();
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
