//! One whole key exchange per method, two ways:
//!
//! - [`OursKex`]: Seashell's method API, `ClientKex::start_requesting` → (group exchange:
//!   `first_message` → `gex::on_request` → `on_gex_group`) → `server_respond` →
//!   `ClientKex::finish`: both sides' ephemeral keys, the agreement, peer-value checks, the
//!   encoding of K and the exchange hash H on both sides (over a transcript of realistic
//!   size). Not the host-key signature, its verification or key derivation: those belong to
//!   the connection, not to the method. [`OursKex::hashes`] times the exchange-hash part
//!   alone.
//! - [`RawKex`]: the bare primitives the method is made of, doing the same cryptographic work
//!   (both sides' key generation and agreement; KEM key generation, encapsulation and
//!   decapsulation; the four modular exponentiations of finite-field DH), with nothing of the
//!   protocol around it.
//!
//! Both report one exchange per call, so their rates compare directly. The methods come from
//! [`KexAlg::ALL`] and the raw mapping goes by wire name and [`KexAlg::dh_group`], so methods
//! added to the core appear here by themselves.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use libcrux_ml_kem::mlkem768;
use ring::agreement;
use ring::rand::SecureRandom as _;
use seashell_proto::crypto::SystemRandom;
use seashell_proto::error::CryptoError;
use seashell_proto::error::Error;
use seashell_proto::kex::curve25519::{HashInputs, exchange_hash};
use seashell_proto::kex::method::{ClientKex, server_respond};
use seashell_proto::kex::{KexAlg, KexOutput, gex};
use std::hint::black_box;
use zeroize::Zeroizing;

/// The group size a group-exchange client asks for here (`n`; min and max are the core's
/// 2048 and 8192): the size OpenSSH asks for with AES-128 or chacha20 keys.
pub const GEX_REQUEST_BITS: u32 = 3072;

/// Bits of the random private exponent of the raw finite-field exchange: the size the core
/// uses for its MODP groups (`EXPONENT_BITS` in `seashell_proto::kex::dh`).
pub const DH_EXPONENT_BITS: u32 = 512;

/// The parts of a transcript the exchange hash covers, at the sizes a real OpenSSH exchange
/// has (KEXINITs of about a kilobyte, an Ed25519 host key blob).
pub struct Transcript {
    client_ident: Vec<u8>,
    server_ident: Vec<u8>,
    client_kexinit: Vec<u8>,
    server_kexinit: Vec<u8>,
    host_key: Vec<u8>,
}

impl Default for Transcript {
    fn default() -> Transcript {
        Transcript {
            client_ident: b"SSH-2.0-OpenSSH_9.9".to_vec(),
            server_ident: b"SSH-2.0-Seashell_0.1".to_vec(),
            client_kexinit: vec![0x61; 1150],
            server_kexinit: vec![0x62; 1050],
            host_key: vec![0x63; 51],
        }
    }
}

impl Transcript {
    /// The exchange-hash inputs borrowing this transcript.
    pub fn inputs(&self) -> HashInputs<'_> {
        HashInputs {
            client_ident: &self.client_ident,
            server_ident: &self.server_ident,
            client_kexinit: &self.client_kexinit,
            server_kexinit: &self.server_kexinit,
            host_key: &self.host_key,
        }
    }
}

/// One exchange through Seashell's one-shot method API.
pub struct OursKex {
    alg: KexAlg,
    rng: SystemRandom,
    transcript: Transcript,
    /// Stand-ins of the method's exact sizes for [`OursKex::hashes`]: Q_C, Q_S (or e, f)
    /// and the encoded K of one real exchange.
    q_c: Vec<u8>,
    q_s: Vec<u8>,
    k: Zeroizing<Vec<u8>>,
}

/// Both outputs of one exchange and the lengths of the client's and the server's values.
struct Run {
    client: KexOutput,
    server: KexOutput,
    q_c_len: usize,
    q_s_len: usize,
}

