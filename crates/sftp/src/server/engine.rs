//! The sans-I/O server engine: bytes in, requests decided or executed on a [`Filesystem`],
//! replies out, with bounded handles, reads, listings and output.

use std::collections::VecDeque;
use std::fmt;

use super::fs::{DirEntry, Filesystem, FsError, FsResult};
use super::handles::{HandleTable, Slot};
use super::longname::longname;
use super::policy::{Policy, is_write};
use crate::ext;
use crate::{
    DEFAULT_MAX_PACKET, DecodeError, ExtendedRequest, FileAttributes, FrameError, Framer, Limits,
    NameEntry, Request, Response, SFTP_VERSION, StatusCode, UsersGroups,
};

/// The extensions advertised in VERSION, with `sftp-server`'s names, versions and order.
pub const SERVER_EXTENSIONS: [(&str, &str); 11] = [
    (ext::POSIX_RENAME, "1"),
    (ext::STATVFS, "2"),
    (ext::FSTATVFS, "2"),
    (ext::HARDLINK, "1"),
    (ext::FSYNC, "1"),
    (ext::LSETSTAT, "1"),
    (ext::LIMITS, "1"),
    (ext::EXPAND_PATH, "1"),
    (ext::COPY_DATA, "1"),
    (ext::HOME_DIRECTORY, "1"),
    (ext::USERS_GROUPS_BY_ID, "1"),
];

/// The server's limits and modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Refuse every request that would change the filesystem (`sftp-server -R`).
    pub read_only: bool,
    /// Most handles open at once; a further OPEN or OPENDIR gets `SSH_FX_FAILURE`.
    pub max_handles: usize,
    /// Largest READ served (longer ones are shortened), as advertised by `limits@openssh.com`.
    pub max_read: u32,
    /// Largest request packet accepted (longer is a protocol error).
    pub max_packet: u32,
    /// Most entries in one READDIR reply.
    pub max_readdir_entries: usize,
    /// Most bytes of entries in one READDIR reply (at least one entry is always sent).
    pub max_readdir_bytes: usize,
    /// Queued output above which [`ServerEngine::wants_input`] is false.
    pub output_high_water: usize,
}

impl Default for ServerConfig {
    /// OpenSSH's figures: 256 KiB packets, 261,120-byte reads, 100 entries per listing; 256
    /// handles, 1 MiB of queued output.
    fn default() -> Self {
        Self {
            read_only: false,
            max_handles: 256,
            max_read: DEFAULT_MAX_PACKET - 1024,
            max_packet: DEFAULT_MAX_PACKET,
            max_readdir_entries: 100,
            max_readdir_bytes: 128 * 1024,
            output_high_water: 1024 * 1024,
        }
    }
}

/// Why the session cannot go on; the caller closes the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerError {
    /// The byte stream cannot be framed (oversize or empty packet).
    Frame(FrameError),
    /// A packet does not decode as a request.
    Decode(DecodeError),
    /// A request came before INIT.
    NotInitialized,
    /// A second INIT.
    DuplicateInit,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Frame(e) => write!(f, "sftp framing: {e}"),
            Self::Decode(e) => write!(f, "sftp request: {e}"),
            Self::NotInitialized => f.write_str("sftp request before INIT"),
            Self::DuplicateInit => f.write_str("second sftp INIT"),
        }
    }
}

impl std::error::Error for ServerError {}

/// The SFTP version 3 server, sans I/O, over a [`Filesystem`].
///
/// Feed it the client's bytes with [`feed`](Self::feed), send what
/// [`take_output`](Self::take_output) gives; stop feeding while
/// [`wants_input`](Self::wants_input) is false (the client is not reading its replies).
pub struct ServerEngine<F: Filesystem> {
    fs: F,
    config: ServerConfig,
    policy: Option<Box<dyn Policy>>,
    framer: Framer,
    handles: HandleTable<F>,
    out: Vec<u8>,
    initialized: bool,
    failed: Option<ServerError>,
}

impl<F: Filesystem> fmt::Debug for ServerEngine<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerEngine")
            .field("config", &self.config)
            .field("handles", &self.handles.len())
            .field("queued_output", &self.out.len())
            .field("initialized", &self.initialized)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

type Reply = Result<Response, StatusCode>;

fn ok(id: u32) -> Reply {
    Ok(Response::status(id, StatusCode::Ok))
}

fn done(id: u32, r: FsResult<()>) -> Reply {
    r.map_err(FsError::status).and_then(|()| ok(id))
}

