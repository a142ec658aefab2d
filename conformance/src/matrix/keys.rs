//! The matrix's keys: one host key of every type (ed25519, ECDSA P-256/384/521, RSA-3072)
//! and an ed25519 user key, generated with `ssh-keygen` once per test process, plus the
//! Dropbear and PuTTY conversions the peers need.

use crate::process::{run_limited, text};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// A host key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// ed25519.
    Ed25519,
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
    /// ECDSA on P-521.
    P521,
    /// RSA-3072.
    Rsa,
}

impl KeyType {
    /// Every type.
    pub const ALL: [KeyType; 5] = [
        KeyType::Ed25519,
        KeyType::P256,
        KeyType::P384,
        KeyType::P521,
        KeyType::Rsa,
    ];

    /// The key type a host-key signature algorithm signs with.
    pub fn for_algorithm(alg: &str) -> Option<KeyType> {
        match alg {
            "ssh-ed25519" => Some(KeyType::Ed25519),
            "ecdsa-sha2-nistp256" => Some(KeyType::P256),
            "ecdsa-sha2-nistp384" => Some(KeyType::P384),
            "ecdsa-sha2-nistp521" => Some(KeyType::P521),
            "rsa-sha2-512" | "rsa-sha2-256" | "ssh-rsa" => Some(KeyType::Rsa),
            _ => None,
        }
    }

    /// The key types needed to serve every algorithm in `algs`, in [`KeyType::ALL`] order.
    pub fn for_algorithms(algs: &[&str]) -> Vec<KeyType> {
        KeyType::ALL
            .into_iter()
            .filter(|t| algs.iter().any(|a| KeyType::for_algorithm(a) == Some(*t)))
            .collect()
    }

    /// The file name stem.
    pub fn stem(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::P256 => "ecdsa256",
            KeyType::P384 => "ecdsa384",
            KeyType::P521 => "ecdsa521",
            KeyType::Rsa => "rsa",
        }
    }

    fn keygen_args(self) -> &'static [&'static str] {
        match self {
            KeyType::Ed25519 => &["-t", "ed25519"],
            KeyType::P256 => &["-t", "ecdsa", "-b", "256"],
            KeyType::P384 => &["-t", "ecdsa", "-b", "384"],
            KeyType::P521 => &["-t", "ecdsa", "-b", "521"],
            KeyType::Rsa => &["-t", "rsa", "-b", "3072"],
        }
    }
}

/// The generated keys, in a directory readable by every user (sshd reads
/// `authorized_keys` as the login user).
#[derive(Debug)]
pub struct Keys {
    dir: tempfile::TempDir,
    dropbear: OnceLock<Result<(), String>>,
    ppk: OnceLock<Result<PathBuf, String>>,
}

