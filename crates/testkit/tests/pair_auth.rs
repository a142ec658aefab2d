//! Server authentication end to end: our client core against our server core in memory
//! (`Pair`, virtual clock), plus a scripted client for what the client core never sends (key
//! queries, a user-name change). Covers every method and outcome, partial success, the PK_OK
//! probe (Go CVE-2024-45337 class), MaxAuthTries, the failure delay, the login grace time,
//! late and foreign decision tokens, and the banner.

#[path = "../../proto/tests/server_common/mod.rs"]
mod server_common;

use seashell_proto::error::{ApiMisuse, PeerMisbehaved, reason};
use seashell_proto::wire::msg;
use seashell_proto::{
    AuthAttempt, AuthDecision, AuthMethod, AuthRequest, ClientConfig, ClientConnection, Error,
    Event, PromptRequest, ServerConfig, ServerConnection,
};
use seashell_testkit::Pair;
use seashell_testkit::pair::{answers, test_host_key, test_user_key};
use std::time::Duration;

fn pair_with(server: impl FnOnce(&mut ServerConfig)) -> Pair {
    let mut config = ServerConfig::new(vec![test_host_key()]);
    server(&mut config);
    let mut client = ClientConfig::new("alice");
    client.handshake_timeout = Duration::from_secs(600);
    Pair::new(client, config)
}

fn password(pw: &str) -> AuthMethod {
    AuthMethod::Password(pw.to_owned().into())
}

/// A short name for an attempt, for logs.
fn attempt_name(r: &AuthRequest) -> String {
    match r.attempt() {
        AuthAttempt::None => "none".into(),
        AuthAttempt::Password(pw) => format!("password:{}", pw.as_str()),
        AuthAttempt::PublicKeyQuery { .. } => "query".into(),
        AuthAttempt::PublicKey { algorithm, .. } => format!("publickey:{algorithm}"),
        AuthAttempt::KeyboardInteractive { .. } => "kbd-int".into(),
        AuthAttempt::KeyboardInteractiveResponses(a) => {
            let a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
            format!("responses:{}", a.join(","))
        }
        _ => "other".into(),
    }
}

/// Runs a pair where the client tries `methods` in turn (one per `AuthMethods` event) and
/// answers prompts with `prompt_answers`, and the server decides with `decide`. Returns the
/// client's events and the attempts the server saw.
fn drive(
    pair: &mut Pair,
    methods: Vec<AuthMethod>,
    prompt_answers: &[&str],
    mut decide: impl FnMut(&AuthRequest) -> AuthDecision,
) -> (Vec<String>, Vec<String>) {
    let mut methods = methods.into_iter();
    // Steps left unanswered are kept: a dropped step would end the connection.
    let mut undecided = Vec::new();
    let mut client_log = Vec::new();
    let mut server_log = Vec::new();
    pair.run(
        Duration::from_secs(5),
        |c: &mut ClientConnection, ev| {
            client_log.push(format!("{ev:?}"));
            match ev {
                Event::HostKey(k) => c.accept_host_key(k).unwrap(),
                Event::AuthMethods { choice, .. } => match methods.next() {
                    Some(m) => c.authenticate(choice, m).unwrap(),
                    None => undecided.push(choice),
                },
                Event::AuthPrompts { prompts, choice } => {
                    assert_eq!(prompts.prompts.len(), prompt_answers.len());
                    c.answer_prompts(choice, answers(prompt_answers)).unwrap();
                }
                _ => {}
            }
        },
        |s: &mut ServerConnection, ev| match ev {
            Event::AuthRequest(r) => {
                server_log.push(attempt_name(&r));
                let d = decide(&r);
                if let Err(e) = s.answer_auth(r, d) {
                    server_log.push(format!("answer failed: {e:?}"));
                }
            }
            other => server_log.push(format!("{other:?}")),
        },
    );
    drop(undecided);
    (client_log, server_log)
}

fn accept_password(pw: &'static str) -> impl FnMut(&AuthRequest) -> AuthDecision {
    move |r| match r.attempt() {
        AuthAttempt::Password(p) if p.as_str() == pw => AuthDecision::Accept,
        _ => AuthDecision::Reject,
    }
}

#[test]
fn none_rejected_then_password_accepted() {
    let mut pair = pair_with(|_| {});
    let (client, server) = drive(&mut pair, vec![password("pw")], &[], accept_password("pw"));
    assert_eq!(server[..2], ["none", "password:pw"], "{server:?}");
    assert!(client.contains(&"Authenticated".to_owned()), "{client:?}");
    assert!(pair.client.is_authenticated());
    let who = pair.server.authenticated_user().unwrap();
    assert_eq!(
        (who.user.as_str(), who.method.as_str()),
        ("alice", "password")
    );
    assert_eq!(who.key, None);
    assert!(server.iter().any(|l| l.starts_with("ClientAuthenticated")));
}

