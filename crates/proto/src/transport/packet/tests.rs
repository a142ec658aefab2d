use super::*;
use crate::crypto::{CipherAlg, MacAlg, SystemRandom};
use crate::error::CryptoError;
use proptest::prelude::*;

type Suite = Option<(CipherAlg, Option<MacAlg>)>;

fn pair(suite: Suite) -> (PacketWriter, PacketReader) {
    let mut w = PacketWriter::default();
    let mut r = PacketReader::default();
    if let Some((alg, mac)) = suite {
        let key = vec![3u8; alg.key_len()];
        let iv = vec![4u8; alg.iv_len()];
        let mk = [5u8; 64];
        let m = mac.map(|m| (m, &mk[..]));
        w.set_sealer(Sealer::with_mac(alg, &key, &iv, m).unwrap());
        r.set_opener(Opener::with_mac(alg, &key, &iv, m).unwrap());
    }
    (w, r)
}

/// Cleartext, every AEAD, and every CTR cipher with every MAC.
fn ciphers() -> Vec<Suite> {
    let mut v = vec![None];
    for c in CipherAlg::ALL {
        if c.is_aead() {
            v.push(Some((c, None)));
        } else {
            for m in MacAlg::ALL {
                v.push(Some((c, Some(m))));
            }
        }
    }
    v
}

proptest! {
    #[test]
    fn round_trip_any_payloads_any_split(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..2000), 1..8),
        split in 1usize..5000,
    ) {
        let rng = SystemRandom::new();
        for alg in ciphers() {
            let (mut w, mut r) = pair(alg);
            let mut wire = Vec::new();
            for p in &payloads {
                w.write(&mut wire, &rng, |o| o.extend_from_slice(p)).unwrap();
            }
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for chunk in wire.chunks(split) {
                buf.extend_from_slice(chunk);
                while let Some(p) = r.read(&mut buf).unwrap() {
                    got.push(p.to_vec());
                }
            }
            prop_assert_eq!(&got, &payloads);
            prop_assert!(buf.is_empty());
        }
    }

    #[test]
    fn random_bytes_give_error_or_wait_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        for alg in ciphers() {
            let (_, mut r) = pair(alg);
            let mut buf = BytesMut::from(&data[..]);
            for _ in 0..4 {
                match r.read(&mut buf) {
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => break,
                }
            }
            prop_assert!(buf.capacity() <= data.len().max(64) + MAX_PACKET_LEN + 64);
        }
    }
}

#[test]
fn hostile_lengths_rejected_before_allocation() {
    for len in [
        0u32,
        1,
        4,
        5 + 3,
        (MAX_PACKET_LEN + 1) as u32,
        1 << 31,
        u32::MAX,
    ] {
        let (_, mut r) = pair(None);
        let mut buf = BytesMut::from(&len.to_be_bytes()[..]);
        let res = r.read(&mut buf);
        assert!(res.is_err(), "len {len}: {res:?}");
        assert!(
            buf.capacity() < 1024,
            "len {len} reserved {}",
            buf.capacity()
        );
    }
}

#[test]
fn bad_padding_rejected() {
    // packet_length 12, padding length 2 (< 4).
    let mut pkt = vec![0, 0, 0, 12, 2];
    pkt.extend_from_slice(&[0u8; 11]);
    let (_, mut r) = pair(None);
    assert_eq!(
        r.read(&mut BytesMut::from(&pkt[..])),
        Err(InvalidMessage::BadPadding.into())
    );
    // padding length covering the whole packet: no payload.
    let mut pkt = vec![0, 0, 0, 12, 11];
    pkt.extend_from_slice(&[0u8; 11]);
    assert_eq!(
        r.read(&mut BytesMut::from(&pkt[..])),
        Err(InvalidMessage::EmptyPacket.into())
    );
}

#[test]
fn padding_rules_hold_for_every_payload_size() {
    let rng = SystemRandom::new();
    for alg in ciphers() {
        let (mut w, _) = pair(alg);
        for n in 1..100 {
            let mut wire = Vec::new();
            w.write(&mut wire, &rng, |o| o.resize(o.len() + n, 1))
                .unwrap();
            let (block, len_in_block) = framing(alg.map(|a| a.0), alg.and_then(|a| a.1));
            let tag = match alg {
                None => 0,
                Some((_, Some(m))) => m.tag_len(),
                Some(_) => 16,
            };
            let body = wire.len() - tag - if len_in_block { 0 } else { 4 };
            assert_eq!(body % block, 0, "{alg:?} {n}");
        }
    }
}

fn compressed_pair(suite: Suite) -> (PacketWriter, PacketReader) {
    let (mut w, mut r) = pair(suite);
    w.set_compression(CompressionAlg::Zlib);
    r.set_compression(CompressionAlg::Zlib);
    (w, r)
}

