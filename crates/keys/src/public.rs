//! Public key files in every format `ssh-keygen -e` / `-i` and OpenSSL use: OpenSSH lines
//! (`type base64 comment`), RFC 4716 (`---- BEGIN SSH2 PUBLIC KEY ----` with headers and
//! continuation lines), PEM `PUBLIC KEY` (X.509 SubjectPublicKeyInfo, as PKCS#8 tools write
//! it) and PEM `RSA PUBLIC KEY` (PKCS#1).

use base64ct::{Base64, Encoding};
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, UintRef};
use der::{Decode, Encode};
use pkcs8::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use seashell_proto::keys::PublicKey;
use zeroize::Zeroizing;

use crate::KeyFileError;
use crate::armor;
use crate::der_keys::{EC_OID, ED25519_OID, RSA_OID, curve_from_oid, curve_oid};
use crate::openssh::parse_public_key_line;

const RFC4716_BEGIN: &str = "---- BEGIN SSH2 PUBLIC KEY ----";
const RFC4716_END: &str = "---- END SSH2 PUBLIC KEY ----";
/// RFC 4716 §3.3: lines are at most 72 bytes.
const RFC4716_WIDTH: usize = 70;
/// The most RFC 4716 header lines accepted.
const MAX_HEADERS: usize = 64;
/// Public key files larger than this are refused (real ones are under 4 KiB).
pub const MAX_PUBLIC_KEY_FILE: usize = 64 << 10;

/// The formats public keys are written in ([`format_public_key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKeyFormat {
    /// One OpenSSH line: `type base64 [comment]`.
    OpenSsh,
    /// RFC 4716 (`ssh-keygen -e -m RFC4716`, PuTTY's `-O public`).
    Rfc4716,
    /// PEM `PUBLIC KEY`, X.509 SubjectPublicKeyInfo (`ssh-keygen -e -m PKCS8`).
    Pkcs8,
    /// PEM `RSA PUBLIC KEY` (PKCS#1) for RSA keys and `PUBLIC KEY` for others
    /// (`ssh-keygen -e -m PEM`).
    Pem,
}

/// Parses a public key file in any of the formats of [`PublicKeyFormat`], sniffed from its
/// first line. Returns the key and its comment (empty if there is none; the RFC 4716
/// `Comment` header without its quotes).
///
/// # Errors
/// [`KeyFileError::UnknownFormat`] if the text is in none of these formats,
/// [`KeyFileError::Unsupported`] for other key types, [`KeyFileError::Malformed`] if it is
/// damaged.
pub fn parse_public_key_file(text: &str) -> Result<(PublicKey, String), KeyFileError> {
    if text.len() > MAX_PUBLIC_KEY_FILE {
        return Err(KeyFileError::Unsupported(
            "public key file larger than 64 KiB".to_string(),
        ));
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with(RFC4716_BEGIN) {
        return parse_rfc4716(trimmed);
    }
    if let Some(label) = armor::first_label(trimmed) {
        let block = armor::decode(trimmed)?;
        return match label {
            "PUBLIC KEY" => Ok((from_spki(&block.data)?, String::new())),
            "RSA PUBLIC KEY" => Ok((from_pkcs1_public(&block.data)?, String::new())),
            other => Err(KeyFileError::Unsupported(format!(
                "PEM block {} as a public key",
                crate::openssh::printable(other.as_bytes())
            ))),
        };
    }
    let line = trimmed
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or(KeyFileError::UnknownFormat)?;
    parse_public_key_line(line).map_err(|e| match e {
        KeyFileError::Malformed(_) => KeyFileError::UnknownFormat,
        other => other,
    })
}

fn parse_rfc4716(text: &str) -> Result<(PublicKey, String), KeyFileError> {
    let (blob, comment) = decode_rfc4716(text, RFC4716_END)?;
    let key = blob_to_key(&blob)?;
    Ok((key, comment))
}

/// Decodes an RFC 4716-style armored block (the begin line, `Tag: value` headers with `\`
/// continuation lines, base64 up to `end_line`): its bytes (wiped on drop) and the value of
/// its `Comment` header without the quotes (empty if none). ssh.com private keys use the
/// same armor.
pub(crate) fn decode_rfc4716(
    text: &str,
    end_line: &str,
) -> Result<(Zeroizing<Vec<u8>>, String), KeyFileError> {
    let mut lines = text.trim_start().lines().skip(1);
    let mut comment = String::new();
    let mut b64 = Zeroizing::new(String::new());
    let mut headers = 0;
    let mut ended = false;
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line == end_line {
            ended = true;
            break;
        }
        if let Some((tag, value)) = line.split_once(':').filter(|_| b64.is_empty()) {
            headers += 1;
            if headers > MAX_HEADERS {
                return Err(KeyFileError::Malformed("RFC 4716 headers"));
            }
            let mut value = value.trim().to_string();
            while value.ends_with('\\') {
                value.pop();
                let next = lines
                    .next()
                    .ok_or(KeyFileError::Malformed("RFC 4716 header"))?;
                value.push_str(next.trim_end());
                if value.len() > 1024 {
                    return Err(KeyFileError::Malformed("RFC 4716 header"));
                }
            }
            if tag.trim().eq_ignore_ascii_case("comment") {
                comment = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(&value)
                    .to_string();
            }
            continue;
        }
        b64.push_str(line);
    }
    if !ended {
        return Err(KeyFileError::Malformed("RFC 4716 end line"));
    }
    let blob = Base64::decode_vec(&b64).map_err(|_| KeyFileError::Malformed("RFC 4716 base64"))?;
    Ok((Zeroizing::new(blob), comment))
}

