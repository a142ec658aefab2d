//! Every private key format through the sniffing parser (`parse_key_file`): OpenSSH, PEM
//! PKCS#1/SEC1 (plain and legacy-encrypted), PKCS#8 (plain and PBES2), PuTTY PPK v2/v3. The
//! first byte chooses whether the fixed passphrase is given (KDF costs are capped, so even
//! then an input costs a few seconds at most). Never a panic; a key that loads writes back
//! (OpenSSH format) to a file that loads as the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_keys::{PrivateKeyFormat, encode_private_key, parse_key_file};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = core::str::from_utf8(rest) else {
        return;
    };
    let passphrase: Option<&[u8]> = if mode & 1 == 1 { Some(b"fuzz") } else { None };
    if let Ok(loaded) = parse_key_file(text, passphrase) {
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
});
