//! The peers' servers for the `client-*` cases: OpenSSH `sshd` (9 and 10), Dropbear, and
//! the paramiko and asyncssh servers in `conformance/peers/`. Each enables every algorithm
//! it implements and has a host key of every type, so the client's offer alone decides
//! what is negotiated.

use super::keys::{KeyType, Keys, chmod};
use crate::process::{run_limited, text};
use seashell_testkit::banner_ok;
use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a started server may take to accept connections.
const READY_LIMIT: Duration = Duration::from_secs(30);

/// How the client logs in to a peer server.
#[derive(Debug, Clone)]
pub enum Login {
    /// With the user key of [`Keys::user_key`].
    Key,
    /// With this password.
    Password(String),
}

/// A running peer server, killed when dropped.
#[derive(Debug)]
pub struct PeerServer {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
    dir: tempfile::TempDir,
    /// The user to log in as.
    pub user: String,
    /// How to log in.
    pub login: Login,
}

impl PeerServer {
    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything it printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A `known_hosts` file with every host key of `keys` for this server's address.
    pub fn known_hosts(&self, keys: &Keys) -> Result<PathBuf, String> {
        let path = self.dir.path().join("known_hosts");
        let host = format!("[127.0.0.1]:{}", self.port);
        std::fs::write(&path, keys.known_hosts(&host, &KeyType::ALL)?)
            .map_err(|e| format!("writing known_hosts: {e}"))?;
        Ok(path)
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The algorithms an OpenSSH binary implements: `ssh -Q what`, one name per line.
pub fn openssh_query(ssh: &Path, what: &str) -> Result<Vec<String>, String> {
    let ran = run_limited(
        Command::new(ssh).args(["-Q", what]),
        Duration::from_secs(10),
    )?;
    if !ran.status.success() {
        return Err(format!(
            "{} -Q {what}: {}",
            ssh.display(),
            text(&ran.stderr)
        ));
    }
    Ok(text(&ran.stdout).lines().map(str::to_owned).collect())
}

/// Starts `sshd` (absolute path) with every host key, every algorithm `ssh -Q` lists for
/// the same release, and `extra` config lines (e.g. OpenSSH 10's `SshdSessionPath`).
pub fn start_sshd(
    sshd: &Path,
    ssh: &Path,
    extra: &[String],
    keys: &Keys,
    user: &str,
) -> Result<PeerServer, String> {
    let all = |what: &str| openssh_query(ssh, what).map(|v| v.join(","));
    let key_sigs: Vec<String> = openssh_query(ssh, "key-sig")?
        .into_iter()
        .filter(|a| !a.contains("cert") && !a.starts_with("sk-") && !a.starts_with("webauthn"))
        .collect();
    let mut lines: Vec<String> = KeyType::ALL
        .iter()
        .map(|t| format!("HostKey {}", keys.host_key(*t).display()))
        .collect();
    lines.extend([
        "PidFile none".to_owned(),
        format!("AuthorizedKeysFile {}", keys.authorized_keys().display()),
        "StrictModes no".to_owned(),
        "UsePAM no".to_owned(),
        "PubkeyAuthentication yes".to_owned(),
        "PasswordAuthentication no".to_owned(),
        "KbdInteractiveAuthentication no".to_owned(),
        "PermitRootLogin yes".to_owned(),
        "UseDNS no".to_owned(),
        "PrintMotd no".to_owned(),
        "PrintLastLog no".to_owned(),
        "LogLevel VERBOSE".to_owned(),
        // The matrix connects from two test threads at once, with retries.
        "MaxStartups 64:30:128".to_owned(),
        format!("KexAlgorithms {}", all("kex")?),
        format!("Ciphers {}", all("cipher")?),
        format!("MACs {}", all("mac")?),
        format!("HostKeyAlgorithms {}", key_sigs.join(",")),
        "Compression yes".to_owned(),
    ]);
    lines.extend(extra.iter().cloned());
    let privsep = Path::new("/run/sshd");
    if !privsep.exists() && std::fs::create_dir_all(privsep).is_ok() {
        let _ = chmod(privsep, 0o755);
    }
    start_on_free_port(user, Login::Key, |dir, port| {
        let config = dir.join("sshd_config");
        let mut text = format!("ListenAddress 127.0.0.1\nPort {port}\n");
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&config, text).map_err(|e| format!("writing sshd_config: {e}"))?;
        let mut cmd = Command::new(sshd);
        cmd.arg("-D").arg("-e").arg("-f").arg(&config);
        Ok(cmd)
    })
}

/// Starts `dropbear` with the host keys `host_keys` (converted; Dropbear takes at most
/// four), logging in with `password`.
pub fn start_dropbear(
    dropbear: &Path,
    dropbearconvert: &Path,
    keys: &Keys,
    host_keys: &[KeyType],
    user: &str,
    password: &str,
) -> Result<PeerServer, String> {
    keys.convert_for_dropbear(dropbearconvert)?;
    start_on_free_port(user, Login::Password(password.to_owned()), |dir, port| {
        let mut cmd = Command::new(dropbear);
        cmd.args(["-F", "-E", "-p", &format!("127.0.0.1:{port}")]);
        for &t in host_keys {
            cmd.arg("-r").arg(keys.dropbear_host_key(t));
        }
        cmd.arg("-P").arg(dir.join("dropbear.pid"));
        Ok(cmd)
    })
}

/// Starts a Python server from `conformance/peers/` (it prints `listening on PORT`).
pub fn start_python(python: &Path, script: &Path, keys: &Keys) -> Result<PeerServer, String> {
    let dir = scratch()?;
    let mut cmd = Command::new(python);
    cmd.env("PYTHONWARNINGS", "ignore")
        .arg(script)
        .args(["--port", "0", "--authorized-keys"])
        .arg(keys.authorized_keys());
    for t in KeyType::ALL {
        cmd.arg("--host-key").arg(keys.host_key(t));
    }
    let user = crate::process::current_user();
    let (child, log, ready) = spawn_logged(&mut cmd)?;
    let mut server = PeerServer {
        child,
        port: 0,
        log,
        dir,
        user,
        login: Login::Key,
    };
    match ready.recv_timeout(READY_LIMIT) {
        Ok(port) => {
            server.port = port;
            Ok(server)
        }
        Err(_) => Err(format!(
            "{} printed no `listening on PORT` within {READY_LIMIT:?}; output:\n{}",
            script.display(),
            server.log()
        )),
    }
}

/// A scratch directory readable by every user.
fn scratch() -> Result<tempfile::TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix("seashell-matrix-peer-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    chmod(dir.path(), 0o755)?;
    Ok(dir)
}

/// A spawned server: the child, its collected output, and the ports it announced.
type Spawned = (Child, Arc<Mutex<String>>, mpsc::Receiver<u16>);

/// Spawns `cmd` with stdout and stderr collected into one log; the receiver gets the port
/// of the first `listening on PORT` line.
fn spawn_logged(cmd: &mut Command) -> Result<Spawned, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {:?}: {e}", cmd.get_program()))?;
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    for stream in streams.into_iter().flatten() {
        let sink = Arc::clone(&log);
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stream);
            let mut line = String::new();
            while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
                if let Some(port) = line
                    .trim()
                    .strip_prefix("listening on ")
                    .and_then(|p| p.parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_str(&line);
                line.clear();
            }
        });
    }
    Ok((child, log, rx))
}

