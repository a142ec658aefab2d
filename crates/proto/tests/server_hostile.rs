//! A hostile client against `ServerConnection`: random and malformed bytes, bad framing, and
//! well-formed messages in the wrong state or the wrong direction. Every case ends in a typed
//! error with a DISCONNECT queued (or a wait for more input), never a panic, and nothing of
//! the connection layer happens before authentication (security baseline A1–A3, A8, A9, D1).
#![allow(clippy::disallowed_methods)] // tests may read the clock; the core may not

mod server_common;

use proptest::prelude::*;
use seashell_proto::error::{InvalidMessage, PeerMisbehaved, reason};
use seashell_proto::wire::{self, msg};
use seashell_proto::{AuthAttempt, AuthDecision, Error, Event, ServerConfig, ServerConnection};
use server_common::*;
use std::sync::Arc;
use std::time::Instant;

fn server() -> (ServerConnection, Instant) {
    let now = Instant::now();
    let config = ServerConfig::new(vec![host_key()]);
    (ServerConnection::new(Arc::new(config), now).unwrap(), now)
}

/// The DISCONNECT reason in what the server transmitted before keys were in use.
fn cleartext_disconnect(s: &mut ServerConnection) -> Option<u32> {
    let mut out = Vec::new();
    s.poll_transmit(&mut out);
    let mut parser = RawClient::new(false);
    parser.feed(&out);
    parser.disconnect_reason()
}

fn is_typed_peer_error(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidMessage(_)
            | Error::PeerMisbehaved(_)
            | Error::PeerIncompatible(_)
            | Error::Crypto(_)
    )
}

/// The client's identification, KEXINIT and ECDH_INIT, as one flight.
fn client_flight(strict: bool) -> Vec<u8> {
    let mut c = RawClient::new(strict);
    let (mut s, _) = server();
    let mut out = Vec::new();
    s.poll_transmit(&mut out);
    c.feed(&out);
    c.out
}

/// After any error the server has failed for good, queued a DISCONNECT (when the error calls
/// for one) and produced no event other than `ConnectionLost`.
fn assert_failed_cleanly(s: &mut ServerConnection, e: &Error) {
    assert!(s.is_closed());
    let mut events = Vec::new();
    while let Some(ev) = s.poll_event() {
        events.push(format!("{ev:?}"));
    }
    assert_eq!(events, vec![format!("ConnectionLost({e:?})")]);
    assert_eq!(
        cleartext_disconnect(s),
        e.disconnect_reason(),
        "DISCONNECT for {e:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (mut s, now) = server();
        match s.feed(now, &data) {
            Ok(()) => {
                let e = s.feed_eof(now).unwrap_err();
                prop_assert_eq!(e, Error::PeerMisbehaved(PeerMisbehaved::NotSsh));
            }
            Err(e) => {
                prop_assert!(is_typed_peer_error(&e), "{e:?}");
                assert_failed_cleanly(&mut s, &e);
            }
        }
    }

    #[test]
    fn garbage_after_identification_is_a_typed_error(
        data in proptest::collection::vec(any::<u8>(), 1..4096),
        chunk in 1usize..600,
    ) {
        let (mut s, now) = server();
        let mut input = format!("{CLIENT_IDENT}\r\n").into_bytes();
        input.extend_from_slice(&data);
        let mut result = Ok(());
        for piece in input.chunks(chunk) {
            result = s.feed(now, piece);
            if result.is_err() {
                break;
            }
        }
        match result {
            Ok(()) => prop_assert_eq!(s.feed_eof(now).unwrap_err(), Error::ConnectionClosed),
            Err(e) => {
                prop_assert!(is_typed_peer_error(&e), "{e:?}");
                assert_failed_cleanly(&mut s, &e);
            }
        }
    }

    #[test]
    fn mutated_client_flight_never_panics(pos in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let mut flight = client_flight(true);
        let i = pos.index(flight.len());
        flight[i] ^= xor;
        let (mut s, now) = server();
        if let Err(e) = s.feed(now, &flight) {
            // A flipped message number can make a packet a DISCONNECT (30 ^ 31 = 1): the
            // peer's goodbye is a clean end too.
            let goodbye = matches!(e, Error::DisconnectReceived { .. });
            prop_assert!(is_typed_peer_error(&e) || goodbye, "{e:?}");
            prop_assert!(s.is_closed());
        }
        prop_assert!(s.poll_event().is_none_or(|ev| matches!(ev, Event::ConnectionLost(_))));
    }

    #[test]
    fn bad_padding_is_refused(pad in any::<u8>(), len_blocks in 2u32..8) {
        let len = len_blocks * 8 - 4;
        let (mut s, now) = server();
        let mut input = format!("{CLIENT_IDENT}\r\n").into_bytes();
        wire::put_u32(&mut input, len);
        input.push(pad);
        input.push(msg::IGNORE);
        input.resize(input.len() + len as usize - 2, 0);
        match s.feed(now, &input) {
            // Only a well-formed padding length gets through (and the IGNORE is dropped).
            Ok(()) => prop_assert!(pad >= 4 && usize::from(pad) + 1 < len as usize),
            Err(e) => {
                prop_assert!(matches!(
                    e,
                    Error::InvalidMessage(InvalidMessage::BadPadding | InvalidMessage::EmptyPacket)
                        | Error::PeerMisbehaved(_)
                ), "{e:?}");
                assert_failed_cleanly(&mut s, &e);
            }
        }
    }
}

