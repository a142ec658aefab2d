//! Reading private key files in any format we know, sniffed from their first line (or, for
//! binary files, their DER structure), with the key's comment: OpenSSH, PEM or DER PKCS#1 /
//! SEC1 (plain, or in PEM OpenSSL's legacy encryption), PEM or DER PKCS#8 (plain or
//! PBES2-encrypted), PuTTY `.ppk` version 2 and 3, and ssh.com (SECSH) RSA keys.

use std::path::{Path, PathBuf};

use seashell_proto::keys::{PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::der_keys::DerKind;
use crate::{KeyFileError, armor, der_keys, legacy_pem, openssh, ppk, sshcom};

/// The format a private key file was read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFileFormat {
    /// `-----BEGIN OPENSSH PRIVATE KEY-----` (`openssh-key-v1`).
    OpenSsh,
    /// `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1), or the same DER without the armor.
    Pkcs1,
    /// `-----BEGIN EC PRIVATE KEY-----` (SEC1), or the same DER without the armor.
    Sec1,
    /// `-----BEGIN PRIVATE KEY-----` or `-----BEGIN ENCRYPTED PRIVATE KEY-----` (PKCS#8),
    /// or the same DER without the armor.
    Pkcs8,
    /// PuTTY `.ppk` version 2.
    PuttyV2,
    /// PuTTY `.ppk` version 3.
    PuttyV3,
    /// ssh.com (SECSH) `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`.
    SshCom,
}

/// A private key read from a file, with what the file said about it.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoadedKey {
    /// The key.
    pub key: PrivateKey,
    /// The comment stored with the key (OpenSSH, PuTTY and ssh.com files have one; PEM and
    /// DER files do not, and get an empty string).
    pub comment: String,
    /// The format of the file.
    pub format: KeyFileFormat,
    /// Whether the file was protected by a passphrase.
    pub encrypted: bool,
}

