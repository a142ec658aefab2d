//! Key exchange (RFC 4253 §7–8): KEXINIT, algorithm negotiation, the exchange hash and key
//! derivation. Each KEX method has its own module.

pub mod curve25519;
pub mod derive;
pub mod dh;
pub mod ecdh;
pub mod gex;
pub(crate) mod machine;
pub mod method;
pub mod moduli;
pub mod negotiate;
pub(crate) mod rekey_timer;

use crate::crypto::{HashAlg, SecureRandom};
use crate::error::{Error, InvalidMessage};
use crate::wire::{self, Reader, msg};
use bytes::Bytes;

/// Strict-KEX marker a client puts in its first KEXINIT (OpenSSH `PROTOCOL`, Terrapin fix).
pub const STRICT_KEX_CLIENT: &str = "kex-strict-c-v00@openssh.com";
/// Strict-KEX marker a server puts in its first KEXINIT.
pub const STRICT_KEX_SERVER: &str = "kex-strict-s-v00@openssh.com";
/// RFC 8308 marker: the client accepts SSH_MSG_EXT_INFO.
pub const EXT_INFO_CLIENT: &str = "ext-info-c";

/// A key-exchange method we implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KexAlg {
    /// `mlkem768x25519-sha256`: ML-KEM-768 and X25519 hybrid (post-quantum).
    Mlkem768X25519Sha256,
    /// `sntrup761x25519-sha512`: Streamlined NTRU Prime and X25519 hybrid (post-quantum).
    Sntrup761X25519Sha512,
    /// `sntrup761x25519-sha512@openssh.com`, the same method under its older name.
    Sntrup761X25519Sha512OpenSsh,
    /// `curve25519-sha256` (RFC 8731).
    Curve25519Sha256,
    /// `curve25519-sha256@libssh.org`, the same method under its older name.
    Curve25519Sha256Libssh,
    /// `ecdh-sha2-nistp256` (RFC 5656).
    EcdhNistp256,
    /// `ecdh-sha2-nistp384` (RFC 5656).
    EcdhNistp384,
    /// `ecdh-sha2-nistp521` (RFC 5656).
    EcdhNistp521,
    /// `diffie-hellman-group-exchange-sha256` (RFC 4419, RFC 8270's 2048-bit minimum).
    DhGexSha256,
    /// `diffie-hellman-group16-sha512` (RFC 8268, 4096-bit MODP).
    DhGroup16Sha512,
    /// `diffie-hellman-group18-sha512` (RFC 8268, 8192-bit MODP).
    DhGroup18Sha512,
    /// `diffie-hellman-group14-sha256` (RFC 8268, 2048-bit MODP).
    DhGroup14Sha256,
    /// `diffie-hellman-group14-sha1` (RFC 4253): legacy, opt-in only.
    DhGroup14Sha1,
    /// `diffie-hellman-group-exchange-sha1` (RFC 4419): legacy, opt-in only.
    DhGexSha1,
    /// `diffie-hellman-group1-sha1` (RFC 4253, 1024-bit Oakley group 2): legacy, opt-in only.
    DhGroup1Sha1,
}

impl KexAlg {
    /// Every supported method: the defaults in preference order, then the opt-in legacy
    /// methods. Use it to look names up and to resolve OpenSSH's `+`/`-`/`^` list syntax.
    pub const ALL: [KexAlg; 15] = [
        KexAlg::Mlkem768X25519Sha256,
        KexAlg::Sntrup761X25519Sha512,
        KexAlg::Sntrup761X25519Sha512OpenSsh,
        KexAlg::Curve25519Sha256,
        KexAlg::Curve25519Sha256Libssh,
        KexAlg::EcdhNistp256,
        KexAlg::EcdhNistp384,
        KexAlg::EcdhNistp521,
        KexAlg::DhGexSha256,
        KexAlg::DhGroup16Sha512,
        KexAlg::DhGroup18Sha512,
        KexAlg::DhGroup14Sha256,
        KexAlg::DhGroup14Sha1,
        KexAlg::DhGexSha1,
        KexAlg::DhGroup1Sha1,
    ];

