//! FIDO security-key user keys (OpenSSH `PROTOCOL.u2f`): `sk-ssh-ed25519@openssh.com` and
//! `sk-ecdsa-sha2-nistp256@openssh.com`, with the `webauthn-sk-ecdsa-sha2-nistp256@openssh.com`
//! signature form. Only verification: the private half lives in the authenticator.
//!
//! A key blob adds the FIDO application (relying party, usually `ssh:`) to the plain key.
//! A signature adds the authenticator's flags byte and signature counter; what the key
//! signed is `SHA256(application) || flags || counter || [extensions] || SHA256(data)` (Ed25519
//! signs those bytes, ECDSA their SHA-256). The webauthn form signs SHA-256 of a
//! `clientDataJSON` that must carry the base64url of the data as its challenge.
//!
//! Whether user presence (flag 0x01) or verification (0x04) is required is policy: the
//! verifier returns [`SkSignatureInfo`] and the server decides (OpenSSH requires presence
//! unless `no-touch-required`).

use base64ct::{Base64UrlUnpadded, Encoding};
use ring::{digest, signature};

use super::{EcdsaCurve, PublicKey};
use crate::error::{CryptoError, Error, PeerMisbehaved};
use crate::wire::{Reader, put_string, put_u32};

/// The key type of FIDO Ed25519 keys.
pub const SK_SSH_ED25519: &str = "sk-ssh-ed25519@openssh.com";
/// The key type of FIDO ECDSA P-256 keys.
pub const SK_ECDSA_SHA2_NISTP256: &str = "sk-ecdsa-sha2-nistp256@openssh.com";
/// The webauthn signature algorithm of FIDO ECDSA P-256 keys.
pub const WEBAUTHN_SK_ECDSA_SHA2_NISTP256: &str = "webauthn-sk-ecdsa-sha2-nistp256@openssh.com";

/// Every security-key signature algorithm, as `PubkeyAcceptedAlgorithms` names them.
pub const SK_ALGORITHMS: [&str; 3] = [
    SK_SSH_ED25519,
    SK_ECDSA_SHA2_NISTP256,
    WEBAUTHN_SK_ECDSA_SHA2_NISTP256,
];

/// The key type name `name` names if it is a security-key (or `ssh-mldsa44-ed25519`) type.
pub fn sk_key_type(name: &[u8]) -> Option<&'static str> {
    [
        SK_SSH_ED25519,
        SK_ECDSA_SHA2_NISTP256,
        super::mldsa::SSH_MLDSA44_ED25519,
    ]
    .into_iter()
    .find(|t| t.as_bytes() == name)
}

/// Flag: the user touched the authenticator (user presence).
pub const SK_USER_PRESENCE: u8 = 0x01;
/// Flag: the authenticator verified the user (PIN or biometrics).
pub const SK_USER_VERIFICATION: u8 = 0x04;

/// The longest FIDO application string accepted.
const MAX_APPLICATION: usize = 1024;

/// What an authenticator reported with a verified signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkSignatureInfo {
    /// The flags byte.
    pub flags: u8,
    /// The signature counter.
    pub counter: u32,
}

impl SkSignatureInfo {
    /// Whether the user touched the authenticator.
    pub fn user_present(&self) -> bool {
        self.flags & SK_USER_PRESENCE != 0
    }

    /// Whether the authenticator verified the user.
    pub fn user_verified(&self) -> bool {
        self.flags & SK_USER_VERIFICATION != 0
    }
}

/// Reads and checks a FIDO application string.
fn application(r: &mut Reader<'_>) -> Result<String, Error> {
    let app = r.utf8("sk application")?;
    if app.len() > MAX_APPLICATION {
        return Err(CryptoError::BadPublicKey.into());
    }
    Ok(app.to_owned())
}

/// Parses the fields after the type name of an `sk-ssh-ed25519@openssh.com` blob.
pub(crate) fn parse_ed25519(r: &mut Reader<'_>) -> Result<PublicKey, Error> {
    let pk = r.string("sk ed25519 public key")?;
    let key: [u8; 32] = pk.try_into().map_err(|_| CryptoError::BadPublicKey)?;
    let application = application(r)?;
    Ok(PublicKey::SkEd25519 { key, application })
}

