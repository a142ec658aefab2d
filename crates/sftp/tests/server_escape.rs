//! The path-escape suite (issue 13, acceptance 2): a client driving the server engine over
//! `LocalFs` confined to a root tries every way out (`..`, absolute paths, symbolic links
//! absolute and relative, chains and loops, a link swapped in between check and use, hard
//! links, renames, copy-data, setstat, listings, realpath and expand-path); nothing outside
//! the root is ever returned or changed.

mod server_support;

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use seashell_sftp::server::{LocalFs, ServerConfig, ServerEngine};
use seashell_sftp::{ExtendedRequest, FileAttributes, OpenFlags, Request, Response, StatusCode};
use server_support::Client;

const SECRET: &[u8] = b"TOP-SECRET-42";
const MARKER: &str = "outside-only-marker";

struct Setup {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    root: PathBuf,
    outside: PathBuf,
}

/// `base/outside/{secret, MARKER, dir/f}` and `base/root/{a.txt, sub/, links…}`.
fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let outside = base.join("outside");
    let root = base.join("root");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("secret"), SECRET).unwrap();
    std::fs::write(outside.join(MARKER), SECRET).unwrap();
    std::fs::write(outside.join("dir/f"), SECRET).unwrap();
    std::fs::set_permissions(outside.join("secret"), PermissionsExt::from_mode(0o640)).unwrap();
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::write(root.join("a.txt"), b"inside").unwrap();
    // Links an administrator (or anyone with shell access) left pointing out.
    symlink(&outside, root.join("abs")).unwrap();
    symlink("../outside", root.join("rel")).unwrap();
    symlink(outside.join("secret"), root.join("abs-secret")).unwrap();
    symlink("c2", root.join("c1")).unwrap();
    symlink("sub/c3", root.join("c2")).unwrap();
    symlink("../../outside/secret", root.join("sub/c3")).unwrap();
    symlink("../../../outside/secret", root.join("sub/deeper/up")).unwrap();
    symlink("l2", root.join("l1")).unwrap();
    symlink("l1", root.join("l2")).unwrap();
    symlink("/../../../../..", root.join("toroot")).unwrap();
    Setup {
        _tmp: tmp,
        base,
        root,
        outside,
    }
}

/// Every file below `dir`: path → (contents or link target, mode).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let content = if m.is_dir() {
                todo.push(p.clone());
                Vec::new()
            } else if m.file_type().is_symlink() {
                std::fs::read_link(&p)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else {
                std::fs::read(&p).unwrap()
            };
            out.insert(p, (content, m.permissions().mode()));
        }
    }
    out
}

fn client(root: &Path) -> Client<LocalFs> {
    Client::new(ServerEngine::new(
        LocalFs::confined(root).unwrap(),
        ServerConfig::default(),
    ))
}

fn escapes(s: &Setup) -> Vec<Vec<u8>> {
    let host = |p: &Path| p.as_os_str().as_encoded_bytes().to_vec();
    vec![
        b"../outside/secret".to_vec(),
        b"/../outside/secret".to_vec(),
        b"/../../../../../outside/secret".to_vec(),
        b"sub/../../outside/secret".to_vec(),
        b"sub/deeper/../../../outside/secret".to_vec(),
        b"./../outside/./secret".to_vec(),
        b"//..//outside//secret".to_vec(),
        host(&s.outside.join("secret")),
        [host(&s.root), b"/../outside/secret".to_vec()].concat(),
        b"abs/secret".to_vec(),
        b"rel/secret".to_vec(),
        b"abs-secret".to_vec(),
        b"c1".to_vec(),
        b"sub/c3".to_vec(),
        b"sub/deeper/up".to_vec(),
        b"l1".to_vec(),
        b"toroot/../outside/secret".to_vec(),
        b"abs/dir/f".to_vec(),
        b"rel/dir/../secret".to_vec(),
        b"abs/../outside/secret".to_vec(),
        b"~/../outside/secret".to_vec(),
    ]
}

fn check_outside(s: &Setup, before: &BTreeMap<PathBuf, (Vec<u8>, u32)>) {
    assert_eq!(
        &snapshot(&s.outside),
        before,
        "something outside the root changed"
    );
    let names: Vec<_> = std::fs::read_dir(&s.base)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "new entries next to the root: {names:?}");
}

