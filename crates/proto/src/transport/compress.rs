//! Payload compression (RFC 4253 §6.2): `zlib`, enabled with the keys right after NEWKEYS, and
//! OpenSSH's `zlib@openssh.com`, enabled only once user authentication has succeeded (the
//! server after it sends USERAUTH_SUCCESS, the client after it receives it, each direction on
//! its own, as OpenSSH's PROTOCOL file and `packet.c` do).
//!
//! Each direction has one zlib stream (level 6, as OpenSSH), kept from packet to packet: every
//! outgoing payload ends with a partial flush, every incoming one is inflated with a sync
//! flush. Like OpenSSH, every NEWKEYS that switches compression on starts a fresh stream, so
//! a rekey resets both ends in step whether or not the method changes.
//!
//! Inflating is bounded: one packet never expands past [`MAX_PACKET_LEN`], output is produced
//! into a buffer that never grows beyond that cap (plus one byte to notice the overflow), and
//! input that makes no progress is refused rather than looped on.

use super::MAX_PACKET_LEN;
use crate::error::{ApiMisuse, Error, InvalidMessage};
use bytes::Bytes;
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};

/// A negotiated compression method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CompressionAlg {
    /// `none`.
    #[default]
    None,
    /// `zlib@openssh.com`: zlib once user authentication has succeeded.
    ZlibOpenSsh,
    /// `zlib` (RFC 4253): zlib from the first NEWKEYS on.
    Zlib,
}

impl CompressionAlg {
    /// Every supported method.
    pub const ALL: [CompressionAlg; 3] = [
        CompressionAlg::None,
        CompressionAlg::ZlibOpenSsh,
        CompressionAlg::Zlib,
    ];

    /// The default offer of both roles: `none` first, `zlib@openssh.com` for peers that
    /// prefer it (OpenSSH's client without `-C`, and sshd's `Compression yes`).
    pub const DEFAULTS: [CompressionAlg; 2] = [CompressionAlg::None, CompressionAlg::ZlibOpenSsh];

    /// What a client asking for compression offers (OpenSSH's `ssh -C`).
    pub const PREFERRED: [CompressionAlg; 3] = [
        CompressionAlg::ZlibOpenSsh,
        CompressionAlg::Zlib,
        CompressionAlg::None,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            CompressionAlg::None => "none",
            CompressionAlg::ZlibOpenSsh => "zlib@openssh.com",
            CompressionAlg::Zlib => "zlib",
        }
    }

    /// Looks a method up by its wire name.
    pub fn from_name(name: &str) -> Option<CompressionAlg> {
        CompressionAlg::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// zlib level, as OpenSSH's `start_compression_out(ssh, 6)`.
const LEVEL: u32 = 6;
/// Smallest step by which an output buffer grows.
const STEP: usize = 4096;

/// A direction's zlib stream: deflating for the writer, inflating for the reader.
pub trait Codec: Sized {
    /// A fresh stream.
    fn start() -> Self;
}

/// The compressing end of a direction.
pub struct Deflater {
    z: Compress,
    /// The uncompressed payload, while its compressed form is written in its place.
    scratch: Vec<u8>,
}

impl Codec for Deflater {
    fn start() -> Self {
        Deflater {
            z: Compress::new(flate2::Compression::new(LEVEL), true),
            scratch: Vec::new(),
        }
    }
}

fn internal(_: impl core::fmt::Debug) -> Error {
    ApiMisuse::WrongState("zlib compression failed").into()
}

impl Deflater {
    /// Replaces `out[from..]` (one payload) by its compressed form, ending with a partial
    /// flush so the peer can inflate all of it from this packet alone.
    pub fn compress_tail(&mut self, out: &mut Vec<u8>, from: usize) -> Result<(), Error> {
        self.scratch.clear();
        self.scratch
            .extend_from_slice(out.get(from..).unwrap_or_default());
        out.truncate(from);
        let input = self.scratch.as_slice();
        // Deflate never expands by more than a few bytes per 16 KiB stored block; anything
        // beyond this bound is a bug, not a reason to loop on.
        let limit = input.len().saturating_mul(2).saturating_add(STEP);
        let mut pos = 0usize;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve((input.len() - pos) / 2 + STEP);
            }
            let before = self.z.total_in();
            let rest = input.get(pos..).unwrap_or_default();
            self.z
                .compress_vec(rest, out, FlushCompress::Partial)
                .map_err(internal)?;
            let used = usize::try_from(self.z.total_in() - before).map_err(internal)?;
            pos = pos.saturating_add(used);
            // Done once all input is in and the flush did not fill the buffer.
            if pos >= input.len() && out.len() < out.capacity() {
                return Ok(());
            }
            if out.len().saturating_sub(from) > limit {
                return Err(internal("deflate output runaway"));
            }
        }
    }
}

