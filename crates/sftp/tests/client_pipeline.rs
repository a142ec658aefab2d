//! The read and write pipelines, alone and driving the engine against an in-memory server
//! that reorders replies, cuts reads short, ends files early and fails requests; the
//! memory bound of a simulated 10 GiB download; OpenSSH's sizing.

mod client_support;

use client_support::{Pump, Take, download, random_bytes, upload};
use proptest::prelude::*;
use seashell_sftp::client::{
    ClientConfig, ClientEngine, FALLBACK_CHUNK, MAX_CHUNK, ReadMode, ReadPipeline, SftpError,
    WritePipeline, chunk_from_limits, in_flight_for_window, max_in_flight, read_chunk, write_chunk,
};
use seashell_sftp::{Framer, Limits, Request, Response, StatusCode, fxp};

/// A file served from memory, or a 251-periodic pattern of any size (for 10 GiB).
enum Content {
    Mem(Vec<u8>),
    Pattern { size: u64, buf: Vec<u8> },
}

impl Content {
    fn pattern(size: u64) -> Self {
        let buf = (0..251 + MAX_CHUNK as usize)
            .map(|i| (i % 251) as u8)
            .collect();
        Self::Pattern { size, buf }
    }
    fn size(&self) -> u64 {
        match self {
            Self::Mem(v) => v.len() as u64,
            Self::Pattern { size, .. } => *size,
        }
    }
    fn slice(&self, offset: u64, n: usize) -> &[u8] {
        match self {
            Self::Mem(v) => &v[offset as usize..offset as usize + n],
            Self::Pattern { buf, .. } => {
                let at = (offset % 251) as usize;
                &buf[at..at + n]
            }
        }
    }
}

/// How the fake server misbehaves (within the protocol).
#[derive(Default, Clone, Copy)]
struct Policy {
    /// Answer each batch in reverse order.
    reverse: bool,
    /// Answer each batch in a random order.
    shuffle: bool,
    /// Hold back the lowest-offset READ for this many batches.
    hold_lowest: u32,
    /// Cut reads short at random (to at least one byte).
    short: bool,
    /// Fail the READ or WRITE covering this offset.
    fail_at: Option<u64>,
}

/// A request waiting for its reply: id, READ `(offset, len)` or (for a WRITE) the offset of
/// a failed write.
type Pending = (u32, Option<(u64, u32)>, Option<u64>);

struct FakeServer {
    file: Content,
    written: Vec<u8>,
    policy: Policy,
    framer: Framer,
    pending: Vec<Pending>,
    held: Option<(u32, u64, u32, u32)>,
    rng: u64,
    out: Vec<u8>,
    reads: u64,
}

impl FakeServer {
    fn new(file: Content, policy: Policy, seed: u64) -> Self {
        Self {
            file,
            written: Vec::new(),
            policy,
            framer: Framer::new(),
            pending: Vec::new(),
            held: None,
            rng: seed | 1,
            out: Vec::new(),
            reads: 0,
        }
    }