impl OursKex {
    /// The exchange for `alg`, after one checked exchange: both sides must reach the same H
    /// and K. Methods the one-shot API cannot run fail here.
    pub fn new(alg: KexAlg) -> Result<OursKex, Error> {
        let mut ours = OursKex {
            alg,
            rng: SystemRandom::new(),
            transcript: Transcript::default(),
            q_c: Vec::new(),
            q_s: Vec::new(),
            k: Zeroizing::new(Vec::new()),
        };
        let run = ours.run()?;
        if run.client.exchange_hash != run.server.exchange_hash
            || *run.client.shared_secret != *run.server.shared_secret
        {
            return Err(CryptoError::KeyAgreement.into());
        }
        ours.q_c = vec![0x5a; run.q_c_len];
        ours.q_s = vec![0xa5; run.q_s_len];
        ours.k = run.client.shared_secret;
        Ok(ours)
    }

    /// Both sides of one exchange: the client starts; for a group exchange the server
    /// answers the client's request with a built-in group and the client takes it; the
    /// server responds to the client's value; the client finishes.
    fn run(&self) -> Result<Run, Error> {
        let mut client = ClientKex::start_requesting(self.alg, GEX_REQUEST_BITS, &self.rng)?;
        let gex = if self.alg.is_gex() {
            let (t, group) = gex::on_request(&client.first_message(), None, &self.rng)?;
            client.on_gex_group(&group, &self.rng)?;
            Some(t)
        } else {
            None
        };
        let inputs = self.transcript.inputs();
        let q_c_len = client.public().len();
        let (s_value, server) =
            server_respond(self.alg, client.public(), inputs, gex.as_ref(), &self.rng)?;
        Ok(Run {
            client: client.finish(&s_value, inputs)?,
            server,
            q_c_len,
            q_s_len: s_value.len(),
        })
    }

    /// One exchange, as [`OursKex::new`] runs it (client start, group exchange if any,
    /// server respond, client finish), unchecked; returns 1.
    pub fn exchange(&mut self) -> usize {
        black_box(self.run().expect("exchange"));
        1
    }

    /// The exchange hash alone, twice (client and server), through the core's public
    /// `exchange_hash` over inputs of this method's sizes; returns 1. An estimate of the part
    /// of [`OursKex::exchange`] that is hashing: it encodes the values as strings, so a
    /// finite-field method's mpints (a byte more each) and a group exchange's request and
    /// group (about 400 bytes at 3072 bits) are left out.
    pub fn hashes(&mut self) -> usize {
        for _ in 0..2 {
            black_box(exchange_hash(
                self.alg.hash(),
                self.transcript.inputs(),
                &self.q_c,
                &self.q_s,
                &self.k,
            ));
        }
        1
    }
}

/// The bare primitives of one method.
pub enum RawKex {
    /// ring X25519: a key pair and an agreement on each side.
    X25519,
    /// ring ECDH on a NIST curve (P-256, P-384): a key pair and an agreement on each side.
    RingEcdh(&'static agreement::Algorithm),
    /// The `p521` crate's ECDH: a key pair (SEC1-encoded) and an agreement on each side.
    P521,
    /// libcrux ML-KEM-768 key generation, encapsulation and decapsulation, and X25519.
    Mlkem768X25519,
    /// sntrup761 key generation, encapsulation and decapsulation, and X25519.
    Sntrup761X25519,
    /// crypto-bigint Montgomery exponentiation in a MODP group (Montgomery parameters made
    /// once): g^x and f^x on each side, [`DH_EXPONENT_BITS`]-bit exponents.
    ModP {
        /// The group's Montgomery parameters.
        params: BoxedMontyParams,
        /// The generator.
        generator: BoxedUint,
        /// The client's and the server's private exponents.
        exponents: [BoxedUint; 2],
        /// The modulus size in bits.
        bits: u32,
    },
}

impl RawKex {
    /// The raw primitives of `alg`, or `None` when there is no mapping. A group exchange
    /// maps to the group the core's server picks for a [`GEX_REQUEST_BITS`] request.
    pub fn for_alg(alg: KexAlg) -> Option<RawKex> {
        if let Some(group) = alg.dh_group() {
            return Some(RawKex::modp(&group.prime(), &[2], group.bits()));
        }
        if alg.is_gex() {
            let request = gex::Request::client(GEX_REQUEST_BITS);
            let group = gex::choose(&request, None, &SystemRandom::new()).ok()?;
            return Some(RawKex::modp(group.prime(), group.generator(), group.bits()));
        }
        let name = alg.name();
        Some(match name {
            _ if name.starts_with("curve25519-sha256") => RawKex::X25519,
            "ecdh-sha2-nistp256" => RawKex::RingEcdh(&agreement::ECDH_P256),
            "ecdh-sha2-nistp384" => RawKex::RingEcdh(&agreement::ECDH_P384),
            "ecdh-sha2-nistp521" => RawKex::P521,
            _ if name.starts_with("mlkem768x25519") => RawKex::Mlkem768X25519,
            _ if name.starts_with("sntrup761x25519") => RawKex::Sntrup761X25519,
            _ => return None,
        })
    }

