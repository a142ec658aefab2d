//! A compressed packet can't make us allocate beyond the packet cap: a counting allocator
//! records the largest single allocation while a zip bomb (1 MiB of zeros in about a
//! kilobyte) and a stream of such bombs are inflated.

use bytes::BytesMut;
use seashell_proto::crypto::SystemRandom;
use seashell_proto::error::{Error, InvalidMessage};
use seashell_proto::transport::MAX_PACKET_LEN;
use seashell_proto::transport::compress::CompressionAlg;
use seashell_proto::transport::packet::{PacketReader, PacketWriter};

mod counting_alloc;

use counting_alloc::measure;

#[test]
fn zip_bombs_are_refused_within_the_packet_cap() {
    let mut largest = 0;
    let rng = SystemRandom::new();
    for alg in [CompressionAlg::Zlib, CompressionAlg::ZlibOpenSsh] {
        let mut w = PacketWriter::default();
        w.set_compression(alg);
        w.compression_auth_done();
        let mut wire = Vec::new();
        // A harmless packet first, so the bomb arrives mid-stream.
        w.write(&mut wire, &rng, |o| o.extend_from_slice(b"^hello"))
            .unwrap();
        w.write(&mut wire, &rng, |o| o.resize(o.len() + (1 << 20), 0))
            .unwrap();
        assert!(wire.len() < 4096, "bomb is {} bytes", wire.len());
        let mut r = PacketReader::default();
        r.set_compression(alg);
        r.compression_auth_done();
        let mut buf = BytesMut::from(&wire[..]);
        let ((first, bomb), l) = measure(|| (r.read(&mut buf), r.read(&mut buf)));
        largest = largest.max(l);
        assert_eq!(first.unwrap().unwrap().as_ref(), b"^hello");
        assert_eq!(
            bomb,
            Err(Error::InvalidMessage(InvalidMessage::DecompressedTooLarge))
        );
    }
    // The inflate buffer may hold the cap plus one byte, and no more.
    assert!(
        largest <= MAX_PACKET_LEN + 64,
        "largest allocation {largest} bytes"
    );
    assert!(largest > MAX_PACKET_LEN / 2, "{largest}");
}
