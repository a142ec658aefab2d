//! `seashell keygen -l [-v] [-E sha256|md5] -f FILE`: fingerprints of a public key file, an
//! `authorized_keys`-style list, or a private key (through its `.pub`, or the key itself),
//! printed as `ssh-keygen` prints them, with randomart for `-v`.

use seashell_keys::{
    FingerprintHash, fingerprint, key_bits, key_label, parse_public_key_file, parse_public_key_line,
};
use std::path::Path;

use super::{Failure, Opts, Outcome};

/// Runs `-l`.
pub(super) fn run(opts: &Opts) -> Outcome {
    let hash = opts.hash()?;
    let file = super::file_or_ask(opts, "Enter file in which the key is", "id_ed25519")?;
    list(&file, hash, opts.has('v')).map_err(Failure::new)
}

/// The fingerprint lines (and pictures) of every key in `file`, or in its `.pub` when `file`
/// is a private key.
fn list(file: &Path, hash: FingerprintHash, visual: bool) -> Result<String, String> {
    let text = read_public(file)?;
    let mut out = String::new();
    // One key in another format (RFC 4716, PEM), or a private key without its .pub.
    if text.contains("-----BEGIN") || text.contains("---- BEGIN") || text.starts_with("PuTTY-") {
        let (key, comment) = match parse_public_key_file(&text) {
            Ok((key, comment)) => (key, (!comment.is_empty()).then_some(comment)),
            // A private key's public half, readable without its passphrase in OpenSSH
            // and PuTTY files.
            Err(_) => seashell_keys::public_key_of_key_file(&text)
                .map_err(|e| format!("{}: {e}", file.display()))?,
        };
        push_line(&mut out, &key, comment.as_deref(), hash, visual);
        return Ok(out);
    }
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, comment) = parse_public_key_line(line)
            .map_err(|e| format!("{}:{}: {e}", file.display(), n + 1))?;
        push_line(
            &mut out,
            &key,
            (!comment.is_empty()).then_some(comment.as_str()),
            hash,
            visual,
        );
    }
    if out.is_empty() {
        return Err(format!("{} is not a public key file.", file.display()));
    }
    Ok(out)
}

/// Appends `bits fingerprint comment (TYPE)` and, for `visual`, the randomart. Like
/// `ssh-keygen`, a key without a comment (or a PEM private key) shows "no comment"; an
/// OpenSSH private key with an empty comment shows an empty one.
fn push_line(
    out: &mut String,
    key: &seashell_keys::PublicKey,
    comment: Option<&str>,
    hash: FingerprintHash,
    visual: bool,
) {
    let comment = comment.unwrap_or("no comment");
    out.push_str(&format!(
        "{} {} {comment} ({})\n",
        key_bits(key),
        fingerprint(key, hash),
        key_label(key)
    ));
    if visual {
        out.push_str(&seashell_keys::randomart(key, hash));
        out.push('\n');
    }
}

/// The public key text of `file`: itself, or `file.pub` next to a private key.
fn read_public(file: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if !text.contains("PRIVATE KEY-----") {
        return Ok(text);
    }
    let mut public = file.as_os_str().to_owned();
    public.push(".pub");
    // Without its .pub, the private key itself (read below).
    Ok(std::fs::read_to_string(&public).unwrap_or(text))
}
