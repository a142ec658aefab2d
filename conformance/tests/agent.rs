//! The agent against real peers: our client (library and `seashell`) logs in through
//! OpenSSH's `ssh-agent` with each key type and no key file; `ssh-add` and `ssh` work
//! against `seashell agent`; `seashell add` drives OpenSSH's agent.

use seashell_blocking::Client;
use seashell_conformance::{KeyKind, Sshd, SshdOptions, base_config, seashell_bin, start_sshd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An agent process on a private socket, killed on drop.
struct Agent {
    child: Child,
    sock: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// Starts `program args... -D -a <sock>` and waits for its socket.
    fn start(program: &Path, args: &[&str]) -> Agent {
        let dir = tempfile::tempdir().expect("agent dir");
        let sock = dir.path().join("agent.sock");
        let child = Command::new(program)
            .args(args)
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the agent");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&sock).is_err() {
            assert!(Instant::now() < deadline, "agent socket never appeared");
            std::thread::sleep(Duration::from_millis(5));
        }
        Agent {
            child,
            sock,
            _dir: dir,
        }
    }

    fn openssh() -> Agent {
        Agent::start(Path::new("ssh-agent"), &[])
    }

    fn seashell() -> Agent {
        Agent::start(seashell_bin(), &["agent"])
    }

    /// A command with `SSH_AUTH_SOCK` pointing here, an empty HOME and no askpass.
    fn cmd(&self, program: &Path, home: &Path) -> Command {
        let mut c = Command::new(program);
        c.env("SSH_AUTH_SOCK", &self.sock)
            .env("HOME", home)
            .env_remove("SSH_ASKPASS")
            .env_remove("DISPLAY")
            .stdin(Stdio::null());
        c
    }

    /// `ssh-add` with `args`.
    fn ssh_add(&self, home: &Path, args: &[&str]) -> Output {
        self.cmd(Path::new("ssh-add"), home)
            .args(args)
            .output()
            .expect("running ssh-add")
    }

    /// Leaves exactly the user key `kind` of `sshd` in the agent, added with `ssh-add`.
    fn only(&self, sshd: &Sshd, home: &Path, kind: KeyKind) {
        self.ssh_add(home, &["-D"]);
        let key = sshd.user_key(kind);
        let o = self.ssh_add(home, &[key.to_str().expect("utf-8 path")]);
        assert!(o.status.success(), "ssh-add {kind:?}: {}", text(&o.stderr));
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `seashell` logging in to `sshd` with no key file, with `extra` options.
fn seashell_login(agent: &Agent, sshd: &Sshd, home: &Path, extra: &[&str]) -> Output {
    let known = format!("UserKnownHostsFile={}", sshd.known_hosts_file().display());
    agent
        .cmd(seashell_bin(), home)
        .args([
            "-p",
            &sshd.port().to_string(),
            "-o",
            &known,
            "-o",
            "BatchMode=yes",
        ])
        .args(extra)
        .arg(format!("{}@127.0.0.1", sshd.login_user()))
        .arg("echo agent-ok")
        .output()
        .expect("running seashell")
}

#[test]
fn seashell_logs_in_through_openssh_agent_with_each_key_type() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    for kind in KeyKind::ALL {
        agent.only(&sshd, home.path(), kind);
        let o = seashell_login(&agent, &sshd, home.path(), &[]);
        assert_eq!(
            text(&o.stdout),
            "agent-ok\n",
            "{kind:?}: status {:?}, stderr {}",
            o.status,
            text(&o.stderr)
        );
    }
    // RSA with each SHA-2 algorithm (the agent is asked with the matching flag); sshd 9.x
    // refuses SHA-1 `ssh-rsa` signatures, so a login proves a SHA-2 signature.
    agent.only(&sshd, home.path(), KeyKind::Rsa);
    for alg in ["rsa-sha2-256", "rsa-sha2-512"] {
        let o = seashell_login(
            &agent,
            &sshd,
            home.path(),
            &["-o", &format!("PubkeyAcceptedAlgorithms={alg}")],
        );
        assert_eq!(text(&o.stdout), "agent-ok\n", "{alg}: {}", text(&o.stderr));
    }
    // IdentityAgent none turns the agent off; IdentitiesOnly with no identity file offers
    // none of its keys.
    for off in ["IdentityAgent=none", "IdentitiesOnly=yes"] {
        let o = seashell_login(&agent, &sshd, home.path(), &["-o", off]);
        assert_eq!(o.status.code(), Some(255), "{off}: {}", text(&o.stderr));
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn library_logs_in_through_the_agent_without_keys() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    agent.only(&sshd, home.path(), KeyKind::EcdsaP256);
    let config = base_config(&sshd, &sshd.login_user()).agent(&agent.sock);
    assert!(config.keys.is_empty());
    let session = Client::connect(&sshd.addr(), config).expect("login through the agent");
    let out = session.exec("echo lib-ok").expect("exec");
    assert_eq!(out.stdout, b"lib-ok\n");
    // Without the agent, nothing is left to try.
    let none = base_config(&sshd, &sshd.login_user()).no_agent();
    assert!(Client::connect(&sshd.addr(), none).is_err());
}

#[test]
fn ssh_add_and_ssh_work_against_seashell_agent() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::seashell();
    for kind in KeyKind::ALL {
        let key = sshd.user_key(kind);
        let o = agent.ssh_add(home.path(), &[key.to_str().expect("utf-8")]);
        assert!(o.status.success(), "ssh-add {kind:?}: {}", text(&o.stderr));
    }
    let list = agent.ssh_add(home.path(), &["-l"]);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let listed = text(&list.stdout);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    for label in ["(ED25519)", "(RSA)", "(ECDSA)"] {
        assert!(listed.contains(label), "{label} in {listed}");
    }
    // `ssh` logs in with each key held only by our agent.
    let missing = home.path().join("no-such-key");
    let known = format!("UserKnownHostsFile={}", sshd.known_hosts_file().display());
    for kind in KeyKind::ALL {
        agent.ssh_add(home.path(), &["-D"]);
        let key = sshd.user_key(kind);
        agent.ssh_add(home.path(), &[key.to_str().expect("utf-8")]);
        let o = agent
            .cmd(Path::new("ssh"), home.path())
            .args(["-F", "/dev/null", "-p", &sshd.port().to_string()])
            .args([
                "-o",
                &known,
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-i")
            .arg(&missing)
            .arg(format!("{}@127.0.0.1", sshd.login_user()))
            .arg("echo ssh-ok")
            .output()
            .expect("running ssh");
        assert_eq!(text(&o.stdout), "ssh-ok\n", "{kind:?}: {}", text(&o.stderr));
    }
    // Removing and locking, through ssh-add.
    let o = agent.ssh_add(home.path(), &["-D"]);
    assert!(o.status.success());
    let empty = agent.ssh_add(home.path(), &["-l"]);
    assert_eq!(empty.status.code(), Some(1));
    assert!(text(&empty.stdout).contains("no identities"));
}

#[test]
fn seashell_add_drives_openssh_agent() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    let add = |args: &[&str]| {
        agent
            .cmd(seashell_bin(), home.path())
            .arg("add")
            .args(args)
            .output()
            .expect("running seashell add")
    };
    for kind in KeyKind::ALL {
        let key = sshd.user_key(kind);
        let o = add(&[key.to_str().expect("utf-8")]);
        assert!(
            o.status.success(),
            "seashell add {kind:?}: {}",
            text(&o.stderr)
        );
    }
    let ours = add(&["-l"]);
    let theirs = agent.ssh_add(home.path(), &["-l"]);
    assert!(ours.status.success());
    assert_eq!(text(&ours.stdout), text(&theirs.stdout));
    assert_eq!(
        text(&add(&["-L"]).stdout),
        text(&agent.ssh_add(home.path(), &["-L"]).stdout)
    );
    // A key added with a lifetime is listed; removal of one key, then of all.
    let ed = sshd.user_key(KeyKind::Ed25519);
    let o = add(&["-d", ed.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&agent.ssh_add(home.path(), &["-l"]).stdout)
            .lines()
            .count(),
        2
    );
    let o = add(&["-t", "600", ed.to_str().expect("utf-8")]);
    assert!(text(&o.stderr).contains("Lifetime set to 600 seconds"));
    assert!(add(&["-D"]).status.success());
    assert_eq!(add(&["-l"]).status.code(), Some(1));
    // And the agent filled by `seashell add` serves a login.
    add(&[sshd.user_key(KeyKind::Rsa).to_str().expect("utf-8")]);
    let o = seashell_login(&agent, &sshd, home.path(), &[]);
    assert_eq!(text(&o.stdout), "agent-ok\n", "{}", text(&o.stderr));
    // No agent: exit status 2.
    let o = Command::new(seashell_bin())
        .args(["add", "-l"])
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .expect("seashell add");
    assert_eq!(o.status.code(), Some(2));
}

/// `seashell` logging in to `sshd` through the agent to run `command`.
fn seashell_run(agent: &Agent, sshd: &Sshd, home: &Path, extra: &[&str], command: &str) -> Output {
    let known = format!("UserKnownHostsFile={}", sshd.known_hosts_file().display());
    agent
        .cmd(seashell_bin(), home)
        .args([
            "-p",
            &sshd.port().to_string(),
            "-o",
            &known,
            "-o",
            "BatchMode=yes",
        ])
        .args(extra)
        .arg(format!("{}@127.0.0.1", sshd.login_user()))
        .arg(command)
        .output()
        .expect("running seashell")
}

#[test]
fn seashell_forwards_the_agent_to_sshd() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    agent.only(&sshd, home.path(), KeyKind::Ed25519);
    let ours = text(&agent.ssh_add(home.path(), &["-l"]).stdout);
    for flag in [&["-A"][..], &["-o", "ForwardAgent=yes"][..]] {
        let o = seashell_run(&agent, &sshd, home.path(), flag, "ssh-add -l");
        assert_eq!(text(&o.stdout), ours, "{flag:?}: {}", text(&o.stderr));
        assert_eq!(o.status.code(), Some(0));
    }
    // Without forwarding the far side has no agent (ssh-add exits 2).
    let o = seashell_run(&agent, &sshd, home.path(), &[], "ssh-add -l");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    let o = seashell_run(&agent, &sshd, home.path(), &["-A", "-a"], "ssh-add -l");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn library_forwards_the_agent_blocking_and_tokio() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    agent.only(&sshd, home.path(), KeyKind::EcdsaP256);
    let ours = agent.ssh_add(home.path(), &["-l"]).stdout;
    let config = || {
        base_config(&sshd, &sshd.login_user())
            .agent(&agent.sock)
            .forward_agent(&agent.sock)
    };
    let session = Client::connect(&sshd.addr(), config()).expect("blocking login");
    let out = session.exec("ssh-add -l").expect("exec");
    assert_eq!(out.stdout, ours, "{}", text(&out.stderr));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (addr, config) = (sshd.addr(), config());
    let out = rt.block_on(async move {
        let session = seashell_tokio::Client::connect(&addr, config)
            .await
            .expect("tokio login");
        session.exec("ssh-add -l").await.expect("exec")
    });
    assert_eq!(out.stdout, ours, "{}", text(&out.stderr));
}

/// A running `seashell serve` trusting `sshd`'s user keys; killed on drop.
struct Serve {
    child: Child,
    port: u16,
    known_hosts: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(sshd: &Sshd, extra: &[&str]) -> Serve {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("serve dir");
        let host = dir.path().join("host_ed25519");
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&host)
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
        let user = Command::new("id").arg("-un").output().expect("id -un");
        let user = text(&user.stdout).trim().to_owned();
        let mut child = Command::new(seashell_bin())
            .args(["serve", "-v", "--listen", "127.0.0.1:0", "--user", &user])
            .arg("--authorized-keys")
            .arg(sshd.dir().join("authorized_keys"))
            .arg("--host-key")
            .arg(&host)
            .args(extra)
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("seashell serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if line.contains("listening on ") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("seashell serve did not start");
        let port: u16 = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        let public = std::fs::read_to_string(host.with_extension("pub")).expect(".pub");
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {public}")).expect("known");
        Serve {
            child,
            port,
            known_hosts,
            _dir: dir,
        }
    }
}

/// The OpenSSH clients to try: 9.2 from the system and 10.0 when installed.
fn ssh_clients() -> Vec<PathBuf> {
    let mut v = vec![PathBuf::from("ssh")];
    let ten = std::env::var_os("SEASHELL_OPENSSH10")
        .map(PathBuf::from)
        .map(|d| d.join("usr/bin/ssh"))
        .filter(|p| p.exists())
        .or_else(|| Some(PathBuf::from("/opt/openssh10/usr/bin/ssh")).filter(|p| p.exists()));
    v.extend(ten);
    v
}

#[test]
fn ssh_forwards_its_agent_into_seashell_serve() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    agent.only(&sshd, home.path(), KeyKind::Ed25519);
    let listed = text(&agent.ssh_add(home.path(), &["-l"]).stdout);
    let serve = Serve::start(&sshd, &[]);
    let missing = home.path().join("no-such-key");
    // Inside the session: list the forwarded keys, then log in to sshd with them.
    let nested = format!(
        "ssh-add -l; ssh -F /dev/null -p {} -o BatchMode=yes -o StrictHostKeyChecking=yes \
         -o UserKnownHostsFile={} -i {} {}@127.0.0.1 echo nested-ok",
        sshd.port(),
        sshd.known_hosts_file().display(),
        missing.display(),
        sshd.login_user()
    );
    let outer = |ssh: &Path, forward: &str, serve: &Serve| {
        agent
            .cmd(ssh, home.path())
            .args(["-F", "/dev/null", forward, "-p", &serve.port.to_string()])
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                serve.known_hosts.display()
            ))
            .arg("-i")
            .arg(&missing)
            .arg("127.0.0.1")
            .arg(&nested)
            .output()
            .expect("running ssh")
    };
    for ssh in ssh_clients() {
        let o = outer(&ssh, "-A", &serve);
        assert_eq!(
            text(&o.stdout),
            format!("{listed}nested-ok\n"),
            "{}: {}",
            ssh.display(),
            text(&o.stderr)
        );
        // Without -A the session has no agent.
        let o = outer(&ssh, "-a", &serve);
        assert!(!text(&o.stdout).contains("nested-ok"), "{}", ssh.display());
    }
    // AllowAgentForwarding no refuses it.
    let denied = Serve::start(&sshd, &["-o", "AllowAgentForwarding=no"]);
    let o = outer(Path::new("ssh"), "-A", &denied);
    assert!(
        !text(&o.stdout).contains("nested-ok"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn identity_file_held_by_the_agent_needs_no_passphrase() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    agent.only(&sshd, home.path(), KeyKind::Ed25519);
    // An encrypted copy of the key, with its .pub beside it.
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir(&ssh_dir).expect("~/.ssh");
    let copy = ssh_dir.join("id_ed25519");
    std::fs::copy(sshd.user_key(KeyKind::Ed25519), &copy).expect("copy key");
    let mut pub_path = sshd.user_key(KeyKind::Ed25519).into_os_string();
    pub_path.push(".pub");
    std::fs::copy(&pub_path, ssh_dir.join("id_ed25519.pub")).expect("copy .pub");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-p", "-P", "", "-N", "secret phrase", "-f"])
        .arg(&copy)
        .status()
        .expect("ssh-keygen -p");
    assert!(st.success());
    let copy = copy.to_str().expect("utf-8").to_owned();
    // Default identity, explicit -i, and -i with IdentitiesOnly: all through the agent,
    // in batch mode (no passphrase can be asked).
    for extra in [
        &[][..],
        &["-i", &copy][..],
        &["-i", &copy, "-o", "IdentitiesOnly=yes"][..],
    ] {
        let o = seashell_login(&agent, &sshd, home.path(), extra);
        assert_eq!(
            text(&o.stdout),
            "agent-ok\n",
            "{extra:?}: {}",
            text(&o.stderr)
        );
    }
    // IdentitiesOnly with another identity file: the agent's key is not offered.
    let other = ssh_dir.join("other");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    let o = seashell_login(
        &agent,
        &sshd,
        home.path(),
        &[
            "-i",
            other.to_str().expect("utf-8"),
            "-o",
            "IdentitiesOnly=yes",
        ],
    );
    assert_eq!(o.status.code(), Some(255), "{}", text(&o.stdout));
}

/// A server handler (any adapter): password `secret` for `alice`, agent forwarding
/// accepted, and `exec` answering with the forwarded agent's fingerprints.
struct ListAgent {
    socket: Arc<Mutex<Option<PathBuf>>>,
}

impl seashell_adapter::Handler for ListAgent {
    fn auth(
        &mut self,
        user: &str,
        attempt: &seashell_proto::AuthAttempt,
    ) -> seashell_proto::AuthDecision {
        match attempt {
            seashell_proto::AuthAttempt::Password(pw) if user == "alice" && **pw == "secret" => {
                seashell_proto::AuthDecision::Accept
            }
            _ => seashell_proto::AuthDecision::Reject,
        }
    }

    fn forwarding(&mut self) -> seashell_adapter::ForwardingPolicy {
        seashell_adapter::ForwardingPolicy::default()
    }

    fn agent_forwarded(&mut self, _: &seashell_adapter::ServerChannel, socket: &Path) -> bool {
        *self.socket.lock().expect("lock") = Some(socket.to_owned());
        true
    }

    fn session_request(
        &mut self,
        channel: &seashell_adapter::ServerChannel,
        request: &seashell_proto::SessionRequestKind,
    ) -> bool {
        use std::io::Write;
        if !matches!(request, seashell_proto::SessionRequestKind::Exec(_)) {
            return false;
        }
        let (ch, socket) = (channel.clone(), self.socket.lock().expect("lock").clone());
        std::thread::spawn(move || {
            let listed = socket
                .and_then(|s| seashell_adapter::AgentConnection::connect(&s).ok())
                .and_then(|mut a| a.identities().ok())
                .map(|ids| {
                    ids.iter()
                        .map(|(k, _)| format!("{}\n", k.fingerprint()))
                        .collect::<String>()
                })
                .unwrap_or_else(|| "no agent\n".into());
            let _ = ch.stdout().write_all(listed.as_bytes());
            ch.exit(0);
        });
        true
    }
}

#[test]
fn tokio_server_forwards_the_agent() {
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    let key = home.path().join("k");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    let o = agent.ssh_add(home.path(), &[key.to_str().expect("utf-8")]);
    assert!(o.status.success());
    let want = seashell_keys_fingerprint(&key);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let host = Arc::new(seashell_proto::PrivateKey::ed25519_generate().expect("host key"));
    let fp = host.public_key().fingerprint();
    let addr = rt.block_on(async move {
        let server = seashell_tokio::Server::bind(
            "127.0.0.1:0",
            seashell_proto::ServerConfig::new(vec![host]),
        )
        .expect("bind");
        let addr = server.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            let _ = server
                .run(|_| ListAgent {
                    socket: Arc::default(),
                })
                .await;
        });
        addr
    });
    let config = seashell_blocking::ClientConfig::new("alice")
        .password("secret")
        .no_agent()
        .forward_agent(&agent.sock)
        .host_key_policy(seashell_blocking::HostKeyPolicy::Fingerprint(fp));
    let session = Client::connect(&addr, config).expect("login");
    let out = session.exec("list").expect("exec");
    assert_eq!(text(&out.stdout), format!("{want}\n"));
    drop(session);
    drop(rt);
}

