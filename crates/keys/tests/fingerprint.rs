//! Fingerprints and randomart against `ssh-keygen -l [-v] -E sha256|md5`, for every key type
//! and size it generates that we read.

mod common;

use common::{have_ssh_keygen, keygen};
use seashell_keys::{
    FingerprintHash, fingerprint, key_bits, key_label, parse_public_key_line, randomart,
};
use std::process::Command;

/// `ssh-keygen -l -v -E hash -f pub`: (first line, the picture).
fn ssh_keygen_lv(path: &std::path::Path, hash: &str) -> (String, String) {
    let out = Command::new("ssh-keygen")
        .args(["-l", "-v", "-E", hash, "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let first = lines.next().unwrap().to_owned();
    let art: Vec<&str> = lines.collect();
    (first, art.join("\n"))
}

#[test]
fn fingerprints_and_randomart_equal_ssh_keygen() {
    if !have_ssh_keygen("fingerprints_and_randomart_equal_ssh_keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kinds: [(&str, &[&str]); 6] = [
        ("ed", &["-t", "ed25519"]),
        ("p256", &["-t", "ecdsa", "-b", "256"]),
        ("p384", &["-t", "ecdsa", "-b", "384"]),
        ("p521", &["-t", "ecdsa", "-b", "521"]),
        ("rsa2048", &["-t", "rsa", "-b", "2048"]),
        ("rsa3072", &["-t", "rsa", "-b", "3072"]),
    ];
    for (name, args) in kinds {
        let path = keygen(dir.path(), name, args, "");
        let public = path.with_extension("pub");
        let line = std::fs::read_to_string(&public).unwrap();
        let (key, _) = parse_public_key_line(line.trim()).unwrap();
        for hash in ["sha256", "md5"] {
            let h = FingerprintHash::parse(hash).unwrap();
            let (first, art) = ssh_keygen_lv(&public, hash);
            let expected = format!(
                "{} {} test@seashell ({})",
                key_bits(&key),
                fingerprint(&key, h),
                key_label(&key)
            );
            assert_eq!(first, expected, "{name} {hash}");
            assert_eq!(randomart(&key, h), art, "{name} {hash}");
        }
    }
}
