//! No allocation is sized by the peer beyond the packet cap: a counting allocator records the
//! largest single allocation while hostile input is fed to the client.
#![allow(clippy::disallowed_methods)] // tests may read the clock; the core may not

use seashell_proto::transport::MAX_PACKET_LEN;
use seashell_proto::{ClientConfig, ClientConnection};
use std::sync::Arc;
use std::time::Instant;

mod counting_alloc;

use counting_alloc::measure;

#[test]
fn hostile_lengths_never_allocate_beyond_the_packet_cap() {
    let mut largest = 0;
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
        let ((), l) = measure(|| {
            let _ = c.feed(now, &input);
            let _ = c.feed(now, &[0u8; 1024]);
        });
        largest = largest.max(l);
    }
    // The input buffer may reserve one whole packet (length + body + tag) and no more.
    assert!(
        largest <= MAX_PACKET_LEN + 64,
        "largest allocation {largest} bytes"
    );
    assert!(largest > 0);
}
