//! Passphrase-protected OpenSSH private keys, made by the real `ssh-keygen` with every cipher
//! it can write (`-Z`), read back with `parse_private_key_with_passphrase`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64ct::{Base64, Encoding};
use seashell_keys::openssh::MAX_KDF_ROUNDS;
use seashell_keys::{
    KeyFileError, load_private_key, load_private_key_with_passphrase, parse_private_key,
    parse_private_key_with_passphrase, parse_public_key_line,
};
use seashell_proto::wire::{Reader, put_string, put_u32};

const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END: &str = "-----END OPENSSH PRIVATE KEY-----";
const PASS: &str = "correct horse";

const CIPHERS: [&str; 9] = [
    "aes256-ctr",
    "aes128-ctr",
    "aes192-ctr",
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
];

/// `ssh-keygen`, or `None` (after printing "skipped") outside CI when it is not installed.
fn ssh_keygen(test: &str) -> Option<PathBuf> {
    let found = seashell_testkit::find_program("ssh-keygen");
    if found.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "ssh-keygen is required in CI"
        );
        eprintln!("skipped {test}: ssh-keygen not found");
    }
    found
}

/// `ssh-keygen -q -N PASS -Z cipher -a rounds <type args> -f dir/name`.
fn keygen(
    prog: &Path,
    dir: &Path,
    name: &str,
    kind: &[&str],
    cipher: &str,
    rounds: u32,
) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new(prog)
        .args(["-q", "-N", PASS, "-C", "enc@seashell", "-Z", cipher])
        .args(["-a", &rounds.to_string()])
        .args(kind)
        .arg("-f")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "ssh-keygen -Z {cipher} {kind:?} failed");
    path
}

