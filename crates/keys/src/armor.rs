//! PEM armor (RFC 7468 text encoding, with the RFC 1421 headers OpenSSL's legacy encrypted
//! keys carry): `-----BEGIN LABEL-----`, optional `Name: value` header lines, base64, and
//! `-----END LABEL-----`.
//!
//! Parsed by hand rather than with `pem-rfc7468` because that crate is strict by design: it
//! refuses the `Proc-Type` / `DEK-Info` headers that `ssh-keygen -m PEM -N …` and
//! `openssl … -traditional -aes256` write, which we must read. The encoder writes the strict
//! form (64-column base64, `\n` line ends) that every reader accepts.

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use crate::KeyFileError;

/// The longest label accepted (real ones are under 30 characters).
const MAX_LABEL: usize = 64;
/// The most header lines accepted (real files have two).
const MAX_HEADERS: usize = 16;

/// One PEM block: its label, its headers and its decoded contents (wiped on drop).
pub(crate) struct Armored<'a> {
    /// The label between `BEGIN ` and the dashes, e.g. `RSA PRIVATE KEY`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub label: &'a str,
    /// `Name: value` header lines, in order (names and values trimmed).
    pub headers: Vec<(&'a str, &'a str)>,
    /// The decoded base64 body.
    pub data: Zeroizing<Vec<u8>>,
}

impl Armored<'_> {
    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// The label of the first `-----BEGIN LABEL-----` line in `text`, if any (leading blank
/// lines and whitespace are skipped).
pub(crate) fn first_label(text: &str) -> Option<&str> {
    let line = text.trim_start().lines().next()?.trim_end();
    let label = line.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
    (label.len() <= MAX_LABEL).then_some(label)
}

/// Decodes the first PEM block of `text`.
///
/// # Errors
/// [`KeyFileError::Malformed`] if the armor lines, a header or the base64 are damaged.
pub(crate) fn decode(text: &str) -> Result<Armored<'_>, KeyFileError> {
    let label = first_label(text).ok_or(KeyFileError::Malformed("PEM armor begin line"))?;
    let mut lines = text.trim_start().lines();
    lines.next();
    let end_line = format!("-----END {label}-----");
    let mut headers = Vec::new();
    let mut body = Zeroizing::new(String::new());
    let mut in_headers = true;
    let mut ended = false;
    let mut continued = false;
    for line in lines {
        let line = line.trim();
        if line == end_line {
            ended = true;
            break;
        }
        if in_headers {
            if let Some((name, value)) = line.split_once(':') {
                if headers.len() >= MAX_HEADERS {
                    return Err(KeyFileError::Malformed("PEM headers"));
                }
                headers.push((name.trim(), value.trim()));
                continued = value.trim_end().ends_with('\\');
                continue;
            }
            if continued {
                // A folded header value: kept out of the body, not needed by any reader here.
                continued = line.ends_with('\\');
                continue;
            }
            in_headers = false;
            if line.is_empty() {
                continue;
            }
        }
        body.push_str(line);
    }
    if !ended {
        return Err(KeyFileError::Malformed("PEM armor end line"));
    }
    let data = Base64::decode_vec(&body).map_err(|_| KeyFileError::Malformed("PEM base64"))?;
    Ok(Armored {
        label,
        headers,
        data: Zeroizing::new(data),
    })
}

/// Encodes `data` as a PEM block with `label` and the given header lines, base64 in
/// 64-character lines, each line ending in `\n`.
pub(crate) fn encode(label: &str, headers: &[(&str, &str)], data: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(Base64::encode_string(data));
    let mut out = Zeroizing::new(String::with_capacity(b64.len() + b64.len() / 64 + 80));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    if !headers.is_empty() {
        out.push('\n');
    }
    push_wrapped(&mut out, &b64, 64);
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Appends `text` in lines of at most `width` characters, each ending in `\n` (`text` is
/// ASCII).
pub(crate) fn push_wrapped(out: &mut String, text: &str, width: usize) {
    let bytes = text.as_bytes();
    for chunk in bytes.chunks(width.max(1)) {
        out.push_str(core::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_headers() {
        let data: Vec<u8> = (0..200u8).collect();
        let text = encode("X KEY", &[("Proc-Type", "4,ENCRYPTED")], &data);
        assert!(text.lines().all(|l| l.len() <= 64));
        let a = decode(&text).unwrap();
        assert_eq!(a.label, "X KEY");
        assert_eq!(a.header("proc-type"), Some("4,ENCRYPTED"));
        assert_eq!(a.data.as_slice(), data.as_slice());
    }

    #[test]
    fn damaged_armor_is_refused() {
        assert!(decode("-----BEGIN A-----\nAAAA\n").is_err());
        assert!(decode("-----BEGIN A-----\n!!!!\n-----END A-----\n").is_err());
        assert!(decode("hello").is_err());
        assert!(first_label("-----BEGIN A-----\r\n").is_some());
    }
}
