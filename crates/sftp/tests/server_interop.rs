//! OpenSSH's `sftp` client (9.x, and 10.x when `SEASHELL_OPENSSH10` is set) driving our
//! `seashell-sftp-server` binary with `sftp -D` in batch mode: put/get byte-exact, `ls -l`,
//! mkdir/rmdir, rename, `ln`/`ln -s`, chmod, df, reget/reput, cp (copy-data), read-only
//! mode and confinement. The client only uses `df`, hard `ln`, `cp` and the user names of
//! `ls -l` when our VERSION advertises the matching extensions.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const SERVER: &str = env!("CARGO_BIN_EXE_seashell-sftp-server");

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The `sftp` clients to try: the system's, and OpenSSH 10's when installed.
fn clients() -> Vec<PathBuf> {
    let mut v = Vec::new();
    let system = PathBuf::from("/usr/bin/sftp");
    if system.exists() {
        v.push(system);
    } else {
        assert!(!in_ci(), "OpenSSH's sftp not found");
        eprintln!("skipped: /usr/bin/sftp not found");
    }
    match std::env::var_os("SEASHELL_OPENSSH10") {
        Some(root) => v.push(PathBuf::from(root).join("usr/bin/sftp")),
        None => eprintln!("OpenSSH 10 not tested: SEASHELL_OPENSSH10 is not set"),
    }
    v
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `sftp -D "<server> <args>" -b <batch>` in `local` (the client's working directory).
fn sftp(client: &Path, server_args: &str, local: &Path, batch: &str) -> Run {
    let batch_file = local.join(".batch");
    std::fs::write(&batch_file, batch).unwrap();
    let out = Command::new(client)
        .arg("-D")
        .arg(format!("{SERVER} {server_args}"))
        .arg("-b")
        .arg(&batch_file)
        .current_dir(local)
        .output()
        .unwrap();
    std::fs::remove_file(&batch_file).unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

struct Dirs {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    local: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let local = tmp.path().join("local");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&local).unwrap();
    Dirs {
        _tmp: tmp,
        root,
        local,
    }
}

#[test]
fn openssh_sftp_batch_against_our_server() {
    for client in clients() {
        let d = dirs();
        let big = random_bytes(1_500_000, 7);
        std::fs::write(d.local.join("big"), &big).unwrap();
        std::fs::write(d.local.join("empty"), b"").unwrap();
        std::fs::write(d.root.join("remote.txt"), b"remote contents\n").unwrap();
        let batch = "\
            pwd\n\
            put big\n\
            put empty\n\
            get big big.back\n\
            get remote.txt\n\
            mkdir dir\n\
            mkdir gone\n\
            rmdir gone\n\
            put big dir/nested\n\
            rename dir/nested dir/renamed\n\
            ln -s big biglink\n\
            ln big bighard\n\
            chmod 600 big\n\
            cp big bigcopy\n\
            df\n\
            ls -l\n\
            ls -l dir\n\
            cd dir\n\
            pwd\n\
            get renamed renamed.back\n\
            ";
        let r = sftp(
            &client,
            &format!("-r {}", d.root.display()),
            &d.local,
            batch,
        );
        assert!(r.ok, "{}: {}\n{}", client.display(), r.stdout, r.stderr);
        let c = client.display();
        assert_eq!(std::fs::read(d.root.join("big")).unwrap(), big, "{c} put");
        assert_eq!(
            std::fs::read(d.local.join("big.back")).unwrap(),
            big,
            "{c} get"
        );
        assert_eq!(std::fs::read(d.root.join("empty")).unwrap(), b"");
        assert_eq!(
            std::fs::read(d.local.join("remote.txt")).unwrap(),
            b"remote contents\n"
        );
        assert!(d.root.join("dir").is_dir() && !d.root.join("gone").exists());
        assert_eq!(std::fs::read(d.root.join("dir/renamed")).unwrap(), big);
        assert_eq!(std::fs::read(d.local.join("renamed.back")).unwrap(), big);
        assert_eq!(
            std::fs::read_link(d.root.join("biglink")).unwrap(),
            Path::new("big")
        );
        assert_eq!(std::fs::metadata(d.root.join("big")).unwrap().nlink(), 2);
        assert_eq!(
            std::fs::metadata(d.root.join("big"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::read(d.root.join("bigcopy")).unwrap(),
            big,
            "{c} cp"
        );
        // pwd, df and ls -l output.
        assert!(
            r.stdout.contains("Remote working directory: /\n"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("Remote working directory: /dir\n"));
        assert!(r.stdout.contains("%Capacity"), "{}", r.stdout);
        let line = r
            .stdout
            .lines()
            .find(|l| !l.starts_with("sftp>") && l.ends_with(" bigcopy"))
            .unwrap_or_else(|| panic!("{}", r.stdout));
        assert!(line.starts_with("-rw-"), "{line}");
        assert!(line.contains(" 1500000 "), "{line}");
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with("l") && l.contains("biglink"))
        );
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with("d") && l.ends_with(" dir"))
        );
    }
}

#[test]
fn openssh_sftp_reget_and_reput() {
    for client in clients() {
        let d = dirs();
        let data = random_bytes(900_000, 11);
        std::fs::write(d.root.join("down"), &data).unwrap();
        std::fs::write(d.local.join("down"), &data[..300_000]).unwrap();
        std::fs::write(d.local.join("up"), &data).unwrap();
        std::fs::write(d.root.join("up"), &data[..400_000]).unwrap();
        let r = sftp(
            &client,
            &format!("-r {}", d.root.display()),
            &d.local,
            "reget down\nreput up\n",
        );
        assert!(r.ok, "{}\n{}", r.stdout, r.stderr);
        assert!(
            std::fs::read(d.local.join("down")).unwrap() == data,
            "reget"
        );
        assert!(std::fs::read(d.root.join("up")).unwrap() == data, "reput");
    }
}

#[test]
fn openssh_sftp_read_only_and_confined() {
    for client in clients() {
        let d = dirs();
        std::fs::write(d.root.join("f"), b"inside").unwrap();
        std::fs::write(d.local.join("l"), b"local").unwrap();
        let outside = d.root.parent().unwrap().join("secret");
        std::fs::write(&outside, b"secret").unwrap();
        std::os::unix::fs::symlink("../secret", d.root.join("esc")).unwrap();
        // `-` before a command: carry on after an error.
        let batch = "\
            -put l\n\
            -mkdir d\n\
            -rm f\n\
            -rename f g\n\
            -chmod 777 f\n\
            -ln -s f s\n\
            get f f.back\n\
            -get ../secret s1\n\
            -get /../../secret s2\n\
            -get esc s3\n\
            cd ../../..\n\
            pwd\n\
            ";
        let args = format!("-R -r {}", d.root.display());
        let r = sftp(&client, &args, &d.local, batch);
        assert!(r.ok, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(std::fs::read(d.local.join("f.back")).unwrap(), b"inside");
        let mut names: Vec<_> = std::fs::read_dir(&d.root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["esc", "f"]);
        for s in ["s1", "s2", "s3"] {
            assert!(!d.local.join(s).exists(), "{s} was fetched");
        }
        assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
        assert!(r.stdout.contains("Remote working directory: /\n"));
        assert_eq!(std::fs::read(&outside).unwrap(), b"secret");
    }
}

#[test]
fn start_directory() {
    for client in clients() {
        let d = dirs();
        std::fs::create_dir_all(d.root.join("home/user")).unwrap();
        std::fs::write(d.root.join("home/user/hello"), b"hi").unwrap();
        let args = format!("-r {} -d /home/user", d.root.display());
        let r = sftp(&client, &args, &d.local, "pwd\nget hello\n");
        assert!(r.ok, "{}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("Remote working directory: /home/user\n"));
        assert_eq!(std::fs::read(d.local.join("hello")).unwrap(), b"hi");
    }
}

/// The `ls -l` long names of READDIR, byte for byte as OpenSSH's `sftp-server` writes them
/// (its dates in UTC, as ours).
#[test]
fn longnames_match_openssh_sftp_server() {
    use std::io::{Read, Write};
    use std::process::Stdio;

    use seashell_sftp::{Framer, Request, Response, StatusCode};

    let theirs = Path::new("/usr/lib/openssh/sftp-server");
    if !theirs.exists() {
        assert!(!in_ci(), "OpenSSH's sftp-server not found");
        eprintln!("skipped: {} not found", theirs.display());
        return;
    }
    let d = dirs();
    let dir = d.root.join("d");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("old"), b"hello").unwrap();
    std::fs::set_permissions(dir.join("old"), PermissionsExt::from_mode(0o4751)).unwrap();
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_577_934_240);
    let f = std::fs::File::options()
        .write(true)
        .open(dir.join("old"))
        .unwrap();
    f.set_modified(old).unwrap();
    std::fs::write(dir.join("new"), vec![0u8; 123_456]).unwrap();
    std::os::unix::fs::symlink("old", dir.join("link")).unwrap();

    let list = |cmd: &mut Command| -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut child = cmd
            .env("TZ", "UTC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut framer = Framer::new();
        let mut pending = Vec::new();
        let mut call = |req: Request| -> Response {
            stdin.write_all(&req.encode_framed().unwrap()).unwrap();
            stdin.flush().unwrap();
            loop {
                let mut input = &pending[..];
                let got = framer.feed(&mut input).unwrap();
                pending = input.to_vec();
                if let Some(p) = got {
                    return Response::decode(&p).unwrap();
                }
                let mut buf = [0u8; 65536];
                let n = stdout.read(&mut buf).unwrap();
                assert!(n > 0, "server closed");
                pending.extend_from_slice(&buf[..n]);
            }
        };
        call(Request::Init {
            version: 3,
            extensions: vec![],
        });
        let Response::Handle { handle, .. } = call(Request::OpenDir {
            id: 1,
            path: dir.as_os_str().as_encoded_bytes().to_vec(),
        }) else {
            panic!()
        };
        let mut all = Vec::new();
        loop {
            match call(Request::ReadDir {
                id: 2,
                handle: handle.clone(),
            }) {
                Response::Name { entries, .. } => {
                    all.extend(entries.into_iter().map(|e| (e.filename, e.longname)))
                }
                Response::Status {
                    code: StatusCode::Eof,
                    ..
                } => break,
                other => panic!("{other:?}"),
            }
        }
        drop(stdin);
        child.wait().unwrap();
        all.sort();
        all
    };
    let want = list(&mut Command::new(theirs));
    let got = list(&mut Command::new(SERVER));
    assert_eq!(want.len(), 6);
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(
            String::from_utf8_lossy(&g.1),
            String::from_utf8_lossy(&w.1),
            "long name of {}",
            String::from_utf8_lossy(&w.0)
        );
    }
    assert_eq!(got, want);
}
