//! Rekeying under load against OpenSSH: the server rekeys every MiB (`RekeyLimit 1M`) and our
//! client every MiB too, so key exchanges start from both sides, cross each other, and land
//! in the middle of channel data in both directions. Every byte must arrive intact.

use seashell_blocking::{Client, ExitStatus};
use seashell_conformance::{key_config, start_sshd};
use seashell_testkit::{KeyKind, SshdOptions};
use std::io::{Read, Write};

const LEN: usize = 32 * 1024 * 1024;

fn options() -> SshdOptions {
    SshdOptions {
        extra_config: vec!["RekeyLimit 1M".into()],
        ..SshdOptions::default()
    }
}

#[test]
fn download_and_upload_across_many_rekeys_both_sides() {
    let Some(sshd) = start_sshd(options()) else {
        return;
    };
    for cipher in ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"] {
        let config = key_config(&sshd, KeyKind::Ed25519).with_core(|mut c| {
            c.rekey_bytes = 1 << 20;
            c.ciphers(&[cipher])
        });
        let session = Client::connect(&sshd.addr(), config).unwrap();

        let mut down = session
            .channel_exec(&format!(
                "head -c {LEN} /dev/urandom | tee /dev/stderr | sha256sum >&2"
            ))
            .unwrap();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        down.read_both(&mut stdout, &mut stderr).unwrap();
        assert_eq!(down.wait().unwrap(), ExitStatus::Code(0));
        // stderr holds the random bytes followed by their digest as computed on the server.
        assert!(stderr.len() > LEN, "{cipher}: got {} bytes", stderr.len());
        let (data, digest_line) = stderr.split_at(LEN);
        let digest = ring_digest(data);
        assert!(
            String::from_utf8_lossy(digest_line).starts_with(&digest),
            "{cipher}: digest mismatch: {} bytes of stderr, ours {digest}, tail {:?}",
            stderr.len(),
            String::from_utf8_lossy(&stderr[stderr.len().saturating_sub(100)..])
        );

        let mut up = session.channel_exec("sha256sum").unwrap();
        let mut sent = Vec::with_capacity(LEN);
        let mut x: u32 = 0x1234_5678;
        let mut chunk = vec![0u8; 64 * 1024];
        while sent.len() < LEN {
            for b in chunk.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
            up.write_all(&chunk).unwrap();
            sent.extend_from_slice(&chunk);
        }
        up.send_eof().unwrap();
        let mut out = String::new();
        up.read_to_string(&mut out).unwrap();
        assert_eq!(up.wait().unwrap(), ExitStatus::Code(0));
        assert!(
            out.starts_with(&ring_digest(&sent)),
            "{cipher}: upload digest mismatch: {out}"
        );
        // 64 MiB through keys that last 1 MiB: dozens of exchanges.
        let kex = session.key_exchanges();
        assert!(kex >= 20, "{cipher}: only {kex} key exchanges");
    }
}

fn ring_digest(data: &[u8]) -> String {
    seashell_proto::crypto::sha256(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
