use super::*;
use seashell_keys::openssh::format_public_key_line;
use seashell_proto::PrivateKey;
use seashell_proto::keys::CertFields;

const NOW: u64 = 1_800_000_000;

fn key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

fn cert(ca: u8, subject: u8, edit: impl FnOnce(&mut CertFields)) -> PublicKey {
    let mut f = CertFields {
        nonce: vec![0; 32],
        key: key(subject).public_key(),
        serial: 1,
        cert_type: CertType::User,
        key_id: "id".into(),
        principals: vec!["alice".into()],
        valid_after: NOW - 100,
        valid_before: NOW + 100,
        critical_options: Vec::new(),
        extensions: Vec::new(),
    };
    for e in CertFields::DEFAULT_USER_EXTENSIONS {
        f.set_extension(e);
    }
    edit(&mut f);
    let c = Certificate::issue(&f, &key(ca), "ssh-ed25519").unwrap();
    PublicKey::Certificate(Box::new(c))
}

fn line(k: &PublicKey) -> String {
    format_public_key_line(k, "")
}

fn request<'a>(trust: &'a UserTrust, ak: &'a AuthorizedKeys, user: &'a str) -> Request<'a> {
    Request {
        trust,
        authorized: ak,
        user,
        home: None,
        client: Some("192.0.2.1".parse().unwrap()),
        now: NOW,
    }
}

#[test]
fn trusted_user_ca_keys() {
    let trust = UserTrust {
        trusted_cas: vec![key(1).public_key()],
        ..UserTrust::default()
    };
    let ak = AuthorizedKeys::default();
    let ok = cert(1, 2, |_| {});
    assert!(request(&trust, &ak, "alice").authorize(&ok).is_ok());
    assert!(request(&trust, &ak, "bob").authorize(&ok).is_err());
    // Another CA, expired, not yet valid, host type, unknown critical option.
    let bad = [
        cert(3, 2, |_| {}),
        cert(1, 2, |f| f.valid_before = NOW),
        cert(1, 2, |f| f.valid_after = NOW + 1),
        cert(1, 2, |f| f.cert_type = CertType::Host),
        cert(1, 2, |f| f.set_critical_string("x@example.com", "y")),
        cert(1, 2, |f| {
            f.set_critical_string("source-address", "10.0.0.0/8")
        }),
        cert(1, 2, |f| f.principals.clear()),
    ];
    for (i, c) in bad.iter().enumerate() {
        assert!(
            request(&trust, &ak, "alice").authorize(c).is_err(),
            "case {i}"
        );
    }
    // The plain key is not authorized by the CA.
    assert!(request(&trust, &ak, "alice").authorize(ok.plain()).is_err());
    // source-address that lists the client.
    let c = cert(1, 2, |f| {
        f.set_critical_string("source-address", "192.0.2.0/24")
    });
    assert!(request(&trust, &ak, "alice").authorize(&c).is_ok());
    // Revoking the key or the CA.
    for r in [key(2).public_key(), key(1).public_key()] {
        let t = UserTrust {
            revoked: vec![r],
            ..trust.clone()
        };
        assert!(request(&t, &ak, "alice").authorize(&ok).is_err());
    }
}

#[test]
fn restrictions_from_the_certificate() {
    let trust = UserTrust {
        trusted_cas: vec![key(1).public_key()],
        ..UserTrust::default()
    };
    let ak = AuthorizedKeys::default();
    let c = cert(1, 2, |f| {
        f.extensions.clear();
        f.set_critical_string("force-command", "echo forced");
    });
    let o = request(&trust, &ak, "alice").authorize(&c).unwrap();
    assert!(o.no_pty);
    assert!(o.forwarding.no_port_forwarding);
    assert_eq!(o.command.as_deref(), Some("echo forced"));
    let o = request(&trust, &ak, "alice")
        .authorize(&cert(1, 2, |_| {}))
        .unwrap();
    assert!(!o.no_pty && !o.forwarding.no_port_forwarding);
}

#[test]
fn cert_authority_lines_and_principals() {
    let trust = UserTrust::default();
    let ca = line(&key(1).public_key());
    let ak = AuthorizedKeys::parse(&format!(
        "cert-authority,principals=\"ops\",command=\"echo a\" {ca}\n"
    ));
    let ops = cert(1, 2, |f| f.principals = vec!["ops".into()]);
    let o = request(&trust, &ak, "alice").authorize(&ops).unwrap();
    assert_eq!(o.command.as_deref(), Some("echo a"));
    // principals= replaces the user name.
    assert!(
        request(&trust, &ak, "alice")
            .authorize(&cert(1, 2, |_| {}))
            .is_err()
    );
    // Forced commands that differ refuse the login.
    let forced = cert(1, 2, |f| {
        f.principals = vec!["ops".into()];
        f.set_critical_string("force-command", "echo b");
    });
    assert!(request(&trust, &ak, "alice").authorize(&forced).is_err());
    // The CA key itself does not log in.
    assert!(
        request(&trust, &ak, "alice")
            .authorize(&key(1).public_key())
            .is_err()
    );
    // Without principals=, the user name must be listed; from= applies.
    let ak = AuthorizedKeys::parse(&format!("cert-authority,from=\"10.*\" {ca}\n"));
    assert!(
        request(&trust, &ak, "alice")
            .authorize(&cert(1, 2, |_| {}))
            .is_err()
    );
    let ak = AuthorizedKeys::parse(&format!("cert-authority {ca}\n"));
    assert!(
        request(&trust, &ak, "alice")
            .authorize(&cert(1, 2, |_| {}))
            .is_ok()
    );
}

#[test]
fn principals_file_and_plain_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("principals-alice"), "# c\nops\nx y\n").unwrap();
    let trust = UserTrust {
        trusted_cas: vec![key(1).public_key()],
        principals_file: Some("principals-%u".into()),
        ..UserTrust::default()
    };
    let ak = AuthorizedKeys::default();
    let mut r = request(&trust, &ak, "alice");
    r.home = Some(dir.path());
    assert!(
        r.authorize(&cert(1, 2, |f| f.principals = vec!["ops".into()]))
            .is_ok()
    );
    // With a principals file, the user name alone is not enough.
    assert!(r.authorize(&cert(1, 2, |_| {})).is_err());
    assert!(
        r.authorize(&cert(1, 2, |f| f.principals = vec!["x".into()]))
            .is_err()
    );
    // Plain keys: expiry-time.
    let ak = AuthorizedKeys::parse(&format!(
        "expiry-time=\"20200101\" {}\n{}\n",
        line(&key(5).public_key()),
        line(&key(6).public_key())
    ));
    let r = request(&trust, &ak, "alice");
    assert!(r.authorize(&key(5).public_key()).is_err());
    assert!(r.authorize(&key(6).public_key()).is_ok());
}

#[test]
fn key_lists_refuse_krls() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("revoked");
    std::fs::write(&p, format!("# x\n\n{}\n", line(&key(1).public_key()))).unwrap();
    assert_eq!(read_key_list(&p).unwrap(), vec![key(1).public_key()]);
    std::fs::write(&p, b"SSHKRL\n\0rest").unwrap();
    assert!(read_key_list(&p).unwrap_err().contains("KRL"));
    std::fs::write(&p, "garbage\n").unwrap();
    assert!(read_key_list(&p).is_err());
}
