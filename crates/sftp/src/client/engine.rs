//! [`ClientEngine`]: the client side of one SFTP session as a state machine over bytes.

use std::collections::{HashMap, VecDeque};

use crate::ext::ExtendedRequest;
use crate::frame::{DEFAULT_MAX_PACKET, Framer};
use crate::request::{Request, fxp};
use crate::response::Response;
use crate::wire::{EncodeError, ExtensionPair};

use super::error::ClientError;
use super::output::Output;
use super::reply::reply_kind;

/// The engine's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// Hard cap on requests that are outstanding or whose replies have not been taken yet
    /// (default 1024). Replies held take at most `max_in_flight × max_packet` bytes (plus
    /// one partial packet and up to 16 [recycled](ClientEngine::recycle) buffers).
    pub max_in_flight: usize,
    /// The largest reply payload accepted (default [`DEFAULT_MAX_PACKET`]); a longer one
    /// fails the engine before any of it is buffered.
    pub max_packet: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 1024,
            max_packet: DEFAULT_MAX_PACKET,
        }
    }
}

/// What the server said in `SSH_FXP_VERSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The protocol version (always 3: others fail the engine).
    pub version: u32,
    /// The `(name, data)` extension pairs, in the server's order.
    pub extensions: Vec<ExtensionPair>,
}

impl ServerInfo {
    /// Whether the server advertised the extension `name` (e.g.
    /// [`extension_names::POSIX_RENAME`](crate::extension_names::POSIX_RENAME)).
    pub fn has_extension(&self, name: &str) -> bool {
        self.extension(name).is_some()
    }

    /// The data advertised with the extension `name` (OpenSSH sends a version string
    /// such as `"1"`).
    pub fn extension(&self, name: &str) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, d)| d.as_slice())
    }
}

/// The reply types a request allows besides STATUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Status,
    Handle,
    Data {
        len: u32,
    },
    Name,
    Attrs,
    Extended,
    /// An unknown extension: any reply but VERSION.
    Any,
}

