//! Algorithm negotiation (RFC 4253 §7.1): for each slot, the first client algorithm the
//! server also offers.

use super::{KexAlg, KexInit, slot};
use crate::crypto::{CipherAlg, MacAlg};
use crate::error::{Error, PeerIncompatible};
use crate::transport::compress::CompressionAlg;

/// What a key exchange negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The key-exchange method.
    pub kex: KexAlg,
    /// The host-key signature algorithm.
    pub host_key: String,
    /// Client-to-server cipher.
    pub cipher_c2s: CipherAlg,
    /// Server-to-client cipher.
    pub cipher_s2c: CipherAlg,
    /// Client-to-server MAC (none for AEAD ciphers).
    pub mac_c2s: Option<MacAlg>,
    /// Server-to-client MAC (none for AEAD ciphers).
    pub mac_s2c: Option<MacAlg>,
    /// Client-to-server compression.
    pub comp_c2s: CompressionAlg,
    /// Server-to-client compression.
    pub comp_s2c: CompressionAlg,
}

fn choose<'a>(
    what: &'static str,
    client: &'a [String],
    server: &[String],
) -> Result<&'a str, Error> {
    client
        .iter()
        .find(|c| server.iter().any(|s| s == *c))
        .map(String::as_str)
        .ok_or_else(|| {
            Error::PeerIncompatible(PeerIncompatible::NoCommonAlgorithm {
                what,
                ours: String::new(),
                theirs: String::new(),
            })
        })
}

fn list(init: &KexInit, i: usize) -> &[String] {
    init.lists.get(i).map(Vec::as_slice).unwrap_or_default()
}

fn with_lists(e: Error, ours: &[String], theirs: &[String]) -> Error {
    match e {
        Error::PeerIncompatible(PeerIncompatible::NoCommonAlgorithm { what, .. }) => {
            Error::PeerIncompatible(PeerIncompatible::NoCommonAlgorithm {
                what,
                ours: ours.join(","),
                theirs: theirs.join(","),
            })
        }
        other => other,
    }
}

/// Negotiates from the client's and the server's KEXINIT. `we_are_client` says which of the
/// two lists are ours, for the error message. Only algorithms we implement can be chosen,
/// because we only offer those; markers such as `ext-info-c` and the strict-KEX names are never
/// chosen because no real method has their names.
pub fn negotiate(
    client: &KexInit,
    server: &KexInit,
    we_are_client: bool,
) -> Result<Negotiated, Error> {
    let pick = |what: &'static str, i: usize| -> Result<String, Error> {
        let (c, s) = (list(client, i), list(server, i));
        choose(what, c, s).map(str::to_owned).map_err(|e| {
            if we_are_client {
                with_lists(e, c, s)
            } else {
                with_lists(e, s, c)
            }
        })
    };
    let kex_name = pick("key exchange", slot::KEX)?;
    let kex = KexAlg::from_name(&kex_name).ok_or_else(|| no_common("key exchange"))?;
    let host_key = pick("host key", slot::HOST_KEY)?;
    let c2s = pick("cipher (client to server)", slot::CIPHER_C2S)?;
    let s2c = pick("cipher (server to client)", slot::CIPHER_S2C)?;
    let cipher_c2s = CipherAlg::from_name(&c2s).ok_or_else(|| no_common("cipher"))?;
    let cipher_s2c = CipherAlg::from_name(&s2c).ok_or_else(|| no_common("cipher"))?;
    // An AEAD cipher brings its own integrity: its MAC slot is not negotiated (RFC 5647 §5.1,
    // as OpenSSH does). A non-AEAD cipher needs a common MAC.
    let mac = |cipher: CipherAlg, what: &'static str, i: usize| -> Result<Option<MacAlg>, Error> {
        if cipher.is_aead() {
            return Ok(None);
        }
        let name = pick(what, i)?;
        MacAlg::from_name(&name)
            .map(Some)
            .ok_or_else(|| no_common("MAC"))
    };
    let mac_c2s = mac(cipher_c2s, "MAC (client to server)", slot::MAC_C2S)?;
    let mac_s2c = mac(cipher_s2c, "MAC (server to client)", slot::MAC_S2C)?;
    let comp = |what: &'static str, i: usize| -> Result<CompressionAlg, Error> {
        let name = pick(what, i)?;
        CompressionAlg::from_name(&name).ok_or_else(|| no_common("compression"))
    };
    let comp_c2s = comp("compression (client to server)", slot::COMP_C2S)?;
    let comp_s2c = comp("compression (server to client)", slot::COMP_S2C)?;
    Ok(Negotiated {
        kex,
        host_key,
        cipher_c2s,
        cipher_s2c,
        mac_c2s,
        mac_s2c,
        comp_c2s,
        comp_s2c,
    })
}

fn no_common(what: &'static str) -> Error {
    Error::PeerIncompatible(PeerIncompatible::NoCommonAlgorithm {
        what,
        ours: String::new(),
        theirs: String::new(),
    })
}
