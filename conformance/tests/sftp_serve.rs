//! Interop tests of real SFTP clients against `seashell serve`'s `sftp` subsystem:
//! OpenSSH's `sftp -b` and `scp` (SFTP by default since OpenSSH 9), paramiko's
//! `SFTPClient` and asyncssh's `start_sftp_client`, byte-exact with modes and times; and
//! the server's options: `ChrootDirectory` confinement, `ForceCommand internal-sftp`,
//! read-only (`internal-sftp -R`), an external `Subsystem` program.
//!
//! Trees are 50 files in nested directories plus an 8 MiB file; `SEASHELL_SFTP_BIG=1`
//! (`just sftp-interop`) makes them the issue's 1,000 files and 512 MiB. A missing peer
//! skips its test locally and fails it with `CI=true`.

mod serve_common;
#[path = "sftp_serve_common/tree.rs"]
mod tree;

use seashell_conformance::process::{Ran, current_user, peer_python, peer_script, program};
use seashell_conformance::process::{run_limited, text};
use seashell_testkit::require_peer;
use serve_common::openssh::OpenSsh;
use serve_common::{HostKey, Keys, Serve, start_serve};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tree::Shape;

/// A client run fails its test after this long (the big variant needs more).
fn limit() -> Duration {
    if Shape::from_env().big > 64 << 20 {
        Duration::from_secs(900)
    } else {
        Duration::from_secs(120)
    }
}

/// `seashell serve` with extra options, OpenSSH's client set up for it, a scratch dir.
struct Rig {
    keys: Keys,
    serve: Serve,
    _ssh: OpenSsh,
    work: tempfile::TempDir,
}

impl Rig {
    /// `None` when OpenSSH's `ssh` is missing (outside CI).
    #[track_caller]
    fn start(extra: &[&str]) -> Option<Rig> {
        let keys = Keys::new();
        let ssh = OpenSsh::new(&keys)?;
        let serve = start_serve(&keys, &[HostKey::Ed25519], extra)
            .unwrap_or_else(|e| panic!("seashell serve {extra:?}: {e}"));
        ssh.trust(&keys, &serve);
        let work = tempfile::Builder::new()
            .prefix("seashell-sftp-serve-")
            .tempdir()
            .expect("a scratch directory");
        Some(Rig {
            keys,
            serve,
            _ssh: ssh,
            work,
        })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.work.path().join(rel)
    }

    fn config(&self) -> PathBuf {
        self.keys.path().join("ssh_config")
    }

    /// `sftp -b BATCH` (commands joined by newlines).
    #[track_caller]
    fn sftp(&self, commands: &[String]) -> Option<Ran> {
        run_sftp(
            &self.config(),
            self.serve.port(),
            &self.path("batch"),
            commands,
        )
    }

    /// `sftp -b` that must succeed; its stdout.
    #[track_caller]
    fn sftp_ok(&self, commands: &[String]) -> Option<String> {
        let ran = self.sftp(commands)?;
        assert!(
            ran.status.success(),
            "sftp {commands:?}: {}\nstdout: {}\nstderr: {}\nserver log:\n{}",
            ran.status,
            text(&ran.stdout),
            text(&ran.stderr),
            self.serve.log()
        );
        Some(text(&ran.stdout))
    }

    /// `scp ARGS`.
    #[track_caller]
    fn scp(&self, args: &[&str]) -> Option<Ran> {
        let scp = require_peer(program("scp", "apt-get install openssh-client"))?;
        let mut cmd = Command::new(scp);
        cmd.arg("-F")
            .arg(self.config())
            .args(["-P", &self.serve.port().to_string()])
            .args(args)
            .env_remove("SSH_AUTH_SOCK");
        Some(run_limited(&mut cmd, limit()).unwrap_or_else(|e| panic!("scp: {e}")))
    }

    /// `ssh 127.0.0.1 REMOTE`.
    fn ssh(&self, remote: &str) -> Ran {
        let ssh = seashell_testkit::ssh_client().expect("ssh (checked by Rig::start)");
        let mut cmd = Command::new(ssh);
        cmd.arg("-F")
            .arg(self.config())
            .args(["-p", &self.serve.port().to_string(), "127.0.0.1", remote])
            .env_remove("SSH_AUTH_SOCK");
        run_limited(&mut cmd, limit()).unwrap_or_else(|e| panic!("ssh: {e}"))
    }