impl Expect {
    fn of(request: &Request) -> Option<Self> {
        Some(match request {
            Request::Init { .. } => return None,
            Request::Open { .. } | Request::OpenDir { .. } => Self::Handle,
            Request::Read { len, .. } => Self::Data { len: *len },
            Request::Lstat { .. } | Request::Fstat { .. } | Request::Stat { .. } => Self::Attrs,
            Request::ReadDir { .. } | Request::RealPath { .. } | Request::ReadLink { .. } => {
                Self::Name
            }
            Request::Close { .. }
            | Request::Write { .. }
            | Request::SetStat { .. }
            | Request::FSetStat { .. }
            | Request::Remove { .. }
            | Request::Mkdir { .. }
            | Request::Rmdir { .. }
            | Request::Rename { .. }
            | Request::Symlink { .. } => Self::Status,
            Request::Extended { request, .. } => match request {
                ExtendedRequest::PosixRename { .. }
                | ExtendedRequest::Hardlink { .. }
                | ExtendedRequest::Fsync { .. }
                | ExtendedRequest::LSetStat { .. }
                | ExtendedRequest::CopyData { .. } => Self::Status,
                ExtendedRequest::StatVfs { .. }
                | ExtendedRequest::FStatVfs { .. }
                | ExtendedRequest::Limits
                | ExtendedRequest::UsersGroupsById { .. } => Self::Extended,
                ExtendedRequest::ExpandPath { .. } | ExtendedRequest::HomeDirectory { .. } => {
                    Self::Name
                }
                ExtendedRequest::Unknown { .. } => Self::Any,
            },
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Status => "STATUS",
            Self::Handle => "HANDLE or STATUS",
            Self::Data { .. } => "DATA or STATUS",
            Self::Name => "NAME or STATUS",
            Self::Attrs => "ATTRS or STATUS",
            Self::Extended => "EXTENDED_REPLY or STATUS",
            Self::Any => "a reply",
        }
    }

    /// Checks `r` (never VERSION here) against the request.
    fn check(self, id: u32, r: &Response) -> Result<(), ClientError> {
        let ok = match (self, r) {
            (_, Response::Status { .. }) | (Self::Any, _) => true,
            (Self::Data { len }, Response::Data { data, .. }) => {
                if data.len() > usize::try_from(len).unwrap_or(usize::MAX) {
                    return Err(ClientError::DataTooLong {
                        id,
                        requested: len,
                        received: data.len(),
                    });
                }
                true
            }
            (Self::Handle, Response::Handle { .. })
            | (Self::Name, Response::Name { .. })
            | (Self::Attrs, Response::Attrs { .. })
            | (Self::Extended, Response::ExtendedReply { .. }) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(ClientError::UnexpectedReply {
                id,
                expected: self.name(),
                got: reply_kind(r),
            })
        }
    }
}

/// One entry of the request table.
#[derive(Debug)]
enum Slot {
    /// Sent (or held until VERSION), no reply yet.
    Waiting(Expect),
    /// The caller gave up; the reply is checked and dropped.
    Abandoned(Expect),
    /// Replied, not taken yet: the reply and its payload size.
    Ready(Response, usize),
}

/// The client side of an SFTP session, sans I/O: give it the server's bytes with
/// [`feed`](Self::feed), send what [`take_output`](Self::take_output) gives, issue requests
/// with [`send`](Self::send) and collect replies by id with
/// [`take_reply`](Self::take_reply).
///
/// - `SSH_FXP_INIT` is queued at creation; requests sent before `SSH_FXP_VERSION` are held
///   and released when it arrives (OpenSSH's server accepts nothing before).
/// - Ids are assigned by the engine; replies may come in any order.
/// - Bounded: at most [`ClientConfig::max_in_flight`] requests are outstanding or hold an
///   untaken reply, each reply at most [`ClientConfig::max_packet`] bytes, and at most one
///   partial packet is buffered.
/// - Any protocol violation by the server (bad framing or encoding, unknown or duplicate
///   id, wrong reply type, a second VERSION) fails the engine for good:
///   [`failure`](Self::failure) keeps the first error, every call returns it, and the
///   request table is dropped.
///
/// ```
/// use seashell_sftp::client::{ClientConfig, ClientEngine, expect_attrs};
/// use seashell_sftp::{FileAttributes, Request, Response};
/// let mut engine = ClientEngine::new(ClientConfig::default());
/// let id = engine.send(Request::Stat { id: 0, path: b"/etc".to_vec() }).unwrap();
/// let mut wire = Vec::new();
/// engine.take_output(&mut wire); // INIT only: STAT waits for VERSION
/// let version = Response::Version { version: 3, extensions: vec![] };
/// engine.feed(&version.encode_framed().unwrap()).unwrap();
/// engine.take_output(&mut wire); // now the STAT
/// let attrs = FileAttributes { size: Some(4096), ..Default::default() };
/// engine.feed(&Response::Attrs { id, attrs }.encode_framed().unwrap()).unwrap();
/// let reply = engine.take_reply(id).unwrap();
/// assert_eq!(expect_attrs(reply).unwrap().size, Some(4096));
/// ```
#[derive(Debug)]
pub struct ClientEngine {
    config: ClientConfig,
    framer: Framer,
    /// Bytes for the server.
    out: Output,
    /// Requests sent before `SSH_FXP_VERSION`.
    held: Output,
    server: Option<ServerInfo>,
    slots: HashMap<u32, Slot>,
    ready: VecDeque<u32>,
    waiting: usize,
    buffered: usize,
    next_id: u32,
    failure: Option<ClientError>,
    spare: Vec<Vec<u8>>,
}

/// Most buffers kept by [`ClientEngine::recycle`].
const SPARE_BUFFERS: usize = 16;

impl ClientEngine {
    /// A new session; `SSH_FXP_INIT` (version 3, no extensions) is queued for output.
    pub fn new(config: ClientConfig) -> Self {
        let init = Request::Init {
            version: crate::SFTP_VERSION,
            extensions: Vec::new(),
        };
        let mut out = Output::default();
        out.extend(&init.encode_framed().unwrap_or_default());
        Self {
            config,
            framer: Framer::with_max_packet(config.max_packet),
            out,
            held: Output::default(),
            server: None,
            slots: HashMap::new(),
            ready: VecDeque::new(),
            waiting: 0,
            buffered: 0,
            next_id: 1,
            failure: None,
            spare: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Appends the bytes to send to the server to `out` (and forgets them).
    pub fn take_output(&mut self, out: &mut Vec<u8>) {
        self.out.take_into(out);
    }

    /// The bytes to send to the server, or a first part of them, without copying them
    /// out: write a prefix to the transport, then [`consume_output`](Self::consume_output)
    /// that many, and look again while [`has_output`](Self::has_output). An alternative to
    /// [`take_output`](Self::take_output) that saves a copy per byte.
    ///
    /// ```
    /// use seashell_sftp::client::{ClientConfig, ClientEngine};
    /// let mut engine = ClientEngine::new(ClientConfig::default());
    /// let n = engine.output().len(); // SSH_FXP_INIT
    /// assert!(n > 0);
    /// engine.consume_output(n);
    /// assert!(!engine.has_output());
    /// ```
    pub fn output(&self) -> &[u8] {
        self.out.peek()
    }

    /// Forgets the first `n` bytes of the output (sent by the caller); `n` past the end
    /// forgets all of it.
    pub fn consume_output(&mut self, n: usize) {
        self.out.consume(n);
    }

    /// Whether there are bytes to send.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// Consumes all of `input` (the server's bytes, in any chunking): complete replies are
    /// stored for [`take_reply`](Self::take_reply), a partial one is buffered. A protocol
    /// violation fails the engine and is returned.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), ClientError> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        while !input.is_empty() {
            if let Some(buf) = self.spare.pop()
                && let Some(back) = self.framer.offer_buffer(buf)
            {
                self.spare.push(back);
            }
            let step = match self.framer.feed(&mut input) {
                Ok(Some(payload)) => self.on_packet(payload),
                Ok(None) => Ok(()),
                Err(e) => Err(ClientError::Frame(e)),
            };
            if let Err(e) = step {
                return Err(self.fail(e));
            }
        }
        Ok(())
    }