/// A key file that could not be loaded: the file's path and why.
#[derive(Debug)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// What was wrong with it.
    pub error: KeyFileError,
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Parses a private key file in any supported format (see the module docs), decrypting it
/// with `passphrase` if it is protected. `None` or an empty passphrase reads unprotected keys
/// only.
///
/// # Errors
/// - [`KeyFileError::UnknownFormat`] if the text is in no format we know;
/// - [`KeyFileError::Unsupported`] naming what the file is, for formats and key types we
///   recognise but do not read (DSA keys, PuTTY version 1, a public key);
/// - [`KeyFileError::Encrypted`] if it needs a passphrase and none was given;
/// - [`KeyFileError::BadPassphrase`] if the passphrase is wrong;
/// - [`KeyFileError::Malformed`], [`KeyFileError::Mismatch`] for damaged files.
pub fn parse_key_file(text: &str, passphrase: Option<&[u8]>) -> Result<LoadedKey, KeyFileError> {
    let passphrase = passphrase.filter(|p| !p.is_empty());
    let trimmed = text.trim_start();
    if let Some(version) = ppk::sniff(trimmed) {
        let format = match version {
            "2" => KeyFileFormat::PuttyV2,
            _ => KeyFileFormat::PuttyV3,
        };
        let file = ppk::parse(trimmed)?;
        let encrypted = file.is_encrypted();
        let comment = file.comment().to_string();
        if encrypted && passphrase.is_none() {
            file.check()?;
            return Err(KeyFileError::Encrypted);
        }
        let key = file.into_key(passphrase.unwrap_or_default())?;
        return Ok(LoadedKey {
            key,
            comment,
            format,
            encrypted,
        });
    }
    if trimmed.starts_with(sshcom::BEGIN) {
        let file = sshcom::parse(trimmed)?;
        let encrypted = file.encrypted;
        let comment = file.comment.clone();
        let key = file.into_key(passphrase)?;
        return Ok(LoadedKey {
            key,
            comment,
            format: KeyFileFormat::SshCom,
            encrypted,
        });
    }
    if trimmed.starts_with("---- BEGIN SSH2 PUBLIC KEY ----") {
        return Err(not_private());
    }
    let Some(mut label) = armor::first_label(trimmed) else {
        if crate::public::parse_public_key_file(trimmed).is_ok() {
            return Err(not_private());
        }
        return Err(KeyFileError::UnknownFormat);
    };
    let mut block_text = trimmed;
    if label == "EC PARAMETERS" {
        // `openssl ecparam -genkey` writes the curve parameters first.
        let end = block_text
            .find("-----END EC PARAMETERS-----")
            .ok_or(KeyFileError::Malformed("PEM armor end line"))?;
        block_text = block_text
            .get(end + "-----END EC PARAMETERS-----".len()..)
            .unwrap_or_default()
            .trim_start();
        label = armor::first_label(block_text).ok_or(KeyFileError::UnknownFormat)?;
    }
    match label {
        "OPENSSH PRIVATE KEY" => {
            let encrypted_result = openssh::parse_with_comment(block_text, None);
            let encrypted = matches!(encrypted_result, Err(KeyFileError::Encrypted));
            let (key, comment) = if encrypted {
                match passphrase {
                    Some(p) => openssh::parse_with_comment(block_text, Some(p))?,
                    None => return Err(KeyFileError::Encrypted),
                }
            } else {
                encrypted_result?
            };
            Ok(LoadedKey {
                key,
                comment,
                format: KeyFileFormat::OpenSsh,
                encrypted,
            })
        }
        "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            let block = armor::decode(block_text)?;
            let encrypted = legacy_pem::is_encrypted(block.header("Proc-Type"));
            let der = if encrypted {
                let Some(p) = passphrase else {
                    legacy_pem::check(block.header("DEK-Info"))?;
                    return Err(KeyFileError::Encrypted);
                };
                legacy_pem::decrypt(block.header("DEK-Info"), &block.data, p)?
            } else {
                Zeroizing::new(block.data.to_vec())
            };
            let (key, format) = if label == "RSA PRIVATE KEY" {
                (der_keys::rsa_from_pkcs1(&der), KeyFileFormat::Pkcs1)
            } else {
                (der_keys::ec_from_sec1(&der, None), KeyFileFormat::Sec1)
            };
            // Garbage that decrypted with valid padding (a wrong passphrase, 1 in 256).
            let key = key.map_err(|e| match e {
                KeyFileError::Malformed(_) if encrypted => KeyFileError::BadPassphrase,
                other => other,
            })?;
            Ok(LoadedKey {
                key,
                comment: String::new(),
                format,
                encrypted,
            })
        }
        "PRIVATE KEY" => {
            let block = armor::decode(block_text)?;
            from_der(DerKind::Pkcs8, &block.data, None)
        }
        "ENCRYPTED PRIVATE KEY" => {
            let block = armor::decode(block_text)?;
            from_der(DerKind::EncryptedPkcs8, &block.data, passphrase)
        }
        "DSA PRIVATE KEY" => Err(KeyFileError::Unsupported("DSA private key".to_string())),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(not_private()),
        other => Err(KeyFileError::Unsupported(format!(
            "PEM block {}",
            openssh::printable(other.as_bytes())
        ))),
    }
}

/// The public key of a private key file and its comment, without a passphrase: OpenSSH files
/// keep the public key in their unencrypted header (the comment is inside the encrypted
/// part: `None` then), PuTTY files keep both in the clear; other formats must be unencrypted
/// (otherwise [`KeyFileError::Encrypted`]) and have no comment (`None`). This is how
/// `ssh-keygen -l` lists a private key that has no `.pub`.
///
/// # Errors
/// As [`parse_key_file`] without a passphrase.
pub fn public_key_of_key_file(text: &str) -> Result<(PublicKey, Option<String>), KeyFileError> {
    let trimmed = text.trim_start();
    if ppk::sniff(trimmed).is_some() {
        let file = ppk::parse(trimmed)?;
        return Ok((file.public_key()?, Some(file.comment().to_string())));
    }
    match parse_key_file(trimmed, None) {
        Ok(loaded) => {
            let has_comment = matches!(
                loaded.format,
                KeyFileFormat::OpenSsh | KeyFileFormat::SshCom
            );
            Ok((
                loaded.key.public_key(),
                has_comment.then_some(loaded.comment),
            ))
        }
        Err(KeyFileError::Encrypted)
            if armor::first_label(trimmed) == Some("OPENSSH PRIVATE KEY") =>
        {
            Ok((openssh::header_public_key(trimmed)?, None))
        }
        Err(e) => Err(e),
    }
}

