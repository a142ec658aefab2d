//! [`ReadPipeline`]: which READ requests a download sends next, and the data that comes
//! back, reassembled.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::error::SftpError;
use super::sizing::MIN_CHUNK;

/// Most emptied buffers a [`ReadPipeline`] keeps for [`ReadPipeline::take_spent`].
const SPENT_BUFFERS: usize = 4;

/// How a [`ReadPipeline`] bounds the data it has received but not handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// For a stream read in order ([`ReadPipeline::read_into`],
    /// [`ReadPipeline::take_in_order`]): no request reaches more than
    /// `max_in_flight × chunk` bytes past the next byte to deliver, so out-of-order
    /// replies waiting behind a slow one never hold more than that.
    InOrder,
    /// For writing pieces where they belong ([`ReadPipeline::take_piece`], e.g. with
    /// `pwrite`): requested-but-unreplied plus received-but-untaken bytes stay within
    /// `max_in_flight × chunk`.
    Positioned,
}

/// The plan of a download, sans I/O: OpenSSH's read pipeline.
///
/// Starts with one request in flight and allows one more per DATA reply, up to
/// `max_in_flight`. A short read re-requests the remainder (and shrinks later requests to
/// the length the server gave, as OpenSSH does); the first end of file ends the transfer and
/// data past it is dropped; replies may come in any order. The first error stops new
/// requests and is kept in [`error`](Self::error).
///
/// The loop: while [`next_read`](Self::next_read) gives `(offset, len)`, send a READ and
/// tell [`on_sent`](Self::on_sent) its id; give each reply to
/// [`on_reply`](Self::on_reply) (through [`expect_data`](super::expect_data)); take data
/// with [`read_into`](Self::read_into) / [`take_in_order`](Self::take_in_order) or
/// [`take_piece`](Self::take_piece); stop at [`is_done`](Self::is_done).
#[derive(Debug)]
pub struct ReadPipeline {
    mode: ReadMode,
    next: u64,
    limit: Option<u64>,
    size_hint: Option<u64>,
    eof: Option<u64>,
    chunk: u32,
    budget: u64,
    max_in_flight: usize,
    window: usize,
    reserved: usize,
    outstanding: HashMap<u32, (u64, u32)>,
    outstanding_bytes: u64,
    retry: VecDeque<(u64, u32)>,
    pieces: BTreeMap<u64, Vec<u8>>,
    buffered: u64,
    head: Option<(Vec<u8>, usize)>,
    spent: Vec<Vec<u8>>,
    position: u64,
    received: u64,
    error: Option<SftpError>,
    cancelled: bool,
}

impl ReadPipeline {
    /// A download from `start`: of `length` bytes at most when given (it ends there
    /// without waiting for end of file), else until end of file; `chunk` bytes per READ
    /// (at least 1; see [`read_chunk`](super::read_chunk)), up to `max_in_flight` (at
    /// least 1) requests outstanding.
    pub fn new(
        start: u64,
        length: Option<u64>,
        chunk: u32,
        max_in_flight: usize,
        mode: ReadMode,
    ) -> Self {
        let chunk = chunk.max(1);
        let max_in_flight = max_in_flight.max(1);
        Self {
            mode,
            next: start,
            limit: length.map(|l| start.saturating_add(l)),
            size_hint: None,
            eof: None,
            chunk,
            budget: u64::from(chunk).saturating_mul(max_in_flight as u64),
            max_in_flight,
            window: 1,
            reserved: 0,
            outstanding: HashMap::new(),
            outstanding_bytes: 0,
            retry: VecDeque::new(),
            pieces: BTreeMap::new(),
            buffered: 0,
            head: None,
            spent: Vec::new(),
            position: start,
            received: 0,
            error: None,
            cancelled: false,
        }
    }

    /// The file size as last seen (e.g. from FSTAT): past it only one request is in flight
    /// at a time, as OpenSSH does, so a file that did not grow costs one extra request.
    pub fn set_size_hint(&mut self, size: u64) {
        self.size_hint = Some(size);
    }

