use super::*;
use crate::crypto::{CipherAlg, MacAlg, SystemRandom};
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