    /// A Python peer script with the tree arguments; `None` when the module is missing.
    #[track_caller]
    fn python(
        &self,
        module: &'static str,
        script: &str,
        local: &Path,
        remote: &Path,
        back: &Path,
    ) -> Option<Ran> {
        let py = require_peer(peer_python(module))?;
        let mut cmd = Command::new(py);
        cmd.arg(peer_script(script))
            .args(["--port", &self.serve.port().to_string()])
            .args(["--user", &current_user()])
            .arg("--key")
            .arg(self.keys.user_key())
            .arg("--known-hosts")
            .arg(self.keys.path().join("known_hosts"))
            .arg("--local")
            .arg(local)
            .arg("--remote")
            .arg(remote)
            .arg("--back")
            .arg(back);
        Some(run_limited(&mut cmd, limit()).unwrap_or_else(|e| panic!("{script}: {e}")))
    }
}

/// `sftp -F CONFIG -P PORT -b BATCH 127.0.0.1` with `commands` written to `batch`;
/// `None` when `sftp` is missing (outside CI).
#[track_caller]
fn run_sftp(config: &Path, port: u16, batch: &Path, commands: &[String]) -> Option<Ran> {
    let sftp = require_peer(program("sftp", "apt-get install openssh-client"))?;
    std::fs::write(batch, commands.join("\n") + "\n").expect("writing the batch file");
    let mut cmd = Command::new(sftp);
    cmd.arg("-F")
        .arg(config)
        .args(["-P", &port.to_string(), "-b"])
        .arg(batch)
        .arg("127.0.0.1")
        .env_remove("SSH_AUTH_SOCK");
    Some(run_limited(&mut cmd, limit()).unwrap_or_else(|e| panic!("sftp: {e}")))
}

/// A path as a batch-file argument (quoted: temporary paths have no quotes in them).
fn q(p: &Path) -> String {
    format!("\"{}\"", p.display())
}

#[test]
fn openssh_sftp_batch() {
    let Some(rig) = Rig::start(&[]) else { return };
    let (src, remote, back) = (rig.path("src"), rig.path("remote"), rig.path("back"));
    tree::make(&src, Shape::from_env(), 1);
    let tree = remote.join("tree");
    let commands = [
        format!("mkdir {}", q(&remote)),
        format!("put -r -p {} {}", q(&src), q(&tree)),
        format!("get -r -p {} {}", q(&tree), q(&back)),
        format!("ls -l {}", q(&tree)),
        format!(
            "rename {} {}",
            q(&tree.join("big.bin")),
            q(&remote.join("moved.bin"))
        ),
        format!(
            "ln -s {} {}",
            q(&remote.join("moved.bin")),
            q(&remote.join("link"))
        ),
        format!("chmod 600 {}", q(&remote.join("moved.bin"))),
        format!("df {}", q(&remote)),
        format!("mkdir {}", q(&remote.join("empty"))),
        format!("rmdir {}", q(&remote.join("empty"))),
        format!("mkdir {}", q(&remote.join("gone"))),
        format!(
            "put {} {}",
            q(&src.join("big.bin")),
            q(&remote.join("gone/x"))
        ),
        format!("rm {}", q(&remote.join("gone/x"))),
        format!("rmdir {}", q(&remote.join("gone"))),
        format!("ls -l {}", q(&remote)),
    ];
    let Some(out) = rig.sftp_ok(&commands) else {
        return;
    };
    // What the server wrote, and what came back, are the originals (after the rename).
    std::fs::rename(remote.join("moved.bin"), tree.join("big.bin")).expect("undoing the rename");
    let chmodded = std::fs::metadata(tree.join("big.bin"))
        .expect("big.bin")
        .mode()
        & 0o7777;
    assert_eq!(chmodded, 0o600, "chmod 600 on the server");
    std::fs::set_permissions(tree.join("big.bin"), std::fs::Permissions::from_mode(0o640))
        .expect("chmod back");
    tree::assert_same(&src, &tree, true);
    tree::assert_same(&src, &back, true);
    let link = std::fs::read_link(remote.join("link")).expect("the symlink");
    assert_eq!(link, remote.join("moved.bin"));
    assert!(!remote.join("empty").exists() && !remote.join("gone").exists());
    // `ls -l`: mode, links, owner, group, size, date, name.
    let line = out
        .lines()
        .find(|l| l.ends_with("/tree/big.bin"))
        .unwrap_or_else(|| panic!("no big.bin in the ls -l output:\n{out}"));
    let size = Shape::from_env().big.to_string();
    assert!(
        line.starts_with("-rw-r-----") && line.split_whitespace().any(|w| w == size),
        "ls -l line {line:?}"
    );
    assert!(out.contains("lrwx"), "the symlink in ls -l:\n{out}");
    assert!(
        out.contains("Size") && out.contains("Avail"),
        "df output:\n{out}"
    );
}

