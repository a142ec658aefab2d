//! Our blocking SFTP client (`seashell_blocking::sftp`) against a private OpenSSH sshd
//! running `/usr/lib/openssh/sftp-server`: a recursive put and get of a tree with `-p`
//! semantics (byte-exact, modes and times kept), resume, globbing, every `std::fs`-like call,
//! `File` random access against a local model, typed errors, and several threads on one
//! session. The remote side is on this machine, so results are checked with `std::fs`.
//!
//! The same tree also goes over a pipe to the `sftp-server` binary, with no SSH.
//!
//! `SEASHELL_SFTP_BIG=1` adds the acceptance-size run (1,000 files and a 512 MiB file);
//! `just sftp-interop` sets it.

use seashell_blocking::sftp::{OpenOptions, Sftp, StatusCode, StatusError, TransferOptions};
use seashell_blocking::{Client, Session};
use seashell_conformance::{KeyKind, Sshd, key_config, start_sftp_sshd, with_timeout};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

const LIMIT: Duration = Duration::from_secs(120);
const MIB: usize = 1 << 20;

fn login(sshd: &Sshd) -> Session {
    Client::connect(&sshd.addr(), key_config(sshd, KeyKind::Ed25519))
        .unwrap_or_else(|e| panic!("login failed: {e}"))
}

/// A scratch directory the login user owns (the tests run as root in CI, the server as
/// the login user).
fn scratch(sshd: &Sshd) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("seashell-sftp-")
        .tempdir()
        .unwrap_or_else(|e| panic!("tempdir: {e}"));
    give_to_login_user(sshd, dir.path());
    dir
}

fn give_to_login_user(sshd: &Sshd, path: &Path) {
    let user = sshd.login_user();
    let me = std::env::var("USER").unwrap_or_default();
    if user != me && rustix::process::geteuid().is_root() {
        let st = Command::new("chown")
            .arg("-R")
            .arg(&user)
            .arg(path)
            .status()
            .unwrap_or_else(|e| panic!("chown: {e}"));
        assert!(st.success(), "chown {user} {}", path.display());
    }
}

/// Deterministic bytes (xorshift), so a failure is reproducible.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn mtime(path: &Path) -> i64 {
    fs::metadata(path).map(|m| m.mtime()).unwrap_or(-1)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).map(|m| m.mode() & 0o7777).unwrap_or(0)
}

/// Builds `files` files in nested directories (3 levels) plus one `big`-byte file; modes
/// and mtimes vary. Returns the relative paths of the regular files.
fn build_tree(root: &Path, files: usize, big: usize) -> Vec<PathBuf> {
    let modes = [0o644, 0o600, 0o755, 0o640, 0o444];
    let mut out = Vec::new();
    for i in 0..files {
        let rel = PathBuf::from(format!("d{}/e{}/f{}/file{i}.dat", i % 3, i % 5, i % 2));
        let p = root.join(&rel);
        fs::create_dir_all(p.parent().unwrap_or(root)).unwrap();
        fs::write(&p, pattern(i as u64, (i * 997) % 70_000)).unwrap();
        out.push(rel);
    }
    let big_rel = PathBuf::from("big.bin");
    fs::write(root.join(&big_rel), pattern(7777, big)).unwrap();
    out.push(big_rel);
    for (i, rel) in out.iter().enumerate() {
        let p = root.join(rel);
        let t = UNIX_EPOCH + Duration::from_secs(1_600_000_000 + i as u64 * 3600);
        let f = fs::File::options().write(true).open(&p).unwrap();
        f.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
            .unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(modes[i % modes.len()])).unwrap();
    }
    // Directory modes and times too (set after their contents).
    for d in ["d0/e0", "d1", "d2/e4/f0"] {
        let p = root.join(d);
        if p.is_dir() {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o750)).unwrap();
            let t = UNIX_EPOCH + Duration::from_secs(1_500_000_000);
            let f = fs::File::open(&p).unwrap();
            f.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
                .unwrap();
        }
    }
    out
}