    /// Finite-field DH modulo `prime` (big-endian, `bits` long) with `generator`.
    pub fn modp(prime: &[u8], generator: &[u8], bits: u32) -> RawKex {
        let bits = bits.div_ceil(64) * 64;
        let p = BoxedUint::from_be_slice(prime, bits).expect("prime fits");
        let p = Option::<Odd<BoxedUint>>::from(Odd::new(p)).expect("odd prime");
        let params = BoxedMontyParams::new(p);
        let rng = ring::rand::SystemRandom::new();
        let exponent = || {
            let mut seed = [0u8; (DH_EXPONENT_BITS / 8) as usize];
            rng.fill(&mut seed).expect("rng");
            seed[0] |= 0x80;
            BoxedUint::from_be_slice(&seed, bits).expect("exponent fits")
        };
        RawKex::ModP {
            params,
            generator: BoxedUint::from_be_slice(generator, bits).expect("generator fits"),
            exponents: [exponent(), exponent()],
            bits,
        }
    }

    /// What this measures, for tables.
    pub fn describe(&self) -> String {
        match self {
            RawKex::X25519 => "ring X25519 (2 keygen + 2 agree)".into(),
            RawKex::RingEcdh(a) => {
                let curve = if *a == &agreement::ECDH_P384 {
                    "P-384"
                } else {
                    "P-256"
                };
                format!("ring ECDH {curve} (2 keygen + 2 agree)")
            }
            RawKex::P521 => "p521 ECDH (2 keygen + 2 agree)".into(),
            RawKex::Mlkem768X25519 => {
                "libcrux ML-KEM-768 keygen+encaps+decaps, ring X25519 ×2".into()
            }
            RawKex::Sntrup761X25519 => "sntrup761 keygen+encaps+decaps, ring X25519 ×2".into(),
            RawKex::ModP { bits, .. } => {
                format!("crypto-bigint modpow, {bits}-bit p, 4 × {DH_EXPONENT_BITS}-bit exp")
            }
        }
    }