#[test]
fn reads_never_leave_the_root() {
    let s = setup();
    let before = snapshot(&s.outside);
    let mut c = client(&s.root);
    for p in escapes(&s) {
        let what = String::from_utf8_lossy(&p).into_owned();
        match c.get(&p) {
            Ok(d) => assert_ne!(d, SECRET, "{what} read the secret"),
            Err(code) => assert_ne!(code, StatusCode::Ok, "{what}"),
        }
        for attrs in [c.stat(&p), c.lstat(&p)].into_iter().flatten() {
            assert_ne!(
                attrs.size,
                Some(SECRET.len() as u64),
                "{what} stat the secret"
            );
        }
        if let Ok(list) = c.list(&p) {
            assert!(
                list.iter().all(|(n, _, _)| n != MARKER.as_bytes()),
                "{what}"
            );
        }
        for dir in [p.clone(), [p.clone(), b"/..".to_vec()].concat()] {
            if let Ok(list) = c.list(&dir) {
                assert!(
                    list.iter().all(|(n, _, _)| n != MARKER.as_bytes()),
                    "{what}"
                );
            }
        }
        let id = c.id();
        let r = c.call(Request::Extended {
            id,
            request: ExtendedRequest::StatVfs { path: p.clone() },
        });
        // statvfs is harmless (same file system figures) but must not resolve outside:
        // every escape above names something that does not exist inside the root.
        if !matches!(&p[..], b"toroot/../outside/secret") {
            assert!(matches!(r, Response::Status { .. }), "{what}: {r:?}");
        }
    }
    // The root's `..` shows the root itself.
    let list = c.list(b"/").unwrap();
    let dot = list.iter().find(|(n, _, _)| n == b".").unwrap().2.clone();
    let dotdot = list.iter().find(|(n, _, _)| n == b"..").unwrap().2.clone();
    assert_eq!(dot, dotdot);
    assert_eq!(c.get(b"a.txt").unwrap(), b"inside");
    // A loop is a failure, not a hang.
    assert_eq!(c.stat(b"l1"), Err(StatusCode::Failure));
    check_outside(&s, &before);
}

#[test]
fn writes_never_leave_the_root() {
    let s = setup();
    let before = snapshot(&s.outside);
    let mut c = client(&s.root);
    let attrs = FileAttributes {
        permissions: Some(0o777),
        size: Some(0),
        atime_mtime: Some((1, 1)),
        ..FileAttributes::default()
    };
    for p in escapes(&s) {
        let what = String::from_utf8_lossy(&p).into_owned();
        // Writing, creating, truncating and appending.
        for flags in [
            OpenFlags::WRITE,
            OpenFlags::WRITE | OpenFlags::TRUNC,
            OpenFlags::WRITE | OpenFlags::APPEND,
            OpenFlags::READ | OpenFlags::WRITE,
        ] {
            if let Ok(h) = c.open(&p, flags) {
                panic!("{what} opened for writing ({flags:?}): {h:?}");
            }
        }
        let _ = c.put(&[p.clone(), b"-new".to_vec()].concat(), b"x");
        let id = c.id();
        let _ = c.status(Request::SetStat {
            id,
            path: p.clone(),
            attrs: attrs.clone(),
        });
        let _ = c.ext_status(ExtendedRequest::LSetStat {
            path: p.clone(),
            attrs: attrs.clone(),
        });
        let id = c.id();
        let _ = c.status(Request::Remove {
            id,
            filename: p.clone(),
        });
        let id = c.id();
        let _ = c.status(Request::Mkdir {
            id,
            path: [p.clone(), b"-dir".to_vec()].concat(),
            attrs: FileAttributes::default(),
        });
        let id = c.id();
        let _ = c.status(Request::Rmdir {
            id,
            path: [p.clone(), b"/../dir".to_vec()].concat(),
        });
        // Renames out of, into, and within: the paths resolve inside the root.
        let id = c.id();
        let _ = c.status(Request::Rename {
            id,
            old: p.clone(),
            new: b"stolen".to_vec(),
        });
        let _ = c.ext_status(ExtendedRequest::PosixRename {
            old: p.clone(),
            new: b"stolen2".to_vec(),
        });
        let _ = c.ext_status(ExtendedRequest::Hardlink {
            old: p.clone(),
            new: b"hard".to_vec(),
        });
        let id = c.id();
        let _ = c.status(Request::Symlink {
            id,
            target: b"a.txt".to_vec(),
            link: [p.clone(), b"-link".to_vec()].concat(),
        });
        assert!(c.get(b"stolen").is_err(), "{what}");
        assert!(c.get(b"stolen2").is_err(), "{what}");
        if let Ok(d) = c.get(b"hard") {
            assert_ne!(d, SECRET, "{what}");
        }
    }
    // Renaming a file of the root "out" keeps it in.
    for new in [
        &b"../escaped"[..],
        b"/../../escaped2",
        b"abs/escaped3",
        b"rel/escaped4",
    ] {
        c.put(b"mine", b"mine").unwrap();
        let id = c.id();
        let _ = c.status(Request::Rename {
            id,
            old: b"mine".to_vec(),
            new: new.to_vec(),
        });
        let _ = c.remove_all(new);
    }
    check_outside(&s, &before);
}

