//! One packet sealed and opened, three ways, for every cipher (and MAC) suite:
//!
//! - [`SealerLoop`]: Seashell's [`Sealer`]/[`Opener`] alone, in place on one packet buffer;
//! - [`OursLoop`]: the whole packet layer, [`PacketWriter`] → `BytesMut` → [`PacketReader`];
//! - [`RawLoop`]: the bare primitive the suite is made of (ring AEAD; AES-CTR or CBC from the
//!   RustCrypto crates with ring HMAC), no framing, padding, copies or bookkeeping.
//!
//! All three handle a packet carrying [`PAYLOAD_LEN`] payload bytes and report that many bytes
//! per round trip, so their throughputs compare directly.

use bytes::BytesMut;
use ring::aead::chacha20_poly1305_openssh as chacha;
use ring::{aead, hmac};
use seashell_proto::crypto::cipher::TAG_LEN;
use seashell_proto::crypto::{CipherAlg, MacAlg, Opener, Sealer, SystemRandom};
use seashell_proto::transport::packet::{PacketReader, PacketWriter};

/// The payload size every packet benchmark uses: 32 KiB, OpenSSH's channel packet size.
pub const PAYLOAD_LEN: usize = 32 * 1024;

/// Fixed benchmark key material, long enough for every cipher.
const KEY: [u8; 64] = [0x42; 64];
/// Fixed benchmark IV, long enough for every cipher (GCM uses the first 12 bytes).
const IV: [u8; 16] = [0x24; 16];
/// Fixed benchmark MAC key, long enough for every MAC.
const MAC_KEY: [u8; 64] = [0x17; 64];

/// A packet protection suite: a cipher and, unless it is an AEAD, its MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    /// The cipher.
    pub cipher: CipherAlg,
    /// The MAC of a non-AEAD cipher.
    pub mac: Option<MacAlg>,
}

/// The ciphers the AEAD-only packet benches compare with raw ring.
pub const AEAD_CIPHERS: [CipherAlg; 3] = [
    CipherAlg::ChaCha20Poly1305,
    CipherAlg::Aes128Gcm,
    CipherAlg::Aes256Gcm,
];

impl Suite {
    /// An AEAD cipher on its own.
    pub fn aead(cipher: CipherAlg) -> Suite {
        Suite { cipher, mac: None }
    }

    /// Every suite Seashell implements: each AEAD in [`CipherAlg::ALL`] alone, each other
    /// cipher with each MAC in [`MacAlg::ALL`].
    pub fn all() -> Vec<Suite> {
        let mut out = Vec::new();
        for cipher in CipherAlg::ALL {
            if cipher.is_aead() {
                out.push(Suite::aead(cipher));
            } else {
                out.extend(MacAlg::ALL.into_iter().map(|m| Suite {
                    cipher,
                    mac: Some(m),
                }));
            }
        }
        out
    }

    /// `cipher` or `cipher + mac`.
    pub fn name(&self) -> String {
        match self.mac {
            Some(m) => format!("{} + {}", self.cipher.name(), m.name()),
            None => self.cipher.name().to_owned(),
        }
    }

    /// Whether the 4-byte length counts towards the block alignment (plain MAC-then-encrypt;
    /// not for AEADs or encrypt-then-MAC), as RFC 4253 §6 and the packet layer frame it.
    fn len_in_block(&self) -> bool {
        self.mac.is_some_and(|m| !m.is_etm())
    }

    fn sealer(&self) -> Sealer {
        Sealer::with_mac(self.cipher, &KEY, &IV, self.mac.map(|m| (m, &MAC_KEY[..])))
            .expect("benchmark key material")
    }

    fn opener(&self) -> Opener {
        Opener::with_mac(self.cipher, &KEY, &IV, self.mac.map(|m| (m, &MAC_KEY[..])))
            .expect("benchmark key material")
    }
}

/// The `packet_length` field of a packet carrying `payload` bytes under `suite`: padding
/// length byte, payload and RFC 4253 padding (at least 4 bytes, to the cipher's block size,
/// the length field counted only for MAC-then-encrypt).
pub fn packet_len(suite: Suite, payload: usize) -> usize {
    let block = suite.cipher.block_len();
    let unpadded = 1 + payload + if suite.len_in_block() { 4 } else { 0 };
    let mut pad = block - unpadded % block;
    if pad < 4 {
        pad += block;
    }
    1 + payload + pad
}

