//! Shared by the client tests: a loop driving `ClientEngine` and the pipelines over any
//! transport (a pipe to `sftp-server`, or a scripted server in memory).
#![allow(dead_code)]

use seashell_sftp::Request;
use seashell_sftp::Response;
use seashell_sftp::client::{
    ClientEngine, ReadMode, ReadPipeline, SftpError, WritePipeline, expect_data, expect_ok,
};

/// Moves the engine's output to the server and the server's replies into the engine.
pub trait Pump {
    /// Sends what the engine has queued, then feeds replies: waits for some when requests
    /// are outstanding.
    fn pump(&mut self, engine: &mut ClientEngine);
}

/// Sends one request and waits for its reply.
pub fn call(engine: &mut ClientEngine, pump: &mut impl Pump, req: Request) -> Response {
    let id = engine.send(req).unwrap();
    loop {
        if let Some(r) = engine.take_reply(id) {
            return r;
        }
        assert!(engine.failure().is_none(), "{:?}", engine.failure());
        pump.pump(engine);
    }
}

/// What a pipelined transfer saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Most requests outstanding at once.
    pub peak_in_flight: usize,
    /// Most bytes held by the pipeline and the engine at once.
    pub peak_buffered: u64,
    /// Requests sent.
    pub requests: u64,
}

/// How the downloaded data is taken from the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// `read_into` a small buffer (a streaming `Read`).
    ReadInto,
    /// `take_in_order`, buffers recycled.
    InOrderPieces,
    /// `take_piece` (positioned writes), buffers recycled.
    AnyPieces,
}

impl Take {
    /// The natural way to take data in `mode`.
    pub fn of(mode: ReadMode) -> Self {
        match mode {
            ReadMode::InOrder => Self::ReadInto,
            ReadMode::Positioned => Self::AnyPieces,
        }
    }
}

/// Downloads `handle` from `start` with a `ReadPipeline`, giving data to `sink` as
/// `(offset, bytes)`; returns the end offset.
pub fn download(
    engine: &mut ClientEngine,
    pump: &mut impl Pump,
    handle: &[u8],
    mut pipeline: ReadPipeline,
    take: Take,
    mut sink: impl FnMut(u64, &[u8]),
) -> Result<(u64, Stats), SftpError> {
    let mut stats = Stats::default();
    let mut buf = vec![0u8; 100_000];
    loop {
        while let Some((offset, len)) = pipeline.next_read() {
            let id = engine
                .send(Request::Read {
                    id: 0,
                    handle: handle.to_vec(),
                    offset,
                    len,
                })
                .map_err(SftpError::from)?;
            pipeline.on_sent(id, offset, len);
            stats.requests += 1;
        }
        stats.peak_in_flight = stats.peak_in_flight.max(pipeline.in_flight());
        match take {
            Take::ReadInto => loop {
                let at = pipeline.position();
                let n = pipeline.read_into(&mut buf);
                if n == 0 {
                    break;
                }
                sink(at, &buf[..n]);
                while let Some(spent) = pipeline.take_spent() {
                    engine.recycle(spent);
                }
            },
            Take::InOrderPieces => {
                while let Some((offset, data)) = pipeline.take_in_order() {
                    sink(offset, &data);
                    engine.recycle(data);
                }
            }
            Take::AnyPieces => {
                while let Some((offset, data)) = pipeline.take_piece() {
                    sink(offset, &data);
                    engine.recycle(data);
                }
            }
        }
        if pipeline.is_done() {
            return Ok((pipeline.end().unwrap(), stats));
        }
        if let Some(e) = pipeline.error() {
            let e = e.clone();
            for id in pipeline.cancel() {
                engine.abandon(id);
            }
            return Err(e);
        }
        pump.pump(engine);
        if let Some(e) = engine.failure() {
            return Err(e.clone().into());
        }
        let held = pipeline.buffered_bytes() + engine.buffered_bytes() as u64;
        stats.peak_buffered = stats.peak_buffered.max(held);
        while let Some((id, r)) = engine.take_next_reply() {
            assert!(pipeline.on_reply(id, expect_data(r)), "reply {id} not ours");
        }
        let held = pipeline.buffered_bytes();
        stats.peak_buffered = stats.peak_buffered.max(held);
    }
}

/// Uploads `data` to `handle` at `start` with a `WritePipeline`.
pub fn upload(
    engine: &mut ClientEngine,
    pump: &mut impl Pump,
    handle: &[u8],
    start: u64,
    data: &[u8],
    chunk: u32,
    max_in_flight: usize,
) -> Result<Stats, SftpError> {
    let mut stats = Stats::default();
    let mut p = WritePipeline::new(start, Some(data.len() as u64), chunk, max_in_flight);
    loop {
        while let Some((offset, len)) = p.next_write() {
            let from = (offset - start) as usize;
            let piece = data[from..from + len as usize].to_vec();
            let id = engine
                .send(Request::Write {
                    id: 0,
                    handle: handle.to_vec(),
                    offset,
                    data: piece,
                })
                .map_err(SftpError::from)?;
            p.on_sent(id, offset, len);
            stats.requests += 1;
        }
        stats.peak_in_flight = stats.peak_in_flight.max(p.in_flight());
        if p.is_done() {
            assert_eq!(p.committed(), start + data.len() as u64);
            return Ok(stats);
        }
        if let Some(e) = p.error() {
            let e = e.clone();
            for id in p.cancel() {
                engine.abandon(id);
            }
            return Err(e);
        }
        pump.pump(engine);
        if let Some(e) = engine.failure() {
            return Err(e.clone().into());
        }
        while let Some((id, r)) = engine.take_next_reply() {
            assert!(p.on_reply(id, expect_ok(r)), "reply {id} not ours");
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    seed |= 1;
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}
