//! `Client::connect_host`, the one-line connect of the README: a host alias from
//! `~/.ssh/config`, the host key from `~/.ssh/known_hosts`, the user key from OpenSSH's
//! `ssh-agent`, with no setting in code.
//!
//! The library reads `HOME` and `SSH_AUTH_SOCK` from its environment, so the connection runs in
//! a child process: this test binary itself, run again with only the child test selected.

use seashell_conformance::{KeyKind, SshdOptions, start_sshd};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Set in the child: the host alias to connect to.
const CHILD: &str = "SEASHELL_CONNECT_HOST_CHILD";

/// The child's half: connects with `connect_host` and runs a command (a no-op when run as an
/// ordinary test).
#[test]
fn child_connect_host() {
    let Ok(alias) = std::env::var(CHILD) else {
        return;
    };
    let session = seashell_blocking::Client::connect_host(&alias).expect("connect_host");
    let out = session.exec("echo one-line-ok").expect("exec");
    println!("CHILD-OUT:{}", String::from_utf8_lossy(&out.stdout).trim());
}

/// Runs the child with `home` as `HOME` and `agent` as `SSH_AUTH_SOCK`.
fn run_child(home: &Path, agent: &Path, alias: &str) -> Output {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_connect_host",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, alias)
        .env("HOME", home)
        .env("SSH_AUTH_SOCK", agent)
        .stdin(Stdio::null())
        .output()
        .expect("running the child")
}

/// OpenSSH's `ssh-agent` in the foreground on `sock`, killed on drop.
struct Agent(Child);

impl Agent {
    fn start(sock: &Path) -> Agent {
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(sock)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(sock).is_err() {
            assert!(Instant::now() < deadline, "agent socket never appeared");
            std::thread::sleep(Duration::from_millis(5));
        }
        Agent(child)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn connect_host_uses_ssh_config_known_hosts_and_the_agent() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir(&ssh_dir).expect(".ssh");
    std::fs::set_permissions(&ssh_dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::fs::write(
        ssh_dir.join("config"),
        format!(
            "Host myalias\n    HostName 127.0.0.1\n    Port {}\n    User {}\n",
            sshd.port(),
            sshd.login_user()
        ),
    )
    .expect("config");
    std::fs::copy(sshd.known_hosts_file(), ssh_dir.join("known_hosts")).expect("known_hosts");

    let sock = home.path().join("agent.sock");
    let _agent = Agent::start(&sock);
    let added = Command::new("ssh-add")
        .arg(sshd.user_key(KeyKind::Ed25519))
        .env("SSH_AUTH_SOCK", &sock)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let o = run_child(home.path(), &sock, "myalias");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("CHILD-OUT:one-line-ok"),
        "status {:?}\nstdout {stdout}\nstderr {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );

    // The host key is checked: with an empty known_hosts the connection is refused.
    std::fs::write(ssh_dir.join("known_hosts"), "").expect("empty known_hosts");
    let o = run_child(home.path(), &sock, "myalias");
    assert!(!o.status.success());
    assert!(!String::from_utf8_lossy(&o.stdout).contains("CHILD-OUT:"));
}
