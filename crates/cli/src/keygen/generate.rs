//! `seashell keygen [-q] [-t type] [-b bits] [-f file] [-N passphrase] [-C comment] [-m format]
//! [-a rounds]`: a new key pair, saved and announced as `ssh-keygen` does.

use std::path::Path;

use seashell_keys::{
    DEFAULT_KDF_ROUNDS, DEFAULT_RSA_BITS, EcdsaCurve, KeyKind, PrivateKeyFormat, PublicKeyFormat,
    encode_private_key, fingerprint, format_public_key, generate_key, randomart,
    write_private_key_file, write_public_key_file,
};
use zeroize::Zeroizing;

use super::{Failure, Opts, Outcome};

/// Runs key generation.
pub(super) fn run(opts: &Opts) -> Outcome {
    let type_name = opts.value('t').unwrap_or("ed25519").to_ascii_lowercase();
    let kind = key_kind(&type_name, opts.value('b'))?;
    let format = private_format(opts.value('m'), kind == KeyKind::Ed25519)?;
    let rounds = rounds(opts)?;
    let hash = opts.hash()?;
    let quiet = opts.quiet();
    if !quiet {
        println!("Generating public/private {type_name} key pair.");
    }
    let key =
        generate_key(kind).map_err(|e| Failure::new(format!("key generation failed: {e}")))?;
    let default_name = format!("id_{type_name}");
    let path = super::file_or_ask(opts, "Enter file in which to save the key", &default_name)?;
    if opts.file().is_none() {
        create_ssh_dir(&path)?;
    }
    let overwrite = confirm_overwrite(&path)?;
    let passphrase = match opts.value('N') {
        Some(p) => Zeroizing::new(p.to_string()),
        None => super::ask_new_passphrase("Enter passphrase (empty for no passphrase): ")?,
    };
    let comment = match opts.value('C') {
        Some(c) => c.to_string(),
        None => default_comment(),
    };
    let text = encode_private_key(&key, &comment, format, passphrase.as_bytes(), rounds)
        .map_err(|e| Failure::new(format!("Saving key \"{}\" failed: {e}", path.display())))?;
    write_private_key_file(&path, &text, overwrite)
        .map_err(|e| Failure::new(format!("Saving key \"{}\" failed: {e}", path.display())))?;
    let public = key.public_key();
    let pub_path = super::pub_path(&path);
    let line = format_public_key(&public, &comment, PublicKeyFormat::OpenSsh)
        .map_err(|e| Failure::new(e.to_string()))?;
    write_public_key_file(&pub_path, &line, true).map_err(|e| {
        Failure::new(format!(
            "Unable to save public key to {}: {e}",
            pub_path.display()
        ))
    })?;
    if quiet {
        return Ok(String::new());
    }
    Ok(format!(
        "Your identification has been saved in {}\nYour public key has been saved in {}\n\
         The key fingerprint is:\n{} {comment}\nThe key's randomart image is:\n{}\n",
        path.display(),
        pub_path.display(),
        fingerprint(&public, hash),
        randomart(&public, hash)
    ))
}

/// `-t` and `-b` as `ssh-keygen` reads them.
fn key_kind(type_name: &str, bits: Option<&str>) -> Result<KeyKind, Failure> {
    let bits = match bits {
        None => None,
        Some(b) => Some(
            b.parse::<usize>()
                .map_err(|_| Failure::new(format!("Bits has bad value {b} (invalid)")))?,
        ),
    };
    match type_name {
        "ed25519" => Ok(KeyKind::Ed25519),
        "ecdsa" => match bits.unwrap_or(256) {
            256 => Ok(KeyKind::Ecdsa(EcdsaCurve::NistP256)),
            384 => Ok(KeyKind::Ecdsa(EcdsaCurve::NistP384)),
            521 => Ok(KeyKind::Ecdsa(EcdsaCurve::NistP521)),
            _ => Err(Failure::new(
                "Invalid ECDSA key length: valid lengths are 256, 384 or 521 bits",
            )),
        },
        "rsa" => {
            let bits = bits.unwrap_or(DEFAULT_RSA_BITS);
            let (min, max) = (
                seashell_proto::keys::RSA_SIGN_MIN_BITS,
                seashell_proto::keys::RSA_SIGN_MAX_BITS,
            );
            if bits < min {
                return Err(Failure::new(format!(
                    "Invalid RSA key length: minimum is {min} bits"
                )));
            }
            if bits > max {
                return Err(Failure::new(format!(
                    "Invalid RSA key length: maximum is {max} bits"
                )));
            }
            Ok(KeyKind::Rsa(bits))
        }
        other => Err(Failure::new(format!("unknown key type {other}"))),
    }
}