/// The decompressing end of a direction.
pub struct Inflater {
    z: Decompress,
}

impl Codec for Inflater {
    fn start() -> Self {
        Inflater {
            z: Decompress::new(true),
        }
    }
}

impl Inflater {
    /// Inflates one packet's payload. Fails with [`InvalidMessage::DecompressedTooLarge`] as
    /// soon as the output passes [`MAX_PACKET_LEN`] (never holding more than that plus one
    /// byte), with [`InvalidMessage::BadCompressedData`] on corrupt input, input that makes no
    /// progress or a stream that ends, and with [`InvalidMessage::EmptyPacket`] when the
    /// payload inflates to nothing.
    pub fn inflate(&mut self, input: &[u8]) -> Result<Bytes, Error> {
        self.inflate_capped(input, MAX_PACKET_LEN)
    }

    fn inflate_capped(&mut self, input: &[u8], cap: usize) -> Result<Bytes, Error> {
        let bad = || Error::from(InvalidMessage::BadCompressedData);
        let hard = cap.saturating_add(1);
        let first = input.len().saturating_mul(4).max(STEP);
        let mut out: Vec<u8> = Vec::with_capacity(first.min(hard));
        let mut pos = 0usize;
        loop {
            if out.len() == out.capacity() {
                let grow = out.len().max(STEP).min(hard - out.len());
                out.reserve_exact(grow);
            }
            let (in0, out0) = (self.z.total_in(), self.z.total_out());
            let rest = input.get(pos..).unwrap_or_default();
            let status = self
                .z
                .decompress_vec(rest, &mut out, FlushDecompress::Sync)
                .map_err(|_| bad())?;
            let used = usize::try_from(self.z.total_in() - in0).map_err(|_| bad())?;
            let made = self.z.total_out() - out0;
            pos = pos.saturating_add(used);
            if out.len() > cap {
                return Err(InvalidMessage::DecompressedTooLarge.into());
            }
            if status == Status::StreamEnd {
                // OpenSSH treats a finished stream as an error: no later packet could follow.
                return Err(bad());
            }
            // Like OpenSSH, call until a call makes no progress: an inflater may hold output
            // back after taking the last input byte (miniz_oxide does). Every other round
            // consumes input or produces output, both bounded, so this ends.
            if used == 0 && made == 0 && out.len() < out.capacity() {
                if pos < input.len() {
                    return Err(bad());
                }
                break;
            }
        }
        if out.is_empty() {
            return Err(InvalidMessage::EmptyPacket.into());
        }
        Ok(Bytes::from(out))
    }
}

/// One direction's compression across key changes.
pub struct Compression<C> {
    alg: CompressionAlg,
    after_auth: bool,
    codec: Option<C>,
}

impl<C> Default for Compression<C> {
    fn default() -> Self {
        Compression {
            alg: CompressionAlg::None,
            after_auth: false,
            codec: None,
        }
    }
}

impl<C> core::fmt::Debug for Compression<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Compression")
            .field("alg", &self.alg)
            .field("after_auth", &self.after_auth)
            .field("active", &self.codec.is_some())
            .finish()
    }
}

impl<C: Codec> Compression<C> {
    /// New keys take effect with method `alg`: a fresh stream if it compresses now (`zlib`,
    /// or `zlib@openssh.com` after authentication), none otherwise.
    pub fn new_keys(&mut self, alg: CompressionAlg) {
        self.alg = alg;
        let on = match alg {
            CompressionAlg::None => false,
            CompressionAlg::Zlib => true,
            CompressionAlg::ZlibOpenSsh => self.after_auth,
        };
        self.codec = on.then(C::start);
    }

    /// User authentication has succeeded: delayed compression starts now, and with every
    /// later key change that keeps it.
    pub fn auth_done(&mut self) {
        self.after_auth = true;
        if self.alg == CompressionAlg::ZlibOpenSsh && self.codec.is_none() {
            self.codec = Some(C::start());
        }
    }

    /// Whether payloads are compressed now.
    pub fn is_active(&self) -> bool {
        self.codec.is_some()
    }

    /// The stream, while compression is active.
    pub fn codec(&mut self) -> Option<&mut C> {
        self.codec.as_mut()
    }
}

#[cfg(test)]
mod tests;