/// Checks that `b` is a byte-exact copy of `a` with modes and mtimes kept.
fn same_tree(a: &Path, b: &Path, files: &[PathBuf]) {
    for rel in files {
        let (x, y) = (a.join(rel), b.join(rel));
        let (dx, dy) = (fs::read(&x).unwrap(), fs::read(&y).unwrap_or_default());
        assert!(
            dx == dy,
            "{} differs ({} vs {} bytes)",
            rel.display(),
            dx.len(),
            dy.len()
        );
        assert_eq!(mode(&x), mode(&y), "mode of {}", rel.display());
        assert_eq!(mtime(&x), mtime(&y), "mtime of {}", rel.display());
    }
    for d in ["d0/e0", "d1", "d2/e4/f0"] {
        let (x, y) = (a.join(d), b.join(d));
        if x.is_dir() {
            assert_eq!(mode(&x), mode(&y), "mode of dir {d}");
            assert_eq!(mtime(&x), mtime(&y), "mtime of dir {d}");
        }
    }
}

/// A recursive put then get of a tree with `-p` through `sftp`, into `remote` (a directory
/// the server may write), which is `view` on this machine.
fn tree_round_trip(sftp: &Sftp, remote: &Path, view: &Path, files: usize, big: usize) {
    let local = tempfile::tempdir().unwrap();
    let rels = build_tree(local.path(), files, big);
    let progress: Arc<Mutex<BTreeMap<PathBuf, (u64, u64)>>> = Arc::default();
    let p = progress.clone();
    let opts = TransferOptions::new()
        .recursive(true)
        .preserve(true)
        .progress(move |path, done, total| {
            p.lock().unwrap().insert(path.to_path_buf(), (done, total));
        });
    let up = remote.join("up");
    let stats = sftp.put(local.path(), &up, &opts).unwrap();
    assert_eq!(stats.files, rels.len() as u64);
    same_tree(local.path(), &view.join("up"), &rels);
    let big_local = local.path().join("big.bin");
    let seen = progress.lock().unwrap().get(&big_local).copied();
    assert_eq!(
        seen,
        Some((big as u64, big as u64)),
        "put progress of big.bin"
    );

    let down = local.path().join("down");
    let stats = sftp.get(&up, &down, &opts).unwrap();
    assert_eq!(stats.files, rels.len() as u64);
    let total: u64 = rels
        .iter()
        .map(|r| fs::metadata(local.path().join(r)).unwrap().len())
        .sum();
    assert_eq!(stats.bytes, total);
    same_tree(local.path(), &down, &rels);
    let seen = progress.lock().unwrap().get(&up.join("big.bin")).copied();
    assert_eq!(
        seen,
        Some((big as u64, big as u64)),
        "get progress of big.bin"
    );
}

/// The tree round trip through sshd (the `sftp` subsystem on an SSH channel).
fn tree_over_ssh(files: usize, big: usize, limit: Duration) {
    let Some(sshd) = start_sftp_sshd() else {
        return;
    };
    with_timeout(limit, "sftp_client/tree", move || {
        let session = login(&sshd);
        let sftp = session.sftp().unwrap();
        let remote = scratch(&sshd);
        tree_round_trip(&sftp, remote.path(), remote.path(), files, big);
    });
}

/// OpenSSH's sftp-server binary (`SEASHELL_SFTP_SERVER` overrides); `None` (skipped, with a
/// note) when it is missing outside CI.
fn sftp_server_binary() -> Option<PathBuf> {
    let path = std::env::var_os("SEASHELL_SFTP_SERVER").map_or_else(
        || PathBuf::from("/usr/lib/openssh/sftp-server"),
        PathBuf::from,
    );
    if path.exists() {
        return Some(path);
    }
    assert!(
        !seashell_conformance::in_ci(),
        "{} is missing (apt-get install openssh-sftp-server)",
        path.display()
    );
    eprintln!("skipped: {} is missing", path.display());
    None
}

/// The tree round trip over a pipe to the sftp-server binary (no SSH).
fn tree_over_pipe(files: usize, big: usize, limit: Duration) {
    let Some(server) = sftp_server_binary() else {
        return;
    };
    with_timeout(limit, "sftp_client/pipe", move || {
        let mut child = Command::new(server)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (from, to) = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
        let sftp = Sftp::over_pipe(from, to).unwrap();
        assert!(sftp.limits().is_some(), "limits@openssh.com over the pipe");
        let remote = tempfile::tempdir().unwrap();
        tree_round_trip(&sftp, remote.path(), remote.path(), files, big);
        drop(sftp);
        // Closing the session closes the server's stdin: it exits.
        assert!(child.wait().unwrap().success());
    });
}

#[test]
fn tree_put_get_preserves_bytes_modes_and_times() {
    tree_over_ssh(100, 16 * MIB, LIMIT);
}

