//! Shared by `tests/serve_clients.rs` and `tests/ssh_audit.rs`: the `seashell` binary,
//! keys generated with `ssh-keygen`, a running `seashell serve`, and bounded child runs.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use seashell_testkit::{PeerError, find_program};

/// Where `.ci/run` installs paramiko, asyncssh and ssh-audit.
const CI_VENV_PYTHON: &str = "/opt/seashell-peers/bin/python";
const PY_INSTALL: &str = "python3 -m venv /opt/seashell-peers && /opt/seashell-peers/bin/pip \
     install paramiko==5.1.0 asyncssh==2.24.1 ssh-audit==3.9.0 (or set SEASHELL_PEERS_PYTHON)";

/// How long `seashell serve` may take to print its `listening on` line.
const READY_LIMIT: Duration = Duration::from_secs(30);
pub use seashell_conformance::seashell_bin;

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

/// The name of the user running the tests (the user `seashell serve` runs commands as).
pub fn current_user() -> String {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .expect("running id -un");
    let name = text(&out.stdout).trim().to_owned();
    assert!(!name.is_empty(), "id -un printed nothing");
    name
}

/// A running `seashell serve`, killed when dropped.
pub struct Serve {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts `seashell serve -v` on `127.0.0.1:0` with the given host keys, the user key
    /// of `keys` as the only authorised key, `current_user()` as the user, `SHELL=/bin/sh`,
    /// and `extra` arguments; waits for its `listening on` line.
    pub fn start(keys: &Keys, host_keys: &[HostKey], extra: &[&str]) -> Result<Serve, String> {
        let mut cmd = Command::new(seashell_bin());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "-v"]);
        for kind in host_keys {
            cmd.arg("--host-key").arg(keys.host_key(*kind));
        }
        cmd.arg("--authorized-keys")
            .arg(keys.path().join("authorized_keys"))
            .args(["--user", &current_user()])
            .args(extra)
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("starting {}: {e}", seashell_bin().display()))?;
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr);
            let mut line = String::new();
            while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
                // `seashell serve: listening on 127.0.0.1:PORT` and maybe ` (details)`.
                if let Some(rest) = line.trim().strip_prefix("seashell serve: listening on ") {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    let port = addr.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
                    let _ = ready_tx.send(port);
                }
                sink.lock().expect("log lock").push_str(&line);
                line.clear();
            }
        });
        let mut serve = Serve {
            child,
            port: 0,
            log,
        };
        match ready_rx.recv_timeout(READY_LIMIT) {
            Ok(Some(port)) => {
                serve.port = port;
                Ok(serve)
            }
            Ok(None) => Err(format!("unparsable listening line; log:\n{}", serve.log())),
            Err(_) => {
                let status = serve.child.try_wait().ok().flatten();
                Err(format!(
                    "seashell serve did not print `seashell serve: listening on` within \
                     {READY_LIMIT:?} (exit status {status:?}); log:\n{}",
                    serve.log()
                ))
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything the server printed to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a bounded child run gave.
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `cmd` with stdin from /dev/null and both outputs captured; kills it (by its own
/// pid) and returns `Err` after `limit`.
pub fn run_limited(cmd: &mut Command, limit: Duration) -> Result<Ran, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning {:?}: {e}", cmd.get_program()))?;
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped stdout")));
    let err = reader(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err.join().unwrap_or_default();
                return Err(format!(
                    "did not finish within {limit:?}; its stderr: {:?}",
                    text(&stderr)
                ));
            }
            Err(e) => return Err(format!("waiting: {e}")),
        }
    };
    Ok(Ran {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The Python interpreter that can import `module`: `SEASHELL_PEERS_PYTHON` (an error if
/// it cannot), else `/opt/seashell-peers/bin/python`, else `python3`.
pub fn peer_python(module: &'static str) -> Result<PathBuf, PeerError> {
    let imports = |py: &Path| {
        Command::new(py)
            .args(["-c", &format!("import {module}")])
            .output()
            .map_err(|e| e.to_string())
            .and_then(|o| {
                if o.status.success() {
                    Ok(())
                } else {
                    Err(text(&o.stderr))
                }
            })
    };
    if let Some(py) = std::env::var_os("SEASHELL_PEERS_PYTHON") {
        let py = PathBuf::from(py);
        return match imports(&py) {
            Ok(()) => Ok(py),
            Err(e) => Err(PeerError::Failed(format!(
                "SEASHELL_PEERS_PYTHON={} cannot import {module}: {e}",
                py.display()
            ))),
        };
    }
    [Some(PathBuf::from(CI_VENV_PYTHON)), find_program("python3")]
        .into_iter()
        .flatten()
        .find(|py| py.exists() && imports(py).is_ok())
        .ok_or(PeerError::Missing {
            peer: module,
            install: PY_INSTALL,
        })
}
