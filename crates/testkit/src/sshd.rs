//! A private OpenSSH server (`sshd`) on `127.0.0.1`, for integration tests.

use std::fmt::Write as _;
use std::fs::{File, Permissions};
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::keys::{KeyCache, KeyKind, cached_keys, write_file};
use crate::peer::{PeerError, find_program};

/// How long to wait for a started sshd to send its banner.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many fresh ports to try when sshd loses the race for one.
const PORT_ATTEMPTS: usize = 5;
/// The privilege-separation directory Debian's sshd checks for when run as root.
const PRIVSEP_DIR: &str = "/run/sshd";

/// Settings for [`Sshd::start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshdOptions {
    /// Whether `PasswordAuthentication` is `yes`. Default `false`.
    pub password_authentication: bool,
    /// Extra `sshd_config` lines, appended after the generated ones.
    ///
    /// A keyword set here (before any `Match` line) replaces the generated line(s) with
    /// that keyword, so for example `"Ciphers aes128-ctr"` or `"Subsystem sftp
    /// /usr/lib/openssh/sftp-server"` work as expected. Don't set `ListenAddress` or
    /// `Port`: [`Sshd::addr`] would then be wrong. `Match` blocks go last.
    pub extra_config: Vec<String>,
    /// sshd's `LogLevel`. Default `"VERBOSE"`; `"DEBUG3"` shows the negotiation.
    pub log_level: &'static str,
}

impl Default for SshdOptions {
    fn default() -> Self {
        SshdOptions {
            password_authentication: false,
            extra_config: Vec::new(),
            log_level: "VERBOSE",
        }
    }
}

/// A running OpenSSH server on `127.0.0.1` with its own scratch directory.
///
/// It has ed25519, RSA-3072 and ECDSA-P256 host keys, and authorises the matching user keys
/// ([`Sshd::user_key`]) for any login user. It runs in the foreground (`sshd -D -e`) with
/// its log in [`Sshd::log`]. Dropping it kills the server, waits for it, and removes the
/// scratch directory.
#[derive(Debug)]
pub struct Sshd {
    child: Child,
    port: u16,
    binary: PathBuf,
    config: PathBuf,
    log_path: PathBuf,
    host_public: Vec<(KeyKind, String)>,
    // Last field: dropped after the process has been killed in `Drop::drop`.
    dir: TempDir,
}