#[test]
fn bad_packet_lengths_fail_before_allocating() {
    for len in [0u32, 1, 4, 5, 256 * 1024 + 1, 300 * 1024, 1 << 31, u32::MAX] {
        let (mut s, now) = server();
        let mut input = format!("{CLIENT_IDENT}\r\n").into_bytes();
        wire::put_u32(&mut input, len);
        input.extend_from_slice(&[4, 0, 0, 0]);
        let e = s.feed(now, &input).unwrap_err();
        assert!(
            matches!(e, Error::InvalidMessage(InvalidMessage::BadPacketLength(l)) if l == len),
            "{len}: {e:?}"
        );
        assert_failed_cleanly(&mut s, &e);
    }
}

#[test]
fn truncated_client_flight_waits_then_eof_is_connection_closed() {
    let flight = client_flight(true);
    let ident_len = CLIENT_IDENT.len() + 2;
    for cut in 0..flight.len() {
        let (mut s, now) = server();
        s.feed(now, &flight[..cut])
            .unwrap_or_else(|e| panic!("cut {cut}: {e:?}"));
        let eof = s.feed_eof(now).unwrap_err();
        if cut < ident_len {
            assert_eq!(eof, Error::PeerMisbehaved(PeerMisbehaved::NotSsh), "{cut}");
        } else {
            assert_eq!(eof, Error::ConnectionClosed, "{cut}");
        }
    }
}

#[test]
fn identification_byte_by_byte_equals_one_chunk() {
    let cases: &[&[u8]] = &[
        b"SSH-2.0-x\r\n",
        b"SSH-1.99-x\r\n",
        b"SSH-2.0-x\n",
        b"SSH-1.5-x\r\n",
        b"SSH-3.0-x\r\n",
        b"SSH-2.0\r\n",
        b"SSH-2.0-\x00x\r\n",
        b"hello\r\nSSH-2.0-x\r\n",
        b"\r\nSSH-2.0-x\r\n",
    ];
    for case in cases {
        let (mut whole, now) = server();
        let a = whole.feed(now, case);
        let (mut bytewise, _) = server();
        let b = case
            .iter()
            .try_for_each(|byte| bytewise.feed(now, std::slice::from_ref(byte)));
        assert_eq!(a, b, "{:?}", String::from_utf8_lossy(case));
        let accepted = case.starts_with(b"SSH-2.0-x") || case.starts_with(b"SSH-1.99-x");
        assert_eq!(
            a.is_ok(),
            accepted,
            "{:?}: {a:?}",
            String::from_utf8_lossy(case)
        );
        if let Err(e) = a {
            assert_failed_cleanly(&mut whole, &e);
        }
    }
}

#[test]
fn lines_before_the_identification_are_refused() {
    let (mut s, now) = server();
    let e = s.feed(now, b"hello there\r\nSSH-2.0-x\r\n").unwrap_err();
    assert_eq!(e, Error::PeerMisbehaved(PeerMisbehaved::NotSsh));
    assert_failed_cleanly(&mut s, &e);
    // A line longer than 8192 bytes with no newline: refused before buffering more.
    let (mut s, now) = server();
    let e = s.feed(now, &[b'S'; 8192]).unwrap_err();
    assert!(matches!(
        e,
        Error::InvalidMessage(InvalidMessage::BadIdentification(_))
    ));
}