/// The public key line `ssh-keygen -y` prints for the encrypted key.
fn keygen_public(prog: &Path, path: &Path) -> String {
    let out = Command::new(prog)
        .args(["-y", "-P", PASS, "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn decode_body(text: &str) -> Vec<u8> {
    let start = text.find(BEGIN).unwrap() + BEGIN.len();
    let end = text.find(END).unwrap();
    let b64: String = text[start..end].split_whitespace().collect();
    Base64::decode_vec(&b64).unwrap()
}

fn armor(data: &[u8]) -> String {
    format!("{BEGIN}\n{}\n{END}\n", Base64::encode_string(data))
}

#[test]
fn every_cipher_decrypts_with_the_right_passphrase_only() {
    let Some(prog) = ssh_keygen("every_cipher_decrypts_with_the_right_passphrase_only") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let kinds: [(&str, &[&str]); 2] = [
        ("ed25519", &["-t", "ed25519"]),
        ("ecdsa", &["-t", "ecdsa", "-b", "256"]),
    ];
    for cipher in CIPHERS {
        for (kind, args) in kinds {
            let name = format!("{kind}-{}", cipher.replace('@', "_"));
            let path = keygen(&prog, dir.path(), &name, args, cipher, 4);
            let text = std::fs::read_to_string(&path).unwrap();
            let (expected, _) = parse_public_key_line(&keygen_public(&prog, &path)).unwrap();

            let key = parse_private_key_with_passphrase(&text, PASS.as_bytes())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(key.public_key(), expected, "{name}");
            let loaded = load_private_key_with_passphrase(&path, PASS.as_bytes()).unwrap();
            assert_eq!(loaded.public_key(), expected, "{name}");

            let wrong = parse_private_key_with_passphrase(&text, b"correct horsf").unwrap_err();
            assert!(
                matches!(wrong, KeyFileError::BadPassphrase),
                "{name}: {wrong:?}"
            );
            let none = parse_private_key(&text).unwrap_err();
            assert!(matches!(none, KeyFileError::Encrypted), "{name}: {none:?}");
            let empty = parse_private_key_with_passphrase(&text, b"").unwrap_err();
            assert!(
                matches!(empty, KeyFileError::Encrypted),
                "{name}: {empty:?}"
            );
            let unloaded = load_private_key(&path).unwrap_err();
            assert!(
                matches!(unloaded, KeyFileError::Encrypted),
                "{name}: {unloaded:?}"
            );
        }
    }
}

#[test]
fn encrypted_rsa_key_with_default_cipher() {
    let Some(prog) = ssh_keygen("encrypted_rsa_key_with_default_cipher") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = keygen(
        &prog,
        dir.path(),
        "rsa",
        &["-t", "rsa", "-b", "2048"],
        "aes256-ctr",
        16,
    );
    let (expected, _) = parse_public_key_line(&keygen_public(&prog, &path)).unwrap();
    let key = load_private_key_with_passphrase(&path, PASS.as_bytes()).unwrap();
    assert_eq!(key.public_key(), expected);
    let err = load_private_key_with_passphrase(&path, b"nope").unwrap_err();
    assert!(matches!(err, KeyFileError::BadPassphrase), "{err:?}");
    assert_eq!(err.to_string(), "incorrect passphrase for the private key");
}

#[test]
fn unencrypted_key_ignores_the_passphrase() {
    let Some(prog) = ssh_keygen("unencrypted_key_ignores_the_passphrase") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain");
    let status = Command::new(&prog)
        .args(["-q", "-N", "", "-t", "ed25519", "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let plain = load_private_key(&path).unwrap();
    let with = load_private_key_with_passphrase(&path, b"anything").unwrap();
    assert_eq!(plain.public_key(), with.public_key());
}

/// Rewrites the bcrypt rounds in a key file's KDF options.
fn with_rounds(text: &str, rounds: u32) -> String {
    let data = decode_body(text);
    let mut r = Reader::new(&data[15..]);
    let cipher = r.string("c").unwrap().to_vec();
    let kdf = r.string("k").unwrap().to_vec();
    let options = r.string("o").unwrap().to_vec();
    let rest = r.rest().to_vec();
    let mut o = Reader::new(&options);
    let salt = o.string("salt").unwrap().to_vec();
    let mut new_options = Vec::new();
    put_string(&mut new_options, &salt);
    put_u32(&mut new_options, rounds);
    let mut out = data[..15].to_vec();
    put_string(&mut out, &cipher);
    put_string(&mut out, &kdf);
    put_string(&mut out, &new_options);
    out.extend_from_slice(&rest);
    armor(&out)
}

#[test]
fn huge_kdf_rounds_are_refused_before_any_work() {
    let Some(prog) = ssh_keygen("huge_kdf_rounds_are_refused_before_any_work") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = keygen(&prog, dir.path(), "k", &["-t", "ed25519"], "aes256-ctr", 1);
    let text = std::fs::read_to_string(&path).unwrap();
    for rounds in [MAX_KDF_ROUNDS + 1, 1 << 20, u32::MAX] {
        let start = Instant::now();
        let err = parse_private_key_with_passphrase(&with_rounds(&text, rounds), PASS.as_bytes())
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_millis(100));
        assert!(matches!(err, KeyFileError::Unsupported(_)), "{err:?}");
        // Refused without a passphrase too: nothing to ask for.
        let err = parse_private_key(&with_rounds(&text, rounds)).unwrap_err();
        assert!(matches!(err, KeyFileError::Unsupported(_)), "{err:?}");
    }
    let err =
        parse_private_key_with_passphrase(&with_rounds(&text, 0), PASS.as_bytes()).unwrap_err();
    assert!(matches!(err, KeyFileError::Malformed(_)), "{err:?}");
    // The rewriting itself keeps a good key good.
    parse_private_key_with_passphrase(&with_rounds(&text, 1), PASS.as_bytes()).unwrap();
}

#[test]
fn truncated_or_garbled_encrypted_files_never_panic() {
    let Some(prog) = ssh_keygen("truncated_or_garbled_encrypted_files_never_panic") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for cipher in [
        "aes256-ctr",
        "aes128-cbc",
        "aes256-gcm@openssh.com",
        "chacha20-poly1305@openssh.com",
    ] {
        let path = keygen(
            &prog,
            dir.path(),
            &cipher.replace('@', "_"),
            &["-t", "ed25519"],
            cipher,
            1,
        );
        let data = decode_body(&std::fs::read_to_string(&path).unwrap());
        // Every truncation past the magic is malformed (found before the KDF runs).
        for len in 15..data.len() {
            let err = parse_private_key_with_passphrase(&armor(&data[..len]), PASS.as_bytes())
                .unwrap_err();
            assert!(
                matches!(err, KeyFileError::Malformed(_)),
                "{cipher} at {len}: {err:?}"
            );
        }
        // Trailing bytes after the tag (or the section) are malformed.
        let mut longer = data.clone();
        longer.push(0);
        let err = parse_private_key_with_passphrase(&armor(&longer), PASS.as_bytes()).unwrap_err();
        assert!(
            matches!(err, KeyFileError::Malformed(_)),
            "{cipher}: {err:?}"
        );
        // Flipped bits anywhere give an error, never a panic or another key. CTR and CBC do
        // not authenticate, so a flip inside the comment may still load the same key (as in
        // OpenSSH); the AEAD ciphers refuse every flip.
        let expected = parse_private_key_with_passphrase(&armor(&data), PASS.as_bytes())
            .unwrap()
            .public_key();
        let aead = cipher.contains('@');
        for pos in (15..data.len()).step_by(5) {
            let mut bad = data.clone();
            bad[pos] ^= 0x41;
            match parse_private_key_with_passphrase(&armor(&bad), PASS.as_bytes()) {
                Err(_) => {}
                Ok(key) => {
                    assert!(!aead, "{cipher}: flip at {pos} accepted");
                    assert_eq!(key.public_key(), expected, "{cipher}: flip at {pos}");
                }
            }
        }
    }
}

#[test]
#[cfg(unix)]
fn key_files_open_to_others_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let Some(prog) = ssh_keygen("key_files_open_to_others_are_refused") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = keygen(&prog, dir.path(), "k", &["-t", "ed25519"], "aes256-ctr", 1);
    for mode in [0o644, 0o640, 0o604, 0o660] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = load_private_key_with_passphrase(&path, PASS.as_bytes()).unwrap_err();
        assert!(
            matches!(err, KeyFileError::UnprotectedFile { mode: m } if m == mode),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("UNPROTECTED PRIVATE KEY FILE"),
            "{err}"
        );
        let err = load_private_key(&path).unwrap_err();
        assert!(
            matches!(err, KeyFileError::UnprotectedFile { .. }),
            "{err:?}"
        );
    }
    for mode in [0o600, 0o400] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        load_private_key_with_passphrase(&path, PASS.as_bytes()).unwrap();
    }
}
