//! The binary packet protocol (RFC 4253 §6): framing, padding, sequence numbers, compression
//! and the packet cipher. Packets are sealed in place in the output buffer and opened in place
//! in the input buffer; a received payload is handed on as a [`Bytes`] slice of the packet,
//! without a copy (unless it must be inflated).
//!
//! **CBC without encrypt-then-MAC.** The length field is decrypted before the MAC can be
//! checked, so how a forged length fails would tell an attacker about the plaintext of any
//! block they splice in (Albrecht, Paterson and Watson, 2009). We do what OpenSSH does
//! (`ssh_packet_start_discard`): after a bad length or a bad MAC the reader keeps consuming
//! input until [`MAX_PACKET_LEN`] + 4 + the tag length bytes from the start of the bad packet
//! have gone by, spends the time of a MAC over the rest of a maximal packet, and only then
//! fails, always with [`CryptoError::BadMac`]. Both failures look and take the same. Other
//! ciphers fail at once: their lengths are authenticated or not encrypted.

use super::MAX_PACKET_LEN;
use super::compress::{Compression, CompressionAlg, Deflater, Inflater};
use crate::crypto::{CipherAlg, MacAlg, Opener, Sealer, SecureRandom};
use crate::error::{CryptoError, Error, InvalidMessage};
use bytes::{Buf, Bytes, BytesMut};

/// Block size and whether the length field counts towards it, for a direction's cipher and
/// MAC. AEAD ciphers and encrypt-then-MAC exclude the length (it is AAD, separately encrypted
/// or in clear); cleartext and plain CTR+MAC include it.
fn framing(cipher: Option<CipherAlg>, mac: Option<MacAlg>) -> (usize, bool) {
    match (cipher, mac) {
        (None, _) => (8, true),
        (Some(c), Some(m)) => (c.block_len(), !m.is_etm()),
        (Some(c), None) => (c.block_len(), false),
    }
}

/// Counters since the keys were last changed, for rekey decisions.
#[derive(Debug, Default, Clone, Copy)]
pub struct Traffic {
    /// Packets since the last key change.
    pub packets: u64,
    /// Bytes (packet lengths) since the last key change.
    pub bytes: u64,
}

/// Frames, pads and seals outgoing packets.
#[derive(Debug, Default)]
pub struct PacketWriter {
    seq: u32,
    sealer: Option<Sealer>,
    pad_pool: Vec<u8>,
    pad_pos: usize,
    traffic: Traffic,
    compression: Compression<Deflater>,
    last_msg: u8,
}

