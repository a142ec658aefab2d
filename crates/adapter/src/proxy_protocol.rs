//! The HAProxy PROXY protocol (versions 1 and 2), receiving side, with no I/O: a load
//! balancer in front of the server prefixes each connection with a header naming the real
//! client, and [`parse`] reads it from the first bytes of the connection.
//!
//! Feed [`parse`] everything read so far; `Ok(None)` means "read more". It never needs more
//! than [`MAX_HEADER_LEN`] bytes, so a reader can use a fixed buffer of that size. Once it
//! returns `Ok(Some((header, consumed)))`, the bytes after `consumed` already belong to
//! SSH (a client may send its version line in the same segment) and must be handed to the
//! SSH core, not dropped, so reading more than the header is harmless.
//!
//! Anything that is not a valid header is an error, never a guess: an SSH version line
//! (`SSH-2.0-...`) is refused at its first byte. Only accept PROXY headers on a listener
//! that only a trusted proxy can reach, since the header decides the source address that
//! admission control and `from=` restrictions see.
//!
//! ```
//! use seashell_adapter::proxy_protocol::parse;
//! let input = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 22\r\nSSH-2.0-client\r\n";
//! let (header, consumed) = parse(input).unwrap().unwrap();
//! assert_eq!(header.source.unwrap().to_string(), "192.0.2.1:56324");
//! assert_eq!(&input[consumed..], b"SSH-2.0-client\r\n"); // to the SSH core
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The longest version 1 header, `\r\n` included (the specification's bound).
pub const V1_MAX_LEN: usize = 107;
/// The version 2 signature.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The fixed part of a version 2 header.
pub const V2_FIXED_LEN: usize = 16;
/// The most address-and-TLV bytes accepted after a version 2 fixed part. The largest
/// address block is 216 bytes (AF_UNIX); the TLVs the specification defines (ALPN,
/// authority of at most 255 bytes, CRC32c, unique ID of at most 128 bytes, SSL details,
/// network namespace) add a few hundred more, and cloud vendors' TLVs (AWS, Azure, GCP
/// link identifiers) tens of bytes. 2 KiB leaves room for all of them together and some
/// padding while bounding what one pending connection can make the server hold.
pub const V2_MAX_PAYLOAD: usize = 2048;
/// The most bytes [`parse`] ever needs: the longest accepted version 2 header.
pub const MAX_HEADER_LEN: usize = V2_FIXED_LEN + V2_MAX_PAYLOAD;

const V1_PREFIX: &[u8] = b"PROXY ";
const TLV_CRC32C: u8 = 0x03;

/// Which version of the protocol the header used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyVersion {
    /// The text form.
    V1,
    /// The binary form.
    V2,
}

/// A parsed PROXY header.
///
/// `source` and `destination` are `None` for a v1 `UNKNOWN`, a v2 `LOCAL` (the proxy's own
/// health check), and v2 families or transports other than TCP over IPv4/IPv6 (UNIX
/// sockets, datagrams, unspecified): the server then uses the socket's own peer and local
/// addresses, as the specification asks. A v2 `LOCAL` or unspecified-family header's whole
/// address-and-TLV block is discarded unread, as the specification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    /// v1 or v2.
    pub version: ProxyVersion,
    /// The real client, when the proxy relayed a TCP connection.
    pub source: Option<SocketAddr>,
    /// The address the client connected to, when the proxy relayed a TCP connection.
    pub destination: Option<SocketAddr>,
    /// v2's TLV bytes (already checked to be well formed; empty for v1).
    tlvs: Vec<u8>,
}

impl ProxyHeader {
    /// The v2 type-length-value extensions, in order: `(type, value)`.
    pub fn tlvs(&self) -> impl Iterator<Item = (u8, &[u8])> {
        TlvIter(&self.tlvs)
    }

    /// The address to account the connection to: the header's source if it has one,
    /// else `socket_peer`.
    pub fn peer_or(&self, socket_peer: SocketAddr) -> SocketAddr {
        self.source.unwrap_or(socket_peer)
    }
}

struct TlvIter<'a>(&'a [u8]);

impl<'a> Iterator for TlvIter<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, rest) = self.0.split_first()?;
        let len = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
        let value = rest.get(2..2 + len)?;
        self.0 = &rest[2 + len..];
        Some((kind, value))
    }
}

