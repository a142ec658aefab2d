//! # seashell-bench: Seashell measured side by side with its baselines
//!
//! - `benches/packet.rs` (criterion): one packet seal + open through Seashell's
//!   [`PacketWriter`]/[`PacketReader`], next to the bare ring AEAD on the same sizes.
//! - `src/bin/packet-ratio.rs`: the same two loops timed interleaved, printing the ratio
//!   ours/raw per cipher as a markdown table.
//! - `src/bin/stream-compare.rs`: bulk channel throughput of the blocking client against
//!   OpenSSH's `ssh`, both reading from one private sshd.
//!
//! This library holds the packet loops both packet benchmarks run, so they measure exactly
//! the same work.

use bytes::BytesMut;
use ring::aead;
use ring::aead::chacha20_poly1305_openssh as chacha;
use seashell_proto::crypto::cipher::TAG_LEN;
use seashell_proto::crypto::{CipherAlg, Opener, Sealer, SystemRandom};
use seashell_proto::transport::packet::{PacketReader, PacketWriter};
use std::time::{Duration, Instant};

/// The payload size every packet benchmark uses: 32 KiB, OpenSSH's channel packet size.
pub const PAYLOAD_LEN: usize = 32 * 1024;

/// Fixed benchmark key material, long enough for every cipher.
const KEY: [u8; 64] = [0x42; 64];
/// Fixed benchmark IV.
const IV: [u8; 12] = [0x24; 12];

/// The `packet_length` field of a packet carrying `payload` bytes under `alg`: padding
/// length byte, payload and RFC 4253 padding (at least 4 bytes, to the cipher's block size,
/// length field excluded as for every AEAD cipher).
pub fn packet_len(alg: CipherAlg, payload: usize) -> usize {
    let block = alg.block_len();
    let unpadded = 1 + payload;
    let mut pad = block - unpadded % block;
    if pad < 4 {
        pad += block;
    }
    unpadded + pad
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
    /// A writer and reader keyed alike for `alg`, with a [`PAYLOAD_LEN`] payload.
    pub fn new(alg: CipherAlg) -> OursLoop {
        let mut writer = PacketWriter::default();
        let mut reader = PacketReader::default();
        writer.set_sealer(Sealer::new(alg, &KEY, &IV).expect("benchmark key material"));
        reader.set_opener(Opener::new(alg, &KEY, &IV).expect("benchmark key material"));
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

/// The bare ring AEAD on a buffer of the same size as [`OursLoop`]'s packets: seal and open
/// in place, nothing else (no framing, padding, copies or sequence bookkeeping).
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
}

/// The ciphers the packet benches compare with raw ring: the AEADs (CTR+HMAC has no single
/// raw primitive to compare with).
pub const AEAD_CIPHERS: [CipherAlg; 3] = [
    CipherAlg::ChaCha20Poly1305,
    CipherAlg::Aes128Gcm,
    CipherAlg::Aes256Gcm,
];

impl RawLoop {
    /// The raw loop for `alg` on a packet of [`packet_len`]`(alg, PAYLOAD_LEN)` bytes.
    pub fn new(alg: CipherAlg) -> RawLoop {
        let len = packet_len(alg, PAYLOAD_LEN);
        let mut buf = vec![0x5a; 4 + len];
        buf[..4].copy_from_slice(&u32::try_from(len).expect("small").to_be_bytes());
        match alg {
            CipherAlg::ChaCha20Poly1305 => {
                let k: &[u8; chacha::KEY_LEN] = KEY.first_chunk().expect("64-byte key");
                RawLoop::ChaCha {
                    seal: chacha::SealingKey::new(k),
                    open: chacha::OpeningKey::new(k),
                    buf,
                    seq: 0,
                }
            }
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => {
                let ring_alg = if alg == CipherAlg::Aes128Gcm {
                    &aead::AES_128_GCM
                } else {
                    &aead::AES_256_GCM
                };
                let unbound =
                    aead::UnboundKey::new(ring_alg, &KEY[..alg.key_len()]).expect("key length");
                RawLoop::Gcm {
                    key: aead::LessSafeKey::new(unbound),
                    buf,
                    counter: 0,
                }
            }
            other => panic!("the raw loops cover the AEAD ciphers, not {}", other.name()),
        }
    }

    /// One seal and one open of the packet buffer; returns [`PAYLOAD_LEN`] (the payload
    /// bytes the same packet carries in [`OursLoop`]) so both loops count alike.
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
        }
        std::hint::black_box(&*self);
        PAYLOAD_LEN
    }
}

/// Runs `step` repeatedly for about `budget` and returns the payload throughput in MB/s
/// (10^6 bytes per second).
pub fn measure(budget: Duration, mut step: impl FnMut() -> usize) -> f64 {
    // Time in batches so the clock is read rarely.
    const BATCH: usize = 16;
    let start = Instant::now();
    let mut bytes = 0usize;
    loop {
        for _ in 0..BATCH {
            bytes += step();
        }
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return bytes as f64 / elapsed.as_secs_f64() / 1e6;
        }
    }
}

/// Median, minimum and maximum of `values` (which must not be empty).
pub fn summary(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    let median = if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_loops_round_trip_every_cipher() {
        for alg in AEAD_CIPHERS {
            let mut ours = OursLoop::new(alg);
            let mut raw = RawLoop::new(alg);
            for _ in 0..3 {
                assert_eq!(ours.round_trip(), PAYLOAD_LEN);
                assert_eq!(raw.round_trip(), PAYLOAD_LEN);
            }
            // The raw buffer is exactly the size of our packets on the wire (minus the tag).
            ours.wire.clear();
            let p = &ours.payload;
            ours.writer
                .write(&mut ours.wire, &ours.rng, |o| o.extend_from_slice(p))
                .unwrap();
            assert_eq!(ours.wire.len(), 4 + packet_len(alg, PAYLOAD_LEN) + TAG_LEN);
        }
    }

    #[test]
    fn summaries() {
        assert_eq!(summary(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(summary(&[4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
    }
}
