//! Every host key algorithm and the new user key types end to end: our client core against
//! our server core in memory (`seashell_testkit::Pair`), with keys made by `ssh-keygen` and
//! loaded from OpenSSH key files (`tests/data`). Also the `ssh-rsa` policy: supported, but
//! only negotiated or accepted when both sides add it.

use seashell_keys::parse_private_key;
use seashell_proto::config::HOST_KEY_ALGORITHMS;
use seashell_proto::{
    AuthAttempt, AuthDecision, AuthMethod, ClientConfig, Event, PrivateKey, PublicKey, ServerConfig,
};
use seashell_testkit::Pair;
use seashell_testkit::pair::test_user_key;
use std::sync::Arc;
use std::time::Duration;

/// Loads a fixture key from `tests/data`.
fn fixture(name: &str) -> Arc<PrivateKey> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    Arc::new(parse_private_key(&text).unwrap())
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// What one connection showed: the host key and algorithm the client was asked about, the
/// user key algorithm the server saw, and whether the client authenticated.
#[derive(Debug, Default)]
struct Outcome {
    host_key: Option<(PublicKey, String)>,
    user_algorithm: Option<String>,
    authenticated: bool,
}

/// Connects `client` to `server`, authenticating with `user_key`; the server accepts any
/// key the core verified.
fn run(client: ClientConfig, server: ServerConfig, user_key: Arc<PrivateKey>) -> Outcome {
    let mut pair = Pair::new(client, server);
    let mut out = Outcome::default();
    let mut method = Some(AuthMethod::PublicKey(user_key));
    let mut seen_host = None;
    let mut seen_alg = None;
    pair.run(
        Duration::from_secs(5),
        |c, ev| match ev {
            Event::HostKey(k) => {
                seen_host = Some((k.key().clone(), k.algorithm().to_owned()));
                c.accept_host_key(k).unwrap();
            }
            Event::AuthMethods { choice, .. } => {
                if let Some(m) = method.take() {
                    c.authenticate(choice, m).unwrap();
                }
            }
            _ => {}
        },
        |s, ev| {
            if let Event::AuthRequest(r) = ev {
                let decision = match r.attempt() {
                    AuthAttempt::PublicKey { algorithm, .. } => {
                        seen_alg = Some(algorithm.clone());
                        AuthDecision::Accept
                    }
                    _ => AuthDecision::Reject,
                };
                s.answer_auth(r, decision).unwrap();
            }
        },
    );
    out.host_key = seen_host;
    out.user_algorithm = seen_alg;
    out.authenticated = pair.client.is_authenticated();
    out
}

#[test]
fn every_host_key_algorithm_negotiates_and_verifies() {
    let cases = [
        ("host_ecdsa256", "ecdsa-sha2-nistp256"),
        ("host_ecdsa384", "ecdsa-sha2-nistp384"),
        ("host_ecdsa521", "ecdsa-sha2-nistp521"),
        ("host_rsa2048", "rsa-sha2-512"),
        ("host_rsa2048", "rsa-sha2-256"),
    ];
    for (file, alg) in cases {
        let host = fixture(file);
        let client = ClientConfig::new("alice").host_key_algorithms(&[alg]);
        let out = run(
            client,
            ServerConfig::new(vec![host.clone()]),
            test_user_key(1),
        );
        let (key, negotiated) = out.host_key.expect(alg);
        assert_eq!(negotiated, alg);
        assert_eq!(key, host.public_key());
        assert!(out.authenticated, "{alg}");
    }
}