fn file_of<'a, F: Filesystem>(
    handles: &'a mut HandleTable<F>,
    handle: &[u8],
) -> Result<&'a mut F::File, StatusCode> {
    match handles.get_mut(handle) {
        Some(Slot::File(f)) => Ok(f),
        _ => Err(StatusCode::Failure),
    }
}

impl<F: Filesystem> ServerEngine<F> {
    /// An engine serving `fs`.
    pub fn new(fs: F, config: ServerConfig) -> Self {
        Self {
            framer: Framer::with_max_packet(config.max_packet),
            handles: HandleTable::new(config.max_handles),
            fs,
            config,
            policy: None,
            out: Vec::new(),
            initialized: false,
            failed: None,
        }
    }

    /// Adds a per-request policy (see [`Policy`]); denied requests get
    /// `SSH_FX_PERMISSION_DENIED`.
    pub fn with_policy(mut self, policy: impl Policy + 'static) -> Self {
        self.policy = Some(Box::new(policy));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The filesystem.
    pub fn filesystem(&self) -> &F {
        &self.fs
    }

    /// The filesystem, mutably.
    pub fn filesystem_mut(&mut self) -> &mut F {
        &mut self.fs
    }

    /// How many handles the client holds open.
    pub fn open_handles(&self) -> usize {
        self.handles.len()
    }

    /// How many reply bytes wait for [`take_output`](Self::take_output).
    pub fn queued_output(&self) -> usize {
        self.out.len()
    }

    /// Consumes client bytes while [`wants_input`](Self::wants_input) holds, executing each
    /// whole request and queueing its reply; returns how many bytes were consumed (feed the
    /// rest again after draining output). A framing or decoding error, a request before
    /// INIT or a second INIT ends the session.
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, ServerError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut rest = input;
        while self.wants_input() && !rest.is_empty() {
            match self.framer.feed(&mut rest) {
                Ok(Some(payload)) => {
                    if let Err(e) = self.packet(&payload) {
                        self.failed = Some(e.clone());
                        return Err(e);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.failed = Some(ServerError::Frame(e));
                    return Err(ServerError::Frame(e));
                }
            }
        }
        Ok(input.len().saturating_sub(rest.len()))
    }

    /// Appends the queued reply bytes to `out` (an empty `out` is swapped with the queue: no
    /// copy).
    pub fn take_output(&mut self, out: &mut Vec<u8>) {
        if out.is_empty() {
            std::mem::swap(out, &mut self.out);
        } else {
            out.append(&mut self.out);
        }
    }

    /// Whether [`feed`](Self::feed) will consume input: false once failed, and while queued
    /// output exceeds the high-water mark (drain it first).
    pub fn wants_input(&self) -> bool {
        self.failed.is_none() && self.out.len() < self.config.output_high_water
    }

    /// Whether the session failed (see [`ServerError`]); the caller closes the channel.
    pub fn is_finished(&self) -> bool {
        self.failed.is_some()
    }

    /// The error that ended the session, if any.
    pub fn error(&self) -> Option<&ServerError> {
        self.failed.as_ref()
    }

    /// Closes every open handle (at the end of the session); returns how many were open.
    pub fn close_all(&mut self) -> usize {
        let slots = self.handles.drain();
        let n = slots.len();
        for s in slots {
            let _ = match s {
                Slot::File(f) => self.fs.close(f),
                Slot::Dir { dir, .. } => self.fs.closedir(dir),
            };
        }
        n
    }

    fn push(&mut self, r: Response) {
        let id = r.id().unwrap_or(0);
        let framed = r
            .encode_framed()
            .or_else(|_| Response::status(id, StatusCode::Failure).encode_framed());
        if let Ok(b) = framed {
            self.out.extend_from_slice(&b);
        }
    }

    fn packet(&mut self, payload: &[u8]) -> Result<(), ServerError> {
        let request = Request::decode(payload).map_err(ServerError::Decode)?;
        let Some(id) = request.id() else {
            if self.initialized {
                return Err(ServerError::DuplicateInit);
            }
            self.initialized = true;
            let extensions = SERVER_EXTENSIONS
                .iter()
                .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect();
            self.push(Response::Version {
                version: SFTP_VERSION,
                extensions,
            });
            return Ok(());
        };
        if !self.initialized {
            return Err(ServerError::NotInitialized);
        }
        let denied = (self.config.read_only && is_write(&request))
            || self.policy.as_mut().is_some_and(|p| !p.allow(&request));
        let reply = if denied {
            Err(StatusCode::PermissionDenied)
        } else if let Request::Read {
            handle,
            offset,
            len,
            ..
        } = &request
        {
            // The hot path: read straight into the output buffer.
            match self.read_into_output(id, handle, *offset, *len) {
                Ok(()) => return Ok(()),
                Err(code) => Err(code),
            }
        } else {
            self.execute(id, request)
        };
        self.push(reply.unwrap_or_else(|code| Response::status(id, code)));
        Ok(())
    }

    /// READ: a DATA reply built in place in the output buffer (no intermediate copy); at
    /// most `max_read` bytes; nothing read is EOF.
    fn read_into_output(
        &mut self,
        id: u32,
        handle: &[u8],
        offset: u64,
        len: u32,
    ) -> Result<(), StatusCode> {
        // uint32 length, byte type, uint32 id, uint32 data length.
        const HEADER: usize = 13;
        let want = len.min(self.config.max_read);
        let n = usize::try_from(want).map_err(|_| StatusCode::Failure)?;
        let file = file_of(&mut self.handles, handle)?;
        let start = self.out.len();
        self.out
            .resize(start.saturating_add(HEADER).saturating_add(n), 0);
        let got = match self.out.get_mut(start.saturating_add(HEADER)..) {
            Some(buf) => self.fs.read(file, offset, buf),
            None => Err(FsError::Failure),
        };
        let got = match got {
            Ok(g) if g > 0 && g <= n => g,
            Ok(0) | Err(FsError::Eof) => {
                self.out.truncate(start);
                return Err(StatusCode::Eof);
            }
            Ok(_) => {
                self.out.truncate(start);
                return Err(StatusCode::Failure);
            }
            Err(e) => {
                self.out.truncate(start);
                return Err(e.status());
            }
        };
        self.out
            .truncate(start.saturating_add(HEADER).saturating_add(got));
        let got32 = u32::try_from(got).map_err(|_| StatusCode::Failure)?;
        let mut header = [0u8; HEADER];
        let fields = [
            (0..4, got32.saturating_add(9).to_be_bytes()),
            (5..9, id.to_be_bytes()),
            (9..13, got32.to_be_bytes()),
        ];
        for (range, bytes) in fields {
            if let Some(slot) = header.get_mut(range) {
                slot.copy_from_slice(&bytes);
            }
        }
        if let Some(t) = header.get_mut(4) {
            *t = crate::fxp::DATA;
        }
        if let Some(h) = self.out.get_mut(start..start.saturating_add(HEADER)) {
            h.copy_from_slice(&header);
        }
        Ok(())
    }

    fn handle_reply(&mut self, id: u32, slot: Slot<F>) -> Reply {
        match self.handles.insert(slot) {
            Ok(handle) => Ok(Response::Handle { id, handle }),
            Err(slot) => {
                let _ = match slot {
                    Slot::File(f) => self.fs.close(f),
                    Slot::Dir { dir, .. } => self.fs.closedir(dir),
                };
                Err(StatusCode::Failure)
            }
        }
    }

    fn name(id: u32, path: Vec<u8>) -> Reply {
        let longname = path.clone();
        Ok(Response::Name {
            id,
            entries: vec![NameEntry {
                filename: path,
                longname,
                attrs: FileAttributes::default(),
            }],
        })
    }

    fn execute(&mut self, id: u32, request: Request) -> Reply {
        let fs = &mut self.fs;
        let st = FsError::status;
        match request {
            // Both are handled in `packet`.
            Request::Init { .. } | Request::Read { .. } => Err(StatusCode::BadMessage),
            Request::Open {
                filename,
                flags,
                attrs,
                ..
            } => {
                // The handle table is checked first, so a full table costs no open.
                if self.handles.len() >= self.config.max_handles {
                    return Err(StatusCode::Failure);
                }
                let f = fs.open(&filename, flags, &attrs).map_err(st)?;
                self.handle_reply(id, Slot::File(f))
            }
            Request::OpenDir { path, .. } => {
                if self.handles.len() >= self.config.max_handles {
                    return Err(StatusCode::Failure);
                }
                let dir = fs.opendir(&path).map_err(st)?;
                self.handle_reply(
                    id,
                    Slot::Dir {
                        dir,
                        pending: VecDeque::new(),
                        done: false,
                    },
                )
            }
            Request::Close { handle, .. } => match self.handles.remove(&handle) {
                Some(Slot::File(f)) => done(id, self.fs.close(f)),
                Some(Slot::Dir { dir, .. }) => done(id, self.fs.closedir(dir)),
                None => Err(StatusCode::Failure),
            },
            Request::Write {
                handle,
                offset,
                data,
                ..
            } => {
                let file = file_of(&mut self.handles, &handle)?;
                done(id, self.fs.write(file, offset, &data))
            }
            Request::Fstat { handle, .. } => {
                let file = file_of(&mut self.handles, &handle)?;
                let attrs = self.fs.fstat(file).map_err(st)?;
                Ok(Response::Attrs { id, attrs })
            }
            Request::FSetStat { handle, attrs, .. } => {
                let file = file_of(&mut self.handles, &handle)?;
                done(id, self.fs.fsetstat(file, &attrs))
            }
            Request::ReadDir { handle, .. } => self.readdir(id, &handle),
            Request::Stat { path, .. } => Ok(Response::Attrs {
                id,
                attrs: fs.stat(&path).map_err(st)?,
            }),
            Request::Lstat { path, .. } => Ok(Response::Attrs {
                id,
                attrs: fs.lstat(&path).map_err(st)?,
            }),
            Request::SetStat { path, attrs, .. } => done(id, fs.setstat(&path, &attrs)),
            Request::Remove { filename, .. } => done(id, fs.remove(&filename)),
            Request::Mkdir { path, attrs, .. } => done(id, fs.mkdir(&path, &attrs)),
            Request::Rmdir { path, .. } => done(id, fs.rmdir(&path)),
            Request::RealPath { path, .. } => Self::name(id, fs.realpath(&path).map_err(st)?),
            Request::Rename { old, new, .. } => done(id, fs.rename(&old, &new)),
            Request::ReadLink { path, .. } => Self::name(id, fs.readlink(&path).map_err(st)?),
            Request::Symlink { target, link, .. } => done(id, fs.symlink(&target, &link)),
            Request::Extended { request, .. } => self.extended(id, request),
        }
    }

    fn extended(&mut self, id: u32, request: ExtendedRequest) -> Reply {
        let fs = &mut self.fs;
        let st = FsError::status;
        match request {
            ExtendedRequest::PosixRename { old, new } => done(id, fs.posix_rename(&old, &new)),
            ExtendedRequest::Hardlink { old, new } => done(id, fs.hardlink(&old, &new)),
            ExtendedRequest::LSetStat { path, attrs } => done(id, fs.lsetstat(&path, &attrs)),
            ExtendedRequest::StatVfs { path } => Ok(Response::ExtendedReply {
                id,
                data: fs.statvfs(&path).map_err(st)?.encode(),
            }),
            ExtendedRequest::FStatVfs { handle } => {
                let file = file_of(&mut self.handles, &handle)?;
                let v = self.fs.fstatvfs(file).map_err(st)?;
                Ok(Response::ExtendedReply {
                    id,
                    data: v.encode(),
                })
            }
            ExtendedRequest::Fsync { handle } => {
                let file = file_of(&mut self.handles, &handle)?;
                done(id, self.fs.fsync(file))
            }
            ExtendedRequest::Limits => {
                let l = Limits {
                    max_packet_length: u64::from(self.config.max_packet),
                    max_read_length: u64::from(self.config.max_read),
                    max_write_length: u64::from(self.config.max_packet.saturating_sub(1024)),
                    max_open_handles: u64::try_from(self.config.max_handles).unwrap_or(0),
                };
                Ok(Response::ExtendedReply {
                    id,
                    data: l.encode(),
                })
            }
            ExtendedRequest::ExpandPath { path } => {
                let expanded = self.expand_tilde(&path)?;
                Self::name(id, self.fs.realpath(&expanded).map_err(st)?)
            }
            ExtendedRequest::HomeDirectory { username } => {
                Self::name(id, fs.home_of(&username).map_err(st)?)
            }
            ExtendedRequest::UsersGroupsById { uids, gids } => {
                let names = UsersGroups {
                    users: uids
                        .iter()
                        .map(|u| fs.user_name(*u).unwrap_or_default())
                        .collect(),
                    groups: gids
                        .iter()
                        .map(|g| fs.group_name(*g).unwrap_or_default())
                        .collect(),
                };
                let data = names.encode().map_err(|_| StatusCode::Failure)?;
                Ok(Response::ExtendedReply { id, data })
            }
            ExtendedRequest::CopyData {
                read_handle,
                read_offset,
                length,
                write_handle,
                write_offset,
            } => done(
                id,
                self.copy_data(
                    &read_handle,
                    read_offset,
                    length,
                    &write_handle,
                    write_offset,
                )?,
            ),
            ExtendedRequest::Unknown { .. } => Err(StatusCode::OpUnsupported),
        }
    }

    /// `~`, `~/rest`, `~user/rest` → the home directory joined with the rest.
    fn expand_tilde(&mut self, path: &[u8]) -> Result<Vec<u8>, StatusCode> {
        let Some(after) = path.strip_prefix(b"~") else {
            return Ok(path.to_vec());
        };
        let (user, rest) = match after.iter().position(|&b| b == b'/') {
            Some(i) => after.split_at(i),
            None => (after, &[][..]),
        };
        let mut home = if user.is_empty() {
            self.fs.home()
        } else {
            self.fs.home_of(user)
        }
        .map_err(FsError::status)?;
        home.extend_from_slice(rest);
        Ok(home)
    }

    /// `copy-data` between two distinct file handles, in 64 KiB steps; `length` 0 copies to
    /// the end of the read file (its size when the copy starts).
    fn copy_data(
        &mut self,
        read_handle: &[u8],
        read_offset: u64,
        length: u64,
        write_handle: &[u8],
        write_offset: u64,
    ) -> Result<FsResult<()>, StatusCode> {
        let (src, dst) = self
            .handles
            .two_files(read_handle, write_handle)
            .ok_or(StatusCode::Failure)?;
        // "To the end" is the end when the copy starts: copying a file onto itself (through
        // another handle or a hard link) must not chase its own growth.
        let left_at_start = if length == 0 {
            match self.fs.fstat(src) {
                Ok(a) => a.size.unwrap_or(0).saturating_sub(read_offset),
                Err(e) => return Ok(Err(e)),
            }
        } else {
            length
        };
        let mut buf = vec![0u8; 64 * 1024];
        let (mut r, mut w) = (read_offset, write_offset);
        let mut left = left_at_start;
        while left > 0 {
            let want = usize::try_from(left.min(64 * 1024)).unwrap_or(64 * 1024);
            let chunk = buf.get_mut(..want).ok_or(StatusCode::Failure)?;
            let n = match self.fs.read(src, r, chunk) {
                Ok(0) | Err(FsError::Eof) => break,
                Ok(n) => n,
                Err(e) => return Ok(Err(e)),
            };
            let data = chunk.get(..n).ok_or(StatusCode::Failure)?;
            if let Err(e) = self.fs.write(dst, w, data) {
                return Ok(Err(e));
            }
            let n64 = u64::try_from(n).unwrap_or(0);
            r = r.saturating_add(n64);
            w = w.saturating_add(n64);
            left = left.saturating_sub(n64);
        }
        if length != 0 && left > 0 {
            // sftp-server answers EOF when the source ends before `length` bytes.
            return Ok(Err(FsError::Eof));
        }
        Ok(Ok(()))
    }

    fn readdir(&mut self, id: u32, handle: &[u8]) -> Reply {
        let max = self.config.max_readdir_entries.max(1);
        let budget = self.config.max_readdir_bytes;
        let Some(Slot::Dir { dir, pending, done }) = self.handles.get_mut(handle) else {
            return Err(StatusCode::Failure);
        };
        if pending.is_empty() && !*done {
            let batch = self.fs.readdir(dir, max).map_err(FsError::status)?;
            if batch.is_empty() {
                *done = true;
            }
            pending.extend(batch.into_iter().take(max));
        }
        if pending.is_empty() {
            return Err(StatusCode::Eof);
        }
        let mut taken: Vec<DirEntry> = Vec::new();
        let mut bytes = 0usize;
        while let Some(e) = pending.front() {
            let cost = e.name.len().saturating_mul(2).saturating_add(160);
            if !taken.is_empty() && bytes.saturating_add(cost) > budget {
                break;
            }
            bytes = bytes.saturating_add(cost);
            if let Some(e) = pending.pop_front() {
                taken.push(e);
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let entries = taken
            .into_iter()
            .map(|e| {
                let (uid, gid) = e.attrs.uid_gid.unwrap_or((0, 0));
                let user = self.fs.user_name(uid);
                let group = self.fs.group_name(gid);
                NameEntry {
                    longname: longname(
                        &e.name,
                        &e.attrs,
                        e.nlink,
                        user.as_deref(),
                        group.as_deref(),
                        now,
                    ),
                    filename: e.name,
                    attrs: e.attrs,
                }
            })
            .collect();
        Ok(Response::Name { id, entries })
    }
}
