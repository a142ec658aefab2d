use super::*;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Feeds `input` one byte more at a time: `Ok(None)` until the whole header is there.
fn byte_at_a_time(input: &[u8]) -> Result<(ProxyHeader, usize), ProxyError> {
    for n in 0..input.len() {
        if let Some(done) = parse(&input[..n])? {
            return Ok(done);
        }
    }
    parse(input).map(|r| r.expect("complete"))
}

/// A v2 header: `ver_cmd`, `fam`, then `body` (addresses and TLVs).
fn v2(ver_cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(ver_cmd);
    out.push(fam);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn v4_block() -> Vec<u8> {
    let mut b = vec![192, 0, 2, 1, 198, 51, 100, 2];
    b.extend_from_slice(&56324u16.to_be_bytes());
    b.extend_from_slice(&22u16.to_be_bytes());
    b
}

fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    out
}

// ---- v1 --------------------------------------------------------------------------------

#[test]
fn v1_tcp4() {
    let input = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 22\r\nSSH-2.0-x\r\n";
    let (h, used) = byte_at_a_time(input).unwrap();
    assert_eq!(h.version, ProxyVersion::V1);
    assert_eq!(h.source, Some(sa("192.0.2.1:56324")));
    assert_eq!(h.destination, Some(sa("198.51.100.2:22")));
    assert_eq!(&input[used..], b"SSH-2.0-x\r\n");
    assert_eq!(h.tlvs().count(), 0);
}

#[test]
fn v1_tcp6_and_longest_line() {
    let input = b"PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n";
    let (h, used) = byte_at_a_time(input).unwrap();
    assert_eq!(h.source, Some(sa("[2001:db8::1]:65535")));
    assert_eq!(h.destination, Some(sa("[2001:db8::2]:0")));
    assert_eq!(used, input.len());
    let a = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let tcp6 = format!("PROXY TCP6 {a} {a} 65535 65535\r\n");
    assert_eq!(parse(tcp6.as_bytes()).unwrap().unwrap().1, tcp6.len());
    // The specification's worst case is exactly 107 bytes.
    let longest = format!("PROXY UNKNOWN {a} {a} 65535 65535\r\n");
    assert_eq!(longest.len(), V1_MAX_LEN);
    assert_eq!(parse(longest.as_bytes()).unwrap().unwrap().1, V1_MAX_LEN);
}

