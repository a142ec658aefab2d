//! Running peer programs: bounded child runs, the Python peers' interpreter, the current
//! user. Shared by the interop tests against `seashell serve` and by the matrix.

use seashell_testkit::{PeerError, find_program};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Where `.ci/run` installs paramiko, asyncssh and ssh-audit.
const CI_VENV_PYTHON: &str = "/opt/seashell-peers/bin/python";
const PY_INSTALL: &str = "python3 -m venv /opt/seashell-peers && /opt/seashell-peers/bin/pip \
     install paramiko==5.1.0 asyncssh==2.24.1 ssh-audit==3.9.0 (or set SEASHELL_PEERS_PYTHON)";

/// What a bounded child run gave.
#[derive(Debug)]
pub struct Ran {
    /// The exit status.
    pub status: ExitStatus,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
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
    let reader = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
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

/// Bytes as text, invalid UTF-8 replaced.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines
        .get(lines.len().saturating_sub(n)..)
        .unwrap_or_default()
        .join("\n")
}

/// The name of the user running the tests (the user `seashell serve` runs commands as).
///
/// # Panics
///
/// If `id -un` cannot be run or prints nothing.
pub fn current_user() -> String {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .expect("running id -un");
    let name = text(&out.stdout).trim().to_owned();
    assert!(!name.is_empty(), "id -un printed nothing");
    name
}

/// A program on `PATH` (or an absolute path), or [`PeerError::Missing`] naming how to
/// install it.
pub fn program(name: &'static str, install: &'static str) -> Result<PathBuf, PeerError> {
    find_program(name).ok_or(PeerError::Missing {
        peer: name,
        install,
    })
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

/// A script in `conformance/peers/`.
pub fn peer_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("peers")
        .join(name)
}
