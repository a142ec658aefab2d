//! The async SFTP client (`seashell_tokio::sftp`, `seashell_smol::sftp`: the shared client's
//! types) against a private OpenSSH sshd running `/usr/lib/openssh/sftp-server`, on tokio and
//! on smol: a recursive put and get with `-p` (byte-exact, modes and times), a directory
//! listing, `File` random access through futures-io's traits (and tokio's on tokio), a
//! cancelled transfer that leaves the session usable, and concurrent tasks on one session.

use futures_lite::{AsyncReadExt, AsyncSeekExt};
use seashell_conformance::{KeyKind, Sshd, start_sftp_sshd, with_timeout};
use seashell_tokio::sftp::{OpenOptions, Sftp, TransferOptions};
use seashell_tokio::{ClientConfig, HostKeyPolicy, StrictHostKeyChecking};
use std::fs;
use std::io::{self, SeekFrom};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

const LIMIT: Duration = Duration::from_secs(120);
const MIB: usize = 1 << 20;

fn config(sshd: &Sshd) -> ClientConfig {
    ClientConfig::new(sshd.login_user())
        .host_key_policy(HostKeyPolicy::KnownHosts {
            files: vec![sshd.known_hosts_file()],
            strict: StrictHostKeyChecking::Yes,
        })
        .key_file(sshd.user_key(KeyKind::Ed25519))
        .unwrap_or_else(|e| panic!("loading the user key: {e}"))
}

/// A scratch directory the login user owns.
fn scratch(sshd: &Sshd) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("seashell-sftp-async-")
        .tempdir()
        .unwrap_or_else(|e| panic!("tempdir: {e}"));
    let user = sshd.login_user();
    if user != std::env::var("USER").unwrap_or_default() && rustix::process::geteuid().is_root() {
        let ok = Command::new("chown")
            .arg("-R")
            .arg(&user)
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown {user}");
    }
    dir
}

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

/// 30 files in nested directories and a 4 MiB one, modes and mtimes varied.
fn build_tree(root: &Path) -> Vec<PathBuf> {
    let mut rels: Vec<PathBuf> = (0..30)
        .map(|i| PathBuf::from(format!("d{}/e{}/f{i}", i % 3, i % 2)))
        .collect();
    rels.push(PathBuf::from("big"));
    for (i, rel) in rels.iter().enumerate() {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap_or(root)).unwrap();
        let len = if i == 30 { 4 * MIB } else { i * 3001 };
        fs::write(&p, pattern(i as u64, len)).unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1_600_000_000 + i as u64 * 77);
        let f = fs::File::options().write(true).open(&p).unwrap();
        f.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
            .unwrap();
        let mode = [0o644, 0o600, 0o755][i % 3];
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }
    rels
}

fn same_files(a: &Path, b: &Path, rels: &[PathBuf]) {
    for rel in rels {
        let (x, y) = (
            fs::metadata(a.join(rel)).unwrap(),
            fs::metadata(b.join(rel)).unwrap(),
        );
        assert!(
            fs::read(a.join(rel)).unwrap() == fs::read(b.join(rel)).unwrap(),
            "{} differs",
            rel.display()
        );
        assert_eq!(
            x.mode() & 0o7777,
            y.mode() & 0o7777,
            "mode of {}",
            rel.display()
        );
        assert_eq!(x.mtime(), y.mtime(), "mtime of {}", rel.display());
    }
}

