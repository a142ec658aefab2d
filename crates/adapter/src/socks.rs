//! The server side of SOCKS4, SOCKS4a and SOCKS5 for dynamic forwarding (`ssh -D`), with
//! no I/O: bytes from the SOCKS client go in (in pieces of any size), the bytes to send back
//! and the requested target come out.
//!
//! Only what a dynamic forward needs is spoken: the `CONNECT` command; for SOCKS5 only "no
//! authentication" (method `0x00`), with IPv4, IPv6 and domain-name targets; for SOCKS4 an
//! IPv4 address or (SOCKS4a) a domain name. The codec never holds more than the largest
//! valid request ([`SOCKS_MAX_REQUEST`] bytes); anything malformed or too long is a
//! [`SocksError`], which carries the reply the protocol defines for it (if any) to send
//! before closing.
//!
//! ```
//! use seashell_adapter::{SocksFailure, SocksServer, SocksTarget};
//! let mut socks = SocksServer::new();
//! // A SOCKS5 greeting and a CONNECT to example.com:443, sent together.
//! let mut input = vec![5, 1, 0, 5, 1, 0, 3, 11];
//! input.extend_from_slice(b"example.com");
//! input.extend_from_slice(&443u16.to_be_bytes());
//! let progress = socks.feed(&input).unwrap();
//! assert_eq!(progress.consumed, input.len());
//! assert_eq!(progress.send, [5, 0]); // "no authentication" chosen
//! let request = progress.request.unwrap();
//! assert_eq!(request.target, SocksTarget::Domain("example.com".into()));
//! assert_eq!(request.port, 443);
//! // Connect, then answer:
//! assert_eq!(request.reply_success(), [5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
//! assert_eq!(request.reply_failure(SocksFailure::ConnectionRefused)[1], 5);
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The longest SOCKS4 user id accepted (it is not used), without its terminating NUL.
pub const SOCKS4_MAX_USER: usize = 255;
/// The longest domain name (SOCKS5's length byte; the same bound for SOCKS4a).
pub const SOCKS_MAX_DOMAIN: usize = 255;
/// The most bytes one message can take: a SOCKS4a request with the longest user id and
/// domain (8 + 256 + 256). SOCKS5's greeting (257) and request (262) are shorter.
pub const SOCKS_MAX_REQUEST: usize = 8 + (SOCKS4_MAX_USER + 1) + (SOCKS_MAX_DOMAIN + 1);

/// The SOCKS version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocksVersion {
    /// SOCKS4 (IPv4 address).
    V4,
    /// SOCKS4a (domain name).
    V4a,
    /// SOCKS5.
    V5,
}

/// Where the client wants to go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SocksTarget {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (SOCKS5).
    Ipv6(Ipv6Addr),
    /// A host name, resolved by whoever connects (the SSH server for `-D`).
    Domain(String),
}

impl fmt::Display for SocksTarget {
    /// The host as `direct-tcpip` wants it: the address or the name (IPv6 without brackets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocksTarget::Ipv4(a) => a.fmt(f),
            SocksTarget::Ipv6(a) => a.fmt(f),
            SocksTarget::Domain(d) => f.write_str(d),
        }
    }
}

/// A complete `CONNECT` request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SocksRequest {
    /// The protocol it came in.
    pub version: SocksVersion,
    /// The host.
    pub target: SocksTarget,
    /// The port.
    pub port: u16,
}

/// Why a connection could not be made, for the failure reply (SOCKS4 has one code for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocksFailure {
    /// General failure (SOCKS5 `0x01`).
    General,
    /// Not allowed by the rules (`0x02`), e.g. the server refused the channel.
    NotAllowed,
    /// Network unreachable (`0x03`).
    NetworkUnreachable,
    /// Host unreachable (`0x04`).
    HostUnreachable,
    /// Connection refused (`0x05`).
    ConnectionRefused,
    /// TTL expired / timed out (`0x06`).
    TtlExpired,
}

impl SocksFailure {
    fn code(self) -> u8 {
        match self {
            SocksFailure::General => 1,
            SocksFailure::NotAllowed => 2,
            SocksFailure::NetworkUnreachable => 3,
            SocksFailure::HostUnreachable => 4,
            SocksFailure::ConnectionRefused => 5,
            SocksFailure::TtlExpired => 6,
        }
    }
}