    fn on_packet(&mut self, payload: Vec<u8>) -> Result<(), ClientError> {
        let size = payload.len();
        let reply = Response::decode_owned(payload).map_err(ClientError::Decode)?;
        let Some(id) = reply.id() else {
            let Response::Version {
                version,
                extensions,
            } = reply
            else {
                return Err(ClientError::MissingVersion);
            };
            if self.server.is_some() {
                return Err(ClientError::UnexpectedVersion);
            }
            if version != crate::SFTP_VERSION {
                return Err(ClientError::UnsupportedVersion(version));
            }
            self.server = Some(ServerInfo {
                version,
                extensions,
            });
            self.out.append(&mut self.held);
            return Ok(());
        };
        if self.server.is_none() {
            return Err(ClientError::MissingVersion);
        }
        let slot = self.slots.get_mut(&id).ok_or(ClientError::UnknownId(id))?;
        match slot {
            Slot::Ready(..) => Err(ClientError::DuplicateReply(id)),
            Slot::Waiting(expect) => {
                expect.check(id, &reply)?;
                *slot = Slot::Ready(reply, size);
                self.waiting = self.waiting.saturating_sub(1);
                self.buffered = self.buffered.saturating_add(size);
                self.note_ready(id);
                Ok(())
            }
            Slot::Abandoned(expect) => {
                expect.check(id, &reply)?;
                self.slots.remove(&id);
                self.waiting = self.waiting.saturating_sub(1);
                Ok(())
            }
        }
    }

    /// Records the first fatal error and drops the request table; returns the error.
    fn fail(&mut self, e: ClientError) -> ClientError {
        let e = self.failure.get_or_insert(e).clone();
        self.slots.clear();
        self.ready.clear();
        self.held = Output::default();
        self.waiting = 0;
        self.buffered = 0;
        e
    }

    /// Gives back a buffer the caller is done with (the bytes of a DATA reply once
    /// written out): its allocation is reused for a later reply instead of a new one. At
    /// most 16 are kept, only those no larger than `max_packet`; others are dropped.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        let max = usize::try_from(self.config.max_packet).unwrap_or(usize::MAX);
        if self.spare.len() < SPARE_BUFFERS && buf.capacity() <= max && buf.capacity() > 0 {
            self.spare.push(buf);
        }
    }

    /// The caller's transport closed (EOF or channel close): fails the engine with
    /// [`ClientError::Closed`] unless it already failed.
    pub fn on_closed(&mut self) {
        self.fail(ClientError::Closed);
    }

    /// Whether `SSH_FXP_VERSION` has arrived.
    pub fn is_ready(&self) -> bool {
        self.server.is_some()
    }

    /// The server's version and extensions, once `SSH_FXP_VERSION` has arrived.
    pub fn server(&self) -> Option<&ServerInfo> {
        self.server.as_ref()
    }

