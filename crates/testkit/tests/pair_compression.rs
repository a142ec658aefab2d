//! Compression end to end, our client core against our server core in memory: `zlib` and
//! `zlib@openssh.com` carry data both ways and across rekeys (where both ends restart their
//! streams in step), `zlib@openssh.com` stays off until authentication succeeds, and the
//! negotiation follows the client's preference.

use seashell_proto::error::PeerIncompatible;
use seashell_proto::transport::compress::CompressionAlg;
use seashell_proto::{AuthMethod, ChannelId, ClientConfig, Error, Event, ServerConfig};
use seashell_testkit::pair::{accept_auth, test_host_key, test_user_key};
use seashell_testkit::{Chunking, Pair};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const KIB: usize = 1024;

fn pair_with(client: &[&str], server: &[&str]) -> Pair {
    let c = ClientConfig::new("alice").compression(client);
    let mut s = ServerConfig::new(vec![test_host_key()]);
    s.compression = server.iter().map(|n| (*n).to_owned()).collect();
    // Only USERAUTH_SUCCESS ends the uncompressed part: no hostkeys-00 right after it.
    s.announce_host_keys = false;
    Pair::new(c, s)
}

fn session(pair: &mut Pair) -> (ChannelId, ChannelId) {
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    open(pair)
}

fn open(pair: &mut Pair) -> (ChannelId, ChannelId) {
    pair.open_session_channel()
}

/// Half compressible text, half noise, so both stored and compressed blocks occur.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|i| {
            if (i / 5000) % 2 == 0 {
                b"seashell compression "[i % 21]
            } else {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            }
        })
        .collect()
}

/// Streams `up` and `down` through the session and checks both arrive intact.
fn transfer(pair: &mut Pair, (cid, sid): (ChannelId, ChannelId), up: &[u8], down: &[u8]) {
    let (mut up_sent, mut down_sent) = (0, 0);
    let (mut up_got, mut down_got) = (Vec::new(), Vec::new());
    let write = |ch: Option<seashell_proto::Channel<'_>>, d: &[u8], sent: &mut usize| {
        let mut ch = ch.unwrap();
        while *sent < d.len() {
            match ch.write(&d[*sent..]).unwrap() {
                0 => break,
                n => *sent += n,
            }
        }
    };
    write(pair.client.channel(cid), up, &mut up_sent);
    write(pair.server.channel(sid), down, &mut down_sent);
    pair.run(
        Duration::from_secs(60),
        |c, ev| match ev {
            Event::Data { data, .. } => {
                down_got.extend_from_slice(&data);
                c.channel(cid).unwrap().consume(data.len()).unwrap();
            }
            Event::Writable(_) => write(c.channel(cid), up, &mut up_sent),
            _ => {}
        },
        |s, ev| match ev {
            Event::Data { data, .. } => {
                up_got.extend_from_slice(&data);
                s.channel(sid).unwrap().consume(data.len()).unwrap();
            }
            Event::Writable(_) => write(s.channel(sid), down, &mut down_sent),
            _ => {}
        },
    );
    assert!(
        pair.client_error.is_none() && pair.server_error.is_none(),
        "{:?} / {:?}",
        pair.client_error,
        pair.server_error
    );
    assert!(up_got == up && down_got == down, "bytes differ");
}

fn both_ways_across_rekeys(method: &str) {
    let mut pair = pair_with(&[method], &["none", method]);
    pair.chunking = Chunking::Random {
        seed: 11,
        max: 20 * KIB,
    };
    pair.latency = Duration::from_millis(2);
    let ids = session(&mut pair);
    let want = CompressionAlg::from_name(method).unwrap();
    let neg = pair.client.negotiated().unwrap();
    assert_eq!((neg.comp_c2s, neg.comp_s2c), (want, want));
    transfer(&mut pair, ids, &data(600 * KIB, 1), &data(700 * KIB, 2));
    for round in 0..3u64 {
        let before = pair.client.key_exchanges();
        if round % 2 == 0 {
            pair.client.rekey().unwrap();
        } else {
            pair.server.rekey().unwrap();
        }
        // Data queued while the exchange runs goes out under the new keys and fresh streams.
        transfer(
            &mut pair,
            ids,
            &data(300 * KIB, 10 + round),
            &data(200 * KIB, 20 + round),
        );
        assert_eq!(pair.client.key_exchanges(), before + 1);
        assert_eq!(pair.server.key_exchanges(), before + 1);
    }
}