impl PacketWriter {
    /// Appends one packet to `out`; `body` appends the payload (message number first).
    /// The payload must fit the packet cap; the callers bound it.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        rng: &dyn SecureRandom,
        body: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), Error> {
        let start = out.len();
        out.extend_from_slice(&[0; 5]);
        body(out);
        self.last_msg = out.get(start + 5).copied().unwrap_or(0);
        if let Some(z) = self.compression.codec() {
            z.compress_tail(out, start + 5)?;
        }
        let payload_len = out.len() - start - 5;
        let (block, len_in_block) = framing(
            self.sealer.as_ref().map(Sealer::alg),
            self.sealer.as_ref().and_then(Sealer::mac),
        );
        let unpadded = 1 + payload_len + if len_in_block { 4 } else { 0 };
        let mut pad = block - unpadded % block;
        if pad < 4 {
            pad += block;
        }
        self.padding(out, pad, rng)?;
        let packet_len = 1 + payload_len + pad;
        let len_bytes = u32::try_from(packet_len).unwrap_or(u32::MAX).to_be_bytes();
        if let Some(head) = out.get_mut(start..start + 5) {
            head.get_mut(..4)
                .unwrap_or_default()
                .copy_from_slice(&len_bytes);
            if let Some(p) = head.get_mut(4) {
                *p = u8::try_from(pad).unwrap_or(u8::MAX);
            }
        }
        if let Some(sealer) = &mut self.sealer {
            let packet = out.get_mut(start..).unwrap_or_default();
            let tag = sealer.seal(self.seq, packet)?;
            out.extend_from_slice(tag.as_ref());
        }
        self.seq = self.seq.wrapping_add(1);
        self.traffic.packets += 1;
        self.traffic.bytes += packet_len as u64;
        Ok(())
    }

    fn padding(
        &mut self,
        out: &mut Vec<u8>,
        n: usize,
        rng: &dyn SecureRandom,
    ) -> Result<(), Error> {
        if self.pad_pos + n > self.pad_pool.len() {
            self.pad_pool.resize(1024, 0);
            rng.fill(&mut self.pad_pool)?;
            self.pad_pos = 0;
        }
        let bytes = self
            .pad_pool
            .get(self.pad_pos..self.pad_pos + n)
            .unwrap_or_default();
        out.extend_from_slice(bytes);
        self.pad_pos += n;
        Ok(())
    }

    /// Switches to new keys (after sending NEWKEYS) and resets the traffic counters.
    pub fn set_sealer(&mut self, sealer: Sealer) {
        self.sealer = Some(sealer);
        self.traffic = Traffic::default();
    }

    /// Sets the compression negotiated with the keys just installed (call right after
    /// [`set_sealer`](Self::set_sealer)).
    pub fn set_compression(&mut self, alg: CompressionAlg) {
        self.compression.new_keys(alg);
    }

    /// User authentication has succeeded: `zlib@openssh.com` starts with the next packet.
    pub fn compression_auth_done(&mut self) {
        self.compression.auth_done();
    }

    /// Whether outgoing payloads are compressed now.
    pub fn is_compressing(&self) -> bool {
        self.compression.is_active()
    }

    /// The message number of the last packet written (0 before any).
    pub fn last_msg(&self) -> u8 {
        self.last_msg
    }

    /// The sequence number of the next packet.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// Resets the sequence number to 0 (strict KEX, after NEWKEYS).
    pub fn reset_seq(&mut self) {
        self.seq = 0;
    }

    /// Traffic since the keys last changed.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    /// Whether packets are encrypted yet.
    pub fn is_encrypted(&self) -> bool {
        self.sealer.is_some()
    }
}

/// Reads, checks and opens incoming packets.
#[derive(Debug, Default)]
pub struct PacketReader {
    seq: u32,
    opener: Option<Opener>,
    pending_len: Option<usize>,
    traffic: Traffic,
    compression: Compression<Inflater>,
    discard: Option<Discard>,
}

/// A CBC packet that failed (bad length or MAC) and is being read past before failing.
#[derive(Debug, Clone, Copy)]
struct Discard {
    /// Bytes still to consume.
    left: usize,
    /// The bad packet's sequence number.
    seq: u32,
    /// Bytes the MAC already covered.
    mac_done: usize,
}