/// `length || padding_length || payload || padding` of one plaintext packet.
fn plain_packet(suite: Suite) -> Vec<u8> {
    let len = packet_len(suite, PAYLOAD_LEN);
    let mut buf = vec![0x5a; 4 + len];
    buf[..4].copy_from_slice(&u32::try_from(len).expect("small").to_be_bytes());
    buf[4] = u8::try_from(len - 1 - PAYLOAD_LEN).expect("padding fits a byte");
    buf
}

/// Seashell's framing: seal a packet with [`PacketWriter`] into a reused `Vec`, hand the
/// wire bytes to [`PacketReader`] through a `BytesMut` (as the connection does with socket
/// input), and read the payload back.
pub struct OursLoop {
    writer: PacketWriter,
    reader: PacketReader,
    rng: SystemRandom,
    payload: Vec<u8>,
    wire: Vec<u8>,
    inbuf: BytesMut,
}

impl OursLoop {
    /// A writer and reader keyed alike for `suite`, with a [`PAYLOAD_LEN`] payload.
    pub fn new(suite: Suite) -> OursLoop {
        let mut writer = PacketWriter::default();
        let mut reader = PacketReader::default();
        writer.set_sealer(suite.sealer());
        reader.set_opener(suite.opener());
        OursLoop {
            writer,
            reader,
            rng: SystemRandom::new(),
            payload: vec![0x5a; PAYLOAD_LEN],
            wire: Vec::with_capacity(PAYLOAD_LEN + 256),
            inbuf: BytesMut::with_capacity(2 * (PAYLOAD_LEN + 256)),
        }
    }

    /// One packet written, sealed, opened and read; returns the payload length read back.
    pub fn round_trip(&mut self) -> usize {
        self.wire.clear();
        let payload = &self.payload;
        self.writer
            .write(&mut self.wire, &self.rng, |o| o.extend_from_slice(payload))
            .expect("seal");
        self.inbuf.extend_from_slice(&self.wire);
        let got = self
            .reader
            .read(&mut self.inbuf)
            .expect("open")
            .expect("a whole packet");
        std::hint::black_box(&got);
        got.len()
    }
}

/// Seashell's [`Sealer`] and [`Opener`] alone, in place on one packet buffer: seal, read the
/// length back (decrypting it where the suite encrypts it), open. No framing, padding
/// generation or copies, so the gap to [`RawLoop`] is the cipher layer's own cost.
pub struct SealerLoop {
    sealer: Sealer,
    opener: Opener,
    buf: Vec<u8>,
    /// The plaintext length field, written back before each seal (chacha leaves it
    /// encrypted after opening, as the packet layer's reader does).
    len_field: [u8; 4],
    seq: u32,
}

impl SealerLoop {
    /// A sealer and opener keyed alike for `suite`, on a [`PAYLOAD_LEN`] packet.
    pub fn new(suite: Suite) -> SealerLoop {
        let buf = plain_packet(suite);
        SealerLoop {
            sealer: suite.sealer(),
            opener: suite.opener(),
            len_field: *buf.first_chunk().expect("length field"),
            buf,
            seq: 0,
        }
    }

    /// One seal and one open; returns [`PAYLOAD_LEN`].
    pub fn round_trip(&mut self) -> usize {
        let seq = self.seq;
        self.seq = seq.wrapping_add(1);
        self.buf[..4].copy_from_slice(&self.len_field);
        let tag = self.sealer.seal(seq, &mut self.buf).expect("seal");
        let prefix = self.opener.length_prefix_len();
        let len = self.opener.decrypt_length(seq, &mut self.buf[..prefix]);
        std::hint::black_box(len);
        self.opener
            .open(seq, &mut self.buf, tag.as_ref())
            .expect("open");
        std::hint::black_box(&self.buf);
        PAYLOAD_LEN
    }
}

/// A keyed block-cipher mode working in place on whole buffers, as a closure (AES-CTR, or
/// AES/3DES-CBC keeping its chaining state across packets as SSH does).
type Mode = Box<dyn FnMut(&mut [u8])>;