/// The SHA256 fingerprint of the key file's public half, from `ssh-keygen -l`.
fn seashell_keys_fingerprint(key: &Path) -> String {
    let o = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(key)
        .output()
        .expect("ssh-keygen -l");
    text(&o.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint")
        .to_owned()
}

#[test]
fn seashell_forwards_its_agent_into_seashell_serve_under_rfc_9987_names() {
    // Our server advertises `agent-forward`, so our client asks with `agent-req` and the
    // server opens `agent-connect` channels: the standard names end to end.
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let agent = Agent::openssh();
    agent.only(&sshd, home.path(), KeyKind::EcdsaP256);
    let listed = text(&agent.ssh_add(home.path(), &["-l"]).stdout);
    let serve = Serve::start(&sshd, &[]);
    let known = format!("UserKnownHostsFile={}", serve.known_hosts.display());
    let user = Command::new("id").arg("-un").output().expect("id -un");
    let o = agent
        .cmd(seashell_bin(), home.path())
        .args(["-A", "-p", &serve.port.to_string(), "-o", &known])
        .args(["-o", "BatchMode=yes"])
        .arg(format!("{}@127.0.0.1", text(&user.stdout).trim()))
        .arg("ssh-add -l")
        .output()
        .expect("running seashell");
    assert_eq!(text(&o.stdout), listed, "{}", text(&o.stderr));
}

#[test]
fn agent_connections_are_bound_to_the_session() {
    // OpenSSH's ssh-agent in debug mode logs each `session-bind@openssh.com` it verified:
    // our client binds before signing (authentication) and before forwarding.
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("agent dir");
    let sock = dir.path().join("agent.sock");
    let log_path = dir.path().join("agent.log");
    let log = std::fs::File::create(&log_path).expect("agent log");
    let mut child = Command::new("ssh-agent")
        .arg("-d")
        .arg("-a")
        .arg(&sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("ssh-agent -d");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&sock).is_err() {
        assert!(Instant::now() < deadline, "agent socket never appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    let agent = Agent {
        child: Command::new("true").spawn().expect("placeholder"),
        sock: sock.clone(),
        _dir: tempfile::tempdir().expect("dir"),
    };
    agent.only(&sshd, home.path(), KeyKind::Ed25519);
    let o = seashell_run(&agent, &sshd, home.path(), &["-A"], "ssh-add -l >/dev/null");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(&log_path).expect("agent log");
    let recorded = logged
        .lines()
        .filter(|l| l.contains("process_ext_session_bind: recorded"))
        .count();
    assert!(
        recorded >= 2,
        "expected bindings for authentication and forwarding:\n{logged}"
    );
    assert!(!logged.contains("sshkey_verify"), "{logged}");
}