#[test]
fn password_rejected() {
    let mut pair = pair_with(|_| {});
    let (client, server) = drive(
        &mut pair,
        vec![password("nope")],
        &[],
        accept_password("pw"),
    );
    assert_eq!(server, ["none", "password:nope"]);
    let methods: Vec<_> = client
        .iter()
        .filter(|l| l.starts_with("AuthMethods"))
        .collect();
    assert_eq!(methods.len(), 2, "{client:?}");
    assert!(methods[1].contains("partial_success: false"));
    assert!(!pair.client.is_authenticated());
    assert!(pair.server.authenticated_user().is_none());
    assert!(pair.server_error.is_none() && pair.client_error.is_none());
}

#[test]
fn signed_publickey_accepted_reports_that_key() {
    let key = test_user_key(7);
    let mut pair = pair_with(|_| {});
    let want = key.public_key();
    let (_, server) = drive(
        &mut pair,
        vec![AuthMethod::PublicKey(key)],
        &[],
        |r| match r.attempt() {
            AuthAttempt::PublicKey { key, .. } if *key == want => AuthDecision::Accept,
            _ => AuthDecision::Reject,
        },
    );
    assert_eq!(server[..2], ["none", "publickey:ssh-ed25519"]);
    let who = pair.server.authenticated_user().unwrap();
    assert_eq!(who.method, "publickey");
    assert_eq!(who.key.as_ref(), Some(&test_user_key(7).public_key()));
}