/// A key from DER of a known structure (PEM's body or a binary file); `passphrase` is
/// only used by encrypted PKCS#8.
fn from_der(
    kind: DerKind,
    der: &[u8],
    passphrase: Option<&[u8]>,
) -> Result<LoadedKey, KeyFileError> {
    let (key, format, encrypted) = match kind {
        DerKind::Pkcs8 => (der_keys::from_pkcs8(der)?, KeyFileFormat::Pkcs8, false),
        DerKind::EncryptedPkcs8 => {
            let Some(p) = passphrase else {
                der_keys::check_encrypted_pkcs8(der)?;
                return Err(KeyFileError::Encrypted);
            };
            let plain = der_keys::decrypt_pkcs8(der, p)?;
            (der_keys::from_pkcs8(&plain)?, KeyFileFormat::Pkcs8, true)
        }
        DerKind::Pkcs1 => (der_keys::rsa_from_pkcs1(der)?, KeyFileFormat::Pkcs1, false),
        DerKind::Sec1 => (
            der_keys::ec_from_sec1(der, None)?,
            KeyFileFormat::Sec1,
            false,
        ),
    };
    Ok(LoadedKey {
        key,
        comment: String::new(),
        format,
        encrypted,
    })
}

/// Parses a private key file given as bytes: binary DER (PKCS#8, encrypted PKCS#8, PKCS#1
/// RSA or SEC1 EC, as `openssl … -outform DER` writes) or, if it is UTF-8 text, any format
/// [`parse_key_file`] reads. Files over 1 MiB are refused.
///
/// # Errors
/// As [`parse_key_file`]; [`KeyFileError::UnknownFormat`] for bytes that are neither text
/// nor a DER private key structure, [`KeyFileError::Unsupported`] for more than 1 MiB.
pub fn parse_key_file_bytes(
    bytes: &[u8],
    passphrase: Option<&[u8]>,
) -> Result<LoadedKey, KeyFileError> {
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > openssh::MAX_KEY_FILE {
        return Err(KeyFileError::Unsupported(
            "key file larger than 1 MiB".to_string(),
        ));
    }
    // DER starts with a SEQUENCE tag; no text format starts with byte 0x30 ('0').
    if bytes.first() == Some(&0x30) {
        let kind = der_keys::sniff_der(bytes).ok_or(KeyFileError::Malformed("DER private key"))?;
        return from_der(kind, bytes, passphrase.filter(|p| !p.is_empty()));
    }
    let text = core::str::from_utf8(bytes).map_err(|_| KeyFileError::UnknownFormat)?;
    parse_key_file(text, passphrase)
}

fn not_private() -> KeyFileError {
    KeyFileError::Unsupported("a public key file where a private key is needed".to_string())
}

/// Reads a private key file and parses it with [`parse_key_file_bytes`] (text formats as
/// [`parse_key_file`], and binary DER). As `ssh` does, a file
/// that its group or others may read or write is refused ([`KeyFileError::UnprotectedFile`]);
/// files over 1 MiB are refused without being read in full.
///
/// # Errors
/// A [`LoadError`] naming the file, holding [`KeyFileError::Io`] if it cannot be read or
/// another error of [`parse_key_file`].
pub fn load_key_file(path: &Path, passphrase: Option<&[u8]>) -> Result<LoadedKey, LoadError> {
    let in_file = |error| LoadError {
        path: path.to_path_buf(),
        error,
    };
    let bytes = openssh::read_key_file(path).map_err(in_file)?;
    parse_key_file_bytes(&bytes, passphrase).map_err(in_file)
}