#[test]
fn server_picks_the_host_key_for_the_negotiated_algorithm() {
    let files = [
        "host_ecdsa256",
        "host_ecdsa384",
        "host_ecdsa521",
        "host_rsa2048",
    ];
    let keys: Vec<Arc<PrivateKey>> = files.into_iter().map(fixture).collect();
    for (alg, file) in [
        ("ecdsa-sha2-nistp521", "host_ecdsa521"),
        ("ecdsa-sha2-nistp384", "host_ecdsa384"),
        ("rsa-sha2-256", "host_rsa2048"),
        ("ecdsa-sha2-nistp256", "host_ecdsa256"),
    ] {
        let client = ClientConfig::new("alice").host_key_algorithms(&[alg]);
        let out = run(client, ServerConfig::new(keys.clone()), test_user_key(2));
        let (key, negotiated) = out.host_key.unwrap();
        assert_eq!(negotiated, alg);
        assert_eq!(key, fixture(file).public_key(), "{alg}");
        assert!(out.authenticated);
    }
}

#[test]
fn ssh_rsa_host_key_algorithm_is_opt_in_on_both_sides() {
    let host = fixture("host_rsa2048");
    // Defaults: RSA keys sign with SHA-2.
    let out = run(
        ClientConfig::new("alice"),
        ServerConfig::new(vec![host.clone()]),
        test_user_key(1),
    );
    assert_eq!(out.host_key.unwrap().1, "rsa-sha2-512");

    // A client that insists on ssh-rsa finds no common algorithm with a default server.
    let only_sha1 = ClientConfig::new("alice").host_key_algorithms(&["ssh-rsa"]);
    let server = ServerConfig::new(vec![host.clone()]);
    assert!(
        !server
            .offered_host_key_algorithms()
            .contains(&"ssh-rsa".to_owned())
    );
    let out = run(only_sha1.clone(), server, test_user_key(1));
    assert!(out.host_key.is_none() && !out.authenticated);

    // Both sides opt in (OpenSSH's HostKeyAlgorithms=+ssh-rsa): negotiated and verified.
    let mut server = ServerConfig::new(vec![host.clone()]);
    server.host_key_algorithms.push("ssh-rsa".into());
    let out = run(only_sha1, server, test_user_key(1));
    let (key, alg) = out.host_key.unwrap();
    assert_eq!((key, alg.as_str()), (host.public_key(), "ssh-rsa"));
    assert!(out.authenticated);
}

#[test]
fn p384_and_p521_user_keys_authenticate() {
    for (file, alg) in [
        ("user_ecdsa384", "ecdsa-sha2-nistp384"),
        ("user_ecdsa521", "ecdsa-sha2-nistp521"),
    ] {
        let host = fixture("host_ecdsa384");
        let out = run(
            ClientConfig::new("alice"),
            ServerConfig::new(vec![host]),
            fixture(file),
        );
        assert_eq!(out.user_algorithm.as_deref(), Some(alg));
        assert!(out.authenticated, "{alg}");
    }
}

#[test]
fn ssh_rsa_user_signatures_are_opt_in_on_both_sides() {
    let host = fixture("host_ecdsa256");
    let user = fixture("host_rsa2048");
    // Defaults: the RSA user key signs with rsa-sha2-512 (the server lists it).
    let out = run(
        ClientConfig::new("alice"),
        ServerConfig::new(vec![host.clone()]),
        user.clone(),
    );
    assert_eq!(out.user_algorithm.as_deref(), Some("rsa-sha2-512"));
    assert!(out.authenticated);

    // A client that only allows ssh-rsa is refused by a default server before the
    // application is asked.
    let client = ClientConfig::new("alice").pubkey_accepted_algorithms(&["ssh-rsa"]);
    let out = run(
        client.clone(),
        ServerConfig::new(vec![host.clone()]),
        user.clone(),
    );
    assert_eq!(out.user_algorithm, None);
    assert!(!out.authenticated);

    // The server opts in (PubkeyAcceptedAlgorithms=+ssh-rsa): accepted.
    let mut server = ServerConfig::new(vec![host]);
    server.pubkey_accepted_algorithms = names(&HOST_KEY_ALGORITHMS);
    let out = run(client, server, user);
    assert_eq!(out.user_algorithm.as_deref(), Some("ssh-rsa"));
    assert!(out.authenticated);
}
