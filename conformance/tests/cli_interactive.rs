//! Interactive `seashell` sessions driven the way a person uses them: in a tmux pane
//! (send-keys, capture-pane) against a `seashell serve` started here and against a private
//! OpenSSH sshd. A command runs,
//! `stty size` matches the pane and follows a resize, `TERM` reaches the remote shell, `~?`
//! prints ssh's help, `~.` ends the session with status 255, `exit 7` gives status 7, and
//! the local terminal is out of raw mode afterwards.
//!
//! Skipped (with a note) when tmux or ssh-keygen is missing.

use seashell_conformance::serve::Serve;
use seashell_conformance::tmux::Tmux;
use seashell_conformance::tmux::WAIT;
use seashell_conformance::{KeyKind, Sshd, SshdOptions, seashell_bin, start_sshd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
}

/// A new ed25519 key pair at `path` (and `path.pub`).
fn keygen(path: &Path) {
    let o = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .expect("running ssh-keygen");
    assert!(o.status.success(), "ssh-keygen: {o:?}");
}

/// The server a test logs in to (held to keep it running).
#[allow(dead_code, reason = "held, never read")]
enum Server {
    Serve(Serve),
    Sshd(Sshd),
}

struct Setup {
    _dir: tempfile::TempDir,
    _server: Server,
    tmux: Tmux,
    /// HOME for the client.
    home: PathBuf,
    /// The `seashell` arguments up to and including the destination.
    args: Vec<String>,
}

