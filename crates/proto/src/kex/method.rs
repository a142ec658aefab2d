//! Every key-exchange method behind one interface: the client starts with its first message
//! and finishes with the server's value; the server responds to the client's value. Each
//! computes the exchange hash of RFC 5656 §4 (the same shape for ECDH, X25519 and the hybrid
//! KEMs; RFC 4253 §8 and RFC 4419 §3 for finite-field Diffie-Hellman) with K encoded as the
//! method requires: an mpint for Diffie-Hellman, ECDH and X25519, a string holding
//! HASH(kem_secret || x25519_secret) for the post-quantum hybrids.

use super::curve25519::{Curve25519, HashInputs, exchange_hash_with};
use super::dh::Dh;
use super::ecdh::P521;
use super::gex;
use super::negotiate::Negotiated;
use super::{KexAlg, KexOutput};
use crate::crypto::{HashAlg, SecureRandom};
use crate::error::{CryptoError, Error, PeerMisbehaved};
use crate::wire::{self, Reader, msg};
use libcrux_ml_kem::mlkem768;
use ring::agreement;
use zeroize::Zeroizing;

/// ML-KEM-768 public key and ciphertext lengths.
const MLKEM_PK: usize = 1184;
const MLKEM_CT: usize = 1088;
const X25519: usize = 32;

enum ClientState {
    X25519(Curve25519),
    Ecdh(agreement::EphemeralPrivateKey),
    P521(P521),
    Mlkem(Box<mlkem768::MlKem768KeyPair>, Curve25519),
    Sntrup(Box<sntrup761::DecapsulationKey>, Curve25519),
    Dh(Box<Dh>),
    /// Group exchange: the request is sent, the server's group is awaited.
    GexRequested(gex::Request),
}

/// The client's half of a key exchange, waiting for the server's value.
pub struct ClientKex {
    alg: KexAlg,
    state: ClientState,
    public: Vec<u8>,
    /// Group exchange: the request and the server's group, once it has arrived.
    gex: Option<gex::Transcript>,
}

impl core::fmt::Debug for ClientKex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ClientKex({})", self.alg.name())
    }
}

/// Appends a public value as `alg` sends it: an mpint for finite-field Diffie-Hellman, a
/// string for every other method.
pub(crate) fn put_value(out: &mut Vec<u8>, alg: KexAlg, value: &[u8]) {
    if alg.uses_mpint() {
        wire::put_mpint(out, value)
    } else {
        wire::put_string(out, value)
    }
}

/// Reads a public value as `alg` sends it (see [`put_value`]).
pub(crate) fn read_value<'a>(
    r: &mut Reader<'a>,
    alg: KexAlg,
    what: &'static str,
) -> Result<&'a [u8], Error> {
    Ok(if alg.uses_mpint() {
        r.mpint_positive(what)?
    } else {
        r.string(what)?
    })
}

fn ecdh_alg(alg: KexAlg) -> &'static agreement::Algorithm {
    match alg {
        KexAlg::EcdhNistp384 => &agreement::ECDH_P384,
        _ => &agreement::ECDH_P256,
    }
}

fn random<const N: usize>(rng: &dyn SecureRandom) -> Result<Zeroizing<[u8; N]>, Error> {
    let mut seed = Zeroizing::new([0u8; N]);
    rng.fill(seed.as_mut_slice())?;
    Ok(seed)
}

/// K for the hybrids: a string holding HASH(kem_secret || x25519_secret).
pub(crate) fn hybrid_secret(hash: HashAlg, kem: &[u8], ecdh: &[u8]) -> Zeroizing<Vec<u8>> {
    let digest = Zeroizing::new(hash.hash(&[kem, ecdh]));
    let mut k = Zeroizing::new(Vec::with_capacity(digest.len() + 4));
    wire::put_string(&mut k, &digest);
    k
}

/// K for Diffie-Hellman, ECDH and X25519: the raw secret as an mpint.
pub(crate) fn mpint_secret(raw: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut k = Zeroizing::new(Vec::with_capacity(raw.len() + 5));
    wire::put_mpint(&mut k, raw);
    k
}

fn split(value: &[u8], at: usize, total: usize) -> Result<(&[u8], &[u8]), Error> {
    if value.len() != total {
        return Err(CryptoError::KeyAgreement.into());
    }
    Ok(value.split_at(at))
}