fn blob_to_key(blob: &[u8]) -> Result<PublicKey, KeyFileError> {
    let key_type = seashell_proto::wire::Reader::new(blob)
        .string("key type")
        .map_err(|_| KeyFileError::Malformed("public key blob"))?;
    PublicKey::from_blob(blob).map_err(|_| {
        if matches!(key_type, b"ssh-ed25519" | b"ssh-rsa")
            || seashell_proto::keys::EcdsaCurve::from_key_type(key_type).is_some()
        {
            KeyFileError::Malformed("public key blob")
        } else {
            KeyFileError::Unsupported(format!("key type {}", crate::openssh::printable(key_type)))
        }
    })
}

/// Decodes a SubjectPublicKeyInfo.
fn from_spki(der: &[u8]) -> Result<PublicKey, KeyFileError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|_| KeyFileError::Malformed("SubjectPublicKeyInfo"))?;
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(KeyFileError::Malformed("SubjectPublicKeyInfo key bits"))?;
    match spki.algorithm.oid {
        RSA_OID => from_pkcs1_public(bits),
        EC_OID => {
            let oid = spki
                .algorithm
                .parameters
                .ok_or(KeyFileError::Malformed("EC curve"))?
                .decode_as::<ObjectIdentifier>()
                .map_err(|_| KeyFileError::Malformed("EC curve"))?;
            let curve = curve_from_oid(oid)?;
            let mut blob = Vec::new();
            seashell_proto::wire::put_string(&mut blob, curve.key_type().as_bytes());
            seashell_proto::wire::put_string(&mut blob, curve.identifier().as_bytes());
            seashell_proto::wire::put_string(&mut blob, bits);
            blob_to_key(&blob)
        }
        ED25519_OID => {
            let pk: [u8; 32] = bits
                .try_into()
                .map_err(|_| KeyFileError::Malformed("Ed25519 public key"))?;
            Ok(PublicKey::Ed25519(pk))
        }
        other => Err(KeyFileError::Unsupported(format!(
            "public key algorithm {other}"
        ))),
    }
}

fn from_pkcs1_public(der: &[u8]) -> Result<PublicKey, KeyFileError> {
    let k = pkcs1::RsaPublicKeyRef::from_der(der)
        .map_err(|_| KeyFileError::Malformed("PKCS#1 RSA public key"))?;
    let mut blob = Vec::new();
    seashell_proto::wire::put_string(&mut blob, b"ssh-rsa");
    seashell_proto::wire::put_mpint(&mut blob, k.public_exponent.as_bytes());
    seashell_proto::wire::put_mpint(&mut blob, k.modulus.as_bytes());
    blob_to_key(&blob)
}

