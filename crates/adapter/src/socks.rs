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
        None if field.len() <= max => Ok(None),
        _ => Err(SocksError::new(
            SocksErrorKind::TooLong,
            socks4_reply(SOCKS4_REJECTED),
        )),
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

/// Every request form whole, byte by byte and in random pieces; every refusal with its
/// reply; random input never panics and never buffers past the bound.
#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), so failures replay.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn socks4(port: u16, ip: [u8; 4], user: &[u8]) -> Vec<u8> {
        let mut m = vec![4, 1];
        m.extend_from_slice(&port.to_be_bytes());
        m.extend_from_slice(&ip);
        m.extend_from_slice(user);
        m.push(0);
        m
    }

    fn socks4a(port: u16, user: &[u8], host: &[u8]) -> Vec<u8> {
        let mut m = socks4(port, [0, 0, 0, 1], user);
        m.extend_from_slice(host);
        m.push(0);
        m
    }

    fn greeting(methods: &[u8]) -> Vec<u8> {
        let mut m = vec![5, methods.len() as u8];
        m.extend_from_slice(methods);
        m
    }

    fn socks5(atyp: u8, addr: &[u8], port: u16) -> Vec<u8> {
        let mut m = vec![5, 1, 0, atyp];
        if atyp == 3 {
            m.push(addr.len() as u8);
        }
        m.extend_from_slice(addr);
        m.extend_from_slice(&port.to_be_bytes());
        m
    }

    fn domain_req(host: &str, port: u16) -> Vec<u8> {
        let mut m = greeting(&[0]);
        m.extend(socks5(3, host.as_bytes(), port));
        m
    }

    /// Feeds `input` in the given piece sizes (cycled); returns everything sent, the request,
    /// and how many bytes were left over after it.
    fn feed_in_pieces(
        input: &[u8],
        mut size: impl FnMut() -> usize,
    ) -> Result<(Vec<u8>, Option<SocksRequest>, usize), SocksError> {
        let mut s = SocksServer::new();
        let mut sent = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            let n = size().clamp(1, input.len() - pos);
            let p = s.feed(&input[pos..pos + n])?;
            sent.extend(p.send);
            assert!(p.consumed <= n);
            if let Some(r) = p.request {
                assert!(s.is_done());
                return Ok((sent, Some(r), input.len() - pos - p.consumed));
            }
            assert_eq!(p.consumed, n, "bytes left over without a request");
            pos += n;
        }
        Ok((sent, None, 0))
    }

    fn whole(input: &[u8]) -> Result<(Vec<u8>, Option<SocksRequest>, usize), SocksError> {
        feed_in_pieces(input, || usize::MAX)
    }

    fn req(version: SocksVersion, target: SocksTarget, port: u16) -> SocksRequest {
        SocksRequest {
            version,
            target,
            port,
        }
    }

    #[test]
    fn socks4_ipv4() {
        let (sent, r, left) = whole(&socks4(80, [10, 1, 2, 3], b"alice")).unwrap();
        assert!(sent.is_empty());
        assert_eq!(left, 0);
        let r = r.unwrap();
        assert_eq!(
            r,
            req(
                SocksVersion::V4,
                SocksTarget::Ipv4([10, 1, 2, 3].into()),
                80
            )
        );
        assert_eq!(r.reply_success(), [0, 90, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            r.reply_failure(SocksFailure::HostUnreachable),
            [0, 91, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(r.target.to_string(), "10.1.2.3");
        let (_, r, _) = whole(&socks4a(443, b"", b"example.org")).unwrap();
        assert_eq!(
            r.unwrap(),
            req(
                SocksVersion::V4a,
                SocksTarget::Domain("example.org".into()),
                443
            )
        );
    }

    #[test]
    fn socks5_every_address_type() {
        let mut m = greeting(&[2, 0]);
        m.extend(socks5(1, &[127, 0, 0, 1], 22));
        let (sent, r, _) = whole(&m).unwrap();
        assert_eq!(sent, [5, 0]);
        let r = r.unwrap();
        assert_eq!(
            r,
            req(SocksVersion::V5, SocksTarget::Ipv4(Ipv4Addr::LOCALHOST), 22)
        );
        assert_eq!(r.reply_success(), [5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            r.reply_failure(SocksFailure::ConnectionRefused),
            [5, 5, 0, 1, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(r.reply_failure(SocksFailure::NotAllowed)[1], 2);
        assert_eq!(r.reply_failure(SocksFailure::General)[1], 1);

        let mut m = greeting(&[0]);
        m.extend(socks5(4, &Ipv6Addr::LOCALHOST.octets(), 8080));
        let (_, r, _) = whole(&m).unwrap();
        let r = r.unwrap();
        assert_eq!(r.target, SocksTarget::Ipv6(Ipv6Addr::LOCALHOST));
        assert_eq!(r.target.to_string(), "::1");

        let (_, r, _) = whole(&domain_req("localhost", 1)).unwrap();
        assert_eq!(
            r.unwrap(),
            req(SocksVersion::V5, SocksTarget::Domain("localhost".into()), 1)
        );
    }

    #[test]
    fn data_after_the_request_is_left_for_the_target() {
        let mut m = domain_req("h", 80);
        m.extend_from_slice(b"GET / HTTP/1.0\r\n\r\n");
        let (_, r, left) = whole(&m).unwrap();
        assert!(r.is_some());
        assert_eq!(left, 18);
        let mut s = SocksServer::new();
        let p = s.feed(&m).unwrap();
        assert_eq!(p.consumed, m.len() - 18);
        let later = s.feed(b"more").unwrap();
        assert_eq!(later, SocksProgress::default());
    }

    #[test]
    fn byte_by_byte_and_random_pieces_equal_whole() {
        let longest_user = vec![b'u'; SOCKS4_MAX_USER];
        let longest_host = vec![b'h'; SOCKS_MAX_DOMAIN];
        let mut v6 = greeting(&[1, 2, 0]);
        v6.extend(socks5(
            4,
            &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            9,
        ));
        let cases = [
            socks4(80, [1, 2, 3, 4], b"user"),
            socks4(80, [1, 2, 3, 4], b""),
            socks4a(80, b"u", b"a.example"),
            socks4a(65535, &longest_user, &longest_host),
            domain_req("example.com", 443),
            domain_req(std::str::from_utf8(&longest_host).unwrap(), 1),
            v6,
        ];
        let mut rng = Rng(0x5eed);
        for case in &cases {
            let want = whole(case).unwrap();
            assert!(want.1.is_some());
            assert_eq!(feed_in_pieces(case, || 1).unwrap(), want, "{case:?}");
            for _ in 0..50 {
                let got = feed_in_pieces(case, || 1 + rng.below(16)).unwrap();
                assert_eq!(got, want);
            }
        }
        assert_eq!(cases[3].len(), SOCKS_MAX_REQUEST);
    }

    fn err_of(input: &[u8]) -> SocksError {
        match whole(input) {
            Err(e) => e,
            Ok(r) => panic!("{input:?} should fail, gave {r:?}"),
        }
    }

    #[test]
    fn refusals_carry_the_protocols_reply() {
        let e = err_of(&[6, 1]);
        assert_eq!(e.kind(), SocksErrorKind::UnknownVersion(6));
        assert!(e.reply().is_empty());
        assert_eq!(e.to_string(), "unknown SOCKS version 6");

        let e = err_of(&greeting(&[2]));
        assert_eq!(e.kind(), SocksErrorKind::NoAcceptableMethod);
        assert_eq!(e.reply(), [5, 0xff]);
        assert_eq!(err_of(&greeting(&[])).reply(), [5, 0xff]);

        let mut bind = greeting(&[0]);
        bind.extend([5, 2, 0, 1, 1, 2, 3, 4, 0, 80]);
        let e = err_of(&bind);
        assert_eq!(e.kind(), SocksErrorKind::UnsupportedCommand(2));
        assert_eq!(e.reply(), [5, 7, 0, 1, 0, 0, 0, 0, 0, 0]);

        let mut bad_atyp = greeting(&[0]);
        bad_atyp.extend([5, 1, 0, 9]);
        let e = err_of(&bad_atyp);
        assert_eq!(e.kind(), SocksErrorKind::UnsupportedAddressType(9));
        assert_eq!(e.reply()[1], 8);

        let mut bad_ver = greeting(&[0]);
        bad_ver.extend([4, 1, 0, 1]);
        assert_eq!(
            err_of(&bad_ver).kind(),
            SocksErrorKind::BadRequestVersion(4)
        );

        let mut empty = greeting(&[0]);
        empty.extend([5, 1, 0, 3, 0, 0, 80]);
        assert_eq!(err_of(&empty).kind(), SocksErrorKind::EmptyDomain);
        let mut nul = greeting(&[0]);
        nul.extend(socks5(3, b"a\0b", 80));
        assert_eq!(err_of(&nul).kind(), SocksErrorKind::BadDomain);
        let mut latin1 = greeting(&[0]);
        latin1.extend(socks5(3, b"caf\xe9", 80));
        assert_eq!(err_of(&latin1).kind(), SocksErrorKind::BadDomain);

        let mut s4_bind = socks4(80, [1, 2, 3, 4], b"");
        s4_bind[1] = 2;
        let e = err_of(&s4_bind);
        assert_eq!(e.kind(), SocksErrorKind::UnsupportedCommand(2));
        assert_eq!(e.reply(), [0, 91, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            err_of(&socks4a(80, b"", b"")).kind(),
            SocksErrorKind::EmptyDomain
        );
    }

    #[test]
    fn oversized_requests_are_refused_without_buffering_them() {
        // A user id that never ends.
        let mut s = SocksServer::new();
        let mut head = socks4(80, [1, 2, 3, 4], b"");
        head.pop();
        assert!(s.feed(&head).is_ok());
        let mut failed = None;
        for i in 0..10_000 {
            match s.feed(b"x") {
                Ok(p) => assert_eq!(p.consumed, 1),
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
            assert!(s.buf.len() <= SOCKS_MAX_REQUEST);
        }
        let (i, e) = failed.unwrap();
        assert_eq!(i, SOCKS4_MAX_USER);
        assert_eq!(e.kind(), SocksErrorKind::TooLong);
        // Feeding after an error repeats it.
        assert_eq!(s.feed(b"x").unwrap_err(), e);

        // A SOCKS4a domain that is too long, in one piece.
        let long = socks4a(80, b"", &vec![b'd'; SOCKS_MAX_DOMAIN + 1]);
        assert_eq!(err_of(&long).kind(), SocksErrorKind::TooLong);
        // A huge piece is not copied beyond the bound.
        let mut s = SocksServer::new();
        let mut huge = socks4(80, [1, 2, 3, 4], b"");
        huge.pop();
        huge.extend(vec![b'y'; 1 << 20]);
        assert_eq!(s.feed(&huge).unwrap_err().kind(), SocksErrorKind::TooLong);
        assert!(s.buf.capacity() <= SOCKS_MAX_REQUEST);
    }

    #[test]
    fn random_input_never_panics_and_stays_bounded() {
        let mut rng = Rng(0xdead_beef);
        for _ in 0..2_000 {
            let len = rng.below(600);
            let mut input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Often start like a real request, so the deeper states are reached.
            let prefix: &[u8] = match rng.below(4) {
                0 => &[5, 1, 0],
                1 => &[4, 1],
                2 => &[5, 1, 0, 5, 1, 0],
                _ => &[],
            };
            input.splice(..0, prefix.iter().copied());
            let mut s = SocksServer::new();
            let mut pos = 0;
            while pos < input.len() {
                let n = (1 + rng.below(40)).min(input.len() - pos);
                match s.feed(&input[pos..pos + n]) {
                    Ok(p) => {
                        assert!(p.consumed <= n);
                        if p.request.is_some() || p.consumed < n {
                            assert!(s.is_done());
                            break;
                        }
                    }
                    Err(_) => break,
                }
                assert!(s.buf.len() <= SOCKS_MAX_REQUEST);
                pos += n;
            }
        }
    }
}