/// The exchange hash and K of a finished exchange. A group exchange needs its transcript.
pub(crate) fn output(
    alg: KexAlg,
    inputs: HashInputs<'_>,
    gex: Option<&gex::Transcript>,
    q_c: &[u8],
    q_s: &[u8],
    k: Zeroizing<Vec<u8>>,
) -> Result<KexOutput, Error> {
    if alg.is_gex() != gex.is_some() {
        return Err(CryptoError::KeyAgreement.into());
    }
    let hash = alg.hash();
    let exchange_hash = exchange_hash_with(hash, inputs, gex, alg.uses_mpint(), q_c, q_s, &k);
    Ok(KexOutput {
        exchange_hash,
        shared_secret: k,
        hash,
    })
}

impl ClientKex {
    /// Generates our ephemeral keys for `alg` (a group exchange asks for the largest group).
    /// Seeds for the post-quantum halves, Diffie-Hellman exponents and P-521 scalars come
    /// from `rng`; X25519, P-256 and P-384 use ring's system RNG (ring does not take another).
    pub fn start(alg: KexAlg, rng: &dyn SecureRandom) -> Result<ClientKex, Error> {
        ClientKex::start_requesting(alg, gex::MAX_BITS, rng)
    }

    /// As [`ClientKex::start`] for what was negotiated: a group exchange asks for the group
    /// size the ciphers and MACs call for ([`gex::preferred_bits`]).
    pub fn start_for(neg: &Negotiated, rng: &dyn SecureRandom) -> Result<ClientKex, Error> {
        ClientKex::start_requesting(neg.kex, gex::preferred_bits(neg), rng)
    }

    /// As [`ClientKex::start`], asking a group-exchange server for about `gex_bits`.
    pub fn start_requesting(
        alg: KexAlg,
        gex_bits: u32,
        rng: &dyn SecureRandom,
    ) -> Result<ClientKex, Error> {
        let (state, public) = match alg {
            KexAlg::Curve25519Sha256 | KexAlg::Curve25519Sha256Libssh => {
                let x = Curve25519::generate()?;
                let public = x.public().to_vec();
                (ClientState::X25519(x), public)
            }
            KexAlg::EcdhNistp256 | KexAlg::EcdhNistp384 => {
                let sys = ring::rand::SystemRandom::new();
                let private = agreement::EphemeralPrivateKey::generate(ecdh_alg(alg), &sys)
                    .map_err(|_| CryptoError::Rng)?;
                let public = private
                    .compute_public_key()
                    .map_err(|_| CryptoError::KeyAgreement)?;
                let public = public.as_ref().to_vec();
                (ClientState::Ecdh(private), public)
            }
            KexAlg::EcdhNistp521 => {
                let key = P521::generate(rng)?;
                let public = key.public().to_vec();
                (ClientState::P521(key), public)
            }
            KexAlg::Mlkem768X25519Sha256 => {
                let seed = random::<{ libcrux_ml_kem::KEY_GENERATION_SEED_SIZE }>(rng)?;
                let pair = mlkem768::generate_key_pair(*seed);
                let x = Curve25519::generate()?;
                let mut public = pair.public_key().as_slice().to_vec();
                public.extend_from_slice(x.public());
                (ClientState::Mlkem(Box::new(pair), x), public)
            }
            KexAlg::DhGroup14Sha256
            | KexAlg::DhGroup16Sha512
            | KexAlg::DhGroup18Sha512
            | KexAlg::DhGroup14Sha1
            | KexAlg::DhGroup1Sha1 => {
                let group = alg.dh_group().ok_or(CryptoError::KeyAgreement)?;
                let dh = Dh::generate(group, rng)?;
                let public = dh.public().to_vec();
                (ClientState::Dh(Box::new(dh)), public)
            }
            KexAlg::DhGexSha256 | KexAlg::DhGexSha1 => (
                ClientState::GexRequested(gex::Request::client(gex_bits)),
                Vec::new(),
            ),
            KexAlg::Sntrup761X25519Sha512 | KexAlg::Sntrup761X25519Sha512OpenSsh => {
                let seed = random::<32>(rng)?;
                let (ek, dk) = sntrup761::generate_key_from_seed(*seed);
                let x = Curve25519::generate()?;
                let mut public = ek.as_ref().to_vec();
                public.extend_from_slice(x.public());
                (ClientState::Sntrup(Box::new(dk), x), public)
            }
        };
        Ok(ClientKex {
            alg,
            state,
            public,
            gex: None,
        })
    }

