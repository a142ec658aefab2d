//! The client engine and pipelines against OpenSSH's `sftp-server`, over a pipe (no SSH):
//! pipelined download and upload of 32 MiB byte-exact, resume, listing, stat, rename,
//! limits. Skipped with a message when the binary is missing, except under `CI=true`.

mod client_support;

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use client_support::{Pump, Take, call, download, random_bytes, upload};
use seashell_sftp::client::{
    ClientConfig, ClientEngine, MAX_CHUNK, ReadMode, ReadPipeline, SftpError, chunk_from_limits,
    expect_attrs, expect_dir_entries, expect_handle, expect_limits, expect_ok, expect_one_name,
    read_chunk, write_chunk,
};
use seashell_sftp::{
    ExtendedRequest, FileAttributes, OpenFlags, Request, StatusCode, extension_names, path_bytes,
};

struct Pipe {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Vec<u8>>,
    out: Vec<u8>,
}

impl Pipe {
    fn spawn() -> Option<Self> {
        let path = std::env::var("SEASHELL_SFTP_SERVER")
            .unwrap_or_else(|_| "/usr/lib/openssh/sftp-server".into());
        if !std::path::Path::new(&path).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "OpenSSH's sftp-server not found at {path}"
            );
            eprintln!("skipped: OpenSSH's sftp-server not found at {path}");
            return None;
        }
        Some(Self::spawn_at(&path))
    }

    fn spawn_at(path: &str) -> Self {
        let mut child = Command::new(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Self {
            child,
            stdin,
            rx,
            out: Vec::new(),
        }
    }
}