/// `-m` for a private key: OpenSSH's own format unless PEM or PKCS8 is asked for. Ed25519
/// keys have no PEM form, and OpenSSH 9 cannot read them as PKCS#8: `ssh-keygen` writes them
/// in its own format then, and so do we (the library writes PKCS#8 Ed25519 if asked).
pub(super) fn private_format(
    m: Option<&str>,
    is_ed25519: bool,
) -> Result<PrivateKeyFormat, Failure> {
    let format = match m.map(str::to_ascii_uppercase).as_deref() {
        None | Some("RFC4716" | "SSH2") => PrivateKeyFormat::OpenSsh,
        Some("PEM") => PrivateKeyFormat::Pem,
        Some("PKCS8") => PrivateKeyFormat::Pkcs8,
        Some(other) => {
            return Err(Failure::new(format!(
                "Unsupported conversion format \"{other}\""
            )));
        }
    };
    if is_ed25519 {
        return Ok(PrivateKeyFormat::OpenSsh);
    }
    Ok(format)
}

/// `-a`: bcrypt rounds for OpenSSH-format keys. Also checks `-Z`: we encrypt with
/// `aes256-ctr` (ssh-keygen's default) only.
pub(super) fn rounds(opts: &Opts) -> Result<u32, Failure> {
    if let Some(cipher) = opts.value('Z')
        && cipher != "aes256-ctr"
    {
        return Err(Failure::status1(format!(
            "seashell keygen: -Z {cipher} is not supported yet (keys are encrypted with aes256-ctr)"
        )));
    }
    match opts.value('a') {
        None => Ok(DEFAULT_KDF_ROUNDS),
        Some(a) => a
            .parse::<u32>()
            .ok()
            .filter(|&r| (1..=seashell_keys::openssh::MAX_KDF_ROUNDS).contains(&r))
            .ok_or_else(|| Failure::new(format!("Invalid number: {a} (out of range)"))),
    }
}

/// Creates `~/.ssh` (0700) for a default key path, as `ssh-keygen` does.
fn create_ssh_dir(path: &Path) -> Result<(), Failure> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| {
            Failure::new(format!(
                "Could not create directory '{}': {e}",
                dir.display()
            ))
        })?;
    println!("Created directory '{}'.", dir.display());
    Ok(())
}

/// If `path` exists, asks "Overwrite (y/n)?" on standard input. Returns whether to replace it.
fn confirm_overwrite(path: &Path) -> Result<bool, Failure> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(false);
    }
    println!("{} already exists.", path.display());
    let answer = super::read_stdin_line("Overwrite (y/n)? ")?;
    if answer.starts_with('y') || answer.starts_with('Y') {
        Ok(true)
    } else {
        Err(Failure::status1(""))
    }
}

/// `user@host`, `ssh-keygen`'s default comment.
pub(super) fn default_comment() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(user_from_passwd)
        .unwrap_or_else(|| "user".to_string());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{user}@{host}")
}

/// The name of the current user in `/etc/passwd`.
fn user_from_passwd() -> Option<String> {
    let uid = rustix::process::getuid().as_raw().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_string())
    })
}