/// SOCKS4 "request granted" / "rejected or failed".
const SOCKS4_GRANTED: u8 = 90;
const SOCKS4_REJECTED: u8 = 91;
/// SOCKS5 "command not supported" / "address type not supported".
const SOCKS5_BAD_COMMAND: u8 = 7;
const SOCKS5_BAD_ADDRESS_TYPE: u8 = 8;

fn socks4_reply(code: u8) -> Vec<u8> {
    vec![0, code, 0, 0, 0, 0, 0, 0]
}

fn socks5_reply(code: u8) -> Vec<u8> {
    // Bound address 0.0.0.0:0, as OpenSSH answers: the client has no use for it.
    vec![5, code, 0, 1, 0, 0, 0, 0, 0, 0]
}

impl SocksRequest {
    /// The reply that tells the client the connection is made; data flows after it.
    pub fn reply_success(&self) -> Vec<u8> {
        match self.version {
            SocksVersion::V4 | SocksVersion::V4a => socks4_reply(SOCKS4_GRANTED),
            SocksVersion::V5 => socks5_reply(0),
        }
    }

    /// The reply that tells the client the connection failed; close after sending it.
    pub fn reply_failure(&self, why: SocksFailure) -> Vec<u8> {
        match self.version {
            SocksVersion::V4 | SocksVersion::V4a => socks4_reply(SOCKS4_REJECTED),
            SocksVersion::V5 => socks5_reply(why.code()),
        }
    }
}

/// What was wrong with the client's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocksErrorKind {
    /// The first byte is neither 4 nor 5.
    UnknownVersion(u8),
    /// A SOCKS5 request whose version byte is not 5.
    BadRequestVersion(u8),
    /// A SOCKS5 client that does not offer "no authentication".
    NoAcceptableMethod,
    /// A command other than `CONNECT` (BIND, UDP ASSOCIATE, ...).
    UnsupportedCommand(u8),
    /// A SOCKS5 address type other than IPv4, domain name and IPv6.
    UnsupportedAddressType(u8),
    /// An empty domain name.
    EmptyDomain,
    /// A domain name that is not UTF-8 or contains a NUL.
    BadDomain,
    /// A SOCKS4 user id or SOCKS4a domain longer than the limits.
    TooLong,
}

/// A malformed, unsupported or oversized request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SocksError {
    kind: SocksErrorKind,
    reply: Vec<u8>,
}

impl SocksError {
    fn new(kind: SocksErrorKind, reply: Vec<u8>) -> SocksError {
        SocksError { kind, reply }
    }

    /// What was wrong.
    pub fn kind(&self) -> SocksErrorKind {
        self.kind
    }

    /// The bytes the protocol says to send before closing (empty: just close).
    pub fn reply(&self) -> &[u8] {
        &self.reply
    }
}

impl fmt::Display for SocksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SocksErrorKind::UnknownVersion(v) => write!(f, "unknown SOCKS version {v}"),
            SocksErrorKind::BadRequestVersion(v) => {
                write!(f, "SOCKS5 request with version {v}")
            }
            SocksErrorKind::NoAcceptableMethod => {
                f.write_str("SOCKS5 client offers no supported authentication method")
            }
            SocksErrorKind::UnsupportedCommand(c) => write!(f, "unsupported SOCKS command {c}"),
            SocksErrorKind::UnsupportedAddressType(t) => {
                write!(f, "unsupported SOCKS5 address type {t}")
            }
            SocksErrorKind::EmptyDomain => f.write_str("empty SOCKS domain name"),
            SocksErrorKind::BadDomain => f.write_str("malformed SOCKS domain name"),
            SocksErrorKind::TooLong => f.write_str("SOCKS request too long"),
        }
    }
}

impl std::error::Error for SocksError {}

/// What one [`SocksServer::feed`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocksProgress {
    /// How many input bytes were used. Less than given only when the request completed:
    /// the rest is the client's first data for the target.
    pub consumed: usize,
    /// Bytes to send to the client now (SOCKS5's method choice).
    pub send: Vec<u8>,
    /// The complete request: connect, then send its reply.
    pub request: Option<SocksRequest>,
}

/// Where the exchange is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Before the first byte, or inside a SOCKS4/4a request or a SOCKS5 greeting.
    First,
    /// Inside a SOCKS5 request (the greeting was answered).
    Socks5Request,
    /// The request was delivered.
    Done,
    /// This error was reported.
    Failed(SocksError),
}

