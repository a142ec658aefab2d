//! The server engine, request by request, against `LocalFs` on a temporary root: every
//! request type, read-only mode, policies, handle exhaustion.

mod server_support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use seashell_sftp::server::{LocalFs, ServerConfig, ServerEngine};
use seashell_sftp::{
    ExtendedRequest, FileAttributes, Limits, OpenFlags, Request, Response, StatVfs, StatusCode,
    UsersGroups,
};
use server_support::Client;

fn local(root: &Path, config: ServerConfig) -> Client<LocalFs> {
    Client::new(ServerEngine::new(LocalFs::confined(root).unwrap(), config))
}

fn perms(p: u32) -> FileAttributes {
    FileAttributes {
        permissions: Some(p),
        ..FileAttributes::default()
    }
}

#[test]
fn file_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut c = local(root, ServerConfig::default());
    // OPEN (create with a mode) / WRITE / READ / FSTAT / FSETSTAT / CLOSE.
    let id = c.id();
    let Response::Handle { handle: h, .. } = c.call(Request::Open {
        id,
        filename: b"/f".to_vec(),
        flags: OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL,
        attrs: perms(0o640),
    }) else {
        panic!()
    };
    assert_eq!(
        std::fs::metadata(root.join("f")).unwrap().mode() & 0o777,
        0o640
    );
    assert_eq!(c.write(&h, 0, b"hello world"), StatusCode::Ok);
    assert_eq!(c.write(&h, 20, b"!"), StatusCode::Ok);
    assert_eq!(c.read(&h, 6, 5).unwrap(), b"world");
    assert_eq!(c.read(&h, 21, 5), Err(StatusCode::Eof));
    let id = c.id();
    let a = c
        .attrs(Request::Fstat {
            id,
            handle: h.clone(),
        })
        .unwrap();
    assert_eq!(a.size, Some(21));
    assert!(a.is_regular());
    let id = c.id();
    c.ok(Request::FSetStat {
        id,
        handle: h.clone(),
        attrs: FileAttributes {
            size: Some(5),
            permissions: Some(0o600),
            atime_mtime: Some((1_000_000, 2_000_000)),
            ..FileAttributes::default()
        },
    });
    let m = std::fs::metadata(root.join("f")).unwrap();
    assert_eq!(
        (m.len(), m.mode() & 0o777, m.mtime()),
        (5, 0o600, 2_000_000)
    );
    assert_eq!(
        c.ext_status(ExtendedRequest::Fsync { handle: h.clone() }),
        StatusCode::Ok
    );
    let Response::ExtendedReply { data, .. } =
        c.ext(ExtendedRequest::FStatVfs { handle: h.clone() })
    else {
        panic!()
    };
    assert!(StatVfs::decode(&data).unwrap().bsize > 0);
    c.close(h.clone());
    // A closed handle is gone; made-up handles are refused.
    assert_eq!(c.read(&h, 0, 1), Err(StatusCode::Failure));
    for bogus in [&b""[..], b"x", b"\0\0\0\0\0\0\0\x01", &[0xff; 8], &[0; 100]] {
        assert_eq!(c.read(bogus, 0, 1), Err(StatusCode::Failure));
    }
    // EXCL on an existing file; opening a missing one.
    assert_eq!(
        c.open(b"f", OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL),
        Err(StatusCode::Failure)
    );
    assert_eq!(
        c.open(b"missing", OpenFlags::READ),
        Err(StatusCode::NoSuchFile)
    );
    // APPEND and TRUNC.
    let h = c.open(b"f", OpenFlags::WRITE | OpenFlags::APPEND).unwrap();
    assert_eq!(c.write(&h, 0, b"++"), StatusCode::Ok);
    c.close(h);
    assert_eq!(std::fs::read(root.join("f")).unwrap(), b"hello++");
    c.put(b"f", b"new").unwrap();
    assert_eq!(c.get(b"f").unwrap(), b"new");
}

