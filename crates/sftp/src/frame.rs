//! Framing: `uint32 length` followed by that many payload bytes, reassembled from chunks.

use std::fmt;

use crate::wire::EncodeError;

/// OpenSSH's `SFTP_MAX_MSG_LENGTH`: the largest payload accepted by default (256 KiB, which
/// leaves headroom over the 255 KiB of data OpenSSH reads or writes per request).
pub const DEFAULT_MAX_PACKET: u32 = 256 * 1024;

/// Why the byte stream cannot be framed; the framer stays failed afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The length field exceeds the configured maximum (checked before any buffering).
    TooLarge {
        /// The length announced.
        length: u32,
        /// The maximum allowed.
        max: u32,
    },
    /// A zero length: every packet has at least its type byte.
    Empty,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { length, max } => {
                write!(f, "packet length {length} exceeds the maximum {max}")
            }
            Self::Empty => f.write_str("zero-length packet"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Reassembles packets from a byte stream, one at a time; at most one packet (bounded by the
/// maximum) is buffered.
#[derive(Debug)]
pub struct Framer {
    max: u32,
    header: [u8; 4],
    header_len: usize,
    body: Vec<u8>,
    want: usize,
    failed: Option<FrameError>,
}

impl Default for Framer {
    fn default() -> Self {
        Self::new()
    }
}

impl Framer {
    /// A framer with [`DEFAULT_MAX_PACKET`].
    pub fn new() -> Self {
        Self::with_max_packet(DEFAULT_MAX_PACKET)
    }

    /// A framer refusing payloads longer than `max` bytes.
    pub fn with_max_packet(max: u32) -> Self {
        Self {
            max,
            header: [0; 4],
            header_len: 0,
            body: Vec::new(),
            want: 0,
            failed: None,
        }
    }

    /// The maximum payload length.
    pub fn max_packet(&self) -> u32 {
        self.max
    }

    /// Offers an empty-able buffer for the next packet's body, so that its capacity is
    /// reused instead of allocating; returned when the framer already has one (the
    /// middle of a packet, or a buffer offered before).
    pub fn offer_buffer(&mut self, mut buf: Vec<u8>) -> Option<Vec<u8>> {
        if self.body.capacity() != 0 || self.header_len != 0 {
            return Some(buf);
        }
        buf.clear();
        self.body = buf;
        None
    }

    /// Consumes bytes from the front of `input` up to the end of the next packet and returns
    /// its payload (type byte onward) once whole; `Ok(None)` means `input` was used up.
    /// Call again with the rest of `input` until it is empty.
    pub fn feed(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, FrameError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        while self.header_len < 4 {
            let Some((&b, rest)) = input.split_first() else {
                return Ok(None);
            };
            if let Some(slot) = self.header.get_mut(self.header_len) {
                *slot = b;
            }
            self.header_len += 1;
            *input = rest;
            if self.header_len == 4 {
                let length = u32::from_be_bytes(self.header);
                let err = if length == 0 {
                    Some(FrameError::Empty)
                } else if length > self.max {
                    Some(FrameError::TooLarge {
                        length,
                        max: self.max,
                    })
                } else {
                    None
                };
                if let Some(e) = err {
                    self.failed = Some(e);
                    return Err(e);
                }
                self.want = usize::try_from(length).unwrap_or(usize::MAX);
                // Bounded by `max` above; one allocation per packet, not one per chunk.
                self.body.reserve_exact(self.want);
            }
        }
        let need = self.want.saturating_sub(self.body.len());
        let n = need.min(input.len());
        let (take, rest) = input.split_at(n);
        self.body.extend_from_slice(take);
        *input = rest;
        if self.body.len() < self.want {
            return Ok(None);
        }
        self.header_len = 0;
        Ok(Some(std::mem::take(&mut self.body)))
    }
}

/// Prefixes a payload with its `uint32` length, as it goes on the wire.
pub fn frame(payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let len = u32::try_from(payload.len()).map_err(|_| EncodeError::TooLong)?;
    let mut out = Vec::with_capacity(payload.len().saturating_add(4));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}