    fn rand(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Feeds a DATA reply as a header and a borrowed body (no copy of the body here).
    fn reply_read(&mut self, e: &mut ClientEngine, id: u32, offset: u64, len: u32) {
        let size = self.file.size();
        if self
            .policy
            .fail_at
            .is_some_and(|f| (offset..offset + u64::from(len)).contains(&f))
        {
            let r = Response::status(id, StatusCode::Failure);
            return e.feed(&r.encode_framed().unwrap()).unwrap();
        }
        if offset >= size {
            let r = Response::status(id, StatusCode::Eof);
            return e.feed(&r.encode_framed().unwrap()).unwrap();
        }
        let mut n = u64::from(len).min(size - offset) as usize;
        if self.policy.short && n > 1 && self.rand().is_multiple_of(3) {
            n = 1 + (self.rand() as usize % (n - 1));
        }
        let mut head = Vec::with_capacity(13);
        head.extend_from_slice(&(9 + n as u32).to_be_bytes());
        head.push(fxp::DATA);
        head.extend_from_slice(&id.to_be_bytes());
        head.extend_from_slice(&(n as u32).to_be_bytes());
        e.feed(&head).unwrap();
        e.feed(self.file.slice(offset, n)).unwrap();
    }
}

impl Pump for FakeServer {
    fn pump(&mut self, e: &mut ClientEngine) {
        e.take_output(&mut self.out);
        let mut input = &self.out[..];
        while let Some(p) = self.framer.feed(&mut input).unwrap() {
            match Request::decode(&p).unwrap() {
                Request::Init { .. } => {
                    let v = Response::Version {
                        version: 3,
                        extensions: vec![],
                    };
                    e.feed(&v.encode_framed().unwrap()).unwrap();
                }
                Request::Read {
                    id, offset, len, ..
                } => {
                    self.reads += 1;
                    self.pending.push((id, Some((offset, len)), None));
                }
                Request::Write {
                    id, offset, data, ..
                } => {
                    let end = offset as usize + data.len();
                    let fail = self
                        .policy
                        .fail_at
                        .is_some_and(|f| (offset..end as u64).contains(&f));
                    if !fail {
                        if self.written.len() < end {
                            self.written.resize(end, 0);
                        }
                        self.written[offset as usize..end].copy_from_slice(&data);
                    }
                    self.pending.push((id, None, fail.then_some(offset)));
                }
                other => panic!("unexpected request {other:?}"),
            }
        }
        self.out.clear();
        let mut batch = std::mem::take(&mut self.pending);
        if self.policy.hold_lowest > 0 {
            if let Some((id, off, len, left)) = self.held.take() {
                if left == 0 {
                    batch.push((id, Some((off, len)), None));
                } else {
                    self.held = Some((id, off, len, left - 1));
                }
            } else if let Some(i) = (0..batch.len())
                .filter(|&i| batch[i].1.is_some())
                .min_by_key(|&i| batch[i].1.map(|r| r.0))
            {
                let (id, r, _) = batch.remove(i);
                let (off, len) = r.unwrap();
                self.held = Some((id, off, len, self.policy.hold_lowest));
            }
        }
        if self.policy.reverse {
            batch.reverse();
        }
        if self.policy.shuffle {
            for i in (1..batch.len()).rev() {
                let j = (self.rand() % (i as u64 + 1)) as usize;
                batch.swap(i, j);
            }
        }
        for (id, read, write_fail) in batch {
            match read {
                Some((offset, len)) => self.reply_read(e, id, offset, len),
                None => {
                    let code = if write_fail.is_some() {
                        StatusCode::Failure
                    } else {
                        StatusCode::Ok
                    };
                    e.feed(&Response::status(id, code).encode_framed().unwrap())
                        .unwrap();
                }
            }
        }
    }
}

fn engine() -> ClientEngine {
    ClientEngine::new(ClientConfig::default())
}

fn data_of(n: usize) -> Result<Option<Vec<u8>>, SftpError> {
    Ok(Some(vec![0xab; n]))
}

#[test]
fn ramp_starts_at_one_and_adds_one_per_reply() {
    let mut p = ReadPipeline::new(0, None, 1000, 4, ReadMode::Positioned);
    let mut id = 0;
    let mut out = Vec::new();
    let mut widths = Vec::new();
    for _ in 0..6 {
        let mut n = 0;
        while let Some((o, l)) = p.next_read() {
            id += 1;
            p.on_sent(id, o, l);
            out.push(id);
            n += 1;
        }
        widths.push(p.in_flight());
        let first = out.remove(0);
        assert!(p.on_reply(first, data_of(1000)));
        while p.take_piece().is_some() {}
        let _ = n;
    }
    assert_eq!(widths, [1, 2, 3, 4, 4, 4]);
    assert!(!p.on_reply(12345, data_of(1)), "not this pipeline's id");
}

#[test]
fn eof_out_of_order_discards_data_past_it() {
    let mut p = ReadPipeline::new(0, None, 300, 8, ReadMode::InOrder);
    let (o, l) = p.next_read().unwrap();
    p.on_sent(1, o, l);
    assert_eq!(p.next_read(), None);
    p.on_reply(1, data_of(300));
    let (o2, l2) = p.next_read().unwrap();
    p.on_sent(2, o2, l2);
    let (o3, l3) = p.next_read().unwrap();
    p.on_sent(3, o3, l3);
    assert_eq!((o2, o3), (300, 600));
    // The reply for 600 comes first with data (the file grew?), then EOF at 300.
    p.on_reply(3, data_of(300));
    assert_eq!(p.buffered_bytes(), 600);
    p.on_reply(2, Ok(None));
    assert_eq!(p.end(), Some(300));
    assert_eq!(p.buffered_bytes(), 300, "data past EOF dropped");
    assert!(p.is_complete());
    assert_eq!(p.next_read(), None);
    let (at, d) = p.take_in_order().unwrap();
    assert_eq!((at, d.len()), (0, 300));
    assert!(p.is_done());
    assert_eq!(p.received(), 300);
}

#[test]
fn short_reads_rerequest_the_rest_and_shrink_the_chunk() {
    let mut p = ReadPipeline::new(10, Some(5000), 4096, 2, ReadMode::InOrder);
    let (o, l) = p.next_read().unwrap();
    assert_eq!((o, l), (10, 4096));
    p.on_sent(1, o, l);
    p.on_reply(1, data_of(1000));
    assert_eq!(p.chunk(), 1000);
    // The remainder first, then fresh requests of the new size, within the limit.
    assert_eq!(p.next_read(), Some((1010, 3096)));
    p.on_sent(2, 1010, 3096);
    assert_eq!(p.next_read(), Some((4106, 904)), "fresh, within the limit");
    p.on_sent(3, 4106, 904);
    assert_eq!(p.next_read(), None, "window of 2 full");
    p.on_reply(3, data_of(904));
    p.on_reply(2, data_of(3096));
    assert_eq!(p.next_read(), None);
    let mut buf = vec![0; 10_000];
    assert_eq!(p.read_into(&mut buf), 5000);
    // The three emptied buffers can go back to the engine.
    let spent: Vec<Vec<u8>> = std::iter::from_fn(|| p.take_spent()).collect();
    assert_eq!(spent.len(), 3);
    assert!(spent.iter().all(|b| b.capacity() > 0));
    assert!(p.is_done());
    assert_eq!(p.end(), Some(5010));
}

#[test]
fn impossible_data_and_errors_stop_the_pipeline() {
    let mut p = ReadPipeline::new(0, None, 100, 4, ReadMode::Positioned);
    let (o, l) = p.next_read().unwrap();
    p.on_sent(7, o, l);
    p.on_reply(7, data_of(101));
    assert!(matches!(p.error(), Some(SftpError::BadReply(_))));
    assert_eq!(p.next_read(), None);

    let mut p = ReadPipeline::new(0, None, 100, 4, ReadMode::Positioned);
    let (o, l) = p.next_read().unwrap();
    p.on_sent(7, o, l);
    p.on_reply(7, data_of(0));
    assert!(matches!(p.error(), Some(SftpError::BadReply("empty DATA"))));

    let mut p = ReadPipeline::new(0, None, 100, 4, ReadMode::Positioned);
    let (o, l) = p.next_read().unwrap();
    p.on_sent(1, o, l);
    p.on_reply(1, data_of(100));
    for id in 2..4 {
        let (o, l) = p.next_read().unwrap();
        p.on_sent(id, o, l);
    }
    let denied = SftpError::Status {
        code: StatusCode::PermissionDenied,
        message: "no".into(),
    };
    p.on_reply(2, Err(denied.clone()));
    assert_eq!(p.error(), Some(&denied));
    assert_eq!(p.next_read(), None);
    assert_eq!(p.cancel(), vec![3]);
    assert_eq!(p.in_flight(), 0);
    // Data before the error can still be taken.
    assert_eq!(p.take_piece().map(|(o, d)| (o, d.len())), Some((0, 100)));

    // put_back offers a read again.
    let mut p = ReadPipeline::new(0, None, 100, 4, ReadMode::Positioned);
    let (o, l) = p.next_read().unwrap();
    p.put_back(o, l);
    assert_eq!(p.next_read(), Some((o, l)));
}

#[test]
fn size_hint_keeps_one_request_past_the_known_size() {
    let size = 2_000_000u64;
    let file = Content::Mem(random_bytes(size as usize, 3));
    let mut server = FakeServer::new(
        file,
        Policy {
            reverse: true,
            ..Policy::default()
        },
        9,
    );
    let mut e = engine();
    let mut p = ReadPipeline::new(0, None, 32_768, 64, ReadMode::Positioned);
    p.set_size_hint(size);
    let (end, _) = download(
        &mut e,
        &mut server,
        b"h",
        p,
        Take::of(ReadMode::Positioned),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(end, size);
    // 62 requests of data (the last one short) and one that meets EOF.
    assert_eq!(server.reads, size.div_ceil(32_768) + 1);
}

/// Room for one end-of-file STATUS reply held next to the data.
const EOF_STATUS_SLACK: u64 = 64;

fn check_download(
    file: Vec<u8>,
    policy: Policy,
    mode: ReadMode,
    chunk: u32,
    max: usize,
    seed: u64,
) {
    let mut server = FakeServer::new(Content::Mem(file.clone()), policy, seed);
    let mut e = engine();
    let p = ReadPipeline::new(0, None, chunk, max, mode);
    let budget = p.budget();
    let mut got = vec![0u8; file.len()];
    let mut next = 0u64;
    let (end, stats) = download(&mut e, &mut server, b"h", p, Take::of(mode), |o, b| {
        if mode == ReadMode::InOrder {
            assert_eq!(o, next);
            next += b.len() as u64;
        }
        got[o as usize..o as usize + b.len()].copy_from_slice(b);
    })
    .unwrap();
    assert_eq!(end, file.len() as u64);
    assert!(got == file, "download differs");
    // Held at once: the pipeline's pieces (at most the budget) and the engine's replies not
    // yet taken (at most `max` of at most a chunk each, with 13 bytes of framing: length,
    // type, id, data length), and the end-of-file STATUS (`End of file`, about 30 bytes).
    // The framing and the STATUS only matter when chunks are tiny.
    assert!(
        stats.peak_buffered <= 2 * budget + max as u64 * 13 + EOF_STATUS_SLACK,
        "{} > {budget}",
        stats.peak_buffered
    );
    assert_eq!(e.in_flight(), 0);
}

#[test]
fn out_of_order_short_reads_and_held_replies_both_modes() {
    let file = random_bytes(3_000_017, 5);
    for mode in [ReadMode::InOrder, ReadMode::Positioned] {
        for policy in [
            Policy {
                reverse: true,
                ..Policy::default()
            },
            Policy {
                short: true,
                ..Policy::default()
            },
            Policy {
                shuffle: true,
                short: true,
                ..Policy::default()
            },
            Policy {
                reverse: true,
                short: true,
                hold_lowest: 3,
                ..Policy::default()
            },
        ] {
            check_download(file.clone(), policy, mode, 65_536, 16, 11);
        }
    }
}

#[test]
fn a_failed_read_is_reported_and_outstanding_ones_abandoned() {
    let file = random_bytes(1_000_000, 5);
    let policy = Policy {
        reverse: true,
        fail_at: Some(500_000),
        ..Policy::default()
    };
    let mut server = FakeServer::new(Content::Mem(file), policy, 1);
    let mut e = engine();
    let p = ReadPipeline::new(0, None, 10_000, 32, ReadMode::InOrder);
    let mut delivered = 0;
    let err = download(
        &mut e,
        &mut server,
        b"h",
        p,
        Take::of(ReadMode::InOrder),
        |_, b| delivered += b.len(),
    )
    .unwrap_err();
    assert_eq!(err.code(), Some(StatusCode::Failure));
    assert!(delivered <= 500_000);
    // The abandoned requests' replies are dropped when they come.
    while e.in_flight() > 0 {
        server.pump(&mut e);
    }
    assert_eq!(e.unclaimed(), 0);
    assert!(e.failure().is_none());
}

#[test]
fn write_pipeline_acks_in_any_order_and_stops_at_the_first_error() {
    let data = random_bytes(2_000_003, 8);
    let policy = Policy {
        reverse: true,
        ..Policy::default()
    };
    let mut server = FakeServer::new(Content::Mem(Vec::new()), policy, 2);
    let mut e = engine();
    let stats = upload(&mut e, &mut server, b"h", 0, &data, 32_768, 16).unwrap();
    assert!(server.written == data);
    assert_eq!(stats.peak_in_flight, 16);
    assert_eq!(stats.requests, 2_000_003u64.div_ceil(32_768));

    let policy = Policy {
        reverse: true,
        fail_at: Some(1_000_000),
        ..Policy::default()
    };
    let mut server = FakeServer::new(Content::Mem(Vec::new()), policy, 2);
    let mut e = engine();
    let err = upload(&mut e, &mut server, b"h", 0, &data, 32_768, 16).unwrap_err();
    assert_eq!(err.code(), Some(StatusCode::Failure));

    // By hand: ramp, error offset, committed, finish.
    let mut p = WritePipeline::new(100, None, 10, 3);
    assert_eq!(p.next_write(), Some((100, 10)));
    assert_eq!(
        p.next_write(),
        Some((100, 10)),
        "does not advance before on_sent"
    );
    p.on_sent(1, 100, 7);
    assert_eq!(p.next_write(), None, "window of 1");
    p.on_reply(1, Ok(()));
    assert_eq!(p.window(), 2);
    p.on_sent(2, 107, 10);
    p.on_sent(3, 117, 10);
    assert_eq!(p.committed(), 107);
    p.on_reply(3, Ok(()));
    assert_eq!(
        (p.committed(), p.acked(), p.in_flight_bytes()),
        (107, 17, 10)
    );
    p.on_reply(2, Ok(()));
    assert_eq!(p.committed(), 127);
    p.finish();
    assert_eq!(p.next_write(), None);
    assert!(p.is_done());

    let mut p = WritePipeline::new(0, Some(100), 10, 8);
    p.on_sent(1, 0, 10);
    p.on_reply(1, Ok(()));
    p.on_sent(2, 10, 10);
    p.on_sent(3, 20, 10);
    p.on_reply(
        3,
        Err(SftpError::Status {
            code: StatusCode::Failure,
            message: String::new(),
        }),
    );
    assert_eq!(p.error_offset(), Some(20));
    assert!(!p.can_send() && p.next_write().is_none() && !p.is_done());
    assert_eq!(p.committed(), 10);
    assert_eq!(p.cancel(), vec![2]);
}

#[test]
fn sizing_follows_openssh() {
    let sftp_server = Limits {
        max_packet_length: 262_144,
        max_read_length: 261_120,
        max_write_length: 261_120,
        max_open_handles: 1024,
    };
    assert_eq!(chunk_from_limits(&sftp_server), 261_120);
    assert_eq!(write_chunk(Some(&sftp_server)), 261_120);
    assert_eq!(read_chunk(None, 262_144), FALLBACK_CHUNK);
    assert_eq!(write_chunk(None), 32_768);
    let huge = Limits {
        max_read_length: 1 << 40,
        max_write_length: 1 << 40,
        ..Limits::default()
    };
    assert_eq!(chunk_from_limits(&huge), MAX_CHUNK);
    assert_eq!(
        read_chunk(Some(&huge), 65_536),
        64_512,
        "fits our max_packet"
    );
    let unknown = Limits::default();
    assert_eq!(chunk_from_limits(&unknown), FALLBACK_CHUNK);
    let small = Limits {
        max_packet_length: 34_816,
        max_read_length: 16_384,
        max_write_length: 1 << 20,
        max_open_handles: 4,
    };
    assert_eq!(chunk_from_limits(&small), 16_384);
    assert_eq!(
        write_chunk(Some(&small)),
        33_792,
        "WRITE fits the server's packet"
    );
    assert_eq!(max_in_flight(None, None), 64);
    assert_eq!(max_in_flight(Some(&small), None), 4);
    assert_eq!(max_in_flight(Some(&small), Some(200)), 200);
    assert_eq!(in_flight_for_window(16 << 20, 261_120, 1024), 65);
    assert_eq!(in_flight_for_window(0, 261_120, 1024), 1);
    assert_eq!(in_flight_for_window(u64::MAX, 1, 256), 256);
}

/// The memory figure: a 10 GiB download through the engine and an in-order pipeline, the
/// server answering in reverse and holding the lowest request back, never holds more than
/// `max_in_flight × chunk` (+ 9 header bytes per reply): 64 × 261,120 = 15.9 MiB.
#[test]
fn simulated_10_gib_download_stays_bounded() {
    let size = 10u64 << 30;
    let policy = Policy {
        reverse: true,
        hold_lowest: 2,
        ..Policy::default()
    };
    let mut server = FakeServer::new(Content::pattern(size), policy, 4);
    let mut e = engine();
    let p = ReadPipeline::new(0, None, MAX_CHUNK, 64, ReadMode::InOrder);
    let budget = p.budget();
    assert_eq!(budget, 16_711_680);
    let mut next = 0u64;
    let (end, stats) = download(&mut e, &mut server, b"h", p, Take::InOrderPieces, |o, b| {
        assert_eq!(o, next);
        assert_eq!(b[0], (o % 251) as u8);
        assert_eq!(*b.last().unwrap(), ((o + b.len() as u64 - 1) % 251) as u8);
        next += b.len() as u64;
    })
    .unwrap();
    assert_eq!((end, next), (size, size));
    assert!(stats.peak_in_flight == 64);
    assert!(
        stats.peak_buffered > budget / 2,
        "the test did not stress the buffer"
    );
    assert!(
        stats.peak_buffered <= budget + 64 * 9,
        "peak {} bytes for 10 GiB",
        stats.peak_buffered
    );
    eprintln!(
        "10 GiB download: peak buffered {} bytes",
        stats.peak_buffered
    );
}

/// Found by the proptest: one-byte chunks, one request in flight.
#[test]
fn one_byte_chunks_one_in_flight() {
    check_download(
        random_bytes(41_535, 0),
        Policy::default(),
        ReadMode::Positioned,
        1,
        1,
        0,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_size_chunk_window_and_server_behaviour(
        size in 0usize..300_000,
        chunk in 1u32..70_000,
        max in 1usize..40,
        reverse in any::<bool>(),
        shuffle in any::<bool>(),
        short in any::<bool>(),
        hold in 0u32..4,
        in_order in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let file = random_bytes(size, seed);
        let policy = Policy { reverse, shuffle, short, hold_lowest: hold, fail_at: None };
        let mode = if in_order { ReadMode::InOrder } else { ReadMode::Positioned };
        check_download(file, policy, mode, chunk, max, seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Sequential WRITEs acknowledged in any order, some failing: the ramp never exceeds
    /// its cap, `committed` never passes an unacknowledged or failed WRITE, the first
    /// failure is the one kept, and nothing is issued after it.
    #[test]
    fn write_acks_in_any_order(
        total in 0u64..50_000,
        chunk in 1u32..5_000,
        max in 1usize..20,
        seed in any::<u64>(),
        fail_one_in in 0u64..40,
    ) {
        let mut p = WritePipeline::new(7, Some(total), chunk, max);
        let mut outstanding: Vec<(u32, u64, u32)> = Vec::new();
        let mut next_id = 0u32;
        let mut s = seed | 1;
        let mut first_error: Option<u64> = None;
        let mut acked = 0u64;
        loop {
            while let Some((o, l)) = p.next_write() {
                prop_assert!(first_error.is_none());
                prop_assert!(l <= chunk && o + u64::from(l) <= 7 + total);
                next_id += 1;
                p.on_sent(next_id, o, l);
                outstanding.push((next_id, o, l));
            }
            prop_assert!(p.in_flight() <= max);
            if outstanding.is_empty() {
                break;
            }
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            let (id, o, l) = outstanding.swap_remove((s % outstanding.len() as u64) as usize);
            let fail = fail_one_in != 0 && s % fail_one_in == 0;
            let reply = if fail {
                first_error.get_or_insert(o);
                Err(SftpError::Status { code: StatusCode::Failure, message: String::new() })
            } else {
                acked += u64::from(l);
                Ok(())
            };
            prop_assert!(p.on_reply(id, reply));
            let low = outstanding.iter().map(|r| r.1).min();
            let mut bound = p.position();
            if let Some(low) = low { bound = bound.min(low); }
            if let Some(e) = first_error { bound = bound.min(e); }
            prop_assert_eq!(p.committed(), bound);
            prop_assert_eq!(p.acked(), acked);
        }
        prop_assert_eq!(p.error_offset(), first_error);
        prop_assert_eq!(p.is_done(), first_error.is_none());
        if first_error.is_none() {
            prop_assert_eq!(p.committed(), 7 + total);
        }
    }
}