/// One parse attempt over the buffered message.
enum Parsed {
    /// More bytes needed.
    Incomplete,
    /// The greeting was complete at this length: send the method choice.
    Greeting(usize),
    /// The request was complete at this length.
    Request(usize, SocksRequest),
}

/// The server side of one SOCKS exchange.
#[derive(Debug, Clone)]
pub struct SocksServer {
    state: State,
    buf: Vec<u8>,
}

impl Default for SocksServer {
    fn default() -> Self {
        SocksServer::new()
    }
}

impl SocksServer {
    /// A new exchange, waiting for the client's first byte.
    pub fn new() -> SocksServer {
        SocksServer {
            state: State::First,
            buf: Vec::new(),
        }
    }

    /// Whether the request was delivered (later bytes are the client's data).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Takes the next bytes from the client. After the request is complete, the bytes that
    /// follow it are not consumed (they are the client's data for the target), nor are any
    /// given in later calls. An error is final; feeding after it repeats it.
    pub fn feed(&mut self, input: &[u8]) -> Result<SocksProgress, SocksError> {
        let mut progress = SocksProgress::default();
        loop {
            match &self.state {
                State::Done => return Ok(progress),
                State::Failed(e) => return Err(e.clone()),
                State::First | State::Socks5Request => {}
            }
            let rest = input.get(progress.consumed..).unwrap_or_default();
            let before = self.buf.len();
            let room = SOCKS_MAX_REQUEST.saturating_sub(before);
            self.buf
                .extend_from_slice(rest.get(..room.min(rest.len())).unwrap_or_default());
            let parsed = match self.parse() {
                Ok(Parsed::Incomplete) if self.buf.len() >= SOCKS_MAX_REQUEST => {
                    Err(SocksError::new(SocksErrorKind::TooLong, Vec::new()))
                }
                other => other,
            };
            let parsed = match parsed {
                Ok(p) => p,
                Err(e) => {
                    self.state = State::Failed(e.clone());
                    self.buf = Vec::new();
                    return Err(e);
                }
            };
            match parsed {
                Parsed::Incomplete => {
                    progress.consumed = input.len();
                    return Ok(progress);
                }
                Parsed::Greeting(len) => {
                    progress.consumed += len - before;
                    progress.send.extend_from_slice(&[5, 0]);
                    self.buf.clear();
                    self.state = State::Socks5Request;
                }
                Parsed::Request(len, request) => {
                    progress.consumed += len - before;
                    progress.request = Some(request);
                    self.buf = Vec::new();
                    self.state = State::Done;
                }
            }
        }
    }

    /// Parses the buffered message.
    fn parse(&self) -> Result<Parsed, SocksError> {
        let b = self.buf.as_slice();
        if self.state == State::Socks5Request {
            return parse_socks5_request(b);
        }
        match b.first() {
            None => Ok(Parsed::Incomplete),
            Some(4) => parse_socks4(b),
            Some(5) => parse_socks5_greeting(b),
            Some(&v) => Err(SocksError::new(
                SocksErrorKind::UnknownVersion(v),
                Vec::new(),
            )),
        }
    }
}

/// The index of the NUL ending a string that starts at `from`, within `max` bytes.
fn nul_within(b: &[u8], from: usize, max: usize) -> Result<Option<usize>, SocksError> {
    let field = b.get(from..).unwrap_or_default();
    match field.iter().position(|&c| c == 0) {
        Some(i) if i <= max => Ok(Some(from + i)),
        Some(_) => Err(SocksError::new(
            SocksErrorKind::TooLong,
            socks4_reply(SOCKS4_REJECTED),
        )),
        None if field.len() > max => Err(SocksError::new(
            SocksErrorKind::TooLong,
            socks4_reply(SOCKS4_REJECTED),
        )),
        None => Ok(None),
    }
}