fn setup() -> Option<Setup> {
    if !have("tmux") || !Path::new("/usr/bin/ssh-keygen").exists() {
        eprintln!("skipped: tmux or ssh-keygen is not installed");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let host_key = dir.path().join("host_key");
    let user_key = dir.path().join("user_key");
    keygen(&host_key);
    keygen(&user_key);
    let authorized = dir.path().join("authorized_keys");
    std::fs::copy(user_key.with_extension("pub"), &authorized).expect("authorized_keys");
    let serve = Serve::start(&[host_key], &authorized, &[] as &[&str]).expect("seashell serve");
    let args = vec![
        "-p".to_owned(),
        serve.port().to_string(),
        "-i".to_owned(),
        user_key.display().to_string(),
        "-o".to_owned(),
        "UserKnownHostsFile=/dev/null".to_owned(),
        "-o".to_owned(),
        "StrictHostKeyChecking=no".to_owned(),
        "127.0.0.1".to_owned(),
    ];
    let tmux = Tmux::new(dir.path().join("tmux.sock"));
    Some(Setup {
        home: dir.path().to_path_buf(),
        _dir: dir,
        _server: Server::Serve(serve),
        tmux,
        args,
    })
}

/// The same against a private OpenSSH sshd (`None`: sshd or tmux missing).
fn setup_sshd() -> Option<Setup> {
    if !have("tmux") {
        eprintln!("skipped: tmux is not installed");
        return None;
    }
    let sshd = start_sshd(SshdOptions::default())?;
    let dir = tempfile::tempdir().expect("temp dir");
    let args = vec![
        "-p".to_owned(),
        sshd.port().to_string(),
        "-i".to_owned(),
        sshd.user_key(KeyKind::Ed25519).display().to_string(),
        "-o".to_owned(),
        format!("UserKnownHostsFile={}", sshd.known_hosts_file().display()),
        "-o".to_owned(),
        "BatchMode=yes".to_owned(),
        format!("{}@127.0.0.1", sshd.login_user()),
    ];
    let tmux = Tmux::new(dir.path().join("tmux.sock"));
    Some(Setup {
        home: dir.path().to_path_buf(),
        _dir: dir,
        _server: Server::Sshd(sshd),
        tmux,
        args,
    })
}

/// The pane's command: the client (with `TERM=xterm-256color`), then its status, then
/// whether the local terminal is back in canonical mode, then a pause so the pane stays to
/// be read. The arguments have no characters the shell would change.
fn pane_command(s: &Setup) -> String {
    format!(
        "env TERM=xterm-256color HOME={} {} {}; echo STATUS=$?; \
         stty -a | grep -q -- ' icanon' && echo COOKED; sleep 600",
        s.home.display(),
        seashell_bin().display(),
        s.args.join(" ")
    )
}

#[test]
fn shell_size_resize_term_and_exit_status() {
    if let Some(s) = setup() {
        size_resize_exit(&s);
    }
}

#[test]
fn against_openssh_sshd() {
    if let Some(s) = setup_sshd() {
        size_resize_exit(&s);
    }
    if let Some(s) = setup_sshd() {
        help_and_disconnect(&s);
    }
}

/// `stty size` follows the pane, `TERM` arrives, `exit 7` gives 7, the terminal is restored.
fn size_resize_exit(s: &Setup) {
    let t = &s.tmux;
    t.start("a", &pane_command(s));
    // A command runs (the output, not the echo of what was typed).
    t.type_text("a", "echo READY-$((6*7))");
    t.keys("a", &["Enter"]);
    t.wait_for("a", "READY-42");
    t.type_text("a", "echo SIZE=$(stty size) TERM=$TERM");
    t.keys("a", &["Enter"]);
    t.wait_for("a", "SIZE=30 100 TERM=xterm-256color");
    let o = t.cmd(&["resize-window", "-t", "a", "-x", "120", "-y", "40"]);
    assert!(o.status.success(), "tmux resize-window: {o:?}");
    // The window change reaches the remote pty asynchronously: ask until it shows.
    let deadline = Instant::now() + WAIT;
    loop {
        t.type_text("a", "echo NOW=$(stty size)");
        t.keys("a", &["Enter"]);
        std::thread::sleep(Duration::from_millis(200));
        if t.capture("a").contains("NOW=40 120") {
            break;
        }
        assert!(Instant::now() < deadline, "{}", t.capture("a"));
    }
    t.type_text("a", "exit 7");
    t.keys("a", &["Enter"]);
    let pane = t.wait_for("a", "STATUS=");
    assert!(pane.contains("STATUS=7"), "{pane}");
    assert!(pane.contains("Connection to 127.0.0.1 closed."), "{pane}");
    t.wait_for("a", "COOKED");
}

#[test]
fn escape_help_and_disconnect() {
    if let Some(s) = setup() {
        help_and_disconnect(&s);
    }
}

/// `~?`, escapes only after a newline, `~~`, then `~.`: status 255, terminal restored.
fn help_and_disconnect(s: &Setup) {
    let t = &s.tmux;
    t.start("b", &pane_command(s));
    t.type_text("b", "echo READY-$((6*7))");
    t.keys("b", &["Enter"]);
    t.wait_for("b", "READY-42");
    // After a newline, `~?` prints the help and sends nothing.
    t.type_text("b", "~?");
    t.wait_for("b", "Supported escape sequences:");
    t.wait_for(
        "b",
        "(Note that escapes are only recognized immediately after newline.)",
    );
    // In the middle of a line `~.` is just text; `~~` sends one `~`.
    t.type_text("b", "echo A~.B");
    t.keys("b", &["Enter"]);
    t.wait_for("b", "\nA~.B");
    // The remote terminal echoes what it received: one `~`.
    t.type_text("b", "~~");
    t.type_text("b", "; echo TILDES");
    t.keys("b", &["Enter"]);
    let pane = t.wait_for("b", "\nTILDES");
    assert!(pane.contains("~; echo TILDES"), "{pane}");
    assert!(!pane.contains("~~; echo TILDES"), "{pane}");
    t.type_text("b", "~.");
    let pane = t.wait_for("b", "STATUS=");
    assert!(pane.contains("STATUS=255"), "{pane}");
    assert!(pane.contains("Connection to 127.0.0.1 closed."), "{pane}");
    t.wait_for("b", "COOKED");
}

#[test]
fn no_session_holds_the_connection_until_a_signal() {
    let Some(s) = setup() else { return };
    let mut child = Command::new(seashell_bin())
        .args(&s.args)
        .arg("-N")
        .env("HOME", &s.home)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("seashell -N");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "seashell -N ended by itself"
    );
    let o = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .output()
        .expect("kill");
    assert!(o.status.success());
    let out = child.wait_with_output().expect("waiting for seashell -N");
    assert_eq!(out.status.code(), Some(255), "{out:?}");
}
