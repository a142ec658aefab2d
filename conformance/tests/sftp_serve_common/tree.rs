//! Test trees for the SFTP interop tests: files in nested directories with varied sizes,
//! modes and modification times (all from a seed), one large file, and a byte-exact
//! comparison of two trees, modes and times included.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How big a tree is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Small files, spread over nested directories.
    pub files: usize,
    /// The size of the one large file.
    pub big: u64,
}

impl Shape {
    /// 50 files and 8 MiB, or with `SEASHELL_SFTP_BIG=1` the 1,000 files and
    /// 512 MiB (`just sftp-interop`).
    pub fn from_env() -> Shape {
        if std::env::var("SEASHELL_SFTP_BIG").is_ok_and(|v| v == "1") {
            Shape {
                files: 1000,
                big: 512 << 20,
            }
        } else {
            Shape {
                files: 50,
                big: 8 << 20,
            }
        }
    }

    /// A handful of files and 1 MiB: for tests about something else than volume.
    pub fn small() -> Shape {
        Shape {
            files: 8,
            big: 1 << 20,
        }
    }
}

/// xorshift64*: deterministic bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

const MODES: [u32; 5] = [0o644, 0o600, 0o755, 0o640, 0o700];

/// Writes a tree of `shape` under `root` (created), from `seed`; returns its files'
/// relative paths.
pub fn make(root: &Path, shape: Shape, seed: u64) -> Vec<PathBuf> {
    let mut rng = Rng(seed | 1);
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let mut files = Vec::new();
    fs::create_dir_all(root).expect("creating the tree root");
    for i in 0..shape.files {
        // Up to three levels: d{0..4}/e{0..3}/f.
        let mut rel = PathBuf::new();
        for (level, width) in [5u64, 4].into_iter().enumerate() {
            if rng.below(3) == 0 && level > 0 {
                break;
            }
            rel.push(format!("d{}", rng.below(width)));
        }
        rel.push(format!("file-{i:04}.bin"));
        let size = match rng.below(10) {
            0 => 0,
            1..=6 => rng.below(4096),
            _ => rng.below(300_000),
        };
        files.push(rel.clone());
        let mode = MODES[usize::try_from(rng.below(MODES.len() as u64)).unwrap_or(0)];
        let mtime = base + Duration::from_secs(rng.below(100_000_000));
        write_file(&root.join(&rel), size, &mut rng, mode, mtime);
    }
    let big = PathBuf::from("big.bin");
    write_file(&root.join(&big), shape.big, &mut rng, 0o640, base);
    files.push(big);
    // Directory times last: writing into a directory changes its mtime.
    files
}

fn write_file(path: &Path, size: u64, rng: &mut Rng, mode: u32, mtime: SystemTime) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("creating a directory of the tree");
    }
    let mut out = BufWriter::new(File::create(path).expect("creating a tree file"));
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        rng.fill(&mut buf[..n]);
        out.write_all(&buf[..n]).expect("writing a tree file");
        left -= n as u64;
    }
    let f = out.into_inner().expect("flushing a tree file");
    f.set_modified(mtime).expect("setting a file's mtime");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Every regular file under `root`, relative, sorted.
pub fn list(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let entries = fs::read_dir(root.join(&rel))
            .unwrap_or_else(|e| panic!("listing {}: {e}", root.join(&rel).display()));
        for e in entries {
            let e = e.expect("a directory entry");
            let r = rel.join(e.file_name());
            let t = e.file_type().expect("a file type");
            if t.is_dir() {
                stack.push(r);
            } else {
                out.push(r);
            }
        }
    }
    out.sort();
    out
}

/// Panics unless `copy` holds exactly `orig`'s files, byte for byte; with `keep` also
/// the permission bits and modification times (seconds) of every file.
#[track_caller]
pub fn assert_same(orig: &Path, copy: &Path, keep: bool) {
    let (a, b) = (list(orig), list(copy));
    assert_eq!(
        a,
        b,
        "the file lists of {} and {} differ",
        orig.display(),
        copy.display()
    );
    for rel in &a {
        let (pa, pb) = (orig.join(rel), copy.join(rel));
        let (ma, mb) = (
            fs::metadata(&pa).expect("metadata"),
            fs::metadata(&pb).expect("metadata"),
        );
        assert_eq!(ma.len(), mb.len(), "size of {}", rel.display());
        assert!(same_bytes(&pa, &pb), "contents of {} differ", rel.display());
        if keep {
            assert_eq!(
                ma.mode() & 0o7777,
                mb.mode() & 0o7777,
                "mode of {}",
                rel.display()
            );
            assert_eq!(ma.mtime(), mb.mtime(), "mtime of {}", rel.display());
        }
    }
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (
        File::open(a).expect("opening a file"),
        File::open(b).expect("opening a file"),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba);
        let nb = read_full(&mut fb, &mut bb);
        if na != nb || ba[..na] != bb[..nb] {
            return false;
        }
        if na == 0 {
            return true;
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> usize {
    let mut at = 0;
    while at < buf.len() {
        match f.read(&mut buf[at..]).expect("reading a file") {
            0 => break,
            n => at += n,
        }
    }
    at
}
