//! Fingerprints and randomart of public keys, as `ssh-keygen -l [-v] [-E sha256|md5]` prints
//! them: `SHA256:<unpadded base64>` or `MD5:<hex pairs>`, and OpenSSH's "drunken bishop"
//! picture of the digest (`VisualHostKey`).
//!
//! Written here rather than taken from a crate: the picture is a few dozen lines, and what
//! matters is that it matches `ssh-keygen` byte for byte (tested against it).

use md5::{Digest, Md5};
use seashell_proto::keys::{EcdsaCurve, PublicKey};
use std::fmt::Write;

/// The digest a fingerprint is made with (`ssh-keygen -E`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FingerprintHash {
    /// SHA-256, unpadded base64 (OpenSSH's default).
    #[default]
    Sha256,
    /// MD5, colon-separated hex pairs (OpenSSH before 6.8).
    Md5,
}

impl FingerprintHash {
    /// The name `ssh-keygen -E` takes and the randomart footer shows.
    pub fn name(self) -> &'static str {
        match self {
            FingerprintHash::Sha256 => "SHA256",
            FingerprintHash::Md5 => "MD5",
        }
    }

    /// Parses `sha256` or `md5` (any case), as `ssh-keygen -E` does.
    pub fn parse(name: &str) -> Option<FingerprintHash> {
        match name.to_ascii_lowercase().as_str() {
            "sha256" => Some(FingerprintHash::Sha256),
            "md5" => Some(FingerprintHash::Md5),
            _ => None,
        }
    }

    fn digest(self, key: &PublicKey) -> Vec<u8> {
        let blob = key.to_blob();
        match self {
            FingerprintHash::Sha256 => seashell_proto::crypto::sha256(&blob).to_vec(),
            FingerprintHash::Md5 => Md5::digest(&blob).to_vec(),
        }
    }
}

/// The key's fingerprint with `hash`, as `ssh-keygen -l -E` prints it.
pub fn fingerprint(key: &PublicKey, hash: FingerprintHash) -> String {
    match hash {
        FingerprintHash::Sha256 => key.fingerprint(),
        FingerprintHash::Md5 => {
            let mut out = String::from("MD5:");
            for (i, b) in hash.digest(key).iter().enumerate() {
                if i > 0 {
                    out.push(':');
                }
                let _ = write!(out, "{b:02x}");
            }
            out
        }
    }
}

/// The key's size in bits, as `ssh-keygen -l` prints it (256 for Ed25519, the curve size for
/// ECDSA, the modulus size for RSA).
pub fn key_bits(key: &PublicKey) -> usize {
    match key {
        PublicKey::Ed25519(_) => 256,
        PublicKey::Ecdsa { curve, .. } => match curve {
            EcdsaCurve::NistP256 => 256,
            EcdsaCurve::NistP384 => 384,
            EcdsaCurve::NistP521 => 521,
        },
        PublicKey::Rsa { .. } => key.rsa_bits().unwrap_or(0),
        PublicKey::SkEd25519 { .. } | PublicKey::SkEcdsa { .. } => 256,
        PublicKey::Certificate(c) => key_bits(c.key()),
        #[allow(unreachable_patterns)]
        _ => 0,
    }
}

/// The short type name `ssh-keygen -l` shows in parentheses: `ED25519`, `ECDSA`, `RSA`.
pub fn key_label(key: &PublicKey) -> &'static str {
    match key {
        PublicKey::Ed25519(_) => "ED25519",
        PublicKey::Ecdsa { .. } => "ECDSA",
        PublicKey::Rsa { .. } => "RSA",
        PublicKey::SkEd25519 { .. } => "ED25519-SK",
        PublicKey::SkEcdsa { .. } => "ECDSA-SK",
        PublicKey::MlDsa44Ed25519(_) => "MLDSA44-ED25519",
        PublicKey::Certificate(c) => match c.key() {
            PublicKey::Ed25519(_) => "ED25519-CERT",
            PublicKey::Ecdsa { .. } => "ECDSA-CERT",
            PublicKey::Rsa { .. } => "RSA-CERT",
            PublicKey::SkEd25519 { .. } => "ED25519-SK-CERT",
            PublicKey::SkEcdsa { .. } => "ECDSA-SK-CERT",
            _ => "UNKNOWN",
        },
        #[allow(unreachable_patterns)]
        _ => "UNKNOWN",
    }
}

/// The picture's width and height.
const WIDTH: usize = 17;
const HEIGHT: usize = 9;
/// How often a square was visited, drawn with these (then `S` start and `E` end).
const SYMBOLS: &[u8] = b" .o+=*BOX@%&#/^SE";

/// OpenSSH's randomart of the key's `hash` digest ("drunken bishop"), framed with the key's
/// type and size on top and the hash name below, lines joined by `\n` (no final newline).
pub fn randomart(key: &PublicKey, hash: FingerprintHash) -> String {
    let top = format!("[{} {}]", key_label(key), key_bits(key));
    draw(&hash.digest(key), &top, &format!("[{}]", hash.name()))
}

fn draw(digest: &[u8], top: &str, bottom: &str) -> String {
    let start = SYMBOLS.len() - 2;
    let end = SYMBOLS.len() - 1;
    let most = SYMBOLS.len() - 3;
    let mut field = [[0usize; HEIGHT]; WIDTH];
    let (mut x, mut y) = (WIDTH / 2, HEIGHT / 2);
    for &byte in digest {
        let mut bits = byte;
        for _ in 0..4 {
            x = if bits & 1 != 0 {
                (x + 1).min(WIDTH - 1)
            } else {
                x.saturating_sub(1)
            };
            y = if bits & 2 != 0 {
                (y + 1).min(HEIGHT - 1)
            } else {
                y.saturating_sub(1)
            };
            if let Some(cell) = field.get_mut(x).and_then(|c| c.get_mut(y))
                && *cell < most
            {
                *cell += 1;
            }
            bits >>= 2;
        }
    }
    if let Some(cell) = field.get_mut(WIDTH / 2).and_then(|c| c.get_mut(HEIGHT / 2)) {
        *cell = start;
    }
    if let Some(cell) = field.get_mut(x).and_then(|c| c.get_mut(y)) {
        *cell = end;
    }
    let mut lines = vec![border(top)];
    for row in 0..HEIGHT {
        let mut line = String::from("|");
        for column in &field {
            let i = column.get(row).copied().unwrap_or(0).min(end);
            line.push(char::from(SYMBOLS.get(i).copied().unwrap_or(b' ')));
        }
        line.push('|');
        lines.push(line);
    }
    lines.push(border(bottom));
    lines.join("\n")
}

/// `+---[title]---+`, the title centred (left-leaning) in the picture's width.
fn border(title: &str) -> String {
    let title: String = title.chars().take(WIDTH).collect();
    let left = (WIDTH - title.len()) / 2;
    let right = WIDTH - title.len() - left;
    format!("+{}{title}{}+", "-".repeat(left), "-".repeat(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borders_centre_the_title_as_ssh_keygen() {
        assert_eq!(border("[ED25519 256]"), "+--[ED25519 256]--+");
        assert_eq!(border("[SHA256]"), "+----[SHA256]-----+");
        assert_eq!(border("[MD5]"), "+------[MD5]------+");
    }

    #[test]
    fn an_empty_walk_marks_start_and_end_on_the_same_square() {
        let art = draw(&[], "[T]", "[H]");
        let middle = art.lines().nth(1 + HEIGHT / 2).unwrap();
        assert_eq!(middle, "|        E        |");
    }
}
