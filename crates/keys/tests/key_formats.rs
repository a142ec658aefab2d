//! Hostile and unsupported key files: typed errors naming what is wrong, KDF costs refused
//! before any work, no panics on damaged files of every format.

use seashell_keys::{
    EcdsaCurve, KeyFileError, KeyKind, MAX_PBKDF2_ITERATIONS, PrivateKeyFormat, PublicKeyFormat,
    encode_private_key, format_public_key, generate_key, parse_key_file, parse_private_key,
    parse_public_key_file,
};

fn unsupported(text: &str) -> String {
    match parse_key_file(text, Some(b"pass")) {
        Err(KeyFileError::Unsupported(what)) => what,
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn unsupported_files_say_what_they_are() {
    let dsa = "-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n";
    assert!(unsupported(dsa).contains("DSA"));
    let v1 = "PuTTY-User-Key-File-1: ssh-rsa\nEncryption: none\n";
    assert!(unsupported(v1).contains("version 1"));
    let sshcom = "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nAAAA\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n";
    assert!(unsupported(sshcom).contains("ssh.com"));
    let key = generate_key(KeyKind::Ed25519).unwrap();
    let public = format_public_key(&key.public_key(), "c", PublicKeyFormat::OpenSsh).unwrap();
    assert!(unsupported(&public).contains("public key"));
    let spki = format_public_key(&key.public_key(), "", PublicKeyFormat::Pkcs8).unwrap();
    assert!(unsupported(&spki).contains("public key"));
    assert!(matches!(
        parse_private_key("just some text"),
        Err(KeyFileError::UnknownFormat)
    ));
    assert!(matches!(
        parse_public_key_file("just some text"),
        Err(KeyFileError::UnknownFormat)
    ));
}

#[test]
fn kdf_costs_over_the_caps_are_refused_before_any_work() {
    // PuTTY: 4 GiB of Argon2 memory.
    let ppk = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: aes256-cbc\nComment: c\n\
               Public-Lines: 1\nAAAAC3NzaC1lZDI1NTE5AAAAIGDTDCaH9YO3f3Qj0LXEaCGwOO93Sxngx1YLQ+iG2lId\n\
               Key-Derivation: Argon2id\nArgon2-Memory: 4194304\nArgon2-Passes: 8\n\
               Argon2-Parallelism: 1\nArgon2-Salt: 00112233445566778899aabbccddeeff\n\
               Private-Lines: 1\nAAAAAAAAAAAAAAAAAAAAAA==\nPrivate-MAC: 00\n";
    let start = std::time::Instant::now();
    assert!(unsupported(ppk).contains("Argon2"));
    // Without a passphrase too: the cap is checked first.
    assert!(matches!(
        parse_key_file(ppk, None),
        Err(KeyFileError::Unsupported(_))
    ));
    // PKCS#8: PBKDF2 with more iterations than the cap.
    use pkcs8::der::Encode;
    use pkcs8::der::asn1::OctetStringRef;
    use pkcs8::pkcs5::pbes2;
    let params = pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
        MAX_PBKDF2_ITERATIONS + 1,
        &[7u8; 16],
        [9u8; 16],
    )
    .unwrap();
    let data = [0u8; 64];
    let der = pkcs8::EncryptedPrivateKeyInfoRef {
        encryption_algorithm: params.into(),
        encrypted_data: OctetStringRef::new(&data).unwrap(),
    }
    .to_der()
    .unwrap();
    let pem = pem_block("ENCRYPTED PRIVATE KEY", &der);
    assert!(unsupported(&pem).contains("PBKDF2"));
    // PKCS#8: scrypt asking for 1 GiB of memory (N = 2^20, r = 8).
    let scrypt = pbes2::Parameters {
        kdf: pbes2::ScryptParams {
            salt: pbes2::Salt::new([7u8; 16]).unwrap(),
            cost_parameter: 1 << 20,
            block_size: 8,
            parallelization: 1,
            key_length: None,
        }
        .into(),
        encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: [9u8; 16] },
    };
    let der = pkcs8::EncryptedPrivateKeyInfoRef {
        encryption_algorithm: scrypt.into(),
        encrypted_data: OctetStringRef::new(&data).unwrap(),
    }
    .to_der()
    .unwrap();
    let pem = pem_block("ENCRYPTED PRIVATE KEY", &der);
    assert!(unsupported(&pem).contains("scrypt"));
    assert!(start.elapsed() < std::time::Duration::from_millis(500));
    // Legacy PEM: an unknown cipher.
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                  DEK-Info: BF-CBC,0011223344556677\n\nAAAAAAAAAAA=\n-----END RSA PRIVATE KEY-----\n";
    assert!(unsupported(legacy).contains("BF-CBC"));
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        Base64::encode_string(der)
    )
}

/// Damaged files (truncated, bytes changed) of every written format give errors, never
/// panics, and never a different key.
#[test]
fn damaged_files_of_every_format_never_panic() {
    let keys = [
        generate_key(KeyKind::Ed25519).unwrap(),
        generate_key(KeyKind::Ecdsa(EcdsaCurve::NistP256)).unwrap(),
        generate_key(KeyKind::Rsa(2048)).unwrap(),
    ];
    let mut texts = Vec::new();
    for key in &keys {
        for format in [
            PrivateKeyFormat::OpenSsh,
            PrivateKeyFormat::Pem,
            PrivateKeyFormat::Pkcs8,
        ] {
            if let Ok(t) = encode_private_key(key, "c", format, b"", 16) {
                texts.push((key.public_key(), t.to_string()));
            }
        }
        // One encrypted PEM (cheap KDF) for the decrypting paths.
        if !matches!(key.public_key(), seashell_keys::PublicKey::Ed25519(_)) {
            let t = encode_private_key(key, "", PrivateKeyFormat::Pem, b"pass", 16).unwrap();
            texts.push((key.public_key(), t.to_string()));
        }
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (public, text) in &texts {
        let bytes = text.as_bytes();
        for _ in 0..60 {
            let mut m = bytes.to_vec();
            let at = (next() as usize) % m.len();
            match next() % 3 {
                0 => m.truncate(at),
                1 => m[at] = b"AZaz09+/=\n-:"[(next() % 12) as usize],
                _ => {
                    m.insert(at, b'A');
                }
            }
            let Ok(s) = String::from_utf8(m) else {
                continue;
            };
            // PKCS#8 Ed25519 keys hold no public key: a changed seed is another valid key.
            let unchecked = text.contains("BEGIN PRIVATE KEY")
                && matches!(public, seashell_keys::PublicKey::Ed25519(_));
            if let Ok(loaded) = parse_key_file(&s, Some(b"pass"))
                && !unchecked
            {
                // A change the format ignores (whitespace, padding bits): the same key.
                assert_eq!(&loaded.key.public_key(), public);
            }
        }
    }
}
