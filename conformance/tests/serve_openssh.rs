//! Interop tests of `seashell serve` (the real binary) against the OpenSSH client `ssh`:
//! the host-key × cipher matrix, stdin/stdout/stderr and exit statuses, large transfers in
//! both directions, an interactive shell on a pty, password and keyboard-interactive login,
//! refused users and keys, bad options, and `seashell demo`.
//!
//! Each test starts its own server on `127.0.0.1:0` with host keys and a user key made by
//! `ssh-keygen` in a temporary directory, and reads the port from the server's
//! `listening on` line. The server is killed when the test ends (also on panic).
//!
//! The binary is built once per run with `cargo build -p seashell-cli` into the same target
//! directory and profile as this test (set `SEASHELL_BIN` to use another one).

use seashell_conformance::seashell_bin;
use seashell_conformance::{CIPHERS, HOST_KEY_ALGORITHMS};
use seashell_testkit::{PeerError, find_program, require_peer, ssh_client};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A hung client or server fails its test after this long.
const LIMIT: Duration = Duration::from_secs(60);
const MATRIX_COMMAND: &str = "echo out; echo err >&2; exit 3";
const PASSWORD: &str = "correct horse battery";

/// `ssh` and `ssh-keygen`, or `None` when they are missing outside CI.
#[track_caller]
fn peers() -> Option<(PathBuf, PathBuf)> {
    let ssh = require_peer(ssh_client())?;
    let keygen = require_peer(find_program("ssh-keygen").ok_or(PeerError::Missing {
        peer: "ssh-keygen",
        install: "apt-get install openssh-client",
    }))?;
    Some((ssh, keygen))
}

/// The user running the tests (the server runs commands as this user anyway).
fn current_user() -> String {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .expect("running id -un");
    let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(!name.is_empty(), "id -un printed nothing");
    name
}

fn keygen(keygen: &Path, dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new(keygen)
        .args(["-q", "-N", "", "-C", name])
        .args(args)
        .arg("-f")
        .arg(&path)
        .status()
        .expect("running ssh-keygen");
    assert!(status.success(), "ssh-keygen {args:?} failed");
    path
}

/// Kills a process we started (by its pid) if it is still running after [`LIMIT`]; keep
/// the returned guard alive while waiting (dropping it disconnects the channel: no kill).
fn watchdog(pid: u32, what: String) -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(LIMIT) {
            eprintln!("{what}: still running after {LIMIT:?}; killing pid {pid}");
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    tx
}