    /// Queues `request` with a fresh id (whatever id it carries is overwritten) and returns
    /// the id. Before `SSH_FXP_VERSION` the bytes are held and released when it arrives.
    /// Refused with [`ClientError::TooManyInFlight`] when the table is full.
    pub fn send(&mut self, mut request: Request) -> Result<u32, ClientError> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        let expect = Expect::of(&request).ok_or(ClientError::NotARequest)?;
        let id = self.admit()?;
        request.set_id(id);
        let bytes = request.encode_framed().map_err(ClientError::Encode)?;
        self.queue().extend(&bytes);
        self.register(id, expect);
        Ok(id)
    }

    /// Queues an `SSH_FXP_WRITE` of `data` at `offset` on `handle`, framed straight from the
    /// borrowed slice into the output (no [`Request`] and no copy of its own), and returns
    /// its id. Otherwise as [`send`](Self::send).
    ///
    /// ```
    /// use seashell_sftp::client::{ClientConfig, ClientEngine};
    /// use seashell_sftp::{Request, Response};
    /// let mut engine = ClientEngine::new(ClientConfig::default());
    /// let version = Response::Version { version: 3, extensions: vec![] };
    /// engine.feed(&version.encode_framed().unwrap()).unwrap();
    /// let id = engine.send_write(b"h", 7, b"data").unwrap();
    /// let mut wire = Vec::new();
    /// engine.take_output(&mut wire);
    /// let write = Request::Write { id, handle: b"h".to_vec(), offset: 7, data: b"data".to_vec() };
    /// assert!(wire.ends_with(&write.encode_framed().unwrap()));
    /// ```
    pub fn send_write(
        &mut self,
        handle: &[u8],
        offset: u64,
        data: &[u8],
    ) -> Result<u32, ClientError> {
        if data.is_empty() {
            return self.send(Request::Write {
                id: 0,
                handle: handle.to_vec(),
                offset,
                data: Vec::new(),
            });
        }
        let len =
            u32::try_from(data.len()).map_err(|_| ClientError::Encode(EncodeError::TooLong))?;
        let sent = self.send_write_with(handle, offset, len, |buf| {
            let n = buf.len().min(data.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), data.get(..n)) {
                dst.copy_from_slice(src);
            }
            n
        })?;
        sent.map(|(id, _)| id).ok_or(ClientError::NotARequest)
    }

    /// Queues an `SSH_FXP_WRITE` of up to `len` bytes at `offset` on `handle` whose data
    /// `fill` puts straight into the output buffer (reading a local file into it, say):
    /// `fill` gets a `len`-byte slice and returns how many bytes it wrote there (the WRITE
    /// carries that many; more than `len` counts as `len`). Returns the id and the data
    /// length, or `None` (nothing queued) when `fill` wrote nothing. Refused as
    /// [`send`](Self::send) is, before `fill` is called.
    ///
    /// ```
    /// use seashell_sftp::client::{ClientConfig, ClientEngine};
    /// use seashell_sftp::{Request, Response};
    /// let mut engine = ClientEngine::new(ClientConfig::default());
    /// let version = Response::Version { version: 3, extensions: vec![] };
    /// engine.feed(&version.encode_framed().unwrap()).unwrap();
    /// let sent = engine.send_write_with(b"h", 0, 8, |buf| {
    ///     buf[..3].copy_from_slice(b"abc");
    ///     3
    /// });
    /// let (id, n) = sent.unwrap().unwrap();
    /// assert_eq!(n, 3);
    /// let mut wire = Vec::new();
    /// engine.take_output(&mut wire);
    /// let write = Request::Write { id, handle: b"h".to_vec(), offset: 0, data: b"abc".to_vec() };
    /// assert!(wire.ends_with(&write.encode_framed().unwrap()));
    /// assert_eq!(engine.send_write_with(b"h", 3, 8, |_| 0).unwrap(), None);
    /// ```
    pub fn send_write_with(
        &mut self,
        handle: &[u8],
        offset: u64,
        len: u32,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<Option<(u32, u32)>, ClientError> {
        let id = self.admit()?;
        let too_long = ClientError::Encode(EncodeError::TooLong);
        let handle_len = u32::try_from(handle.len()).map_err(|_| too_long.clone())?;
        // type, id, handle string, offset, data length, data.
        let body = 1 + 4 + 4 + u64::from(handle_len) + 8 + 4 + u64::from(len);
        u32::try_from(body).map_err(|_| too_long)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let mut head = Vec::with_capacity(25usize.saturating_add(handle.len()));
        head.extend_from_slice(&[0; 4]);
        head.push(fxp::WRITE);
        head.extend_from_slice(&id.to_be_bytes());
        head.extend_from_slice(&handle_len.to_be_bytes());
        head.extend_from_slice(handle);
        head.extend_from_slice(&offset.to_be_bytes());
        head.extend_from_slice(&[0; 4]);
        let out = self.queue();
        let region = out.grow(head.len().saturating_add(len));
        let (dst_head, data) = region.split_at_mut(head.len().min(region.len()));
        let n = fill(data).min(len);
        // Both fit in u32: checked above.
        let packet = u32::try_from(head.len() - 4 + n).unwrap_or(u32::MAX);
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        let head_len = head.len();
        if let Some(p) = head.get_mut(..4) {
            p.copy_from_slice(&packet.to_be_bytes());
        }
        if let Some(p) = head.get_mut(head_len - 4..) {
            p.copy_from_slice(&n32.to_be_bytes());
        }
        if dst_head.len() == head.len() {
            dst_head.copy_from_slice(&head);
        }
        if n == 0 {
            out.shrink(head_len.saturating_add(len));
            return Ok(None);
        }
        out.shrink(len - n);
        self.register(id, Expect::Status);
        Ok(Some((id, n32)))
    }

    /// Checks that a request may be sent now and picks its id.
    fn admit(&self) -> Result<u32, ClientError> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        // Ids are u32: the table can never hold them all (the id search below ends).
        let cap = self
            .config
            .max_in_flight
            .min(usize::try_from(u32::MAX).unwrap_or(usize::MAX));
        if self.slots.len() >= cap {
            return Err(ClientError::TooManyInFlight {
                max: self.config.max_in_flight,
            });
        }
        let mut id = self.next_id;
        while self.slots.contains_key(&id) {
            id = id.wrapping_add(1);
        }
        Ok(id)
    }

    /// Where a request's bytes go: the output, or held until `SSH_FXP_VERSION`.
    fn queue(&mut self) -> &mut Output {
        if self.server.is_some() {
            &mut self.out
        } else {
            &mut self.held
        }
    }

    /// Enters request `id`, just queued, in the table.
    fn register(&mut self, id: u32, expect: Expect) {
        self.slots.insert(id, Slot::Waiting(expect));
        self.waiting = self.waiting.saturating_add(1);
        self.next_id = id.wrapping_add(1);
    }

    /// The reply to request `id`, once it has arrived (each reply is given once). `None`
    /// while it is outstanding, for an unknown id, and after the engine failed.
    pub fn take_reply(&mut self, id: u32) -> Option<Response> {
        if !matches!(self.slots.get(&id), Some(Slot::Ready(..))) {
            return None;
        }
        match self.slots.remove(&id) {
            Some(Slot::Ready(r, size)) => {
                self.buffered = self.buffered.saturating_sub(size);
                Some(r)
            }
            _ => None,
        }
    }

    /// Any reply that arrived and was not taken, oldest first, with its id: for a caller
    /// that dispatches replies rather than waiting on one id.
    pub fn take_next_reply(&mut self) -> Option<(u32, Response)> {
        while let Some(id) = self.ready.pop_front() {
            if let Some(r) = self.take_reply(id) {
                return Some((id, r));
            }
        }
        None
    }

    /// Remembers that `id`'s reply is ready, in arrival order; ids taken by
    /// [`take_reply`](Self::take_reply) are purged now and then, so the queue stays within
    /// twice the table.
    fn note_ready(&mut self, id: u32) {
        self.ready.push_back(id);
        if self.ready.len() > self.slots.len().saturating_mul(2).saturating_add(16) {
            let slots = &self.slots;
            self.ready
                .retain(|id| matches!(slots.get(id), Some(Slot::Ready(..))));
        }
    }

    /// Whether the reply to `id` is waiting to be taken.
    pub fn has_reply(&self, id: u32) -> bool {
        matches!(self.slots.get(&id), Some(Slot::Ready(..)))
    }

    /// The caller no longer wants the reply to `id` (a dropped future, an abandoned
    /// read-ahead): an untaken reply is dropped now, a later one when it comes. The id
    /// stays reserved until then, so a late reply is not mistaken for an unknown id.
    pub fn abandon(&mut self, id: u32) {
        match self.slots.get_mut(&id) {
            Some(Slot::Waiting(expect)) => {
                let expect = *expect;
                self.slots.insert(id, Slot::Abandoned(expect));
            }
            Some(Slot::Ready(_, size)) => {
                self.buffered = self.buffered.saturating_sub(*size);
                self.slots.remove(&id);
            }
            Some(Slot::Abandoned(_)) | None => {}
        }
    }

    /// Requests sent (or held) whose reply has not arrived, abandoned ones included.
    pub fn in_flight(&self) -> usize {
        self.waiting
    }

    /// Replies that arrived and have not been taken.
    pub fn unclaimed(&self) -> usize {
        self.slots.len().saturating_sub(self.waiting)
    }

    /// Payload bytes of the replies that arrived and have not been taken; at most
    /// `max_in_flight × max_packet`.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// How many more requests [`send`](Self::send) accepts now.
    pub fn capacity(&self) -> usize {
        self.config.max_in_flight.saturating_sub(self.slots.len())
    }

    /// The error that failed the engine, if any.
    pub fn failure(&self) -> Option<&ClientError> {
        self.failure.as_ref()
    }
}
