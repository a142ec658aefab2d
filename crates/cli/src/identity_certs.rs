//! Certificates for identities, as `ssh` finds them: `key-cert.pub` next to an identity
//! file, and `CertificateFile` certificates whose key is the identity's. Each certified
//! key is tried before the plain one.

use crate::log::Log;
use seashell_keys::{Certificate, load_private_key_with_passphrase};
use seashell_keys::{certificate_path_for, load_certificate, load_private_key};
use seashell_proto::PrivateKey;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The keys to try for the identity `key` loaded from `path` (with `passphrase` if it was
/// encrypted): a certified copy for each usable certificate (`path-cert.pub`, then matching
/// `cert_files`), then the key itself. Unusable certificates are skipped with a debug note.
pub fn with_certificates(
    path: &Path,
    key: PrivateKey,
    passphrase: Option<Zeroizing<String>>,
    cert_files: &[PathBuf],
    log: Log,
) -> Vec<PrivateKey> {
    let mut certs: Vec<(PathBuf, Certificate)> = Vec::new();
    let mut candidates = vec![certificate_path_for(path)];
    candidates.extend(cert_files.iter().cloned());
    for cert_path in candidates {
        if !cert_path.exists() {
            continue;
        }
        match load_certificate(&cert_path) {
            Ok(c) if *c.key() == *key.public_key().plain() => {
                if !certs.iter().any(|(_, have)| *have == c) {
                    certs.push((cert_path, c));
                }
            }
            Ok(_) => {}
            Err(e) => log.debug(&format!("certificate {}: {e}", cert_path.display())),
        }
    }
    let mut out = Vec::new();
    for (cert_path, cert) in certs {
        let again = match &passphrase {
            Some(p) => load_private_key_with_passphrase(path, p.as_bytes()),
            None => load_private_key(path),
        };
        let certified = again.ok().and_then(|k| k.with_certificate(cert).ok());
        match certified {
            Some(k) => {
                log.debug(&format!(
                    "identity file {} certificate {} type {}",
                    path.display(),
                    cert_path.display(),
                    k.public_key().key_type()
                ));
                out.push(k);
            }
            None => log.debug(&format!(
                "certificate {} cannot be used with {}",
                cert_path.display(),
                path.display()
            )),
        }
    }
    out.push(key);
    out
}
