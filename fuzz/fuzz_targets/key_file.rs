//! Every private key format through the sniffing parsers: `parse_key_file` (text: OpenSSH,
//! PEM PKCS#1/SEC1 plain and legacy-encrypted, PKCS#8 plain and PBES2, PuTTY PPK v2/v3,
//! ssh.com) and `parse_key_file_bytes` (the same, and binary DER PKCS#8 / encrypted PKCS#8 /
//! PKCS#1 / SEC1). The first byte chooses whether the fixed passphrase is given (KDF costs
//! are capped, so even then an input costs a few seconds at most). Never a panic; a key that
//! loads writes back (OpenSSH format) to a file that loads as the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_keys::{
    LoadedKey, PrivateKeyFormat, encode_private_key, parse_key_file, parse_key_file_bytes,
};

fn round_trip(loaded: &LoadedKey) {
    let written = encode_private_key(
        &loaded.key,
        &loaded.comment,
        PrivateKeyFormat::OpenSsh,
        b"",
        16,
    )
    .expect("a loaded key encodes");
    let again = parse_key_file(&written, None).expect("a written key loads");
    assert_eq!(again.key.public_key(), loaded.key.public_key());
    assert_eq!(again.comment, loaded.comment);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let passphrase: Option<&[u8]> = if mode & 1 == 1 { Some(b"fuzz") } else { None };
    let from_bytes = parse_key_file_bytes(rest, passphrase);
    if let Ok(loaded) = &from_bytes {
        round_trip(loaded);
    }
    if let Ok(text) = core::str::from_utf8(rest) {
        let from_text = parse_key_file(text, passphrase);
        if let Ok(loaded) = &from_text {
            round_trip(loaded);
        }
        // Text that is not DER reads the same through both entry points.
        if rest.first() != Some(&0x30) && rest.len() <= 1 << 20 {
            assert_eq!(from_text.is_ok(), from_bytes.is_ok());
        }
    }
});
