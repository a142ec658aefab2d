//! Shared by `tests/serve_clients.rs` and `tests/ssh_audit.rs`: keys generated with
//! `ssh-keygen` and a running `seashell serve` with them. The process helpers and `Serve`
//! itself live in the library (`seashell_conformance::{process, serve}`), shared with the
//! interop matrix.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use seashell_conformance::process::text;
pub use seashell_conformance::serve::Serve;

pub mod openssh;

/// A host key type the server is started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKey {
    Ed25519,
    EcdsaP256,
    Rsa,
}

impl HostKey {
    pub const ALL: [HostKey; 3] = [HostKey::Ed25519, HostKey::EcdsaP256, HostKey::Rsa];

    /// The key type at the start of the public key line.
    pub fn key_type(self) -> &'static str {
        match self {
            HostKey::Ed25519 => "ssh-ed25519",
            HostKey::EcdsaP256 => "ecdsa-sha2-nistp256",
            HostKey::Rsa => "ssh-rsa",
        }
    }

    fn stem(self) -> &'static str {
        match self {
            HostKey::Ed25519 => "ed25519",
            HostKey::EcdsaP256 => "ecdsa",
            HostKey::Rsa => "rsa",
        }
    }

    fn keygen_args(self) -> &'static [&'static str] {
        match self {
            HostKey::Ed25519 => &["-t", "ed25519"],
            HostKey::EcdsaP256 => &["-t", "ecdsa", "-b", "256"],
            HostKey::Rsa => &["-t", "rsa", "-b", "3072"],
        }
    }
}

/// Private key bytes and `.pub` text, generated once per test process.
struct Generated {
    host: Vec<(Vec<u8>, String)>,
    user: (Vec<u8>, String),
}

fn generated() -> &'static Generated {
    static KEYS: OnceLock<Generated> = OnceLock::new();
    KEYS.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temporary directory for ssh-keygen");
        // The three host keys and the (ed25519) user key, generated at once.
        let mut jobs: Vec<(PathBuf, Child)> = Vec::new();
        let kinds = HostKey::ALL.iter().map(|k| (k.stem(), k.keygen_args()));
        for (name, args) in kinds.chain([("user", HostKey::Ed25519.keygen_args())]) {
            let path = tmp.path().join(name);
            let child = Command::new("ssh-keygen")
                .args(["-q", "-N", "", "-C", &format!("seashell-serve-test-{name}")])
                .args(args)
                .arg("-f")
                .arg(&path)
                .stdin(Stdio::null())
                .spawn()
                .expect("running ssh-keygen (apt-get install openssh-client)");
            jobs.push((path, child));
        }
        let mut pairs: Vec<(Vec<u8>, String)> = jobs
            .into_iter()
            .map(|(path, mut child)| {
                let status = child.wait().expect("waiting for ssh-keygen");
                assert!(
                    status.success(),
                    "ssh-keygen for {}: {status}",
                    path.display()
                );
                let private = std::fs::read(&path).expect("reading a generated key");
                let public = std::fs::read_to_string(path.with_extension("pub"))
                    .expect("reading a generated public key");
                (private, public)
            })
            .collect();
        let user = pairs.pop().expect("user key");
        Generated { host: pairs, user }
    })
}

/// A scratch directory with the host keys, the user key and its `authorized_keys`.
pub struct Keys {
    pub dir: tempfile::TempDir,
}

impl Keys {
    /// Writes the process's generated keys into a new temporary directory.
    pub fn new() -> Keys {
        let dir = tempfile::Builder::new()
            .prefix("seashell-serve-")
            .tempdir()
            .expect("temporary directory");
        let g = generated();
        let write = |name: &str, (private, public): &(Vec<u8>, String)| {
            let path = dir.path().join(name);
            std::fs::write(&path, private).expect("writing a private key");
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .expect("chmod 600");
            std::fs::write(path.with_extension("pub"), public).expect("writing a public key");
        };
        for (kind, pair) in HostKey::ALL.iter().zip(&g.host) {
            write(&format!("host_{}", kind.stem()), pair);
        }
        write("user", &g.user);
        std::fs::write(dir.path().join("authorized_keys"), &g.user.1).expect("authorized_keys");
        Keys { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The private host key file of `kind`.
    pub fn host_key(&self, kind: HostKey) -> PathBuf {
        self.path().join(format!("host_{}", kind.stem()))
    }

    /// The host public key as `type base64` (no comment).
    pub fn host_public(&self, kind: HostKey) -> String {
        public_line(&self.host_key(kind).with_extension("pub"))
    }

    /// The host key's `SHA256:...` fingerprint, as `ssh-keygen -lf` prints it.
    pub fn host_fingerprint(&self, kind: HostKey) -> String {
        fingerprint(&self.host_key(kind).with_extension("pub"))
    }

    /// The user's public key (ed25519) as `type base64`: a key no server has, to pin as
    /// a wrong host key.
    pub fn user_public(&self) -> String {
        public_line(&self.user_key().with_extension("pub"))
    }

    /// The user key's `SHA256:...` fingerprint.
    pub fn user_fingerprint(&self) -> String {
        fingerprint(&self.user_key().with_extension("pub"))
    }

    /// The user's private key (OpenSSH format, ed25519).
    pub fn user_key(&self) -> PathBuf {
        self.path().join("user")
    }
}

/// The first two fields (`type base64`) of a `.pub` file.
fn public_line(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("reading a public key");
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `SHA256:...` fingerprint of a `.pub` file, from `ssh-keygen -lf`.
fn fingerprint(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .expect("running ssh-keygen -l");
    let line = text(&out.stdout);
    line.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .unwrap_or_else(|| panic!("no fingerprint in ssh-keygen output {line:?}"))
        .to_owned()
}

/// Starts `seashell serve -v` ([`Serve::start`]) with the given host keys of `keys`, its
/// `authorized_keys`, and `extra` arguments.
pub fn start_serve(keys: &Keys, host_keys: &[HostKey], extra: &[&str]) -> Result<Serve, String> {
    let paths: Vec<PathBuf> = host_keys.iter().map(|k| keys.host_key(*k)).collect();
    Serve::start(&paths, &keys.path().join("authorized_keys"), extra)
}