#[test]
fn openssh_scp_recursive() {
    let Some(rig) = Rig::start(&[]) else { return };
    let (src, remote, back) = (rig.path("src"), rig.path("remote"), rig.path("back"));
    tree::make(&src, Shape::from_env(), 2);
    let target = format!("127.0.0.1:{}", remote.display());
    let Some(up) = rig.scp(&["-r", "-p", &src.display().to_string(), &target]) else {
        return;
    };
    assert!(up.status.success(), "scp up: {}", text(&up.stderr));
    let Some(down) = rig.scp(&["-r", "-p", &target, &back.display().to_string()]) else {
        return;
    };
    assert!(down.status.success(), "scp down: {}", text(&down.stderr));
    tree::assert_same(&src, &remote, true);
    tree::assert_same(&src, &back, true);
}

#[test]
fn paramiko_sftp_client() {
    let Some(rig) = Rig::start(&[]) else { return };
    let (src, remote, back) = (rig.path("src"), rig.path("remote"), rig.path("back"));
    tree::make(&src, Shape::from_env(), 3);
    let Some(ran) = rig.python("paramiko", "sftp_serve_paramiko.py", &src, &remote, &back) else {
        return;
    };
    assert!(
        ran.status.success(),
        "paramiko: {}\nserver log:\n{}",
        text(&ran.stderr),
        rig.serve.log()
    );
    tree::assert_same(&src, &remote, true);
    tree::assert_same(&src, &back, true);
}

#[test]
fn asyncssh_sftp_client() {
    let Some(rig) = Rig::start(&[]) else { return };
    let (src, remote, back) = (rig.path("src"), rig.path("remote"), rig.path("back"));
    tree::make(&src, Shape::from_env(), 4);
    let Some(ran) = rig.python("asyncssh", "sftp_serve_asyncssh.py", &src, &remote, &back) else {
        return;
    };
    assert!(
        ran.status.success(),
        "asyncssh: {}\nserver log:\n{}",
        text(&ran.stderr),
        rig.serve.log()
    );
    tree::assert_same(&src, &remote, true);
    tree::assert_same(&src, &back, true);
}

#[test]
fn chroot_directory_confines() {
    let jail = tempfile::tempdir().expect("a jail");
    let outside = tempfile::tempdir().expect("a directory outside the jail");
    std::fs::write(outside.path().join("secret"), "outside").expect("a file outside");
    std::fs::write(jail.path().join("inside.txt"), "inside").expect("a file inside");
    std::os::unix::fs::symlink(outside.path(), jail.path().join("escape"))
        .expect("a symlink out of the jail");
    let option = format!("ChrootDirectory={}", jail.path().display());
    let Some(rig) = Rig::start(&["-o", &option]) else {
        return;
    };
    let (src, back) = (rig.path("src"), rig.path("back"));
    tree::make(&src, Shape::small(), 5);
    let Some(out) = rig.sftp_ok(&[
        "pwd".to_owned(),
        "cd ..".to_owned(),
        "pwd".to_owned(),
        "ls -a /".to_owned(),
        format!("put -r -p {} /up", q(&src)),
        format!("get -p /inside.txt {}", q(&back)),
        // Each escape must fail ("-": the batch goes on).
        format!(
            "-get {} {}",
            q(&outside.path().join("secret")),
            q(&rig.path("s1"))
        ),
        format!(
            "-get /../../../..{} {}",
            outside.path().join("secret").display(),
            q(&rig.path("s2"))
        ),
        format!("-get /escape/secret {}", q(&rig.path("s3"))),
        "-ls /escape/".to_owned(),
        "-ln /escape/secret /hard-out".to_owned(),
        format!("-put {} /../../escaped", q(&src.join("big.bin"))),
        format!("-ln -s {} /link-out", outside.path().display()),
        "-get /link-out/secret".to_owned(),
    ]) else {
        return;
    };
    assert!(
        out.contains("Remote working directory: /\n"),
        "pwd in the jail:\n{out}"
    );
    assert!(out.contains("inside.txt"), "the jail's listing:\n{out}");
    for (name, what) in [("s1", "absolute path"), ("s2", ".."), ("s3", "symlink")] {
        assert!(
            !rig.path(name).exists(),
            "read outside the jail through a {what}"
        );
    }
    assert_eq!(std::fs::read_to_string(&back).expect("fetched"), "inside");
    tree::assert_same(&src, &jail.path().join("up"), true);
    // The upload through `..` landed inside the jail, if anywhere.
    let root = Path::new("/");
    assert!(
        !root.join("escaped").exists()
            && !jail
                .path()
                .parent()
                .expect("parent")
                .join("escaped")
                .exists()
    );
    let listing: Vec<String> = std::fs::read_dir(outside.path())
        .expect("outside")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listing, ["secret"], "nothing written outside the jail");
    // A shell or command cannot be confined: refused.
    let ran = rig.ssh("echo escaped");
    assert!(!ran.status.success() && !text(&ran.stdout).contains("escaped"));
}