/// Why the bytes are not a valid PROXY header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyError {
    /// The connection starts with neither `PROXY ` nor the v2 signature.
    BadSignature,
    /// v1: no `\r\n` within 107 bytes; v2: a declared length over [`V2_MAX_PAYLOAD`].
    TooLong,
    /// v1: a character outside printable ASCII, or `\r` not followed by `\n`.
    BadCharacter,
    /// v1: the protocol is not `TCP4`, `TCP6` or `UNKNOWN`.
    BadProtocol,
    /// An address or port is malformed, of the wrong family, or missing.
    BadAddress,
    /// v2: the version nibble is not 2.
    BadVersion,
    /// v2: the command is neither LOCAL nor PROXY.
    BadCommand,
    /// v2: the family or transport nibble is undefined.
    BadFamily,
    /// v2: the length is too short for the family's address block.
    Truncated,
    /// v2: a TLV runs past the end of the header.
    BadTlv,
    /// v2: the CRC32c TLV does not match the header.
    ChecksumMismatch,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyError::BadSignature => "not a PROXY protocol header",
            ProxyError::TooLong => "PROXY header too long",
            ProxyError::BadCharacter => "PROXY v1 header has an invalid character",
            ProxyError::BadProtocol => "PROXY v1 header has an unknown protocol",
            ProxyError::BadAddress => "PROXY header has a malformed address",
            ProxyError::BadVersion => "PROXY v2 header has an unknown version",
            ProxyError::BadCommand => "PROXY v2 header has an unknown command",
            ProxyError::BadFamily => "PROXY v2 header has an unknown address family",
            ProxyError::Truncated => "PROXY v2 header is too short for its address family",
            ProxyError::BadTlv => "PROXY v2 header has a malformed TLV",
            ProxyError::ChecksumMismatch => "PROXY v2 header fails its CRC32c check",
        })
    }
}

impl std::error::Error for ProxyError {}

/// Parses a PROXY header (v1 or v2) at the start of `buf`: `Ok(None)` when `buf` is a valid
/// beginning that needs more bytes, `Ok(Some((header, consumed)))` once complete (the rest
/// of `buf` is SSH's), or an error as soon as the bytes cannot be a header.
pub fn parse(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first == b'P' {
        let n = buf.len().min(V1_PREFIX.len());
        if buf[..n] != V1_PREFIX[..n] {
            return Err(ProxyError::BadSignature);
        }
        parse_v1(buf)
    } else if first == b'\r' {
        let n = buf.len().min(V2_SIGNATURE.len());
        if buf[..n] != V2_SIGNATURE[..n] {
            return Err(ProxyError::BadSignature);
        }
        parse_v2(buf)
    } else {
        Err(ProxyError::BadSignature)
    }
}

fn parse_v1(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let window = &buf[..buf.len().min(V1_MAX_LEN)];
    let mut end = None;
    for (i, &b) in window.iter().enumerate() {
        match b {
            b'\r' => match window.get(i + 1) {
                Some(b'\n') => {
                    end = Some(i);
                    break;
                }
                Some(_) => return Err(ProxyError::BadCharacter),
                None => {}
            },
            0x20..=0x7e => {}
            _ => return Err(ProxyError::BadCharacter),
        }
    }
    let Some(end) = end else {
        return if buf.len() >= V1_MAX_LEN {
            Err(ProxyError::TooLong)
        } else {
            Ok(None)
        };
    };
    // Characters are printable ASCII, so this is valid UTF-8.
    let line =
        std::str::from_utf8(&window[V1_PREFIX.len()..end]).map_err(|_| ProxyError::BadCharacter)?;
    let header = |source, destination| ProxyHeader {
        version: ProxyVersion::V1,
        source,
        destination,
        tlvs: Vec::new(),
    };
    let consumed = end + 2;
    if line == "UNKNOWN" || line.starts_with("UNKNOWN ") {
        // The specification: ignore whatever follows UNKNOWN up to the CRLF.
        return Ok(Some((header(None, None), consumed)));
    }
    let fields: Vec<&str> = line.split(' ').collect();
    let [proto, src, dst, sport, dport] = fields.as_slice() else {
        return Err(if matches!(fields.first(), Some(&"TCP4" | &"TCP6")) {
            ProxyError::BadAddress
        } else {
            ProxyError::BadProtocol
        });
    };
    let (src, dst): (IpAddr, IpAddr) = match *proto {
        "TCP4" => (
            IpAddr::V4(
                src.parse::<Ipv4Addr>()
                    .map_err(|_| ProxyError::BadAddress)?,
            ),
            IpAddr::V4(
                dst.parse::<Ipv4Addr>()
                    .map_err(|_| ProxyError::BadAddress)?,
            ),
        ),
        "TCP6" => (
            IpAddr::V6(
                src.parse::<Ipv6Addr>()
                    .map_err(|_| ProxyError::BadAddress)?,
            ),
            IpAddr::V6(
                dst.parse::<Ipv6Addr>()
                    .map_err(|_| ProxyError::BadAddress)?,
            ),
        ),
        _ => return Err(ProxyError::BadProtocol),
    };
    let sport = parse_port(sport)?;
    let dport = parse_port(dport)?;
    Ok(Some((
        header(
            Some(SocketAddr::new(src, sport)),
            Some(SocketAddr::new(dst, dport)),
        ),
        consumed,
    )))
}

/// A decimal port, 0..=65535, without sign or leading zeros.
fn parse_port(s: &str) -> Result<u16, ProxyError> {
    let ok = !s.is_empty()
        && s.len() <= 5
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if !ok {
        return Err(ProxyError::BadAddress);
    }
    s.parse().map_err(|_| ProxyError::BadAddress)
}