#[test]
fn tree_over_a_pipe_to_sftp_server() {
    tree_over_pipe(100, 16 * MIB, LIMIT);
}

/// Our server's `sftp` subsystem: a local filesystem confined to a directory.
struct OurSftp(PathBuf);

impl seashell_blocking::Handler for OurSftp {
    fn auth(
        &mut self,
        _: &str,
        attempt: &seashell_proto::AuthAttempt,
    ) -> seashell_proto::AuthDecision {
        match attempt {
            seashell_proto::AuthAttempt::Password(pw) if pw.as_str() == "pw" => {
                seashell_proto::AuthDecision::Accept
            }
            _ => seashell_proto::AuthDecision::Reject,
        }
    }

    fn session_request(
        &mut self,
        channel: &seashell_blocking::ServerChannel,
        request: &seashell_proto::SessionRequestKind,
    ) -> bool {
        use seashell_adapter::sftp_serve::{self, LocalFs, ServerConfig, ServerEngine};
        if !sftp_serve::is_sftp(request) {
            return false;
        }
        let Ok(fs) = LocalFs::confined(&self.0) else {
            return false;
        };
        sftp_serve::spawn(channel, ServerEngine::new(fs, ServerConfig::default())).is_ok()
    }
}

/// The tree round trip against our own server (`seashell_adapter::sftp_serve`, a confined
/// local filesystem): both ends are ours.
#[test]
fn tree_against_our_server() {
    with_timeout(LIMIT, "sftp_client/ours", || {
        let root = tempfile::tempdir().unwrap();
        let key = Arc::new(seashell_proto::PrivateKey::ed25519_generate().unwrap());
        let fingerprint = key.public_key().fingerprint();
        let config = seashell_proto::ServerConfig::new(vec![key]);
        let server = seashell_blocking::Server::bind("127.0.0.1:0", config).unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let served = root.path().to_path_buf();
        std::thread::spawn(move || server.run(|_| OurSftp(served.clone())));
        let config = seashell_blocking::ClientConfig::new("me")
            .password("pw")
            .host_key_policy(seashell_blocking::HostKeyPolicy::Fingerprint(fingerprint));
        let session = Client::connect(&addr, config).unwrap();
        let sftp = session.sftp().unwrap();
        tree_round_trip(&sftp, Path::new("/"), root.path(), 30, 4 * MIB);
    });
}

/// The acceptance-size run: 1,000 files and a 512 MiB file (`SEASHELL_SFTP_BIG=1`).
#[test]
fn big_tree_put_get() {
    if std::env::var_os("SEASHELL_SFTP_BIG").is_none_or(|v| v != "1") {
        eprintln!("skipped: set SEASHELL_SFTP_BIG=1 (just sftp-interop)");
        return;
    }
    tree_over_ssh(1000, 512 * MIB, Duration::from_secs(900));
    tree_over_pipe(1000, 512 * MIB, Duration::from_secs(900));
}

/// A logged-in client and a scratch directory the server may write.
struct Fixture {
    _sshd: Sshd,
    _session: Session,
    sftp: Sftp,
    dir: tempfile::TempDir,
}

fn fixture(sshd: Sshd) -> Fixture {
    let session = login(&sshd);
    let sftp = session.sftp().unwrap_or_else(|e| panic!("sftp: {e}"));
    let dir = scratch(&sshd);
    Fixture {
        _sshd: sshd,
        _session: session,
        sftp,
        dir,
    }
}

/// Runs `f` with a fresh fixture under the time limit.
fn with_fixture(what: &'static str, f: impl FnOnce(&Fixture) + Send + 'static) {
    let Some(sshd) = start_sftp_sshd() else {
        return;
    };
    with_timeout(LIMIT, what, move || f(&fixture(sshd)));
}