/// Cleartext, during the initial exchange: `payload` right after the client's KEXINIT.
fn during_initial_kex(strict: bool, payload: &[u8]) -> (Error, ServerConnection) {
    let (mut s, now) = server();
    let mut input = format!("{CLIENT_IDENT}\r\n").into_bytes();
    input.extend_from_slice(&clear_packet(&kexinit(
        strict,
        seashell_proto::crypto::CipherAlg::ALL[0],
    )));
    input.extend_from_slice(&clear_packet(payload));
    let e = s.feed(now, &input).unwrap_err();
    (e, s)
}

#[test]
fn non_kex_messages_during_the_initial_exchange_disconnect() {
    let forged: &[&[u8]] = &[
        &[msg::SERVICE_REQUEST, 0, 0, 0, 0],
        &[msg::SERVICE_ACCEPT, 0, 0, 0, 0],
        &[msg::USERAUTH_REQUEST],
        &[msg::USERAUTH_SUCCESS],
        &[msg::GLOBAL_REQUEST],
        &[msg::CHANNEL_OPEN],
        &[msg::CHANNEL_REQUEST],
        &[200],
    ];
    for payload in forged {
        let n = payload[0];
        let (e, mut s) = during_initial_kex(true, payload);
        assert_eq!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::NonKexMessageDuringStrictKex(n))
        );
        assert_failed_cleanly(&mut s, &e);
        let (e, mut s) = during_initial_kex(false, payload);
        assert_eq!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage(n))
        );
        assert_failed_cleanly(&mut s, &e);
    }
    // Without strict KEX, IGNORE and DEBUG are tolerated.
    let (mut s, now) = server();
    let mut input = format!("{CLIENT_IDENT}\r\n").into_bytes();
    input.extend_from_slice(&clear_packet(&kexinit(
        false,
        seashell_proto::crypto::CipherAlg::ALL[0],
    )));
    input.extend_from_slice(&clear_packet(&[msg::IGNORE, 0, 0, 0, 0]));
    s.feed(now, &input).unwrap();
}

#[test]
fn kex_messages_out_of_order_disconnect() {
    let mut reply = vec![msg::KEX_ECDH_REPLY];
    for _ in 0..3 {
        wire::put_string(&mut reply, &[1; 32]);
    }
    let mut init = vec![msg::KEX_ECDH_INIT];
    wire::put_string(&mut init, &[9; 32]);
    let strict_kexinit = clear_packet(&kexinit(true, seashell_proto::crypto::CipherAlg::ALL[0]));
    let cases: Vec<(Vec<u8>, u8)> = vec![
        (clear_packet(&[msg::NEWKEYS]), msg::NEWKEYS),
        (clear_packet(&init), msg::KEX_ECDH_INIT),
        (clear_packet(&reply), msg::KEX_ECDH_REPLY),
        (
            [strict_kexinit.clone(), clear_packet(&reply)].concat(),
            msg::KEX_ECDH_REPLY,
        ),
        (
            [strict_kexinit.clone(), clear_packet(&[msg::NEWKEYS])].concat(),
            msg::NEWKEYS,
        ),
        (
            [strict_kexinit.clone(), strict_kexinit].concat(),
            msg::KEXINIT,
        ),
    ];
    for (packets, n) in cases {
        let (mut s, now) = server();
        let mut input = format!("{CLIENT_IDENT}\r\n").into_bytes();
        input.extend_from_slice(&packets);
        let e = s.feed(now, &input).unwrap_err();
        assert_eq!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage(n)),
            "message {n}"
        );
        assert_failed_cleanly(&mut s, &e);
    }
}

/// Keyed rigs at each pre-auth stage, with the forged payload sent there.
fn keyed_rig_at(stage: &str) -> Rig {
    let mut rig = Rig::default_rig();
    match stage {
        "after NEWKEYS" => rig.kex(),
        "after SERVICE_ACCEPT" => rig.ready_for_auth(),
        "between failed attempts" => {
            rig.ready_for_auth();
            let ev = rig.send(&password("alice", b"wrong"));
            let [Event::AuthRequest(r)] = <[Event; 1]>::try_from(ev).unwrap() else {
                panic!("no auth request")
            };
            rig.server.answer_auth(r, AuthDecision::Reject).unwrap();
            rig.advance(std::time::Duration::from_millis(20));
            assert!(rig.client.got(msg::USERAUTH_FAILURE));
        }
        other => panic!("{other}"),
    }
    rig
}