fn pkcs1_public_der(e: &[u8], n: &[u8]) -> Result<Vec<u8>, KeyFileError> {
    let bad = |_| KeyFileError::Malformed("RSA public key");
    pkcs1::RsaPublicKeyRef {
        modulus: UintRef::new(n).map_err(bad)?,
        public_exponent: UintRef::new(e).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}

fn spki_der(key: &PublicKey) -> Result<Vec<u8>, KeyFileError> {
    let bad = |_| KeyFileError::Malformed("SubjectPublicKeyInfo");
    let curve_param;
    let (algorithm, bits) = match key {
        PublicKey::Rsa { e, n } => (
            AlgorithmIdentifierRef {
                oid: RSA_OID,
                parameters: Some(AnyRef::NULL),
            },
            pkcs1_public_der(e, n)?,
        ),
        PublicKey::Ecdsa { curve, point } => {
            curve_param = curve_oid(*curve).to_der().map_err(bad)?;
            (
                AlgorithmIdentifierRef {
                    oid: EC_OID,
                    parameters: Some(AnyRef::from_der(&curve_param).map_err(bad)?),
                },
                point.clone(),
            )
        }
        PublicKey::Ed25519(pk) => (
            AlgorithmIdentifierRef {
                oid: ED25519_OID,
                parameters: None,
            },
            pk.to_vec(),
        ),
        #[allow(unreachable_patterns)]
        _ => return Err(KeyFileError::Unsupported("key type".to_string())),
    };
    SubjectPublicKeyInfoRef {
        algorithm,
        subject_public_key: BitStringRef::from_bytes(&bits).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}

/// Formats a public key in `format`. `comment` goes into the OpenSSH line and the RFC 4716
/// `Comment` header (PEM formats have no place for it). Every format ends with a newline.
///
/// # Errors
/// [`KeyFileError::Malformed`] only if DER encoding fails (it does not for valid keys).
pub fn format_public_key(
    key: &PublicKey,
    comment: &str,
    format: PublicKeyFormat,
) -> Result<String, KeyFileError> {
    Ok(match format {
        PublicKeyFormat::OpenSsh => {
            let mut line = crate::openssh::format_public_key_line(key, comment);
            line.push('\n');
            line
        }
        PublicKeyFormat::Rfc4716 => {
            let mut out = String::from(RFC4716_BEGIN);
            out.push('\n');
            if !comment.is_empty() {
                let header = format!("Comment: \"{}\"", comment.replace('"', "'"));
                // Fold long headers with `\` continuations (RFC 4716 §3.3).
                let chars: Vec<char> = header.chars().collect();
                let mut chunks = chars.chunks(RFC4716_WIDTH - 1).peekable();
                while let Some(chunk) = chunks.next() {
                    out.extend(chunk);
                    if chunks.peek().is_some() {
                        out.push('\\');
                    }
                    out.push('\n');
                }
            }
            armor::push_wrapped(
                &mut out,
                &Base64::encode_string(&key.to_blob()),
                RFC4716_WIDTH,
            );
            out.push_str(RFC4716_END);
            out.push('\n');
            out
        }
        PublicKeyFormat::Pkcs8 => armor::encode("PUBLIC KEY", &[], &spki_der(key)?).to_string(),
        PublicKeyFormat::Pem => match key {
            PublicKey::Rsa { e, n } => {
                armor::encode("RSA PUBLIC KEY", &[], &pkcs1_public_der(e, n)?).to_string()
            }
            _ => armor::encode("PUBLIC KEY", &[], &spki_der(key)?).to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips() {
        let key = PublicKey::Ed25519([9; 32]);
        for format in [
            PublicKeyFormat::OpenSsh,
            PublicKeyFormat::Rfc4716,
            PublicKeyFormat::Pkcs8,
            PublicKeyFormat::Pem,
        ] {
            let long = "a long comment ".repeat(10).trim_end().to_string();
            let text = format_public_key(&key, &long, format).unwrap();
            let (back, comment) = parse_public_key_file(&text).unwrap();
            assert_eq!(back, key, "{format:?}");
            if matches!(format, PublicKeyFormat::OpenSsh | PublicKeyFormat::Rfc4716) {
                assert_eq!(comment, long, "{format:?}");
            }
        }
        assert!(matches!(
            parse_public_key_file("hello"),
            Err(KeyFileError::UnknownFormat)
        ));
    }
}
