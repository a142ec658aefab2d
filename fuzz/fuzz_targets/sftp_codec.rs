//! The SFTP codec on arbitrary bytes, both directions: the framer, requests (the server's
//! side) and responses (the client's side), the extension reply bodies, and re-encoding of
//! whatever decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_sftp::{Framer, Limits, Request, Response, StatVfs, UsersGroups};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Request::decode(data) {
        let again = m.encode().expect("decoded requests re-encode");
        assert_eq!(Request::decode(&again).as_ref(), Ok(&m));
    }
    if let Ok(m) = Response::decode(data) {
        let again = m.encode().expect("decoded responses re-encode");
        assert_eq!(Response::decode(&again).as_ref(), Ok(&m));
    }
    let _ = StatVfs::decode(data);
    let _ = Limits::decode(data);
    let _ = UsersGroups::decode(data);
    let mut f = Framer::with_max_packet(4096);
    let mut rest = data;
    while let Ok(Some(p)) = f.feed(&mut rest) {
        let _ = Request::decode(&p);
        let _ = Response::decode(&p);
    }
});
