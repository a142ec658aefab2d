//! Certificates issued by the real `ssh-keygen -s`: parsed, CA signature verified, checked
//! for validity and principals; tampered ones refused; our own issued ones read back by
//! `ssh-keygen -L`; host certificates trusted through `@cert-authority` lines.

mod common;

use std::path::Path;
use std::process::Command;

use common::{have_ssh_keygen, keygen, pub_path};
use seashell_keys::certificate::{describe_certificate, parse_validity};
use seashell_keys::openssh::format_public_key_line;
use seashell_keys::{
    CertError, CertFields, CertType, Certificate, HostKeyStatus, KnownHosts, PublicKey,
    certificate_path_for, load_certificate, load_private_key, parse_public_key_line,
};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Runs `ssh-keygen -s ca -I id <args> key.pub` and returns the certificate.
fn sign(ca: &Path, key: &Path, args: &[&str]) -> Certificate {
    let out = Command::new("ssh-keygen")
        .arg("-q")
        .arg("-s")
        .arg(ca)
        .args(["-I", "test-id"])
        .args(args)
        .arg(pub_path(key))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    load_certificate(&certificate_path_for(key)).unwrap()
}

fn public(path: &Path) -> PublicKey {
    let text = std::fs::read_to_string(pub_path(path)).unwrap();
    parse_public_key_line(&text).unwrap().0
}