#[test]
fn start_directory_flag() {
    let jail = tempfile::tempdir().expect("a jail");
    std::fs::create_dir(jail.path().join("sub")).expect("a start directory");
    std::fs::write(jail.path().join("sub/f"), "in sub").expect("a file");
    let chroot = format!("ChrootDirectory={}", jail.path().display());
    let force = "ForceCommand=internal-sftp -d /sub";
    let Some(rig) = Rig::start(&["-o", &chroot, "-o", force]) else {
        return;
    };
    let back = rig.path("back");
    let Some(out) = rig.sftp_ok(&["pwd".to_owned(), format!("get f {}", q(&back))]) else {
        return;
    };
    assert!(out.contains("Remote working directory: /sub\n"), "{out}");
    assert_eq!(std::fs::read_to_string(&back).expect("fetched"), "in sub");
}

#[test]
fn force_command_internal_sftp() {
    let Some(rig) = Rig::start(&["-o", "ForceCommand=internal-sftp"]) else {
        return;
    };
    let ran = rig.ssh("echo ran");
    assert_eq!(ran.status.code(), Some(1), "stderr: {}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        "This service allows sftp connections only.\n"
    );
    let file = rig.path("f");
    std::fs::write(&file, "data").expect("a file");
    let Some(_) = rig.sftp_ok(&[format!("put {} {}", q(&file), q(&rig.path("g")))]) else {
        return;
    };
    assert_eq!(
        std::fs::read_to_string(rig.path("g")).expect("uploaded"),
        "data"
    );
    assert!(rig.serve.log().contains("refusing non-sftp session"));
}

#[test]
fn force_command_replaces_the_command() {
    let Some(rig) = Rig::start(&["-o", "ForceCommand=echo forced:$SSH_ORIGINAL_COMMAND"]) else {
        return;
    };
    let ran = rig.ssh("echo asked");
    assert!(ran.status.success(), "stderr: {}", text(&ran.stderr));
    assert_eq!(text(&ran.stdout), "forced:echo asked\n");
    // sftp's subsystem request runs the forced command too (sshd: with the subsystem's
    // command as the original), which is no SFTP server: sftp fails.
    let ran = rig.sftp(&["pwd".to_owned()]).expect("sftp");
    assert!(!ran.status.success());
}

#[test]
fn read_only_internal_sftp() {
    let Some(rig) = Rig::start(&["-o", "ForceCommand=internal-sftp -R"]) else {
        return;
    };
    let file = rig.path("f");
    std::fs::write(&file, "data").expect("a file");
    let Some(ran) = rig.sftp(&[format!("put {} {}", q(&file), q(&rig.path("g")))]) else {
        return;
    };
    assert!(!ran.status.success(), "a put succeeded read-only");
    assert!(!rig.path("g").exists());
    for refused in [
        format!("rm {}", q(&file)),
        format!("mkdir {}", q(&rig.path("d"))),
        format!("chmod 600 {}", q(&file)),
        format!("rename {} {}", q(&file), q(&rig.path("h"))),
    ] {
        let ran = rig.sftp(std::slice::from_ref(&refused)).expect("sftp");
        assert!(!ran.status.success(), "{refused} succeeded read-only");
    }
    assert!(file.exists() && !rig.path("d").exists() && !rig.path("h").exists());
    rig.sftp_ok(&[format!("get {} {}", q(&file), q(&rig.path("back")))])
        .expect("sftp");
    assert_eq!(
        std::fs::read_to_string(rig.path("back")).expect("fetched"),
        "data"
    );
}

