//! The SOCKS codec: every request form whole, byte by byte and in random pieces; every
//! refusal with its reply; random input never panics, never buffers past the bound.

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
}

#[test]
fn socks4a_domain() {
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