impl Keys {
    /// Generates the keys (all at once, in parallel).
    pub fn generate() -> Result<Keys, String> {
        let dir = tempfile::Builder::new()
            .prefix("seashell-matrix-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        chmod(dir.path(), 0o755)?;
        let mut jobs: Vec<(PathBuf, Child)> = Vec::new();
        let hosts = KeyType::ALL
            .iter()
            .map(|t| (format!("host_{}", t.stem()), t.keygen_args()));
        for (name, args) in hosts.chain([("user".to_owned(), KeyType::Ed25519.keygen_args())]) {
            let path = dir.path().join(&name);
            let child = Command::new("ssh-keygen")
                .args(["-q", "-N", "", "-C", &format!("seashell-matrix-{name}")])
                .args(args)
                .arg("-f")
                .arg(&path)
                .stdin(Stdio::null())
                .spawn()
                .map_err(|e| format!("running ssh-keygen (apt-get install openssh-client): {e}"))?;
            jobs.push((path, child));
        }
        for (path, mut child) in jobs {
            let status = child.wait().map_err(|e| format!("ssh-keygen: {e}"))?;
            if !status.success() {
                return Err(format!("ssh-keygen for {}: {status}", path.display()));
            }
        }
        let keys = Keys {
            dir,
            dropbear: OnceLock::new(),
            ppk: OnceLock::new(),
        };
        let user_pub = std::fs::read_to_string(keys.user_key().with_extension("pub"))
            .map_err(|e| format!("reading the user public key: {e}"))?;
        let authorized = keys.authorized_keys();
        std::fs::write(&authorized, user_pub).map_err(|e| format!("authorized_keys: {e}"))?;
        chmod(&authorized, 0o644)?;
        Ok(keys)
    }

    /// The directory holding the keys.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The private host key of `t` (OpenSSH format).
    pub fn host_key(&self, t: KeyType) -> PathBuf {
        self.dir().join(format!("host_{}", t.stem()))
    }

    /// The host key of `t` converted to Dropbear's format.
    pub fn dropbear_host_key(&self, t: KeyType) -> PathBuf {
        self.dir().join(format!("host_{}.db", t.stem()))
    }

    /// The user's private key (ed25519, OpenSSH format).
    pub fn user_key(&self) -> PathBuf {
        self.dir().join("user")
    }

    /// The user key in Dropbear's format ([`Keys::convert_for_dropbear`] first).
    pub fn dropbear_user_key(&self) -> PathBuf {
        self.dir().join("user.db")
    }

    /// `authorized_keys` with the user key.
    pub fn authorized_keys(&self) -> PathBuf {
        self.dir().join("authorized_keys")
    }

    /// The host public key of `t` as `type base64`.
    pub fn host_public(&self, t: KeyType) -> Result<String, String> {
        let path = self.host_key(t).with_extension("pub");
        let line = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        Ok(line
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// The host key's `SHA256:...` fingerprint, as `ssh-keygen -lf` prints it.
    pub fn host_fingerprint(&self, t: KeyType) -> Result<String, String> {
        let path = self.host_key(t).with_extension("pub");
        let ran = run_limited(
            Command::new("ssh-keygen").arg("-lf").arg(&path),
            Duration::from_secs(30),
        )?;
        let out = text(&ran.stdout);
        out.split_whitespace()
            .find(|w| w.starts_with("SHA256:"))
            .map(str::to_owned)
            .ok_or_else(|| format!("no fingerprint in ssh-keygen -l output {out:?}"))
    }

    /// `known_hosts` lines (`[127.0.0.1]:PORT type base64`) for the host keys `types`.
    pub fn known_hosts(&self, host: &str, types: &[KeyType]) -> Result<String, String> {
        let mut text = String::new();
        for t in types {
            text.push_str(&format!("{host} {}\n", self.host_public(*t)?));
        }
        Ok(text)
    }

    /// Converts every host key and the user key to Dropbear's format (once).
    pub fn convert_for_dropbear(&self, dropbearconvert: &Path) -> Result<(), String> {
        self.dropbear
            .get_or_init(|| {
                let mut pairs: Vec<(PathBuf, PathBuf)> = KeyType::ALL
                    .iter()
                    .map(|t| (self.host_key(*t), self.dropbear_host_key(*t)))
                    .collect();
                pairs.push((self.user_key(), self.dropbear_user_key()));
                for (from, to) in pairs {
                    converted(
                        Command::new(dropbearconvert)
                            .args(["openssh", "dropbear"])
                            .arg(&from)
                            .arg(&to),
                        "dropbearconvert",
                    )?;
                }
                Ok(())
            })
            .clone()
    }

    /// The user key as a PuTTY `.ppk` (converted once with `puttygen`).
    pub fn user_ppk(&self, puttygen: &Path) -> Result<PathBuf, String> {
        self.ppk
            .get_or_init(|| {
                let ppk = self.dir().join("user.ppk");
                converted(
                    Command::new(puttygen)
                        .arg(self.user_key())
                        .args(["-O", "private", "-o"])
                        .arg(&ppk),
                    "puttygen",
                )?;
                Ok(ppk)
            })
            .clone()
    }
}

/// Runs a key converter; `Err` names it and says why it failed.
fn converted(cmd: &mut Command, what: &str) -> Result<(), String> {
    let ran = run_limited(cmd, Duration::from_secs(60)).map_err(|e| format!("{what}: {e}"))?;
    if ran.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}",
            ran.status,
            text(&ran.stderr)
        ))
    }
}

/// Sets the permission bits of `path`.
pub fn chmod(path: &Path, mode: u32) -> Result<(), String> {
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| format!("chmod {mode:o} {}: {e}", path.display()))
}
