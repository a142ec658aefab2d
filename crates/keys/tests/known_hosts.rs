//! known_hosts matching, including entries hashed by the real `ssh-keygen -H`.

mod common;

use std::process::Command;

use common::have_ssh_keygen;
use seashell_keys::openssh::format_public_key_line;
use seashell_keys::{
    HostKeyStatus, KnownHosts, PrivateKey, PublicKey, append_known_host, host_pattern,
    parse_public_key_line,
};

fn ed(seed: u8) -> PublicKey {
    PrivateKey::ed25519_from_seed(&[seed; 32])
        .unwrap()
        .public_key()
}

/// An ECDSA P-256 public key made by ssh-keygen.
fn ecdsa() -> PublicKey {
    parse_public_key_line(
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBK2asTf/fnkAiEkyJn22d0DLiwB7aWtaNS3PHqlwyqu3x6UfSswWqkbekEy9ec81uo3Dd59OX3kvgUpjKBjDHU0=",
    )
    .unwrap()
    .0
}

/// `key-type base64` of a key.
fn k(key: &PublicKey) -> String {
    format_public_key_line(key, "")
}

#[test]
fn plain_host_and_port_forms() {
    let text = format!(
        "example.com {}\n[example.com]:2222 {}\n",
        k(&ed(1)),
        k(&ed(2))
    );
    let hosts = KnownHosts::parse(&text);
    assert_eq!(hosts.len(), 2);
    assert_eq!(
        hosts.check("example.com", 22, &ed(1)),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        hosts.check("EXAMPLE.com", 22, &ed(1)),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        hosts.check("example.com", 2222, &ed(2)),
        HostKeyStatus::Trusted
    );
    // The port-22 entry does not cover other ports, and vice versa.
    assert_eq!(
        hosts.check("example.com", 2200, &ed(1)),
        HostKeyStatus::Unknown
    );
    assert_eq!(
        hosts.check("example.com", 2222, &ed(1)),
        HostKeyStatus::Mismatch {
            known: vec![(ed(2), 2)]
        }
    );
    assert_eq!(hosts.check("other.com", 22, &ed(1)), HostKeyStatus::Unknown);
}

#[test]
fn comma_lists_wildcards_and_negation() {
    let text = format!(
        "# comment\n\n  alias,Example.COM,10.0.0.1 {} trailing comment\n*.corp.net,!secret.corp.net {}\n[build-??]:2022 {}\n",
        k(&ed(1)),
        k(&ed(2)),
        k(&ed(3))
    );
    let hosts = KnownHosts::parse(&text);
    assert_eq!(hosts.len(), 3);
    assert!(hosts.skipped_lines().is_empty());
    for host in ["alias", "example.com", "10.0.0.1"] {
        assert_eq!(
            hosts.check(host, 22, &ed(1)),
            HostKeyStatus::Trusted,
            "{host}"
        );
    }
    assert_eq!(
        hosts.check("www.corp.net", 22, &ed(2)),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        hosts.check("secret.corp.net", 22, &ed(2)),
        HostKeyStatus::Unknown
    );
    assert_eq!(hosts.check("corp.net", 22, &ed(2)), HostKeyStatus::Unknown);
    assert_eq!(
        hosts.check("build-07", 2022, &ed(3)),
        HostKeyStatus::Trusted
    );
    assert_eq!(hosts.check("build-7", 2022, &ed(3)), HostKeyStatus::Unknown);
}

#[test]
fn mismatch_lists_same_type_keys_only() {
    let text = format!("h {}\nh {}\nh {}\n", k(&ed(1)), k(&ecdsa()), k(&ed(2)));
    let hosts = KnownHosts::parse(&text);
    assert_eq!(
        hosts.check("h", 22, &ed(9)),
        HostKeyStatus::Mismatch {
            known: vec![(ed(1), 1), (ed(2), 3)]
        }
    );
    assert_eq!(hosts.check("h", 22, &ed(2)), HostKeyStatus::Trusted);
    assert_eq!(hosts.check("h", 22, &ecdsa()), HostKeyStatus::Trusted);
    // Only an ECDSA key known: an Ed25519 key is unknown, not a mismatch.
    let hosts = KnownHosts::parse(&format!("g {}\n", k(&ecdsa())));
    assert_eq!(hosts.check("g", 22, &ed(1)), HostKeyStatus::Unknown);
}

#[test]
fn revoked_takes_precedence_and_cert_authority_is_ignored() {
    let text = format!(
        "h {}\n@revoked * {}\n@cert-authority *.example.com {}\n",
        k(&ed(1)),
        k(&ed(1)),
        k(&ed(4))
    );
    let hosts = KnownHosts::parse(&text);
    assert_eq!(hosts.check("h", 22, &ed(1)), HostKeyStatus::Revoked);
    assert_eq!(
        hosts.check("x.example.com", 22, &ed(4)),
        HostKeyStatus::Unknown
    );
    // A revoked line for another key does not affect this one.
    let hosts = KnownHosts::parse(&format!("h {}\n@revoked h {}\n", k(&ed(1)), k(&ed(2))));
    assert_eq!(hosts.check("h", 22, &ed(1)), HostKeyStatus::Trusted);
}