/// Helper for the tests above.
trait RemoveAll {
    fn remove_all(&mut self, p: &[u8]) -> StatusCode;
}

impl RemoveAll for Client<LocalFs> {
    fn remove_all(&mut self, p: &[u8]) -> StatusCode {
        let id = self.id();
        self.status(Request::Remove {
            id,
            filename: p.to_vec(),
        })
    }
}

#[test]
fn links_created_by_the_client_stay_content() {
    let s = setup();
    let before = snapshot(&s.outside);
    let mut c = client(&s.root);
    let host_secret = s
        .outside
        .join("secret")
        .into_os_string()
        .into_encoded_bytes();
    // Creating a link to the outside is allowed (it is only content)…
    for (i, target) in [
        host_secret.clone(),
        b"../outside/secret".to_vec(),
        b"../../../../../../../../outside/secret".to_vec(),
        b"/".to_vec(),
        b"..".to_vec(),
    ]
    .into_iter()
    .enumerate()
    {
        let link = format!("mylink{i}").into_bytes();
        let id = c.id();
        c.ok(Request::Symlink {
            id,
            target: target.clone(),
            link: link.clone(),
        });
        let id = c.id();
        assert_eq!(
            c.name(Request::ReadLink {
                id,
                path: link.clone()
            })
            .unwrap(),
            target
        );
        // …following it stays inside.
        if let Ok(d) = c.get(&link) {
            assert_ne!(d, SECRET);
        }
        assert!(c.open(&link, OpenFlags::WRITE).is_err());
        // (A target whose directories do not exist inside the root does not resolve.)
        if let Ok(rp) = c.realpath(&link) {
            assert!(rp.starts_with(b"/") && !rp.windows(2).any(|w| w == b".."));
        }
        // A hard link to the link links the link, not the outside file.
        let hard = format!("hard{i}").into_bytes();
        assert_eq!(
            c.ext_status(ExtendedRequest::Hardlink {
                old: link.clone(),
                new: hard.clone(),
            }),
            StatusCode::Ok
        );
        let l = c.lstat(&hard).unwrap();
        assert_eq!(l.permissions.unwrap() & 0o170000, 0o120000);
        if let Ok(d) = c.get(&hard) {
            assert_ne!(d, SECRET);
        }
        // setstat through the link does not reach the outside file.
        let id = c.id();
        let _ = c.status(Request::SetStat {
            id,
            path: link.clone(),
            attrs: FileAttributes {
                permissions: Some(0o777),
                ..FileAttributes::default()
            },
        });
    }
    // copy-data from a legitimate file into a link to the outside: the write handle never
    // opens the outside file.
    let src = c.open(b"a.txt", OpenFlags::READ).unwrap();
    assert!(
        c.open(b"mylink0", OpenFlags::WRITE | OpenFlags::TRUNC)
            .is_err()
    );
    let dst = c
        .open(b"copy", OpenFlags::WRITE | OpenFlags::CREAT)
        .unwrap();
    assert_eq!(
        c.ext_status(ExtendedRequest::CopyData {
            read_handle: src.clone(),
            read_offset: 0,
            length: 0,
            write_handle: dst.clone(),
            write_offset: 0,
        }),
        StatusCode::Ok
    );
    c.close(src);
    c.close(dst);
    assert_eq!(c.get(b"copy").unwrap(), b"inside");
    check_outside(&s, &before);
}

#[test]
fn realpath_and_expand_path_stay_at_slash() {
    let s = setup();
    let mut c = client(&s.root);
    let mut inputs = escapes(&s);
    inputs.extend([
        b"".to_vec(),
        b".".to_vec(),
        b"..".to_vec(),
        b"/..".to_vec(),
        b"../../..".to_vec(),
        b"abs".to_vec(),
        b"rel".to_vec(),
        b"toroot".to_vec(),
        b"~".to_vec(),
        b"~/..".to_vec(),
        b"~root/../..".to_vec(),
        b"sub/deeper/../..".to_vec(),
    ]);
    let base = s.base.as_os_str().as_encoded_bytes();
    for p in inputs {
        for r in [c.realpath(&p), c.expand(&p)] {
            let Ok(r) = r else { continue };
            let what = String::from_utf8_lossy(&p);
            assert!(r.starts_with(b"/"), "{what} -> {r:?}");
            assert!(!r.windows(2).any(|w| w == b".."), "{what}");
            assert!(!r.windows(base.len()).any(|w| w == base), "{what}");
        }
    }
    assert_eq!(c.realpath(b"..").unwrap(), b"/");
    assert_eq!(c.realpath(b"/../..").unwrap(), b"/");
    assert_eq!(c.realpath(b"toroot").unwrap(), b"/");
    assert_eq!(c.realpath(b"sub/deeper/..").unwrap(), b"/sub");
    assert_eq!(c.expand(b"~/sub").unwrap(), b"/sub");
}