/// Everything both runtimes run: the same shared client.
async fn core_paths(sftp: Sftp, remote: PathBuf) -> io::Result<()> {
    // Tree round trip with -p.
    let local = tempfile::tempdir()?;
    let src = local.path().join("src");
    let rels = build_tree(&src);
    let opts = TransferOptions::new().recursive(true).preserve(true);
    let up = remote.join("up");
    let stats = sftp.put(&src, &up, &opts).await?;
    assert_eq!(stats.files, rels.len() as u64);
    same_files(&src, &up, &rels);
    let down = local.path().join("down");
    sftp.get(&up, &down, &opts).await?;
    same_files(&src, &down, &rels);

    // Listing.
    let mut dir = sftp.read_dir(up.join("d0")).await?;
    let mut names = Vec::new();
    while let Some(e) = dir.next_entry().await? {
        assert!(e.metadata().is_dir());
        names.push(e.file_name());
    }
    names.sort();
    assert_eq!(names, [PathBuf::from("e0"), PathBuf::from("e1")]);

    // File random access through futures-io.
    let path = remote.join("rand");
    let mut model = pattern(5, MIB);
    sftp.write(&path, &model).await?;
    let mut f = sftp
        .open_with(&path, OpenOptions::new().read(true).write(true))
        .await?;
    for round in 0..60u64 {
        let at = (round * 104_729) % (MIB as u64);
        let len = 1 + ((round * 7919) % 300_000) as usize;
        f.seek(SeekFrom::Start(at)).await?;
        let at = at as usize;
        if round % 2 == 0 {
            let data = pattern(round, len);
            f.write_all(&data).await?;
            if model.len() < at + len {
                model.resize(at + len, 0);
            }
            model[at..at + len].copy_from_slice(&data);
        } else {
            let mut buf = vec![0; len];
            let want = &model[at..(at + len).min(model.len())];
            f.read_exact(&mut buf[..want.len()]).await?;
            assert!(&buf[..want.len()] == want, "read {len} at {at}");
        }
    }
    f.seek(SeekFrom::Start(0)).await?;
    let mut all = Vec::new();
    f.read_to_end(&mut all).await?;
    assert!(all == model, "whole file differs");
    f.close().await?;
    assert!(fs::read(&path)? == model);

    // A cancelled download: its requests are abandoned, the session stays usable.
    let big = up.join("big");
    {
        let mut fut = Box::pin(sftp.read(&big));
        for _ in 0..3 {
            let _ = futures_lite::future::poll_once(&mut fut).await;
        }
    }
    let again = sftp.read(&big).await?;
    assert!(again == fs::read(src.join("big"))?, "read after a cancel");

    // Concurrent tasks on one session.
    let a = sftp.read(up.join("d0/e0/f0"));
    let b = sftp.read(&big);
    let c = sftp.metadata(&big);
    let ((ra, rb), rc) = futures_lite::future::zip(futures_lite::future::zip(a, b), c).await;
    assert!(ra? == fs::read(src.join("d0/e0/f0"))?);
    assert!(rb? == again);
    assert_eq!(rc?.len(), 4 * MIB as u64);
    Ok(())
}

#[test]
fn tokio_core_paths() {
    let Some(sshd) = start_sftp_sshd() else {
        return;
    };
    with_timeout(LIMIT, "sftp_client_async/tokio", move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let session = seashell_tokio::Client::connect(&sshd.addr(), config(&sshd))
                .await
                .unwrap();
            let sftp = session.sftp().await.unwrap();
            let remote = scratch(&sshd);
            // Spawned: the futures are Send.
            tokio::spawn(core_paths(sftp.clone(), remote.path().to_path_buf()))
                .await
                .unwrap()
                .unwrap();
            // tokio's own traits on File.
            let p = remote.path().join("tokio");
            let mut f = sftp.create(&p).await.unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut f, b"0123456789")
                .await
                .unwrap();
            tokio::io::AsyncWriteExt::shutdown(&mut f).await.unwrap();
            let mut f = sftp.open(&p).await.unwrap();
            tokio::io::AsyncSeekExt::seek(&mut f, SeekFrom::End(-4))
                .await
                .unwrap();
            let mut s = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut f, &mut s)
                .await
                .unwrap();
            assert_eq!(s, "6789");
        });
    });
}

#[test]
fn smol_core_paths() {
    let Some(sshd) = start_sftp_sshd() else {
        return;
    };
    with_timeout(LIMIT, "sftp_client_async/smol", move || {
        smol::block_on(async {
            let session = seashell_smol::Client::connect(&sshd.addr(), config(&sshd))
                .await
                .unwrap();
            let sftp: seashell_smol::sftp::Sftp = session.sftp().await.unwrap();
            let remote = scratch(&sshd);
            core_paths(sftp, remote.path().to_path_buf()).await.unwrap();
        });
    });
}