#[test]
fn malformed_lines_are_skipped_with_line_numbers() {
    let text = format!(
        "h {}\nonly-host\n@bogus h {}\nh ssh-ed25519 !!!notbase64\nh ssh-dss AAAAB3NzaC1kc3MAAACBAP\nh ssh-rsa {}\n|2|abc|def {}\n,, {}\n",
        k(&ed(1)),
        k(&ed(1)),
        k(&ed(1)).split(' ').nth(1).unwrap(),
        k(&ed(1)),
        k(&ed(1))
    );
    let hosts = KnownHosts::parse(&text);
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts.skipped_lines(), &[2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(hosts.check("h", 22, &ed(1)), HostKeyStatus::Trusted);
}

#[test]
fn hashed_entries_from_ssh_keygen() {
    if !have_ssh_keygen("hashed_entries_from_ssh_keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known_hosts");
    let text = format!(
        "example.com {}\n[example.com]:2222 {}\nother.org {}\n",
        k(&ed(1)),
        k(&ed(2)),
        k(&ecdsa())
    );
    std::fs::write(&path, text).unwrap();
    let out = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let hashed = std::fs::read_to_string(&path).unwrap();
    assert!(hashed.lines().all(|l| l.starts_with("|1|")), "{hashed}");
    assert!(!hashed.contains("example.com"));

    let hosts = KnownHosts::load(&path).unwrap();
    assert_eq!(hosts.len(), 3);
    assert_eq!(
        hosts.check("example.com", 22, &ed(1)),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        hosts.check("Example.Com", 22, &ed(1)),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        hosts.check("example.com", 2222, &ed(2)),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        hosts.check("other.org", 22, &ecdsa()),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        hosts.check("example.com", 22, &ed(3)),
        HostKeyStatus::Mismatch {
            known: vec![(ed(1), 1)]
        }
    );
    assert_eq!(
        hosts.check("example.org", 22, &ed(1)),
        HostKeyStatus::Unknown
    );
    assert_eq!(
        hosts.check("example.com", 2223, &ed(2)),
        HostKeyStatus::Unknown
    );
}

#[test]
fn append_then_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new").join("dir").join("known_hosts");
    assert!(KnownHosts::load(&path).unwrap().is_empty());

    append_known_host(&path, "example.com", 22, &ed(1)).unwrap();
    append_known_host(&path, "example.com", 2222, &ecdsa()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        format!(
            "example.com {}\n[example.com]:2222 {}\n",
            k(&ed(1)),
            k(&ecdsa())
        )
    );
    let hosts = KnownHosts::load(&path).unwrap();
    assert_eq!(
        hosts.check("example.com", 22, &ed(1)),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        hosts.check("example.com", 2222, &ecdsa()),
        HostKeyStatus::Trusted
    );

    use std::os::unix::fs::PermissionsExt;
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let file_mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(file_mode & 0o777, 0o600);

    // A file without a final newline gets one before the new line.
    std::fs::write(&path, format!("a {}", k(&ed(1)))).unwrap();
    append_known_host(&path, "b", 22, &ed(2)).unwrap();
    let hosts = KnownHosts::load(&path).unwrap();
    assert_eq!(hosts.check("a", 22, &ed(1)), HostKeyStatus::Trusted);
    assert_eq!(hosts.check("b", 22, &ed(2)), HostKeyStatus::Trusted);

    // Host names that would corrupt the file or become patterns are refused.
    for bad in [
        "", "a b", "a\nb", "a,b", "*", "h?st", "!h", "|1|x", "@revoked", "#h",
    ] {
        let err = append_known_host(&path, bad, 22, &ed(1)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(host_pattern("h", 22), "h");
}

#[test]
fn hostile_text_never_panics() {
    let line = format!("h,*.x,!y {}", k(&ed(1)));
    let bytes = line.as_bytes();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x20, 0x80] {
            let mut m = bytes.to_vec();
            m[i] ^= mask;
            let hosts = KnownHosts::parse(&String::from_utf8_lossy(&m));
            let _ = hosts.check("h", 22, &ed(1));
        }
        let hosts = KnownHosts::parse(&String::from_utf8_lossy(&bytes[..i]));
        let _ = hosts.check("h", 22, &ed(1));
    }
    let long = format!("{} {}", "*a".repeat(2000), k(&ed(1)));
    let hosts = KnownHosts::parse(&long);
    assert_eq!(
        hosts.check(&"b".repeat(3000), 22, &ed(1)),
        HostKeyStatus::Unknown
    );
}

#[test]
fn p384_and_p521_entries_from_ssh_keygen() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut keys = Vec::new();
    for name in ["host_ecdsa384", "host_ecdsa521"] {
        let line = std::fs::read_to_string(format!("{dir}/{name}.pub")).unwrap();
        let (key, comment) = parse_public_key_line(&line).unwrap();
        assert_eq!(
            comment,
            format!("seashell-fixture-{}", name.replace('_', "-"))
        );
        // format_public_key_line writes back what ssh-keygen wrote.
        assert_eq!(
            format!("{} {comment}\n", format_public_key_line(&key, "")),
            line
        );
        keys.push(key);
    }
    let text = format!(
        "p384.example {}\n[p521.example]:2222 {} comment\n",
        k(&keys[0]),
        k(&keys[1])
    );
    let kh = KnownHosts::parse(&text);
    assert!(kh.skipped_lines().is_empty());
    assert_eq!(
        kh.check("p384.example", 22, &keys[0]),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        kh.check("p521.example", 2222, &keys[1]),
        HostKeyStatus::Trusted
    );
    // A key of another type for the host is unknown, not a mismatch.
    assert_eq!(
        kh.check("p384.example", 22, &keys[1]),
        HostKeyStatus::Unknown
    );
    assert_eq!(
        kh.check("p384.example", 22, &ecdsa()),
        HostKeyStatus::Unknown
    );
}
