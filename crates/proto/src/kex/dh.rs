//! Finite-field Diffie-Hellman (RFC 4253 §8) over the RFC 3526 MODP groups used by
//! `diffie-hellman-group14-sha256`, `-group16-sha512` and `-group18-sha512` (RFC 8268),
//! with constant-time modular exponentiation from `crypto-bigint`. Peer values are range
//! checked (1 < f < p-1, as OpenSSH's `dh_pub_is_valid`).

use crate::crypto::SecureRandom;
use crate::error::{CryptoError, Error};
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use zeroize::Zeroize;

/// Bits of the private exponent: twice the 256-bit security target, as OpenSSH picks for
/// these groups.
const EXPONENT_BITS: u32 = 512;

/// RFC 3526 group 14 (2048-bit MODP).
const GROUP14: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
);
/// RFC 3526 group 16 (4096-bit MODP).
const GROUP16: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
);
/// RFC 3526 group 18 (8192-bit MODP).
const GROUP18: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026",
    "C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE",
    "B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B",
    "DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC",
    "F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E",
    "59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA",
    "CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76",
    "F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468",
    "043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DBE115974A3926F12FEE5E4",
    "38777CB6A932DF8CD8BEC4D073B931BA3BC832B68D9DD300741FA7BF8AFC47ED",
    "2576F6936BA424663AAB639C5AE4F5683423B4742BF1C978238F16CBE39D652D",
    "E3FDB8BEFC848AD922222E04A4037C0713EB57A81A23F0C73473FC646CEA306B",
    "4BCBC8862F8385DDFA9D4B7FA2C087E879683303ED5BDD3A062B3CF5B3A278A6",
    "6D2A13F83F44F82DDF310EE074AB6A364597E899A0255DC164F31CC50846851D",
    "F9AB48195DED7EA1B1D510BD7EE74D73FAF36BC31ECFA268359046F4EB879F92",
    "4009438B481C6CD7889A002ED5EE382BC9190DA6FC026E479558E4475677E9AA",
    "9E3050E2765694DFC81F56E880B96E7160C980DD98EDD3DFFFFFFFFFFFFFFFFF",
);

/// A MODP group with generator 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// 2048 bits.
    G14,
    /// 4096 bits.
    G16,
    /// 8192 bits.
    G18,
}

impl Group {
    fn hex(self) -> &'static str {
        match self {
            Group::G14 => GROUP14,
            Group::G16 => GROUP16,
            Group::G18 => GROUP18,
        }
    }

    /// The modulus size in bits.
    pub fn bits(self) -> u32 {
        match self {
            Group::G14 => 2048,
            Group::G16 => 4096,
            Group::G18 => 8192,
        }
    }

    /// The prime, big-endian.
    pub fn prime(self) -> Vec<u8> {
        hex_bytes(self.hex())
    }
}

fn hex_bytes(h: &str) -> Vec<u8> {
    h.as_bytes()
        .chunks(2)
        .map(|c| {
            let v = |b: u8| match b {
                b'0'..=b'9' => b - b'0',
                b'A'..=b'F' => b - b'A' + 10,
                b'a'..=b'f' => b - b'a' + 10,
                _ => 0,
            };
            let hi = c.first().copied().map_or(0, v);
            let lo = c.get(1).copied().map_or(0, v);
            (hi << 4) | lo
        })
        .collect()
}

/// One side's ephemeral Diffie-Hellman key.
pub struct Dh {
    group: Group,
    params: BoxedMontyParams,
    x: BoxedUint,
    public: Vec<u8>,
}

impl core::fmt::Debug for Dh {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Dh({:?})", self.group)
    }
}

impl Drop for Dh {
    fn drop(&mut self) {
        self.x.as_mut_words().zeroize();
    }
}

