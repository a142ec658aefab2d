//! `seashell -G` against `ssh -G` over the configurations in `conformance/ssh_config_corpus/`
//! (Debian's and Fedora's shipped `ssh_config` with their `ssh_config.d` trees, `Include`
//! of directories and nested includes, `Match final all`, every `Match` criterion, tokens,
//! first-value-wins, forwards, errors with file and line).
//!
//! Each corpus directory holds `ssh_config` (given to `-F`), the files it includes, and
//! `cases`: one command line per line (flags, then the host). `@DIR@` in any file is the
//! directory the case was copied to, so absolute `Include`s stay inside it. A configuration whose first line is `#openssh10` uses
//! criteria OpenSSH 9.2 lacks and is checked against OpenSSH 10 (`SEASHELL_OPENSSH10`, else
//! `/opt/openssh10`) only. With `SEASHELL_SSH_CONFIG_ALL_OPENSSH10` set, every configuration
//! is checked against OpenSSH 10 instead of the system's 9.2, except the command lines in
//! [`DIFFERENT_IN_OPENSSH10`], where 10.0 changed behaviour and Seashell follows 9.2.
//!
//! What is compared: `ssh -G`'s lines for the keywords Seashell supports
//! ([`seashell_config::DUMPED_KEYWORDS`] and `host`), in order. Two kinds of value follow
//! each implementation's own defaults and are compared only when the configuration changes
//! them (ssh's line differs from its default): the algorithm lists (and those are compared on
//! the algorithms Seashell implements) and the default `identityfile` list. When ssh fails,
//! seashell must fail too, with the same messages about the configuration.

use seashell_conformance::seashell_bin;
use seashell_proto::config::AlgorithmSlot;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ssh_config_corpus");

/// Keywords whose default is each implementation's own.
const OWN_DEFAULTS: [&str; 6] = [
    "ciphers",
    "macs",
    "kexalgorithms",
    "hostkeyalgorithms",
    "pubkeyacceptedalgorithms",
    "identityfile",
];

/// (configuration, command line) where OpenSSH 10.0's `-G` differs from 9.2's and Seashell
/// follows 9.2: 10.0 lets `ProxyJump none` block a later `ProxyCommand`, and prints `-C` as
/// `compression UNKNOWN`.
const DIFFERENT_IN_OPENSSH10: [(&str, &str); 2] = [
    ("20-proxyjump", "j3"),
    ("35-cmdline-vs-config", "-l flaguser -p 99 -C -t cl"),
];

fn openssh10() -> Option<PathBuf> {
    let root = std::env::var_os("SEASHELL_OPENSSH10")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/openssh10"));
    let bin = root.join("usr/bin/ssh");
    bin.exists().then_some(bin)
}

/// Copies a corpus directory to `to`, replacing `@DIR@` with `to`.
fn copy_tree(from: &Path, to: &Path) {
    for e in fs::read_dir(from).expect("corpus directory") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            fs::create_dir_all(&dest).expect("mkdir");
            copy_tree(&e.path(), &dest);
        } else {
            let text = fs::read_to_string(e.path()).expect("corpus file");
            let text = text.replace("@DIR@", &to.display().to_string());
            fs::write(&dest, text).expect("write");
        }
    }
}

/// The home directory in the password database (ssh's `~`).
fn passwd_home() -> String {
    let out = Command::new("sh")
        .args(["-c", "getent passwd \"$(id -u)\" | cut -d: -f6"])
        .output()
        .expect("getent");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs a `-G` with HOME set to the password database's home: ssh's `~` is that one,
/// Seashell's is `$HOME` (`-F` keeps the user's `~/.ssh/config` out of both).
fn run(bin: &Path, _dir: &Path, args: &[String]) -> Output {
    Command::new(bin)
        .args(args)
        .env("HOME", passwd_home())
        .env("SEASHELL_TEST_VAR", "from-env")
        .stdin(Stdio::null())
        .output()
        .expect("run")
}

/// `keyword value` lines grouped by keyword, in order.
fn by_key(out: &str) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in out.lines() {
        let k = l.split(' ').next().unwrap_or_default().to_owned();
        m.entry(k).or_default().push(l.to_owned());
    }
    m
}