    /// The payload of our first KEX message: SSH_MSG_KEX_ECDH_INIT (= KEXDH_INIT) with our
    /// public value, or a group exchange's SSH_MSG_KEX_DH_GEX_REQUEST.
    pub fn first_message(&self) -> Vec<u8> {
        if let ClientState::GexRequested(req) = &self.state {
            return req.encode();
        }
        let mut p = Vec::with_capacity(self.public.len() + 8);
        p.push(msg::KEX_ECDH_INIT);
        put_value(&mut p, self.alg, &self.public);
        p
    }

    /// Group exchange: checks the server's SSH_MSG_KEX_DH_GEX_GROUP, generates our key in
    /// that group and returns the SSH_MSG_KEX_DH_GEX_INIT payload. Anything but the first
    /// group of a group exchange fails.
    pub fn on_gex_group(
        &mut self,
        payload: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>, Error> {
        let ClientState::GexRequested(request) = &self.state else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::KEX_DH_GEX_GROUP).into());
        };
        let request = *request;
        let group = gex::accept_group(&request, payload)?;
        let dh = Dh::generate_in(group.clone(), rng)?;
        self.public = dh.public().to_vec();
        self.state = ClientState::Dh(Box::new(dh));
        self.gex = Some(gex::Transcript { request, group });
        let mut p = Vec::with_capacity(self.public.len() + 8);
        p.push(msg::KEX_DH_GEX_INIT);
        wire::put_mpint(&mut p, &self.public);
        Ok(p)
    }

    /// Our public value (Q_C, the hybrid's C_INIT, or e; empty while a group exchange waits
    /// for its group).
    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// Completes the exchange with the server's value and computes H over the transcript.
    /// Wrong lengths, invalid points, out-of-range Diffie-Hellman values and low-order X25519
    /// points fail.
    pub fn finish(self, server_value: &[u8], inputs: HashInputs<'_>) -> Result<KexOutput, Error> {
        let hash = self.alg.hash();
        let k = match self.state {
            ClientState::X25519(x) => mpint_secret(x.agree_raw(server_value)?.as_slice()),
            ClientState::Ecdh(private) => {
                let peer = agreement::UnparsedPublicKey::new(ecdh_alg(self.alg), server_value);
                agreement::agree_ephemeral(private, &peer, mpint_secret)
                    .map_err(|_| CryptoError::KeyAgreement)?
            }
            ClientState::P521(key) => mpint_secret(&key.agree(server_value)?),
            ClientState::Mlkem(pair, x) => {
                let (ct, xs) = split(server_value, MLKEM_CT, MLKEM_CT + X25519)?;
                let ct = mlkem768::MlKem768Ciphertext::try_from(ct)
                    .map_err(|_| CryptoError::KeyAgreement)?;
                let kem = Zeroizing::new(mlkem768::decapsulate(pair.private_key(), &ct));
                hybrid_secret(hash, kem.as_slice(), x.agree_raw(xs)?.as_slice())
            }
            ClientState::Dh(dh) => mpint_secret(&dh.agree(server_value)?),
            ClientState::Sntrup(dk, x) => {
                let (ct, xs) = split(
                    server_value,
                    sntrup761::CIPHERTEXT_SIZE,
                    sntrup761::CIPHERTEXT_SIZE + X25519,
                )?;
                let ct =
                    sntrup761::Ciphertext::try_from(ct).map_err(|_| CryptoError::KeyAgreement)?;
                let kem = dk.decapsulate(&ct);
                hybrid_secret(hash, kem.as_ref(), x.agree_raw(xs)?.as_slice())
            }
            ClientState::GexRequested(_) => {
                return Err(PeerMisbehaved::UnexpectedMessage(msg::KEX_DH_GEX_REPLY).into());
            }
        };
        output(
            self.alg,
            inputs,
            self.gex.as_ref(),
            &self.public,
            server_value,
            k,
        )
    }
}

