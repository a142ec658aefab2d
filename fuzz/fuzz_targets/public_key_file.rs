//! Public key files through the sniffing parser (`parse_public_key_file`): OpenSSH lines,
//! RFC 4716 (headers, continuation lines) and PEM SubjectPublicKeyInfo / PKCS#1. Never a
//! panic; a key that parses formats back, in every format, to text that parses as the same
//! key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_keys::{PublicKeyFormat, format_public_key, parse_public_key_file};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok((key, _comment)) = parse_public_key_file(text) {
        for format in [
            PublicKeyFormat::OpenSsh,
            PublicKeyFormat::Rfc4716,
            PublicKeyFormat::Pkcs8,
            PublicKeyFormat::Pem,
        ] {
            let written = format_public_key(&key, "fuzz", format).expect("a parsed key formats");
            let (again, _) = parse_public_key_file(&written).expect("a formatted key parses");
            assert_eq!(again, key);
        }
    }
});
