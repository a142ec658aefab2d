use super::*;
use proptest::prelude::*;

fn deflate(z: &mut Deflater, payload: &[u8]) -> Vec<u8> {
    let mut out = b"HEADR".to_vec();
    out.extend_from_slice(payload);
    z.compress_tail(&mut out, 5).unwrap();
    assert_eq!(&out[..5], b"HEADR");
    out.split_off(5)
}

proptest! {
    /// Many payloads through one stream each way: each packet inflates on its own, in order.
    #[test]
    fn round_trip_across_packets(
        payloads in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 1..3000),
                (1usize..20_000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
            ],
            1..12,
        ),
    ) {
        let (mut d, mut i) = (Deflater::start(), Inflater::start());
        for p in &payloads {
            let wire = deflate(&mut d, p);
            let got = i.inflate(&wire).unwrap();
            prop_assert_eq!(got.as_ref(), p.as_slice());
        }
    }

    /// Whatever the bytes, inflating errs or succeeds within the cap; it never panics.
    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut i = Inflater::start();
        if let Ok(p) = i.inflate(&data) {
            prop_assert!(!p.is_empty() && p.len() <= MAX_PACKET_LEN);
        }
    }
}

#[test]
fn zip_bomb_is_refused_at_the_cap() {
    let mut d = Deflater::start();
    let bomb = deflate(&mut d, &vec![0u8; 1 << 20]);
    assert!(bomb.len() < 4096, "{}", bomb.len());
    let mut i = Inflater::start();
    assert_eq!(
        i.inflate(&bomb),
        Err(InvalidMessage::DecompressedTooLarge.into())
    );
    // Exactly the cap is fine; one more byte is not.
    let (mut d, mut i) = (Deflater::start(), Inflater::start());
    let full = deflate(&mut d, &vec![7u8; 1000]);
    assert_eq!(i.inflate_capped(&full, 1000).unwrap().len(), 1000);
    let (mut d, mut i) = (Deflater::start(), Inflater::start());
    let over = deflate(&mut d, &vec![7u8; 1001]);
    assert_eq!(
        i.inflate_capped(&over, 1000),
        Err(InvalidMessage::DecompressedTooLarge.into())
    );
}

#[test]
fn corrupt_finished_and_empty_streams_are_refused() {
    let bad = Err(Error::from(InvalidMessage::BadCompressedData));
    // Not a zlib header.
    assert_eq!(Inflater::start().inflate(&[0xff; 16]), bad);
    // A stream that ends (Z_FINISH): no later packet could follow.
    let mut z = Compress::new(flate2::Compression::new(6), true);
    let mut fin = Vec::with_capacity(64);
    z.compress_vec(b"hello", &mut fin, FlushCompress::Finish)
        .unwrap();
    assert_eq!(Inflater::start().inflate(&fin), bad);
    // Only the zlib header: nothing to hand on.
    let mut i = Inflater::start();
    assert_eq!(
        i.inflate(&[0x78, 0x9c]),
        Err(InvalidMessage::EmptyPacket.into())
    );
}

#[test]
fn delayed_compression_waits_for_auth_and_restarts_per_keys() {
    let mut c: Compression<Inflater> = Compression::default();
    c.new_keys(CompressionAlg::ZlibOpenSsh);
    assert!(!c.is_active());
    c.auth_done();
    assert!(c.is_active());
    c.new_keys(CompressionAlg::None);
    assert!(!c.is_active());
    c.new_keys(CompressionAlg::ZlibOpenSsh);
    assert!(
        c.is_active(),
        "after authentication it starts with the keys"
    );

    let mut z: Compression<Deflater> = Compression::default();
    z.auth_done();
    assert!(!z.is_active(), "no keys yet");
    z.new_keys(CompressionAlg::Zlib);
    assert!(z.is_active());

    // A rekey starts a fresh stream at both ends: a new header follows.
    let mut d: Compression<Deflater> = Compression::default();
    d.new_keys(CompressionAlg::Zlib);
    let first = deflate(d.codec().unwrap(), b"abc");
    d.new_keys(CompressionAlg::Zlib);
    let again = deflate(d.codec().unwrap(), b"abc");
    assert_eq!(first, again);
    assert_eq!(&first[..2], &[0x78, 0x9c]);
}

#[test]
fn names() {
    for c in CompressionAlg::ALL {
        assert_eq!(CompressionAlg::from_name(c.name()), Some(c));
    }
    assert_eq!(
        CompressionAlg::from_name("zlib@openssh.com"),
        Some(CompressionAlg::ZlibOpenSsh)
    );
    assert_eq!(CompressionAlg::from_name("gzip"), None);
}

/// miniz_oxide's inflater can hold the last byte of a packet back until it is called again
/// with no input; a run after noise triggered it (found by the property test above).
#[test]
fn inflate_drains_held_back_output() {
    let mut x = 5u64;
    let noise: Vec<u8> = (0..1504)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let (mut d, mut i) = (Deflater::start(), Inflater::start());
    for p in [vec![0u8; 19593], noise, vec![91u8; 11672]] {
        let wire = deflate(&mut d, &p);
        assert!(i.inflate(&wire).unwrap() == p);
    }
}
