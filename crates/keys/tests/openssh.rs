//! OpenSSH key files, checked against keys made by the real `ssh-keygen`.

mod common;

use std::path::Path;

use base64ct::{Base64, Encoding};
use common::{have_ssh_keygen, keygen, keygen_fingerprint, pub_path};
use seashell_keys::{KeyFileError, load_private_key, parse_private_key, parse_public_key_line};
use seashell_proto::wire::{Reader, put_string, put_u32};

const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END: &str = "-----END OPENSSH PRIVATE KEY-----";

/// Decodes the base64 body of an armored key.
fn decode_body(text: &str) -> Vec<u8> {
    let start = text.find(BEGIN).unwrap() + BEGIN.len();
    let end = text.find(END).unwrap();
    let b64: String = text[start..end].split_whitespace().collect();
    Base64::decode_vec(&b64).unwrap()
}

/// Armors a key body as OpenSSH does (70 characters a line).
fn armor(data: &[u8]) -> String {
    let b64 = Base64::encode_string(data);
    let mut out = format!("{BEGIN}\n");
    for chunk in b64.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// The outer fields of a decoded key file.
struct Outer {
    cipher: Vec<u8>,
    kdf: Vec<u8>,
    kdf_options: Vec<u8>,
    count: u32,
    public: Vec<u8>,
    private: Vec<u8>,
}

fn split_outer(data: &[u8]) -> Outer {
    assert_eq!(&data[..15], b"openssh-key-v1\0");
    let mut r = Reader::new(&data[15..]);
    let outer = Outer {
        cipher: r.string("c").unwrap().to_vec(),
        kdf: r.string("k").unwrap().to_vec(),
        kdf_options: r.string("o").unwrap().to_vec(),
        count: r.u32("n").unwrap(),
        public: r.string("p").unwrap().to_vec(),
        private: r.string("s").unwrap().to_vec(),
    };
    r.end("e").unwrap();
    outer
}

fn join_outer(o: &Outer) -> Vec<u8> {
    let mut out = b"openssh-key-v1\0".to_vec();
    put_string(&mut out, &o.cipher);
    put_string(&mut out, &o.kdf);
    put_string(&mut out, &o.kdf_options);
    put_u32(&mut out, o.count);
    put_string(&mut out, &o.public);
    put_string(&mut out, &o.private);
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

const KINDS: [(&str, &[&str], &str, &[&str]); 5] = [
    (
        "ed25519",
        &["-t", "ed25519"],
        "ssh-ed25519",
        &["ssh-ed25519"],
    ),
    (
        "rsa",
        &["-t", "rsa", "-b", "3072"],
        "ssh-rsa",
        &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
    ),
    (
        "ecdsa",
        &["-t", "ecdsa", "-b", "256"],
        "ecdsa-sha2-nistp256",
        &["ecdsa-sha2-nistp256"],
    ),
    (
        "ecdsa384",
        &["-t", "ecdsa", "-b", "384"],
        "ecdsa-sha2-nistp384",
        &["ecdsa-sha2-nistp384"],
    ),
    (
        "ecdsa521",
        &["-t", "ecdsa", "-b", "521"],
        "ecdsa-sha2-nistp521",
        &["ecdsa-sha2-nistp521"],
    ),
];

/// The data an SSHSIG signature covers (OpenSSH `PROTOCOL.sshsig`).
fn sshsig_signed_data(namespace: &str, hash_alg: &str, message: &[u8]) -> Vec<u8> {
    let hash = match hash_alg {
        "sha512" => ring::digest::digest(&ring::digest::SHA512, message),
        _ => ring::digest::digest(&ring::digest::SHA256, message),
    };
    let mut out = b"SSHSIG".to_vec();
    put_string(&mut out, namespace.as_bytes());
    put_string(&mut out, b"");
    put_string(&mut out, hash_alg.as_bytes());
    put_string(&mut out, hash.as_ref());
    out
}

/// Signs `message` with `ssh-keygen -Y sign` and returns (public key blob, hash algorithm,
/// signature blob) from the SSHSIG armor.
fn ssh_keygen_sign(key: &Path, message: &[u8]) -> (Vec<u8>, String, Vec<u8>) {
    let data = key.with_extension("msg");
    std::fs::write(&data, message).unwrap();
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", "file", "-f"])
        .arg(key)
        .arg(&data)
        .status()
        .unwrap();
    assert!(status.success());
    let armored = read(&data.with_extension("msg.sig"));
    let b64: String = armored
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let sig = Base64::decode_vec(&b64).unwrap();
    assert_eq!(&sig[..6], b"SSHSIG");
    let mut r = Reader::new(&sig[10..]);
    let public = r.string("public key").unwrap().to_vec();
    assert_eq!(r.string("namespace").unwrap(), b"file");
    r.string("reserved").unwrap();
    let hash_alg = String::from_utf8(r.string("hash").unwrap().to_vec()).unwrap();
    let blob = r.string("signature").unwrap().to_vec();
    r.end("sshsig").unwrap();
    (public, hash_alg, blob)
}

#[test]
fn signatures_made_by_ssh_keygen_verify() {
    if !have_ssh_keygen("signatures_made_by_ssh_keygen_verify") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let message = b"signed by OpenSSH\n";
    for (name, args, _, _) in KINDS {
        let path = keygen(dir.path(), name, args, "");
        let public = load_private_key(&path).unwrap().public_key();
        let (blob, hash_alg, sig) = ssh_keygen_sign(&path, message);
        assert_eq!(blob, public.to_blob(), "{name}");
        let alg = String::from_utf8(Reader::new(&sig).string("alg").unwrap().to_vec()).unwrap();
        let data = sshsig_signed_data("file", &hash_alg, message);
        public.verify(&alg, &data, &sig).unwrap();
        assert!(public.verify(&alg, b"tampered", &sig).is_err(), "{name}");
        let mut tampered = sig.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(public.verify(&alg, &data, &tampered).is_err(), "{name}");
    }
}

#[test]
fn keys_from_ssh_keygen_parse_and_sign() {
    if !have_ssh_keygen("keys_from_ssh_keygen_parse_and_sign") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, args, key_type, algs) in KINDS {
        let path = keygen(dir.path(), name, args, "");
        let key = load_private_key(&path).unwrap();
        let public = key.public_key();
        assert_eq!(public.key_type(), key_type);
        assert_eq!(public.signature_algorithms(), algs);
        assert_eq!(public.fingerprint(), keygen_fingerprint(&path), "{name}");

        let (from_line, comment) = parse_public_key_line(&read(&pub_path(&path))).unwrap();
        assert_eq!(from_line, public);
        assert_eq!(comment, "test@seashell");

        for alg in algs {
            let blob = key.sign(alg, b"session id and more").unwrap();
            public.verify(alg, b"session id and more", &blob).unwrap();
            assert!(public.verify(alg, b"other data", &blob).is_err());
        }
        // Windows line endings and indentation inside the armor are tolerated.
        let crlf = read(&path).replace('\n', "\r\n  ");
        assert_eq!(parse_private_key(&crlf).unwrap().public_key(), public);
    }
}

#[test]
fn encrypted_key_without_passphrase_asks_for_one() {
    if !have_ssh_keygen("encrypted_key_without_passphrase_asks_for_one") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = keygen(dir.path(), "enc", &["-t", "ed25519"], "secret");
    let err = load_private_key(&path).unwrap_err();
    assert!(matches!(err, KeyFileError::Encrypted), "{err:?}");
    assert_eq!(err.to_string(), "the private key needs a passphrase");
}

#[test]
fn other_formats_and_types_are_refused() {
    if !have_ssh_keygen("other_formats_and_types_are_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pem = keygen(
        dir.path(),
        "pem",
        &["-t", "rsa", "-b", "2048", "-m", "PEM"],
        "",
    );
    // PEM keys are read by the sniffing loader, but not by the OpenSSH-only parser.
    load_private_key(&pem).unwrap();
    let pem_text = std::fs::read_to_string(&pem).unwrap();
    assert!(matches!(
        seashell_keys::openssh::parse_private_key(&pem_text),
        Err(KeyFileError::NotOpenSsh)
    ));
    // A key type we do not implement (DSA), as a public key line.
    let mut dss = Vec::new();
    put_string(&mut dss, b"ssh-dss");
    for part in [&[0x7fu8; 128][..], &[0x7f; 20], &[2], &[0x33; 128]] {
        put_string(&mut dss, part);
    }
    let dss_line = format!("ssh-dss {} old@host", Base64::encode_string(&dss));
    match parse_public_key_line(&dss_line) {
        Err(KeyFileError::Unsupported(what)) => assert!(what.contains("ssh-dss"), "{what}"),
        other => panic!("{other:?}"),
    }
    let small = keygen(dir.path(), "rsa1024", &["-t", "rsa", "-b", "1024"], "");
    match load_private_key(&small) {
        Err(KeyFileError::Unsupported(what)) => assert!(what.contains("1024"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_private_key("hello"),
        Err(KeyFileError::UnknownFormat)
    ));
    assert!(matches!(
        load_private_key(&dir.path().join("missing")),
        Err(KeyFileError::Io(_))
    ));
}

#[test]
fn header_and_private_section_must_agree() {
    if !have_ssh_keygen("header_and_private_section_must_agree") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = decode_body(&read(&keygen(dir.path(), "a", &["-t", "ed25519"], "")));
    let b = decode_body(&read(&keygen(dir.path(), "b", &["-t", "ed25519"], "")));
    let mut outer = split_outer(&a);
    outer.public = split_outer(&b).public;
    let err = parse_private_key(&armor(&join_outer(&outer))).unwrap_err();
    assert!(matches!(err, KeyFileError::Mismatch), "{err:?}");

    // Check integers that differ.
    let mut outer = split_outer(&a);
    outer.private[7] ^= 1;
    let err = parse_private_key(&armor(&join_outer(&outer))).unwrap_err();
    assert!(matches!(err, KeyFileError::Malformed(_)), "{err:?}");

    // Two keys in one file.
    let mut outer = split_outer(&a);
    outer.count = 2;
    let err = parse_private_key(&armor(&join_outer(&outer))).unwrap_err();
    assert!(matches!(err, KeyFileError::Unsupported(_)), "{err:?}");

    // The unchanged body still parses.
    parse_private_key(&armor(&a)).unwrap();
}

#[test]
fn mutated_key_files_never_panic() {
    if !have_ssh_keygen("mutated_key_files_never_panic") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, args, _, _) in KINDS {
        let body = decode_body(&read(&keygen(dir.path(), name, args, "")));
        let original = parse_private_key(&armor(&body)).unwrap().public_key();
        for i in 0..body.len() {
            for mask in [0x01u8, 0x80] {
                let mut m = body.clone();
                m[i] ^= mask;
                // Flips in the comment or a check integer pair may still parse; the key must
                // then be the original one.
                if let Ok(k) = parse_private_key(&armor(&m)) {
                    assert_eq!(k.public_key(), original, "{name} flip {i}");
                }
            }
            assert!(
                parse_private_key(&armor(&body[..i])).is_err(),
                "{name} cut {i}"
            );
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(parse_private_key(&armor(&longer)).is_err());
    }
}

#[test]
fn public_key_lines() {
    let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFT4WRDQpHhN8Uz1WO1gieVo8wXwL7ECAQYG4F384fRQ";
    let (key, comment) = parse_public_key_line(line).unwrap();
    assert_eq!(comment, "");
    assert_eq!(
        key.fingerprint(),
        "SHA256:eGOLUSVN+aX6heNxJl83M8Tor0pLZjQaCUKCK+kjY/Y"
    );
    let (_, comment) = parse_public_key_line(&format!("  {line}\tmy key  here \n")).unwrap();
    assert_eq!(comment, "my key  here");
    assert_eq!(
        seashell_keys::openssh::format_public_key_line(&key, "c"),
        format!("{line} c")
    );
    let relabelled = line.replace("ssh-ed25519 ", "ssh-rsa ");
    assert!(matches!(
        parse_public_key_line(&relabelled),
        Err(KeyFileError::Mismatch)
    ));
    for bad in ["", "ssh-ed25519", "ssh-ed25519 !!!!", "ssh-ed25519 AAAA"] {
        assert!(
            matches!(parse_public_key_line(bad), Err(KeyFileError::Malformed(_))),
            "{bad:?}"
        );
    }
    // Truncated blobs.
    let b64 = line.split(' ').nth(1).unwrap();
    let blob = Base64::decode_vec(b64).unwrap();
    for i in 0..blob.len() {
        let cut = format!("ssh-ed25519 {}", Base64::encode_string(&blob[..i]));
        assert!(parse_public_key_line(&cut).is_err());
    }
}