/// Starts a server that takes its port on the command line: picks a free port, starts
/// it, waits for its `SSH-2.0-` banner; tries a few ports if another process takes one.
fn start_on_free_port(
    user: &str,
    login: Login,
    build: impl Fn(&Path, u16) -> Result<Command, String>,
) -> Result<PeerServer, String> {
    let mut last = String::new();
    for _ in 0..5 {
        let dir = scratch()?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("finding a free port: {e}"))?;
        let (child, log, _ready) = spawn_logged(&mut build(dir.path(), port)?)?;
        let mut server = PeerServer {
            child,
            port,
            log,
            dir,
            user: user.to_owned(),
            login: login.clone(),
        };
        match wait_banner(&mut server) {
            Ok(()) => return Ok(server),
            Err(e) if e.contains("in use") || e.contains("Cannot bind") => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(format!("no free port after 5 tries: {last}"))
}

/// Waits until the server sends an `SSH-2.0-` banner; `Err` has its log.
fn wait_banner(server: &mut PeerServer) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port));
    let deadline = Instant::now() + READY_LIMIT;
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!(
                "exited ({status}) before accepting connections; log:\n{}",
                server.log()
            ));
        }
        if banner_ok(&addr) && matches!(server.child.try_wait(), Ok(None)) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no SSH-2.0 banner on {addr} within {READY_LIMIT:?}; log:\n{}",
                server.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