/// The server's side: answers the client's value with ours and computes H. A group exchange
/// passes the transcript of its request and group (`gex`); the client's e is range checked
/// against that group.
pub fn server_respond(
    alg: KexAlg,
    client_value: &[u8],
    inputs: HashInputs<'_>,
    gex: Option<&gex::Transcript>,
    rng: &dyn SecureRandom,
) -> Result<(Vec<u8>, KexOutput), Error> {
    let hash = alg.hash();
    let (public, k) = match alg {
        KexAlg::Curve25519Sha256 | KexAlg::Curve25519Sha256Libssh => {
            let x = Curve25519::generate()?;
            let public = x.public().to_vec();
            (public, mpint_secret(x.agree_raw(client_value)?.as_slice()))
        }
        KexAlg::EcdhNistp256 | KexAlg::EcdhNistp384 => {
            let sys = ring::rand::SystemRandom::new();
            let private = agreement::EphemeralPrivateKey::generate(ecdh_alg(alg), &sys)
                .map_err(|_| CryptoError::Rng)?;
            let public = private
                .compute_public_key()
                .map_err(|_| CryptoError::KeyAgreement)?
                .as_ref()
                .to_vec();
            let peer = agreement::UnparsedPublicKey::new(ecdh_alg(alg), client_value);
            let k = agreement::agree_ephemeral(private, &peer, mpint_secret)
                .map_err(|_| CryptoError::KeyAgreement)?;
            (public, k)
        }
        KexAlg::EcdhNistp521 => {
            let key = P521::generate(rng)?;
            let k = mpint_secret(&key.agree(client_value)?);
            (key.public().to_vec(), k)
        }
        KexAlg::Mlkem768X25519Sha256 => {
            let (pk, xc) = split(client_value, MLKEM_PK, MLKEM_PK + X25519)?;
            let pk =
                mlkem768::MlKem768PublicKey::try_from(pk).map_err(|_| CryptoError::KeyAgreement)?;
            if !mlkem768::validate_public_key(&pk) {
                return Err(CryptoError::KeyAgreement.into());
            }
            let seed = random::<{ libcrux_ml_kem::SHARED_SECRET_SIZE }>(rng)?;
            let (ct, kem) = mlkem768::encapsulate(&pk, *seed);
            let kem = Zeroizing::new(kem);
            let x = Curve25519::generate()?;
            let mut public = ct.as_slice().to_vec();
            public.extend_from_slice(x.public());
            (
                public,
                hybrid_secret(hash, kem.as_slice(), x.agree_raw(xc)?.as_slice()),
            )
        }
        KexAlg::DhGroup14Sha256
        | KexAlg::DhGroup16Sha512
        | KexAlg::DhGroup18Sha512
        | KexAlg::DhGroup14Sha1
        | KexAlg::DhGroup1Sha1 => {
            let dh = Dh::generate(alg.dh_group().ok_or(CryptoError::KeyAgreement)?, rng)?;
            let k = mpint_secret(&dh.agree(client_value)?);
            (dh.public().to_vec(), k)
        }
        KexAlg::DhGexSha256 | KexAlg::DhGexSha1 => {
            let t = gex.ok_or(PeerMisbehaved::UnexpectedMessage(msg::KEX_DH_GEX_INIT))?;
            let dh = Dh::generate_in(t.group.clone(), rng)?;
            let k = mpint_secret(&dh.agree(client_value)?);
            (dh.public().to_vec(), k)
        }
        KexAlg::Sntrup761X25519Sha512 | KexAlg::Sntrup761X25519Sha512OpenSsh => {
            let (pk, xc) = split(
                client_value,
                sntrup761::PUBLIC_KEY_SIZE,
                sntrup761::PUBLIC_KEY_SIZE + X25519,
            )?;
            let ek =
                sntrup761::EncapsulationKey::try_from(pk).map_err(|_| CryptoError::KeyAgreement)?;
            let seed = random::<32>(rng)?;
            let (ct, kem) = ek.encapsulate_deterministic(*seed);
            let x = Curve25519::generate()?;
            let mut public = ct.as_ref().to_vec();
            public.extend_from_slice(x.public());
            (
                public,
                hybrid_secret(hash, kem.as_ref(), x.agree_raw(xc)?.as_slice()),
            )
        }
    };
    let out = output(alg, inputs, gex, client_value, &public, k)?;
    Ok((public, out))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::SystemRandom;

    /// Runs both sides of `alg` (a group exchange asks for 3072 bits and gets a built-in
    /// group) and returns the client's and the server's outputs.
    pub(crate) fn exchange(
        alg: KexAlg,
        inputs: HashInputs<'_>,
        rng: &dyn SecureRandom,
    ) -> Result<(KexOutput, KexOutput), Error> {
        let mut c = ClientKex::start_requesting(alg, 3072, rng)?;
        let mut transcript = None;
        if alg.is_gex() {
            let (t, group) = gex::on_request(&c.first_message(), None, rng)?;
            let init = c.on_gex_group(&group, rng)?;
            assert_eq!(init[0], msg::KEX_DH_GEX_INIT);
            transcript = Some(t);
        }
        let cv = c.public().to_vec();
        let (sv, s_out) = server_respond(alg, &cv, inputs, transcript.as_ref(), rng)?;
        let c_out = c.finish(&sv, inputs)?;
        Ok((c_out, s_out))
    }

    fn inputs() -> HashInputs<'static> {
        HashInputs {
            client_ident: b"a",
            server_ident: b"b",
            client_kexinit: b"c",
            server_kexinit: b"d",
            host_key: b"e",
        }
    }

    #[test]
    fn every_method_agrees_both_sides() {
        let rng = SystemRandom::new();
        for alg in KexAlg::ALL {
            let (c_out, s_out) = exchange(alg, inputs(), &rng).unwrap();
            assert_eq!(c_out.exchange_hash, s_out.exchange_hash, "{}", alg.name());
            assert_eq!(*c_out.shared_secret, *s_out.shared_secret, "{}", alg.name());
            assert_eq!(
                c_out.exchange_hash.len(),
                match alg.hash() {
                    HashAlg::Sha1 => 20,
                    HashAlg::Sha256 => 32,
                    HashAlg::Sha384 => 48,
                    HashAlg::Sha512 => 64,
                }
            );
        }
    }

    #[test]
    fn hybrid_lengths_are_exact() {
        let rng = SystemRandom::new();
        let c = ClientKex::start(KexAlg::Mlkem768X25519Sha256, &rng).unwrap();
        assert_eq!(c.public().len(), 1216);
        let (sv, _) = server_respond(
            KexAlg::Mlkem768X25519Sha256,
            c.public(),
            inputs(),
            None,
            &rng,
        )
        .unwrap();
        assert_eq!(sv.len(), 1120);
        let c = ClientKex::start(KexAlg::Sntrup761X25519Sha512, &rng).unwrap();
        assert_eq!(c.public().len(), 1158 + 32);
        for bad in [1215usize, 1217, 0] {
            assert!(
                server_respond(
                    KexAlg::Mlkem768X25519Sha256,
                    &vec![1u8; bad],
                    inputs(),
                    None,
                    &rng
                )
                .is_err()
            );
        }
        let c = ClientKex::start(KexAlg::Mlkem768X25519Sha256, &rng).unwrap();
        assert!(c.finish(&[0u8; 1119], inputs()).is_err());
    }

    #[test]
    fn bad_points_fail_never_panic() {
        let rng = SystemRandom::new();
        for alg in KexAlg::ALL {
            for bad in [
                vec![],
                vec![0u8; 32],
                vec![4u8; 65],
                vec![0xffu8; 97],
                vec![0u8; 1216],
                vec![0u8; 1190],
            ] {
                let _ = server_respond(alg, &bad, inputs(), None, &rng);
                let c = ClientKex::start(alg, &rng).unwrap();
                let _ = c.finish(&bad, inputs());
            }
        }
        // The X25519 half of a hybrid is checked too: an all-zero point fails.
        let c = ClientKex::start(KexAlg::Mlkem768X25519Sha256, &rng).unwrap();
        let mut v = c.public().to_vec();
        v[1184..].fill(0);
        assert!(server_respond(KexAlg::Mlkem768X25519Sha256, &v, inputs(), None, &rng).is_err());
    }

    /// Group exchange: the server range-checks e against the chosen group, the client f;
    /// a reply before the group, a second group and an INIT before a request all fail.
    #[test]
    fn gex_checks_values_and_order() {
        let rng = SystemRandom::new();
        let alg = KexAlg::DhGexSha256;
        let mut c = ClientKex::start_requesting(alg, 2048, &rng).unwrap();
        let (t, group) = gex::on_request(&c.first_message(), None, &rng).unwrap();
        assert_eq!(t.group.bits(), 2048);
        c.on_gex_group(&group, &rng).unwrap();
        assert!(c.on_gex_group(&group, &rng).is_err());
        let p = t.group.prime().to_vec();
        let mut p_minus_one = p.clone();
        *p_minus_one.last_mut().unwrap() -= 1;
        for bad in [vec![], vec![1], p_minus_one.clone(), p.clone()] {
            assert!(server_respond(alg, &bad, inputs(), Some(&t), &rng).is_err());
        }
        assert!(server_respond(alg, c.public(), inputs(), None, &rng).is_err());
        assert!(c.finish(&p_minus_one, inputs()).is_err());
        let c = ClientKex::start(alg, &rng).unwrap();
        assert_eq!(c.first_message()[0], msg::KEX_DH_GEX_REQUEST);
        assert!(c.finish(&[2], inputs()).is_err());
    }
}
