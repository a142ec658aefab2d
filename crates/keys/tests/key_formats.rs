//! Hostile and unsupported key files: typed errors naming what is wrong, KDF costs refused
//! before any work, no panics on damaged files of every format.

use seashell_keys::{
    EcdsaCurve, KeyFileError, KeyFileFormat, KeyKind, MAX_PBKDF2_ITERATIONS, PrivateKey,
    PrivateKeyFormat, PublicKeyFormat, SecretParts, encode_private_key, format_public_key,
    generate_key, parse_key_file, parse_key_file_bytes, parse_private_key, parse_public_key_file,
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
    assert!(matches!(
        parse_key_file(sshcom, None),
        Err(KeyFileError::Malformed("ssh.com magic"))
    ));
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

/// Bytes changed, inserted or cut at pseudo-random places (xorshift, fixed seed).
fn mutations(bytes: &[u8], count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut seed = seed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    (0..count)
        .map(|_| {
            let mut m = bytes.to_vec();
            let at = next() % m.len();
            match next() % 3 {
                0 => m.truncate(at),
                1 => m[at] ^= 1 << (next() % 8),
                _ => m.insert(at, next() as u8),
            }
            m
        })
        .collect()
}

fn put_u32(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&u32::try_from(v).unwrap().to_be_bytes());
}

fn put_string(out: &mut Vec<u8>, v: &[u8]) {
    put_u32(out, v.len());
    out.extend_from_slice(v);
}

/// An ssh.com integer: bit count, then the bytes without leading zeros.
fn put_sshcom_int(out: &mut Vec<u8>, v: &[u8]) {
    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    let v = &v[start..];
    let bits = v.len() * 8 - v.first().map_or(8, |b| b.leading_zeros() as usize);
    put_u32(out, bits);
    out.extend_from_slice(v);
}

/// An ssh.com private key file as puttygen writes it (built here so that this test needs no
/// tool): the RSA components e, d, n, u = p⁻¹ mod q, p, q; 3DES-CBC when `passphrase` is
/// given.
fn sshcom_file(key: &PrivateKey, key_type: &str, passphrase: Option<&[u8]>) -> String {
    use base64ct::{Base64, Encoding};
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
    use md5::{Digest, Md5};
    let SecretParts::Rsa {
        n,
        e,
        d,
        p,
        q,
        iqmp,
        ..
    } = key.secret_parts()
    else {
        panic!("an RSA key");
    };
    // Our iqmp is q⁻¹ mod p: it is ssh.com's u with the primes swapped.
    let mut components = Vec::new();
    for part in [e, d, n, iqmp, q, p] {
        put_sshcom_int(&mut components, part);
    }
    let mut data = Vec::new();
    put_u32(&mut data, components.len());
    data.extend_from_slice(&components);
    let cipher = match passphrase {
        None => "none",
        Some(pass) => {
            data.resize(data.len().div_ceil(8) * 8, 0);
            let first = Md5::digest(pass);
            let second = Md5::digest([pass, first.as_slice()].concat());
            let des_key = [first.as_slice(), &second[..8]].concat();
            let mut m =
                cbc::Encryptor::<des::TdesEde3>::new_from_slices(&des_key, &[0; 8]).unwrap();
            for chunk in data.chunks_exact_mut(8) {
                m.encrypt_block(chunk.try_into().unwrap());
            }
            "3des-cbc"
        }
    };
    let mut body = Vec::new();
    put_string(&mut body, key_type.as_bytes());
    put_string(&mut body, cipher.as_bytes());
    put_string(&mut body, &data);
    let mut blob = 0x3f6f_f9ebu32.to_be_bytes().to_vec();
    put_u32(&mut blob, body.len() + 8);
    blob.extend_from_slice(&body);
    let b64 = Base64::encode_string(&blob);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(70)
        .map(|c| core::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"a long \\\ncomment\"\n{}\n\
         ---- END SSH2 ENCRYPTED PRIVATE KEY ----\n",
        lines.join("\n")
    )
}

const RSA_TYPE: &str = "if-modn{sign{rsa-pkcs1-sha1},encrypt{rsa-pkcs1v2-oaep}}";

