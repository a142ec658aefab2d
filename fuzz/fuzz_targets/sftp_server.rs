//! The SFTP server engine fed arbitrary client bytes after a valid INIT: it never panics,
//! its queued output stays bounded, and — over `LocalFs` confined to a root next to a
//! canary directory — nothing outside the root is ever read or written, whatever paths,
//! links, renames and copies the input asks for.
//!
//! The first input byte picks the backend: even → `MemoryFs`, odd → `LocalFs` on a
//! per-process temporary root (reset every 512 runs).
#![no_main]

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use libfuzzer_sys::fuzz_target;
use seashell_sftp::server::{Filesystem, LocalFs, MemoryFs, ServerConfig, ServerEngine};
use seashell_sftp::{ExtendedRequest, Request};

const CANARY: &[u8] = b"SEASHELL-FUZZ-OUTSIDE-CANARY";

struct Dirs {
    root: PathBuf,
    outside: PathBuf,
}

static DIRS: Mutex<Option<Dirs>> = Mutex::new(None);
static RUNS: AtomicU32 = AtomicU32::new(0);

fn dirs() -> std::sync::MutexGuard<'static, Option<Dirs>> {
    let mut g = DIRS.lock().unwrap();
    let reset = RUNS.fetch_add(1, Ordering::Relaxed) % 512 == 0;
    if g.is_none() {
        let base = std::env::temp_dir().join(format!("seashell-fuzz-sftp-{}", std::process::id()));
        let outside = base.join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), CANARY).unwrap();
        let perms = std::os::unix::fs::PermissionsExt::from_mode(0o644);
        std::fs::set_permissions(outside.join("secret"), perms).unwrap();
        *g = Some(Dirs {
            root: base.join("root"),
            outside,
        });
    }
    if let Some(d) = g.as_ref() {
        if reset || !d.root.exists() {
            let _ = std::fs::remove_dir_all(&d.root);
            std::fs::create_dir_all(d.root.join("sub")).unwrap();
            // Links to the outside, absolute and relative, for the input to try.
            let _ = std::os::unix::fs::symlink(&d.outside, d.root.join("abs"));
            let _ = std::os::unix::fs::symlink("../outside", d.root.join("rel"));
            let _ = std::os::unix::fs::symlink("../../outside/secret", d.root.join("sub/up"));
        }
    }
    g
}

/// Keeps each run fast on a real disk: no copy or size past 1 MiB.
fn small(r: &Request) -> bool {
    const MAX: u64 = 1 << 20;
    match r {
        Request::Write { offset, .. } => *offset < MAX,
        Request::SetStat { attrs, .. } | Request::FSetStat { attrs, .. } => {
            attrs.size.is_none_or(|s| s < MAX)
        }
        Request::Extended {
            request: ExtendedRequest::CopyData { length, .. },
            ..
        } => *length > 0 && *length < MAX,
        Request::Extended {
            request: ExtendedRequest::LSetStat { attrs, .. },
            ..
        } => attrs.size.is_none_or(|s| s < MAX),
        _ => true,
    }
}

fn run<F: Filesystem>(fs: F, input: &[u8], policy: bool) -> Vec<u8> {
    let config = ServerConfig {
        max_handles: 16,
        output_high_water: 256 * 1024,
        ..ServerConfig::default()
    };
    let mut e = ServerEngine::new(fs, config);
    if policy {
        e = e.with_policy(small);
    }
    let init = Request::Init {
        version: 3,
        extensions: vec![],
    };
    e.feed(&init.encode_framed().unwrap()).unwrap();
    let mut out = Vec::new();
    let mut all = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        match e.feed(rest) {
            Ok(n) => rest = &rest[n..],
            Err(_) => break,
        }
        assert!(e.queued_output() < 256 * 1024 + 300 * 1024);
        e.take_output(&mut out);
        all.extend_from_slice(&out);
        out.clear();
    }
    e.close_all();
    all
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        run(MemoryFs::with_limits(64 * 1024, 64), input, false);
        return;
    }
    let g = dirs();
    let d = g.as_ref().unwrap();
    let out = run(LocalFs::confined(&d.root).unwrap(), input, true);
    assert!(
        !out.windows(CANARY.len()).any(|w| w == CANARY),
        "the outside canary reached the client"
    );
    assert_eq!(std::fs::read(d.outside.join("secret")).unwrap(), CANARY);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(d.outside.join("secret"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o7777, 0o644, "the outside canary's mode changed");
    let n = std::fs::read_dir(&d.outside).unwrap().count();
    assert_eq!(n, 1, "something was created outside the root");
});