proptest! {
    /// zlib across many packets, with and without a cipher: the stream carries over.
    #[test]
    fn compressed_round_trip_across_packets(
        payloads in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 1..1500),
                (1usize..30_000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
            ],
            1..10,
        ),
        split in 1usize..5000,
    ) {
        let rng = SystemRandom::new();
        let suites = [
            None,
            Some((CipherAlg::Aes128Gcm, None)),
            Some((CipherAlg::TripleDesCbc, Some(MacAlg::HmacSha256))),
        ];
        for suite in suites {
            let (mut w, mut r) = compressed_pair(suite);
            let mut wire = Vec::new();
            for p in &payloads {
                w.write(&mut wire, &rng, |o| o.extend_from_slice(p)).unwrap();
            }
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for chunk in wire.chunks(split) {
                buf.extend_from_slice(chunk);
                while let Some(p) = r.read(&mut buf).unwrap() {
                    got.push(p.to_vec());
                }
            }
            prop_assert_eq!(&got, &payloads);
        }
    }
}

#[test]
fn delayed_compression_starts_on_auth_only() {
    let rng = SystemRandom::new();
    let (mut w, mut r) = pair(None);
    w.set_compression(CompressionAlg::ZlibOpenSsh);
    r.set_compression(CompressionAlg::ZlibOpenSsh);
    assert!(!w.is_compressing() && !r.is_decompressing());
    let mut wire = Vec::new();
    w.write(&mut wire, &rng, |o| o.extend_from_slice(&[52; 300]))
        .unwrap();
    // Not compressed: the payload is there verbatim.
    assert!(wire.windows(300).any(|x| x == [52; 300]));
    w.compression_auth_done();
    let mut wire2 = Vec::new();
    w.write(&mut wire2, &rng, |o| o.extend_from_slice(&[94; 3000]))
        .unwrap();
    assert!(wire2.len() < 200, "{}", wire2.len());
    let mut buf = BytesMut::from(&wire[..]);
    buf.extend_from_slice(&wire2);
    assert_eq!(r.read(&mut buf).unwrap().unwrap().as_ref(), &[52; 300]);
    assert!(!r.is_decompressing());
    r.compression_auth_done();
    assert!(r.is_decompressing());
    assert_eq!(r.read(&mut buf).unwrap().unwrap().as_ref(), &[94; 3000]);
}

#[test]
fn compressed_zip_bomb_is_a_typed_error() {
    let rng = SystemRandom::new();
    let (mut w, mut r) = compressed_pair(None);
    let mut wire = Vec::new();
    w.write(&mut wire, &rng, |o| o.resize(1 << 20, 0)).unwrap();
    assert!(wire.len() < 4096);
    assert_eq!(
        r.read(&mut BytesMut::from(&wire[..])),
        Err(InvalidMessage::DecompressedTooLarge.into())
    );
}

/// CBC without ETM: a bad length and a bad MAC both read on to the same point and then fail
/// with the same error; with ETM, or another cipher, a bad length fails at once.
#[test]
fn cbc_bad_length_and_bad_mac_fail_alike_after_discarding() {
    let rng = SystemRandom::new();
    for alg in [CipherAlg::Aes128Cbc, CipherAlg::TripleDesCbc] {
        let mac = MacAlg::HmacSha256;
        let span = MAX_PACKET_LEN + 4 + mac.tag_len();
        for flip in [0usize, 2, 20] {
            let (mut w, mut r) = pair(Some((alg, Some(mac))));
            let mut wire = Vec::new();
            w.write(&mut wire, &rng, |o| o.extend_from_slice(&[94; 100]))
                .unwrap();
            wire[flip] ^= 0x80;
            let mut buf = BytesMut::from(&wire[..]);
            assert_eq!(r.read(&mut buf), Ok(None), "{alg:?} {flip}");
            assert!(r.is_discarding());
            let mut fed = wire.len();
            let mut res = Ok(None);
            while fed < span {
                assert_eq!(res, Ok(None));
                let n = (span - fed).min(10_000);
                buf.extend_from_slice(&vec![0u8; n]);
                fed += n;
                res = r.read(&mut buf);
                assert!(buf.is_empty());
            }
            assert_eq!(res, Err(CryptoError::BadMac.into()), "{alg:?} flip {flip}");
        }
        let (_, mut r) = pair(Some((alg, Some(MacAlg::HmacSha256Etm))));
        let mut buf = BytesMut::from(&[0xffu8; 64][..]);
        assert_eq!(
            r.read(&mut buf),
            Err(InvalidMessage::BadPacketLength(0xffff_ffff).into())
        );
    }
}