impl Pump for Pipe {
    fn pump(&mut self, engine: &mut ClientEngine) {
        engine.take_output(&mut self.out);
        if !self.out.is_empty() {
            self.stdin.write_all(&self.out).unwrap();
            self.out.clear();
        }
        if engine.in_flight() == 0 {
            return;
        }
        match self.rx.recv_timeout(Duration::from_secs(20)) {
            Ok(b) => engine.feed(&b).unwrap(),
            Err(RecvTimeoutError::Timeout) => panic!("sftp-server did not answer"),
            Err(RecvTimeoutError::Disconnected) => panic!("sftp-server exited"),
        }
        while let Ok(b) = self.rx.try_recv() {
            engine.feed(&b).unwrap();
        }
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn setup() -> Option<(ClientEngine, Pipe)> {
    let pipe = Pipe::spawn()?;
    Some((ClientEngine::new(ClientConfig::default()), pipe))
}

fn open(e: &mut ClientEngine, p: &mut Pipe, path: &[u8], flags: OpenFlags) -> Vec<u8> {
    let r = call(
        e,
        p,
        Request::Open {
            id: 0,
            filename: path.to_vec(),
            flags,
            attrs: FileAttributes::default(),
        },
    );
    expect_handle(r).unwrap()
}

fn close(e: &mut ClientEngine, p: &mut Pipe, handle: Vec<u8>) {
    expect_ok(call(e, p, Request::Close { id: 0, handle })).unwrap();
}

fn join(dir: &std::path::Path, name: &str) -> Vec<u8> {
    path_bytes(&dir.join(name))
}

#[test]
fn limits_and_sizing_from_sftp_server() {
    let Some((mut e, mut p)) = setup() else {
        return;
    };
    // Sent before VERSION: held, then released.
    let id = e
        .send(Request::Extended {
            id: 0,
            request: ExtendedRequest::Limits,
        })
        .unwrap();
    assert!(!e.is_ready());
    while !e.has_reply(id) {
        p.pump(&mut e);
    }
    let server = e.server().unwrap();
    assert!(server.has_extension(extension_names::LIMITS));
    assert!(server.has_extension(extension_names::POSIX_RENAME));
    assert_eq!(
        server.extension(extension_names::POSIX_RENAME),
        Some(&b"1"[..])
    );
    let limits = expect_limits(e.take_reply(id).unwrap()).unwrap();
    assert_eq!(chunk_from_limits(&limits), 261_120);
    assert_eq!(chunk_from_limits(&limits), MAX_CHUNK);
    assert_eq!(read_chunk(Some(&limits), e.config().max_packet), 261_120);
    assert_eq!(write_chunk(Some(&limits)), 261_120);
}

#[test]
fn pipelined_download_and_upload_32_mib() {
    let Some((mut e, mut p)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(32 * 1024 * 1024 + 12_345, 13);
    std::fs::write(dir.path().join("src"), &data).unwrap();
    let limits = expect_limits(call(
        &mut e,
        &mut p,
        Request::Extended {
            id: 0,
            request: ExtendedRequest::Limits,
        },
    ))
    .unwrap();
    let chunk = read_chunk(Some(&limits), e.config().max_packet);

    // In order (a streaming `Read`), with the size hint.
    let h = open(&mut e, &mut p, &join(dir.path(), "src"), OpenFlags::READ);
    let size = expect_attrs(call(
        &mut e,
        &mut p,
        Request::Fstat {
            id: 0,
            handle: h.clone(),
        },
    ))
    .unwrap()
    .size
    .unwrap();
    let mut pipeline = ReadPipeline::new(0, None, chunk, 64, ReadMode::InOrder);
    pipeline.set_size_hint(size);
    let mut got = Vec::new();
    let (end, stats) = download(
        &mut e,
        &mut p,
        &h,
        pipeline,
        Take::of(ReadMode::InOrder),
        |o, b| {
            assert_eq!(o, got.len() as u64);
            got.extend_from_slice(b);
        },
    )
    .unwrap();
    assert_eq!(end, data.len() as u64);
    assert!(got == data, "in-order download differs");
    assert!(
        stats.peak_in_flight > 32,
        "ramp stayed at {}",
        stats.peak_in_flight
    );
    assert!(stats.peak_buffered <= 64 * u64::from(chunk) + 256 * 1024);

    // Positioned (pwrite-like), no hint: ends at the EOF status.
    let pipeline = ReadPipeline::new(0, None, chunk, 64, ReadMode::Positioned);
    let mut got = vec![0u8; data.len()];
    let (end, _) = download(
        &mut e,
        &mut p,
        &h,
        pipeline,
        Take::of(ReadMode::Positioned),
        |o, b| {
            got[o as usize..o as usize + b.len()].copy_from_slice(b);
        },
    )
    .unwrap();
    assert_eq!(end, data.len() as u64);
    assert!(got == data, "positioned download differs");
    close(&mut e, &mut p, h);

    // Upload, then compare the file sftp-server wrote.
    let dst = join(dir.path(), "dst");
    let h = open(
        &mut e,
        &mut p,
        &dst,
        OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC,
    );
    let stats = upload(&mut e, &mut p, &h, 0, &data, write_chunk(Some(&limits)), 64).unwrap();
    assert!(
        stats.peak_in_flight > 32,
        "ramp stayed at {}",
        stats.peak_in_flight
    );
    close(&mut e, &mut p, h);
    assert!(
        std::fs::read(dir.path().join("dst")).unwrap() == data,
        "upload differs"
    );
    assert_eq!(e.in_flight(), 0);
    assert_eq!(e.unclaimed(), 0);
}

#[test]
fn resume_download_and_upload_from_an_offset() {
    let Some((mut e, mut p)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(3_000_000, 7);
    std::fs::write(dir.path().join("f"), &data).unwrap();
    let h = open(&mut e, &mut p, &join(dir.path(), "f"), OpenFlags::READ);
    let from = 1_234_567u64;
    let mut got = Vec::new();
    let pipeline = ReadPipeline::new(from, None, 32_768, 16, ReadMode::InOrder);
    let (end, _) = download(
        &mut e,
        &mut p,
        &h,
        pipeline,
        Take::of(ReadMode::InOrder),
        |_, b| got.extend_from_slice(b),
    )
    .unwrap();
    assert_eq!(end, data.len() as u64);
    assert!(got == data[from as usize..]);

    // A bounded range: exactly `length` bytes, no EOF needed.
    let mut got = Vec::new();
    let pipeline = ReadPipeline::new(100, Some(70_000), 32_768, 16, ReadMode::InOrder);
    let (end, _) = download(
        &mut e,
        &mut p,
        &h,
        pipeline,
        Take::of(ReadMode::InOrder),
        |_, b| got.extend_from_slice(b),
    )
    .unwrap();
    assert_eq!(end, 70_100);
    assert!(got == data[100..70_100]);
    close(&mut e, &mut p, h);

    // Resumed upload: the first part is there, the rest goes from its end.
    let part = 1_000_001usize;
    std::fs::write(dir.path().join("up"), &data[..part]).unwrap();
    let h = open(&mut e, &mut p, &join(dir.path(), "up"), OpenFlags::WRITE);
    upload(&mut e, &mut p, &h, part as u64, &data[part..], 65_536, 8).unwrap();
    close(&mut e, &mut p, h);
    assert!(std::fs::read(dir.path().join("up")).unwrap() == data);
}

#[test]
fn listing_stat_rename_and_errors() {
    let Some((mut e, mut p)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for i in 0..300 {
        std::fs::write(dir.path().join(format!("file{i:03}")), vec![b'x'; i]).unwrap();
    }
    let r = call(
        &mut e,
        &mut p,
        Request::RealPath {
            id: 0,
            path: path_bytes(dir.path()),
        },
    );
    let real = expect_one_name(r).unwrap().filename;
    assert!(real.starts_with(b"/"));

    let r = call(
        &mut e,
        &mut p,
        Request::OpenDir {
            id: 0,
            path: real.clone(),
        },
    );
    let dh = expect_handle(r).unwrap();
    let mut names = Vec::new();
    while let Some(entries) = expect_dir_entries(call(
        &mut e,
        &mut p,
        Request::ReadDir {
            id: 0,
            handle: dh.clone(),
        },
    ))
    .unwrap()
    {
        for entry in entries {
            if entry.filename.starts_with(b"file") {
                let i: usize = String::from_utf8_lossy(&entry.filename[4..])
                    .parse()
                    .unwrap();
                assert_eq!(entry.attrs.size, Some(i as u64));
                assert!(entry.attrs.is_regular());
            }
            names.push(entry.filename);
        }
    }
    close(&mut e, &mut p, dh);
    assert_eq!(names.len(), 302);

    let stat = |e: &mut ClientEngine, p: &mut Pipe, name: &str| {
        expect_attrs(call(
            e,
            p,
            Request::Stat {
                id: 0,
                path: join(dir.path(), name),
            },
        ))
    };
    assert_eq!(stat(&mut e, &mut p, "file123").unwrap().size, Some(123));
    assert!(stat(&mut e, &mut p, ".").unwrap().is_dir());
    let err = stat(&mut e, &mut p, "missing").unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(matches!(
        err,
        SftpError::Status {
            code: StatusCode::NoSuchFile,
            ..
        }
    ));

    // Plain RENAME refuses an existing target; posix-rename replaces it.
    let r = call(
        &mut e,
        &mut p,
        Request::Rename {
            id: 0,
            old: join(dir.path(), "file001"),
            new: join(dir.path(), "file002"),
        },
    );
    assert_eq!(expect_ok(r).unwrap_err().code(), Some(StatusCode::Failure));
    let r = call(
        &mut e,
        &mut p,
        Request::Extended {
            id: 0,
            request: ExtendedRequest::PosixRename {
                old: join(dir.path(), "file001"),
                new: join(dir.path(), "file002"),
            },
        },
    );
    expect_ok(r).unwrap();
    assert_eq!(std::fs::read(dir.path().join("file002")).unwrap(), b"x");
    let r = call(
        &mut e,
        &mut p,
        Request::Rename {
            id: 0,
            old: join(dir.path(), "file002"),
            new: join(dir.path(), "renamed"),
        },
    );
    expect_ok(r).unwrap();
    assert!(dir.path().join("renamed").exists());

    // Reading a missing file: a typed status error, the pipeline stops.
    let r = call(
        &mut e,
        &mut p,
        Request::Open {
            id: 0,
            filename: join(dir.path(), "nope"),
            flags: OpenFlags::READ,
            attrs: FileAttributes::default(),
        },
    );
    assert!(expect_handle(r).unwrap_err().is_not_found());
    assert_eq!(e.in_flight(), 0);
}

#[test]
fn many_small_requests_pipelined_in_one_flight() {
    let Some((mut e, mut p)) = setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // 500 STATs sent at once, answered in order by sftp-server, taken in reverse.
    let ids: Vec<u32> = (0..500)
        .map(|_| {
            e.send(Request::Stat {
                id: 0,
                path: path_bytes(dir.path()),
            })
            .unwrap()
        })
        .collect();
    assert_eq!(e.in_flight(), 500);
    while e.in_flight() > 0 {
        p.pump(&mut e);
    }
    assert_eq!(e.unclaimed(), 500);
    for id in ids.iter().rev() {
        assert!(expect_attrs(e.take_reply(*id).unwrap()).unwrap().is_dir());
    }
    assert_eq!(e.buffered_bytes(), 0);
}

/// OpenSSH 10's `sftp-server` (`SEASHELL_OPENSSH10` or `/opt/openssh10`, as the conformance
/// matrix finds it; skipped when not installed): its extensions, sizing and a transfer.
#[test]
fn openssh10_sftp_server_transfer() {
    let dir10 = std::env::var("SEASHELL_OPENSSH10").unwrap_or_else(|_| "/opt/openssh10".into());
    let path = format!("{dir10}/usr/lib/openssh/sftp-server");
    if !std::path::Path::new(&path).exists() {
        eprintln!("skipped: OpenSSH 10's sftp-server not found at {path}");
        return;
    }
    let mut p = Pipe::spawn_at(&path);
    let mut e = ClientEngine::new(ClientConfig::default());
    let limits = expect_limits(call(
        &mut e,
        &mut p,
        Request::Extended {
            id: 0,
            request: ExtendedRequest::Limits,
        },
    ))
    .unwrap();
    let server = e.server().unwrap();
    for name in [
        extension_names::COPY_DATA,
        extension_names::HOME_DIRECTORY,
        extension_names::USERS_GROUPS_BY_ID,
        extension_names::EXPAND_PATH,
    ] {
        assert!(server.has_extension(name), "{name}");
    }
    let chunk = read_chunk(Some(&limits), e.config().max_packet);
    assert_eq!(chunk, 261_120);
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(8 * 1024 * 1024 + 1, 21);
    let h = open(
        &mut e,
        &mut p,
        &join(dir.path(), "f"),
        OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC,
    );
    upload(&mut e, &mut p, &h, 0, &data, write_chunk(Some(&limits)), 64).unwrap();
    close(&mut e, &mut p, h);
    let h = open(&mut e, &mut p, &join(dir.path(), "f"), OpenFlags::READ);
    let mut got = Vec::new();
    let pipeline = ReadPipeline::new(0, None, chunk, 64, ReadMode::InOrder);
    download(
        &mut e,
        &mut p,
        &h,
        pipeline,
        Take::of(ReadMode::InOrder),
        |_, b| got.extend_from_slice(b),
    )
    .unwrap();
    close(&mut e, &mut p, h);
    assert!(got == data);
}
