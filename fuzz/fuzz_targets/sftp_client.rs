//! The SFTP client engine fed arbitrary server bytes, in chunks the input chooses, with
//! plain requests, a read pipeline and a write pipeline outstanding; every reply goes
//! through the `expect_*` functions and the pipelines. Never a panic; the bounds hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_sftp::client::{
    ClientConfig, ClientEngine, ReadMode, ReadPipeline, WritePipeline, expect_attrs, expect_data,
    expect_dir_entries, expect_handle, expect_limits, expect_ok, expect_one_name,
};
use seashell_sftp::{ExtendedRequest, Request, Response};

const MAX_PACKET: u32 = 4096;
const MAX_IN_FLIGHT: usize = 12;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut engine = ClientEngine::new(ClientConfig {
        max_in_flight: MAX_IN_FLIGHT,
        max_packet: MAX_PACKET,
    });
    let mut out = Vec::new();
    engine.take_output(&mut out);
    let h = b"handle".to_vec();
    let mut plain = Vec::new();
    for r in [
        Request::Stat {
            id: 0,
            path: b"/".to_vec(),
        },
        Request::RealPath {
            id: 0,
            path: b".".to_vec(),
        },
        Request::Open {
            id: 0,
            filename: b"f".to_vec(),
            flags: seashell_sftp::OpenFlags::READ,
            attrs: Default::default(),
        },
        Request::ReadDir {
            id: 0,
            handle: h.clone(),
        },
        Request::Extended {
            id: 0,
            request: ExtendedRequest::Limits,
        },
    ] {
        if let Ok(id) = engine.send(r) {
            plain.push(id);
        }
    }
    let mode = if flags & 1 == 0 {
        ReadMode::InOrder
    } else {
        ReadMode::Positioned
    };
    let length = (flags & 2 != 0).then_some(5000);
    let mut reads = ReadPipeline::new(100, length, 1000, 4, mode);
    if flags & 4 != 0 {
        reads.set_size_hint(3000);
    }
    let mut writes = WritePipeline::new(0, Some(3000), 700, 3);
    let mut input = Vec::new();
    if flags & 8 != 0 {
        // Start from a valid VERSION so the fuzzer reaches the replies quickly.
        let v = Response::Version {
            version: 3,
            extensions: vec![],
        };
        input.extend(v.encode_framed().unwrap_or_default());
    }
    input.extend_from_slice(rest);
    let step = usize::from(flags >> 4) * 7 + 1;
    let mut buf = [0u8; 333];
    for chunk in input.chunks(step) {
        while let Some((offset, len)) = reads.next_read() {
            let req = Request::Read {
                id: 0,
                handle: h.clone(),
                offset,
                len,
            };
            match engine.send(req) {
                Ok(id) => reads.on_sent(id, offset, len),
                Err(_) => {
                    reads.put_back(offset, len);
                    break;
                }
            }
        }
        if let Some((offset, len)) = writes.next_write() {
            let req = Request::Write {
                id: 0,
                handle: h.clone(),
                offset,
                data: vec![7; len as usize],
            };
            if let Ok(id) = engine.send(req) {
                writes.on_sent(id, offset, len);
            }
        }
        engine.take_output(&mut out);
        out.clear();
        if engine.feed(chunk).is_err() {
            assert!(engine.failure().is_some());
            assert_eq!(engine.in_flight() + engine.unclaimed(), 0);
            break;
        }
        assert!(engine.in_flight() + engine.unclaimed() <= MAX_IN_FLIGHT);
        assert!(engine.buffered_bytes() <= engine.unclaimed() * MAX_PACKET as usize);
        while let Some((id, reply)) = engine.take_next_reply() {
            if reads.owns(id) {
                reads.on_reply(id, expect_data(reply));
            } else if writes.owns(id) {
                writes.on_reply(id, expect_ok(reply));
            } else {
                assert!(plain.contains(&id));
                let _ = expect_attrs(reply.clone());
                let _ = expect_one_name(reply.clone());
                let _ = expect_handle(reply.clone());
                let _ = expect_dir_entries(reply.clone());
                let _ = expect_limits(reply);
            }
        }
        assert!(reads.buffered_bytes() <= reads.budget());
        let _ = reads.read_into(&mut buf);
        while let Some((_, piece)) = reads.take_piece() {
            engine.recycle(piece);
        }
        let _ = (reads.is_done(), writes.is_done(), writes.committed());
    }
    for id in reads.cancel().into_iter().chain(writes.cancel()) {
        engine.abandon(id);
    }
});