/// The bare primitive of one suite on a buffer of the same size as [`OursLoop`]'s packets:
/// seal and open in place, nothing else (no framing, padding, copies or sequence checks).
#[allow(
    clippy::large_enum_variant,
    reason = "keys held inline, as the core's Sealer/Opener hold them"
)]
pub enum RawLoop {
    /// `aead::LessSafeKey` AES-GCM, the 4-byte length as AAD, RFC 5647 nonce counter.
    Gcm {
        /// The key (sealing and opening).
        key: aead::LessSafeKey,
        /// `length || body` of one packet.
        buf: Vec<u8>,
        /// The invocation counter of the nonce.
        counter: u64,
    },
    /// `chacha20_poly1305_openssh`: seal, decrypt the length, open.
    ChaCha {
        /// The sealing key.
        seal: chacha::SealingKey,
        /// The opening key.
        open: chacha::OpeningKey,
        /// `length || body` of one packet.
        buf: Vec<u8>,
        /// The sequence number.
        seq: u32,
    },
    /// A RustCrypto cipher mode with ring HMAC over `seq || packet`: encrypt, MAC, MAC again
    /// and compare, decrypt (in the order encrypt-then-MAC or MAC-then-encrypt needs).
    Mode {
        /// Encrypts in place.
        encrypt: Mode,
        /// Decrypts in place.
        decrypt: Mode,
        /// The HMAC key.
        mac: hmac::Key,
        /// Encrypt-then-MAC: the length stays in clear and the MAC covers the ciphertext.
        etm: bool,
        /// `length || body` of one packet.
        buf: Vec<u8>,
        /// The sequence number.
        seq: u32,
    },
}

/// What [`RawLoop::new`] measures for a suite, for tables; `None` when no raw mapping exists.
pub fn raw_name(suite: Suite) -> Option<String> {
    let c = suite.cipher.name();
    if suite.cipher.is_aead() {
        return match c {
            "chacha20-poly1305@openssh.com" => Some("ring chacha20_poly1305_openssh".into()),
            _ if c.contains("gcm") => Some(format!("ring AES-{}-GCM", suite.cipher.key_len() * 8)),
            _ => None,
        };
    }
    let (_, hmac) = ring_hmac(suite.mac?)?;
    let mac = || format!(" + ring {hmac}");
    if c.ends_with("-ctr") {
        Some(format!(
            "aes/ctr AES-{}-CTR{}",
            suite.cipher.key_len() * 8,
            mac()
        ))
    } else if c.starts_with("3des") {
        Some(format!("cbc/des 3DES-EDE3-CBC{}", mac()))
    } else if c.contains("cbc") {
        Some(format!(
            "cbc/aes AES-{}-CBC{}",
            suite.cipher.key_len() * 8,
            mac()
        ))
    } else {
        None
    }
}

/// ring's HMAC for a MAC, by its wire name, with the name for tables.
fn ring_hmac(m: MacAlg) -> Option<(hmac::Algorithm, &'static str)> {
    let n = m.name();
    if n.starts_with("hmac-sha2-512") {
        Some((hmac::HMAC_SHA512, "HMAC-SHA512"))
    } else if n.starts_with("hmac-sha2-256") {
        Some((hmac::HMAC_SHA256, "HMAC-SHA256"))
    } else if n == "hmac-sha1" || n == "hmac-sha1-etm@openssh.com" {
        Some((hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, "HMAC-SHA1"))
    } else {
        None
    }
}

/// AES-CTR from the `ctr` and `aes` crates, big-endian 128-bit counter.
fn ctr_mode(key: &[u8], iv: &[u8]) -> Mode {
    use ctr::cipher::{KeyIvInit, StreamCipher};
    fn boxed<C: StreamCipher + KeyIvInit + 'static>(key: &[u8], iv: &[u8]) -> Mode {
        let mut c = C::new_from_slices(key, iv).expect("key and iv lengths");
        Box::new(move |b| c.apply_keystream(b))
    }
    match key.len() {
        16 => boxed::<ctr::Ctr128BE<aes::Aes128>>(key, iv),
        24 => boxed::<ctr::Ctr128BE<aes::Aes192>>(key, iv),
        _ => boxed::<ctr::Ctr128BE<aes::Aes256>>(key, iv),
    }
}