/// `VN CD DSTPORT(2) DSTIP(4) USERID NUL [DOMAIN NUL]`.
fn parse_socks4(b: &[u8]) -> Result<Parsed, SocksError> {
    let Some(header) = b.get(..8) else {
        return Ok(Parsed::Incomplete);
    };
    let cd = header[1];
    if cd != 1 {
        return Err(SocksError::new(
            SocksErrorKind::UnsupportedCommand(cd),
            socks4_reply(SOCKS4_REJECTED),
        ));
    }
    let port = u16::from_be_bytes([header[2], header[3]]);
    let ip = Ipv4Addr::new(header[4], header[5], header[6], header[7]);
    let Some(user_end) = nul_within(b, 8, SOCKS4_MAX_USER)? else {
        return Ok(Parsed::Incomplete);
    };
    // SOCKS4a: 0.0.0.x with x != 0 means "a domain name follows".
    let [a, b1, c, d] = ip.octets();
    if a != 0 || b1 != 0 || c != 0 || d == 0 {
        let request = SocksRequest {
            version: SocksVersion::V4,
            target: SocksTarget::Ipv4(ip),
            port,
        };
        return Ok(Parsed::Request(user_end + 1, request));
    }
    let Some(domain_end) = nul_within(b, user_end + 1, SOCKS_MAX_DOMAIN)? else {
        return Ok(Parsed::Incomplete);
    };
    let name = b.get(user_end + 1..domain_end).unwrap_or_default();
    let target = domain(name, socks4_reply(SOCKS4_REJECTED))?;
    let request = SocksRequest {
        version: SocksVersion::V4a,
        target,
        port,
    };
    Ok(Parsed::Request(domain_end + 1, request))
}

/// A domain name from its bytes: non-empty UTF-8 without NUL.
fn domain(name: &[u8], reply: Vec<u8>) -> Result<SocksTarget, SocksError> {
    if name.is_empty() {
        return Err(SocksError::new(SocksErrorKind::EmptyDomain, reply));
    }
    match std::str::from_utf8(name) {
        Ok(s) if !s.contains('\0') => Ok(SocksTarget::Domain(s.to_owned())),
        _ => Err(SocksError::new(SocksErrorKind::BadDomain, reply)),
    }
}

/// `VER NMETHODS METHODS...`.
fn parse_socks5_greeting(b: &[u8]) -> Result<Parsed, SocksError> {
    let Some(&n) = b.get(1) else {
        return Ok(Parsed::Incomplete);
    };
    let end = 2 + usize::from(n);
    let Some(methods) = b.get(2..end) else {
        return Ok(Parsed::Incomplete);
    };
    if !methods.contains(&0) {
        return Err(SocksError::new(
            SocksErrorKind::NoAcceptableMethod,
            vec![5, 0xff],
        ));
    }
    Ok(Parsed::Greeting(end))
}

/// `VER CMD RSV ATYP DST.ADDR DST.PORT(2)`.
fn parse_socks5_request(b: &[u8]) -> Result<Parsed, SocksError> {
    let Some(header) = b.get(..4) else {
        return Ok(Parsed::Incomplete);
    };
    let (ver, cmd, atyp) = (header[0], header[1], header[3]);
    if ver != 5 {
        return Err(SocksError::new(
            SocksErrorKind::BadRequestVersion(ver),
            socks5_reply(1),
        ));
    }
    if cmd != 1 {
        return Err(SocksError::new(
            SocksErrorKind::UnsupportedCommand(cmd),
            socks5_reply(SOCKS5_BAD_COMMAND),
        ));
    }
    let (addr_start, addr_len) = match atyp {
        1 => (4, 4),
        4 => (4, 16),
        3 => match b.get(4) {
            Some(&n) => (5, usize::from(n)),
            None => return Ok(Parsed::Incomplete),
        },
        t => {
            return Err(SocksError::new(
                SocksErrorKind::UnsupportedAddressType(t),
                socks5_reply(SOCKS5_BAD_ADDRESS_TYPE),
            ));
        }
    };
    let end = addr_start + addr_len + 2;
    let Some(msg) = b.get(..end) else {
        return Ok(Parsed::Incomplete);
    };
    let addr = msg
        .get(addr_start..addr_start + addr_len)
        .unwrap_or_default();
    let target = match atyp {
        1 => SocksTarget::Ipv4(Ipv4Addr::from(
            <[u8; 4]>::try_from(addr).unwrap_or_default(),
        )),
        4 => SocksTarget::Ipv6(Ipv6Addr::from(
            <[u8; 16]>::try_from(addr).unwrap_or_default(),
        )),
        _ => domain(addr, socks5_reply(1))?,
    };
    let port = u16::from_be_bytes([msg[end - 2], msg[end - 1]]);
    let request = SocksRequest {
        version: SocksVersion::V5,
        target,
        port,
    };
    Ok(Parsed::Request(end, request))
}

#[cfg(test)]
#[path = "socks_tests.rs"]
mod tests;
