//! Key derivation (RFC 4253 §7.2): `HASH(K || H || letter || session_id)`, extended by
//! `HASH(K || H || K1 || …)` until long enough.

use super::KexOutput;
use zeroize::Zeroizing;

/// Derives `len` bytes of key material for `letter` ('A'..='F').
pub fn derive_key(
    out: &KexOutput,
    session_id: &[u8],
    letter: u8,
    len: usize,
) -> Zeroizing<Vec<u8>> {
    let k = out.shared_secret.as_slice();
    let h = out.exchange_hash.as_slice();
    let mut key = Zeroizing::new(out.hash.hash(&[k, h, &[letter], session_id]));
    while key.len() < len {
        let more = out.hash.hash(&[k, h, key.as_slice()]);
        key.extend_from_slice(&more);
    }
    key.truncate(len);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::HashAlg;

    /// The extension rule of RFC 4253 §7.2: the second block is HASH(K || H || K1), and a
    /// shorter request is a prefix of a longer one.
    #[test]
    fn extension_rule() {
        let mut k = Vec::new();
        crate::wire::put_mpint(&mut k, &[0x87; 32]);
        let k = Zeroizing::new(k);
        let out = KexOutput {
            exchange_hash: vec![7u8; 32],
            shared_secret: k,
            hash: HashAlg::Sha256,
        };
        let sid = vec![9u8; 32];
        let long = derive_key(&out, &sid, b'C', 64);
        let k1 = HashAlg::Sha256.hash(&[&out.shared_secret, &out.exchange_hash, b"C", &sid]);
        let k2 = HashAlg::Sha256.hash(&[&out.shared_secret, &out.exchange_hash, &k1]);
        assert_eq!(&long[..32], &k1[..]);
        assert_eq!(&long[32..], &k2[..]);
        assert_eq!(&derive_key(&out, &sid, b'C', 12)[..], &k1[..12]);
    }

    /// NIST CAVS 14.1 SSHKDF vectors (SHA-256), as published in OpenSSL's
    /// `test/recipes/30-test_evp_data/evpkdf_ssh.txt`: K (mpint-encoded), H, session id,
    /// and the expected IVs and keys for letters A–F.
    #[test]
    fn nist_cavs_sshkdf_sha256() {
        struct Vector {
            k: &'static str,
            h: &'static str,
            sid: &'static str,
            out: [&'static str; 6],
        }
        let vectors = [
            Vector {
                k: concat!(
                    "000000807d3783ce1f598c3279e8a33f3e8bfe9c255979034f43d107bb3dd6cb21ff67d94559",
                    "4929f2fd7bef74679be81d3ad6c1b472293d1060242d720ed2fb250fde838064eec64d75cb9d",
                    "5d2ec09c9e67e3bf48c0d0a92577f8bf6e05cfcbaafcd243369f30f14d24a4ad2c1aaff528e0",
                    "3198227135d26839fd45cd60678ae41307c2"
                ),
                h: "2efc2c1be24e1259105757bbd2c518d62ae52400451347aa90e2aab00bc58864",
                sid: "2df7d0dbcb1beb17ef1a8b9884c9d6d8833b5039797a5fce61e7a2490405b323",
                out: [
                    "3cc220d5bb9b5346",
                    "051e3c79aede7e41",
                    "44c2b4725965ee9a2bce58d38e2e9a778263c415b21a25be",
                    "d5de7a801956b934d820f9aa51bf1dae2a7aec7ce5ce4e50",
                    "7d2039a6505e3220535fde0ff71464f3971580f50711356760b225fc3053fc19",
                    "b0972348a031ef2e87d42611e53cf0c4782d759ecdcc1390318eb11e1925ac35",
                ],
            },
            Vector {
                k: concat!(
                    "0000008100b44b386751753bf1fbfe100b11761766aaef16b2786462ba9561d3b49358125",
                    "4a1c1556ef611fec70146a864f8860c6317f294d06aec94129740c78035411992492825554",
                    "362d25bf2c43a2e8a4d22e5d4777c593c8686966684b95e8e4535fc0b4a0e53264f22cf568",
                    "469e829a303cdd06c09d8f74ccef6b6028fde782a7285"
                ),
                h: "8c691585cffd38a6ad0fd751da66c1a0f2b46ad6c12348b5a89cd24f39e76517",
                sid: "2d93238fe20a860db2fb8fb4c5a0525a2f8817abbb53773e4af9fb366a213506",
                out: [
                    "cdb047beecd92d84",
                    "ef378e894d8f675e",
                    "23ee42a437801e87348b3999bde76147a8731e318db57752",
                    "a3f50e3d14498f15e1f111cc929648011d6abfb58e90df1c",
                    "fb6a020561e46e521344cb671a50175afd63ded91eedaa1b2879c3a63761674d",
                    "567a79e7c4b10d62a420ce2ea740661c08d9459ed636ecb4edebcedb17b0baba",
                ],
            },
        ];
        for v in vectors {
            let out = KexOutput {
                exchange_hash: hex::decode(v.h).unwrap(),
                shared_secret: Zeroizing::new(hex::decode(v.k).unwrap()),
                hash: HashAlg::Sha256,
            };
            let sid = hex::decode(v.sid).unwrap();
            for (letter, want) in (b'A'..=b'F').zip(v.out) {
                let got = derive_key(&out, &sid, letter, want.len() / 2);
                assert_eq!(hex::encode(&*got), want, "letter {}", letter as char);
            }
        }
    }
}
