//! `seashell keygen -y | -e | -i | -p`: the public key of a private key, export to and import
//! from RFC 4716 / PKCS#8 / PEM, and changing a private key's passphrase (and format).

use std::path::Path;

use seashell_keys::{
    PublicKey, PublicKeyFormat, encode_private_key, format_public_key, format_public_key_line,
    key_bits, key_label, parse_public_key_file, write_private_key_file,
};
use zeroize::Zeroizing;

use super::{Failure, Opts, Outcome};

/// `-y`: prints the public key line (with the key's comment) of a private key.
pub(super) fn print_public(opts: &Opts) -> Outcome {
    let path = super::file_or_ask(opts, "Enter file in which the key is", "id_ed25519")?;
    let loaded = super::load_private(&path, opts.value('P'), "Enter passphrase: ")?;
    let mut line = format_public_key_line(&loaded.key.public_key(), &loaded.comment);
    line.push('\n');
    Ok(line)
}

/// `-e [-m RFC4716|PKCS8|PEM]`: prints a key's public half in another format.
pub(super) fn export(opts: &Opts) -> Outcome {
    let format = match opts.value('m').map(str::to_ascii_uppercase).as_deref() {
        None | Some("RFC4716" | "SSH2") => PublicKeyFormat::Rfc4716,
        Some("PKCS8") => PublicKeyFormat::Pkcs8,
        Some("PEM") => PublicKeyFormat::Pem,
        Some(other) => {
            return Err(Failure::new(format!(
                "Unsupported conversion format \"{other}\""
            )));
        }
    };
    let path = super::file_or_ask(opts, "Enter file in which the key is", "id_ed25519")?;
    let key = public_of(&path, opts)?;
    let comment = if format == PublicKeyFormat::Rfc4716 {
        format!(
            "{}-bit {}, converted by {} from OpenSSH",
            key_bits(&key),
            key_label(&key),
            super::generate::default_comment()
        )
    } else {
        String::new()
    };
    format_public_key(&key, &comment, format).map_err(|e| Failure::new(e.to_string()))
}

/// `-i [-m RFC4716|PKCS8|PEM]`: prints an OpenSSH public key line for a key in another format.
pub(super) fn import(opts: &Opts) -> Outcome {
    if let Some(m) = opts.value('m')
        && !matches!(
            m.to_ascii_uppercase().as_str(),
            "RFC4716" | "SSH2" | "PKCS8" | "PEM"
        )
    {
        return Err(Failure::new(format!(
            "Unsupported conversion format \"{m}\""
        )));
    }
    let path = super::file_or_ask(opts, "Enter file in which the key is", "id_ed25519")?;
    let text = read_text(&path)?;
    let (key, _) = parse_public_key_file(&text)
        .map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
    let mut line = format_public_key_line(&key, "");
    line.push('\n');
    Ok(line)
}

/// `-p [-P old] [-N new] [-m format] [-a rounds]`: rewrites a private key with a new
/// passphrase (and in the format `-m` names, OpenSSH's by default), keeping its comment.
pub(super) fn change_passphrase(opts: &Opts) -> Outcome {
    let path = super::file_or_ask(opts, "Enter file in which the key is", "id_ed25519")?;
    let loaded = super::load_private(&path, opts.value('P'), "Enter old passphrase: ")?;
    if !loaded.comment.is_empty() {
        println!("Key has comment '{}'", loaded.comment);
    }
    let new = match opts.value('N') {
        Some(p) => Zeroizing::new(p.to_string()),
        None => super::ask_new_passphrase("Enter new passphrase (empty for no passphrase): ")?,
    };
    let is_ed25519 = matches!(loaded.key.public_key(), PublicKey::Ed25519(_));
    let format = super::generate::private_format(opts.value('m'), is_ed25519)?;
    let rounds = super::generate::rounds(opts)?;
    let save_failed =
        |e: String| Failure::new(format!("Saving key \"{}\" failed: {e}.", path.display()));
    let text = encode_private_key(&loaded.key, &loaded.comment, format, new.as_bytes(), rounds)
        .map_err(|e| save_failed(e.to_string()))?;
    write_private_key_file(&path, &text, true).map_err(|e| save_failed(e.to_string()))?;
    Ok("Your identification has been saved with the new passphrase.\n".to_string())
}

/// The public key in `path`: the file itself in any public format, its `.pub`, or the
/// private key (asking for its passphrase if needed).
fn public_of(path: &Path, opts: &Opts) -> Result<PublicKey, Failure> {
    let text = read_text(path)?;
    if let Ok((key, _)) = parse_public_key_file(&text) {
        return Ok(key);
    }
    if let Ok(pub_text) = std::fs::read_to_string(super::pub_path(path))
        && let Ok((key, _)) = parse_public_key_file(&pub_text)
    {
        return Ok(key);
    }
    let loaded = super::load_private(path, opts.value('P'), "Enter passphrase: ")?;
    Ok(loaded.key.public_key())
}

fn read_text(path: &Path) -> Result<String, Failure> {
    let bytes =
        std::fs::read(path).map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
    if bytes.len() > seashell_keys::MAX_PUBLIC_KEY_FILE * 16 {
        return Err(Failure::new(format!("{}: file too large", path.display())));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