impl Dh {
    /// Picks a private exponent from `rng` and computes the public value g^x mod p.
    pub fn generate(group: Group, rng: &dyn SecureRandom) -> Result<Dh, Error> {
        let bits = group.bits();
        let p = BoxedUint::from_be_slice(&group.prime(), bits)
            .map_err(|_| CryptoError::KeyAgreement)?;
        let p: Option<Odd<BoxedUint>> = Odd::new(p).into();
        let params = BoxedMontyParams::new(p.ok_or(CryptoError::KeyAgreement)?);
        let mut seed = zeroize::Zeroizing::new([0u8; (EXPONENT_BITS / 8) as usize]);
        rng.fill(seed.as_mut_slice())?;
        if let Some(b) = seed.first_mut() {
            *b |= 0x80; // full-size exponent
        }
        let x = BoxedUint::from_be_slice(seed.as_slice(), bits)
            .map_err(|_| CryptoError::KeyAgreement)?;
        let g = BoxedMontyForm::new(
            BoxedUint::from_be_slice(&[2], bits).map_err(|_| CryptoError::KeyAgreement)?,
            &params,
        );
        let public = g
            .pow_bounded_exp(&x, EXPONENT_BITS)
            .retrieve()
            .to_be_bytes()
            .to_vec();
        Ok(Dh {
            group,
            params,
            x,
            public,
        })
    }

    /// Our public value (big-endian, group-sized).
    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret f^x mod p from the peer's public value (big-endian magnitude),
    /// after checking 1 < f < p-1.
    pub fn agree(&self, peer: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        let bits = self.group.bits();
        let start = peer.iter().position(|&b| b != 0).unwrap_or(peer.len());
        let peer = peer.get(start..).unwrap_or_default();
        if peer.len() > (bits / 8) as usize {
            return Err(CryptoError::KeyAgreement.into());
        }
        let f = BoxedUint::from_be_slice(peer, bits).map_err(|_| CryptoError::KeyAgreement)?;
        let p = BoxedUint::from_be_slice(&self.group.prime(), bits)
            .map_err(|_| CryptoError::KeyAgreement)?;
        let one = BoxedUint::from_be_slice(&[1], bits).map_err(|_| CryptoError::KeyAgreement)?;
        let p_minus_one = p.wrapping_sub(&one);
        if f <= one || f >= p_minus_one {
            return Err(CryptoError::KeyAgreement.into());
        }
        let k = BoxedMontyForm::new(f, &self.params)
            .pow_bounded_exp(&self.x, EXPONENT_BITS)
            .retrieve();
        Ok(zeroize::Zeroizing::new(k.to_be_bytes().to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SystemRandom;

    #[test]
    fn primes_have_the_rfc_3526_shape() {
        for g in [Group::G14, Group::G16, Group::G18] {
            let p = g.prime();
            assert_eq!(p.len() * 8, g.bits() as usize);
            assert_eq!(&p[..8], &[0xff; 8]);
            assert_eq!(&p[p.len() - 8..], &[0xff; 8]);
            assert_eq!(&p[8..12], &[0xC9, 0x0F, 0xDA, 0xA2]);
        }
    }

    #[test]
    fn both_sides_agree_and_bad_values_fail() {
        let rng = SystemRandom::new();
        let a = Dh::generate(Group::G14, &rng).unwrap();
        let b = Dh::generate(Group::G14, &rng).unwrap();
        assert_eq!(*a.agree(b.public()).unwrap(), *b.agree(a.public()).unwrap());
        let p = Group::G14.prime();
        let mut p_minus_one = p.clone();
        *p_minus_one.last_mut().unwrap() -= 1;
        let mut p_plus_one = p.clone();
        *p_plus_one.last_mut().unwrap() = 0; // p is ...FF, so this is p - 255 (valid) …
        assert!(a.agree(&p_plus_one).is_ok());
        for bad in [
            vec![],
            vec![0],
            vec![1],
            p_minus_one,
            p.clone(),
            vec![0xff; 257],
        ] {
            assert!(a.agree(&bad).is_err(), "{:?}", &bad[..bad.len().min(4)]);
        }
    }
}
