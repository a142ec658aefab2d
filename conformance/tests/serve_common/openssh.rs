//! OpenSSH's `ssh` against `seashell serve`: a private `ssh_config` (the test's user key,
//! strict host-key checking against a private `known_hosts`, batch mode), `ssh` processes
//! in the background (killed when dropped, their stderr kept in a file), and waiting for a
//! port, a socket path or a log line.
//!
//! Everything goes through `-F CONFIG`, so the `ssh` that `-J` starts for the jump host gets
//! the same settings.

use super::{HostKey, Keys, Serve};
use seashell_conformance::process::{Ran, current_user, run_limited, text};
use seashell_testkit::{require_peer, ssh_client};
use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A foreground `ssh` fails its test after this long.
pub const SSH_LIMIT: Duration = Duration::from_secs(60);

/// OpenSSH's `ssh` with a private configuration in the test's key directory.
pub struct OpenSsh {
    ssh: PathBuf,
    config: PathBuf,
    known_hosts: PathBuf,
    dir: PathBuf,
}

impl OpenSsh {
    /// `ssh` set up to log in with `keys`' user key; `None` when `ssh` is missing (outside
    /// CI).
    #[track_caller]
    pub fn new(keys: &Keys) -> Option<OpenSsh> {
        let ssh = require_peer(ssh_client())?;
        let dir = keys.path().to_path_buf();
        let known_hosts = dir.join("known_hosts");
        File::create(&known_hosts).expect("creating known_hosts");
        let config = dir.join("ssh_config");
        let text = format!(
            "Host *\n  User {}\n  IdentityFile {}\n  IdentitiesOnly yes\n  BatchMode yes\n  \
             StrictHostKeyChecking yes\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  \
             ExitOnForwardFailure yes\n  ConnectTimeout 20\n  ControlMaster no\n  ControlPath none\n",
            current_user(),
            keys.user_key().display(),
            known_hosts.display(),
        );
        std::fs::write(&config, text).expect("writing ssh_config");
        Some(OpenSsh {
            ssh,
            config,
            known_hosts,
            dir,
        })
    }

    /// Adds `serve`'s ed25519 host key to the `known_hosts` (`[127.0.0.1]:PORT`).
    pub fn trust(&self, keys: &Keys, serve: &Serve) {
        let mut f = File::options()
            .append(true)
            .open(&self.known_hosts)
            .expect("opening known_hosts");
        let key = keys.host_public(HostKey::Ed25519);
        writeln!(f, "[127.0.0.1]:{} {key}", serve.port()).expect("writing known_hosts");
    }

