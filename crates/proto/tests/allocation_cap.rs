//! No allocation is sized by the peer beyond the packet cap: a counting allocator records the
//! largest single allocation while hostile input is fed to the client.
//! (The counting allocator needs `unsafe`; it only forwards to the system allocator.)
#![allow(clippy::disallowed_methods)] // tests may read the clock; the core may not
#![allow(unsafe_code)]

use seashell_proto::transport::MAX_PACKET_LEN;
use seashell_proto::{ClientConfig, ClientConnection};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

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
fn hostile_lengths_never_allocate_beyond_the_packet_cap() {
    let config = Arc::new(ClientConfig::new("me"));
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for round in 0..2000u32 {
        let now = Instant::now();
        let mut c = ClientConnection::new(config.clone(), now).unwrap();
        let mut input = b"SSH-2.0-x\r\n".to_vec();
        // A declared length anywhere in u32 (biased to the edges), then some bytes.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = match round % 4 {
            0 => (x as u32) | 0x8000_0000,
            1 => (MAX_PACKET_LEN as u32)
                .wrapping_add((x % 64) as u32)
                .wrapping_sub(32),
            2 => (x % 1024) as u32,
            _ => x as u32,
        };
        input.extend_from_slice(&len.to_be_bytes());
        input.extend(std::iter::repeat_n(0xAA, (x % 3000) as usize));
        ACTIVE.store(true, Ordering::SeqCst);
        let _ = c.feed(now, &input);
        let _ = c.feed(now, &[0u8; 1024]);
        ACTIVE.store(false, Ordering::SeqCst);
    }
    let largest = LARGEST.load(Ordering::SeqCst);
    // The input buffer may reserve one whole packet (length + body + tag) and no more.
    assert!(
        largest <= MAX_PACKET_LEN + 64,
        "largest allocation {largest} bytes"
    );
    assert!(largest > 0);
}