/// Parses the fields after the type name of an `sk-ecdsa-sha2-nistp256@openssh.com` blob.
pub(crate) fn parse_ecdsa(r: &mut Reader<'_>) -> Result<PublicKey, Error> {
    let curve = r.string("sk ecdsa curve")?;
    if curve != b"nistp256" {
        return Err(CryptoError::BadPublicKey.into());
    }
    let q = r.string("sk ecdsa point")?;
    EcdsaCurve::NistP256.check_point(q)?;
    let application = application(r)?;
    Ok(PublicKey::SkEcdsa {
        point: q.to_vec(),
        application,
    })
}

/// Encodes the fields after the type name.
pub(crate) fn encode(key: &PublicKey, out: &mut Vec<u8>) {
    match key {
        PublicKey::SkEd25519 { key, application } => {
            put_string(out, key);
            put_string(out, application.as_bytes());
        }
        PublicKey::SkEcdsa { point, application } => {
            put_string(out, b"nistp256");
            put_string(out, point);
            put_string(out, application.as_bytes());
        }
        _ => {}
    }
}

fn sha256(data: &[u8]) -> digest::Digest {
    digest::digest(&digest::SHA256, data)
}

/// Verifies an sk signature blob for `key` (an sk key) with `expected_alg` over `data`.
pub(crate) fn verify(
    key: &PublicKey,
    expected_alg: &str,
    data: &[u8],
    sig_blob: &[u8],
) -> Result<SkSignatureInfo, Error> {
    let mut r = Reader::new(sig_blob);
    let alg = r.string("signature algorithm")?;
    if alg != expected_alg.as_bytes() {
        return Err(PeerMisbehaved::SignatureAlgorithmMismatch.into());
    }
    let sig = r.string("signature")?;
    let flags = r.u8("sk flags")?;
    let counter = r.u32("sk counter")?;
    let webauthn = expected_alg == WEBAUTHN_SK_ECDSA_SHA2_NISTP256;
    let (msghash, extensions) = if webauthn {
        let origin = r.utf8("webauthn origin")?;
        let client_data = r.string("webauthn client data")?;
        let extensions = r.string("webauthn extensions")?;
        let ok = !origin.contains('"')
            && flags & 0x40 == 0
            && (flags & 0x80 == 0) == extensions.is_empty()
            && client_data.starts_with(&webauthn_preamble(data, origin));
        if !ok {
            return Err(CryptoError::BadSignature.into());
        }
        (sha256(client_data), extensions)
    } else {
        (sha256(data), &[][..])
    };
    r.end("sk signature blob")?;
    let (app, bad) = match key {
        PublicKey::SkEd25519 { application, .. } | PublicKey::SkEcdsa { application, .. } => (
            application.as_str(),
            Error::Crypto(CryptoError::BadSignature),
        ),
        _ => return Err(CryptoError::BadSignature.into()),
    };
    let mut signed = Vec::with_capacity(32 + 5 + extensions.len() + 32);
    signed.extend_from_slice(sha256(app.as_bytes()).as_ref());
    signed.push(flags);
    put_u32(&mut signed, counter);
    signed.extend_from_slice(extensions);
    signed.extend_from_slice(msghash.as_ref());
    match key {
        PublicKey::SkEd25519 { key, .. } => {
            if sig.len() != 64 {
                return Err(bad);
            }
            signature::UnparsedPublicKey::new(&signature::ED25519, key)
                .verify(&signed, sig)
                .map_err(|_| bad)?;
        }
        PublicKey::SkEcdsa { point, .. } => EcdsaCurve::NistP256.verify(point, &signed, sig)?,
        _ => return Err(bad),
    }
    Ok(SkSignatureInfo { flags, counter })
}

/// The start `clientDataJSON` must have for a webauthn signature over `data` from `origin`.
pub fn webauthn_preamble(data: &[u8], origin: &str) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(br#"{"type":"webauthn.get","challenge":""#);
    p.extend_from_slice(Base64UrlUnpadded::encode_string(data).as_bytes());
    p.extend_from_slice(br#"","origin":""#);
    p.extend_from_slice(origin.as_bytes());
    p.push(b'"');
    p
}

#[cfg(test)]
#[path = "sk_tests.rs"]
mod tests;