#[test]
fn v1_unknown_uses_the_socket() {
    let (h, used) = parse(b"PROXY UNKNOWN\r\nrest").unwrap().unwrap();
    assert_eq!((h.source, h.destination, used), (None, None, 15));
    assert_eq!(h.peer_or(sa("10.0.0.1:4000")), sa("10.0.0.1:4000"));
    // Anything after UNKNOWN up to the CRLF is ignored.
    let (h, _) = parse(b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(h.source, None);
}

#[test]
fn v1_malformed() {
    let cases: &[(&[u8], ProxyError)] = &[
        (
            b"PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 22 9\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY TCP4 192.0.2.01 198.51.100.2 1 2\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY TCP4 192.0.2.1 198.51.100.2 65536 22\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY TCP4 192.0.2.1 198.51.100.2 022 22\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY TCP4 192.0.2.1 198.51.100.2 +22 22\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n",
            ProxyError::BadAddress,
        ),
        (
            b"PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",
            ProxyError::BadProtocol,
        ),
        (b"PROXY \r\n", ProxyError::BadProtocol),
        (b"PROXY TCP4 192.0.2.1\n", ProxyError::BadCharacter),
        (b"PROXY TCP4 1\r92.0.2.1", ProxyError::BadCharacter),
        (b"PROXY TCP4 \xc3\xa9", ProxyError::BadCharacter),
        (b"PROXYTCP4", ProxyError::BadSignature),
        (b"proxy TCP4", ProxyError::BadSignature),
    ];
    for (input, want) in cases {
        assert_eq!(
            parse(input).unwrap_err(),
            *want,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn v1_without_crlf_is_too_long_at_107_bytes() {
    let mut input = b"PROXY UNKNOWN ".to_vec();
    input.resize(V1_MAX_LEN - 1, b'x');
    assert_eq!(parse(&input), Ok(None));
    input.push(b'x');
    assert_eq!(parse(&input).unwrap_err(), ProxyError::TooLong);
    // A CR as the 107th byte whose LF would be the 108th is too long as well.
    input.truncate(V1_MAX_LEN - 1);
    input.extend_from_slice(b"\r\n");
    assert_eq!(parse(&input).unwrap_err(), ProxyError::TooLong);
}

// ---- v2 --------------------------------------------------------------------------------

#[test]
fn v2_proxy_tcp4() {
    let mut input = v2(0x21, 0x11, &v4_block());
    input.extend_from_slice(b"SSH-2.0-x\r\n");
    let (h, used) = byte_at_a_time(&input).unwrap();
    assert_eq!(h.version, ProxyVersion::V2);
    assert_eq!(h.source, Some(sa("192.0.2.1:56324")));
    assert_eq!(h.destination, Some(sa("198.51.100.2:22")));
    assert_eq!(used, 16 + 12);
    assert_eq!(&input[used..], b"SSH-2.0-x\r\n");
}

#[test]
fn v2_proxy_tcp6_with_tlvs() {
    let mut body = Vec::new();
    body.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    body.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
    body.extend_from_slice(&40000u16.to_be_bytes());
    body.extend_from_slice(&22u16.to_be_bytes());
    body.extend(tlv(0x02, b"ssh.example.org")); // authority
    body.extend(tlv(0x04, b"")); // noop, empty
    body.extend(tlv(0x05, b"abc")); // unique id
    let input = v2(0x21, 0x21, &body);
    let (h, used) = byte_at_a_time(&input).unwrap();
    assert_eq!(used, input.len());
    assert_eq!(h.source, Some(sa("[2001:db8::1]:40000")));
    assert_eq!(h.destination, Some(sa("[2001:db8::2]:22")));
    let tlvs: Vec<(u8, &[u8])> = h.tlvs().collect();
    assert_eq!(
        tlvs,
        [
            (0x02, &b"ssh.example.org"[..]),
            (0x04, &b""[..]),
            (0x05, &b"abc"[..])
        ]
    );
}

#[test]
fn v2_crc32c_is_checked() {
    // Reference value: CRC-32C of "123456789" is 0xE3069283.
    let mut crc = Crc32c::new();
    crc.update(b"123456789");
    assert_eq!(crc.finish(), 0xE306_9283);

    let mut body = v4_block();
    body.extend(tlv(TLV_CRC32C, &[0; 4]));
    let mut input = v2(0x21, 0x11, &body);
    let mut crc = Crc32c::new();
    crc.update(&input);
    let sum = crc.finish().to_be_bytes();
    let at = input.len() - 4;
    input[at..].copy_from_slice(&sum);
    assert!(parse(&input).unwrap().is_some());
    input[17] ^= 1; // change the source address
    assert_eq!(parse(&input).unwrap_err(), ProxyError::ChecksumMismatch);
}

#[test]
fn v2_local_and_unspecified_use_the_socket() {
    // LOCAL, with and without an address block and TLVs: all discarded.
    for body in [
        Vec::new(),
        v4_block(),
        [v4_block(), tlv(0x02, b"x")].concat(),
    ] {
        let input = v2(0x20, 0x11, &body);
        let (h, used) = byte_at_a_time(&input).unwrap();
        assert_eq!((h.source, h.destination, used), (None, None, input.len()));
        assert_eq!(h.tlvs().count(), 0);
    }
    // PROXY with AF_UNSPEC.
    let (h, _) = parse(&v2(0x21, 0x00, &[])).unwrap().unwrap();
    assert_eq!(h.source, None);
    // AF_UNIX stream and TCP4-as-datagram: valid, but no IP source.
    let (h, _) = parse(&v2(0x21, 0x31, &[0; 216])).unwrap().unwrap();
    assert_eq!(h.source, None);
    let (h, _) = parse(&v2(0x21, 0x12, &v4_block())).unwrap().unwrap();
    assert_eq!(h.source, None);
    assert_eq!(h.peer_or(sa("10.0.0.1:1")), sa("10.0.0.1:1"));
}

#[test]
fn v2_malformed() {
    let bad_tlv = [v4_block(), vec![0x02, 0x00, 0x05, b'a']].concat();
    let short_tlv = [v4_block(), vec![0x02, 0x00]].concat();
    let bad_crc_len = [v4_block(), tlv(TLV_CRC32C, &[0; 3])].concat();
    let cases: Vec<(Vec<u8>, ProxyError)> = vec![
        (v2(0x11, 0x11, &v4_block()), ProxyError::BadVersion),
        (v2(0x31, 0x11, &v4_block()), ProxyError::BadVersion),
        (v2(0x22, 0x11, &v4_block()), ProxyError::BadCommand),
        (v2(0x21, 0x41, &v4_block()), ProxyError::BadFamily),
        (v2(0x21, 0x13, &v4_block()), ProxyError::BadFamily),
        (v2(0x21, 0x11, &v4_block()[..11]), ProxyError::Truncated),
        (v2(0x21, 0x21, &v4_block()), ProxyError::Truncated),
        (v2(0x21, 0x11, &bad_tlv), ProxyError::BadTlv),
        (v2(0x21, 0x11, &short_tlv), ProxyError::BadTlv),
        (v2(0x21, 0x11, &bad_crc_len), ProxyError::BadTlv),
    ];
    for (input, want) in cases {
        assert_eq!(parse(&input).unwrap_err(), want, "{input:02x?}");
    }
    // Errors in the fixed part come as soon as the byte arrives.
    let mut early = V2_SIGNATURE.to_vec();
    early.push(0x11);
    assert_eq!(parse(&early).unwrap_err(), ProxyError::BadVersion);
    let mut sig = V2_SIGNATURE.to_vec();
    sig[7] = b'X';
    assert_eq!(parse(&sig[..8]).unwrap_err(), ProxyError::BadSignature);
}

#[test]
fn v2_length_is_capped() {
    let body = vec![0u8; V2_MAX_PAYLOAD];
    let mut ok = v2(0x20, 0x00, &body);
    assert_eq!(parse(&ok).unwrap().unwrap().1, MAX_HEADER_LEN);
    // One byte more is refused from the 16-byte fixed part alone, before any payload.
    ok[14..16].copy_from_slice(&((V2_MAX_PAYLOAD + 1) as u16).to_be_bytes());
    assert_eq!(parse(&ok[..16]).unwrap_err(), ProxyError::TooLong);
    let mut huge = V2_SIGNATURE.to_vec();
    huge.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
    assert_eq!(parse(&huge).unwrap_err(), ProxyError::TooLong);
}

// ---- not PROXY at all ------------------------------------------------------------------

#[test]
fn an_ssh_banner_is_an_error_not_a_header() {
    assert_eq!(
        parse(b"SSH-2.0-OpenSSH_9.8\r\n").unwrap_err(),
        ProxyError::BadSignature
    );
    assert_eq!(parse(b"S").unwrap_err(), ProxyError::BadSignature);
    // A blank line first, as a confused client might send, fails at its first
    // difference from the v2 signature.
    assert_eq!(parse(b"\r\n").unwrap(), None);
    assert_eq!(
        parse(b"\r\nSSH-2.0-x\r\n").unwrap_err(),
        ProxyError::BadSignature
    );
    assert_eq!(parse(b"").unwrap(), None);
    assert_eq!(
        parse(b"GET / HTTP/1.1\r\n").unwrap_err(),
        ProxyError::BadSignature
    );
}

#[test]
fn never_needs_more_than_the_cap() {
    // Any input of MAX_HEADER_LEN bytes is decided: a header or an error, never "more".
    let inputs: Vec<Vec<u8>> = vec![
        [b"PROXY ".to_vec(), vec![b'a'; MAX_HEADER_LEN]].concat(),
        [
            V2_SIGNATURE.to_vec(),
            vec![0x21, 0x11, 0x08, 0x00],
            vec![0; MAX_HEADER_LEN],
        ]
        .concat(),
    ];
    for input in inputs {
        assert!(!matches!(parse(&input[..MAX_HEADER_LEN]), Ok(None)));
    }
}