#[test]
fn resume_continues_from_the_destination_size() {
    with_fixture("sftp_client/resume", |fx| {
        let (sftp, dir) = (&fx.sftp, fx.dir.path());
        let data = pattern(42, 3 * MIB + 123);
        let local = tempfile::tempdir().unwrap();
        let src = local.path().join("src.bin");
        fs::write(&src, &data).unwrap();

        // reput: a remote prefix is kept and the rest sent.
        let remote = dir.join("up.bin");
        sftp.write(&remote, &data[..MIB]).unwrap();
        let first = Arc::new(Mutex::new(None));
        let f = first.clone();
        let opts = TransferOptions::new()
            .resume(true)
            .progress(move |_, done, _| {
                f.lock().unwrap().get_or_insert(done);
            });
        let stats = sftp.put(&src, &remote, &opts).unwrap();
        assert_eq!(fs::read(&remote).unwrap(), data);
        assert_eq!(stats.bytes, (data.len() - MIB) as u64);
        assert_eq!(*first.lock().unwrap(), Some(MIB as u64));
        // Complete already: skipped.
        let stats = sftp.put(&src, &remote, &opts).unwrap();
        assert_eq!((stats.skipped, stats.bytes), (1, 0));

        // reget: a local prefix is kept.
        let down = local.path().join("down.bin");
        fs::write(&down, &data[..2 * MIB]).unwrap();
        let stats = sftp
            .get(&remote, &down, &TransferOptions::new().resume(true))
            .unwrap();
        assert_eq!(fs::read(&down).unwrap(), data);
        assert_eq!(stats.bytes, (data.len() - 2 * MIB) as u64);
        // A destination larger than the source cannot be resumed.
        fs::write(&down, pattern(1, data.len() + 10)).unwrap();
        assert!(
            sftp.get(&remote, &down, &TransferOptions::new().resume(true))
                .is_err()
        );
    });
}