fn kbd_int_decider(expected: [&'static str; 2]) -> impl FnMut(&AuthRequest) -> AuthDecision {
    move |r| match r.attempt() {
        AuthAttempt::KeyboardInteractive { .. } => AuthDecision::Prompt(PromptRequest {
            name: "2FA".into(),
            instruction: "Answer both".into(),
            prompts: vec![("Password: ".into(), false), ("Code: ".into(), true)],
        }),
        AuthAttempt::KeyboardInteractiveResponses(a)
            if a.len() == 2 && a[0].as_str() == expected[0] && a[1].as_str() == expected[1] =>
        {
            AuthDecision::Accept
        }
        _ => AuthDecision::Reject,
    }
}

#[test]
fn keyboard_interactive_two_prompts_accepted() {
    let mut pair = pair_with(|_| {});
    let (client, server) = drive(
        &mut pair,
        vec![AuthMethod::KeyboardInteractive],
        &["hunter2", "123456"],
        kbd_int_decider(["hunter2", "123456"]),
    );
    assert_eq!(server[..3], ["none", "kbd-int", "responses:hunter2,123456"]);
    let prompts = client
        .iter()
        .find(|l| l.starts_with("AuthPrompts"))
        .unwrap();
    assert!(
        prompts.contains("Password: ") && prompts.contains("Code: "),
        "{prompts}"
    );
    assert!(pair.client.is_authenticated());
    assert_eq!(
        pair.server.authenticated_user().unwrap().method,
        "keyboard-interactive"
    );
}

#[test]
fn keyboard_interactive_wrong_responses_rejected() {
    let mut pair = pair_with(|_| {});
    let (client, server) = drive(
        &mut pair,
        vec![AuthMethod::KeyboardInteractive],
        &["hunter2", "000000"],
        kbd_int_decider(["hunter2", "123456"]),
    );
    assert_eq!(server, ["none", "kbd-int", "responses:hunter2,000000"]);
    assert_eq!(
        client
            .iter()
            .filter(|l| l.starts_with("AuthMethods"))
            .count(),
        2
    );
    assert!(!pair.client.is_authenticated());
    assert!(pair.server.authenticated_user().is_none());
}

#[test]
fn partial_success_publickey_then_password() {
    let key = test_user_key(9);
    let mut pair = pair_with(|_| {});
    let (client, server) = drive(
        &mut pair,
        vec![AuthMethod::PublicKey(key), password("pw")],
        &[],
        |r| match r.attempt() {
            AuthAttempt::PublicKey { .. } => AuthDecision::Partial {
                methods: vec!["password".into()],
            },
            AuthAttempt::Password(p) if p.as_str() == "pw" => AuthDecision::Accept,
            _ => AuthDecision::Reject,
        },
    );
    assert_eq!(
        server[..3],
        ["none", "publickey:ssh-ed25519", "password:pw"]
    );
    let partial = client
        .iter()
        .find(|l| l.contains("partial_success: true"))
        .unwrap_or_else(|| panic!("{client:?}"));
    assert!(partial.contains("methods: [\"password\"]"), "{partial}");
    let who = pair.server.authenticated_user().unwrap();
    assert_eq!(who.method, "password");
    assert_eq!(who.key.as_ref(), Some(&test_user_key(9).public_key()));
}

/// Go CVE-2024-45337 class: the application approves key A when it is only queried; the
/// client then signs with key B. What the application is asked about and what is reported
/// as authenticated is B, the key that signed, never A.
#[test]
fn pk_ok_probe_for_one_key_does_not_authenticate_another() {
    use server_common::{Rig, pk_query, pk_signed, user_key};
    let (a, b) = (user_key(1), user_key(2));
    let mut rig = Rig::default_rig();
    rig.ready_for_auth();
    let ev = rig.send(&pk_query("alice", &a));
    let [Event::AuthRequest(q)] = <[Event; 1]>::try_from(ev).unwrap() else {
        panic!("no query")
    };
    assert!(
        matches!(q.attempt(), AuthAttempt::PublicKeyQuery { key, .. } if *key == a.public_key())
    );
    rig.server.answer_auth(q, AuthDecision::Accept).unwrap();
    rig.pump();
    let pk_ok = rig.client.all(msg::USERAUTH_PK_OK);
    assert_eq!(pk_ok.len(), 1);
    assert!(rig.server.authenticated_user().is_none());
    assert!(!rig.client.got(msg::USERAUTH_SUCCESS));

    let sid = rig.sid();
    let ev = rig.send(&pk_signed("alice", &b, &sid));
    let [Event::AuthRequest(s)] = <[Event; 1]>::try_from(ev).unwrap() else {
        panic!("no signed request")
    };
    let AuthAttempt::PublicKey { key, .. } = s.attempt() else {
        panic!("{:?}", s.attempt())
    };
    assert_eq!(*key, b.public_key());
    rig.server.answer_auth(s, AuthDecision::Accept).unwrap();
    let ev = rig.pump();
    assert!(rig.client.got(msg::USERAUTH_SUCCESS));
    let who = rig.server.authenticated_user().unwrap();
    assert_eq!(who.key.as_ref(), Some(&b.public_key()));
    assert!(matches!(&ev[..], [Event::ClientAuthenticated(u)] if u.key == Some(b.public_key())));
}

/// A query proves nothing, so it cannot be a partial success; and a signature over another
/// session's identifier fails without reaching the application (A11).
#[test]
fn query_cannot_be_partial_and_foreign_signatures_fail() {
    use server_common::{Rig, pk_query, pk_signed, user_key};
    let mut rig = Rig::default_rig();
    rig.ready_for_auth();
    let ev = rig.send(&pk_signed("alice", &user_key(3), &[0; 32]));
    assert!(ev.is_empty(), "{ev:?}");
    rig.advance(Duration::from_millis(20));
    assert_eq!(rig.client.all(msg::USERAUTH_FAILURE).len(), 1);

    let ev = rig.send(&pk_query("alice", &user_key(3)));
    let [Event::AuthRequest(q)] = <[Event; 1]>::try_from(ev).unwrap() else {
        panic!("no query")
    };
    let partial = AuthDecision::Partial {
        methods: vec!["password".into()],
    };
    assert!(matches!(
        rig.server.answer_auth(q, partial),
        Err(Error::ApiMisuse(_))
    ));
    // The application's token is spent on a decision that cannot apply: the connection ends
    // (by application) rather than hang until the login grace time, and nothing was granted.
    rig.pump();
    assert!(rig.server.is_closed());
    assert_eq!(rig.client.disconnect_reason(), Some(reason::BY_APPLICATION));
    assert_eq!(rig.client.all(msg::USERAUTH_FAILURE).len(), 1);
    assert!(!rig.client.got(msg::USERAUTH_PK_OK) && !rig.client.got(msg::USERAUTH_SUCCESS));
    assert!(rig.server.authenticated_user().is_none());
}

#[test]
fn max_auth_tries_disconnects_on_the_seventh_failure() {
    let mut pair = pair_with(|_| {});
    let tries = (0..10).map(|i| password(&format!("guess{i}"))).collect();
    let (client, server) = drive(&mut pair, tries, &[], |_| AuthDecision::Reject);
    let attempts: Vec<_> = server
        .iter()
        .filter(|l| l.starts_with("password"))
        .collect();
    assert_eq!(attempts.len(), 7, "{server:?}");
    assert_eq!(server[0], "none");
    // One AuthMethods for the `none` probe (not counted), then six failures.
    let failures = client
        .iter()
        .filter(|l| l.starts_with("AuthMethods"))
        .count();
    assert_eq!(failures, 1 + 6, "{client:?}");
    // The seventh rejection is where the server gives up: that answer returns the error.
    let too_many = Error::PeerMisbehaved(PeerMisbehaved::TooManyAuthFailures);
    assert_eq!(
        server[8],
        format!("answer failed: {too_many:?}"),
        "{server:?}"
    );
    assert!(pair.server.is_closed());
    assert_eq!(
        pair.server.feed(pair.now(), b"").unwrap_err(),
        too_many,
        "sticky"
    );
    assert!(matches!(
        &pair.client_error,
        Some(Error::DisconnectReceived { reason: r, .. }) if *r == reason::NO_MORE_AUTH_METHODS_AVAILABLE
    ));
    assert!(
        client
            .last()
            .unwrap()
            .starts_with("ConnectionLost(DisconnectReceived")
    );
}

/// Runs the handshake; the server keeps the first password request unanswered.
fn until_password_request(pair: &mut Pair, pw: &str) -> AuthRequest {
    let mut held = None;
    let mut method = Some(password(pw));
    pair.run(
        Duration::from_secs(1),
        |c, ev| match ev {
            Event::HostKey(k) => c.accept_host_key(k).unwrap(),
            Event::AuthMethods { choice, .. } => {
                if let Some(m) = method.take() {
                    c.authenticate(choice, m).unwrap();
                }
            }
            _ => {}
        },
        |s, ev| {
            if let Event::AuthRequest(r) = ev {
                match r.attempt() {
                    AuthAttempt::None => s.answer_auth(r, AuthDecision::Reject).unwrap(),
                    _ => held = Some(r),
                }
            }
        },
    );
    held.expect("password request")
}

#[test]
fn failure_reply_waits_for_the_failure_delay() {
    let mut pair = pair_with(|_| {});
    let mut delays = Vec::new();
    let mut next = None;
    for round in 0..2 {
        let r = if round == 0 {
            until_password_request(&mut pair, "x")
        } else {
            let choice = next.take().expect("an authentication step");
            pair.client.authenticate(choice, password("y")).unwrap();
            let mut held = None;
            pair.run(
                Duration::ZERO,
                |_, _| {},
                |_, ev| {
                    if let Event::AuthRequest(r) = ev {
                        held = Some(r);
                    }
                },
            );
            held.unwrap()
        };
        let asked_at = pair.now();
        pair.server.answer_auth(r, AuthDecision::Reject).unwrap();
        let due = pair.server.poll_timeout().unwrap();
        let delay = due - asked_at;
        assert!(
            delay >= Duration::from_millis(5) && delay < Duration::from_millis(9),
            "{delay:?}"
        );
        assert!(!pair.server.wants_write(), "failure sent before the delay");
        pair.advance(delay - Duration::from_micros(1));
        assert!(!pair.server.wants_write());
        assert!(!pair.pump() && pair.client.poll_event().is_none());
        pair.advance(Duration::from_micros(1));
        assert!(pair.server.wants_write());
        pair.pump();
        let Some(Event::AuthMethods { choice, .. }) = pair.client.poll_event() else {
            panic!("no AuthMethods after the delay");
        };
        next = Some(choice);
        delays.push(delay);
    }
    // The per-user part of the delay is the same for every attempt on that name.
    assert_eq!(delays[0], delays[1]);
}

#[test]
fn login_grace_time_ends_an_unauthenticated_connection() {
    let mut pair = pair_with(|_| {});
    let start = pair.now();
    let _held = until_password_request(&mut pair, "x");
    assert_eq!(
        pair.server.poll_timeout(),
        Some(start + Duration::from_secs(120))
    );
    let to_119 = start + Duration::from_secs(119) - pair.now();
    pair.advance(to_119);
    pair.pump();
    assert!(pair.server_error.is_none() && pair.client_error.is_none());
    pair.advance(Duration::from_secs(1));
    assert_eq!(pair.server_error, Some(Error::Timeout));
    assert!(pair.server.wants_write(), "DISCONNECT queued");
    pair.pump();
    assert!(matches!(
        &pair.client_error,
        Some(Error::DisconnectReceived { reason: r, .. }) if *r == reason::CONNECTION_LOST
    ));
    assert!(pair.server.is_closed());
}

#[test]
fn a_token_answered_late_still_works() {
    let mut pair = pair_with(|_| {});
    let held = until_password_request(&mut pair, "pw");
    for _ in 0..10 {
        pair.advance(Duration::from_secs(1));
        pair.pump();
    }
    assert!(pair.server_error.is_none());
    pair.server.answer_auth(held, AuthDecision::Accept).unwrap();
    pair.run(Duration::from_secs(1), |_, _| {}, |_, _| {});
    assert!(pair.client.is_authenticated());
    assert_eq!(pair.server.authenticated_user().unwrap().method, "password");
    // Authenticated: the grace timer is gone.
    assert_eq!(pair.server.poll_timeout(), None);
}

#[test]
fn a_token_from_another_connection_is_refused() {
    let mut one = pair_with(|_| {});
    let mut two = pair_with(|_| {});
    let mine = until_password_request(&mut one, "pw");
    let theirs = until_password_request(&mut two, "pw");
    assert_eq!(
        one.server.answer_auth(theirs, AuthDecision::Accept),
        Err(Error::ApiMisuse(ApiMisuse::WrongState(
            "no such authentication request pending"
        )))
    );
    // Nothing happened on either connection; the right token still works.
    assert!(!one.server.is_closed() && one.server.authenticated_user().is_none());
    assert!(!one.pump());
    one.server.answer_auth(mine, AuthDecision::Accept).unwrap();
    one.run(Duration::from_secs(1), |_, _| {}, |_, _| {});
    assert!(one.client.is_authenticated());
    // Two's request was never answered (its token was spent on the wrong connection).
    assert!(two.server.authenticated_user().is_none() && !two.server.is_closed());
    // A token is answered at most once: `AuthRequest` is neither `Clone` nor `Copy`, so a
    // second answer does not compile. A token kept past its connection's next request fails.
}

#[test]
fn user_name_change_mid_auth_disconnects() {
    use server_common::{Rig, password};
    let mut rig = Rig::default_rig();
    rig.ready_for_auth();
    let ev = rig.send(&password("alice", b"x"));
    let [Event::AuthRequest(r)] = <[Event; 1]>::try_from(ev).unwrap() else {
        panic!()
    };
    rig.server.answer_auth(r, AuthDecision::Reject).unwrap();
    rig.advance(Duration::from_millis(20));
    assert!(rig.client.got(msg::USERAUTH_FAILURE));
    let ev = rig.send(&password("bob", b"x"));
    assert!(
        ev.iter().all(|e| matches!(e, Event::ConnectionLost(_))),
        "{ev:?}"
    );
    assert!(
        matches!(rig.error, Some(Error::InvalidMessage(_))),
        "{:?}",
        rig.error
    );
    assert_eq!(rig.client.disconnect_reason(), Some(reason::PROTOCOL_ERROR));
    assert!(rig.log.iter().all(|l| !l.contains("bob")));
}

#[test]
fn banner_reaches_the_client() {
    let mut pair = pair_with(|c| c.banner = Some("Authorized use only.\n\x1b[31mred".into()));
    let (client, _) = drive(&mut pair, vec![password("pw")], &[], accept_password("pw"));
    let banners: Vec<_> = client.iter().filter(|l| l.starts_with("Banner")).collect();
    assert_eq!(banners, ["Banner(\"Authorized use only.\\n[31mred\")"]);
    let banner_at = client.iter().position(|l| l.starts_with("Banner")).unwrap();
    let auth_at = client.iter().position(|l| l == "Authenticated").unwrap();
    assert!(banner_at < auth_at);
}

/// RFC 4253 §7.1: between its KEXINIT and its NEWKEYS a party must not send SERVICE_ACCEPT.
/// A server whose rekey starts right after the first exchange (tiny rekey limit, or the
/// application calling `rekey`) answers SERVICE_REQUEST inside that rekey; the client then
/// would (rightly) disconnect with UnexpectedMessage(6) if the server did not hold it.
#[test]
fn service_accept_is_held_during_a_server_rekey() {
    let mut client = ClientConfig::new("alice");
    client.handshake_timeout = Duration::from_secs(600);
    let mut server = ServerConfig::new(vec![test_host_key()]);
    server.rekey_bytes = 16;
    let mut pair = Pair::new(client, server);
    // One byte at a time, so the server finishes the first exchange (and starts the rekey)
    // before the SERVICE_REQUEST is complete.
    pair.chunking = seashell_testkit::Chunking::Fixed(1);
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    assert!(pair.client_error.is_none() && pair.server_error.is_none());
}
