//! Key kinds, and the per-process cache of keys generated with `ssh-keygen`.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use crate::peer::{PeerError, find_program};

/// A kind of SSH key that [`Sshd`](crate::Sshd) provides, as host key and as user key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Ed25519 (`ssh-ed25519`).
    Ed25519,
    /// RSA, 3072 bits (`ssh-rsa` key type, `ssh-keygen`'s default size).
    Rsa,
    /// ECDSA on NIST P-256 (`ecdsa-sha2-nistp256`).
    EcdsaP256,
}

impl KeyKind {
    /// Every kind, in a fixed order.
    pub const ALL: [KeyKind; 3] = [KeyKind::Ed25519, KeyKind::Rsa, KeyKind::EcdsaP256];

    /// The key type name that starts the public key line, e.g. `"ssh-ed25519"`.
    pub fn key_type(self) -> &'static str {
        match self {
            KeyKind::Ed25519 => "ssh-ed25519",
            KeyKind::Rsa => "ssh-rsa",
            KeyKind::EcdsaP256 => "ecdsa-sha2-nistp256",
        }
    }

    /// The short name used in file names: `ed25519`, `rsa` or `ecdsa`.
    pub fn file_stem(self) -> &'static str {
        match self {
            KeyKind::Ed25519 => "ed25519",
            KeyKind::Rsa => "rsa",
            KeyKind::EcdsaP256 => "ecdsa",
        }
    }

    fn keygen_args(self) -> &'static [&'static str] {
        match self {
            KeyKind::Ed25519 => &["-t", "ed25519"],
            KeyKind::Rsa => &["-t", "rsa", "-b", "3072"],
            KeyKind::EcdsaP256 => &["-t", "ecdsa", "-b", "256"],
        }
    }

    fn index(self) -> usize {
        match self {
            KeyKind::Ed25519 => 0,
            KeyKind::Rsa => 1,
            KeyKind::EcdsaP256 => 2,
        }
    }
}

/// One generated key pair, held in memory.
pub(crate) struct KeyPair {
    /// The OpenSSH private key file, unencrypted.
    private: Vec<u8>,
    /// The `.pub` file as written by `ssh-keygen` (`type base64 comment\n`).
    public_file: String,
}

impl KeyPair {
    /// The public key as `type base64`, without the comment.
    pub(crate) fn public_line(&self) -> String {
        let mut fields = self.public_file.split_whitespace();
        let ty = fields.next().unwrap_or_default();
        let b64 = fields.next().unwrap_or_default();
        format!("{ty} {b64}")
    }

    /// Writes `dir/name` (mode 0600) and `dir/name.pub` (mode 0644); returns the first path.
    pub(crate) fn write_to(&self, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
        let private = dir.join(name);
        write_file(&private, &self.private, 0o600)?;
        write_file(
            &dir.join(format!("{name}.pub")),
            self.public_file.as_bytes(),
            0o644,
        )?;
        Ok(private)
    }
}

/// Host and user keys, generated once per process.
pub(crate) struct KeyCache {
    host: Vec<KeyPair>,
    user: Vec<KeyPair>,
}

impl KeyCache {
    /// The host key of this kind.
    pub(crate) fn host(&self, kind: KeyKind) -> &KeyPair {
        &self.host[kind.index()]
    }

    /// The user key of this kind.
    pub(crate) fn user(&self, kind: KeyKind) -> &KeyPair {
        &self.user[kind.index()]
    }
}

/// The process-wide keys, generated on first use (about a second, for the two RSA keys).
pub(crate) fn cached_keys() -> Result<&'static KeyCache, PeerError> {
    static CACHE: OnceLock<Result<KeyCache, PeerError>> = OnceLock::new();
    CACHE.get_or_init(generate).as_ref().map_err(Clone::clone)
}

/// Writes a file with the given mode, replacing any old one.
pub(crate) fn write_file(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(contents)
}

fn generate() -> Result<KeyCache, PeerError> {
    let keygen = find_program("ssh-keygen").ok_or(PeerError::Missing {
        peer: "ssh-keygen",
        install: "apt-get install openssh-client",
    })?;
    let tmp = tempfile::Builder::new()
        .prefix("seashell-keygen-")
        .tempdir()
        .map_err(|e| PeerError::Failed(format!("creating a temporary directory: {e}")))?;
    // Start all six ssh-keygen runs at once: the RSA ones dominate.
    let mut jobs: Vec<(PathBuf, Result<Child, std::io::Error>)> = Vec::new();
    for role in ["host", "user"] {
        for kind in KeyKind::ALL {
            let path = tmp.path().join(format!("{role}_{}", kind.file_stem()));
            let child = Command::new(&keygen)
                .args(["-q", "-N", ""])
                .args(kind.keygen_args())
                .arg("-C")
                .arg(format!("seashell-test-{role}-{}", kind.file_stem()))
                .arg("-f")
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn();
            jobs.push((path, child));
        }
    }
    let mut pairs = Vec::with_capacity(jobs.len());
    let mut first_error = None;
    for (path, child) in jobs {
        // Wait for every child, even after an error, so none is left behind.
        let result = child
            .and_then(Child::wait_with_output)
            .map_err(|e| format!("running {}: {e}", keygen.display()))
            .and_then(|out| {
                if out.status.success() {
                    read_pair(&path)
                } else {
                    Err(format!(
                        "ssh-keygen for {} failed ({}): {}",
                        path.display(),
                        out.status,
                        String::from_utf8_lossy(&out.stderr).trim()
                    ))
                }
            });
        match result {
            Ok(pair) => pairs.push(pair),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(PeerError::Failed(e));
    }
    let user = pairs.split_off(KeyKind::ALL.len());
    Ok(KeyCache { host: pairs, user })
}

fn read_pair(path: &Path) -> Result<KeyPair, String> {
    let private = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let pub_path = path.with_extension("pub");
    let public_file = std::fs::read_to_string(&pub_path)
        .map_err(|e| format!("reading {}: {e}", pub_path.display()))?;
    Ok(KeyPair {
        private,
        public_file,
    })
}
