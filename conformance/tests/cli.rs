//! Interop tests of the `seashell` command (crate `seashell-cli`) against a private OpenSSH
//! sshd, through the real binary: the cipher × host-key matrix, user key types, password
//! through `SSH_ASKPASS`, host-key checking, streaming in both directions, exit statuses.
//!
//! The binary is built once per run with `cargo build -p seashell-cli` into the same target
//! directory and profile as this test (set `SEASHELL_BIN` to use another one).

use seashell_conformance::seashell_bin;
use seashell_conformance::{
    CIPHERS, HOST_KEY_ALGORITHMS, KeyKind, Sshd, SshdOptions, password_credentials,
    skip_if_disabled, start_sshd, wait_for_log,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A hung client fails its test after this long.
const LIMIT: Duration = Duration::from_secs(120);

/// How long to wait for sshd to log the end of a connection.
const LOG_WAIT: Duration = Duration::from_secs(5);
const MATRIX_COMMAND: &str = "echo out; echo err >&2; exit 3";

/// A `seashell` command with a clean environment: an empty HOME, no askpass, no display.
fn seashell(home: &Path) -> Command {
    let mut cmd = Command::new(seashell_bin());
    cmd.env("HOME", home)
        .env_remove("SSH_ASKPASS")
        .env_remove("SSH_ASKPASS_REQUIRE")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Port, key, known_hosts file, `StrictHostKeyChecking` mode, and batch mode.
fn client_args(sshd: &Sshd, key: KeyKind, known: &Path, strict: &str) -> Vec<String> {
    let mut args = vec!["-p".to_owned(), sshd.port().to_string(), "-i".to_owned()];
    args.push(sshd.user_key(key).display().to_string());
    for o in [
        format!("UserKnownHostsFile={}", known.display()),
        format!("StrictHostKeyChecking={strict}"),
        "BatchMode=yes".to_owned(),
    ] {
        args.extend(["-o".to_owned(), o]);
    }
    args
}

/// The usual arguments: port, key, `sshd`'s known_hosts, strict checking, batch mode.
fn base_args(sshd: &Sshd, key: KeyKind) -> Vec<String> {
    client_args(sshd, key, &sshd.known_hosts_file(), "yes")
}

/// `seashell` with [`base_args`] logging in to `sshd` to run `command`.
fn login_cmd(sshd: &Sshd, home: &Path, key: KeyKind, command: &str) -> Command {
    let mut cmd = seashell(home);
    cmd.args(base_args(sshd, key))
        .arg(destination(sshd))
        .arg(command);
    cmd
}

/// Like [`login_cmd`] with the ed25519 key and `extra` arguments before the destination.
fn login_cmd_with(sshd: &Sshd, home: &Path, extra: &[String], command: &str) -> Command {
    let mut cmd = seashell(home);
    cmd.args(base_args(sshd, KeyKind::Ed25519)).args(extra);
    cmd.arg(destination(sshd)).arg(command);
    cmd
}

/// `seashell` checking the ed25519 host key of `sshd` against `known` in `strict` mode.
fn host_key_cmd(sshd: &Sshd, home: &Path, known: &Path, strict: &str, command: &str) -> Command {
    let mut cmd = seashell(home);
    cmd.args(client_args(sshd, KeyKind::Ed25519, known, strict))
        .args([
            "-o",
            "HostKeyAlgorithms=ssh-ed25519",
            &destination(sshd),
            command,
        ]);
    cmd
}

/// `-o Key=Value` arguments.
fn opts(pairs: &[(&str, &str)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(k, v)| ["-o".to_owned(), format!("{k}={v}")])
        .collect()
}

fn destination(sshd: &Sshd) -> String {
    format!("{}@127.0.0.1", sshd.login_user())
}

/// Waits for `child` with [`LIMIT`], collecting its output; kills it and fails on timeout.
fn finish(child: Child, what: &str) -> Output {
    let pid = child.id().to_string();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    let deadline = Instant::now() + LIMIT;
    while !waiter.is_finished() {
        if Instant::now() > deadline {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("{what}: seashell did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let waited = waiter.join().expect("waiter thread");
    waited.expect("waiting for seashell")
}

fn run(cmd: &mut Command, what: &str) -> Output {
    finish(cmd.spawn().expect("spawning seashell"), what)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Writes an askpass script that records its argument (the prompt) in `prompt_file` and
/// prints `password`.
fn askpass_script(dir: &Path, name: &str, password: &str, prompt_file: &Path) -> PathBuf {
    let script = dir.join(name);
    let quoted = password.replace('\'', "'\\''");
    let body = format!(
        "#!/bin/sh\nprintf '%s' \"$1\" > '{}'\nprintf '%s\\n' '{quoted}'\n",
        prompt_file.display()
    );
    std::fs::write(&script, body).expect("writing askpass");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700))
        .expect("chmod askpass");
    script
}

/// Checks the matrix command's output; `Err` says what differed.
fn check_out_err_3(o: &Output) -> Result<(), String> {
    if o.stdout == b"out\n" && o.stderr == b"err\n" && o.status.code() == Some(3) {
        Ok(())
    } else {
        Err(format!(
            "stdout {:?}, stderr {:?}, status {:?}; want \"out\\n\", \"err\\n\", 3",
            text(&o.stdout),
            text(&o.stderr),
            o.status.code()
        ))
    }
}

fn start(opts: SshdOptions) -> Option<(Sshd, tempfile::TempDir)> {
    let sshd = start_sshd(opts)?;
    let home = tempfile::tempdir().expect("temp HOME");
    Some((sshd, home))
}

/// The `SHA256:...` fingerprint of a public key line, from `ssh-keygen -l`.
fn fingerprint(public_line: &str, dir: &Path) -> String {
    let file = dir.join("fp.pub");
    std::fs::write(&file, format!("{public_line}\n")).expect("writing a public key");
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&file)
        .output()
        .expect("running ssh-keygen -l");
    let line = text(&out.stdout);
    line.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .unwrap_or_else(|| panic!("no fingerprint in ssh-keygen output {line:?}"))
        .to_owned()
}

#[test]
fn matrix_cipher_by_host_key_algorithm() {
    let Some((sshd, home)) = start(SshdOptions {
        log_level: "DEBUG1",
        ..SshdOptions::default()
    }) else {
        return;
    };
    let mut failures = Vec::new();
    for cipher in CIPHERS {
        for hk in HOST_KEY_ALGORITHMS {
            if skip_if_disabled(&format!("cli/matrix/{cipher}/{hk}")) {
                continue;
            }
            let log_start = sshd.log().len();
            let pins = opts(&[("Ciphers", cipher), ("HostKeyAlgorithms", hk)]);
            let mut cmd = login_cmd_with(&sshd, home.path(), &pins, MATRIX_COMMAND);
            let o = run(&mut cmd, &format!("cli/matrix/{cipher}/{hk}"));
            // At DEBUG1 the session process sends sshd's own debug lines down the channel's
            // stderr before running the command; they are not the command's output.
            let stderr = strip_lines(&o.stderr, |l| {
                l.starts_with("debug1: ") && l.ends_with('\r')
            });
            let mut r = check_out_err_3(&Output { stderr, ..o });
            if r.is_ok() {
                // sshd at DEBUG1 logs what was negotiated (the session may log after we exit).
                let want = [
                    format!("kex: host key algorithm: {hk}"),
                    format!("kex: server->client cipher: {cipher}"),
                ];
                let log = wait_for_log(&sshd, LOG_WAIT, |l| {
                    want.iter()
                        .all(|w| l.get(log_start..).unwrap_or_default().contains(w.as_str()))
                });
                let new = log.get(log_start..).unwrap_or_default();
                if let Some(missing) = want.iter().find(|w| !new.contains(w.as_str())) {
                    r = Err(format!("sshd log lacks {missing:?}"));
                }
            }
            if let Err(e) = r {
                failures.push(format!("cli/matrix/{cipher}/{hk}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "failures:\n{}\nsshd log:\n{}",
        failures.join("\n"),
        sshd.log()
    );
}

#[test]
fn rsa_and_ecdsa_user_keys() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    for kind in [KeyKind::Rsa, KeyKind::EcdsaP256] {
        let mut cmd = login_cmd(&sshd, home.path(), kind, MATRIX_COMMAND);
        let o = run(&mut cmd, "cli/user-key");
        if let Err(e) = check_out_err_3(&o) {
            panic!("{kind:?} user key: {e}\nsshd log:\n{}", sshd.log());
        }
    }
}

#[test]
fn verbose_names_the_negotiated_algorithms_and_compression() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    let extra = opts(&[
        ("Ciphers", "aes128-ctr"),
        ("MACs", "hmac-sha2-256-etm@openssh.com"),
    ]);
    let mut args = vec!["-C".to_owned(), "-v".to_owned()];
    args.extend(extra);
    let mut cmd = login_cmd_with(&sshd, home.path(), &args, "echo compressed");
    let o = run(&mut cmd, "cli/verbose");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(text(&o.stdout), "compressed\n");
    for want in [
        "kex: server->client cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com compression: zlib@openssh.com",
        "kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com compression: zlib@openssh.com",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
}

#[test]
fn password_through_askpass() {
    let Some((user, password)) = password_credentials("cli/password") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let prompt_file = dir.path().join("prompt");
    let right = askpass_script(dir.path(), "right", &password, &prompt_file);
    let wrong = askpass_script(
        dir.path(),
        "wrong",
        &format!("{password}-not"),
        &prompt_file,
    );
    let Some((sshd, home)) = start(SshdOptions {
        password_authentication: true,
        ..SshdOptions::default()
    }) else {
        return;
    };
    let login = |script: &Path, what: &str| {
        let mut cmd = seashell(home.path());
        cmd.env("SSH_ASKPASS", script)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .args(["-p", &sshd.port().to_string(), "-o"])
            .arg(format!(
                "UserKnownHostsFile={}",
                sshd.known_hosts_file().display()
            ))
            .args(["-o", "PubkeyAuthentication=no", "-l", &user, "127.0.0.1"])
            .arg(MATRIX_COMMAND);
        run(&mut cmd, what)
    };
    let o = login(&right, "cli/password");
    if let Err(e) = check_out_err_3(&o) {
        panic!("password login: {e}\nsshd log:\n{}", sshd.log());
    }
    let o = login(&wrong, "cli/wrong-password");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(255), "stderr: {err}");
    assert!(
        err.starts_with("seashell: ") && err.to_lowercase().contains("permission denied"),
        "stderr: {err}"
    );
    let prompt = std::fs::read_to_string(&prompt_file).unwrap_or_default();
    assert_eq!(prompt, format!("{user}@127.0.0.1's password: "));
}

/// Checks a refused connection: status 255, no output, a `seashell: ` message naming the
/// server key's fingerprint and the known_hosts file.
fn assert_host_key_refused(o: &Output, sshd: &Sshd, known: &Path, dir: &Path) {
    let err = text(&o.stderr);
    let real = fingerprint(&sshd.host_public_key(KeyKind::Ed25519), dir);
    assert_eq!(o.status.code(), Some(255), "stderr: {err}");
    assert!(o.stdout.is_empty(), "stdout: {}", text(&o.stdout));
    assert!(
        err.starts_with("seashell: ") && err.contains("host key"),
        "stderr: {err}"
    );
    assert!(
        err.contains(&real),
        "stderr lacks the server key's fingerprint {real}: {err}"
    );
    let path = known.display().to_string();
    assert!(
        err.contains(&path),
        "stderr lacks the known_hosts path {path}: {err}"
    );
}

#[test]
fn changed_host_key_is_refused_before_authentication() {
    let opts = SshdOptions {
        log_level: "DEBUG1",
        ..SshdOptions::default()
    };
    let Some((sshd, home)) = start(opts) else {
        return;
    };
    // Another ed25519 key (the user key) recorded for this host.
    let user_pub = format!("{}.pub", sshd.user_key(KeyKind::Ed25519).display());
    let other = std::fs::read_to_string(user_pub).expect("reading the user public key");
    let other: Vec<&str> = other.split_whitespace().take(2).collect();
    let known = home.path().join("known_hosts");
    let line = format!("[127.0.0.1]:{} {}\n", sshd.port(), other.join(" "));
    std::fs::write(&known, line).expect("writing known_hosts");
    let mut cmd = host_key_cmd(&sshd, home.path(), &known, "yes", "echo no");
    let o = run(&mut cmd, "cli/changed-host-key");
    assert_host_key_refused(&o, &sshd, &known, home.path());
    // sshd saw the connection end before any authentication request.
    let log = wait_for_log(&sshd, LOG_WAIT, |l| {
        l.contains("Disconnected from") || l.contains("Connection closed by")
    });
    for marker in [
        "userauth-request",
        "Accepted",
        "Failed",
        "Postponed",
        "session opened",
    ] {
        assert!(
            !log.contains(marker),
            "sshd log shows {marker:?} after a refused host key:\n{log}"
        );
    }
}

#[test]
fn accept_new_records_the_key_then_strict_works() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    let known = home.path().join("kh").join("known_hosts");
    let login = |mode: &str| {
        let mut cmd = host_key_cmd(&sshd, home.path(), &known, mode, MATRIX_COMMAND);
        run(&mut cmd, &format!("cli/strict-{mode}"))
    };
    let o = login("accept-new");
    // OpenSSH's "Warning: Permanently added ..." note is expected on stderr.
    let stderr = strip_lines(&o.stderr, |l| l.starts_with("Warning: Permanently added"));
    check_out_err_3(&Output { stderr, ..o }).unwrap_or_else(|e| panic!("accept-new: {e}"));
    let recorded = std::fs::read_to_string(&known).expect("known_hosts written");
    let want = format!(
        "[127.0.0.1]:{} {}",
        sshd.port(),
        sshd.host_public_key(KeyKind::Ed25519)
    );
    assert!(
        recorded.contains(&want),
        "known_hosts {recorded:?} lacks {want:?}"
    );
    check_out_err_3(&login("yes")).unwrap_or_else(|e| panic!("second run, strict: {e}"));
}

/// `stderr` without the lines `drop` matches.
fn strip_lines(stderr: &[u8], drop: impl Fn(&str) -> bool) -> Vec<u8> {
    text(stderr)
        .split_inclusive('\n')
        .filter(|l| !drop(l.strip_suffix('\n').unwrap_or(l)))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn unknown_host_with_strict_checking_fails() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    let known = home.path().join("empty_known_hosts");
    std::fs::write(&known, "").expect("writing known_hosts");
    let mut cmd = host_key_cmd(&sshd, home.path(), &known, "yes", "echo no");
    let o = run(&mut cmd, "cli/unknown-host");
    assert_host_key_refused(&o, &sshd, &known, home.path());
    let after = std::fs::read_to_string(&known).unwrap_or_default();
    assert_eq!(after, "", "strict mode wrote known_hosts");
}

#[test]
fn upload_256_mib_while_reading_output() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    let mut cmd = login_cmd(&sshd, home.path(), KeyKind::Ed25519, "sha256sum");
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning seashell");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let feeder = std::thread::spawn(move || {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..256 {
            stdin.write_all(&zeros)?;
        }
        Ok::<(), std::io::Error>(())
    });
    let o = finish(child, "cli/upload");
    let fed = feeder.join().expect("feeder thread");
    assert!(
        fed.is_ok(),
        "writing stdin failed: {fed:?}; stderr: {}",
        text(&o.stderr)
    );
    let out = text(&o.stdout);
    assert!(
        out.starts_with("a6d72ac7690f53be6ae46ba88506bd97302a093f7108472bd9efc3cefda06484 "),
        "stdout {out:?}, stderr {:?}",
        text(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn download_1_gib_byte_exact() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    let mut cmd = login_cmd(
        &sshd,
        home.path(),
        KeyKind::Ed25519,
        "head -c 1073741824 /dev/zero",
    );
    let mut child = cmd.spawn().expect("spawning seashell");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let counter = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        let (mut total, mut nonzero) = (0u64, false);
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    nonzero |= buf.get(..n).is_some_and(|b| b.iter().any(|&x| x != 0));
                    total += n as u64;
                }
            }
        }
        (total, nonzero)
    });
    let o = finish(child, "cli/download");
    let (total, nonzero) = counter.join().expect("counter thread");
    assert_eq!(total, 1 << 30, "stderr: {}", text(&o.stderr));
    assert!(!nonzero, "the download contained non-zero bytes");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn output_streams_before_the_command_ends() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    let mut cmd = login_cmd(
        &sshd,
        home.path(),
        KeyKind::Ed25519,
        "echo first; echo first-err >&2; sleep 3; echo second",
    );
    let mut child = cmd.spawn().expect("spawning seashell");
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("reading the first line");
    assert_eq!(line, "first\n");
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the first line came only at the end"
    );
    let mut err = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut eline = String::new();
    err.read_line(&mut eline).expect("reading stderr");
    assert_eq!(eline, "first-err\n");
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "stderr came only at the end"
    );
    child.stdout = Some(out.into_inner());
    child.stderr = Some(err.into_inner());
    let o = finish(child, "cli/streaming");
    assert_eq!(text(&o.stdout), "second\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn stdin_passes_through_and_signals_give_255() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    let mut cmd = login_cmd(&sshd, home.path(), KeyKind::Ed25519, "tr a-z A-Z");
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning seashell");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(b"hello\nworld\n").expect("writing stdin");
    drop(stdin);
    let o = finish(child, "cli/stdin");
    assert_eq!(
        text(&o.stdout),
        "HELLO\nWORLD\n",
        "stderr: {}",
        text(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0));

    let mut cmd = login_cmd(&sshd, home.path(), KeyKind::Ed25519, "kill -KILL $$");
    let o = run(&mut cmd, "cli/signal");
    assert_eq!(o.status.code(), Some(255), "stderr: {}", text(&o.stderr));
}

