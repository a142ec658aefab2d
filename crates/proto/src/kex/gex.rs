//! Diffie-Hellman group exchange (RFC 4419) with RFC 8270's 2048-bit minimum: the client's
//! (min, n, max) request, the server's choice of group, and checks on the group a client is
//! sent. The Diffie-Hellman arithmetic itself is [`super::dh`]'s.

use super::dh::{Group, Modp};
use super::negotiate::Negotiated;
use crate::crypto::SecureRandom;
use crate::error::{CryptoError, Error, InvalidMessage};
use crate::wire::{self, Reader, msg};

/// The smallest group we ask for or serve (RFC 8270; OpenSSH's `DH_GRP_MIN`).
pub const MIN_BITS: u32 = 2048;
/// The largest group we ask for or serve (OpenSSH's `DH_GRP_MAX`).
pub const MAX_BITS: u32 = 8192;

/// A group size request: SSH_MSG_KEX_DH_GEX_REQUEST's (min, n, max), as sent. These exact
/// values go into the exchange hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Minimal acceptable group size in bits.
    pub min: u32,
    /// Preferred group size in bits.
    pub n: u32,
    /// Maximal acceptable group size in bits.
    pub max: u32,
}

/// What a group exchange adds to the exchange hash: the request and the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The client's request, as it was on the wire.
    pub request: Request,
    /// The group the server chose.
    pub group: Modp,
}

impl Transcript {
    /// Appends `min || n || max || p || g` (uint32s, then mpints), the fields RFC 4419 §3 puts
    /// between K_S and e.
    pub fn put(&self, out: &mut Vec<u8>) {
        wire::put_u32(out, self.request.min);
        wire::put_u32(out, self.request.n);
        wire::put_u32(out, self.request.max);
        wire::put_mpint(out, self.group.prime());
        wire::put_mpint(out, self.group.generator());
    }
}

/// OpenSSH's `dh_estimate`: the group size matching a symmetric strength in bits (NIST SP
/// 800-57 part 1).
pub fn dh_estimate(bits: u32) -> u32 {
    match bits {
        0..=112 => 2048,
        113..=128 => 3072,
        129..=192 => 7680,
        _ => 8192,
    }
}

/// The group size a client prefers for the negotiated ciphers and MACs, as OpenSSH's
/// `kexgex_client` computes it: the largest key, block, IV or MAC key length in either
/// direction, in bits, through [`dh_estimate`].
pub fn preferred_bits(neg: &Negotiated) -> u32 {
    let need = [neg.cipher_c2s, neg.cipher_s2c]
        .into_iter()
        .flat_map(|c| [c.key_len(), c.block_len(), c.iv_len()])
        .chain(
            [neg.mac_c2s, neg.mac_s2c]
                .into_iter()
                .flatten()
                .map(|m| m.key_len()),
        )
        .max()
        .unwrap_or(0);
    dh_estimate(u32::try_from(need.saturating_mul(8)).unwrap_or(u32::MAX))
}

impl Request {
    /// A client's request for about `n` bits, within [`MIN_BITS`, `MAX_BITS`].
    pub fn client(n: u32) -> Request {
        Request {
            min: MIN_BITS,
            n: n.clamp(MIN_BITS, MAX_BITS),
            max: MAX_BITS,
        }
    }

    /// The SSH_MSG_KEX_DH_GEX_REQUEST payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![msg::KEX_DH_GEX_REQUEST];
        wire::put_u32(&mut p, self.min);
        wire::put_u32(&mut p, self.n);
        wire::put_u32(&mut p, self.max);
        p
    }

    /// Decodes SSH_MSG_KEX_DH_GEX_REQUEST.
    pub fn decode(payload: &[u8]) -> Result<Request, Error> {
        let mut r = Reader::new(payload);
        r.u8("kex dh gex request")?;
        let min = r.u32("gex min")?;
        let n = r.u32("gex n")?;
        let max = r.u32("gex max")?;
        r.end("kex dh gex request")?;
        Ok(Request { min, n, max })
    }
}

