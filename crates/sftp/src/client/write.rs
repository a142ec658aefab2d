//! [`WritePipeline`]: which WRITE requests an upload sends next, and their
//! acknowledgements.

use std::collections::HashMap;

use super::error::SftpError;

/// The plan of an upload, sans I/O.
///
/// Sequential use (`put`): while [`next_write`](Self::next_write) gives `(offset, len)`,
/// read up to `len` bytes of the source at `offset`, send a WRITE and report it with
/// [`on_sent`](Self::on_sent); give each STATUS to [`on_reply`](Self::on_reply) (through
/// [`expect_ok`](super::expect_ok)); call [`finish`](Self::finish) at the end of a source
/// of unknown length; stop at [`is_done`](Self::is_done). Write-behind (a `File` that
/// seeks) may report WRITEs at any offset with `on_sent` after checking
/// [`can_send`](Self::can_send).
///
/// Starts with one request in flight, one more per acknowledgement, up to
/// `max_in_flight`; acknowledgements may come in any order; the first error stops new
/// requests and is kept with its offset.
#[derive(Debug)]
pub struct WritePipeline {
    next: u64,
    limit: Option<u64>,
    chunk: u32,
    max_in_flight: usize,
    window: usize,
    outstanding: HashMap<u32, (u64, u32)>,
    outstanding_bytes: u64,
    acked: u64,
    error: Option<(u64, SftpError)>,
    cancelled: bool,
}

impl WritePipeline {
    /// An upload from `start`, of `length` bytes when known, `chunk` bytes per WRITE (at
    /// least 1; see [`write_chunk`](super::write_chunk)), up to `max_in_flight` (at least
    /// 1) requests outstanding.
    pub fn new(start: u64, length: Option<u64>, chunk: u32, max_in_flight: usize) -> Self {
        Self {
            next: start,
            limit: length.map(|l| start.saturating_add(l)),
            chunk: chunk.max(1),
            max_in_flight: max_in_flight.max(1),
            window: 1,
            outstanding: HashMap::new(),
            outstanding_bytes: 0,
            acked: 0,
            error: None,
            cancelled: false,
        }
    }

    /// Whether the ramp allows one more WRITE now (and nothing failed).
    pub fn can_send(&self) -> bool {
        self.error.is_none() && !self.cancelled && self.outstanding.len() < self.window
    }

    /// The next sequential WRITE: `(offset, most bytes)`, or `None` when the window is
    /// full, the upload failed or every byte was sent. It does not advance until
    /// [`on_sent`](Self::on_sent): the source may give fewer bytes.
    pub fn next_write(&self) -> Option<(u64, u32)> {
        if !self.can_send() {
            return None;
        }
        let mut len = u64::from(self.chunk);
        if let Some(limit) = self.limit {
            len = len.min(limit.saturating_sub(self.next));
        }
        if len == 0 {
            return None;
        }
        Some((self.next, u32::try_from(len).unwrap_or(self.chunk)))
    }

    /// Records a WRITE of `len` bytes at `offset` sent with id `id`; the sequential
    /// position moves past it.
    pub fn on_sent(&mut self, id: u32, offset: u64, len: u32) {
        self.outstanding_bytes = self.outstanding_bytes.saturating_add(u64::from(len));
        self.outstanding.insert(id, (offset, len));
        self.next = self.next.max(offset.saturating_add(u64::from(len)));
    }

    /// The source ended at the current position: nothing more to send.
    pub fn finish(&mut self) {
        self.limit = Some(self.next);
    }

    /// Whether `id` is one of this pipeline's outstanding requests.
    pub fn owns(&self, id: u32) -> bool {
        self.outstanding.contains_key(&id)
    }

    /// Takes the reply to WRITE `id`, as [`expect_ok`](super::expect_ok) gives it. Returns
    /// `false` when `id` is not this pipeline's.
    pub fn on_reply(&mut self, id: u32, reply: Result<(), SftpError>) -> bool {
        let Some((offset, len)) = self.outstanding.remove(&id) else {
            return false;
        };
        self.outstanding_bytes = self.outstanding_bytes.saturating_sub(u64::from(len));
        match reply {
            Ok(()) => {
                self.acked = self.acked.saturating_add(u64::from(len));
                if self.window < self.max_in_flight {
                    self.window += 1;
                }
            }
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some((offset, e));
                }
            }
        }
        true
    }

    /// Everything below this offset is acknowledged, for a sequential upload: where a
    /// resumed upload may restart.
    pub fn committed(&self) -> u64 {
        let low = self.outstanding.values().map(|&(o, _)| o).min();
        let mut c = low.map_or(self.next, |o| o.min(self.next));
        if let Some((o, _)) = &self.error {
            c = c.min(*o);
        }
        c
    }

    /// Whether the upload is over: every byte sent and acknowledged, no error.
    pub fn is_done(&self) -> bool {
        self.error.is_none()
            && self.outstanding.is_empty()
            && self.limit.is_some_and(|l| self.next >= l)
    }

    /// The first error and the offset of the WRITE it answered.
    pub fn error(&self) -> Option<&SftpError> {
        self.error.as_ref().map(|(_, e)| e)
    }

    /// The offset of the WRITE the first error answered.
    pub fn error_offset(&self) -> Option<u64> {
        self.error.as_ref().map(|(o, _)| *o)
    }

    /// Stops the upload: returns the ids still outstanding, to pass to
    /// [`ClientEngine::abandon`](super::ClientEngine::abandon).
    pub fn cancel(&mut self) -> Vec<u32> {
        self.cancelled = true;
        self.outstanding_bytes = 0;
        self.outstanding.drain().map(|(id, _)| id).collect()
    }

    /// Requests outstanding.
    pub fn in_flight(&self) -> usize {
        self.outstanding.len()
    }

    /// Bytes sent and not acknowledged (what a write-behind buffer must keep).
    pub fn in_flight_bytes(&self) -> u64 {
        self.outstanding_bytes
    }

    /// The current ramp: how many requests may be outstanding now.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Bytes acknowledged, for progress.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// The request size.
    pub fn chunk(&self) -> u32 {
        self.chunk
    }

    /// The next sequential offset.
    pub fn position(&self) -> u64 {
        self.next
    }
}
