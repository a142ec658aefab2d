//! Arbitrary bytes from a "server", fed in arbitrary chunks to a fresh client connection.
//! The first byte picks the chunk size; a valid identification line is prepended half the
//! time so the fuzzer reaches the packet layer quickly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_proto::{ClientConfig, ClientConnection};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    let config = CONFIG
        .get_or_init(|| Arc::new(ClientConfig::new("fuzz")))
        .clone();
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let now = Instant::now();
    let Ok(mut c) = ClientConnection::new(config, now) else {
        return;
    };
    if first & 1 == 1 && c.feed(now, b"SSH-2.0-fuzz\r\n").is_err() {
        return;
    }
    let chunk = usize::from(first >> 1).max(1);
    for piece in rest.chunks(chunk) {
        if c.feed(now, piece).is_err() {
            break;
        }
        while c.poll_event().is_some() {}
    }
    let _ = c.feed_eof(now);
    let mut out = Vec::new();
    c.poll_transmit(&mut out);
});
