//! Arbitrary text as a known_hosts file: parsed, then looked up for a few hosts (plain,
//! `[host]:port`, an address) with a plain key and a certificate, and run through the
//! `ssh-keygen -F/-R/-H` text operations.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_keys::known_hosts_edit::{
    find_host_lines, hash_known_hosts, remove_host_keys_only, remove_host_lines,
};
use seashell_keys::{KnownHosts, PrivateKey, PublicKey};
use std::sync::OnceLock;

fn keys() -> &'static [PublicKey; 1] {
    static KEYS: OnceLock<[PublicKey; 1]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let k = PrivateKey::ed25519_from_seed(&[7; 32]).expect("seed");
        [k.public_key()]
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let kh = KnownHosts::parse(&text);
    let configured = vec!["ssh-ed25519".to_owned(), "rsa-sha2-512".to_owned()];
    for (host, port) in [("example.com", 22), ("example.com", 2222), ("10.0.0.1", 22)] {
        for key in keys() {
            let _ = kh.check_at(host, port, key, 1_700_000_000);
        }
        let _ = kh.has_cert_authority(host, port);
        let _ = kh.order_host_key_algorithms(host, port, &configured);
        let _ = find_host_lines(&text, host, port);
        let _ = remove_host_lines(&text, host, port);
        let _ = remove_host_keys_only(&text, host, port, |k| k.key_type() == "ssh-ed25519");
    }
    if text.len() < 4096 {
        let _ = hash_known_hosts(&text);
    }
});
