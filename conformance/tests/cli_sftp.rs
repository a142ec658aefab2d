//! `seashell sftp` and `seashell cp` through the real binary against a private OpenSSH sshd
//! (its `internal-sftp`): a batch that sends a small tree up and back with `-r -p` (byte-exact,
//! modes and modification times kept), the file commands with OpenSSH's output (`ls -l`,
//! `df`, messages on stderr), `-` ignoring a failure and the first other failure ending the
//! batch with status 1; `cp -r -p` both ways with scp's errors and exit statuses; and an
//! interactive session in a tmux pane: the prompt, Ctrl-C at it, a progress meter during a
//! `get`, `bye`.
//!
//! Skipped (with a note) when sshd is missing; the interactive test also needs tmux.

use seashell_conformance::tmux::Tmux;
use seashell_conformance::{KeyKind, Sshd, SshdOptions, seashell_bin, start_sshd};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// A hung client fails its test after this long.
const LIMIT: Duration = Duration::from_secs(60);

/// A private sshd, a scratch directory every user may write (the login user may not be
/// us), and an empty HOME for the client.
struct Fixture {
    sshd: Sshd,
    dir: tempfile::TempDir,
}

fn setup() -> Option<Fixture> {
    let sshd = start_sshd(SshdOptions::default())?;
    let dir = tempfile::tempdir().expect("temp dir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).expect("chmod");
    fs::create_dir(dir.path().join("home")).expect("home");
    Some(Fixture { sshd, dir })
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn dest(&self) -> String {
        format!("{}@127.0.0.1", self.sshd.login_user())
    }

    /// `seashell SUB` with the key, the server's known_hosts and batch mode, before the
    /// operands.
    fn cmd(&self, sub: &str, port_flag: &str) -> Command {
        let mut cmd = Command::new(seashell_bin());
        cmd.arg(sub)
            .args([port_flag, &self.sshd.port().to_string(), "-i"])
            .arg(self.sshd.user_key(KeyKind::Ed25519))
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.sshd.known_hosts_file().display()
            ))
            .args(["-o", "BatchMode=yes"])
            .env("HOME", self.path("home"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// `seashell sftp -b FILE` with `batch` as the file.
    fn batch(&self, batch: &str) -> Output {
        let file = self.path("batch");
        fs::write(&file, batch).expect("batch file");
        let mut cmd = self.cmd("sftp", "-P");
        cmd.arg("-b").arg(&file).arg(self.dest());
        run(&mut cmd)
    }

    /// `seashell cp [flags] operands`.
    fn cp(&self, flags: &[&str], operands: &[String]) -> Output {
        let mut cmd = self.cmd("cp", "-P");
        cmd.args(flags).args(operands);
        run(&mut cmd)
    }
}

/// Runs a command with [`LIMIT`].
fn run(cmd: &mut Command) -> Output {
    let child = cmd.spawn().expect("spawning seashell");
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    let deadline = Instant::now() + LIMIT;
    while !waiter.is_finished() {
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("seashell did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    waiter
        .join()
        .expect("waiter")
        .expect("waiting for seashell")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// 2020-01-01T00:00:00Z and later: fixed times to see `-p` keep them.
const T0: u64 = 1_577_836_800;

fn set_mtime(path: &Path, secs: u64) {
    let f = fs::File::open(path).expect("open for times");
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .expect("set mtime");
}

/// A small tree: nested directories (one empty), a 300 KiB file of varied bytes, a name with
/// a space, odd modes and old times.
fn make_tree(root: &Path) {
    fs::create_dir_all(root.join("a/b")).expect("mkdir");
    fs::create_dir(root.join("empty")).expect("mkdir");
    let big: Vec<u8> = (0..300 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let files: [(&str, &[u8], u32); 4] = [
        ("f1", b"hi\n", 0o640),
        ("a/run.sh", b"#!/bin/sh\necho x\n", 0o755),
        ("a/b/big.bin", &big, 0o600),
        ("sp ace.txt", b"space\n", 0o644),
    ];
    for (i, (name, data, mode)) in files.iter().enumerate() {
        let p = root.join(name);
        fs::write(&p, data).expect("write");
        fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).expect("chmod");
        set_mtime(&p, T0 + 1000 * i as u64);
    }
    fs::set_permissions(root.join("a/b"), fs::Permissions::from_mode(0o750)).expect("chmod");
    for (i, d) in ["a/b", "a", "empty", ""].iter().enumerate() {
        set_mtime(&root.join(d), T0 + 50_000 + i as u64);
    }
}

/// Every entry under `root`: relative path, kind, mode bits, mtime, contents.
fn snapshot(root: &Path) -> Vec<(String, bool, u32, u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).expect("read_dir") {
            let e = e.expect("entry");
            let p = e.path();
            let m = fs::symlink_metadata(&p).expect("metadata");
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            let mtime = m
                .modified()
                .expect("mtime")
                .duration_since(UNIX_EPOCH)
                .expect("after epoch")
                .as_secs();
            let data = if m.is_file() {
                fs::read(&p).expect("read")
            } else {
                Vec::new()
            };
            if m.is_dir() {
                stack.push(p);
            }
            out.push((
                rel,
                m.is_dir(),
                m.permissions().mode() & 0o7777,
                mtime,
                data,
            ));
        }
    }
    out.sort();
    out
}

/// Asserts two trees are the same (directory mtimes aside: they change as entries arrive).
fn assert_same_tree(want: &Path, got: &Path) {
    let strip_dir_times = |v: Vec<(String, bool, u32, u64, Vec<u8>)>| -> Vec<_> {
        v.into_iter()
            .map(|(n, d, m, t, c)| (n, d, m, if d { 0 } else { t }, c))
            .collect()
    };
    let (w, g) = (
        strip_dir_times(snapshot(want)),
        strip_dir_times(snapshot(got)),
    );
    let names = |v: &[(String, bool, u32, u64, Vec<u8>)]| -> Vec<String> {
        v.iter()
            .map(|e| format!("{} {:o} {}", e.0, e.2, e.3))
            .collect()
    };
    assert_eq!(
        names(&w),
        names(&g),
        "{} vs {}",
        want.display(),
        got.display()
    );
    assert!(
        w == g,
        "contents differ: {} vs {}",
        want.display(),
        got.display()
    );
}

#[test]
fn batch_put_and_get_a_tree_with_modes_and_times() {
    let Some(fx) = setup() else { return };
    make_tree(&fx.path("tree"));
    fs::create_dir(fx.path("remote")).expect("mkdir");
    fs::set_permissions(fx.path("remote"), fs::Permissions::from_mode(0o777)).expect("chmod");
    let o = fx.batch(&format!(
        "put -r -p {tree} {remote}/up\nget -r -p {remote}/up {back}\nput -p {tree}/f1 {remote}/single\nget -p {remote}/single {single}\n",
        tree = fx.p("tree"),
        remote = fx.p("remote"),
        back = fx.p("back"),
        single = fx.p("single"),
    ));
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // Batch mode: commands echoed, no other messages, no progress meter.
    let out = text(&o.stdout);
    assert!(
        out.starts_with(&format!("sftp> put -r -p {}", fx.p("tree"))),
        "{out}"
    );
    assert!(!out.contains("Uploading") && !out.contains('%'), "{out}");
    assert_same_tree(&fx.path("tree"), &fx.path("remote/up"));
    assert_same_tree(&fx.path("tree"), &fx.path("back"));
    assert_eq!(fs::read(fx.path("single")).expect("single"), b"hi\n");
    let m = fs::metadata(fx.path("single")).expect("single");
    assert_eq!(m.permissions().mode() & 0o777, 0o640);
    let mtime = m.modified().expect("mtime").duration_since(UNIX_EPOCH);
    assert_eq!(mtime.expect("epoch").as_secs(), T0);
}

#[test]
fn batch_file_commands_output_and_failures() {
    let Some(fx) = setup() else { return };
    let r = fx.p("r");
    fs::create_dir(fx.path("r")).expect("mkdir");
    fs::set_permissions(fx.path("r"), fs::Permissions::from_mode(0o777)).expect("chmod");
    fs::write(fx.path("local.txt"), b"12345").expect("write");
    set_mtime(&fx.path("local.txt"), T0);
    let batch = format!(
        "mkdir {r}/d1\n\
         -rm {r}/nothere\n\
         rename {r}/d1 {r}/d2\n\
         ln -s d2 {r}/l2\n\
         cd {r}\n\
         pwd\n\
         put -p local.txt d2/f1\n\
         chmod 600 d2/f1\n\
         ls -l d2\n\
         @ls\n\
         ls -1 {r}\n\
         df\n\
         df -h\n\
         version\n\
         rm d2/f1\n\
         rm l2\n\
         rmdir d2\n\
         rmdir {r}/nothere\n\
         mkdir {r}/after\n"
    );
    let o = fx.batch(&batch);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    // The failing rmdir ends the batch: status 1, `mkdir after` never runs.
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(!fx.path("r/after").exists(), "{}", show(&o));
    assert!(
        err.contains(&format!(
            "remote delete {r}/nothere: No such file or directory"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "remote rmdir \"{r}/nothere\": No such file or directory"
        )),
        "{err}"
    );
    assert!(out.contains(&format!("sftp> -rm {r}/nothere\n")), "{out}");
    assert!(
        out.contains(&format!("Remote working directory: {r}\n")),
        "{out}"
    );
    // `ls -l`: OpenSSH's long format, relative to the working directory.
    let user = fx.sshd.login_user();
    let line = out
        .lines()
        .find(|l| l.ends_with(" d2/f1") && !l.starts_with("sftp>"))
        .unwrap_or_else(|| panic!("no ls -l line in {out}"));
    let want = format!("-rw-------    ? {user:<8} ");
    assert!(line.starts_with(&want), "{line:?} vs {want:?}");
    assert!(line.contains("        5 Jan  1  2020 d2/f1"), "{line:?}");
    // `@ls` is not echoed; `ls -1` lists d2 and the link.
    assert!(
        !out.contains("sftp> @ls") && !out.contains("sftp> ls\n"),
        "{out}"
    );
    assert!(out.contains(&format!("{r}/d2\n{r}/l2\n")), "{out}");
    assert!(out.contains("        Size         Used        Avail       (root)    %Capacity\n"));
    assert!(out.contains("    Size     Used    Avail   (root)    %Capacity\n"));
    assert!(out.contains("SFTP protocol version 3\n"), "{out}");
    // What the commands did, seen from here.
    assert!(
        !fx.path("r/d1").exists() && !fx.path("r/d2").exists(),
        "{out}"
    );
    assert!(!fx.path("r/l2").exists(), "{out}");
}

#[test]
fn batch_errors_and_what_is_done_on_the_way() {
    let Some(fx) = setup() else { return };
    let r = fx.p("r2");
    fs::create_dir(fx.path("r2")).expect("mkdir");
    fs::set_permissions(fx.path("r2"), fs::Permissions::from_mode(0o777)).expect("chmod");
    let o = fx.batch(&format!(
        "mkdir {r}/x\nln -s x {r}/lx\nchmod 700 {r}/x\n-get {r}/missing\n-bogus\n-get\nput {r}/nolocal\nmkdir {r}/after\n"
    ));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        err.contains(&format!("File \"{r}/missing\" not found.")),
        "{err}"
    );
    assert!(err.contains("Invalid command."), "{err}");
    assert!(
        err.contains("You must specify at least one path after a get command."),
        "{err}"
    );
    let m = fs::symlink_metadata(fx.path("r2/lx")).expect("link");
    assert!(m.file_type().is_symlink());
    assert_eq!(
        fs::read_link(fx.path("r2/lx")).expect("readlink"),
        Path::new("x")
    );
    let mode = fs::metadata(fx.path("r2/x"))
        .expect("x")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    // A missing batch file: OpenSSH's message, nothing connects.
    let mut cmd = fx.cmd("sftp", "-P");
    let o = run(cmd.args(["-b", "/nonexistent/batch"]).arg(fx.dest()));
    assert_eq!(o.status.code(), Some(255), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("No such file or directory (/nonexistent/batch)."),
        "{}",
        show(&o)
    );
}

#[test]
fn cp_recursive_both_ways_and_errors() {
    let Some(fx) = setup() else { return };
    make_tree(&fx.path("tree"));
    fs::create_dir(fx.path("remote")).expect("mkdir");
    fs::set_permissions(fx.path("remote"), fs::Permissions::from_mode(0o777)).expect("chmod");
    let host = fx.dest();
    let o = fx.cp(
        &["-r", "-p"],
        &[fx.p("tree"), format!("{host}:{}", fx.p("remote"))],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // Not a terminal: no meter, nothing on stdout.
    assert!(o.stdout.is_empty(), "{}", show(&o));
    assert_same_tree(&fx.path("tree"), &fx.path("remote/tree"));
    fs::create_dir(fx.path("down")).expect("mkdir");
    let o = fx.cp(
        &["-rp"],
        &[format!("{host}:{}", fx.p("remote/tree")), fx.p("down")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_same_tree(&fx.path("tree"), &fx.path("down/tree"));
    // One file to a new name, and a pattern.
    let o = fx.cp(
        &[],
        &[format!("{host}:{}/tree/f*", fx.p("remote")), fx.p("one")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(fs::read(fx.path("one")).expect("one"), b"hi\n");
    // scp's errors and statuses.
    let o = fx.cp(&[], &[format!("{host}:/nonexistent/x"), fx.p("none")]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("/nonexistent/x: No such file or directory"),
        "{}",
        show(&o)
    );
    let o = fx.cp(&[], &[fx.p("tree"), format!("{host}:{}", fx.p("remote"))]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains(&format!("local \"{}\" is not a regular file", fx.p("tree"))),
        "{}",
        show(&o)
    );
    let o = fx.cp(&[], &[fx.p("missing"), format!("{host}:")]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("No such file or directory"),
        "{}",
        show(&o)
    );
    // A refused connection: 255.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut cmd = Command::new(seashell_bin());
    cmd.args(["cp", "-P", &port.to_string(), "-o", "BatchMode=yes"])
        .arg(fx.p("tree/f1"))
        .arg("127.0.0.1:x")
        .env("HOME", fx.path("home"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let o = run(&mut cmd);
    assert_eq!(o.status.code(), Some(255), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("Connection refused"),
        "{}",
        show(&o)
    );
}

#[test]
fn interactive_prompt_interrupt_progress_meter_and_bye() {
    if !seashell_conformance::tmux::available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let Some(fx) = setup() else { return };
    // A few MiB, so the meter is drawn.
    let big = fx.path("big.bin");
    let data: Vec<u8> = (0..6 << 20).map(|i: u32| (i % 251) as u8).collect();
    fs::write(&big, &data).expect("write");
    let tmux = Tmux::new(fx.path("tmux.sock"));
    let args = [
        "sftp".to_owned(),
        "-P".to_owned(),
        fx.sshd.port().to_string(),
        "-i".to_owned(),
        fx.sshd.user_key(KeyKind::Ed25519).display().to_string(),
        "-o".to_owned(),
        format!(
            "UserKnownHostsFile={}",
            fx.sshd.known_hosts_file().display()
        ),
        "-o".to_owned(),
        "BatchMode=yes".to_owned(),
        format!("{}:{}", fx.dest(), fx.dir.path().display()),
    ];
    let shell = format!(
        "cd {} && env HOME={} {} {}; echo STATUS=$?; sleep 600",
        fx.dir.path().display(),
        fx.p("home"),
        seashell_bin().display(),
        args.join(" ")
    );
    tmux.start("s", &shell);
    let pane = tmux.wait_for("s", "sftp> ");
    assert!(pane.contains("Connected to 127.0.0.1."), "{pane}");
    tmux.type_line("s", "pwd");
    tmux.wait_for(
        "s",
        &format!("Remote working directory: {}", fx.dir.path().display()),
    );
    tmux.type_line("s", "get big.bin copy.bin");
    let pane = tmux.wait_for("s", "100%");
    assert!(
        pane.contains(&format!("Fetching {} to copy.bin", fx.p("big.bin"))),
        "{pane}"
    );
    let meter = pane
        .lines()
        .find(|l| l.contains("100%"))
        .unwrap_or_default()
        .to_owned();
    assert!(meter.starts_with("big.bin "), "{meter:?}");
    assert!(meter.contains(" 100% 6144KB "), "{meter:?}");
    assert!(meter.contains("/s "), "{meter:?}");
    tmux.type_line("s", "progress");
    tmux.wait_for("s", "Progress meter disabled");
    tmux.type_line("s", "bye");
    tmux.wait_for("s", "STATUS=0");
    assert_eq!(fs::read(fx.path("copy.bin")).expect("copy"), data);
}

#[test]
fn ssh_config_alias_requests_and_destination_paths() {
    let Some(fx) = setup() else { return };
    fs::create_dir(fx.path("start")).expect("mkdir");
    fs::write(fx.path("start/file.txt"), b"from the start dir\n").expect("write");
    fs::set_permissions(fx.path("start"), fs::Permissions::from_mode(0o777)).expect("chmod");
    // Everything about the server comes from an ssh_config given with -F.
    let config = fx.path("ssh_config");
    fs::write(
        &config,
        format!(
            "Host alias\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n  UserKnownHostsFile {}\n  BatchMode yes\n",
            fx.sshd.port(),
            fx.sshd.login_user(),
            fx.sshd.user_key(KeyKind::Ed25519).display(),
            fx.sshd.known_hosts_file().display()
        ),
    )
    .expect("ssh_config");
    let seashell = |args: &[String]| {
        let mut cmd = Command::new(seashell_bin());
        cmd.args(args)
            .env("HOME", fx.path("home"))
            .current_dir(fx.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        run(&mut cmd)
    };
    let cfg = config.display().to_string();
    // `alias:dir` starts there; commands from a piped stdin are echoed, failures go on.
    fs::write(fx.path("cmds"), "pwd\nget nothere\nget file.txt got.txt\n").expect("cmds");
    let mut cmd = Command::new(seashell_bin());
    cmd.args(["sftp", "-F", &cfg, "-R", "4"])
        .arg(format!("alias:{}", fx.p("start")))
        .env("HOME", fx.path("home"))
        .current_dir(fx.dir.path())
        .stdin(fs::File::open(fx.path("cmds")).expect("cmds"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let o = run(&mut cmd);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!(
            "sftp> pwd\nRemote working directory: {}\n",
            fx.p("start")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("Fetching {}/file.txt to got.txt\n", fx.p("start"))),
        "{out}"
    );
    assert!(
        text(&o.stderr).starts_with("Connected to alias.\n"),
        "{}",
        show(&o)
    );
    assert_eq!(
        fs::read(fx.path("got.txt")).expect("got"),
        b"from the start dir\n"
    );
    // `alias:file local` fetches it and ends.
    let o = seashell(&[
        "sftp".into(),
        "-q".into(),
        "-F".into(),
        cfg.clone(),
        format!("alias:{}/file.txt", fx.p("start")),
        fx.p("fetched.txt"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(o.stderr.is_empty(), "{}", show(&o));
    assert_eq!(
        fs::read(fx.path("fetched.txt")).expect("fetched"),
        b"from the start dir\n"
    );
    let o = seashell(&[
        "sftp".into(),
        "-q".into(),
        "-F".into(),
        cfg.clone(),
        format!("alias:{}/missing", fx.p("start")),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    // cp through the alias, into a remote directory, relative to the login directory
    // when the path is not absolute.
    let o = seashell(&[
        "cp".into(),
        "-F".into(),
        cfg.clone(),
        fx.p("got.txt"),
        format!("alias:{}", fx.p("start")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(fx.path("start/got.txt").exists(), "{}", show(&o));
    // Usage errors.
    let o = seashell(&["sftp".into(), "-Z".into(), "alias".into()]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("unknown option -- Z"),
        "{}",
        show(&o)
    );
    assert!(
        text(&o.stderr).contains("usage: seashell sftp"),
        "{}",
        show(&o)
    );
    let o = seashell(&["cp".into(), "only-one".into()]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("usage: seashell cp"),
        "{}",
        show(&o)
    );
}
