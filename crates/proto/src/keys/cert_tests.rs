use super::*;
use crate::keys::cert_check::{CertError, cidr_contains, match_cidr_list};
use crate::keys::{PrivateKey, PublicKey};

fn key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

fn user_fields(subject: &PrivateKey) -> CertFields {
    let mut f = CertFields {
        nonce: vec![7; 32],
        key: subject.public_key(),
        serial: 42,
        cert_type: CertType::User,
        key_id: "alice@example".into(),
        principals: vec!["alice".into(), "bob".into()],
        valid_after: 1000,
        valid_before: 2000,
        critical_options: Vec::new(),
        extensions: Vec::new(),
    };
    for e in CertFields::DEFAULT_USER_EXTENSIONS {
        f.set_extension(e);
    }
    f
}

#[test]
fn issue_parse_and_verify_round_trip() {
    let ca = key(1);
    let subject = key(2);
    let mut f = user_fields(&subject);
    f.set_critical_string("source-address", "127.0.0.0/8,::1");
    f.set_critical_string("force-command", "echo hi");
    let cert = Certificate::issue(&f, &ca, "ssh-ed25519").unwrap();
    assert_eq!(cert.fields(), &f);
    assert_eq!(cert.signature_key(), &ca.public_key());
    assert_eq!(cert.key_type(), "ssh-ed25519-cert-v01@openssh.com");
    cert.verify_signature().unwrap();
    let parsed = PublicKey::from_blob(&cert.to_blob()).unwrap();
    assert_eq!(parsed.key_type(), "ssh-ed25519-cert-v01@openssh.com");
    assert_eq!(parsed.fingerprint(), subject.public_key().fingerprint());
    assert_eq!(parsed.plain(), &subject.public_key());
    assert_eq!(cert.force_command().as_deref(), Some("echo hi"));
    // Options are kept sorted, as ssh-keygen writes them.
    let names: Vec<&str> = f.extensions.iter().map(|(n, _)| n.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
}

#[test]
fn tampered_certificates_do_not_verify() {
    let ca = key(1);
    let cert = Certificate::issue(&user_fields(&key(2)), &ca, "ssh-ed25519").unwrap();
    let blob = cert.to_blob();
    let mut refused = 0;
    // Flip one byte in every position of the signed part: either it no longer parses or
    // its signature fails.
    for i in 40..blob.len() - 90 {
        let mut b = blob.clone();
        b[i] ^= 0x01;
        match Certificate::from_blob(&b) {
            Ok(c) => {
                if c.verify_signature().is_err() {
                    refused += 1;
                }
            }
            Err(_) => refused += 1,
        }
    }
    assert_eq!(refused, blob.len() - 130);
    // Truncations never parse.
    for n in 0..blob.len() {
        assert!(Certificate::from_blob(&blob[..n]).is_err());
    }
}

#[test]
fn validity_principals_and_type() {
    let ca = key(1);
    let cert = Certificate::issue(&user_fields(&key(2)), &ca, "ssh-ed25519").unwrap();
    assert_eq!(cert.check(CertType::User, Some("alice"), 1000), Ok(()));
    assert_eq!(cert.check(CertType::User, Some("bob"), 1999), Ok(()));
    assert_eq!(
        cert.check(CertType::User, Some("alice"), 999),
        Err(CertError::NotYetValid)
    );
    assert_eq!(
        cert.check(CertType::User, Some("alice"), 2000),
        Err(CertError::Expired)
    );
    assert_eq!(
        cert.check(CertType::User, Some("carol"), 1500),
        Err(CertError::PrincipalNotListed("carol".into()))
    );
    assert_eq!(
        cert.check(CertType::Host, Some("alice"), 1500),
        Err(CertError::WrongType {
            wanted: CertType::Host
        })
    );
    // No principals: any host, no user.
    let mut f = user_fields(&key(2));
    f.principals.clear();
    let user = Certificate::issue(&f, &ca, "ssh-ed25519").unwrap();
    assert_eq!(
        user.check(CertType::User, Some("alice"), 1500),
        Err(CertError::NoPrincipals)
    );
    f.cert_type = CertType::Host;
    let host = Certificate::issue(&f, &ca, "ssh-ed25519").unwrap();
    assert_eq!(host.check(CertType::Host, Some("h.example"), 1500), Ok(()));
}

#[test]
fn critical_options() {
    let ca = key(1);
    let mut f = user_fields(&key(2));
    f.set_critical_string("source-address", "10.0.0.0/8,2001:db8::/32");
    let cert = Certificate::issue(&f, &ca, "ssh-ed25519").unwrap();
    let ok = |ip: &str| cert.check_critical_options(Some(ip.parse().unwrap()));
    assert_eq!(ok("10.1.2.3"), Ok(()));
    assert_eq!(ok("::ffff:10.1.2.3"), Ok(()));
    assert_eq!(ok("2001:db8::5"), Ok(()));
    assert_eq!(ok("127.0.0.1"), Err(CertError::SourceAddressRefused));
    assert_eq!(
        cert.check_critical_options(None),
        Err(CertError::SourceAddressRefused)
    );
    f.set_critical_string("x-unknown@example.com", "v");
    let cert = Certificate::issue(&f, &ca, "ssh-ed25519").unwrap();
    assert_eq!(
        cert.check_critical_options(Some("10.0.0.1".parse().unwrap())),
        Err(CertError::UnknownCriticalOption(
            "x-unknown@example.com".into()
        ))
    );
}

#[test]
fn cidr_matching() {
    let ip = |s: &str| s.parse().unwrap();
    assert_eq!(cidr_contains("10.0.0.0/8", ip("10.255.0.1")), Some(true));
    assert_eq!(cidr_contains("10.0.0.0/8", ip("11.0.0.1")), Some(false));
    assert_eq!(cidr_contains("10.0.0.1", ip("10.0.0.1")), Some(true));
    assert_eq!(cidr_contains("0.0.0.0/0", ip("1.2.3.4")), Some(true));
    assert_eq!(cidr_contains("10.0.0.1/8", ip("10.0.0.1")), None);
    assert_eq!(cidr_contains("10.0.0.0/33", ip("10.0.0.1")), None);
    assert_eq!(cidr_contains("::/0", ip("::1")), Some(true));
    assert_eq!(cidr_contains("nonsense", ip("::1")), None);
    assert_eq!(
        match_cidr_list(ip("1.2.3.4"), "1.2.3.4,!1.2.3.4"),
        Some(false)
    );
    assert_eq!(match_cidr_list(ip("1.2.3.4"), "1.2.3.0/24"), Some(true));
    assert_eq!(match_cidr_list(ip("1.2.3.4"), "bad"), None);
}

#[test]
fn certified_private_keys_sign_with_plain_algorithms() {
    let ca = key(1);
    let subject = key(2);
    let cert = Certificate::issue(&user_fields(&subject), &ca, "ssh-ed25519").unwrap();
    let signer = key(2).with_certificate(cert.clone()).unwrap();
    let alg = "ssh-ed25519-cert-v01@openssh.com";
    assert_eq!(signer.public_key().signature_algorithms(), [alg]);
    let sig = signer.sign(alg, b"data").unwrap();
    assert!(sig.windows(11).any(|w| w == b"ssh-ed25519"));
    let public = signer.public_key();
    public.verify(alg, b"data", &sig).unwrap();
    assert!(public.verify(alg, b"other", &sig).is_err());
    assert!(public.verify("ssh-ed25519", b"data", &sig).is_err());
    assert!(key(3).with_certificate(cert).is_err());
}

#[test]
fn certificates_cannot_certify_certificates() {
    let ca = key(1);
    let cert = Certificate::issue(&user_fields(&key(2)), &ca, "ssh-ed25519").unwrap();
    let mut f = user_fields(&key(2));
    f.key = PublicKey::Certificate(Box::new(cert));
    assert!(Certificate::issue(&f, &ca, "ssh-ed25519").is_err());
}
