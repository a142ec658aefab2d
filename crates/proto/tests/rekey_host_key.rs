//! A re-exchange must be signed by the host key the application accepted at the first
//! exchange: a server that presents another key at a rekey ends the connection with
//! `HostKeyChanged` before any new keys are used; the same key rekeys normally.
#![allow(clippy::disallowed_methods)] // tests may read the clock; the core may not

mod common;

use common::{FakeServer, PASSWORD, Script, client};
use seashell_proto::error::PeerMisbehaved;
use seashell_proto::{AuthMethod, ClientConnection, Error, Event};
use std::time::Instant;

/// Moves bytes both ways until nothing moves, answering the handshake's decisions.
/// Returns the connection's error, if it ended.
fn pump(c: &mut ClientConnection, s: &mut FakeServer, now: Instant) -> Option<Error> {
    let mut buf = Vec::new();
    for _ in 0..100 {
        buf.clear();
        c.poll_transmit(&mut buf);
        s.feed(&buf);
        let wire = std::mem::take(&mut s.out);
        let fed = c.feed(now, &wire);
        while let Some(ev) = c.poll_event() {
            match ev {
                Event::HostKey(check) => c.accept_host_key(check).unwrap(),
                Event::AuthMethods { choice, .. } => c
                    .authenticate(choice, AuthMethod::Password(PASSWORD.to_owned().into()))
                    .unwrap(),
                Event::ConnectionLost(e) => return Some(e),
                _ => {}
            }
        }
        if let Err(e) = fed {
            return Some(e);
        }
        if buf.is_empty() && wire.is_empty() && !c.wants_write() {
            break;
        }
    }
    None
}

fn connected(script: Script) -> (ClientConnection, FakeServer, Instant) {
    let now = Instant::now();
    let mut c = client(now);
    let mut s = FakeServer::new(script);
    assert_eq!(pump(&mut c, &mut s, now), None);
    assert!(c.is_authenticated());
    assert_eq!(c.key_exchanges(), 1);
    (c, s, now)
}

#[test]
fn a_different_host_key_at_rekey_is_refused() {
    let (mut c, mut s, now) = connected(Script {
        rekey_host_key_seed: Some(43),
        ..Default::default()
    });
    let accepted = c.host_key().cloned();
    c.rekey().unwrap();
    let err = pump(&mut c, &mut s, now);
    assert_eq!(
        err,
        Some(Error::PeerMisbehaved(PeerMisbehaved::HostKeyChanged))
    );
    assert_eq!(c.key_exchanges(), 1, "the new keys were never used");
    assert_eq!(c.host_key().cloned(), accepted);
    // The client never sent NEWKEYS for the re-exchange, only its DISCONNECT.
    assert!(c.is_closed());
    assert_eq!(s.newkeys_received, 1);
}

#[test]
fn the_same_host_key_rekeys_and_the_session_goes_on() {
    let (mut c, mut s, now) = connected(Script::default());
    c.rekey().unwrap();
    assert_eq!(pump(&mut c, &mut s, now), None);
    assert_eq!(c.key_exchanges(), 2);
    assert_eq!(s.newkeys_received, 2);
    c.open_session().unwrap();
    assert_eq!(pump(&mut c, &mut s, now), None);
    assert!(
        s.client_channel.is_some(),
        "the channel opened after the rekey"
    );
}