impl PacketReader {
    /// Takes the next complete packet from `buf` and returns its payload, or `None` when more
    /// bytes are needed. The packet length is checked against the cap and the block size before
    /// anything is reserved, so a hostile length costs nothing.
    pub fn read(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        if self.discard.is_some() {
            return self.discard_more(buf);
        }
        let len = match self.pending_len {
            Some(len) => len,
            None => {
                let prefix = self.opener.as_ref().map_or(4, Opener::length_prefix_len);
                let Some(first) = buf.get_mut(..prefix) else {
                    return Ok(None);
                };
                let raw = match &mut self.opener {
                    Some(o) => o.decrypt_length(self.seq, first),
                    None => {
                        let mut first4 = [0u8; 4];
                        first4.copy_from_slice(first.get(..4).unwrap_or(&[0; 4]));
                        u32::from_be_bytes(first4)
                    }
                };
                let len = usize::try_from(raw).unwrap_or(usize::MAX);
                let (block, len_in_block) = framing(
                    self.opener.as_ref().map(Opener::alg),
                    self.opener.as_ref().and_then(Opener::mac),
                );
                let aligned = (len + if len_in_block { 4 } else { 0 }) % block == 0;
                if !(5..=MAX_PACKET_LEN).contains(&len) || !aligned {
                    if self.opener.as_ref().is_some_and(Opener::discards_on_error) {
                        buf.advance(prefix);
                        return self.start_discard(buf, prefix, 0);
                    }
                    return Err(InvalidMessage::BadPacketLength(raw).into());
                }
                self.pending_len = Some(len);
                len
            }
        };
        let tag_len = self.opener.as_ref().map_or(0, Opener::tag_len);
        let total = 4 + len + tag_len;
        if buf.len() < total {
            buf.reserve(total - buf.len());
            return Ok(None);
        }
        let mut packet = buf.split_to(total);
        if let Some(opener) = &mut self.opener {
            let (body, tag) = packet.split_at_mut(4 + len);
            if let Err(e) = opener.open(self.seq, body, tag) {
                if opener.discards_on_error() {
                    return self.start_discard(buf, total, 4 + len);
                }
                return Err(e.into());
            }
        }
        self.pending_len = None;
        let pad = usize::from(packet.get(4).copied().unwrap_or(0));
        if pad < 4 || pad + 1 >= len {
            return Err(if pad + 1 == len {
                InvalidMessage::EmptyPacket
            } else {
                InvalidMessage::BadPadding
            }
            .into());
        }
        let payload_len = len - pad - 1;
        self.seq = self.seq.wrapping_add(1);
        self.traffic.packets += 1;
        self.traffic.bytes += len as u64;
        let payload = packet.freeze().slice(5..5 + payload_len);
        match self.compression.codec() {
            Some(z) => z.inflate(&payload).map(Some),
            None => Ok(Some(payload)),
        }
    }

    /// Starts reading past a bad CBC packet of which `consumed` bytes are gone from `buf`.
    fn start_discard(
        &mut self,
        buf: &mut BytesMut,
        consumed: usize,
        mac_done: usize,
    ) -> Result<Option<Bytes>, Error> {
        let tag_len = self.opener.as_ref().map_or(0, Opener::tag_len);
        let span = MAX_PACKET_LEN + 4 + tag_len;
        self.pending_len = None;
        self.discard = Some(Discard {
            left: span.saturating_sub(consumed),
            seq: self.seq,
            mac_done,
        });
        self.discard_more(buf)
    }

    /// Consumes input of a packet being discarded; fails with `BadMac` once all is read.
    fn discard_more(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        let Some(d) = &mut self.discard else {
            return Ok(None);
        };
        let n = d.left.min(buf.len());
        buf.advance(n);
        d.left -= n;
        if d.left > 0 {
            return Ok(None);
        }
        let (seq, mac_done) = (d.seq, d.mac_done);
        if let Some(o) = &self.opener {
            o.burn_mac(seq, MAX_PACKET_LEN.saturating_sub(mac_done));
        }
        Err(CryptoError::BadMac.into())
    }

    /// Switches to new keys (after receiving NEWKEYS).
    pub fn set_opener(&mut self, opener: Opener) {
        self.opener = Some(opener);
        self.traffic = Traffic::default();
    }

    /// Sets the compression negotiated with the keys just installed (call right after
    /// [`set_opener`](Self::set_opener)).
    pub fn set_compression(&mut self, alg: CompressionAlg) {
        self.compression.new_keys(alg);
    }

    /// User authentication has succeeded: `zlib@openssh.com` starts with the next packet.
    pub fn compression_auth_done(&mut self) {
        self.compression.auth_done();
    }

    /// Whether incoming payloads are inflated now.
    pub fn is_decompressing(&self) -> bool {
        self.compression.is_active()
    }

    /// Whether the reader is reading past a bad CBC packet before failing.
    pub fn is_discarding(&self) -> bool {
        self.discard.is_some()
    }

    /// The sequence number of the next packet.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// Resets the sequence number to 0 (strict KEX, after NEWKEYS).
    pub fn reset_seq(&mut self) {
        self.seq = 0;
    }

    /// Traffic since the keys last changed.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }
}

#[cfg(test)]
mod tests;
