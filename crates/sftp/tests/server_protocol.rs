//! The server engine's protocol behaviour over `MemoryFs`: VERSION and its extensions,
//! READ capping, output backpressure with a bounded memory figure, protocol errors ending the
//! session, byte-at-a-time input.

mod server_support;

use seashell_sftp::server::{MemoryFs, SERVER_EXTENSIONS, ServerConfig, ServerEngine, ServerError};
use seashell_sftp::{FileAttributes, Framer, OpenFlags, Request, Response, StatusCode};
use server_support::Client;
#[test]
fn version_advertises_sftp_server_extensions() {
    let mut e = ServerEngine::new(MemoryFs::new(), ServerConfig::default());
    let init = Request::Init {
        version: 3,
        extensions: vec![],
    };
    e.feed(&init.encode_framed().unwrap()).unwrap();
    let mut out = Vec::new();
    e.take_output(&mut out);
    let p = Framer::new().feed(&mut &out[..]).unwrap().unwrap();
    let Response::Version {
        version,
        extensions,
    } = Response::decode(&p).unwrap()
    else {
        panic!()
    };
    assert_eq!(version, 3);
    let got: Vec<(String, String)> = extensions
        .iter()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into(),
                String::from_utf8_lossy(v).into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("posix-rename@openssh.com", "1"),
        ("statvfs@openssh.com", "2"),
        ("fstatvfs@openssh.com", "2"),
        ("hardlink@openssh.com", "1"),
        ("fsync@openssh.com", "1"),
        ("lsetstat@openssh.com", "1"),
        ("limits@openssh.com", "1"),
        ("expand-path@openssh.com", "1"),
        ("copy-data", "1"),
        ("home-directory", "1"),
        ("users-groups-by-id@openssh.com", "1"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(SERVER_EXTENSIONS.len(), 11);
}

#[test]
fn reads_are_capped() {
    let mut fs = MemoryFs::new();
    let big = vec![7u8; 600_000];
    let mut c = Client::new(ServerEngine::new(
        {
            use seashell_sftp::server::Filesystem;
            let mut f = fs
                .open(
                    b"/big",
                    OpenFlags::WRITE | OpenFlags::CREAT,
                    &FileAttributes::default(),
                )
                .unwrap();
            fs.write(&mut f, 0, &big[..1_000_000.min(big.len())])
                .unwrap_or(());
            fs
        },
        ServerConfig::default(),
    ));
    let h = c.open(b"big", OpenFlags::READ).unwrap();
    assert_eq!(c.read(&h, 0, u32::MAX).unwrap().len(), 261_120);
    assert_eq!(c.read(&h, 599_990, 100).unwrap().len(), 10);
}

#[test]
fn output_backpressure_bounds_memory() {
    // A 1 MiB file, and a client that sends 4,000 READs of 256 KiB (1 GiB of replies)
    // without reading any reply.
    let mut fs = MemoryFs::new();
    {
        use seashell_sftp::server::Filesystem;
        let mut f = fs
            .open(
                b"/big",
                OpenFlags::WRITE | OpenFlags::CREAT,
                &FileAttributes::default(),
            )
            .unwrap();
        fs.write(&mut f, 0, &vec![1u8; 1024 * 1024]).unwrap();
    }
    let config = ServerConfig::default();
    let high_water = config.output_high_water;
    let mut c = Client::new(ServerEngine::new(fs, config));
    let h = c.open(b"big", OpenFlags::READ).unwrap();
    let mut wire = Vec::new();
    for i in 0..4000u32 {
        let req = Request::Read {
            id: 1000 + i,
            handle: h.clone(),
            offset: u64::from(i % 4) * 262_144,
            len: 262_144,
        };
        wire.extend(req.encode_framed().unwrap());
    }
    let consumed = c.engine.feed(&wire).unwrap();
    assert!(consumed < wire.len());
    assert!(!c.engine.wants_input());
    let queued = c.engine.queued_output();
    let one_reply = 261_120 + 13;
    assert!(queued < high_water + one_reply, "{queued}");
    // Refeeding without draining consumes nothing.
    assert_eq!(c.engine.feed(&wire[consumed..]).unwrap(), 0);
    eprintln!(
        "backpressure: 1 GiB of replies requested, {queued} bytes queued at most \
         (high-water mark {high_water})"
    );
    // Draining lets the rest through, every reply in order.
    let mut offset = consumed;
    let mut replies = c.replies().len();
    let mut peak = queued;
    while offset < wire.len() {
        offset += c.engine.feed(&wire[offset..]).unwrap();
        peak = peak.max(c.engine.queued_output());
        replies += c.replies().len();
    }
    assert_eq!(replies, 4000);
    assert!(peak < high_water + one_reply);
}

#[test]
fn protocol_errors_end_the_session() {
    let cfg = ServerConfig::default;
    let stat = Request::Stat {
        id: 1,
        path: b"/".to_vec(),
    }
    .encode_framed()
    .unwrap();
    let init = Request::Init {
        version: 3,
        extensions: vec![],
    }
    .encode_framed()
    .unwrap();
    let mut e = ServerEngine::new(MemoryFs::new(), cfg());
    assert_eq!(e.feed(&stat), Err(ServerError::NotInitialized));
    assert!(e.is_finished() && !e.wants_input());
    assert_eq!(e.feed(&init), Err(ServerError::NotInitialized));

    let mut e = ServerEngine::new(MemoryFs::new(), cfg());
    e.feed(&init).unwrap();
    assert_eq!(e.feed(&init), Err(ServerError::DuplicateInit));

    let mut e = ServerEngine::new(MemoryFs::new(), cfg());
    e.feed(&init).unwrap();
    assert!(matches!(
        e.feed(&[0xff, 0xff, 0xff, 0xff]),
        Err(ServerError::Frame(_))
    ));

    let mut e = ServerEngine::new(MemoryFs::new(), cfg());
    e.feed(&init).unwrap();
    assert!(matches!(
        e.feed(&[0, 0, 0, 5, 99, 0, 0, 0, 1]),
        Err(ServerError::Decode(_))
    ));
    assert!(e.is_finished());

    // Byte-at-a-time feeding works.
    let mut e = ServerEngine::new(MemoryFs::new(), cfg());
    for b in init.iter().chain(stat.iter()) {
        assert_eq!(e.feed(std::slice::from_ref(b)).unwrap(), 1);
    }
    let mut out = Vec::new();
    e.take_output(&mut out);
    let mut input = &out[..];
    let mut f = Framer::new();
    assert!(f.feed(&mut input).unwrap().is_some());
    let attrs = Response::decode(&f.feed(&mut input).unwrap().unwrap()).unwrap();
    assert!(matches!(attrs, Response::Attrs { id: 1, .. }));
}

#[test]
fn memory_fs_through_the_engine() {
    let mut c = Client::new(ServerEngine::new(MemoryFs::new(), ServerConfig::default()));
    let id = c.id();
    c.ok(Request::Mkdir {
        id,
        path: b"/d".to_vec(),
        attrs: FileAttributes::default(),
    });
    c.put(b"/d/f", b"hello").unwrap();
    assert_eq!(c.get(b"d/../d/f").unwrap(), b"hello");
    let id = c.id();
    c.ok(Request::Rename {
        id,
        old: b"/d".to_vec(),
        new: b"/e".to_vec(),
    });
    assert_eq!(c.get(b"/e/f").unwrap(), b"hello");
    let names: Vec<_> = c.list(b"/e").unwrap().into_iter().map(|e| e.0).collect();
    assert_eq!(names, vec![b"f".to_vec()]);
    assert_eq!(c.realpath(b"/../e/./f").unwrap(), b"/e/f");
    let id = c.id();
    assert_eq!(
        c.status(Request::Symlink {
            id,
            target: b"f".to_vec(),
            link: b"l".to_vec()
        }),
        StatusCode::OpUnsupported
    );
}

#[test]
fn engine_is_send() {
    fn send<T: Send>() {}
    send::<ServerEngine<MemoryFs>>();
    send::<ServerEngine<seashell_sftp::server::LocalFs>>();
}

#[test]
fn read_replies_are_exact() {
    let mut fs = MemoryFs::new();
    {
        use seashell_sftp::server::Filesystem;
        let mut f = fs
            .open(
                b"/f",
                OpenFlags::WRITE | OpenFlags::CREAT,
                &FileAttributes::default(),
            )
            .unwrap();
        fs.write(&mut f, 0, b"0123456789").unwrap();
    }
    let mut c = Client::new(ServerEngine::new(fs, ServerConfig::default()));
    let h = c.open(b"f", OpenFlags::READ).unwrap();
    assert_eq!(c.read(&h, 0, 4).unwrap(), b"0123");
    assert_eq!(c.read(&h, 8, 100).unwrap(), b"89");
    assert_eq!(c.read(&h, 10, 100), Err(StatusCode::Eof));
    assert_eq!(c.read(&h, u64::MAX, 100), Err(StatusCode::Eof));
    assert_eq!(c.read(&h, 0, 0), Err(StatusCode::Eof));
    assert_eq!(c.read(b"nope", 0, 10), Err(StatusCode::Failure));
    // Several READs in one feed: replies in order, each whole.
    let mut wire = Vec::new();
    for i in 0..5u32 {
        wire.extend(
            Request::Read {
                id: 100 + i,
                handle: h.clone(),
                offset: u64::from(i) * 3,
                len: 3,
            }
            .encode_framed()
            .unwrap(),
        );
    }
    assert_eq!(c.engine.feed(&wire).unwrap(), wire.len());
    let replies = c.replies();
    let want: [&[u8]; 4] = [b"012", b"345", b"678", b"9"];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(
            replies[i],
            Response::Data {
                id: 100 + i as u32,
                data: w.to_vec()
            }
        );
    }
    assert!(matches!(
        replies[4],
        Response::Status {
            id: 104,
            code: StatusCode::Eof,
            ..
        }
    ));
}
