//! A running `seashell serve` (the real binary, [`crate::seashell_bin`]) on `127.0.0.1`.

use crate::process::current_user;
use crate::seashell_bin;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long `seashell serve` may take to print its `listening on` line.
const READY_LIMIT: Duration = Duration::from_secs(30);

/// A running `seashell serve -v`, killed when dropped. Its stderr is collected
/// ([`Serve::log`]).
#[derive(Debug)]
pub struct Serve {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts `seashell serve -v` on `127.0.0.1:0` with `host_keys`, `authorized_keys` as
    /// the only authorised keys, `current_user()` as the user, `SHELL=/bin/sh`, and
    /// `extra` arguments (`-o Name=Value` ...); waits for its `listening on` line.
    pub fn start<S: AsRef<std::ffi::OsStr>>(
        host_keys: &[PathBuf],
        authorized_keys: &Path,
        extra: &[S],
    ) -> Result<Serve, String> {
        Serve::start_with_nofile(host_keys, authorized_keys, extra, None)
    }

    /// [`Serve::start`] with its descriptor limit (`RLIMIT_NOFILE`) set to `nofile`
    /// (through util-linux `prlimit`, which then runs serve in its own process).
    pub fn start_with_nofile<S: AsRef<std::ffi::OsStr>>(
        host_keys: &[PathBuf],
        authorized_keys: &Path,
        extra: &[S],
        nofile: Option<u64>,
    ) -> Result<Serve, String> {
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}"))
                    .arg("--")
                    .arg(seashell_bin());
                c
            }
            None => Command::new(seashell_bin()),
        };
        cmd.args(["serve", "--listen", "127.0.0.1:0", "-v"]);
        for key in host_keys {
            cmd.arg("--host-key").arg(key);
        }
        cmd.arg("--authorized-keys")
            .arg(authorized_keys)
            .args(["--user", &current_user()])
            .args(extra)
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("starting {}: {e}", seashell_bin().display()))?;
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        if let Some(stderr) = child.stderr.take() {
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
                    sink.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_str(&line);
                    line.clear();
                }
            });
        }
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

    /// Its process id (to stop and continue it: a frozen peer).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything the server printed to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
