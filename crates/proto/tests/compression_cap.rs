//! A compressed packet can't make us allocate beyond the packet cap: a counting allocator
//! records the largest single allocation while a zip bomb (1 MiB of zeros in about a
//! kilobyte) and a stream of such bombs are inflated.
//! (The counting allocator needs `unsafe`; it only forwards to the system allocator.)
#![allow(unsafe_code)]

use bytes::BytesMut;
use seashell_proto::crypto::SystemRandom;
use seashell_proto::error::{Error, InvalidMessage};
use seashell_proto::transport::MAX_PACKET_LEN;
use seashell_proto::transport::compress::CompressionAlg;
use seashell_proto::transport::packet::{PacketReader, PacketWriter};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

struct Counting;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ACTIVE.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ACTIVE.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn zip_bombs_are_refused_within_the_packet_cap() {
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
        ACTIVE.store(true, Ordering::SeqCst);
        let first = r.read(&mut buf);
        let bomb = r.read(&mut buf);
        ACTIVE.store(false, Ordering::SeqCst);
        assert_eq!(first.unwrap().unwrap().as_ref(), b"^hello");
        assert_eq!(
            bomb,
            Err(Error::InvalidMessage(InvalidMessage::DecompressedTooLarge))
        );
    }
    let largest = LARGEST.load(Ordering::SeqCst);
    // The inflate buffer may hold the cap plus one byte, and no more.
    assert!(
        largest <= MAX_PACKET_LEN + 64,
        "largest allocation {largest} bytes"
    );
    assert!(largest > MAX_PACKET_LEN / 2, "{largest}");
}