#[test]
fn path_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut c = local(root, ServerConfig::default());
    c.put(b"a", b"aaaa").unwrap();
    // MKDIR with a mode, RMDIR, REMOVE.
    let id = c.id();
    c.ok(Request::Mkdir {
        id,
        path: b"d".to_vec(),
        attrs: perms(0o750),
    });
    assert_eq!(
        std::fs::metadata(root.join("d")).unwrap().mode() & 0o777,
        0o750
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Mkdir {
            id,
            path: b"d".to_vec(),
            attrs: FileAttributes::default(),
        }),
        StatusCode::Failure
    );
    c.put(b"d/x", b"x").unwrap();
    let id = c.id();
    assert_eq!(
        c.status(Request::Rmdir {
            id,
            path: b"d".to_vec()
        }),
        StatusCode::Failure
    );
    let id = c.id();
    c.ok(Request::Remove {
        id,
        filename: b"d/x".to_vec(),
    });
    let id = c.id();
    c.ok(Request::Rmdir {
        id,
        path: b"d".to_vec(),
    });
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            filename: b"d".to_vec()
        }),
        StatusCode::NoSuchFile
    );
    // STAT / LSTAT / SETSTAT / lsetstat / SYMLINK / READLINK.
    let id = c.id();
    c.ok(Request::Symlink {
        id,
        target: b"a".to_vec(),
        link: b"l".to_vec(),
    });
    assert_eq!(c.stat(b"l").unwrap().size, Some(4));
    assert_eq!(
        c.lstat(b"l").unwrap().permissions.unwrap() & 0o170000,
        0o120000
    );
    let id = c.id();
    assert_eq!(
        c.name(Request::ReadLink {
            id,
            path: b"l".to_vec()
        })
        .unwrap(),
        b"a"
    );
    let id = c.id();
    c.ok(Request::SetStat {
        id,
        path: b"l".to_vec(),
        attrs: FileAttributes {
            permissions: Some(0o604),
            atime_mtime: Some((5, 6)),
            ..FileAttributes::default()
        },
    });
    let m = std::fs::metadata(root.join("a")).unwrap();
    assert_eq!((m.mode() & 0o777, m.mtime()), (0o604, 6));
    assert_eq!(
        c.ext_status(ExtendedRequest::LSetStat {
            path: b"l".to_vec(),
            attrs: FileAttributes {
                atime_mtime: Some((7, 8)),
                ..FileAttributes::default()
            },
        }),
        StatusCode::Ok
    );
    assert_eq!(
        std::fs::symlink_metadata(root.join("l")).unwrap().mtime(),
        8
    );
    assert_eq!(std::fs::metadata(root.join("a")).unwrap().mtime(), 6);
    // RENAME refuses to replace; posix-rename replaces; hardlink.
    c.put(b"b", b"bb").unwrap();
    let id = c.id();
    assert_eq!(
        c.status(Request::Rename {
            id,
            old: b"a".to_vec(),
            new: b"b".to_vec()
        }),
        StatusCode::Failure
    );
    let id = c.id();
    c.ok(Request::Rename {
        id,
        old: b"b".to_vec(),
        new: b"c".to_vec(),
    });
    assert_eq!(
        c.ext_status(ExtendedRequest::PosixRename {
            old: b"c".to_vec(),
            new: b"a".to_vec()
        }),
        StatusCode::Ok
    );
    assert_eq!(c.get(b"a").unwrap(), b"bb");
    assert_eq!(
        c.ext_status(ExtendedRequest::Hardlink {
            old: b"a".to_vec(),
            new: b"h".to_vec()
        }),
        StatusCode::Ok
    );
    assert_eq!(std::fs::metadata(root.join("h")).unwrap().nlink(), 2);
    // REALPATH, expand-path, home-directory, statvfs.
    assert_eq!(c.realpath(b".").unwrap(), b"/");
    assert_eq!(c.realpath(b"x/../a").unwrap_err(), StatusCode::NoSuchFile);
    assert_eq!(c.realpath(b"l").unwrap(), b"/a");
    assert_eq!(c.realpath(b"new-file").unwrap(), b"/new-file");
    assert_eq!(c.expand(b"~/a").unwrap(), b"/a");
    let Response::Name { entries, .. } = c.ext(ExtendedRequest::HomeDirectory {
        username: b"anyone".to_vec(),
    }) else {
        panic!()
    };
    assert_eq!(entries[0].filename, b"/");
    let Response::ExtendedReply { data, .. } = c.ext(ExtendedRequest::StatVfs {
        path: b"/".to_vec(),
    }) else {
        panic!()
    };
    assert!(StatVfs::decode(&data).unwrap().namemax > 0);
    // limits, users-groups-by-id, an unknown extension.
    let Response::ExtendedReply { data, .. } = c.ext(ExtendedRequest::Limits) else {
        panic!()
    };
    assert_eq!(
        Limits::decode(&data).unwrap(),
        Limits {
            max_packet_length: 262_144,
            max_read_length: 261_120,
            max_write_length: 261_120,
            max_open_handles: 256,
        }
    );
    let Response::ExtendedReply { data, .. } = c.ext(ExtendedRequest::UsersGroupsById {
        uids: vec![0, 4_000_000_000],
        gids: vec![0],
    }) else {
        panic!()
    };
    let ug = UsersGroups::decode(&data).unwrap();
    assert_eq!(ug.users, vec![b"root".to_vec(), Vec::new()]);
    assert_eq!(ug.groups, vec![b"root".to_vec()]);
    assert_eq!(
        c.ext_status(ExtendedRequest::Unknown {
            name: b"nope@example.com".to_vec(),
            data: vec![1, 2, 3],
        }),
        StatusCode::OpUnsupported
    );
}