    /// A client's default offer, in OpenSSH 10's order. The SHA-1 methods are left out.
    pub const DEFAULTS: [KexAlg; 12] = [
        KexAlg::Mlkem768X25519Sha256,
        KexAlg::Sntrup761X25519Sha512,
        KexAlg::Sntrup761X25519Sha512OpenSsh,
        KexAlg::Curve25519Sha256,
        KexAlg::Curve25519Sha256Libssh,
        KexAlg::EcdhNistp256,
        KexAlg::EcdhNistp384,
        KexAlg::EcdhNistp521,
        KexAlg::DhGexSha256,
        KexAlg::DhGroup16Sha512,
        KexAlg::DhGroup18Sha512,
        KexAlg::DhGroup14Sha256,
    ];

    /// A server's default offer: no finite-field groups (as OpenSSH 10.5's sshd) and no NIST
    /// curves (ssh-audit rates them `fail`); both stay available by configuration.
    pub const SERVER_DEFAULTS: [KexAlg; 5] = [
        KexAlg::Mlkem768X25519Sha256,
        KexAlg::Sntrup761X25519Sha512,
        KexAlg::Sntrup761X25519Sha512OpenSsh,
        KexAlg::Curve25519Sha256,
        KexAlg::Curve25519Sha256Libssh,
    ];

    /// The fixed finite-field group of a Diffie-Hellman method (group exchange has none).
    pub fn dh_group(self) -> Option<dh::Group> {
        match self {
            KexAlg::DhGroup14Sha256 | KexAlg::DhGroup14Sha1 => Some(dh::Group::G14),
            KexAlg::DhGroup16Sha512 => Some(dh::Group::G16),
            KexAlg::DhGroup18Sha512 => Some(dh::Group::G18),
            KexAlg::DhGroup1Sha1 => Some(dh::Group::G1),
            _ => None,
        }
    }

    /// Whether this is a group-exchange method (RFC 4419).
    pub fn is_gex(self) -> bool {
        matches!(self, KexAlg::DhGexSha256 | KexAlg::DhGexSha1)
    }

    /// Whether the public values travel (and enter the hash) as mpints: the finite-field
    /// methods. Every other method's values are strings.
    pub fn uses_mpint(self) -> bool {
        self.dh_group().is_some() || self.is_gex()
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            KexAlg::Mlkem768X25519Sha256 => "mlkem768x25519-sha256",
            KexAlg::Sntrup761X25519Sha512 => "sntrup761x25519-sha512",
            KexAlg::Sntrup761X25519Sha512OpenSsh => "sntrup761x25519-sha512@openssh.com",
            KexAlg::Curve25519Sha256 => "curve25519-sha256",
            KexAlg::Curve25519Sha256Libssh => "curve25519-sha256@libssh.org",
            KexAlg::EcdhNistp256 => "ecdh-sha2-nistp256",
            KexAlg::EcdhNistp384 => "ecdh-sha2-nistp384",
            KexAlg::EcdhNistp521 => "ecdh-sha2-nistp521",
            KexAlg::DhGexSha256 => "diffie-hellman-group-exchange-sha256",
            KexAlg::DhGroup16Sha512 => "diffie-hellman-group16-sha512",
            KexAlg::DhGroup18Sha512 => "diffie-hellman-group18-sha512",
            KexAlg::DhGroup14Sha256 => "diffie-hellman-group14-sha256",
            KexAlg::DhGroup14Sha1 => "diffie-hellman-group14-sha1",
            KexAlg::DhGexSha1 => "diffie-hellman-group-exchange-sha1",
            KexAlg::DhGroup1Sha1 => "diffie-hellman-group1-sha1",
        }
    }

    /// Looks a method up by name.
    pub fn from_name(name: &str) -> Option<KexAlg> {
        KexAlg::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The method's hash.
    pub fn hash(self) -> HashAlg {
        match self {
            KexAlg::Sntrup761X25519Sha512
            | KexAlg::Sntrup761X25519Sha512OpenSsh
            | KexAlg::EcdhNistp521
            | KexAlg::DhGroup16Sha512
            | KexAlg::DhGroup18Sha512 => HashAlg::Sha512,
            KexAlg::EcdhNistp384 => HashAlg::Sha384,
            KexAlg::DhGroup14Sha1 | KexAlg::DhGexSha1 | KexAlg::DhGroup1Sha1 => HashAlg::Sha1,
            _ => HashAlg::Sha256,
        }
    }
}

