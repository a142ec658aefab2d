//! Shared by the server tests: a client that drives a `ServerEngine` directly (requests in,
//! replies out, no I/O).
#![allow(dead_code)]

use seashell_sftp::server::{Filesystem, ServerEngine};
use seashell_sftp::{
    ExtendedRequest, FileAttributes, Framer, OpenFlags, Request, Response, StatusCode,
};

/// A directory listing: (file name, long name, attributes).
pub type Listing = Vec<(Vec<u8>, Vec<u8>, FileAttributes)>;

pub struct Client<F: Filesystem> {
    pub engine: ServerEngine<F>,
    framer: Framer,
    next_id: u32,
}

impl<F: Filesystem> Client<F> {
    /// Sends INIT and checks the VERSION.
    pub fn new(engine: ServerEngine<F>) -> Self {
        let mut c = Self {
            engine,
            framer: Framer::with_max_packet(1024 * 1024),
            next_id: 1,
        };
        let init = Request::Init {
            version: 3,
            extensions: vec![],
        };
        match c.roundtrip(&init).remove(0) {
            Response::Version { version: 3, .. } => {}
            other => panic!("expected VERSION, got {other:?}"),
        }
        c
    }

    pub fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// Feeds a request and returns every reply queued.
    pub fn roundtrip(&mut self, req: &Request) -> Vec<Response> {
        let wire = req.encode_framed().unwrap();
        assert_eq!(self.engine.feed(&wire).unwrap(), wire.len());
        self.replies()
    }

    pub fn replies(&mut self) -> Vec<Response> {
        let mut out = Vec::new();
        self.engine.take_output(&mut out);
        let mut input = &out[..];
        let mut replies = Vec::new();
        while let Some(p) = self.framer.feed(&mut input).unwrap() {
            replies.push(Response::decode(&p).unwrap());
        }
        assert!(input.is_empty());
        replies
    }

    /// One request, one reply with the request's id.
    pub fn call(&mut self, req: Request) -> Response {
        let mut r = self.roundtrip(&req);
        assert_eq!(r.len(), 1, "{req:?} -> {r:?}");
        let r = r.remove(0);
        assert_eq!(r.id(), req.id());
        r
    }

    pub fn status(&mut self, req: Request) -> StatusCode {
        match self.call(req) {
            Response::Status { code, .. } => code,
            other => panic!("expected STATUS, got {other:?}"),
        }
    }

    pub fn ok(&mut self, req: Request) {
        let what = format!("{req:?}");
        assert_eq!(self.status(req), StatusCode::Ok, "{what}");
    }

    pub fn open(&mut self, path: &[u8], flags: OpenFlags) -> Result<Vec<u8>, StatusCode> {
        let id = self.id();
        match self.call(Request::Open {
            id,
            filename: path.to_vec(),
            flags,
            attrs: FileAttributes::default(),
        }) {
            Response::Handle { handle, .. } => Ok(handle),
            Response::Status { code, .. } => Err(code),
            other => panic!("{other:?}"),
        }
    }

    pub fn opendir(&mut self, path: &[u8]) -> Result<Vec<u8>, StatusCode> {
        let id = self.id();
        match self.call(Request::OpenDir {
            id,
            path: path.to_vec(),
        }) {
            Response::Handle { handle, .. } => Ok(handle),
            Response::Status { code, .. } => Err(code),
            other => panic!("{other:?}"),
        }
    }

    pub fn close(&mut self, handle: Vec<u8>) {
        let id = self.id();
        self.ok(Request::Close { id, handle });
    }

    pub fn read(&mut self, handle: &[u8], offset: u64, len: u32) -> Result<Vec<u8>, StatusCode> {
        let id = self.id();
        match self.call(Request::Read {
            id,
            handle: handle.to_vec(),
            offset,
            len,
        }) {
            Response::Data { data, .. } => Ok(data),
            Response::Status { code, .. } => Err(code),
            other => panic!("{other:?}"),
        }
    }