#[test]
fn copy_data() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = local(tmp.path(), ServerConfig::default());
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
    c.put(b"src", &data).unwrap();
    let r = c.open(b"src", OpenFlags::READ).unwrap();
    let w = c.open(b"dst", OpenFlags::WRITE | OpenFlags::CREAT).unwrap();
    let copy = |c: &mut Client<LocalFs>, ro, len, wo, rh: &[u8], wh: &[u8]| {
        c.ext_status(ExtendedRequest::CopyData {
            read_handle: rh.to_vec(),
            read_offset: ro,
            length: len,
            write_handle: wh.to_vec(),
            write_offset: wo,
        })
    };
    assert_eq!(copy(&mut c, 0, 0, 0, &r, &w), StatusCode::Ok);
    assert_eq!(copy(&mut c, 10, 100, 300_000, &r, &w), StatusCode::Ok);
    // Past the end of the source with a length: EOF, as sftp-server.
    assert_eq!(copy(&mut c, 199_990, 100, 400_000, &r, &w), StatusCode::Eof);
    assert_eq!(copy(&mut c, 0, 10, 0, &r, &r), StatusCode::Failure);
    assert_eq!(copy(&mut c, 0, 10, 0, &r, b"bogus"), StatusCode::Failure);
    c.close(r);
    c.close(w);
    let got = std::fs::read(tmp.path().join("dst")).unwrap();
    assert_eq!(got.len(), 400_010);
    assert!(got[..200_000] == data[..], "whole copy");
    assert!(got[300_000..300_100] == data[10..110], "ranged copy");
    assert!(got[400_000..] == data[199_990..], "copy up to EOF");
    // A file copied onto its own end through a second handle: "to the end" is the size at
    // the start, so the copy ends.
    let r = c.open(b"src", OpenFlags::READ).unwrap();
    let w = c.open(b"src", OpenFlags::WRITE).unwrap();
    assert_eq!(copy(&mut c, 0, 0, 200_000, &r, &w), StatusCode::Ok);
    c.close(r);
    c.close(w);
    let got = std::fs::read(tmp.path().join("src")).unwrap();
    assert!(got.len() == 400_000 && got[..200_000] == got[200_000..]);
}

