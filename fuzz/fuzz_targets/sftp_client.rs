//! The SFTP client engine fed arbitrary server bytes (to be filled in for issue 13).
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_sftp::Framer;

fuzz_target!(|data: &[u8]| {
    let mut f = Framer::new();
    let mut rest = data;
    while let Ok(Some(_)) = f.feed(&mut rest) {}
});
