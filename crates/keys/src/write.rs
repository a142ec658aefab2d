//! Writing private keys in the formats `ssh-keygen -m` names, and writing key files safely:
//! created with their final permissions (0600 private, 0644 public) under a temporary name in
//! the same directory, synced, then moved into place, so that a private key is never
//! readable by others, not even for a moment, and a reader never sees half a file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use seashell_proto::keys::{PrivateKey, SecretParts};
use zeroize::Zeroizing;

use crate::{KeyFileError, armor, der_keys, legacy_pem, openssh_write};

/// The formats private keys are written in (`ssh-keygen -m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrivateKeyFormat {
    /// OpenSSH's own format (the default); encrypted with bcrypt and `aes256-ctr`.
    OpenSsh,
    /// PEM: PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`; encrypted with OpenSSL's legacy
    /// scheme (AES-128-CBC, as `ssh-keygen -m PEM`). Ed25519 keys have no such form.
    Pem,
    /// PKCS#8 `PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2-SHA256, AES-256-CBC).
    Pkcs8,
}

/// Encodes `key` in `format`. `comment` is stored only by the OpenSSH format. A non-empty
/// `passphrase` encrypts the key; `rounds` is the OpenSSH format's bcrypt round count
/// ([`openssh_write::DEFAULT_KDF_ROUNDS`] is `ssh-keygen`'s default).
///
/// # Errors
/// [`KeyFileError::Unsupported`] for Ed25519 keys in [`PrivateKeyFormat::Pem`] or a bad round
/// count; [`KeyFileError::Rng`] if the random number generator fails.
pub fn encode_private_key(
    key: &PrivateKey,
    comment: &str,
    format: PrivateKeyFormat,
    passphrase: &[u8],
    rounds: u32,
) -> Result<Zeroizing<String>, KeyFileError> {
    match format {
        PrivateKeyFormat::OpenSsh => {
            openssh_write::encode_openssh_private_key(key, comment, passphrase, rounds)
        }
        PrivateKeyFormat::Pem => {
            let (label, der) = match key.secret_parts() {
                SecretParts::Rsa { .. } => ("RSA PRIVATE KEY", der_keys::to_pkcs1(key)?),
                SecretParts::Ecdsa { .. } => ("EC PRIVATE KEY", der_keys::to_sec1(key, true)?),
                _ => {
                    return Err(KeyFileError::Unsupported(format!(
                        "{} keys in PEM (PKCS#1/SEC1) format; use OpenSSH or PKCS#8",
                        key.public_key().key_type()
                    )));
                }
            };
            if passphrase.is_empty() {
                Ok(armor::encode(label, &[], &der))
            } else {
                let (dek, body) = legacy_pem::encrypt(&der, passphrase)?;
                let body = Zeroizing::new(body);
                Ok(armor::encode(
                    label,
                    &[("Proc-Type", "4,ENCRYPTED"), ("DEK-Info", &dek)],
                    &body,
                ))
            }
        }
        PrivateKeyFormat::Pkcs8 => {
            let der = der_keys::to_pkcs8(key)?;
            if passphrase.is_empty() {
                Ok(armor::encode("PRIVATE KEY", &[], &der))
            } else {
                let enc = der_keys::encrypt_pkcs8(&der, passphrase)?;
                Ok(armor::encode("ENCRYPTED PRIVATE KEY", &[], &enc))
            }
        }
    }
}

/// Writes a private key file with mode 0600 (see the module docs). Refuses to replace an
/// existing file unless `overwrite`.
///
/// # Errors
/// [`io::ErrorKind::AlreadyExists`] if the file exists and `overwrite` is false; other I/O
/// errors from creating, writing or renaming.
pub fn write_private_key_file(path: &Path, contents: &str, overwrite: bool) -> io::Result<()> {
    write_atomic(path, contents.as_bytes(), 0o600, overwrite)
}

/// Writes a public key file with mode 0644 (less the umask), as [`write_private_key_file`].
///
/// # Errors
/// As [`write_private_key_file`].
pub fn write_public_key_file(path: &Path, contents: &str, overwrite: bool) -> io::Result<()> {
    write_atomic(path, contents.as_bytes(), 0o644, overwrite)
}

fn write_atomic(path: &Path, contents: &[u8], mode: u32, overwrite: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut suffix = [0u8; 6];
    crate::generate::fill_random(&mut suffix)
        .map_err(|_| io::Error::other("random number generator failed"))?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp-{suffix}"));
    let temp = dir.join(temp_name);
    let mut file = create_new(&temp, mode)?;
    let result = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            if overwrite {
                fs::rename(&temp, path)
            } else {
                // A hard link fails if the target exists: no window in which an existing
                // file is replaced.
                fs::hard_link(&temp, path).and_then(|()| fs::remove_file(&temp))
            }
        });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(unix)]
fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn create_new(path: &Path, _mode: u32) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}
