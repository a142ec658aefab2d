//! The codec against OpenSSH's `sftp-server`, spoken to over its stdin and stdout: only
//! this crate's framer and messages are used. Skipped, with a message, when the binary is
//! not installed (`SEASHELL_SFTP_SERVER` overrides the path).

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use seashell_sftp::{
    ExtendedRequest, FileAttributes, Framer, Limits, OpenFlags, Request, Response, StatVfs,
    StatusCode, UsersGroups, path_bytes,
};

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    framer: Framer,
    pending: Vec<u8>,
    next_id: u32,
}

impl Server {
    fn spawn() -> Option<Self> {
        let path = std::env::var("SEASHELL_SFTP_SERVER")
            .unwrap_or_else(|_| "/usr/lib/openssh/sftp-server".into());
        if !std::path::Path::new(&path).exists() {
            // CI installs it (openssh-sftp-server): nothing is skipped there.
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "OpenSSH's sftp-server not found at {path}"
            );
            eprintln!("skipped: OpenSSH's sftp-server not found at {path}");
            return None;
        }
        let mut child = Command::new(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        Some(Self {
            child,
            stdin,
            stdout,
            framer: Framer::new(),
            pending: Vec::new(),
            next_id: 1,
        })
    }

    fn send(&mut self, req: &Request) {
        self.stdin.write_all(&req.encode_framed().unwrap()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn recv(&mut self) -> Response {
        loop {
            let mut input = &self.pending[..];
            let got = self.framer.feed(&mut input).unwrap();
            let used = self.pending.len() - input.len();
            self.pending.drain(..used);
            if let Some(p) = got {
                return Response::decode(&p).unwrap();
            }
            let mut buf = [0u8; 4096];
            let n = self.stdout.read(&mut buf).unwrap();
            assert!(n > 0, "sftp-server closed its output");
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    /// Sends a request built with a fresh id and returns the reply, checking the id.
    fn call(&mut self, build: impl FnOnce(u32) -> Request) -> Response {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&build(id));
        let r = self.recv();
        assert_eq!(r.id(), Some(id));
        r
    }

    fn handle(&mut self, build: impl FnOnce(u32) -> Request) -> Vec<u8> {
        match self.call(build) {
            Response::Handle { handle, .. } => handle,
            other => panic!("expected HANDLE, got {other:?}"),
        }
    }

    fn ok(&mut self, build: impl FnOnce(u32) -> Request) {
        match self.call(build) {
            Response::Status {
                code: StatusCode::Ok,
                ..
            } => {}
            other => panic!("expected OK, got {other:?}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn openssh_sftp_server_session() {
    let Some(mut s) = Server::spawn() else {
        return;
    };
    s.send(&Request::Init {
        version: 3,
        extensions: vec![],
    });
    let Response::Version {
        version,
        extensions,
    } = s.recv()
    else {
        panic!("expected VERSION");
    };
    assert_eq!(version, 3);
    let names: Vec<&[u8]> = extensions.iter().map(|(n, _)| n.as_slice()).collect();
    for want in [
        "posix-rename@openssh.com",
        "statvfs@openssh.com",
        "fstatvfs@openssh.com",
        "hardlink@openssh.com",
        "fsync@openssh.com",
        "limits@openssh.com",
    ] {
        assert!(names.contains(&want.as_bytes()), "missing {want}");
    }

    // REALPATH ".": one absolute name.
    match s.call(|id| Request::RealPath {
        id,
        path: b".".to_vec(),
    }) {
        Response::Name { entries, .. } => {
            assert_eq!(entries.len(), 1);
            assert!(entries[0].filename.starts_with(b"/"));
        }
        other => panic!("expected NAME, got {other:?}"),
    }

    // OPENDIR / READDIR of a directory with two files, until EOF.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one"), b"1").unwrap();
    std::fs::write(dir.path().join("two"), b"22").unwrap();
    let dpath = path_bytes(dir.path());
    let dh = s.handle(|id| Request::OpenDir {
        id,
        path: dpath.clone(),
    });
    let mut seen = Vec::new();
    loop {
        match s.call(|id| Request::ReadDir {
            id,
            handle: dh.clone(),
        }) {
            Response::Name { entries, .. } => {
                for e in entries {
                    if e.filename == b"two" {
                        assert_eq!(e.attrs.size, Some(2));
                        assert!(e.attrs.is_regular());
                    }
                    seen.push(e.filename);
                }
            }
            Response::Status {
                code: StatusCode::Eof,
                ..
            } => break,
            other => panic!("READDIR: {other:?}"),
        }
    }
    seen.sort();
    assert_eq!(seen, [&b"."[..], b"..", b"one", b"two"]);
    s.ok(|id| Request::Close { id, handle: dh });

    // OPEN + WRITE + CLOSE, then OPEN + READ back, STAT.
    let mut fpath = dpath.clone();
    fpath.extend_from_slice(b"/new");
    let content = b"hello from seashell-sftp".to_vec();
    let fh = s.handle(|id| Request::Open {
        id,
        filename: fpath.clone(),
        flags: OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC,
        attrs: FileAttributes {
            permissions: Some(0o600),
            ..Default::default()
        },
    });
    s.ok(|id| Request::Write {
        id,
        handle: fh.clone(),
        offset: 0,
        data: content.clone(),
    });
    s.ok(|id| Request::Close { id, handle: fh });
    let fh = s.handle(|id| Request::Open {
        id,
        filename: fpath.clone(),
        flags: OpenFlags::READ,
        attrs: FileAttributes::default(),
    });
    match s.call(|id| Request::Read {
        id,
        handle: fh.clone(),
        offset: 0,
        len: 4096,
    }) {
        Response::Data { data, .. } => assert_eq!(data, content),
        other => panic!("READ: {other:?}"),
    }
    match s.call(|id| Request::Read {
        id,
        handle: fh.clone(),
        offset: content.len() as u64,
        len: 4096,
    }) {
        Response::Status { code, message, .. } => {
            assert_eq!(code, StatusCode::Eof);
            assert_eq!(message, b"End of file");
        }
        other => panic!("READ at end: {other:?}"),
    }
    s.ok(|id| Request::Close { id, handle: fh });
    match s.call(|id| Request::Stat {
        id,
        path: fpath.clone(),
    }) {
        Response::Attrs { attrs, .. } => {
            assert_eq!(attrs.size, Some(content.len() as u64));
            assert_eq!(attrs.permissions.map(|p| p & 0o777), Some(0o600));
            assert!(attrs.is_regular());
        }
        other => panic!("STAT: {other:?}"),
    }

    // statvfs@openssh.com on the directory.
    match s.call(|id| Request::Extended {
        id,
        request: ExtendedRequest::StatVfs {
            path: dpath.clone(),
        },
    }) {
        Response::ExtendedReply { data, .. } => {
            let v = StatVfs::decode(&data).unwrap();
            assert!(v.namemax > 0 && v.bsize > 0);
        }
        other => panic!("statvfs: {other:?}"),
    }

    // limits@openssh.com.
    match s.call(|id| Request::Extended {
        id,
        request: ExtendedRequest::Limits,
    }) {
        Response::ExtendedReply { data, .. } => {
            let l = Limits::decode(&data).unwrap();
            assert_eq!(l.max_packet_length, 256 * 1024);
            assert!(l.max_read_length > 0 && l.max_read_length < l.max_packet_length);
            assert!(l.max_write_length > 0);
        }
        other => panic!("limits: {other:?}"),
    }

    // REMOVE, then STAT says no such file.
    s.ok(|id| Request::Remove {
        id,
        filename: fpath.clone(),
    });
    match s.call(|id| Request::Stat { id, path: fpath }) {
        Response::Status { code, .. } => assert_eq!(code, StatusCode::NoSuchFile),
        other => panic!("STAT after REMOVE: {other:?}"),
    }
}

/// One NAME entry expected; its file name.
fn single_name(r: Response) -> Vec<u8> {
    match r {
        Response::Name { mut entries, .. } if entries.len() == 1 => entries.remove(0).filename,
        other => panic!("expected one NAME entry, got {other:?}"),
    }
}

#[test]
fn openssh_sftp_server_extensions() {
    let Some(mut s) = Server::spawn() else {
        return;
    };
    s.send(&Request::Init {
        version: 3,
        extensions: vec![],
    });
    assert!(matches!(s.recv(), Response::Version { version: 3, .. }));
    let dir = tempfile::tempdir().unwrap();
    let content = b"copy me, link me".to_vec();
    std::fs::write(dir.path().join("src"), &content).unwrap();
    let p = |name: &str| path_bytes(&dir.path().join(name));
    let ext = |request: ExtendedRequest| move |id| Request::Extended { id, request };

    // posix-rename@openssh.com, then hardlink@openssh.com.
    s.ok(ext(ExtendedRequest::PosixRename {
        old: p("src"),
        new: p("renamed"),
    }));
    s.ok(ext(ExtendedRequest::Hardlink {
        old: p("renamed"),
        new: p("linked"),
    }));
    assert_eq!(std::fs::read(dir.path().join("linked")).unwrap(), content);

    // lsetstat@openssh.com: permissions.
    s.ok(ext(ExtendedRequest::LSetStat {
        path: p("linked"),
        attrs: FileAttributes {
            permissions: Some(0o640),
            ..Default::default()
        },
    }));
    let attrs = match s.call(|id| Request::Lstat {
        id,
        path: p("linked"),
    }) {
        Response::Attrs { attrs, .. } => attrs,
        other => panic!("LSTAT: {other:?}"),
    };
    assert_eq!(attrs.permissions.map(|m| m & 0o777), Some(0o640));

    // copy-data between two handles (length 0: to end of file), fsync and fstatvfs.
    let rh = s.handle(|id| Request::Open {
        id,
        filename: p("renamed"),
        flags: OpenFlags::READ,
        attrs: FileAttributes::default(),
    });
    let wh = s.handle(|id| Request::Open {
        id,
        filename: p("copy"),
        flags: OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::EXCL,
        attrs: FileAttributes::default(),
    });
    s.ok(ext(ExtendedRequest::CopyData {
        read_handle: rh.clone(),
        read_offset: 0,
        length: 0,
        write_handle: wh.clone(),
        write_offset: 0,
    }));
    s.ok(ext(ExtendedRequest::Fsync { handle: wh.clone() }));
    match s.call(ext(ExtendedRequest::FStatVfs { handle: wh.clone() })) {
        Response::ExtendedReply { data, .. } => {
            assert!(StatVfs::decode(&data).unwrap().bsize > 0)
        }
        other => panic!("fstatvfs: {other:?}"),
    }
    s.ok(|id| Request::Close { id, handle: rh });
    s.ok(|id| Request::Close { id, handle: wh });
    assert_eq!(std::fs::read(dir.path().join("copy")).unwrap(), content);

    // expand-path@openssh.com of the directory itself.
    let expanded = single_name(s.call(ext(ExtendedRequest::ExpandPath { path: p(".") })));
    assert!(expanded.starts_with(b"/"));

    // users-groups-by-id@openssh.com for our own ids, then home-directory of our name.
    let (uid, gid) = attrs.uid_gid.unwrap();
    let names = match s.call(ext(ExtendedRequest::UsersGroupsById {
        uids: vec![uid],
        gids: vec![gid],
    })) {
        Response::ExtendedReply { data, .. } => UsersGroups::decode(&data).unwrap(),
        other => panic!("users-groups-by-id: {other:?}"),
    };
    assert_eq!((names.users.len(), names.groups.len()), (1, 1));
    assert!(!names.users[0].is_empty());
    let home = single_name(s.call(ext(ExtendedRequest::HomeDirectory {
        username: names.users[0].clone(),
    })));
    assert!(home.starts_with(b"/"));

    // An extension the server does not know: SSH_FX_OP_UNSUPPORTED.
    match s.call(ext(ExtendedRequest::Unknown {
        name: b"nonexistent@seashell".to_vec(),
        data: vec![1, 2, 3],
    })) {
        Response::Status { code, .. } => assert_eq!(code, StatusCode::OpUnsupported),
        other => panic!("unknown extension: {other:?}"),
    }
}
