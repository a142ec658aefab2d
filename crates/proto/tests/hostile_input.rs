//! Every byte from the peer is hostile: random bytes, garbage after a valid banner, truncated
//! and mutated server flights, and oversized lengths all give a typed error or a wait for more
//! input, never a panic.
#![allow(clippy::disallowed_methods)] // tests may read the clock; the core may not

mod common;

use common::{FakeServer, IDENT, Script, client};
use proptest::prelude::*;
use seashell_proto::Error;
use seashell_proto::error::{InvalidMessage, PeerMisbehaved};
use std::time::Instant;

/// The server's first flight (banner, KEXINIT, ECDH reply, NEWKEYS, EXT_INFO) for a fresh
/// client, and that client.
fn first_flight() -> (seashell_proto::ClientConnection, Vec<u8>) {
    let now = Instant::now();
    let mut c = client(now);
    let mut s = FakeServer::new(Script::default());
    let mut buf = Vec::new();
    c.poll_transmit(&mut buf);
    s.feed(&buf);
    (c, std::mem::take(&mut s.out))
}

fn banner() -> Vec<u8> {
    format!("{IDENT}\r\n").into_bytes()
}

proptest! {
    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let now = Instant::now();
        let mut c = client(now);
        let r = c.feed(now, &data);
        if r.is_ok() {
            prop_assert!(c.feed_eof(now).is_err());
        }
    }

    #[test]
    fn garbage_after_banner_is_a_typed_error(data in proptest::collection::vec(any::<u8>(), 1..4096)) {
        let now = Instant::now();
        let mut c = client(now);
        let mut input = banner();
        input.extend_from_slice(&data);
        match c.feed(now, &input) {
            Ok(()) => prop_assert!(matches!(c.feed_eof(now), Err(Error::ConnectionClosed))),
            Err(e) => prop_assert!(matches!(
                e,
                Error::InvalidMessage(_) | Error::PeerMisbehaved(_) | Error::PeerIncompatible(_) | Error::Crypto(_)
            ), "{e:?}"),
        }
    }

    #[test]
    fn mutated_server_flight_never_panics(pos in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let (mut c, mut flight) = first_flight();
        let i = pos.index(flight.len());
        flight[i] ^= xor;
        let _ = c.feed(Instant::now(), &flight);
    }
}

#[test]
fn truncated_flight_waits_then_eof_is_connection_closed() {
    let (_, flight) = first_flight();
    for cut in (0..flight.len()).step_by(7) {
        // Each client has its own ephemeral key, so each cut gets a fresh flight.
        let (mut c, f) = first_flight();
        let cut = cut.min(f.len());
        c.feed(Instant::now(), &f[..cut])
            .unwrap_or_else(|e| panic!("cut {cut}: {e:?}"));
        let eof = c.feed_eof(Instant::now()).unwrap_err();
        if cut < banner().len() {
            assert_eq!(eof, Error::PeerMisbehaved(PeerMisbehaved::NotSsh));
        } else {
            assert_eq!(eof, Error::ConnectionClosed);
        }
    }
}

#[test]
fn oversized_and_undersized_lengths_rejected() {
    for len in [0u32, 1, 4, 7, 256 * 1024 + 1, 1 << 31, u32::MAX] {
        let now = Instant::now();
        let mut c = client(now);
        let mut input = banner();
        input.extend_from_slice(&len.to_be_bytes());
        input.extend_from_slice(&[0u8; 16]);
        let e = c.feed(now, &input).unwrap_err();
        assert_eq!(
            e,
            Error::InvalidMessage(InvalidMessage::BadPacketLength(len)),
            "len {len}"
        );
        // The DISCONNECT is still flushed, and the error is sticky.
        let mut out = Vec::new();
        assert!(c.poll_transmit(&mut out) > 0);
        assert_eq!(c.feed(now, b"more").unwrap_err(), e);
    }
}

#[test]
fn non_ssh_peer_gets_a_clear_error() {
    let now = Instant::now();
    let mut c = client(now);
    c.feed(now, b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
    assert_eq!(
        c.feed_eof(now).unwrap_err(),
        Error::PeerMisbehaved(PeerMisbehaved::NotSsh)
    );
    let mut c = client(now);
    let e = c.feed(now, b"SSH-1.5-old\r\n").unwrap_err();
    assert!(matches!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::UnsupportedProtocolVersion(_))
    ));
    let mut c = client(now);
    let e = c.feed(now, &vec![b'x'; 9000]).unwrap_err();
    assert!(matches!(
        e,
        Error::InvalidMessage(InvalidMessage::BadIdentification(_))
    ));
}
