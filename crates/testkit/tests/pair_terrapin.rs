//! Terrapin (CVE-2023-48795) against our own client and server, in memory: an attacker on
//! the wire inserts an IGNORE before the server's NEWKEYS and deletes the first encrypted
//! packet (EXT_INFO) after it, or only deletes it. With strict KEX (always on between our
//! client and server) the insertion is fatal at once, and a deletion alone breaks the
//! sequence numbers, so the next packet fails authentication. Authentication never happens.

use seashell_proto::crypto::CipherAlg;
use seashell_proto::error::{CryptoError, PeerMisbehaved};
use seashell_proto::{AuthMethod, ClientConfig, Error, ServerConfig};
use seashell_testkit::Pair;
use seashell_testkit::pair::{accept_auth, test_host_key, test_user_key};
use std::time::Duration;

/// Offsets of the cleartext packets at the start of `buf` (packet_length, padding, payload).
fn cleartext_packets(buf: &[u8]) -> Vec<(usize, usize, u8)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 5 < buf.len() {
        let len = u32::from_be_bytes(buf[at..at + 4].try_into().unwrap()) as usize;
        if len > 256 * 1024 || at + 4 + len > buf.len() {
            break;
        }
        out.push((at, 4 + len, buf[at + 5]));
        if buf[at + 5] == 21 {
            break; // NEWKEYS: what follows is encrypted
        }
        at += 4 + len;
    }
    out
}

/// An unencrypted SSH_MSG_IGNORE packet (8-byte aligned).
fn ignore_packet() -> Vec<u8> {
    // payload: 2, string "" ; padding 6 -> packet_length = 1 + 5 + 6 = 12; 4 + 12 = 16
    let mut p = vec![0, 0, 0, 12, 6, 2, 0, 0, 0, 0];
    p.extend_from_slice(&[0u8; 6]);
    p
}

fn attack(cipher: CipherAlg, insert: bool) -> Error {
    let mut client = ClientConfig::new("alice").ciphers(&[cipher.name()]);
    client.handshake_timeout = Duration::from_secs(30);
    let mut server = ServerConfig::new(vec![test_host_key()]);
    server.ciphers = vec![cipher.name().to_owned()];
    let mut pair = Pair::new(client, server);
    let mut done = false;
    pair.tamper_s2c = Some(Box::new(move |buf, _| {
        if done {
            return;
        }
        let packets = cleartext_packets(buf);
        if let Some(&(at, len, 21)) = packets.last() {
            done = true;
            // Delete everything encrypted after NEWKEYS in this flight (the EXT_INFO).
            buf.truncate(at + len);
            if insert {
                let ign = ignore_packet();
                buf.splice(at..at, ign);
            }
        }
    }));
    let mut method = Some(AuthMethod::PublicKey(test_user_key(4)));
    pair.run(
        Duration::from_secs(5),
        |c, ev| match ev {
            seashell_proto::Event::HostKey(k) => {
                let _ = c.accept_host_key(k);
            }
            seashell_proto::Event::AuthMethods { choice, .. } => {
                if let Some(m) = method.take() {
                    let _ = c.authenticate(choice, m);
                }
            }
            _ => {}
        },
        accept_auth,
    );
    assert!(
        !pair.client.is_authenticated(),
        "{cipher:?} insert={insert}: the attack went unnoticed"
    );
    pair.client_error
        .clone()
        .unwrap_or_else(|| panic!("{cipher:?} insert={insert}: no client error"))
}

#[test]
fn terrapin_insertion_and_deletion_are_detected() {
    for cipher in CipherAlg::ALL.into_iter().filter(|c| c.is_aead()) {
        let e = attack(cipher, true);
        assert_eq!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::NonKexMessageDuringStrictKex(2)),
            "{cipher:?}"
        );
        let e = attack(cipher, false);
        assert!(
            matches!(
                e,
                Error::Crypto(CryptoError::BadMac) | Error::InvalidMessage(_)
            ),
            "{cipher:?}: deletion gave {e:?}"
        );
    }
}