impl Sshd {
    /// Starts a private sshd on a free port of `127.0.0.1` and waits until it sends its
    /// `SSH-2.0-` banner.
    ///
    /// Returns [`PeerError::Missing`] if `sshd` (or `ssh-keygen`) is not installed, and
    /// [`PeerError::Failed`] (with sshd's output) if it is installed but won't start. Keys
    /// are generated once per process; later calls take about 20 ms.
    pub fn start(opts: SshdOptions) -> Result<Sshd, PeerError> {
        let binary = locate_sshd()?;
        let keys = cached_keys()?;
        let dir = tempfile::Builder::new()
            .prefix("seashell-sshd-")
            .tempdir()
            .map_err(|e| failed("creating the scratch directory", e))?;
        // The login user may not be us: sshd reads authorized_keys with the user's uid.
        std::fs::set_permissions(dir.path(), Permissions::from_mode(0o755))
            .map_err(|e| failed("making the scratch directory readable", e))?;
        write_keys(dir.path(), keys)?;
        ensure_privsep_dir();

        let config = dir.path().join("sshd_config");
        let log_path = dir.path().join("sshd.log");
        let host_public = KeyKind::ALL
            .iter()
            .map(|&k| (k, keys.host(k).public_line()))
            .collect();
        let mut last_error = String::new();
        for attempt in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            let text = config_text(dir.path(), port, &opts);
            write_file(&config, text.as_bytes(), 0o644)
                .map_err(|e| failed("writing sshd_config", e))?;
            if attempt == 0 {
                check_config(&binary, &config)?;
            }
            let mut child = spawn(&binary, &config, &log_path)?;
            match wait_ready(&mut child, port, &log_path) {
                Ok(()) => {
                    let sshd = Sshd {
                        child,
                        port,
                        binary,
                        config,
                        log_path,
                        host_public,
                        dir,
                    };
                    sshd.write_known_hosts()?;
                    return Ok(sshd);
                }
                Err(Ready::Failed(msg)) => return Err(PeerError::Failed(msg)),
                Err(Ready::PortTaken(log)) => last_error = log,
            }
        }
        Err(PeerError::Failed(format!(
            "sshd could not bind a free port in {PORT_ATTEMPTS} attempts; last log:\n{last_error}"
        )))
    }

    /// The TCP port sshd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address sshd listens on, as `"127.0.0.1:PORT"`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The scratch directory holding the config, keys, `known_hosts` and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The path of an unencrypted OpenSSH private key of this kind that sshd accepts for
    /// the login user. The public key is next to it, with `.pub` appended.
    pub fn user_key(&self, kind: KeyKind) -> PathBuf {
        self.dir().join(user_key_name(kind))
    }

    /// The host key's public line, `"type base64"` (no comment).
    pub fn host_public_key(&self, kind: KeyKind) -> String {
        self.host_public
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, line)| line.clone())
            .unwrap_or_default()
    }

    /// A `known_hosts` line for this host key: `"[127.0.0.1]:PORT type base64"`.
    pub fn known_hosts_line(&self, kind: KeyKind) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_public_key(kind))
    }

    /// A `known_hosts` file in [`Sshd::dir`] with a line for every host key.
    pub fn known_hosts_file(&self) -> PathBuf {
        self.dir().join("known_hosts")
    }

    /// The path of the generated `sshd_config`.
    pub fn config_path(&self) -> PathBuf {
        self.config.clone()
    }

    /// The absolute path of the sshd binary in use.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// sshd's log (its stderr) so far. Empty if it can't be read.
    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// sshd's effective configuration as printed by `sshd -T -f CONFIG`: one
    /// `keyword value` line each, keywords in lower case.
    pub fn effective_config(&self) -> Result<String, PeerError> {
        let out = Command::new(&self.binary)
            .arg("-T")
            .arg("-f")
            .arg(&self.config)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| failed("running sshd -T", e))?;
        if !out.status.success() {
            return Err(PeerError::Failed(format!(
                "sshd -T failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The user tests log in as: `SEASHELL_TEST_USER` if set, else the current user.
    ///
    /// sshd not running as root can only log in its own user, so `SEASHELL_TEST_USER`
    /// is only useful when tests run as root (as in CI).
    pub fn login_user(&self) -> String {
        match std::env::var("SEASHELL_TEST_USER") {
            Ok(user) if !user.is_empty() => user,
            _ => current_user().to_owned(),
        }
    }

    /// Writes [`Sshd::known_hosts_file`] for the current port.
    fn write_known_hosts(&self) -> Result<(), PeerError> {
        let text: String = KeyKind::ALL
            .iter()
            .map(|&k| self.known_hosts_line(k) + "\n")
            .collect();
        write_file(&self.known_hosts_file(), text.as_bytes(), 0o644)
            .map_err(|e| failed("writing known_hosts", e))
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // Only the listener is ours to kill; a session process ends with its connection.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why a started sshd is not ready.
enum Ready {
    /// It could not bind its port (another process took it); carries the log.
    PortTaken(String),
    /// Anything else; carries the message for [`PeerError::Failed`].
    Failed(String),
}

/// Waits until sshd on `port` sends an `SSH-2.0-` banner, or exits, or times out. On
/// error the child has been reaped.
fn wait_ready(child: &mut Child, port: u16, log_path: &Path) -> Result<(), Ready> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + READY_TIMEOUT;
    let read_log = || {
        std::fs::read(log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let log = read_log();
                if log.contains("Address already in use") || log.contains("Cannot bind any") {
                    return Err(Ready::PortTaken(log));
                }
                return Err(Ready::Failed(format!(
                    "sshd exited ({status}) before accepting connections; log:\n{log}"
                )));
            }
            Ok(None) => {}
            Err(e) => return Err(Ready::Failed(format!("waiting for sshd: {e}"))),
        }
        // Still running after the banner: it was our sshd that answered.
        if banner_ok(&addr) && matches!(child.try_wait(), Ok(None)) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Ready::Failed(format!(
                "sshd sent no SSH-2.0 banner on {addr} within {READY_TIMEOUT:?}; log:\n{}",
                read_log()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether `addr` accepts a connection and sends a line starting with `SSH-2.0-`: the
/// readiness check for any SSH server a test starts.
pub fn banner_ok(addr: &SocketAddr) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(addr, Duration::from_millis(500)) else {
        return false;
    };
    if stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .is_err()
    {
        return false;
    }
    let mut line = String::new();
    // `take` bounds the read if something other than sshd answers.
    let mut reader = BufReader::new(std::io::Read::take(stream, 256));
    reader.read_line(&mut line).is_ok() && line.starts_with("SSH-2.0-")
}

/// The absolute path of sshd: `/usr/sbin/sshd`, else `sshd` found by [`find_program`].
/// (sshd re-executes itself and refuses to run from a relative path.)
fn locate_sshd() -> Result<PathBuf, PeerError> {
    find_program("/usr/sbin/sshd")
        .or_else(|| find_program("sshd"))
        .ok_or(PeerError::Missing {
            peer: "sshd",
            install: "apt-get install openssh-server",
        })
}

/// Writes the host keys, user keys and `authorized_keys` into `dir`.
fn write_keys(dir: &Path, keys: &KeyCache) -> Result<(), PeerError> {
    let mut authorized = String::new();
    for kind in KeyKind::ALL {
        keys.host(kind)
            .write_to(dir, &host_key_name(kind))
            .map_err(|e| failed("writing a host key", e))?;
        keys.user(kind)
            .write_to(dir, &user_key_name(kind))
            .map_err(|e| failed("writing a user key", e))?;
        authorized.push_str(&keys.user(kind).public_line());
        authorized.push('\n');
    }
    write_file(&dir.join("authorized_keys"), authorized.as_bytes(), 0o644)
        .map_err(|e| failed("writing authorized_keys", e))
}

/// Creates sshd's privilege-separation directory if it is missing. Errors are ignored:
/// only root needs it, and `sshd -t` reports it clearly if it is still missing.
fn ensure_privsep_dir() {
    let dir = Path::new(PRIVSEP_DIR);
    if !dir.exists() && std::fs::create_dir_all(dir).is_ok() {
        let _ = std::fs::set_permissions(dir, Permissions::from_mode(0o755));
    }
}

/// A port of `127.0.0.1` that was free a moment ago.
fn free_port() -> Result<u16, PeerError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| failed("finding a free port", e))
}

/// The `sshd_config` text. Generated lines whose keyword `opts.extra_config` sets (outside
/// `Match` blocks) are left out, since sshd keeps the first value of most keywords.
fn config_text(dir: &Path, port: u16, opts: &SshdOptions) -> String {
    let d = dir.display();
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut defaults = vec!["ListenAddress 127.0.0.1".to_owned(), format!("Port {port}")];
    for kind in KeyKind::ALL {
        defaults.push(format!("HostKey {d}/{}", host_key_name(kind)));
    }
    defaults.extend([
        "PidFile none".to_owned(),
        format!("AuthorizedKeysFile {d}/authorized_keys"),
        "StrictModes no".to_owned(),
        "UsePAM no".to_owned(),
        "PubkeyAuthentication yes".to_owned(),
        format!(
            "PasswordAuthentication {}",
            yes_no(opts.password_authentication)
        ),
        "KbdInteractiveAuthentication no".to_owned(),
        "PermitRootLogin yes".to_owned(),
        "UseDNS no".to_owned(),
        "PrintMotd no".to_owned(),
        "PrintLastLog no".to_owned(),
        "Subsystem sftp internal-sftp".to_owned(),
        format!("LogLevel {}", opts.log_level),
    ]);
    let overridden: Vec<String> = opts
        .extra_config
        .iter()
        .map(|l| keyword(l))
        .take_while(|k| k != "match")
        .collect();
    let mut text = String::from("# Generated by seashell-testkit.\n");
    for line in defaults {
        if !overridden.contains(&keyword(&line)) {
            let _ = writeln!(text, "{line}");
        }
    }
    if !opts.extra_config.is_empty() {
        text.push_str("# extra_config\n");
        for line in &opts.extra_config {
            let _ = writeln!(text, "{line}");
        }
    }
    text
}

/// The lower-cased keyword of a config line (`Keyword value` or `Keyword=value`).
fn keyword(line: &str) -> String {
    line.trim_start()
        .split(|c: char| c.is_whitespace() || c == '=')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Runs `sshd -t -f CONFIG`, which reports config and key errors clearly.
fn check_config(binary: &Path, config: &Path) -> Result<(), PeerError> {
    let out = Command::new(binary)
        .arg("-t")
        .arg("-f")
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed("running sshd -t", e))?;
    if out.status.success() {
        return Ok(());
    }
    let config_text = std::fs::read_to_string(config).unwrap_or_default();
    Err(PeerError::Failed(format!(
        "sshd -t rejected the configuration ({}): {}\n{}:\n{config_text}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim(),
        config.display()
    )))
}

/// Starts `sshd -D -e -f CONFIG` with stderr going to `log_path`.
fn spawn(binary: &Path, config: &Path, log_path: &Path) -> Result<Child, PeerError> {
    let log = File::create(log_path).map_err(|e| failed("creating the sshd log", e))?;
    Command::new(binary)
        .args(["-D", "-e", "-f"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| failed(&format!("starting {}", binary.display()), e))
}

fn host_key_name(kind: KeyKind) -> String {
    format!("host_{}", kind.file_stem())
}

fn user_key_name(kind: KeyKind) -> String {
    format!("id_{}", kind.file_stem())
}

/// The current user's name from `id -un` (falling back to `$USER`), looked up once.
fn current_user() -> &'static str {
    static USER: OnceLock<String> = OnceLock::new();
    USER.get_or_init(|| {
        Command::new("id")
            .arg("-un")
            .stdin(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|u| !u.is_empty())
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "root".to_owned())
    })
}

fn failed(what: &str, e: std::io::Error) -> PeerError {
    PeerError::Failed(format!("{what}: {e}"))
}