#[test]
fn ssh_keygen_user_certificates_of_every_type_verify() {
    if !have_ssh_keygen("ssh_keygen_user_certificates_of_every_type_verify") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cas = [
        keygen(dir.path(), "ca_ed", &["-t", "ed25519"], ""),
        keygen(dir.path(), "ca_ec", &["-t", "ecdsa", "-b", "384"], ""),
        keygen(dir.path(), "ca_rsa", &["-t", "rsa", "-b", "2048"], ""),
    ];
    let users = [
        keygen(dir.path(), "u_ed", &["-t", "ed25519"], ""),
        keygen(dir.path(), "u_ec", &["-t", "ecdsa", "-b", "256"], ""),
        keygen(dir.path(), "u_ec5", &["-t", "ecdsa", "-b", "521"], ""),
        keygen(dir.path(), "u_rsa", &["-t", "rsa", "-b", "2048"], ""),
    ];
    let t = now();
    for ca in &cas {
        for user in &users {
            let cert = sign(
                ca,
                user,
                &[
                    "-n",
                    "alice,bob",
                    "-V",
                    "-1h:+1h",
                    "-O",
                    "source-address=127.0.0.1/32",
                ],
            );
            let f = cert.fields();
            assert_eq!(f.cert_type, CertType::User);
            assert_eq!(f.key_id, "test-id");
            assert_eq!(f.principals, ["alice", "bob"]);
            assert_eq!(&f.key, &public(user));
            assert_eq!(cert.signature_key(), &public(ca));
            assert!(f.has_extension("permit-pty"));
            cert.verify_signature().unwrap();
            assert_eq!(cert.check(CertType::User, Some("alice"), t), Ok(()));
            assert_eq!(
                cert.check(CertType::User, Some("mallory"), t),
                Err(CertError::PrincipalNotListed("mallory".into()))
            );
            assert_eq!(
                cert.check(CertType::User, Some("alice"), t + 7200),
                Err(CertError::Expired)
            );
            assert_eq!(
                cert.check(CertType::User, Some("alice"), t - 7200),
                Err(CertError::NotYetValid)
            );
            assert_eq!(
                cert.check_critical_options(Some("127.0.0.1".parse().unwrap())),
                Ok(())
            );
            assert_eq!(
                cert.check_critical_options(Some("127.0.0.2".parse().unwrap())),
                Err(CertError::SourceAddressRefused)
            );
            // The certificate key line round-trips byte for byte.
            let line = std::fs::read_to_string(certificate_path_for(user)).unwrap();
            let parsed = parse_public_key_line(&line).unwrap().0;
            assert_eq!(
                format_public_key_line(&parsed, ""),
                line.split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    }
}

#[test]
fn tampered_ssh_keygen_certificates_are_refused() {
    if !have_ssh_keygen("tampered_ssh_keygen_certificates_are_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = keygen(dir.path(), "ca", &["-t", "ed25519"], "");
    let user = keygen(dir.path(), "u", &["-t", "ed25519"], "");
    let cert = sign(&ca, &user, &["-n", "alice"]);
    let blob = cert.to_blob();
    // Change the principal "alice" to "alicf": still parses, no longer verifies.
    let at = blob.windows(5).position(|w| w == b"alice").unwrap();
    let mut b = blob.clone();
    b[at + 4] = b'f';
    let forged = Certificate::from_blob(&b).unwrap();
    assert_eq!(forged.fields().principals, ["alicf"]);
    assert!(forged.verify_signature().is_err());
    assert_eq!(
        forged.check(CertType::User, Some("alicf"), now()),
        Err(CertError::BadSignature)
    );
    // A certificate re-signed by another CA verifies, but only against that CA.
    let other = keygen(dir.path(), "ca2", &["-t", "ed25519"], "");
    let cert2 = sign(&other, &user, &["-n", "alice"]);
    cert2.verify_signature().unwrap();
    assert_ne!(cert2.signature_key(), cert.signature_key());
}

#[test]
fn certificates_we_issue_are_read_by_ssh_keygen() {
    if !have_ssh_keygen("certificates_we_issue_are_read_by_ssh_keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca_path = keygen(dir.path(), "ca", &["-t", "ecdsa"], "");
    let user = keygen(dir.path(), "u", &["-t", "ed25519"], "");
    let ca = load_private_key(&ca_path).unwrap();
    let (after, before) = parse_validity("20200101:20400101", 0).unwrap();
    let mut fields = CertFields {
        nonce: vec![1; 32],
        key: public(&user),
        serial: 7,
        cert_type: CertType::User,
        key_id: "ours".into(),
        principals: vec!["alice".into()],
        valid_after: after,
        valid_before: before,
        critical_options: Vec::new(),
        extensions: Vec::new(),
    };
    fields.set_extension("permit-pty");
    fields.set_critical_string("force-command", "true");
    let cert = Certificate::issue(&fields, &ca, "ecdsa-sha2-nistp256").unwrap();
    let path = dir.path().join("u-cert.pub");
    std::fs::write(
        &path,
        format_public_key_line(&PublicKey::Certificate(Box::new(cert.clone())), "c") + "\n",
    )
    .unwrap();
    let out = Command::new("ssh-keygen")
        .arg("-L")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let theirs = String::from_utf8(out.stdout).unwrap();
    let ours = describe_certificate(&cert, &path.display().to_string());
    assert_eq!(ours, theirs);
}

#[test]
fn host_certificates_through_cert_authority_lines() {
    if !have_ssh_keygen("host_certificates_through_cert_authority_lines") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = keygen(dir.path(), "ca", &["-t", "ed25519"], "");
    let host = keygen(dir.path(), "host", &["-t", "ecdsa"], "");
    let cert = sign(
        &ca,
        &host,
        &["-h", "-n", "server.example,10.1.1.1", "-V", "-1h:+1h"],
    );
    let key = PublicKey::Certificate(Box::new(cert));
    let ca_line = format_public_key_line(&public(&ca), "");
    let kh = KnownHosts::parse(&format!("@cert-authority *.example {ca_line}\n"));
    let t = now();
    assert_eq!(
        kh.check_at("server.example", 22, &key, t),
        HostKeyStatus::Trusted
    );
    assert_eq!(
        kh.check_at("server.example", 2222, &key, t),
        HostKeyStatus::Unknown
    );
    assert_eq!(
        kh.check_at("server.example", 22, &key, t + 7200),
        HostKeyStatus::CertificateInvalid(CertError::Expired)
    );
    // The CA line matches other.example, but the certificate does not name it.
    assert_eq!(
        kh.check_at("other.example", 22, &key, t),
        HostKeyStatus::CertificateInvalid(CertError::PrincipalNotListed("other.example".into()))
    );
    // The plain key is not trusted through the CA line.
    assert_eq!(
        kh.check_at("server.example", 22, key.plain(), t),
        HostKeyStatus::Unknown
    );
    // A user certificate is no host certificate.
    let user_cert = sign(&ca, &host, &["-n", "server.example"]);
    assert_eq!(
        kh.check_at(
            "server.example",
            22,
            &PublicKey::Certificate(Box::new(user_cert)),
            t
        ),
        HostKeyStatus::CertificateInvalid(CertError::WrongType {
            wanted: CertType::Host
        })
    );
    // Revoking the CA, or the host key, in another file wins over the trust.
    let revoked_ca = KnownHosts::parse(&format!(
        "@cert-authority *.example {ca_line}\n@revoked * {ca_line}\n"
    ));
    assert_eq!(
        revoked_ca.check_at("server.example", 22, &key, t),
        HostKeyStatus::Revoked
    );
    let user_file = dir.path().join("known_hosts");
    let global_file = dir.path().join("global");
    std::fs::write(&user_file, format!("@cert-authority * {ca_line}\n")).unwrap();
    std::fs::write(
        &global_file,
        format!("@revoked * {}\n", format_public_key_line(key.plain(), "")),
    )
    .unwrap();
    let both = KnownHosts::load_files(&[&user_file, &global_file]).unwrap();
    assert_eq!(
        both.check_at("server.example", 22, &key, t),
        HostKeyStatus::Revoked
    );
    let only_user = KnownHosts::load_files(&[&user_file]).unwrap();
    assert_eq!(
        only_user.check_at("server.example", 22, &key, t),
        HostKeyStatus::Trusted
    );
    // Without a matching CA, a certificate falls back to its plain key, as ssh does.
    let plain = KnownHosts::parse(&format!(
        "server.example {}\n",
        format_public_key_line(key.plain(), "")
    ));
    assert_eq!(
        plain.check_at("server.example", 22, &key, t),
        HostKeyStatus::Trusted
    );
    // With a CA, certificate algorithms come first.
    let configured: Vec<String> = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512"]
        .map(String::from)
        .to_vec();
    let order = kh.order_host_key_algorithms("server.example", 22, &configured);
    assert_eq!(
        order,
        [
            "ssh-ed25519-cert-v01@openssh.com",
            "ecdsa-sha2-nistp256-cert-v01@openssh.com",
            "rsa-sha2-512-cert-v01@openssh.com",
            "ssh-ed25519",
            "ecdsa-sha2-nistp256",
            "rsa-sha2-512"
        ]
    );
    let order = plain.order_host_key_algorithms("server.example", 22, &configured);
    assert_eq!(
        order,
        ["ecdsa-sha2-nistp256", "ssh-ed25519", "rsa-sha2-512"]
    );
}