#[test]
fn external_subsystem_program() {
    let server = Path::new("/usr/lib/openssh/sftp-server");
    if !server.exists() {
        assert!(
            !seashell_conformance::in_ci(),
            "{} is missing",
            server.display()
        );
        return;
    }
    let option = format!("Subsystem=sftp {} -l INFO", server.display());
    let Some(rig) = Rig::start(&["-o", &option]) else {
        return;
    };
    let (src, remote) = (rig.path("src"), rig.path("remote"));
    tree::make(&src, Shape::small(), 6);
    rig.sftp_ok(&[format!("put -r -p {} {}", q(&src), q(&remote))])
        .expect("sftp");
    tree::assert_same(&src, &remote, true);
    assert!(
        rig.serve.log().contains("sftp-server"),
        "{}",
        rig.serve.log()
    );
}

/// The library on tokio: a [`Handler`](seashell_tokio::Handler) that answers `subsystem
/// sftp` with [`sftp_serve::spawn`] over a [`LocalFs`](sftp_serve::LocalFs) confined to a
/// directory, against OpenSSH's `sftp`.
mod tokio_server {
    use super::*;
    use seashell_adapter::sftp_serve::{self, LocalFs, ServerConfig, ServerEngine};
    use seashell_tokio::proto::{AuthAttempt, AuthDecision, PrivateKey, SessionRequestKind};
    use seashell_tokio::{Handler, Server, ServerChannel};
    use std::io::Write;
    use std::sync::Arc;

    /// Lets in the test's user key; serves `root` over SFTP, nothing else.
    struct Files {
        user_fingerprint: String,
        root: PathBuf,
    }

    impl Handler for Files {
        fn auth(&mut self, _: &str, attempt: &AuthAttempt) -> AuthDecision {
            match attempt {
                AuthAttempt::PublicKeyQuery { key, .. } | AuthAttempt::PublicKey { key, .. }
                    if key.fingerprint() == self.user_fingerprint =>
                {
                    AuthDecision::Accept
                }
                _ => AuthDecision::Reject,
            }
        }

        fn session_request(
            &mut self,
            channel: &ServerChannel,
            request: &SessionRequestKind,
        ) -> bool {
            if !sftp_serve::is_sftp(request) {
                return false;
            }
            let Ok(fs) = LocalFs::confined(&self.root) else {
                return false;
            };
            let engine = ServerEngine::new(fs, ServerConfig::default());
            sftp_serve::spawn(channel, engine).is_ok()
        }
    }

    #[test]
    fn tokio_handler_serves_sftp() {
        let keys = Keys::new();
        if OpenSsh::new(&keys).is_none() {
            return;
        }
        let work = tempfile::tempdir().expect("a scratch directory");
        let (src, root, back) = (
            work.path().join("src"),
            work.path().join("root"),
            work.path().join("back"),
        );
        tree::make(&src, Shape::from_env(), 7);
        std::fs::create_dir(&root).expect("the served root");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let host = PrivateKey::ed25519_generate().expect("a host key");
        let line = seashell_conformance::openssh_public_line(&host.public_key());
        let config = seashell_tokio::proto::ServerConfig::new(vec![Arc::new(host)]);
        let server: Server = rt
            .block_on(async { Server::bind("127.0.0.1:0", config) })
            .expect("binding the tokio server");
        let port = server.local_addr().expect("its address").port();
        let mut known = std::fs::File::options()
            .append(true)
            .open(keys.path().join("known_hosts"))
            .expect("known_hosts");
        writeln!(known, "[127.0.0.1]:{port} {line}").expect("writing known_hosts");
        let (fingerprint, served) = (keys.user_fingerprint(), root.clone());
        rt.spawn(async move {
            let _ = server
                .run(move |_| Files {
                    user_fingerprint: fingerprint.clone(),
                    root: served.clone(),
                })
                .await;
        });
        let config = keys.path().join("ssh_config");
        let Some(ran) = run_sftp(
            &config,
            port,
            &work.path().join("batch"),
            &[
                format!("put -r -p {} /tree", q(&src)),
                format!("get -r -p /tree {}", q(&back)),
                "ls -l /".to_owned(),
            ],
        ) else {
            return;
        };
        assert!(ran.status.success(), "sftp: {}", text(&ran.stderr));
        tree::assert_same(&src, &root.join("tree"), true);
        tree::assert_same(&src, &back, true);
        drop(rt);
    }
}