fn parse_v2(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    // Check each fixed byte as soon as it arrives.
    if let Some(&ver_cmd) = buf.get(12) {
        if ver_cmd >> 4 != 2 {
            return Err(ProxyError::BadVersion);
        }
        if ver_cmd & 0x0f > 1 {
            return Err(ProxyError::BadCommand);
        }
    }
    if let Some(&fam) = buf.get(13)
        && (fam >> 4 > 3 || fam & 0x0f > 2)
    {
        return Err(ProxyError::BadFamily);
    }
    if buf.len() < V2_FIXED_LEN {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if len > V2_MAX_PAYLOAD {
        return Err(ProxyError::TooLong);
    }
    let total = V2_FIXED_LEN + len;
    let Some(payload) = buf.get(V2_FIXED_LEN..total) else {
        return Ok(None);
    };
    let local = buf[12] & 0x0f == 0;
    let (family, transport) = (buf[13] >> 4, buf[13] & 0x0f);
    let addr_len = match family {
        1 => 12,
        2 => 36,
        3 => 216,
        _ => 0,
    };
    if local || family == 0 {
        // LOCAL (the proxy's own connection) or an unspecified family: the specification
        // says to discard the whole block and use the socket's endpoints.
        let header = ProxyHeader {
            version: ProxyVersion::V2,
            source: None,
            destination: None,
            tlvs: Vec::new(),
        };
        return Ok(Some((header, total)));
    }
    if payload.len() < addr_len {
        return Err(ProxyError::Truncated);
    }
    let (addrs, tlvs) = payload.split_at(addr_len);
    check_tlvs(tlvs)?;
    if let Some(expected) = TlvIter(tlvs)
        .find(|(t, _)| *t == TLV_CRC32C)
        .map(|(_, v)| v)
    {
        check_crc(&buf[..total], V2_FIXED_LEN + addr_len, expected)?;
    }
    let (source, destination) = if transport != 1 {
        (None, None)
    } else {
        match family {
            1 => {
                let ip = |o: usize| {
                    IpAddr::V4(Ipv4Addr::new(
                        addrs[o],
                        addrs[o + 1],
                        addrs[o + 2],
                        addrs[o + 3],
                    ))
                };
                let port = |o: usize| u16::from_be_bytes([addrs[o], addrs[o + 1]]);
                (
                    Some(SocketAddr::new(ip(0), port(8))),
                    Some(SocketAddr::new(ip(4), port(10))),
                )
            }
            2 => {
                let ip = |o: usize| {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(&addrs[o..o + 16]);
                    IpAddr::V6(Ipv6Addr::from(b))
                };
                let port = |o: usize| u16::from_be_bytes([addrs[o], addrs[o + 1]]);
                (
                    Some(SocketAddr::new(ip(0), port(32))),
                    Some(SocketAddr::new(ip(16), port(34))),
                )
            }
            _ => (None, None),
        }
    };
    Ok(Some((
        ProxyHeader {
            version: ProxyVersion::V2,
            source,
            destination,
            tlvs: tlvs.to_vec(),
        },
        total,
    )))
}

fn check_tlvs(mut tlvs: &[u8]) -> Result<(), ProxyError> {
    while !tlvs.is_empty() {
        if tlvs.len() < 3 {
            return Err(ProxyError::BadTlv);
        }
        let len = usize::from(u16::from_be_bytes([tlvs[1], tlvs[2]]));
        tlvs = tlvs.get(3 + len..).ok_or(ProxyError::BadTlv)?;
    }
    Ok(())
}

/// The CRC32c TLV holds the checksum of the whole header with its own value zeroed.
/// `tlv_start` is where the TLVs begin in `header`.
fn check_crc(header: &[u8], tlv_start: usize, expected: &[u8]) -> Result<(), ProxyError> {
    let expected: [u8; 4] = expected.try_into().map_err(|_| ProxyError::BadTlv)?;
    let mut crc = Crc32c::new();
    crc.update(&header[..tlv_start]);
    let mut zeroed = false;
    for (kind, value) in TlvIter(&header[tlv_start..]) {
        crc.update(&[kind]);
        crc.update(&(value.len() as u16).to_be_bytes());
        if kind == TLV_CRC32C && !zeroed {
            crc.update(&[0; 4]);
            zeroed = true;
        } else {
            crc.update(value);
        }
    }
    if crc.finish().to_be_bytes() == expected {
        Ok(())
    } else {
        Err(ProxyError::ChecksumMismatch)
    }
}

/// CRC-32C (Castagnoli), bitwise; headers are small.
struct Crc32c(u32);

impl Crc32c {
    fn new() -> Self {
        Crc32c(!0)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u32::from(b);
            for _ in 0..8 {
                let mask = (self.0 & 1).wrapping_neg();
                self.0 = (self.0 >> 1) ^ (0x82F6_3B78 & mask);
            }
        }
    }

    fn finish(&self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests;