/// After a real key exchange, before authentication: the message ends the connection with
/// PROTOCOL_ERROR and no connection-layer event, no authentication.
#[test]
fn forged_messages_before_auth_disconnect_with_no_effect() {
    let mut unknown_chan = vec![msg::CHANNEL_DATA];
    wire::put_u32(&mut unknown_chan, 0);
    wire::put_string(&mut unknown_chan, b"x");
    let mut service_accept = vec![msg::SERVICE_ACCEPT];
    wire::put_string(&mut service_accept, b"ssh-userauth");
    let mut failure = vec![msg::USERAUTH_FAILURE];
    wire::put_string(&mut failure, b"password");
    wire::put_bool(&mut failure, false);
    let mut banner = vec![msg::USERAUTH_BANNER];
    wire::put_string(&mut banner, b"hi");
    wire::put_string(&mut banner, b"");
    let forged: Vec<(&str, Vec<u8>)> = vec![
        ("USERAUTH_SUCCESS", vec![msg::USERAUTH_SUCCESS]),
        ("SERVICE_ACCEPT", service_accept),
        ("USERAUTH_FAILURE", failure),
        ("USERAUTH_BANNER", banner),
        ("PK_OK/INFO_REQUEST", vec![msg::USERAUTH_PK_OK]),
        ("INFO_RESPONSE unprompted", vec![61, 0, 0, 0, 0]),
        ("CHANNEL_OPEN", channel_open()),
        ("CHANNEL_REQUEST exec", exec_request(0)),
        ("GLOBAL_REQUEST tcpip-forward", tcpip_forward()),
        ("CHANNEL_DATA", unknown_chan),
        ("REQUEST_SUCCESS", vec![msg::REQUEST_SUCCESS]),
    ];
    for stage in [
        "after NEWKEYS",
        "after SERVICE_ACCEPT",
        "between failed attempts",
    ] {
        for (name, payload) in &forged {
            let mut rig = keyed_rig_at(stage);
            rig.send(payload);
            let e = rig
                .error
                .clone()
                .unwrap_or_else(|| panic!("{stage}: {name} accepted"));
            assert_eq!(
                e,
                Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage(payload[0])),
                "{stage}: {name}"
            );
            assert_eq!(rig.client.disconnect_reason(), Some(reason::PROTOCOL_ERROR));
            assert!(
                !rig.any_connection_effect(),
                "{stage}: {name}: {:?}",
                rig.log
            );
            assert!(rig.server.authenticated_user().is_none());
            assert!(!rig.client.got(msg::USERAUTH_SUCCESS));
        }
    }
}

#[test]
fn userauth_without_service_request_and_wrong_service_disconnect() {
    let mut rig = keyed_rig_at("after NEWKEYS");
    rig.send(&password("alice", b"pw"));
    assert_eq!(
        rig.error,
        Some(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage(
            msg::USERAUTH_REQUEST
        )))
    );
    assert!(rig.log.iter().all(|l| !l.starts_with("AuthRequest")));

    let mut rig = keyed_rig_at("after NEWKEYS");
    let mut p = vec![msg::SERVICE_REQUEST];
    wire::put_string(&mut p, b"ssh-connection");
    rig.send(&p);
    assert!(matches!(rig.error, Some(Error::PeerMisbehaved(_))));
    assert!(!rig.client.got(msg::SERVICE_ACCEPT));

    let mut rig = keyed_rig_at("after SERVICE_ACCEPT");
    rig.send(&userauth("alice", "ssh-connection2", "none"));
    assert!(matches!(rig.error, Some(Error::InvalidMessage(_))));
    assert_eq!(rig.client.disconnect_reason(), Some(reason::PROTOCOL_ERROR));
    assert!(rig.log.iter().all(|l| !l.starts_with("AuthRequest")));
}