fn supported_keys() -> Vec<String> {
    let mut keys: Vec<String> = seashell_config::DUMPED_KEYWORDS
        .iter()
        .map(|k| k.name().to_owned())
        .collect();
    keys.push("host".to_owned());
    keys
}

/// An algorithm line reduced to the names Seashell implements.
fn seashell_algorithms(line: &str) -> String {
    let (key, list) = line.split_once(' ').unwrap_or((line, ""));
    let slot = match key {
        "ciphers" => AlgorithmSlot::Cipher,
        "macs" => AlgorithmSlot::Mac,
        "kexalgorithms" => AlgorithmSlot::Kex,
        "hostkeyalgorithms" => AlgorithmSlot::HostKey,
        "pubkeyacceptedalgorithms" => AlgorithmSlot::PubkeyAccepted,
        _ => return line.to_owned(),
    };
    let supported = slot.supported();
    let kept: Vec<&str> = list.split(',').filter(|n| supported.contains(n)).collect();
    format!("{key} {}", kept.join(","))
}

/// The lines compared: supported keywords, own-default keywords only when changed.
fn comparable(
    out: &str,
    defaults: &BTreeMap<String, Vec<String>>,
    changed: &[String],
) -> Vec<String> {
    let keys = supported_keys();
    out.lines()
        .filter(|l| {
            let k = l.split(' ').next().unwrap_or_default();
            keys.iter().any(|s| s == k)
        })
        .filter(|l| {
            let k = l.split(' ').next().unwrap_or_default();
            !OWN_DEFAULTS.contains(&k) || changed.iter().any(|c| c == k)
        })
        .map(seashell_algorithms)
        .filter(|_| !defaults.is_empty())
        .collect()
}

/// ssh's messages about the configuration (not its other notes).
fn config_messages(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.starts_with("Pseudo-terminal") && !l.starts_with("Warning: Identity file"))
        .map(str::to_owned)
        .collect()
}

/// A readable line diff.
fn diff(want: &[String], got: &[String]) -> String {
    let mut s = String::new();
    let n = want.len().max(got.len());
    for i in 0..n {
        match (want.get(i), got.get(i)) {
            (Some(w), Some(g)) if w == g => s.push_str(&format!("    {w}\n")),
            (w, g) => {
                if let Some(w) = w {
                    s.push_str(&format!("  - {w}   (ssh)\n"));
                }
                if let Some(g) = g {
                    s.push_str(&format!("  + {g}   (seashell)\n"));
                }
            }
        }
    }
    s
}