    /// The end of the download when known: the first end of file seen, or the start plus
    /// the length given.
    pub fn end(&self) -> Option<u64> {
        match (self.eof, self.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next READ to send, `(offset, len)`, or `None` when the window is full, the
    /// budget of buffered data is used, the transfer has ended or failed. Each one given
    /// must be reported with [`on_sent`](Self::on_sent) (or [`put_back`](Self::put_back)).
    pub fn next_read(&mut self) -> Option<(u64, u32)> {
        if self.error.is_some()
            || self.cancelled
            || self.outstanding.len().saturating_add(self.reserved) >= self.window
        {
            return None;
        }
        let end = self.end();
        while let Some((offset, len)) = self.retry.pop_front() {
            let len = match end {
                Some(e) if offset >= e => continue,
                Some(e) => len.min(u32::try_from(e - offset).unwrap_or(u32::MAX)),
                None => len,
            };
            self.reserved += 1;
            return Some((offset, len));
        }
        if self.eof.is_some() {
            return None;
        }
        let mut len = u64::from(self.chunk);
        if let Some(limit) = self.limit {
            len = len.min(limit.saturating_sub(self.next));
        }
        if len == 0 {
            return None;
        }
        let idle = self.outstanding.is_empty() && self.reserved == 0;
        if self.size_hint.is_some_and(|h| self.next >= h) && !idle {
            return None;
        }
        let used = match self.mode {
            ReadMode::InOrder => self.next.saturating_sub(self.position),
            ReadMode::Positioned => self.buffered_bytes().saturating_add(self.outstanding_bytes),
        };
        if used.saturating_add(len) > self.budget && !(idle && self.buffered_bytes() == 0) {
            return None;
        }
        let offset = self.next;
        self.next = self.next.saturating_add(len);
        self.reserved += 1;
        Some((offset, u32::try_from(len).unwrap_or(self.chunk)))
    }

    /// Records that the READ `(offset, len)` from [`next_read`](Self::next_read) was sent
    /// with request id `id`.
    pub fn on_sent(&mut self, id: u32, offset: u64, len: u32) {
        self.reserved = self.reserved.saturating_sub(1);
        self.outstanding_bytes = self.outstanding_bytes.saturating_add(u64::from(len));
        self.outstanding.insert(id, (offset, len));
    }

    /// Gives back a READ from [`next_read`](Self::next_read) that could not be sent: it is
    /// offered again first.
    pub fn put_back(&mut self, offset: u64, len: u32) {
        self.reserved = self.reserved.saturating_sub(1);
        self.retry.push_front((offset, len));
    }

    /// Whether `id` is one of this pipeline's outstanding requests.
    pub fn owns(&self, id: u32) -> bool {
        self.outstanding.contains_key(&id)
    }

    /// Takes the reply to request `id`, as [`expect_data`](super::expect_data) gives it
    /// (`Ok(None)` is end of file). Returns `false` when `id` is not this pipeline's.
    pub fn on_reply(&mut self, id: u32, reply: Result<Option<Vec<u8>>, SftpError>) -> bool {
        let Some((offset, len)) = self.outstanding.remove(&id) else {
            return false;
        };
        self.outstanding_bytes = self.outstanding_bytes.saturating_sub(u64::from(len));
        match reply {
            Err(e) => self.fail(e),
            Ok(None) => {
                self.eof = Some(self.eof.map_or(offset, |e| e.min(offset)));
                self.trim_past_end();
            }
            Ok(Some(data)) => self.on_data(offset, len, data),
        }
        true
    }

    fn fail(&mut self, e: SftpError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn on_data(&mut self, offset: u64, len: u32, mut data: Vec<u8>) {
        let n = data.len() as u64;
        if n > u64::from(len) {
            return self.fail(SftpError::BadReply("more DATA than the READ asked for"));
        }
        if n == 0 {
            return self.fail(SftpError::BadReply("empty DATA"));
        }
        if self.window < self.max_in_flight {
            self.window += 1;
        }
        if n < u64::from(len) {
            // Short read: ask for the rest, and ask less from now on (OpenSSH does both).
            let rest = u32::try_from(u64::from(len) - n).unwrap_or(0);
            self.retry.push_back((offset.saturating_add(n), rest));
            let got = u32::try_from(n).unwrap_or(self.chunk);
            self.chunk = self.chunk.min(got.max(MIN_CHUNK));
        }
        if let Some(end) = self.end() {
            if offset >= end {
                return;
            }
            data.truncate(usize::try_from(end - offset).unwrap_or(usize::MAX));
        }
        if offset < self.position {
            // Not possible with requests from this pipeline; never deliver twice.
            return;
        }
        self.received = self.received.saturating_add(data.len() as u64);
        self.buffered = self.buffered.saturating_add(data.len() as u64);
        self.pieces.insert(offset, data);
    }

    /// Drops received data at or past the end (an end of file found below data that came
    /// earlier, out of order).
    fn trim_past_end(&mut self) {
        let Some(end) = self.end() else { return };
        let past = self.pieces.split_off(&end);
        for d in past.values() {
            self.buffered = self.buffered.saturating_sub(d.len() as u64);
            self.received = self.received.saturating_sub(d.len() as u64);
        }
        if let Some((&offset, data)) = self.pieces.range_mut(..end).next_back() {
            let keep = usize::try_from(end - offset).unwrap_or(usize::MAX);
            if data.len() > keep {
                let cut = (data.len() - keep) as u64;
                data.truncate(keep);
                self.buffered = self.buffered.saturating_sub(cut);
                self.received = self.received.saturating_sub(cut);
            }
        }
        if let Some((data, cursor)) = self.head.as_mut() {
            // The head piece starts `cursor` bytes before the position.
            let start = self.position.saturating_sub(*cursor as u64);
            let keep = usize::try_from(end.saturating_sub(start)).unwrap_or(usize::MAX);
            if data.len() > keep {
                let cut = (data.len() - keep) as u64;
                data.truncate(keep.max(*cursor));
                self.received = self.received.saturating_sub(cut);
            }
        }
        self.retry.retain(|&(o, _)| o < end);
    }

    /// Copies the data that follows what was delivered, in order, into `buf`; returns how
    /// many bytes (0 when the next bytes have not arrived or everything was delivered).
    pub fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let mut written = 0;
        while written < buf.len() {
            if self.head.is_none() {
                let Some(d) = self.pieces.remove(&self.position) else {
                    break;
                };
                self.buffered = self.buffered.saturating_sub(d.len() as u64);
                self.head = Some((d, 0));
            }
            let Some((data, cursor)) = self.head.as_mut() else {
                break;
            };
            let src = data.get(*cursor..).unwrap_or_default();
            let dst = buf.get_mut(written..).unwrap_or_default();
            let n = src.len().min(dst.len());
            if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
                d.copy_from_slice(s);
            }
            *cursor += n;
            written += n;
            self.position = self.position.saturating_add(n as u64);
            if *cursor >= data.len()
                && let Some((done, _)) = self.head.take()
                && self.spent.len() < SPENT_BUFFERS
            {
                self.spent.push(done);
            }
        }
        written
    }

    /// A buffer [`read_into`](Self::read_into) has emptied, to give back to the engine with
    /// [`ClientEngine::recycle`](super::ClientEngine::recycle) (at most 4 are kept).
    pub fn take_spent(&mut self) -> Option<Vec<u8>> {
        self.spent.pop()
    }

    /// The next piece in order, `(offset, bytes)`, when it has arrived.
    pub fn take_in_order(&mut self) -> Option<(u64, Vec<u8>)> {
        if let Some((mut data, cursor)) = self.head.take() {
            let offset = self.position;
            data.drain(..cursor.min(data.len()));
            self.position = self.position.saturating_add(data.len() as u64);
            return Some((offset, data));
        }
        let data = self.pieces.remove(&self.position)?;
        self.buffered = self.buffered.saturating_sub(data.len() as u64);
        let offset = self.position;
        self.position = self.position.saturating_add(data.len() as u64);
        Some((offset, data))
    }

    /// Any received piece, `(offset, bytes)`, lowest offset first, in or out of order: for
    /// writing each where it belongs.
    pub fn take_piece(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.head.is_some() {
            return self.take_in_order();
        }
        let (offset, data) = self.pieces.pop_first()?;
        self.buffered = self.buffered.saturating_sub(data.len() as u64);
        if offset == self.position {
            self.position = self.position.saturating_add(data.len() as u64);
        }
        Some((offset, data))
    }

    /// Whether every byte up to the end has been received (none outstanding, none to
    /// re-request, no error).
    pub fn is_complete(&self) -> bool {
        let end = self.end();
        self.error.is_none()
            && self.outstanding.is_empty()
            && self.reserved == 0
            && self.retry.iter().all(|&(o, _)| end.is_some_and(|e| o >= e))
            && (self.eof.is_some() || self.limit.is_some_and(|l| self.next >= l))
    }

    /// Whether the download is over: complete and every byte taken.
    pub fn is_done(&self) -> bool {
        self.is_complete() && self.pieces.is_empty() && self.head.is_none()
    }

    /// The first error (a STATUS error, or an impossible DATA); no request is issued after
    /// it. Data received before it can still be taken.
    pub fn error(&self) -> Option<&SftpError> {
        self.error.as_ref()
    }

    /// Stops the download: returns the ids still outstanding, to pass to
    /// [`ClientEngine::abandon`](super::ClientEngine::abandon).
    pub fn cancel(&mut self) -> Vec<u32> {
        self.cancelled = true;
        self.outstanding_bytes = 0;
        self.retry.clear();
        self.outstanding.drain().map(|(id, _)| id).collect()
    }

    /// Requests outstanding.
    pub fn in_flight(&self) -> usize {
        self.outstanding.len()
    }

    /// The current ramp: how many requests may be outstanding now.
    pub fn window(&self) -> usize {
        self.window
    }

    /// The current request size.
    pub fn chunk(&self) -> u32 {
        self.chunk
    }

    /// Bytes received and not taken yet.
    pub fn buffered_bytes(&self) -> u64 {
        let head = self
            .head
            .as_ref()
            .map_or(0, |(d, c)| d.len().saturating_sub(*c));
        self.buffered.saturating_add(head as u64)
    }

    /// The most bytes the pipeline holds or has asked for at once:
    /// `max_in_flight × chunk`.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// The offset of the next byte [`read_into`](Self::read_into) delivers.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Bytes received so far (within the end), for progress.
    pub fn received(&self) -> u64 {
        self.received
    }
}