#[test]
fn zlib_openssh_carries_data_both_ways_across_rekeys() {
    both_ways_across_rekeys("zlib@openssh.com");
}

#[test]
fn zlib_carries_data_both_ways_across_rekeys() {
    both_ways_across_rekeys("zlib");
}

/// Counts the server's bytes on the wire until the client is authenticated, then after it
/// sends 256 KiB of one byte value.
fn server_bytes(client_methods: &[&str]) -> (usize, usize) {
    let mut pair = pair_with(client_methods, &["none", "zlib@openssh.com", "zlib"]);
    let total = Rc::new(Cell::new(0usize));
    let t = total.clone();
    pair.tamper_s2c = Some(Box::new(move |buf, before| t.set(before + buf.len())));
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    let at_auth = total.get();
    let ids = open(&mut pair);
    let mark = total.get();
    transfer(&mut pair, ids, b"x", &vec![0x42; 256 * KIB]);
    (at_auth, total.get() - mark)
}

#[test]
fn zlib_openssh_is_off_until_authentication() {
    // The same-length offers, so the KEXINITs are the same size.
    let (plain_auth, plain_data) = server_bytes(&["none", "zlib@openssh.com", "zlib"]);
    let (delayed_auth, delayed_data) = server_bytes(&["zlib@openssh.com", "none", "zlib"]);
    let (zlib_auth, zlib_data) = server_bytes(&["zlib", "none", "zlib@openssh.com"]);
    // Up to and including USERAUTH_SUCCESS, delayed compression sends exactly what no
    // compression sends; plain zlib compresses from NEWKEYS on.
    assert_eq!(delayed_auth, plain_auth);
    assert_ne!(zlib_auth, plain_auth);
    assert!(plain_data > 256 * KIB);
    assert!(delayed_data < 16 * KIB, "{delayed_data}");
    assert!(zlib_data < 16 * KIB, "{zlib_data}");
}

#[test]
fn negotiation_follows_the_client() {
    let pick = |client: &[&str], server: &[&str]| {
        let mut pair = pair_with(client, server);
        pair.connect(AuthMethod::PublicKey(test_user_key(5)));
        let n = pair.server.negotiated().unwrap().clone();
        (n.comp_c2s, n.comp_s2c)
    };
    let defaults = ClientConfig::new("alice").compression;
    let d: Vec<&str> = defaults.iter().map(String::as_str).collect();
    assert_eq!(pick(&d, &d), (CompressionAlg::None, CompressionAlg::None));
    let preferred: Vec<&str> = CompressionAlg::PREFERRED.iter().map(|c| c.name()).collect();
    assert_eq!(
        pick(&preferred, &d),
        (CompressionAlg::ZlibOpenSsh, CompressionAlg::ZlibOpenSsh)
    );
    assert_eq!(
        pick(&preferred, &["none", "zlib"]),
        (CompressionAlg::Zlib, CompressionAlg::Zlib)
    );

    let mut pair = pair_with(&["zlib"], &["none"]);
    pair.run(Duration::from_secs(1), |_, _| {}, accept_auth);
    assert!(
        matches!(
            pair.client_error,
            Some(Error::PeerIncompatible(PeerIncompatible::NoCommonAlgorithm { what, .. }))
                if what.starts_with("compression")
        ),
        "{:?}",
        pair.client_error
    );
}