#[test]
fn readdir_batches_and_longnames() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..250 {
        std::fs::write(tmp.path().join(format!("file{i:03}")), b"12345").unwrap();
    }
    std::fs::set_permissions(
        tmp.path().join("file000"),
        PermissionsExt::from_mode(0o4751),
    )
    .unwrap();
    let config = ServerConfig {
        max_readdir_bytes: 4096,
        ..ServerConfig::default()
    };
    let mut c = local(tmp.path(), config);
    let h = c.opendir(b"/").unwrap();
    let mut names = Vec::new();
    loop {
        let id = c.id();
        match c.call(Request::ReadDir {
            id,
            handle: h.clone(),
        }) {
            Response::Name { entries, .. } => {
                assert!(!entries.is_empty() && entries.len() <= 100);
                let bytes: usize = entries
                    .iter()
                    .map(|e| e.longname.len() + e.filename.len())
                    .sum();
                assert!(bytes < 8192, "{bytes}");
                for e in entries {
                    let l = String::from_utf8(e.longname).unwrap();
                    let name = String::from_utf8(e.filename).unwrap();
                    assert!(l.ends_with(&format!(" {name}")), "{l}");
                    if name == "file000" {
                        // Mode, link count, owner and group (names, 8 wide), size, date.
                        assert!(l.starts_with("-rwsr-x--x    1 "), "{l}");
                        let f: Vec<&str> = l.split_whitespace().collect();
                        assert_eq!((f.len(), f[4]), (9, "5"), "{l}");
                    }
                    names.push(name);
                }
            }
            Response::Status {
                code: StatusCode::Eof,
                ..
            } => break,
            other => panic!("{other:?}"),
        }
    }
    names.sort();
    assert_eq!(names.len(), 252);
    assert_eq!(&names[..3], &[".", "..", "file000"]);
    // After EOF, more READDIRs stay EOF; READ on a directory handle fails.
    let id = c.id();
    assert_eq!(
        c.status(Request::ReadDir {
            id,
            handle: h.clone()
        }),
        StatusCode::Eof
    );
    assert_eq!(c.read(&h, 0, 10), Err(StatusCode::Failure));
    c.close(h);
    assert_eq!(c.opendir(b"file001"), Err(StatusCode::NoSuchFile));
}

/// Every request that changes something, with its expected read-only refusal.
fn write_requests() -> Vec<Request> {
    let a = FileAttributes::default();
    let e = |request| Request::Extended { id: 9, request };
    vec![
        Request::Open {
            id: 9,
            filename: b"f".to_vec(),
            flags: OpenFlags::WRITE,
            attrs: a.clone(),
        },
        Request::Open {
            id: 9,
            filename: b"new".to_vec(),
            flags: OpenFlags::READ | OpenFlags::CREAT,
            attrs: a.clone(),
        },
        Request::Open {
            id: 9,
            filename: b"f".to_vec(),
            flags: OpenFlags::READ | OpenFlags::TRUNC,
            attrs: a.clone(),
        },
        Request::SetStat {
            id: 9,
            path: b"f".to_vec(),
            attrs: perms(0o777),
        },
        Request::Remove {
            id: 9,
            filename: b"f".to_vec(),
        },
        Request::Mkdir {
            id: 9,
            path: b"d2".to_vec(),
            attrs: a.clone(),
        },
        Request::Rmdir {
            id: 9,
            path: b"d".to_vec(),
        },
        Request::Rename {
            id: 9,
            old: b"f".to_vec(),
            new: b"g".to_vec(),
        },
        Request::Symlink {
            id: 9,
            target: b"f".to_vec(),
            link: b"s".to_vec(),
        },
        e(ExtendedRequest::PosixRename {
            old: b"f".to_vec(),
            new: b"g".to_vec(),
        }),
        e(ExtendedRequest::Hardlink {
            old: b"f".to_vec(),
            new: b"g".to_vec(),
        }),
        e(ExtendedRequest::LSetStat {
            path: b"f".to_vec(),
            attrs: perms(0o777),
        }),
    ]
}