/// Client: checks the server's SSH_MSG_KEX_DH_GEX_GROUP against our request. The group must
/// be within [min, max] bits, p odd and 1 < g < p-1.
pub fn accept_group(request: &Request, payload: &[u8]) -> Result<Modp, Error> {
    let mut r = Reader::new(payload);
    r.u8("kex dh gex group")?;
    let p = r.mpint_positive("gex prime")?;
    let g = r.mpint_positive("gex generator")?;
    r.end("kex dh gex group")?;
    let group = Modp::new(p, g)?;
    if group.bits() < request.min || group.bits() > request.max {
        return Err(CryptoError::KeyAgreement.into());
    }
    Ok(group)
}

/// The SSH_MSG_KEX_DH_GEX_GROUP payload for `group`.
pub fn group_message(group: &Modp) -> Vec<u8> {
    let mut p = vec![msg::KEX_DH_GEX_GROUP];
    wire::put_mpint(&mut p, group.prime());
    wire::put_mpint(&mut p, group.generator());
    p
}

/// Server: picks a group for a client's request from `groups` (a `moduli` file's), or from
/// the built-in RFC 3526 groups when there are none or none fits. As OpenSSH's sshd: the
/// request must be consistent and reach [`MIN_BITS`]; the bounds are clamped to [`MIN_BITS`,
/// `MAX_BITS`]; the chosen size is the smallest at least n, else the largest below it; among
/// groups of that size one is chosen at random.
pub fn choose(
    request: &Request,
    groups: Option<&[Modp]>,
    rng: &dyn SecureRandom,
) -> Result<Modp, Error> {
    let Request { min, n, max } = *request;
    if max < min || n < min || max < n || max < MIN_BITS {
        return Err(InvalidMessage::BadValue("kex dh gex request range").into());
    }
    let min = min.max(MIN_BITS);
    let max = max.min(MAX_BITS);
    let want = n.clamp(MIN_BITS, MAX_BITS);
    if let Some(g) = groups.and_then(|g| pick(g, min, want, max, rng).transpose()) {
        return g;
    }
    let builtin: Vec<Modp> = Group::GEX_BUILTIN.iter().map(|g| g.modp()).collect();
    pick(&builtin, min, want, max, rng)?
        .ok_or_else(|| InvalidMessage::BadValue("no group for kex dh gex request").into())
}

fn pick(
    groups: &[Modp],
    min: u32,
    want: u32,
    max: u32,
    rng: &dyn SecureRandom,
) -> Result<Option<Modp>, Error> {
    let sizes = || {
        groups
            .iter()
            .map(Modp::bits)
            .filter(|b| (min..=max).contains(b))
    };
    let Some(best) = sizes()
        .filter(|&b| b >= want)
        .min()
        .or_else(|| sizes().max())
    else {
        return Ok(None);
    };
    let count = sizes().filter(|&b| b == best).count();
    let mut r = [0u8; 4];
    rng.fill(&mut r)?;
    let which = usize::try_from(u32::from_be_bytes(r)).unwrap_or(0) % count.max(1);
    Ok(groups
        .iter()
        .filter(|g| g.bits() == best)
        .nth(which)
        .cloned())
}