/// Runs `cmd` to completion under a [`watchdog`].
fn run(cmd: &mut Command, what: &str) -> Output {
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: spawning: {e}"));
    let _dog = watchdog(child.id(), what.to_owned());
    let started = Instant::now();
    let out = child.wait_with_output().expect("waiting for a child");
    assert!(started.elapsed() < LIMIT, "{what}: timed out");
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A running `seashell serve` with its keys; killed on drop.
struct Served {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    ssh: PathBuf,
    user: String,
    user_key: PathBuf,
    known_hosts: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Host key types to generate: `(file name, ssh-keygen arguments)`.
const ED25519: (&str, &[&str]) = ("host_ed25519", &["-t", "ed25519"]);
const ECDSA: (&str, &[&str]) = ("host_ecdsa", &["-t", "ecdsa", "-b", "256"]);
const RSA: (&str, &[&str]) = ("host_rsa", &["-t", "rsa", "-b", "2048"]);

impl Served {
    /// Starts a server with these host keys, the user key authorized, and `extra` args.
    fn start(host_keys: &[(&str, &[&str])], extra: &[String]) -> Option<Served> {
        let (ssh, kg) = peers()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let user_key = keygen(&kg, dir.path(), "user_ed25519", &["-t", "ed25519"]);
        let authorized = dir.path().join("authorized_keys");
        let user_pub = std::fs::read_to_string(user_key.with_extension("pub")).expect("user .pub");
        // An options prefix must be parsed and must not stop the key from working.
        std::fs::write(
            &authorized,
            format!("# test keys\nno-agent-forwarding {user_pub}"),
        )
        .expect("writing authorized_keys");
        let user = current_user();
        let mut cmd = Command::new(seashell_bin());
        cmd.args(["serve", "-v", "--listen", "127.0.0.1:0", "--user", &user])
            .arg("--authorized-keys")
            .arg(&authorized);
        let mut host_pubs = Vec::new();
        for (name, args) in host_keys {
            let key = keygen(&kg, dir.path(), name, args);
            host_pubs.push(std::fs::read_to_string(key.with_extension("pub")).expect(".pub"));
            cmd.arg("--host-key").arg(&key);
        }
        cmd.args(extra)
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning seashell serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if line.contains("listening on ") {
                    let _ = tx.send(line.clone());
                }
                let mut l = sink.lock().unwrap_or_else(|p| p.into_inner());
                l.push_str(&line);
                l.push('\n');
            }
        });
        let mut served = Served {
            child,
            port: 0,
            dir,
            ssh,
            user,
            user_key,
            known_hosts: PathBuf::new(),
            log,
        };
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(_) => panic!("seashell serve did not start:\n{}", served.log()),
        };
        served.port = parse_port(&line).unwrap_or_else(|| panic!("no port in {line:?}"));
        let known: String = host_pubs
            .iter()
            .map(|p| format!("[127.0.0.1]:{} {}", served.port, p.trim()))
            .collect::<Vec<_>>()
            .join("\n");
        served.known_hosts = served.dir.path().join("known_hosts");
        std::fs::write(&served.known_hosts, known + "\n").expect("writing known_hosts");
        Some(served)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `ssh` to the server with strict host-key checking, no user name or key yet.
    fn ssh_base(&self, extra: &[&str]) -> Command {
        let mut cmd = Command::new(&self.ssh);
        cmd.args(["-F", "/dev/null", "-p", &self.port.to_string()])
            .args(["-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"])
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .args(extra)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("SSH_ASKPASS")
            .env_remove("SSH_ASKPASS_REQUIRE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// `ssh` in batch mode as `user` with `key`, running `command` (or a shell).
    fn ssh_with(&self, extra: &[&str], key: &Path, user: &str, command: Option<&str>) -> Command {
        let mut cmd = self.ssh_base(extra);
        cmd.args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i"])
            .arg(key)
            .args(["-l", user, "127.0.0.1"])
            .args(command);
        cmd
    }

    /// `ssh` in batch mode with the authorized user key, running `command`.
    fn ssh(&self, extra: &[&str], command: Option<&str>) -> Command {
        self.ssh_with(extra, &self.user_key, &self.user, command)
    }
}

/// `seashell ARGS` with null stdin and captured output.
fn seashell(args: &[&str]) -> Command {
    let mut cmd = Command::new(seashell_bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The port from `seashell serve: listening on 127.0.0.1:PORT (...)`.
fn parse_port(line: &str) -> Option<u16> {
    let addr = line
        .split("listening on ")
        .nth(1)?
        .split_whitespace()
        .next()?;
    addr.rsplit_once(':')?.1.parse().ok()
}

#[test]
fn matrix_host_key_by_cipher() {
    let Some(s) = Served::start(&[ED25519, ECDSA, RSA], &[]) else {
        return;
    };
    let mut failures = Vec::new();
    for hk in HOST_KEY_ALGORITHMS {
        for cipher in CIPHERS {
            let hka = format!("HostKeyAlgorithms={hk}");
            let c = format!("Ciphers={cipher}");
            let o = run(
                &mut s.ssh(&["-o", &hka, "-o", &c], Some(MATRIX_COMMAND)),
                &format!("{hk}/{cipher}"),
            );
            if o.stdout != b"out\n" || o.stderr != b"err\n" || o.status.code() != Some(3) {
                failures.push(format!(
                    "{hk} / {cipher}: stdout {:?}, stderr {:?}, status {:?}",
                    text(&o.stdout),
                    text(&o.stderr),
                    o.status.code()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{failures:#?}\nserver log:\n{}",
        s.log()
    );
}

#[test]
fn stdin_passes_and_signals_give_255() {
    let Some(s) = Served::start(&[ED25519], &[]) else {
        return;
    };
    let mut cmd = s.ssh(&[], Some("cat; exit 0"));
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning ssh");
    let _dog = watchdog(child.id(), "cat".into());
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"abc")
        .expect("writing stdin");
    let o = child.wait_with_output().expect("waiting for ssh");
    assert_eq!(text(&o.stdout), "abc", "stderr {:?}", text(&o.stderr));
    assert_eq!(o.status.code(), Some(0));

    let o = run(&mut s.ssh(&[], Some("kill -TERM $$")), "kill");
    assert_eq!(o.status.code(), Some(255), "stderr {:?}", text(&o.stderr));
    assert!(s.log().contains("killed by signal TERM"), "{}", s.log());
}

#[test]
fn upload_64_mib_to_sha256sum() {
    let Some(s) = Served::start(&[ED25519], &[]) else {
        return;
    };
    let file = s.dir.path().join("upload.bin");
    let make = format!(
        "head -c {} /dev/urandom > upload.bin && sha256sum < upload.bin",
        64 << 20
    );
    let mut local = Command::new("sh");
    local.args(["-c", &make]).current_dir(s.dir.path());
    let want = text(&run(local.stdout(Stdio::piped()), "making the upload").stdout);
    let mut cmd = s.ssh(&[], Some("sha256sum"));
    cmd.stdin(std::fs::File::open(&file).expect("opening the upload"));
    let t = Instant::now();
    let o = run(&mut cmd, "upload");
    eprintln!("64 MiB upload: {:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(0), "stderr {:?}", text(&o.stderr));
    assert_eq!(text(&o.stdout), want, "the digests differ");
}

/// The bytes of `seq 1 N`, produced incrementally.
struct Seq {
    next: u64,
    buf: Vec<u8>,
}

impl Seq {
    /// Checks that `got` is what comes next.
    fn check(&mut self, got: &[u8]) -> bool {
        while self.buf.len() < got.len() {
            self.buf
                .extend_from_slice(format!("{}\n", self.next).as_bytes());
            self.next += 1;
        }
        let ok = self.buf.get(..got.len()) == Some(got);
        self.buf.drain(..got.len());
        ok
    }
}

#[test]
fn download_256_mib_byte_exact() {
    let Some(s) = Served::start(&[ED25519], &[]) else {
        return;
    };
    const N: u64 = 256 << 20;
    let mut child = s
        .ssh(&[], Some(&format!("seq 1 40000000 | head -c {N}")))
        .spawn()
        .expect("spawning ssh");
    let _dog = watchdog(child.id(), "download".into());
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seq = Seq {
        next: 1,
        buf: Vec::new(),
    };
    let mut buf = vec![0u8; 256 * 1024];
    let mut got: u64 = 0;
    let t = Instant::now();
    loop {
        let n = stdout.read(&mut buf).expect("reading ssh's stdout");
        if n == 0 {
            break;
        }
        assert!(seq.check(&buf[..n]), "wrong bytes at or after offset {got}");
        got += n as u64;
    }
    eprintln!("256 MiB download: {:?}", t.elapsed());
    let o = child.wait_with_output().expect("waiting for ssh");
    assert_eq!(got, N, "stderr {:?}", text(&o.stderr));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn interactive_shell_on_a_pty() {
    let Some(s) = Served::start(&[ED25519], &[]) else {
        return;
    };
    let mut cmd = s.ssh(&["-tt"], None);
    cmd.stdin(Stdio::piped()).env("TERM", "dumb");
    let mut child = cmd.spawn().expect("spawning ssh -tt");
    let _dog = watchdog(child.id(), "ssh -tt".into());
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"echo hello-$((40+2))\nexit 7\n")
        .expect("writing to ssh");
    let o = child.wait_with_output().expect("waiting for ssh");
    let out = text(&o.stdout);
    assert!(
        out.contains("hello-42"),
        "stdout {out:?}\nlog:\n{}",
        s.log()
    );
    assert_eq!(o.status.code(), Some(7), "stdout {out:?}");
    assert!(s.log().contains("shell with pty"), "{}", s.log());
}

/// An askpass script printing `answer`.
fn askpass(dir: &Path, name: &str, answer: &str) -> PathBuf {
    let script = dir.join(name);
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' '{answer}'\n")).expect("askpass");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    script
}

#[test]
fn password_and_keyboard_interactive() {
    let Some(dir) = peers().map(|_| tempfile::tempdir().expect("temp dir")) else {
        return;
    };
    let pw_file = dir.path().join("password");
    std::fs::write(&pw_file, format!("{PASSWORD}\n")).expect("password file");
    std::fs::set_permissions(&pw_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let extra = ["--password-file".to_owned(), pw_file.display().to_string()];
    let Some(s) = Served::start(&[ED25519], &extra) else {
        return;
    };
    let right = askpass(dir.path(), "right", PASSWORD);
    let wrong = askpass(dir.path(), "wrong", "not the password");
    for method in ["password", "keyboard-interactive"] {
        for (script, want) in [(&right, 0), (&wrong, 255)] {
            let pref = format!("PreferredAuthentications={method}");
            let mut cmd = s.ssh_base(&["-o", "PubkeyAuthentication=no", "-o", &pref]);
            cmd.args([
                "-o",
                "NumberOfPasswordPrompts=1",
                "-l",
                &s.user,
                "127.0.0.1",
                "echo in",
            ])
            .env("SSH_ASKPASS", script)
            .env("SSH_ASKPASS_REQUIRE", "force");
            let o = run(&mut cmd, method);
            assert_eq!(
                o.status.code(),
                Some(want),
                "{method} with {}: stderr {:?}\nlog:\n{}",
                script.display(),
                text(&o.stderr),
                s.log()
            );
            if want == 0 {
                assert_eq!(text(&o.stdout), "in\n");
            }
        }
    }
}

#[test]
fn other_users_and_keys_are_refused() {
    let Some(s) = Served::start(
        &[ED25519],
        &["-o".into(), "PasswordAuthentication=no".into()],
    ) else {
        return;
    };
    let mut cmd = s.ssh_with(&[], &s.user_key, "seashell-nobody", Some("true"));
    let o = run(&mut cmd, "other user");
    assert_eq!(o.status.code(), Some(255), "an unlisted user got in");
    let (_, kg) = peers().expect("peers");
    let stranger = keygen(&kg, s.dir.path(), "stranger", &["-t", "ed25519"]);
    let mut cmd = s.ssh_with(&[], &stranger, &s.user, Some("true"));
    let o = run(&mut cmd, "unknown key");
    assert_eq!(o.status.code(), Some(255), "an unlisted key got in");
    assert!(
        text(&o.stderr).contains("Permission denied"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn bad_arguments_exit_255() {
    for args in [
        &["serve", "-o", "PermitRootLogin=yes"][..],
        &["serve", "--bogus"],
        &["serve", "--host-key", "/nonexistent/key"],
        &["demo", "--bytes", "lots"],
    ] {
        let o = run(&mut seashell(args), &format!("{args:?}"));
        assert_eq!(o.status.code(), Some(255), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).starts_with("seashell "),
            "{}",
            text(&o.stderr)
        );
    }
}

#[test]
fn demo_runs() {
    let t = Instant::now();
    let o = run(&mut seashell(&["demo", "--bytes", "8M"]), "demo");
    let out = text(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout {out}\nstderr {}",
        text(&o.stderr)
    );
    for want in [
        "negotiated",
        "stdout: hello from ",
        "stderr: this line went to stderr",
        "status: exit 0",
        "MB/s (verified)",
        "seashell demo: ok",
    ] {
        assert!(out.contains(want), "{want:?} missing from:\n{out}");
    }
    for cipher in CIPHERS {
        assert!(
            out.contains(&format!("== {cipher} ==")),
            "{cipher} missing:\n{out}"
        );
    }
    eprintln!("demo (8 MiB per cipher): {:?}", t.elapsed());
}