/// ssh.com files: plain and 3DES load with their comment; no or a wrong passphrase, other
/// ciphers and key types, and damaged files give typed errors, never a panic or another key.
#[test]
fn sshcom_files_load_and_damaged_ones_give_typed_errors() {
    let key = generate_key(KeyKind::Rsa(2048)).unwrap();
    let public = key.public_key();
    let plain = sshcom_file(&key, RSA_TYPE, None);
    let loaded = parse_key_file(&plain, None).unwrap();
    assert_eq!(loaded.key.public_key(), public);
    assert_eq!(loaded.comment, "a long comment");
    assert_eq!(loaded.format, KeyFileFormat::SshCom);
    assert!(!loaded.encrypted);
    let enc = sshcom_file(&key, RSA_TYPE, Some(b"pass"));
    let loaded = parse_key_file(&enc, Some(b"pass")).unwrap();
    assert_eq!(loaded.key.public_key(), public);
    assert!(loaded.encrypted);
    assert!(matches!(
        parse_key_file(&enc, None),
        Err(KeyFileError::Encrypted)
    ));
    assert!(matches!(
        parse_key_file(&enc, Some(b"")),
        Err(KeyFileError::Encrypted)
    ));
    assert!(matches!(
        parse_key_file(&enc, Some(b"wrong")),
        Err(KeyFileError::BadPassphrase)
    ));
    // DSA and other key types, other ciphers: Unsupported, naming them.
    assert!(
        unsupported(&sshcom_file(
            &key,
            "dl-modp{sign{dsa-nist-sha1},dh{plain}}",
            None
        ))
        .contains("DSA")
    );
    assert!(unsupported(&sshcom_file(&key, "ec-modp", None)).contains("ec-modp"));
    let other_cipher = {
        // Rebuild the blob with a cipher name of the same length as "3des-cbc".
        use base64ct::{Base64, Encoding};
        let text = sshcom_file(&key, RSA_TYPE, Some(b"pass"));
        let b64: String = text
            .lines()
            .skip(3)
            .take_while(|l| !l.starts_with("----"))
            .collect();
        let mut blob = Base64::decode_vec(&b64).unwrap();
        let at = blob.windows(8).position(|w| w == b"3des-cbc").unwrap();
        blob[at..at + 8].copy_from_slice(b"blowfish");
        format!(
            "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n{}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n",
            Base64::encode_string(&blob)
        )
    };
    assert!(unsupported(&other_cipher).contains("blowfish"));
    // Damaged files: typed errors or (a change the format ignores) the same key.
    for (text, pass) in [(&plain, None), (&enc, Some(&b"pass"[..]))] {
        for m in mutations(text.as_bytes(), 150, 0x1234_5678_9abc_def1) {
            let Ok(s) = String::from_utf8(m) else {
                continue;
            };
            if let Ok(loaded) = parse_key_file(&s, pass) {
                assert_eq!(loaded.key.public_key(), public);
            }
        }
    }
}

/// The DER inside a PEM block.
fn pem_der(text: &str) -> Vec<u8> {
    use base64ct::{Base64, Encoding};
    let b64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':') && !l.is_empty())
        .collect();
    Base64::decode_vec(&b64).unwrap()
}

/// Binary DER keys (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1) load through the bytes entry
/// point; damaged, truncated, oversized and non-key bytes give typed errors, never a panic.
#[test]
fn der_files_load_and_damaged_ones_give_typed_errors() {
    let keys = [
        generate_key(KeyKind::Ed25519).unwrap(),
        generate_key(KeyKind::Ecdsa(EcdsaCurve::NistP384)).unwrap(),
        generate_key(KeyKind::Rsa(2048)).unwrap(),
    ];
    for (i, key) in keys.iter().enumerate() {
        let public = key.public_key();
        let is_ed25519 = matches!(public, seashell_keys::PublicKey::Ed25519(_));
        let mut ders = vec![(
            pem_der(&encode_private_key(key, "", PrivateKeyFormat::Pkcs8, b"", 16).unwrap()),
            KeyFileFormat::Pkcs8,
        )];
        if !is_ed25519 {
            let format = if i == 1 {
                KeyFileFormat::Sec1
            } else {
                KeyFileFormat::Pkcs1
            };
            let pem = encode_private_key(key, "", PrivateKeyFormat::Pem, b"", 16).unwrap();
            ders.push((pem_der(&pem), format));
        }
        for (der, format) in &ders {
            let loaded = parse_key_file_bytes(der, None).unwrap();
            assert_eq!(loaded.key.public_key(), public);
            assert_eq!(loaded.format, *format);
            assert!(!loaded.encrypted);
            for m in mutations(der, 200, 0xdead_beef_0bad_f00d ^ i as u64) {
                if let Ok(loaded) = parse_key_file_bytes(&m, None)
                    && !is_ed25519
                {
                    assert_eq!(loaded.key.public_key(), public);
                }
            }
        }
    }
    // Encrypted PKCS#8 DER (PBKDF2 is slow on purpose: one key, few damaged copies).
    let key = &keys[1];
    let text = encode_private_key(key, "", PrivateKeyFormat::Pkcs8, b"pass", 16).unwrap();
    let der = pem_der(&text);
    let loaded = parse_key_file_bytes(&der, Some(b"pass")).unwrap();
    assert_eq!(loaded.key.public_key(), key.public_key());
    assert!(loaded.encrypted);
    assert!(matches!(
        parse_key_file_bytes(&der, None),
        Err(KeyFileError::Encrypted)
    ));
    assert!(matches!(
        parse_key_file_bytes(&der, Some(b"wrong")),
        Err(KeyFileError::BadPassphrase)
    ));
    for m in mutations(&der, 40, 7) {
        let _ = parse_key_file_bytes(&m, None);
    }
    // Not a key: typed errors.
    assert!(matches!(
        parse_key_file_bytes(&[], None),
        Err(KeyFileError::UnknownFormat)
    ));
    assert!(matches!(
        parse_key_file_bytes(&[0x30, 0x03, 0x02, 0x01, 0x00], None),
        Err(KeyFileError::Malformed(_))
    ));
    assert!(matches!(
        parse_key_file_bytes(&[0xff, 0xfe, 0x00], None),
        Err(KeyFileError::UnknownFormat)
    ));
    assert!(matches!(
        parse_key_file_bytes(&vec![0x30; (1 << 20) + 1], None),
        Err(KeyFileError::Unsupported(_))
    ));
    // Text still goes through the text formats.
    let pem = encode_private_key(&keys[0], "c", PrivateKeyFormat::OpenSsh, b"", 16).unwrap();
    let loaded = parse_key_file_bytes(pem.as_bytes(), None).unwrap();
    assert_eq!(loaded.format, KeyFileFormat::OpenSsh);
    assert_eq!(loaded.comment, "c");
}