    pub fn write(&mut self, handle: &[u8], offset: u64, data: &[u8]) -> StatusCode {
        let id = self.id();
        self.status(Request::Write {
            id,
            handle: handle.to_vec(),
            offset,
            data: data.to_vec(),
        })
    }

    /// Reads a whole file through OPEN/READ/CLOSE.
    pub fn get(&mut self, path: &[u8]) -> Result<Vec<u8>, StatusCode> {
        let h = self.open(path, OpenFlags::READ)?;
        let mut data = Vec::new();
        loop {
            match self.read(&h, data.len() as u64, 65536) {
                Ok(d) => data.extend_from_slice(&d),
                Err(StatusCode::Eof) => break,
                Err(e) => {
                    self.close(h);
                    return Err(e);
                }
            }
        }
        self.close(h);
        Ok(data)
    }

    /// Writes a whole file (created or truncated).
    pub fn put(&mut self, path: &[u8], data: &[u8]) -> Result<(), StatusCode> {
        let h = self.open(path, OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC)?;
        let code = self.write(&h, 0, data);
        self.close(h);
        if code == StatusCode::Ok {
            Ok(())
        } else {
            Err(code)
        }
    }

    pub fn attrs(&mut self, req: Request) -> Result<FileAttributes, StatusCode> {
        match self.call(req) {
            Response::Attrs { attrs, .. } => Ok(attrs),
            Response::Status { code, .. } => Err(code),
            other => panic!("{other:?}"),
        }
    }

    pub fn stat(&mut self, path: &[u8]) -> Result<FileAttributes, StatusCode> {
        let id = self.id();
        self.attrs(Request::Stat {
            id,
            path: path.to_vec(),
        })
    }

    pub fn lstat(&mut self, path: &[u8]) -> Result<FileAttributes, StatusCode> {
        let id = self.id();
        self.attrs(Request::Lstat {
            id,
            path: path.to_vec(),
        })
    }

    pub fn name(&mut self, req: Request) -> Result<Vec<u8>, StatusCode> {
        match self.call(req) {
            Response::Name { mut entries, .. } => {
                assert_eq!(entries.len(), 1);
                Ok(entries.remove(0).filename)
            }
            Response::Status { code, .. } => Err(code),
            other => panic!("{other:?}"),
        }
    }

    pub fn realpath(&mut self, path: &[u8]) -> Result<Vec<u8>, StatusCode> {
        let id = self.id();
        self.name(Request::RealPath {
            id,
            path: path.to_vec(),
        })
    }

    pub fn expand(&mut self, path: &[u8]) -> Result<Vec<u8>, StatusCode> {
        let id = self.id();
        self.name(Request::Extended {
            id,
            request: ExtendedRequest::ExpandPath {
                path: path.to_vec(),
            },
        })
    }

    /// Every entry name of a directory.
    pub fn list(&mut self, path: &[u8]) -> Result<Listing, StatusCode> {
        let h = self.opendir(path)?;
        let mut all = Vec::new();
        loop {
            let id = self.id();
            match self.call(Request::ReadDir {
                id,
                handle: h.clone(),
            }) {
                Response::Name { entries, .. } => all.extend(
                    entries
                        .into_iter()
                        .map(|e| (e.filename, e.longname, e.attrs)),
                ),
                Response::Status {
                    code: StatusCode::Eof,
                    ..
                } => break,
                other => panic!("{other:?}"),
            }
        }
        self.close(h);
        Ok(all)
    }

    pub fn ext(&mut self, request: ExtendedRequest) -> Response {
        let id = self.id();
        self.call(Request::Extended { id, request })
    }

    pub fn ext_status(&mut self, request: ExtendedRequest) -> StatusCode {
        match self.ext(request) {
            Response::Status { code, .. } => code,
            other => panic!("{other:?}"),
        }
    }
}