/// CBC encryption and decryption from the `cbc` crate over `C` (AES or 3DES), the chaining
/// state carried from one call to the next.
fn cbc_modes<C>(key: &[u8], iv: &[u8]) -> (Mode, Mode)
where
    C: cbc::cipher::BlockCipherEncrypt + cbc::cipher::BlockCipherDecrypt,
    C: cbc::cipher::KeyInit + 'static,
{
    use cbc::cipher::array::Array;
    use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
    let mut enc = cbc::Encryptor::<C>::new_from_slices(key, iv).expect("key and iv lengths");
    let mut dec = cbc::Decryptor::<C>::new_from_slices(key, iv).expect("key and iv lengths");
    let encrypt: Mode = Box::new(move |b| {
        let (blocks, rest) = Array::slice_as_chunks_mut(b);
        assert!(rest.is_empty(), "whole blocks");
        enc.encrypt_blocks(blocks);
    });
    let decrypt: Mode = Box::new(move |b| {
        let (blocks, rest) = Array::slice_as_chunks_mut(b);
        assert!(rest.is_empty(), "whole blocks");
        dec.decrypt_blocks(blocks);
    });
    (encrypt, decrypt)
}

impl RawLoop {
    /// The raw loop for `suite` on a packet of [`packet_len`]`(suite, PAYLOAD_LEN)` bytes, or
    /// `None` when [`raw_name`] has no mapping for it.
    pub fn new(suite: Suite) -> Option<RawLoop> {
        raw_name(suite)?;
        let alg = suite.cipher;
        let buf = plain_packet(suite);
        let key = &KEY[..alg.key_len()];
        let name = alg.name();
        if name == "chacha20-poly1305@openssh.com" {
            let k: &[u8; chacha::KEY_LEN] = KEY.first_chunk().expect("64-byte key");
            return Some(RawLoop::ChaCha {
                seal: chacha::SealingKey::new(k),
                open: chacha::OpeningKey::new(k),
                buf,
                seq: 0,
            });
        }
        if alg.is_aead() {
            let ring_alg = if alg.key_len() == 16 {
                &aead::AES_128_GCM
            } else {
                &aead::AES_256_GCM
            };
            let unbound = aead::UnboundKey::new(ring_alg, key).expect("key length");
            return Some(RawLoop::Gcm {
                key: aead::LessSafeKey::new(unbound),
                buf,
                counter: 0,
            });
        }
        let mac = suite.mac?;
        let iv = &IV[..alg.iv_len()];
        let (encrypt, decrypt) = if name.ends_with("-ctr") {
            (ctr_mode(key, iv), ctr_mode(key, iv))
        } else if name.starts_with("3des") {
            cbc_modes::<des::TdesEde3>(key, iv)
        } else {
            match key.len() {
                16 => cbc_modes::<aes::Aes128>(key, iv),
                24 => cbc_modes::<aes::Aes192>(key, iv),
                _ => cbc_modes::<aes::Aes256>(key, iv),
            }
        };
        Some(RawLoop::Mode {
            encrypt,
            decrypt,
            mac: hmac::Key::new(ring_hmac(mac)?.0, &MAC_KEY[..mac.key_len()]),
            etm: mac.is_etm(),
            buf,
            seq: 0,
        })
    }

