//! `curve25519-sha256` (RFC 8731), client side: an ephemeral X25519 key, the server's reply,
//! and the exchange hash of RFC 5656 §4.

use super::{KexAlg, KexOutput};
use crate::crypto::HashAlg;
use crate::error::{CryptoError, Error};
use crate::wire;
use ring::agreement;
use zeroize::Zeroizing;

/// Our half of an X25519 exchange, waiting for the peer's public value.
pub struct Curve25519 {
    private: agreement::EphemeralPrivateKey,
    public: [u8; 32],
}

impl core::fmt::Debug for Curve25519 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Curve25519 { .. }")
    }
}

/// The transcript fields that go into the exchange hash besides the KEX values.
#[derive(Debug, Clone, Copy)]
pub struct HashInputs<'a> {
    /// Client identification line, without CR LF.
    pub client_ident: &'a [u8],
    /// Server identification line, without CR LF.
    pub server_ident: &'a [u8],
    /// Client KEXINIT payload.
    pub client_kexinit: &'a [u8],
    /// Server KEXINIT payload.
    pub server_kexinit: &'a [u8],
    /// Server host key blob.
    pub host_key: &'a [u8],
}

impl Curve25519 {
    /// Generates an ephemeral key pair (with ring's system RNG, which ring does not let us
    /// replace).
    pub fn generate() -> Result<Curve25519, Error> {
        let rng = ring::rand::SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng)
            .map_err(|_| CryptoError::Rng)?;
        let pk = private
            .compute_public_key()
            .map_err(|_| CryptoError::KeyAgreement)?;
        let mut public = [0u8; 32];
        public.copy_from_slice(pk.as_ref().get(..32).ok_or(CryptoError::KeyAgreement)?);
        Ok(Curve25519 { private, public })
    }

    /// Our public value Q.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// The raw 32-byte X25519 shared secret with the peer's public value (the hybrid methods
    /// hash it). Wrong lengths and the all-zero result of a low-order point fail.
    pub fn agree_raw(self, peer_public: &[u8]) -> Result<Zeroizing<[u8; 32]>, Error> {
        if peer_public.len() != 32 {
            return Err(CryptoError::KeyAgreement.into());
        }
        let peer = agreement::UnparsedPublicKey::new(&agreement::X25519, peer_public);
        agreement::agree_ephemeral(self.private, &peer, |s| {
            let mut k = Zeroizing::new([0u8; 32]);
            k.copy_from_slice(s.get(..32).unwrap_or(&[0; 32]));
            k
        })
        .map_err(|_| CryptoError::KeyAgreement.into())
    }

    /// Completes the exchange with the peer's public value and computes H over the transcript.
    /// `we_are_client` orders Q_C and Q_S. A peer value that is not 32 bytes, or that yields
    /// the all-zero secret (a low-order point), fails.
    pub fn finish(
        self,
        alg: KexAlg,
        peer_public: &[u8],
        inputs: HashInputs<'_>,
        we_are_client: bool,
    ) -> Result<KexOutput, Error> {
        let public = self.public;
        let raw = self.agree_raw(peer_public)?;
        let mut secret = Zeroizing::new(Vec::with_capacity(37));
        wire::put_mpint(&mut secret, raw.as_slice());
        let (q_c, q_s): (&[u8], &[u8]) = if we_are_client {
            (&public, peer_public)
        } else {
            (peer_public, &public)
        };
        let hash = alg.hash();
        let exchange_hash = exchange_hash(hash, inputs, q_c, q_s, &secret);
        Ok(KexOutput {
            exchange_hash,
            shared_secret: secret,
            hash,
        })
    }
}

/// H = HASH(V_C || V_S || I_C || I_S || K_S || Q_C || Q_S || K), each as an SSH string except
/// K, which is already mpint-encoded.
pub fn exchange_hash(
    hash: HashAlg,
    i: HashInputs<'_>,
    q_c: &[u8],
    q_s: &[u8],
    k: &[u8],
) -> Vec<u8> {
    exchange_hash_with(hash, i, None, false, q_c, q_s, k)
}

/// The exchange hash of every method: the five transcript strings, the group exchange's
/// `min || n || max || p || g` when there is one (RFC 4419 §3), the two public values as
/// mpints (`mpint`, finite-field Diffie-Hellman, RFC 4253 §8) or strings (RFC 5656 §4), then
/// K as already encoded.
pub(crate) fn exchange_hash_with(
    hash: HashAlg,
    i: HashInputs<'_>,
    gex: Option<&super::gex::Transcript>,
    mpint: bool,
    q_c: &[u8],
    q_s: &[u8],
    k: &[u8],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(4096);
    for field in [
        i.client_ident,
        i.server_ident,
        i.client_kexinit,
        i.server_kexinit,
        i.host_key,
    ] {
        wire::put_string(&mut buf, field);
    }
    if let Some(t) = gex {
        t.put(&mut buf);
    }
    for v in [q_c, q_s] {
        if mpint {
            wire::put_mpint(&mut buf, v);
        } else {
            wire::put_string(&mut buf, v);
        }
    }
    buf.extend_from_slice(k);
    let h = hash.hash(&[&buf]);
    zeroize::Zeroize::zeroize(&mut buf);
    h
}