/// Server: the whole answer to SSH_MSG_KEX_DH_GEX_REQUEST: the transcript to keep and the
/// SSH_MSG_KEX_DH_GEX_GROUP to send.
pub fn on_request(
    payload: &[u8],
    groups: Option<&[Modp]>,
    rng: &dyn SecureRandom,
) -> Result<(Transcript, Vec<u8>), Error> {
    let request = Request::decode(payload)?;
    let group = choose(&request, groups, rng)?;
    let reply = group_message(&group);
    Ok((Transcript { request, group }, reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{CipherAlg, MacAlg, SystemRandom};

    fn neg(c: CipherAlg, m: Option<MacAlg>) -> Negotiated {
        Negotiated {
            kex: super::super::KexAlg::DhGexSha256,
            host_key: "ssh-ed25519".into(),
            cipher_c2s: c,
            cipher_s2c: c,
            mac_c2s: m,
            mac_s2c: m,
            comp_c2s: crate::transport::compress::CompressionAlg::None,
            comp_s2c: crate::transport::compress::CompressionAlg::None,
        }
    }

    /// OpenSSH's choices: chacha20 (64-byte key) and AES-256 want 8192 bits, AES-128-GCM
    /// 3072, AES-128-CTR with HMAC-SHA-256 (32-byte MAC key) 8192.
    #[test]
    fn preferred_bits_follow_dh_estimate() {
        assert_eq!(
            preferred_bits(&neg(CipherAlg::ChaCha20Poly1305, None)),
            8192
        );
        assert_eq!(preferred_bits(&neg(CipherAlg::Aes256Gcm, None)), 8192);
        assert_eq!(preferred_bits(&neg(CipherAlg::Aes128Gcm, None)), 3072);
        assert_eq!(
            preferred_bits(&neg(CipherAlg::Aes128Ctr, Some(MacAlg::HmacSha256))),
            8192
        );
        assert_eq!(dh_estimate(112), 2048);
        assert_eq!(dh_estimate(192), 7680);
        assert_eq!(Request::client(100).n, MIN_BITS);
        assert_eq!(Request::client(1 << 20).n, MAX_BITS);
    }

    #[test]
    fn server_chooses_like_openssh() {
        let rng = SystemRandom::new();
        let req = |min, n, max| Request { min, n, max };
        let bits = |r: Request| choose(&r, None, &rng).unwrap().bits();
        assert_eq!(bits(req(2048, 3072, 8192)), 3072);
        assert_eq!(bits(req(2048, 7680, 8192)), 8192);
        assert_eq!(bits(req(2048, 7000, 7000)), 6144); // largest below n
        assert_eq!(bits(req(1024, 1024, 8192)), 2048); // clamped up to 2048
        assert_eq!(bits(req(2048, 9000, 9000)), 8192); // clamped down to 8192
        for bad in [
            req(3000, 2048, 8192),
            req(2048, 8192, 4096),
            req(1024, 1024, 1024),
        ] {
            assert!(choose(&bad, None, &rng).is_err(), "{bad:?}");
        }
        // A moduli list with no fitting size falls back to the built-ins.
        let only_g14 = [Group::G14.modp()];
        assert_eq!(
            choose(&req(3072, 3072, 8192), Some(&only_g14), &rng).unwrap(),
            Group::G15.modp()
        );
        assert_eq!(
            choose(&req(2048, 4096, 8192), Some(&only_g14), &rng).unwrap(),
            Group::G14.modp()
        );
    }

    #[test]
    fn request_and_group_round_trip_and_client_checks() {
        let rng = SystemRandom::new();
        let req = Request::client(3072);
        let (t, reply) = on_request(&req.encode(), None, &rng).unwrap();
        assert_eq!(t.request, req);
        assert_eq!(accept_group(&req, &reply).unwrap(), t.group);
        assert!(Request::decode(&[msg::KEX_DH_GEX_REQUEST, 0, 0]).is_err());
        // Too small for the request, even p, bad g, trailing bytes.
        let g1 = group_message(&Group::G1.modp());
        assert!(accept_group(&req, &g1).is_err());
        let p = Group::G14.prime();
        let mut even = p.clone();
        *even.last_mut().unwrap() = 0xfe;
        let msg_of = |p: &[u8], g: &[u8]| {
            let mut m = vec![msg::KEX_DH_GEX_GROUP];
            wire::put_mpint(&mut m, p);
            wire::put_mpint(&mut m, g);
            m
        };
        assert!(accept_group(&req, &msg_of(&p, &[2])).is_ok());
        assert!(accept_group(&req, &msg_of(&even, &[2])).is_err());
        assert!(accept_group(&req, &msg_of(&p, &[1])).is_err());
        assert!(accept_group(&req, &msg_of(&p, &p)).is_err());
        let mut trailing = msg_of(&p, &[2]);
        trailing.push(0);
        assert!(accept_group(&req, &trailing).is_err());
        let big = Request {
            min: 2048,
            n: 2048,
            max: 2048,
        };
        assert!(accept_group(&big, &group_message(&Group::G15.modp())).is_err());
    }

    proptest::proptest! {
        #[test]
        fn hostile_gex_messages_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let rng = SystemRandom::new();
            let _ = accept_group(&Request::client(8192), &data);
            let _ = on_request(&data, None, &rng);
            let _ = super::super::moduli::parse_moduli(&String::from_utf8_lossy(&data));
        }
    }
}
