//! The framer on arbitrary bytes, with no cipher: lengths, padding and payload extraction.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use seashell_proto::transport::packet::PacketReader;

fuzz_target!(|data: &[u8]| {
    let mut r = PacketReader::default();
    let mut buf = BytesMut::from(data);
    while let Ok(Some(_)) = r.read(&mut buf) {}
});