/// A thread flips `root/flip` between a real directory and a link to the outside while the
/// client reads, writes, stats, lists and chmods through it.
#[test]
fn symlink_swapped_between_check_and_use() {
    let s = setup();
    std::fs::create_dir(s.root.join("flip")).unwrap();
    std::fs::write(s.root.join("flip/f"), b"inside").unwrap();
    std::fs::write(s.outside.join("f"), SECRET).unwrap();
    std::fs::write(s.root.join("flipf"), b"inside").unwrap();
    let before = snapshot(&s.outside);
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let (stop, root, outside) = (stop.clone(), s.root.clone(), s.outside.clone());
        std::thread::spawn(move || {
            let mut flips = 0u64;
            while !stop.load(Ordering::Relaxed) {
                std::fs::rename(root.join("flip"), root.join("parked")).unwrap();
                symlink(&outside, root.join("flip")).unwrap();
                // The last component too: a file, then a link to the outside secret.
                // (The client may recreate it in between: its file is removed.)
                std::fs::rename(root.join("flipf"), root.join("parkedf")).unwrap();
                while symlink(outside.join("f"), root.join("flipf")).is_err() {
                    let _ = std::fs::remove_file(root.join("flipf"));
                }
                std::thread::yield_now();
                std::fs::rename(root.join("parkedf"), root.join("flipf")).unwrap();
                std::thread::yield_now();
                std::fs::remove_file(root.join("flip")).unwrap();
                symlink("../outside", root.join("flip")).unwrap();
                std::thread::yield_now();
                std::fs::remove_file(root.join("flip")).unwrap();
                std::fs::rename(root.join("parked"), root.join("flip")).unwrap();
                // Leave the directory in place a little, so that some uses see it.
                std::thread::sleep(Duration::from_micros(200));
                flips += 1;
            }
            flips
        })
    };
    let mut c = client(&s.root);
    let (mut inside_reads, mut refused) = (0u32, 0u32);
    let deadline = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < deadline {
        match c.get(b"flip/f") {
            Ok(d) => {
                assert_eq!(d, b"inside", "read through the swapped link");
                inside_reads += 1;
            }
            Err(_) => refused += 1,
        }
        if let Ok(a) = c.stat(b"flip/f") {
            assert_eq!(a.size, Some(6));
        }
        if let Ok(d) = c.get(b"flipf") {
            assert_eq!(d, b"inside", "read through the swapped last component");
        }
        if let Ok(a) = c.stat(b"flipf") {
            assert_ne!(a.size, Some(SECRET.len() as u64));
        }
        let _ = c.put(b"flipf", b"inside");
        let id = c.id();
        let _ = c.status(Request::SetStat {
            id,
            path: b"flipf".to_vec(),
            attrs: FileAttributes {
                permissions: Some(0o606),
                atime_mtime: Some((1, 1)),
                ..FileAttributes::default()
            },
        });
        let _ = c.put(b"flip/w", b"written");
        let _ = c.put(b"flip/f", b"inside");
        if let Ok(list) = c.list(b"flip") {
            assert!(list.iter().all(|(n, _, _)| n != MARKER.as_bytes()));
        }
        let id = c.id();
        let _ = c.status(Request::SetStat {
            id,
            path: b"flip/f".to_vec(),
            attrs: FileAttributes {
                permissions: Some(0o606),
                ..FileAttributes::default()
            },
        });
        // Namespace changes through the flipping directory.
        let id = c.id();
        let _ = c.status(Request::Rename {
            id,
            old: b"flip/w".to_vec(),
            new: b"flip/w2".to_vec(),
        });
        let _ = c.ext_status(ExtendedRequest::Hardlink {
            old: b"flip/f".to_vec(),
            new: b"flip/h".to_vec(),
        });
        let id = c.id();
        let _ = c.status(Request::Mkdir {
            id,
            path: b"flip/newdir".to_vec(),
            attrs: FileAttributes::default(),
        });
        for p in [&b"flip/w2"[..], b"flip/h"] {
            let id = c.id();
            let _ = c.status(Request::Remove {
                id,
                filename: p.to_vec(),
            });
        }
        let id = c.id();
        let _ = c.status(Request::Rmdir {
            id,
            path: b"flip/newdir".to_vec(),
        });
    }
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    assert!(flips > 10, "the flipper did not run ({flips})");
    assert!(inside_reads > 0 && refused > 0, "{inside_reads} {refused}");
    check_outside(&s, &before);
}
