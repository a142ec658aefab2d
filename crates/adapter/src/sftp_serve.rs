//! The `sftp` subsystem on a server channel, written once for every server adapter: a
//! [`ServerEngine`] (seashell-sftp's sans-I/O server over a [`Filesystem`]) fed from a
//! [`ServerChannel`] and answering on it. The engine's types are re-exported here, so a
//! server needs no other crate.
//!
//! Filesystem calls block, so the engine always runs on a thread, never on an async
//! executor: a [`Handler`](crate::Handler) (blocking, tokio or smol alike) accepts a
//! `subsystem` request named [`SUBSYSTEM`] by calling [`spawn`], which returns at once.
//!
//! ```no_run
//! use seashell_adapter::sftp_serve::{self, LocalFs, ServerConfig, ServerEngine};
//! use seashell_adapter::{Handler, ServerChannel};
//! use seashell_proto::SessionRequestKind;
//!
//! struct Files;
//! impl Handler for Files {
//!     fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
//!         if !sftp_serve::is_sftp(request) {
//!             return false;
//!         }
//!         let Ok(fs) = LocalFs::confined("/srv/files") else { return false };
//!         let engine = ServerEngine::new(fs, ServerConfig::default());
//!         sftp_serve::spawn(channel, engine).is_ok()
//!     }
//! }
//! ```
//!
//! Back-pressure runs end to end: the channel is read only while the engine
//! [wants input](ServerEngine::wants_input) (its queued replies are under its high-water
//! mark), and replies are written only as fast as the client's window opens. An unread
//! channel stops the client, so memory stays bounded: one read buffer ([`READ_CHUNK`]), the
//! engine's output high-water mark plus one reply, as much again being written, and the
//! engine's bounded handle table (about 2.6 MiB with [`ServerConfig::default`]).

use crate::server_channel::ServerChannel;
use seashell_proto::SessionRequestKind;
pub use seashell_sftp::server::{
    Filesystem, LocalFs, MemoryFs, Policy, ServerConfig, ServerEngine, ServerError, is_write,
};
pub use seashell_sftp::{ExtendedRequest, Request};
use std::fmt;
use std::io::{self, Read, Write};
use std::thread::JoinHandle;

/// The subsystem name SFTP clients ask for.
pub const SUBSYSTEM: &str = "sftp";

/// Bytes read from the channel at a time.
pub const READ_CHUNK: usize = 64 * 1024;

/// Whether `request` is a `subsystem` request for SFTP.
pub fn is_sftp(request: &SessionRequestKind) -> bool {
    matches!(request, SessionRequestKind::Subsystem(name) if name == SUBSYSTEM)
}

/// How a session ended well: the client's EOF or close.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Bytes of requests read from the client.
    pub bytes_in: u64,
    /// Bytes of replies sent.
    pub bytes_out: u64,
    /// Handles the client left open (closed by the server at the end).
    pub left_open: usize,
}

/// Why a session ended badly.
#[derive(Debug)]
pub enum ServeError {
    /// The client broke the protocol (framing, a bad request, no INIT first).
    Protocol(ServerError),
    /// The channel failed (the connection is gone).
    Channel(io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Protocol(e) => write!(f, "{e}"),
            ServeError::Channel(e) => write!(f, "sftp channel: {e}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Protocol(e) => Some(e),
            ServeError::Channel(e) => Some(e),
        }
    }
}

/// Serves SFTP with `engine` on `channel` until the client ends the session, on the calling
/// thread (it blocks: channel I/O and filesystem calls). Then closes every handle left open
/// and the channel, with exit status 0 after the client's EOF and 1 after an error (as
/// `sftp-server`).
pub fn serve<F: Filesystem>(
    channel: &ServerChannel,
    mut engine: ServerEngine<F>,
) -> Result<Served, ServeError> {
    let result = pump(&mut channel.stdin(), &mut channel.stdout(), &mut engine);
    let left_open = engine.close_all();
    match result {
        Ok(mut served) => {
            served.left_open = left_open;
            channel.exit(0);
            Ok(served)
        }
        Err(e) => {
            // The reason first, on stderr, as sftp-server logs it (best effort).
            let _ = channel.stderr().write_all(format!("{e}\n").as_bytes());
            channel.exit(1);
            Err(e)
        }
    }
}

