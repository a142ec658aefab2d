//! End-to-end client sessions against the in-memory scripted server: the happy path, chunking
//! invariance, strict KEX (Terrapin) and host-key refusal.
#![allow(clippy::disallowed_methods)] // tests may read the clock; the core may not

mod common;

use common::{FakeServer, Script, client, run_session};
use proptest::prelude::*;
use seashell_proto::error::PeerMisbehaved;
use seashell_proto::wire::{Reader, msg};
use seashell_proto::{Error, Event};
use std::time::Instant;

fn expected_tail() -> Vec<String> {
    vec![
        "Authenticated".into(),
        "ChannelOpened(ChannelId(0))".into(),
        "RequestSucceeded(ChannelId(0))".into(),
        "data \"hello\\n\"".into(),
        "ext 1 \"oops\\n\"".into(),
        "ExitStatus { id: ChannelId(0), status: 7 }".into(),
        "Eof(ChannelId(0))".into(),
        "Closed(ChannelId(0))".into(),
    ]
}

#[test]
fn full_session_whole_chunks() {
    let log = run_session(Script::default(), |n| n);
    assert!(log[0].starts_with("hostkey SHA256:"), "{log:?}");
    assert!(log.iter().any(|l| l.starts_with("AuthMethods")), "{log:?}");
    assert!(log.ends_with(&expected_tail()), "{log:#?}");
}

#[test]
fn full_session_byte_by_byte_is_identical() {
    let whole = run_session(Script::default(), |n| n);
    let bytes = run_session(Script::default(), |_| 1);
    assert_eq!(whole, bytes);
}

#[test]
fn pre_banner_lines_and_no_ext_info_still_work() {
    let script = Script {
        pre_banner: vec!["hello there".into(), "".into()],
        no_ext_info: true,
        ..Default::default()
    };
    let log = run_session(script, |n| n);
    assert!(log.ends_with(&expected_tail()), "{log:#?}");
}

#[test]
fn non_strict_server_tolerates_ignore_before_kexinit() {
    let script = Script {
        no_strict: true,
        ignore_before_kexinit: true,
        ..Default::default()
    };
    let log = run_session(script, |n| n);
    assert!(log.ends_with(&expected_tail()), "{log:#?}");
}

#[test]
fn strict_kex_rejects_kexinit_not_first() {
    let script = Script {
        ignore_before_kexinit: true,
        ..Default::default()
    };
    let log = run_session(script, |n| n);
    assert_eq!(
        log.last().unwrap(),
        &format!(
            "lost {:?}",
            Error::PeerMisbehaved(PeerMisbehaved::KexInitNotFirst)
        )
    );
}

#[test]
fn terrapin_injection_before_newkeys_is_fatal() {
    let script = Script {
        ignore_before_newkeys: true,
        ..Default::default()
    };
    let log = run_session(script, |n| n);
    let last = log.last().unwrap();
    assert!(last.contains("NonKexMessageDuringStrictKex(2)"), "{log:?}");
    assert!(!log.iter().any(|l| l == "Authenticated"));
}

#[test]
fn rejected_host_key_sends_only_a_disconnect() {
    let now = Instant::now();
    let mut c = client(now);
    let mut s = FakeServer::new(Script::default());
    let mut buf = Vec::new();
    c.poll_transmit(&mut buf);
    s.feed(&buf);
    c.feed(now, &std::mem::take(&mut s.out)).unwrap();
    buf.clear();
    c.poll_transmit(&mut buf);
    s.feed(&buf);
    c.feed(now, &std::mem::take(&mut s.out)).unwrap();
    let Some(Event::HostKey(check)) = c.poll_event() else {
        panic!("no host key event")
    };
    let fp = check.fingerprint();
    assert_eq!(fp, s.host_public_key().fingerprint());
    let _ = c.reject_host_key(check);
    buf.clear();
    c.poll_transmit(&mut buf);
    // Cleartext (no NEWKEYS was sent): exactly one packet, a DISCONNECT.
    let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
    assert_eq!(buf.len(), 4 + len, "only one packet follows the refusal");
    let pad = buf[4] as usize;
    let payload = &buf[5..4 + len - pad];
    let mut r = Reader::new(payload);
    assert_eq!(r.u8("n").unwrap(), msg::DISCONNECT);
    assert_eq!(r.u32("reason").unwrap(), 9);
    assert!(String::from_utf8_lossy(r.string("d").unwrap()).contains(&fp));
    assert_eq!(s.auth_requests, 0);
    match c.poll_event() {
        Some(Event::ConnectionLost(Error::HostKeyRejected { fingerprint })) => {
            assert_eq!(fingerprint, fp)
        }
        other => panic!("{other:?}"),
    }
    assert!(c.feed(now, b"x").is_err(), "errors are sticky");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn chunking_invariance_random_splits(seed in any::<u64>()) {
        let mut x = seed | 1;
        let whole = run_session(Script::default(), |n| n);
        let split = run_session(Script::default(), |n| {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            1 + (x as usize) % n.clamp(1, 700)
        });
        prop_assert_eq!(whole, split);
    }
}

#[test]
fn handshake_deadline_is_a_timer_on_virtual_time() {
    let t0 = Instant::now();
    let mut c = client(t0);
    let deadline = c.poll_timeout().expect("a handshake deadline");
    assert_eq!(deadline, t0 + std::time::Duration::from_secs(120));
    c.handle_timeout(t0 + std::time::Duration::from_secs(119))
        .unwrap();
    assert_eq!(c.handle_timeout(deadline).unwrap_err(), Error::Timeout);
    let mut out = Vec::new();
    c.poll_transmit(&mut out);
    assert!(
        out.starts_with(b"SSH-2.0-"),
        "identification, KEXINIT and DISCONNECT queued"
    );
    assert!(matches!(
        c.poll_event(),
        Some(Event::ConnectionLost(Error::Timeout))
    ));
    assert_eq!(c.poll_timeout(), None);
}