    /// One seal and one open of the packet buffer; returns [`PAYLOAD_LEN`] (the payload
    /// bytes the same packet carries in [`OursLoop`]) so all loops count alike.
    pub fn round_trip(&mut self) -> usize {
        match self {
            RawLoop::Gcm { key, buf, counter } => {
                let mut nonce = [0u8; 12];
                nonce[..4].copy_from_slice(&IV[..4]);
                nonce[4..].copy_from_slice(&counter.to_be_bytes());
                *counter = counter.wrapping_add(1);
                let (len, body) = buf.split_at_mut(4);
                let tag = key
                    .seal_in_place_separate_tag(
                        aead::Nonce::assume_unique_for_key(nonce),
                        aead::Aad::from(&*len),
                        body,
                    )
                    .expect("seal");
                key.open_in_place_separate_tag(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::from(&*len),
                    tag,
                    body,
                    0..,
                )
                .expect("open");
            }
            RawLoop::ChaCha {
                seal,
                open,
                buf,
                seq,
            } => {
                let mut tag = [0u8; TAG_LEN];
                seal.seal_in_place(*seq, buf, &mut tag);
                let first4: [u8; 4] = *buf.first_chunk().expect("length field");
                std::hint::black_box(open.decrypt_packet_length(*seq, first4));
                open.open_in_place(*seq, buf, &tag).expect("open");
                *seq = seq.wrapping_add(1);
            }
            RawLoop::Mode {
                encrypt,
                decrypt,
                mac,
                etm,
                buf,
                seq,
            } => {
                let sign = |buf: &[u8]| {
                    let mut ctx = hmac::Context::with_key(mac);
                    ctx.update(&seq.to_be_bytes());
                    ctx.update(buf);
                    ctx.sign()
                };
                if *etm {
                    encrypt(&mut buf[4..]);
                    let tag = sign(buf);
                    let check = sign(buf);
                    assert!(tag.as_ref() == check.as_ref(), "mac");
                    decrypt(&mut buf[4..]);
                } else {
                    let tag = sign(buf);
                    encrypt(buf);
                    decrypt(buf);
                    let check = sign(buf);
                    assert!(tag.as_ref() == check.as_ref(), "mac");
                }
                *seq = seq.wrapping_add(1);
            }
        }
        std::hint::black_box(&*self);
        PAYLOAD_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_loop_round_trips_every_suite() {
        let suites = Suite::all();
        assert!(suites.len() >= CipherAlg::ALL.len());
        for suite in suites {
            let mut ours = OursLoop::new(suite);
            let mut sealer = SealerLoop::new(suite);
            let plain = sealer.buf.clone();
            let mut raw = RawLoop::new(suite);
            for _ in 0..3 {
                assert_eq!(ours.round_trip(), PAYLOAD_LEN, "{}", suite.name());
                assert_eq!(sealer.round_trip(), PAYLOAD_LEN, "{}", suite.name());
                assert!(sealer.buf[4..] == plain[4..], "{}", suite.name());
                if let Some(raw) = &mut raw {
                    assert_eq!(raw.round_trip(), PAYLOAD_LEN, "{}", suite.name());
                }
            }
            // The buffers are exactly the size of our packets on the wire (minus the tag).
            ours.wire.clear();
            let p = &ours.payload;
            ours.writer
                .write(&mut ours.wire, &ours.rng, |o| o.extend_from_slice(p))
                .unwrap();
            let tag = suite.mac.map_or(TAG_LEN, MacAlg::tag_len);
            assert_eq!(ours.wire.len(), plain.len() + tag, "{}", suite.name());
        }
    }

    #[test]
    fn every_current_suite_has_a_raw_primitive() {
        for suite in Suite::all() {
            assert!(raw_name(suite).is_some(), "{}", suite.name());
        }
    }

    /// The raw CTR and CBC modes are the same transformations the core applies: sealing a
    /// packet with our [`Sealer`] and decrypting it with the raw mode gives the plaintext.
    #[test]
    fn raw_modes_match_the_core() {
        for suite in Suite::all().into_iter().filter(|s| !s.cipher.is_aead()) {
            let Some(mac) = suite.mac.filter(|m| m.is_etm()) else {
                continue;
            };
            let plain = plain_packet(suite);
            let mut pkt = plain.clone();
            let tag = suite.sealer().seal(0, &mut pkt).unwrap();
            let Some(RawLoop::Mode {
                mut decrypt,
                mac: key,
                ..
            }) = RawLoop::new(suite)
            else {
                panic!("{}", suite.name())
            };
            let mut ctx = hmac::Context::with_key(&key);
            ctx.update(&0u32.to_be_bytes());
            ctx.update(&pkt);
            assert_eq!(ctx.sign().as_ref(), tag.as_ref(), "{}", mac.name());
            decrypt(&mut pkt[4..]);
            assert!(pkt == plain, "{}", suite.name());
        }
    }
}