/// A8 (russh CVE-2026-42189): a response count that does not match the prompts sent, or an
/// absurd one, is refused before anything is allocated.
#[test]
fn info_response_with_a_wrong_count_disconnects() {
    for count in [0x1000_0000u32, 3, 0] {
        let mut rig = keyed_rig_at("after SERVICE_ACCEPT");
        let mut p = userauth("alice", "ssh-connection", "keyboard-interactive");
        wire::put_string(&mut p, b"");
        wire::put_string(&mut p, b"");
        let ev = rig.send(&p);
        let Some(Event::AuthRequest(r)) = ev.into_iter().next() else {
            panic!("no auth request")
        };
        let prompts = seashell_proto::PromptRequest {
            name: String::new(),
            instruction: String::new(),
            prompts: vec![("Code: ".into(), false), ("PIN: ".into(), false)],
        };
        rig.server
            .answer_auth(r, AuthDecision::Prompt(prompts))
            .unwrap();
        rig.pump();
        let mut resp = vec![61];
        wire::put_u32(&mut resp, count);
        wire::put_string(&mut resp, b"one");
        let ev = rig.send(&resp);
        assert!(ev.iter().all(|e| matches!(e, Event::ConnectionLost(_))));
        assert!(
            matches!(rig.error, Some(Error::InvalidMessage(_))),
            "{count}: {:?}",
            rig.error
        );
        assert_eq!(rig.client.disconnect_reason(), Some(reason::PROTOCOL_ERROR));
    }
}

/// A9 (CVE-2016-6515): a password over 1024 bytes fails without reaching the application.
#[test]
fn overlong_password_fails_without_asking() {
    for len in [1025, 250 * 1024] {
        let mut rig = keyed_rig_at("after SERVICE_ACCEPT");
        let ev = rig.send(&password("alice", &vec![b'a'; len]));
        assert!(ev.is_empty(), "{ev:?}");
        assert!(rig.error.is_none(), "{:?}", rig.error);
        rig.advance(std::time::Duration::from_millis(20));
        assert!(rig.client.got(msg::USERAUTH_FAILURE));
        // And a normal one afterwards still reaches the application.
        let ev = rig.send(&password("alice", b"ok"));
        assert!(matches!(
            &ev[..],
            [Event::AuthRequest(r)] if matches!(r.attempt(), AuthAttempt::Password(_))
        ));
    }
}

/// The first packet is not KEXINIT: a message of the later layers is refused outright; with
/// strict KEX even an IGNORE before KEXINIT ends the connection (Terrapin, T3).
#[test]
fn first_packet_must_be_kexinit() {
    let kexinit = clear_packet(&kexinit(true, seashell_proto::crypto::CipherAlg::ALL[0]));
    for (packets, want) in [
        (
            clear_packet(&[msg::USERAUTH_SUCCESS]),
            PeerMisbehaved::UnexpectedMessage(msg::USERAUTH_SUCCESS),
        ),
        (
            [clear_packet(&[msg::IGNORE, 0, 0, 0, 0]), kexinit].concat(),
            PeerMisbehaved::KexInitNotFirst,
        ),
    ] {
        let (mut s, now) = server();
        let mut input = format!("{CLIENT_IDENT}\r\n").into_bytes();
        input.extend_from_slice(&packets);
        let e = s.feed(now, &input).unwrap_err();
        assert_eq!(e, Error::PeerMisbehaved(want));
        assert_failed_cleanly(&mut s, &e);
    }
}

/// An authenticated rig with one accepted session (client channel 0) and the server's
/// channel number.
fn authed_rig_with_channel() -> (Rig, u32) {
    let mut rig = keyed_rig_at("after SERVICE_ACCEPT");
    let ev = rig.send(&password("alice", b"pw"));
    let Some(Event::AuthRequest(r)) = ev.into_iter().next() else {
        panic!("no auth request")
    };
    rig.server.answer_auth(r, AuthDecision::Accept).unwrap();
    rig.pump();
    assert!(rig.client.got(msg::USERAUTH_SUCCESS));
    let ev = rig.send(&channel_open());
    let Some(Event::ChannelOpenRequest(c)) = ev.into_iter().next() else {
        panic!("no open request")
    };
    let id = rig.server.accept_channel(c).unwrap();
    rig.pump();
    assert!(rig.client.got(msg::CHANNEL_OPEN_CONFIRMATION));
    assert_eq!(id.index(), 0, "the first channel of a connection");
    (rig, id.index())
}

fn chan_msg(n: u8, id: u32, body: &[u8]) -> Vec<u8> {
    let mut p = vec![n];
    wire::put_u32(&mut p, id);
    p.extend_from_slice(body);
    p
}

