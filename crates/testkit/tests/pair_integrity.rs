//! OpenSSH's regress `integrity` test, in memory: for every cipher, the legacy CBC ones
//! included (and every MAC of the non-AEAD ciphers), flipping one byte of the server's stream after the key exchange makes
//! the client fail with a MAC/AEAD or framing error and send DISCONNECT, never a panic, never
//! a hang, and never deliver the tampered data.

use seashell_proto::crypto::{CipherAlg, MacAlg};
use seashell_proto::error::{CryptoError, InvalidMessage};
use seashell_proto::{AuthMethod, ClientConfig, Error, Event, ServerConfig};
use seashell_testkit::Pair;
use seashell_testkit::pair::{accept_auth, test_host_key, test_user_key};
use std::time::Duration;

fn suites() -> Vec<(CipherAlg, Option<MacAlg>)> {
    let mut v = Vec::new();
    for c in CipherAlg::ALL {
        if c.is_aead() {
            v.push((c, None));
        } else {
            for m in MacAlg::ALL {
                v.push((c, Some(m)));
            }
        }
    }
    v
}

/// Connects with one cipher/MAC, then flips the byte `offset` bytes into the server's
/// stream after authentication while the server streams data. Returns the client's error.
fn flip(cipher: CipherAlg, mac: Option<MacAlg>, offset: usize) -> (Error, Vec<u8>) {
    let names = |c: CipherAlg| vec![c.name().to_owned()];
    let mut client = ClientConfig::new("alice").ciphers(&names(cipher));
    let mut server = ServerConfig::new(vec![test_host_key()]);
    server.ciphers = names(cipher);
    if let Some(m) = mac {
        client = client.macs(&[m.name()]);
        server.macs = vec![m.name().to_owned()];
    }
    let mut pair = Pair::new(client, server);
    pair.connect(AuthMethod::PublicKey(test_user_key(9)));
    let id = pair.client.open_session().unwrap();
    let mut server_chan = None;
    pair.run(
        Duration::from_secs(1),
        |_, _| {},
        |s, ev| match ev {
            Event::ChannelOpenRequest(c) => server_chan = Some(s.accept_channel(c).unwrap()),
            other => accept_auth(s, other),
        },
    );
    let sc = server_chan.unwrap();
    // From here on, flip one byte at `offset` of what the server sends.
    pair.run(Duration::from_millis(1), |_, _| {}, |_, _| {});
    let mut armed = None;
    pair.tamper_s2c = Some(Box::new(move |buf, before| {
        let base = *armed.get_or_insert(before);
        if let Some(i) = (base + offset)
            .checked_sub(before)
            .filter(|&i| i < buf.len())
        {
            buf[i] ^= 0x01;
        }
    }));
    let mut got = Vec::new();
    for _ in 0..200 {
        if pair.client_error.is_some() {
            break;
        }
        if let Some(mut ch) = pair.server.channel(sc) {
            let _ = ch.write(&[0x42; 4096]);
        }
        pair.run(
            Duration::from_millis(10),
            |c, ev| {
                if let Event::Data { id: i, data } = ev
                    && i == id
                {
                    got.extend_from_slice(&data);
                    let _ = c.channel(i).map(|mut ch| ch.consume(data.len()));
                }
            },
            |_, _| {},
        );
    }
    let e = pair
        .client_error
        .clone()
        .unwrap_or_else(|| panic!("{cipher:?}/{mac:?} offset {offset}: tampering went unnoticed"));
    // The client sent a DISCONNECT, which the server received.
    assert!(
        matches!(pair.server_error, Some(Error::DisconnectReceived { .. })),
        "{cipher:?}/{mac:?}: server saw {:?}",
        pair.server_error
    );
    (e, got)
}

#[test]
fn one_flipped_byte_after_kex_is_always_detected() {
    for (cipher, mac) in suites() {
        for offset in [0usize, 1, 3, 4, 5, 9, 17, 40, 100] {
            let (e, got) = flip(cipher, mac, offset);
            assert!(
                matches!(
                    e,
                    Error::Crypto(CryptoError::BadMac)
                        | Error::InvalidMessage(
                            InvalidMessage::BadPacketLength(_) | InvalidMessage::BadPadding
                        )
                ),
                "{cipher:?}/{mac:?} offset {offset}: {e:?}"
            );
            // CBC without ETM hides which check failed (OpenSSH's discard): always BadMac.
            if cipher.is_cbc() && mac.is_some_and(|m| !m.is_etm()) {
                assert_eq!(e, Error::Crypto(CryptoError::BadMac), "{cipher:?}/{mac:?}");
            }
            assert!(
                got.iter().all(|&b| b == 0x42),
                "{cipher:?}/{mac:?}: tampered data was delivered"
            );
        }
    }
}