    /// `ssh -F CONFIG -p PORT ARGS 127.0.0.1 REMOTE...`, stdin from /dev/null.
    pub fn command(&self, serve: &Serve, args: &[&str], remote: &[&str]) -> Command {
        let mut cmd = Command::new(&self.ssh);
        cmd.arg("-F")
            .arg(&self.config)
            .args(["-p", &serve.port().to_string()])
            .args(args)
            .arg("127.0.0.1")
            .args(remote)
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `ssh` to completion (within [`SSH_LIMIT`]).
    pub fn run(&self, serve: &Serve, args: &[&str], remote: &[&str]) -> Ran {
        let mut cmd = self.command(serve, args, remote);
        run_limited(&mut cmd, SSH_LIMIT).unwrap_or_else(|e| panic!("ssh {args:?}: {e}"))
    }

    /// `ssh -W target` with `len` pattern bytes from `seed` on its stdin (then EOF): what
    /// came back on its stdout, or its stderr if it failed.
    pub fn stdio_forward(
        &self,
        serve: &Serve,
        target: &str,
        seed: u64,
        len: u64,
    ) -> Result<String, String> {
        let mut child = self
            .command(serve, &["-W", target], &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning ssh -W");
        let mut stdin = child.stdin.take().expect("ssh's stdin");
        // A refused channel ends ssh before it reads everything: a write error is fine.
        let writer = std::thread::spawn(move || {
            let _ = seashell_testkit::tcp_service::send_pattern(&mut stdin, seed, len);
        });
        let out = child.wait_with_output().expect("waiting for ssh -W");
        let _ = writer.join();
        if out.status.success() {
            Ok(text(&out.stdout))
        } else {
            Err(text(&out.stderr))
        }
    }

    /// `ssh -N -R [bind:]port:target` in the background, until the server listens (the
    /// port ssh prints for port 0; a connection accepted on `127.0.0.1` otherwise) or ssh
    /// gives up (`ExitOnForwardFailure`).
    pub fn remote_forward(
        &self,
        serve: &Serve,
        bind: &str,
        port: u16,
        target: &str,
    ) -> RemoteForward {
        let spec = match bind {
            "" => format!("{port}:{target}"),
            _ => format!("{bind}:{port}:{target}"),
        };
        let mut ssh = self.spawn(serve, &["-N", "-R", &spec]);
        let mut listening = None;
        let decided = wait_until(Duration::from_secs(20), || {
            listening = match port {
                0 => allocated_port(&ssh.stderr()),
                p => TcpStream::connect(("127.0.0.1", p)).is_ok().then_some(p),
            };
            listening.is_some() || ssh.exited().is_some()
        });
        match listening {
            Some(p) => RemoteForward::Listening(ssh, p),
            None if decided => RemoteForward::Refused(ssh.stderr()),
            None => panic!(
                "ssh -R {spec}: neither listening nor refused: {}",
                ssh.stderr()
            ),
        }
    }

    /// Starts `ssh` in the background (`-N` and forwards, typically); its stderr goes to a
    /// file, read with [`Background::stderr`].
    pub fn spawn(&self, serve: &Serve, args: &[&str]) -> Background {
        static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stderr = self.dir.join(format!("ssh-{n}.stderr"));
        let file = File::create(&stderr).expect("creating an stderr file");
        let child = self
            .command(serve, args, &[])
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawning ssh");
        Background { child, stderr }
    }
}

/// The port in ssh's `Allocated port N for remote forward to ...`.
pub fn allocated_port(stderr: &str) -> Option<u16> {
    stderr
        .split("Allocated port ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// What `ssh -R` came to ([`OpenSsh::remote_forward`]).
pub enum RemoteForward {
    /// The server listens on this port for the running `ssh`.
    Listening(Background, u16),
    /// `ssh` gave up; its stderr.
    Refused(String),
}

impl RemoteForward {
    /// The listening port; panics (with ssh's stderr) if it was refused.
    #[track_caller]
    pub fn port(&self) -> u16 {
        match self {
            RemoteForward::Listening(_, p) => *p,
            RemoteForward::Refused(err) => panic!("ssh -R was refused: {err}"),
        }
    }

    /// ssh's stderr if it was refused; panics if the server listens.
    #[track_caller]
    pub fn refusal(&self) -> &str {
        match self {
            RemoteForward::Listening(_, p) => panic!("ssh -R was allowed (port {p})"),
            RemoteForward::Refused(err) => err,
        }
    }
}

/// An `ssh` running in the background; killed (by its pid) when dropped.
pub struct Background {
    child: Child,
    stderr: PathBuf,
}

impl Background {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read(&self.stderr)
            .map(|b| text(&b))
            .unwrap_or_default()
    }

    /// Its exit status, if it has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `limit` for it to end.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let mut status = None;
        wait_until(limit, || {
            status = self.exited();
            status.is_some()
        });
        status
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` every 20 ms until it holds or `limit` passes; whether it held.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    l.local_addr().expect("local_addr").port()
}

/// Waits until something accepts connections on `addr` (the probe connection is closed at
/// once); panics with `ssh`'s stderr after 20 s.
pub fn wait_for_port(addr: &str, ssh: &Background) {
    let ok = wait_until(Duration::from_secs(20), || TcpStream::connect(addr).is_ok());
    assert!(ok, "nothing listens on {addr}; ssh said: {}", ssh.stderr());
}

/// Waits until something accepts connections on the Unix socket `path` (the probe
/// connection is closed at once); panics with `ssh`'s stderr after 20 s.
pub fn wait_for_path(path: &Path, ssh: &Background) {
    let ok = wait_until(Duration::from_secs(20), || {
        std::os::unix::net::UnixStream::connect(path).is_ok()
    });
    assert!(
        ok,
        "nothing listens on {}; ssh said: {}",
        path.display(),
        ssh.stderr()
    );
}

/// Waits up to 20 s for `serve`'s log to hold `needle`; the log.
pub fn wait_for_log(serve: &Serve, needle: &str) -> String {
    let mut log = String::new();
    let found = wait_until(Duration::from_secs(20), || {
        log = serve.log();
        log.contains(needle)
    });
    assert!(found, "no {needle:?} in the log:\n{log}");
    log
}