#[test]
fn local_failures_exit_255() {
    // A port that was free a moment ago, now closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let port = port.port().to_string();
    let home = tempfile::tempdir().expect("temp HOME");
    let mut cmd = seashell(home.path());
    let o = run(
        cmd.args(["-p", &port, "-oBatchMode=yes", "127.0.0.1", "true"]),
        "cli/refused",
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(255), "stderr: {err}");
    assert!(
        err.starts_with("seashell: ") && err.contains("Connection refused"),
        "stderr: {err}"
    );
    let o = run(
        seashell(home.path()).args(["-o", "Frobnicate=yes", "host", "true"]),
        "cli/bad-option",
    );
    assert_eq!(o.status.code(), Some(255));
    assert_eq!(
        text(&o.stderr),
        "seashell: unsupported option \"Frobnicate\"\n"
    );
    // No command: a shell; stdin is not a terminal, so no pty (ssh's note), then the
    // name does not resolve.
    let o = run(seashell(home.path()).arg("host.invalid"), "cli/no-command");
    assert_eq!(o.status.code(), Some(255));
    let err = text(&o.stderr);
    assert!(
        err.starts_with(
            "Pseudo-terminal will not be allocated because stdin is not a terminal.\n\
             seashell: Could not resolve hostname host.invalid"
        ),
        "stderr: {err}"
    );
    let o = run(seashell(home.path()).arg("-V"), "cli/version");
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stderr).starts_with("Seashell_"));
}