/// [`serve`] on a thread of its own (named `seashell-sftp`); returns at once. What a
/// [`Handler`](crate::Handler) calls for a [`SUBSYSTEM`] request, in every adapter.
pub fn spawn<F>(
    channel: &ServerChannel,
    engine: ServerEngine<F>,
) -> io::Result<JoinHandle<Result<Served, ServeError>>>
where
    F: Filesystem + Send + 'static,
    ServerEngine<F>: Send,
{
    let channel = channel.clone();
    std::thread::Builder::new()
        .name("seashell-sftp".into())
        .spawn(move || serve(&channel, engine))
}

/// Moves bytes between the client (`reader`, `writer`: the channel) and the engine until
/// EOF or an error. Input is read only once every reply so far is written, and fed only
/// while the engine wants it.
fn pump<F: Filesystem>(
    reader: &mut impl Read,
    writer: &mut impl Write,
    engine: &mut ServerEngine<F>,
) -> Result<Served, ServeError> {
    let mut input = vec![0u8; READ_CHUNK];
    // `input[start..end]` is read but not yet consumed by the engine.
    let (mut start, mut end) = (0usize, 0usize);
    let mut out = Vec::new();
    let mut served = Served::default();
    loop {
        engine.take_output(&mut out);
        if !out.is_empty() {
            writer.write_all(&out).map_err(ServeError::Channel)?;
            served.bytes_out = served.bytes_out.saturating_add(out.len() as u64);
            out.clear();
        }
        if let Some(e) = engine.error() {
            return Err(ServeError::Protocol(e.clone()));
        }
        if start < end && engine.wants_input() {
            let pending = input.get(start..end).unwrap_or_default();
            let used = engine.feed(pending).map_err(ServeError::Protocol)?;
            start = (start + used).min(end);
            if used > 0 {
                continue;
            }
        }
        if start < end {
            // The engine took nothing yet wants more output drained: loop to send it.
            if engine.queued_output() > 0 {
                continue;
            }
            // Cannot happen with a sound engine; do not spin.
            return Err(ServeError::Channel(io::Error::other(
                "sftp engine stopped consuming input",
            )));
        }
        let n = match reader.read(&mut input) {
            Ok(0) => return Ok(served),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ServeError::Channel(e)),
        };
        served.bytes_in = served.bytes_in.saturating_add(n as u64);
        (start, end) = (0, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seashell_sftp::{FileAttributes, Framer, OpenFlags, Response};
    use std::cell::RefCell;
    use std::rc::Rc;

    const FILE: usize = 1 << 20;
    const CHUNK: u32 = 32 * 1024;
    const READS: u32 = 200;

    /// A client scripted in steps: INIT; OPEN (create); WRITE 1 MiB; READ it 200 times in
    /// 32 KiB pieces, all at once; then EOF. It checks the pump's back-pressure: it is read
    /// from only when every request it sent has been answered (the pump writes everything
    /// before reading), and no single write exceeds the engine's high-water mark plus one
    /// reply.
    #[derive(Default)]
    struct Client {
        step: u32,
        sent: u32,
        answered: u32,
        handle: Vec<u8>,
        framer: Framer,
        data: usize,
        /// Encoded requests not yet read by the pump.
        pending: Vec<u8>,
        largest_write: usize,
        reads_while_pending: u32,
    }

    struct Side(Rc<RefCell<Client>>);

    impl Read for Side {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut c = self.0.borrow_mut();
            if c.pending.is_empty() {
                if c.answered != c.sent {
                    c.reads_while_pending += 1;
                }
                let requests = c.next_step();
                // INIT and VERSION have no id: counted like the others.
                c.sent += requests.len() as u32;
                for r in &requests {
                    let bytes = r.encode_framed().map_err(io::Error::other)?;
                    c.pending.extend(bytes);
                }
            }
            let n = c.pending.len().min(buf.len());
            buf[..n].copy_from_slice(&c.pending[..n]);
            c.pending.drain(..n);
            Ok(n)
        }
    }

    impl Client {
        /// The next step's requests; none (EOF) after the last.
        fn next_step(&mut self) -> Vec<Request> {
            let (handle, id) = (self.handle.clone(), self.sent);
            self.step += 1;
            match self.step {
                1 => vec![Request::Init {
                    version: 3,
                    extensions: Vec::new(),
                }],
                2 => vec![Request::Open {
                    id,
                    filename: b"f".to_vec(),
                    flags: OpenFlags(OpenFlags::READ.0 | OpenFlags::WRITE.0 | OpenFlags::CREAT.0),
                    attrs: FileAttributes::default(),
                }],
                3 => (0..FILE as u32 / CHUNK)
                    .map(|i| Request::Write {
                        id: id + i,
                        handle: handle.clone(),
                        offset: u64::from(i * CHUNK),
                        data: vec![i as u8; CHUNK as usize],
                    })
                    .collect(),
                4 => (0..READS)
                    .map(|i| Request::Read {
                        id: id + i,
                        handle: handle.clone(),
                        offset: u64::from(i * CHUNK) % FILE as u64,
                        len: CHUNK,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        }
    }

    impl Write for Side {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut c = self.0.borrow_mut();
            c.largest_write = c.largest_write.max(buf.len());
            let mut rest = buf;
            while let Some(payload) = c.framer.feed(&mut rest).map_err(io::Error::other)? {
                match Response::decode(&payload).map_err(io::Error::other)? {
                    Response::Handle { handle, .. } => c.handle = handle,
                    Response::Data { data, .. } => c.data += data.len(),
                    Response::Status { code, .. } => {
                        assert_eq!(code, seashell_sftp::StatusCode::Ok)
                    }
                    Response::Version { .. } => {}
                    other => panic!("unexpected reply {other:?}"),
                }
                c.answered += 1;
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn back_pressure_and_bounded_writes() {
        let config = ServerConfig::default();
        let bound = config.output_high_water + config.max_read as usize + 64;
        let mut engine = ServerEngine::new(MemoryFs::new(), config);
        let client = Rc::new(RefCell::new(Client::default()));
        let served = pump(
            &mut Side(client.clone()),
            &mut Side(client.clone()),
            &mut engine,
        )
        .expect("the session ends at EOF");
        let c = client.borrow();
        assert_eq!(c.answered, c.sent);
        assert_eq!(c.data, READS as usize * CHUNK as usize);
        assert_eq!(c.reads_while_pending, 0, "read while replies were pending");
        assert!(
            c.largest_write <= bound,
            "a write of {} bytes",
            c.largest_write
        );
        assert!(served.bytes_out > c.data as u64 && served.bytes_in > FILE as u64);
        assert_eq!(engine.open_handles(), 1, "the client left its handle open");
    }

    #[test]
    fn a_protocol_error_ends_the_session() {
        let mut engine = ServerEngine::new(MemoryFs::new(), ServerConfig::default());
        // A READ before INIT.
        let read = Request::Read {
            id: 1,
            handle: vec![0; 8],
            offset: 0,
            len: 1,
        };
        let bytes = read.encode_framed().expect("encodes");
        let mut out = Vec::new();
        let e = pump(&mut &bytes[..], &mut out, &mut engine).expect_err("no INIT");
        assert!(
            matches!(e, ServeError::Protocol(ServerError::NotInitialized)),
            "{e}"
        );
    }
}
