//! The decompressor on arbitrary packets: the first byte splits the input into packets of one
//! zlib stream, as the reader feeds them. Never a panic, never more than the packet cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_proto::transport::MAX_PACKET_LEN;
use seashell_proto::transport::compress::{Codec, Inflater};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let mut z = Inflater::start();
    for packet in rest.chunks(usize::from(split).max(1) * 16) {
        match z.inflate(packet) {
            Ok(out) => assert!(out.len() <= MAX_PACKET_LEN),
            Err(_) => break,
        }
    }
});