/// A decoded SSH_MSG_KEXINIT, with the raw payload kept for the exchange hash.
#[derive(Debug, Clone)]
pub struct KexInit {
    /// The whole payload, message number included (it goes into the exchange hash).
    pub raw: Bytes,
    /// The ten name-lists, in wire order.
    pub lists: [Vec<String>; 10],
    /// Whether a guessed KEX packet follows.
    pub first_kex_packet_follows: bool,
}

/// Index of each name-list in [`KexInit::lists`].
#[allow(missing_docs)]
pub mod slot {
    pub const KEX: usize = 0;
    pub const HOST_KEY: usize = 1;
    pub const CIPHER_C2S: usize = 2;
    pub const CIPHER_S2C: usize = 3;
    pub const MAC_C2S: usize = 4;
    pub const MAC_S2C: usize = 5;
    pub const COMP_C2S: usize = 6;
    pub const COMP_S2C: usize = 7;
}

/// Most names a single list may hold (OpenSSH has no limit, but a 256 KiB packet bounds it
/// anyway; this keeps negotiation cost small).
const MAX_NAMES: usize = 256;

impl KexInit {
    /// Builds our KEXINIT from the ten lists.
    pub fn build(lists: [Vec<String>; 10], rng: &dyn SecureRandom) -> Result<KexInit, Error> {
        let mut raw = Vec::with_capacity(512);
        raw.push(msg::KEXINIT);
        let mut cookie = [0u8; 16];
        rng.fill(&mut cookie)?;
        raw.extend_from_slice(&cookie);
        for l in &lists {
            wire::put_name_list(&mut raw, l);
        }
        wire::put_bool(&mut raw, false);
        wire::put_u32(&mut raw, 0);
        Ok(KexInit {
            raw: Bytes::from(raw),
            lists,
            first_kex_packet_follows: false,
        })
    }

    /// Decodes a peer's KEXINIT payload (message number included).
    pub fn decode(payload: Bytes) -> Result<KexInit, Error> {
        let mut r = Reader::new(&payload);
        r.u8("kexinit")?;
        r.take(16, "kexinit cookie")?;
        let mut lists: [Vec<String>; 10] = Default::default();
        for l in &mut lists {
            let names = r.name_list("kexinit name-list")?;
            for n in wire::names(names) {
                if l.len() >= MAX_NAMES {
                    return Err(InvalidMessage::BadValue("kexinit name-list too long").into());
                }
                l.push(n.to_owned());
            }
        }
        let first_kex_packet_follows = r.bool("first_kex_packet_follows")?;
        // The reserved field is ignored, as OpenSSH does.
        r.u32("kexinit reserved")?;
        r.end("kexinit")?;
        Ok(KexInit {
            raw: payload,
            lists,
            first_kex_packet_follows,
        })
    }

    /// Whether list `slot` contains `name`.
    pub fn offers(&self, slot: usize, name: &str) -> bool {
        self.lists
            .get(slot)
            .is_some_and(|l| l.iter().any(|n| n == name))
    }
}

/// The hash and secret a finished key exchange yields, from which keys are derived.
pub struct KexOutput {
    /// The exchange hash H.
    pub exchange_hash: Vec<u8>,
    /// The shared secret K, already encoded as the method encodes it into the hash (mpint).
    pub shared_secret: zeroize::Zeroizing<Vec<u8>>,
    /// The hash algorithm of the method.
    pub hash: HashAlg,
}

impl core::fmt::Debug for KexOutput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KexOutput")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod kat_tests;
#[cfg(test)]
mod tests;