fn tree(root: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let data = if m.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                vec![]
            };
            (p.display().to_string(), m.mode(), data)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn read_only_mode_refuses_every_write() {
    for (engine_ro, fs_ro) in [(true, false), (false, true)] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), b"data").unwrap();
        std::fs::create_dir(tmp.path().join("d")).unwrap();
        let before = tree(tmp.path());
        let config = ServerConfig {
            read_only: engine_ro,
            ..ServerConfig::default()
        };
        let fs = LocalFs::confined(tmp.path()).unwrap().read_only(fs_ro);
        let mut c = Client::new(ServerEngine::new(fs, config));
        for mut req in write_requests() {
            let id = c.id();
            set_id(&mut req, id);
            assert_eq!(
                c.status(req.clone()),
                StatusCode::PermissionDenied,
                "{req:?}"
            );
        }
        // Reads still work; a handle opened for reading refuses writes, fsetstat, fsync,
        // copy-data.
        assert_eq!(c.get(b"f").unwrap(), b"data");
        assert_eq!(c.list(b"/").unwrap().len(), 4);
        let h = c.open(b"f", OpenFlags::READ).unwrap();
        assert_ne!(c.write(&h, 0, b"x"), StatusCode::Ok);
        let id = c.id();
        assert_ne!(
            c.status(Request::FSetStat {
                id,
                handle: h.clone(),
                attrs: perms(0o777)
            }),
            StatusCode::Ok
        );
        c.close(h);
        assert_eq!(tree(tmp.path()), before);
    }
}

fn set_id(req: &mut Request, new: u32) {
    let mut bytes = req.encode().unwrap();
    bytes[1..5].copy_from_slice(&new.to_be_bytes());
    *req = Request::decode(&bytes).unwrap();
}

#[test]
fn policy_denies_before_the_filesystem() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    std::fs::write(tmp.path().join("private"), b"p").unwrap();
    let fs = LocalFs::confined(tmp.path()).unwrap();
    let engine = ServerEngine::new(fs, ServerConfig::default()).with_policy(|r: &Request| {
        let path = match r {
            Request::Open { filename, .. } | Request::Remove { filename, .. } => filename,
            Request::Stat { path, .. } | Request::OpenDir { path, .. } => path,
            _ => return !matches!(r, Request::Mkdir { .. }),
        };
        !path.ends_with(b"private")
    });
    let mut c = Client::new(engine);
    assert_eq!(c.get(b"private"), Err(StatusCode::PermissionDenied));
    assert_eq!(c.stat(b"/private"), Err(StatusCode::PermissionDenied));
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            filename: b"private".to_vec()
        }),
        StatusCode::PermissionDenied
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Mkdir {
            id,
            path: b"d".to_vec(),
            attrs: FileAttributes::default()
        }),
        StatusCode::PermissionDenied
    );
    assert!(tmp.path().join("private").exists());
    assert!(!tmp.path().join("d").exists());
    assert_eq!(c.get(b"f").unwrap(), b"data");
}

#[test]
fn handle_exhaustion_is_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    let config = ServerConfig {
        max_handles: 8,
        ..ServerConfig::default()
    };
    let mut c = local(tmp.path(), config);
    let mut handles: Vec<Vec<u8>> = (0..4)
        .map(|_| c.open(b"f", OpenFlags::READ).unwrap())
        .collect();
    handles.extend((0..4).map(|_| c.opendir(b"/").unwrap()));
    // A client opening without end: refused, and nothing grows.
    for _ in 0..10_000 {
        assert_eq!(c.open(b"f", OpenFlags::READ), Err(StatusCode::Failure));
        assert_eq!(c.opendir(b"/"), Err(StatusCode::Failure));
    }
    assert_eq!(c.engine.open_handles(), 8);
    let h = handles.remove(0);
    c.close(h.clone());
    let again = c.open(b"f", OpenFlags::READ).unwrap();
    assert_ne!(again, h, "a reused slot gets a new handle");
    assert_eq!(c.read(&h, 0, 4), Err(StatusCode::Failure));
    assert_eq!(c.read(&again, 0, 4).unwrap(), b"data");
    assert_eq!(c.engine.close_all(), 8);
    assert_eq!(c.engine.open_handles(), 0);
}