#[test]
fn seashell_dash_g_equals_ssh_dash_g_over_the_corpus() {
    let mut dirs: Vec<PathBuf> = fs::read_dir(CORPUS)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 30,
        "the corpus has {} configurations",
        dirs.len()
    );
    let ssh92 = PathBuf::from("/usr/bin/ssh");
    let ssh10 = openssh10();
    let mut failures = Vec::new();
    let (mut compared, mut skipped) = (0, 0);
    for dir in &dirs {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().canonicalize().expect("canonical tempdir");
        copy_tree(dir, &root);
        let config = root.join("ssh_config");
        let text = fs::read_to_string(&config).expect("ssh_config");
        let all_on_10 = std::env::var_os("SEASHELL_SSH_CONFIG_ALL_OPENSSH10").is_some();
        let ssh = if text.starts_with("#openssh10") || all_on_10 {
            match &ssh10 {
                Some(b) => b.clone(),
                None => {
                    eprintln!("{name}: skipped (needs OpenSSH 10)");
                    skipped += 1;
                    continue;
                }
            }
        } else {
            ssh92.clone()
        };
        let defaults_out = run(
            &ssh,
            &root,
            &["-G".into(), "-F".into(), "none".into(), "h".into()],
        );
        let defaults = by_key(&String::from_utf8_lossy(&defaults_out.stdout));
        let cases = fs::read_to_string(root.join("cases")).expect("cases");
        for case in cases.lines().filter(|l| !l.trim().is_empty()) {
            if all_on_10 && DIFFERENT_IN_OPENSSH10.contains(&(name.as_str(), case)) {
                continue;
            }
            let mut args: Vec<String> =
                vec!["-G".into(), "-F".into(), config.display().to_string()];
            args.extend(case.split_whitespace().map(str::to_owned));
            let theirs = run(&ssh, &root, &args);
            let ours = run(seashell_bin(), &root, &args);
            compared += 1;
            let label = format!("{name}: {} -G -F ssh_config {case}", ssh.display());
            if !theirs.status.success() {
                let want = config_messages(&theirs.stderr);
                let got = config_messages(&ours.stderr);
                if ours.status.code() != Some(255) || want != got {
                    failures.push(format!(
                        "{label}\n  ssh failed ({:?}), seashell exited {:?}\n{}",
                        theirs.status.code(),
                        ours.status.code(),
                        diff(&want, &got)
                    ));
                }
                continue;
            }
            let theirs_out = String::from_utf8_lossy(&theirs.stdout).into_owned();
            let changed: Vec<String> = OWN_DEFAULTS
                .iter()
                .filter(|k| by_key(&theirs_out).get(**k) != defaults.get(**k))
                .map(|k| (*k).to_owned())
                .collect();
            let want = comparable(&theirs_out, &defaults, &changed);
            let got = comparable(&String::from_utf8_lossy(&ours.stdout), &defaults, &changed);
            if !ours.status.success() || want != got {
                failures.push(format!(
                    "{label}\n  seashell exited {:?}: {}\n{}",
                    ours.status.code(),
                    String::from_utf8_lossy(&ours.stderr).trim(),
                    diff(&want, &got)
                ));
            }
        }
    }
    eprintln!("{compared} command lines compared, {skipped} configurations skipped");
    assert!(
        failures.is_empty(),
        "{} differences:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A `Host` alias from `-F` (HostName, Port, User, IdentityFile, known hosts, through an
/// `Include` of a `conf.d` directory) is what a real login to a private sshd uses, also
/// through a `ProxyJump` alias resolved from the same file; the command line still wins.
#[test]
fn a_host_alias_from_dash_f_logs_in_to_a_private_sshd() {
    use seashell_conformance::{KeyKind, SshdOptions, start_sshd};
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir_all(root.join("conf.d")).expect("mkdir");
    let user = sshd.login_user();
    fs::write(
        root.join("conf.d/10-alias.conf"),
        format!(
            "Host myalias viajump\n    HostName 127.0.0.1\n    Port {port}\n    User {user}\n    IdentityFile {key}\n    UserKnownHostsFile {known}\nHost viajump\n    ProxyJump jumpalias\nHost jumpalias\n    HostName 127.0.0.1\n    Port {port}\n    User {user}\n",
            port = sshd.port(),
            key = sshd.user_key(KeyKind::Ed25519).display(),
            known = sshd.known_hosts_file().display(),
        ),
    )
    .expect("conf.d file");
    let config = root.join("config");
    fs::write(
        &config,
        format!(
            "Include {}/conf.d/*.conf\nHost *\n    Port 1\n    User nobody-such\n    StrictHostKeyChecking yes\n    BatchMode yes\n",
            root.display()
        ),
    )
    .expect("config");
    let login_to = |alias: &str, extra: &[&str]| {
        Command::new(seashell_bin())
            .args(["-F", &config.display().to_string()])
            .args(extra)
            .args([alias, "echo logged-in as $(id -un)"])
            .env("HOME", root)
            .stdin(Stdio::null())
            .output()
            .expect("run seashell")
    };
    let login = |extra: &[&str]| login_to("myalias", extra);
    let o = login(&[]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned()
        ),
        (Some(0), format!("logged-in as {user}\n")),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A ProxyJump alias is resolved through the configuration too (its HostName, Port, User).
    let o = login_to("viajump", &["-v"]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned()
        ),
        (Some(0), format!("logged-in as {user}\n")),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("(via proxy)"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The command line comes first: a wrong port given with -p is used (and fails).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = closed.local_addr().expect("addr").port().to_string();
    drop(closed);
    let o = login(&["-p", &port]);
    assert_eq!(o.status.code(), Some(255));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("connect to host 127.0.0.1 port {port}")),
        "{err}"
    );
}
