//! Both directions' agent parsers on arbitrary bytes: the framer, requests (the agent's
//! side, including private key blobs), replies (the client's side) and the client state
//! machine fed as if the agent sent the bytes, and a key store fed as if a client did.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_agent::{
    Client, ConnectionState, Framer, KeyBlob, KeyStore, Request, Response, StoreConfig,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(Request::Add { key, .. }) = Request::decode(data) {
        let _ = key.to_private_key();
    }
    let _ = Response::decode(data);
    let _ = KeyBlob::from_bytes(data);
    let mut f = Framer::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = f.push(rest);
        rest = &rest[n..];
        match f.next_message() {
            Ok(Some(m)) => {
                let _ = Request::decode(&m);
            }
            Ok(None) if n == 0 => break,
            Ok(None) => {}
            Err(_) => break,
        }
    }
    // The agent side end to end: framing, decoding, adding keys, signing, extensions.
    let mut store = KeyStore::new(StoreConfig::default());
    let mut conn = ConnectionState::new();
    let mut out = Vec::new();
    let _ = store.feed(&mut conn, data, std::time::Instant::now(), &mut out);
    let mut c = Client::new();
    let _ = c.request(&Request::RequestIdentities);
    let _ = c.feed(data);
    while c.poll_reply().is_some() {}
});