#[test]
fn passphrase_protected_identity() {
    let Some((sshd, home)) = start(SshdOptions::default()) else {
        return;
    };
    let Some(keygen) = seashell_testkit::find_program("ssh-keygen") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // The user's key, given a passphrase by ssh-keygen (aes256-ctr, bcrypt).
    let key = dir.path().join("id_locked");
    std::fs::copy(sshd.user_key(KeyKind::Ed25519), &key).expect("copying the key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let status = Command::new(keygen)
        .args(["-q", "-p", "-P", "", "-N", "open sesame", "-f"])
        .arg(&key)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen -p");
    assert!(status.success());
    let prompt_file = dir.path().join("prompt");
    let askpass = askpass_script(dir.path(), "askpass", "open sesame", &prompt_file);
    let login = |batch: bool, what: &str| {
        let mut cmd = seashell(home.path());
        cmd.env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .args(["-p", &sshd.port().to_string(), "-i"])
            .arg(&key)
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                sshd.known_hosts_file().display()
            ))
            .args([
                "-o",
                &format!("BatchMode={}", if batch { "yes" } else { "no" }),
            ])
            .args(["-l", &sshd.login_user(), "127.0.0.1"])
            .arg(MATRIX_COMMAND);
        run(&mut cmd, what)
    };
    let o = login(false, "cli/passphrase");
    if let Err(e) = check_out_err_3(&o) {
        panic!(
            "login with a passphrase-protected key: {e}\nsshd log:\n{}",
            sshd.log()
        );
    }
    let prompt = std::fs::read_to_string(&prompt_file).unwrap_or_default();
    assert_eq!(
        prompt,
        format!("Enter passphrase for key '{}': ", key.display())
    );
    // BatchMode: no question, a clear refusal.
    let o = login(true, "cli/passphrase-batch");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(255), "stderr: {err}");
    assert!(err.contains("needs a passphrase"), "stderr: {err}");
    // A key file others can read is refused, as by ssh.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = login(false, "cli/passphrase-unprotected");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(255), "stderr: {err}");
    assert!(
        err.contains("UNPROTECTED PRIVATE KEY FILE"),
        "stderr: {err}"
    );
}