#[test]
fn glob_matches_per_component() {
    with_fixture("sftp_client/glob", |fx| {
        let (sftp, dir) = (&fx.sftp, fx.dir.path());
        for p in [
            "a1.txt",
            "a2.txt",
            "b.txt",
            ".hidden.txt",
            "c.log",
            "sub/x.txt",
            "sub2/y.txt",
            "sub2/z.log",
        ] {
            let p = dir.join(p);
            sftp.create_dir_all(p.parent().unwrap()).unwrap();
            sftp.write(&p, b"x").unwrap();
        }
        let names = |pat: &str| -> Vec<String> {
            sftp.glob(dir.join(pat))
                .unwrap()
                .iter()
                .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(names("*.txt"), ["a1.txt", "a2.txt", "b.txt"]);
        assert_eq!(names("a?.txt"), ["a1.txt", "a2.txt"]);
        assert_eq!(names("[ab]*"), ["a1.txt", "a2.txt", "b.txt"]);
        assert_eq!(names("[!a]*"), ["b.txt", "c.log", "sub", "sub2"]);
        assert_eq!(names(".*.txt"), [".hidden.txt"]);
        assert_eq!(names("sub*/*.txt"), ["sub/x.txt", "sub2/y.txt"]);
        assert_eq!(names("*/z.log"), ["sub2/z.log"]);
        assert_eq!(names("b.txt"), ["b.txt"]);
        assert!(names("nothing*").is_empty());
        assert!(names("missing.txt").is_empty());
    });
}

#[test]
fn every_fs_call() {
    with_fixture("sftp_client/fs", |fx| {
        let (sftp, dir) = (&fx.sftp, fx.dir.path());
        // Directories.
        let deep = dir.join("a/b/c");
        sftp.create_dir_all(&deep).unwrap();
        sftp.create_dir_all(&deep).unwrap();
        assert!(fs::metadata(&deep).unwrap().is_dir());
        assert!(sftp.metadata(&deep).unwrap().is_dir());
        sftp.create_dir(dir.join("m")).unwrap();
        assert_eq!(
            sftp.create_dir(dir.join("m")).unwrap_err().kind(),
            io::ErrorKind::Other
        );
        sftp.mkdir(dir.join("m2"), 0o700).unwrap();
        assert_eq!(mode(&dir.join("m2")), 0o700);
        // Files, metadata, permissions, times.
        let f = dir.join("a/file.txt");
        sftp.write(&f, b"hello world").unwrap();
        assert_eq!(sftp.read(&f).unwrap(), b"hello world");
        let m = sftp.metadata(&f).unwrap();
        assert!(m.is_file() && !m.is_dir());
        assert_eq!(m.len(), 11);
        assert!(sftp.exists(&f).unwrap());
        assert!(!sftp.exists(dir.join("nope")).unwrap());
        sftp.set_permissions(&f, 0o604).unwrap();
        assert_eq!(mode(&f), 0o604);
        assert_eq!(sftp.stat(&f).unwrap().permissions(), Some(0o604));
        sftp.chmod(&f, 0o644).unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1_234_567_890);
        sftp.set_times(&f, t, t).unwrap();
        assert_eq!(mtime(&f), 1_234_567_890);
        assert_eq!(sftp.metadata(&f).unwrap().modified(), Some(t));
        sftp.set_len(&f, 5).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"hello");
        // Links.
        let link = dir.join("a/link");
        sftp.symlink("file.txt", &link).unwrap();
        assert_eq!(sftp.read_link(&link).unwrap(), Path::new("file.txt"));
        assert!(sftp.symlink_metadata(&link).unwrap().is_symlink());
        assert!(sftp.lstat(&link).unwrap().is_symlink());
        assert!(sftp.metadata(&link).unwrap().is_file());
        let hard = dir.join("a/hard");
        sftp.hard_link(&f, &hard).unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().ino(),
            fs::metadata(&hard).unwrap().ino()
        );
        // Rename, replacing the target (posix-rename).
        let g = dir.join("a/g.txt");
        sftp.write(&g, b"gg").unwrap();
        sftp.rename(&g, &hard).unwrap();
        assert_eq!(fs::read(&hard).unwrap(), b"gg");
        assert!(!g.exists());
        // Listing.
        let mut names = sftp.list_names(dir.join("a")).unwrap();
        names.sort();
        let want: Vec<PathBuf> = ["b", "file.txt", "hard", "link"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(names, want);
        assert_eq!(sftp.listdir(dir.join("a")).unwrap(), want);
        let entries: Vec<_> = sftp
            .read_dir(dir.join("a"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(entries.len(), 4);
        let e = entries
            .iter()
            .find(|e| e.file_name() == Path::new("file.txt"))
            .unwrap();
        assert_eq!(e.metadata().len(), 5);
        assert_eq!(e.path(), f);
        assert!(e.longname().contains("file.txt"));
        assert!(
            entries
                .iter()
                .find(|e| e.file_name() == Path::new("link"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(sftp.listdir_attr(dir.join("a")).unwrap().len(), 4);
        // Paths.
        assert_eq!(
            sftp.canonicalize(dir.join("a/b/../file.txt")).unwrap(),
            fs::canonicalize(&f).unwrap()
        );
        let home = sftp.home_dir().unwrap();
        assert!(home.is_absolute(), "{}", home.display());
        assert_eq!(sftp.expand_path("~").unwrap(), home);
        // statvfs, copy-data, fsync.
        let st = sftp.statvfs(dir).unwrap();
        assert!(st.bsize > 0 && st.blocks > 0);
        let big = pattern(9, 700_000);
        sftp.write(dir.join("src.bin"), &big).unwrap();
        assert_eq!(
            sftp.copy(dir.join("src.bin"), dir.join("copy.bin"))
                .unwrap(),
            700_000
        );
        assert_eq!(fs::read(dir.join("copy.bin")).unwrap(), big);
        {
            // Dropped without close: the blocking File flushes and closes on drop.
            let mut dropped = sftp.create(dir.join("dropped")).unwrap();
            dropped.write_all(&big).unwrap();
        }
        assert!(fs::read(dir.join("dropped")).unwrap() == big);
        let mut file = sftp.create(dir.join("synced")).unwrap();
        file.write_all(b"durable").unwrap();
        file.sync_all().unwrap();
        assert_eq!(file.metadata().unwrap().len(), 7);
        file.close().unwrap();
        // Removal.
        sftp.remove_file(&link).unwrap();
        sftp.remove(&hard).unwrap();
        assert!(!link.exists() && !hard.exists());
        sftp.remove_dir(dir.join("m")).unwrap();
        sftp.rmdir(dir.join("m2")).unwrap();
        assert_eq!(
            sftp.remove_dir(dir.join("a")).unwrap_err().kind(),
            io::ErrorKind::Other
        );
        sftp.remove_dir_all(dir.join("a")).unwrap();
        assert!(!dir.join("a").exists());
    });
}

#[test]
fn file_random_access_matches_a_local_model() {
    with_fixture("sftp_client/file", |fx| {
        let (sftp, dir) = (&fx.sftp, fx.dir.path());
        let path = dir.join("random.bin");
        let mut model = pattern(3, 2 * MIB);
        sftp.write(&path, &model).unwrap();
        let mut f = sftp
            .open_with(&path, OpenOptions::new().read(true).write(true))
            .unwrap();
        // Sequential read through the read-ahead, in odd-sized pieces.
        let mut got = Vec::new();
        let mut buf = vec![0; 77_777];
        loop {
            let n = f.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got == model, "sequential read differs");
        let mut rng = 12345u64;
        let mut next = |m: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % m
        };
        for round in 0..200 {
            let at = next(model.len() as u64 + 1000) as usize;
            let len = next(if round % 10 == 0 { 600_000 } else { 5000 }) as usize + 1;
            assert_eq!(f.seek(SeekFrom::Start(at as u64)).unwrap(), at as u64);
            let end = if next(2) == 0 {
                let data = pattern(round, len);
                f.write_all(&data).unwrap();
                if model.len() < at + len {
                    model.resize(at + len, 0);
                }
                model[at..at + len].copy_from_slice(&data);
                at + len
            } else {
                let mut buf = vec![0; len];
                let mut n = 0;
                while n < len {
                    let k = f.read(&mut buf[n..]).unwrap();
                    if k == 0 {
                        break;
                    }
                    n += k;
                }
                let want = model
                    .get(at..(at + len).min(model.len()))
                    .unwrap_or_default();
                assert!(
                    &buf[..n] == want,
                    "read of {len} at {at} differs (round {round})"
                );
                at + n
            };
            assert_eq!(f.stream_position().unwrap(), end as u64);
            assert_eq!(f.seek(SeekFrom::Current(1)).unwrap(), end as u64 + 1);
        }
        assert_eq!(f.seek(SeekFrom::End(-10)).unwrap(), model.len() as u64 - 10);
        let mut tail = Vec::new();
        f.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, model[model.len() - 10..]);
        f.flush().unwrap();
        f.close().unwrap();
        assert!(fs::read(&path).unwrap() == model, "final file differs");
        // Append mode writes at the end.
        let mut a = sftp
            .open_with(&path, OpenOptions::new().append(true))
            .unwrap();
        a.write_all(b"END").unwrap();
        a.close().unwrap();
        assert!(fs::read(&path).unwrap().ends_with(b"END"));
    });
}

fn status(e: &io::Error) -> Option<&StatusError> {
    e.get_ref().and_then(|e| e.downcast_ref::<StatusError>())
}

#[test]
fn errors_are_typed_and_keep_the_server_message() {
    with_fixture("sftp_client/errors", |fx| {
        let (sftp, dir) = (&fx.sftp, fx.dir.path());
        let missing = dir.join("missing");
        let e = sftp.metadata(&missing).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let s = status(&e).expect("a StatusError inside");
        assert_eq!(s.code, StatusCode::NoSuchFile);
        assert_eq!(s.message, "No such file");
        assert!(e.to_string().contains("missing"), "{e}");
        assert_eq!(
            sftp.open(&missing).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            sftp.read_dir(&missing).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        let err = sftp
            .get(&missing, dir.join("x"), &TransferOptions::new())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        // Permission denied needs a server that is not root.
        if sftp.metadata("/root").is_ok() && sftp.read_dir("/root").is_err() {
            let e = sftp.read_dir("/root").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
            assert_eq!(
                status(&e).map(|s| s.code),
                Some(StatusCode::PermissionDenied)
            );
            let e = sftp.create("/etc/seashell-should-not-exist").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        } else {
            eprintln!("note: the server can read /root; permission checks skipped");
        }
        // A directory is refused without `recursive`.
        let e = sftp
            .get(dir, dir.join("y"), &TransferOptions::new())
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn threads_share_one_session() {
    with_fixture("sftp_client/threads", |fx| {
        let (sftp, dir) = (&fx.sftp, fx.dir.path());
        let files: Vec<(PathBuf, Vec<u8>)> = (0..6)
            .map(|i| {
                (
                    dir.join(format!("t{i}")),
                    pattern(100 + i, 300_000 + i as usize * 1000),
                )
            })
            .collect();
        std::thread::scope(|s| {
            for (p, d) in &files {
                let sftp = sftp.clone();
                s.spawn(move || {
                    sftp.write(p, d).unwrap();
                    for _ in 0..3 {
                        assert!(sftp.read(p).unwrap() == *d);
                        assert_eq!(sftp.metadata(p).unwrap().len(), d.len() as u64);
                    }
                });
            }
        });
        for (p, d) in &files {
            assert!(fs::read(p).unwrap() == *d);
        }
    });
}