    /// One exchange's worth of primitive work; returns 1.
    pub fn exchange(&mut self) -> usize {
        let rng = ring::rand::SystemRandom::new();
        match self {
            RawKex::X25519 => ring_pair(&agreement::X25519, &rng),
            RawKex::RingEcdh(alg) => ring_pair(alg, &rng),
            RawKex::P521 => {
                let (c_secret, c_public) = p521_key(&rng);
                let (s_secret, s_public) = p521_key(&rng);
                for (secret, peer) in [(s_secret, c_public), (c_secret, s_public)] {
                    let peer = p521::PublicKey::from_sec1_bytes(&peer).expect("point");
                    let k =
                        p521::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
                    black_box(k.raw_secret_bytes());
                }
            }
            RawKex::Mlkem768X25519 => {
                let mut seed = [0u8; libcrux_ml_kem::KEY_GENERATION_SEED_SIZE];
                rng.fill(&mut seed).expect("rng");
                let pair = mlkem768::generate_key_pair(seed);
                let mut seed = [0u8; libcrux_ml_kem::SHARED_SECRET_SIZE];
                rng.fill(&mut seed).expect("rng");
                let (ct, k_s) = mlkem768::encapsulate(pair.public_key(), seed);
                let k_c = mlkem768::decapsulate(pair.private_key(), &ct);
                black_box((k_s, k_c));
                ring_pair(&agreement::X25519, &rng);
            }
            RawKex::Sntrup761X25519 => {
                let mut seed = [0u8; 32];
                rng.fill(&mut seed).expect("rng");
                let (ek, dk) = sntrup761::generate_key_from_seed(seed);
                rng.fill(&mut seed).expect("rng");
                let (ct, k_s) = ek.encapsulate_deterministic(seed);
                let k_c = dk.decapsulate(&ct);
                black_box((k_s, k_c));
                ring_pair(&agreement::X25519, &rng);
            }
            RawKex::ModP {
                params,
                generator,
                exponents: [x_c, x_s],
                ..
            } => {
                black_box(modp_exchange(params, generator, x_c, x_s));
            }
        }
        1
    }
}

/// The four exponentiations of a finite-field exchange; returns both sides' K.
fn modp_exchange(
    params: &BoxedMontyParams,
    generator: &BoxedUint,
    x_c: &BoxedUint,
    x_s: &BoxedUint,
) -> (BoxedUint, BoxedUint) {
    let g = BoxedMontyForm::new(generator.clone(), params);
    let e = g.pow_bounded_exp(x_c, DH_EXPONENT_BITS).retrieve();
    let f = g.pow_bounded_exp(x_s, DH_EXPONENT_BITS).retrieve();
    let k_s = BoxedMontyForm::new(e, params).pow_bounded_exp(x_s, DH_EXPONENT_BITS);
    let k_c = BoxedMontyForm::new(f, params).pow_bounded_exp(x_c, DH_EXPONENT_BITS);
    (k_s.retrieve(), k_c.retrieve())
}

/// Both sides of a ring agreement: two ephemeral key pairs, two agreements.
fn ring_pair(alg: &'static agreement::Algorithm, rng: &ring::rand::SystemRandom) {
    let c = agreement::EphemeralPrivateKey::generate(alg, rng).expect("keygen");
    let c_pub = c.compute_public_key().expect("public");
    let s = agreement::EphemeralPrivateKey::generate(alg, rng).expect("keygen");
    let s_pub = s.compute_public_key().expect("public");
    for (private, peer) in [(s, c_pub), (c, s_pub)] {
        let peer = agreement::UnparsedPublicKey::new(alg, peer.as_ref());
        agreement::agree_ephemeral(private, &peer, |k| black_box(k.first().copied()))
            .expect("agree");
    }
}

/// A P-521 secret key and its SEC1-encoded (uncompressed) public key.
fn p521_key(rng: &ring::rand::SystemRandom) -> (p521::SecretKey, Box<[u8]>) {
    loop {
        let mut bytes = [0u8; 66];
        rng.fill(&mut bytes).expect("rng");
        bytes[0] &= 0x01;
        if let Ok(secret) = p521::SecretKey::from_slice(&bytes) {
            let public = secret.public_key().to_sec1_bytes();
            return (secret, public);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_runs_both_ways() {
        for alg in KexAlg::ALL {
            let mut ours = OursKex::new(alg).unwrap_or_else(|e| panic!("{}: {e}", alg.name()));
            assert_eq!(ours.exchange(), 1);
            assert_eq!(ours.hashes(), 1);
            assert!(!ours.k.is_empty() && !ours.q_c.is_empty() && !ours.q_s.is_empty());
            let mut raw = RawKex::for_alg(alg).unwrap_or_else(|| panic!("{}", alg.name()));
            assert_eq!(raw.exchange(), 1, "{}", raw.describe());
        }
    }

    /// The raw MODP exchange computes a real shared secret: both sides agree.
    #[test]
    fn raw_modp_agrees() {
        let group = KexAlg::DhGroup14Sha256.dh_group().unwrap();
        let RawKex::ModP {
            params,
            generator,
            exponents: [x_c, x_s],
            bits,
        } = RawKex::modp(&group.prime(), &[2], group.bits())
        else {
            unreachable!()
        };
        let (k_s, k_c) = modp_exchange(&params, &generator, &x_c, &x_s);
        assert_eq!(k_s, k_c);
        assert_ne!(k_s, BoxedUint::from_be_slice(&[1], bits).unwrap());
    }

    /// A group exchange maps to the group the server picks for the request: 3072 bits.
    #[test]
    fn gex_maps_to_the_requested_size() {
        let alg = KexAlg::ALL.into_iter().find(|a| a.is_gex()).unwrap();
        let Some(RawKex::ModP { bits, .. }) = RawKex::for_alg(alg) else {
            panic!("no mapping")
        };
        assert_eq!(bits, GEX_REQUEST_BITS);
    }
}