/// After authentication the channel layer still refuses what a hostile client sends: window
/// overflow (C1), data past the window (C2), unknown channel ids (C5), exit-status from a
/// client, unbounded unanswered requests (C8).
#[test]
fn hostile_channel_messages_after_auth_disconnect() {
    type Case = (&'static str, fn(u32) -> Vec<Vec<u8>>, PeerMisbehaved);
    let cases: Vec<Case> = vec![
        (
            "window overflow",
            |id| vec![chan_msg(msg::CHANNEL_WINDOW_ADJUST, id, &u32::MAX.to_be_bytes()); 2],
            PeerMisbehaved::WindowOverflow,
        ),
        (
            "data past the window",
            |id| {
                let mut body = Vec::new();
                wire::put_string(&mut body, &vec![7; 32 * 1024]);
                let mut one = Vec::new();
                wire::put_string(&mut one, b"x");
                let mut v = vec![chan_msg(msg::CHANNEL_DATA, id, &body); 64];
                v.push(chan_msg(msg::CHANNEL_DATA, id, &one));
                v
            },
            PeerMisbehaved::WindowExceeded,
        ),
        (
            "unknown channel",
            |id| vec![chan_msg(msg::CHANNEL_EOF, id + 7, &[])],
            PeerMisbehaved::UnknownChannel(7),
        ),
        (
            "exit-status from a client",
            |id| {
                let mut b = Vec::new();
                wire::put_string(&mut b, b"exit-status");
                wire::put_bool(&mut b, false);
                wire::put_u32(&mut b, 0);
                vec![chan_msg(msg::CHANNEL_REQUEST, id, &b)]
            },
            PeerMisbehaved::UnexpectedMessage(msg::CHANNEL_REQUEST),
        ),
        (
            "65 unanswered want-reply requests",
            |id| vec![exec_request(id); 65],
            PeerMisbehaved::TooManyPendingRequests,
        ),
    ];
    for (name, packets, want) in cases {
        let (mut rig, id) = authed_rig_with_channel();
        for p in packets(id) {
            rig.client.send(&p);
        }
        rig.pump();
        assert_eq!(rig.error, Some(Error::PeerMisbehaved(want)), "{name}");
        assert_eq!(
            rig.client.disconnect_reason(),
            Some(reason::PROTOCOL_ERROR),
            "{name}"
        );
    }
}

/// RFC 4252 §5: a client may send several requests without waiting. The second waits in the
/// core until the first is decided, and the replies come in order: the first's FAILURE
/// (released early, since the user then succeeds) before the second's SUCCESS.
#[test]
fn pipelined_auth_requests_wait_for_the_decision_and_answer_in_order() {
    let mut rig = Rig::default_rig();
    rig.ready_for_auth();
    rig.client.send(&password("alice", b"wrong"));
    rig.client.send(&password("alice", b"right"));
    let ev = rig.pump();
    assert!(rig.error.is_none(), "{:?}", rig.error);
    let [Event::AuthRequest(first)] = <[Event; 1]>::try_from(ev).unwrap() else {
        panic!("one decision at a time");
    };
    rig.server.answer_auth(first, AuthDecision::Reject).unwrap();
    let ev = rig.pump();
    let [Event::AuthRequest(second)] = <[Event; 1]>::try_from(ev).unwrap() else {
        panic!("the held request follows");
    };
    assert!(matches!(second.attempt(), AuthAttempt::Password(p) if p.as_str() == "right"));
    assert!(
        !rig.client.got(msg::USERAUTH_FAILURE),
        "the failure is still held back"
    );
    rig.server
        .answer_auth(second, AuthDecision::Accept)
        .unwrap();
    rig.pump();
    let order: Vec<u8> = rig
        .client
        .all(msg::USERAUTH_FAILURE)
        .into_iter()
        .chain(rig.client.all(msg::USERAUTH_SUCCESS))
        .map(|p| p[0])
        .collect();
    assert_eq!(order, vec![msg::USERAUTH_FAILURE, msg::USERAUTH_SUCCESS]);
    assert!(rig.error.is_none());
}

#[test]
fn too_many_pipelined_auth_requests_end_the_connection() {
    let mut rig = Rig::default_rig();
    rig.ready_for_auth();
    for _ in 0..12 {
        rig.client.send(&password("alice", b"x"));
    }
    rig.pump();
    assert!(matches!(
        rig.error,
        Some(Error::PeerMisbehaved(
            PeerMisbehaved::TooManyPendingRequests
        ))
    ));
}
