//! The client engine against a scripted server (bytes in, bytes out, no process): replies
//! out of order, duplicates, wrong ids and types, VERSION twice or missing, oversize
//! lengths, packets split at every byte, a server that never answers; and the typed
//! interpretation of replies.

use proptest::prelude::*;
use seashell_sftp::client::{
    ClientConfig, ClientEngine, ClientError, SftpError, expect_attrs, expect_data,
    expect_dir_entries, expect_extended, expect_handle, expect_name, expect_ok, expect_one_name,
};
use seashell_sftp::{
    ExtendedRequest, FileAttributes, FrameError, Framer, NameEntry, Request, Response, StatusCode,
};

fn version() -> Response {
    Response::Version {
        version: 3,
        extensions: vec![(b"limits@openssh.com".to_vec(), b"1".to_vec())],
    }
}

fn wire(r: &Response) -> Vec<u8> {
    r.encode_framed().unwrap()
}

/// The requests in the engine's output.
fn sent(e: &mut ClientEngine) -> Vec<Request> {
    let mut out = Vec::new();
    e.take_output(&mut out);
    let mut framer = Framer::new();
    let mut input = &out[..];
    let mut reqs = Vec::new();
    while let Some(p) = framer.feed(&mut input).unwrap() {
        reqs.push(Request::decode(&p).unwrap());
    }
    assert!(input.is_empty());
    reqs
}

fn ready(config: ClientConfig) -> ClientEngine {
    let mut e = ClientEngine::new(config);
    assert_eq!(
        sent(&mut e),
        [Request::Init {
            version: 3,
            extensions: vec![]
        }]
    );
    e.feed(&wire(&version())).unwrap();
    assert!(e.is_ready());
    e
}

fn stat(path: &[u8]) -> Request {
    Request::Stat {
        id: 4_000_000_000,
        path: path.to_vec(),
    }
}

fn attrs(id: u32, size: u64) -> Response {
    Response::Attrs {
        id,
        attrs: FileAttributes {
            size: Some(size),
            ..Default::default()
        },
    }
}

fn read(len: u32) -> Request {
    Request::Read {
        id: 0,
        handle: b"h".to_vec(),
        offset: 0,
        len,
    }
}

/// Checks that the engine failed with `want` and stays failed.
fn assert_failed(e: &mut ClientEngine, got: Result<(), ClientError>, want: ClientError) {
    assert_eq!(got, Err(want.clone()));
    assert_eq!(e.failure(), Some(&want));
    assert_eq!(e.feed(&wire(&attrs(1, 1))), Err(want.clone()));
    assert_eq!(e.send(stat(b"/")), Err(want));
    assert_eq!(e.in_flight(), 0);
    assert_eq!(e.unclaimed(), 0);
    assert_eq!(e.buffered_bytes(), 0);
}

#[test]
fn requests_wait_for_version_then_go_in_order() {
    let mut e = ClientEngine::new(ClientConfig::default());
    let a = e.send(stat(b"/a")).unwrap();
    let b = e.send(stat(b"/b")).unwrap();
    assert_ne!(a, b);
    assert!(!e.is_ready() && e.server().is_none());
    assert_eq!(e.in_flight(), 2);
    // Only INIT goes before VERSION.
    let init = sent(&mut e);
    assert!(matches!(init[..], [Request::Init { version: 3, .. }]));
    assert!(!e.has_output());
    e.feed(&wire(&version())).unwrap();
    assert!(e.server().unwrap().has_extension("limits@openssh.com"));
    assert!(!e.server().unwrap().has_extension("copy-data"));
    let reqs = sent(&mut e);
    assert_eq!(
        reqs,
        [
            Request::Stat {
                id: a,
                path: b"/a".to_vec()
            },
            Request::Stat {
                id: b,
                path: b"/b".to_vec()
            }
        ]
    );
}

#[test]
fn replies_in_any_order_reach_their_request() {
    let mut e = ready(ClientConfig::default());
    let ids: Vec<u32> = (0..10).map(|_| e.send(stat(b"/")).unwrap()).collect();
    assert_eq!(sent(&mut e).len(), 10);
    let mut bytes = Vec::new();
    for (n, id) in ids.iter().enumerate().rev() {
        bytes.extend(wire(&attrs(*id, n as u64)));
    }
    e.feed(&bytes).unwrap();
    assert_eq!(e.in_flight(), 0);
    assert_eq!(e.unclaimed(), 10);
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(
            expect_attrs(e.take_reply(*id).unwrap()).unwrap().size,
            Some(n as u64)
        );
        assert!(e.take_reply(*id).is_none(), "a reply is given once");
    }
    // take_next_reply gives arrival order.
    let ids: Vec<u32> = (0..3).map(|_| e.send(stat(b"/")).unwrap()).collect();
    e.feed(&wire(&attrs(ids[2], 2))).unwrap();
    e.feed(&wire(&attrs(ids[0], 0))).unwrap();
    e.feed(&wire(&attrs(ids[1], 1))).unwrap();
    let order: Vec<u32> = std::iter::from_fn(|| e.take_next_reply().map(|(id, _)| id)).collect();
    assert_eq!(order, [ids[2], ids[0], ids[1]]);
}

#[test]
fn duplicate_reply_fails_the_engine() {
    let mut e = ready(ClientConfig::default());
    let id = e.send(stat(b"/")).unwrap();
    e.feed(&wire(&attrs(id, 1))).unwrap();
    let got = e.feed(&wire(&attrs(id, 2)));
    assert_failed(&mut e, got, ClientError::DuplicateReply(id));
    assert!(e.take_reply(id).is_none());
}

#[test]
fn reply_after_take_or_to_unknown_id_fails() {
    let mut e = ready(ClientConfig::default());
    let id = e.send(stat(b"/")).unwrap();
    e.feed(&wire(&attrs(id, 1))).unwrap();
    e.take_reply(id).unwrap();
    let got = e.feed(&wire(&attrs(id, 1)));
    assert_failed(&mut e, got, ClientError::UnknownId(id));

    let mut e = ready(ClientConfig::default());
    let id = e.send(stat(b"/")).unwrap();
    let got = e.feed(&wire(&attrs(id.wrapping_add(77), 1)));
    assert_failed(&mut e, got, ClientError::UnknownId(id.wrapping_add(77)));
}

#[test]
fn wrong_reply_types_fail_the_engine() {
    let cases: Vec<(Request, Response, &str)> = vec![
        (
            stat(b"/"),
            Response::Data {
                id: 0,
                data: vec![1],
            },
            "DATA",
        ),
        (
            Request::Close {
                id: 0,
                handle: b"h".to_vec(),
            },
            Response::Handle {
                id: 0,
                handle: b"h".to_vec(),
            },
            "HANDLE",
        ),
        (read(10), attrs(0, 1), "ATTRS"),
        (
            Request::Open {
                id: 0,
                filename: b"f".to_vec(),
                flags: seashell_sftp::OpenFlags::READ,
                attrs: FileAttributes::default(),
            },
            Response::Name {
                id: 0,
                entries: vec![],
            },
            "NAME",
        ),
        (
            Request::Extended {
                id: 0,
                request: ExtendedRequest::Limits,
            },
            Response::Handle {
                id: 0,
                handle: vec![],
            },
            "HANDLE",
        ),
        (
            Request::Extended {
                id: 0,
                request: ExtendedRequest::PosixRename {
                    old: b"a".to_vec(),
                    new: b"b".to_vec(),
                },
            },
            Response::ExtendedReply {
                id: 0,
                data: vec![],
            },
            "EXTENDED_REPLY",
        ),
    ];
    for (req, mut reply, got_kind) in cases {
        let mut e = ready(ClientConfig::default());
        let id = e.send(req).unwrap();
        set_reply_id(&mut reply, id);
        let got = e.feed(&wire(&reply));
        match got {
            Err(ClientError::UnexpectedReply { id: i, got, .. }) => {
                assert_eq!((i, got), (id, got_kind));
            }
            other => panic!("{other:?}"),
        }
        assert!(e.failure().is_some());
    }
    // STATUS is accepted for every request; any reply for an unknown extension.
    let mut e = ready(ClientConfig::default());
    let a = e.send(read(1)).unwrap();
    let b = e
        .send(Request::Extended {
            id: 0,
            request: ExtendedRequest::Unknown {
                name: b"x@y".to_vec(),
                data: vec![],
            },
        })
        .unwrap();
    e.feed(&wire(&Response::status(a, StatusCode::Eof)))
        .unwrap();
    e.feed(&wire(&attrs(b, 1))).unwrap();
    assert_eq!(expect_data(e.take_reply(a).unwrap()), Ok(None));
    assert!(e.take_reply(b).is_some());
}

fn set_reply_id(r: &mut Response, new: u32) {
    match r {
        Response::Version { .. } => {}
        Response::Status { id, .. }
        | Response::Handle { id, .. }
        | Response::Data { id, .. }
        | Response::Name { id, .. }
        | Response::Attrs { id, .. }
        | Response::ExtendedReply { id, .. } => *id = new,
    }
}

#[test]
fn more_data_than_asked_fails() {
    let mut e = ready(ClientConfig::default());
    let id = e.send(read(4)).unwrap();
    let got = e.feed(&wire(&Response::Data {
        id,
        data: vec![0; 5],
    }));
    assert_failed(
        &mut e,
        got,
        ClientError::DataTooLong {
            id,
            requested: 4,
            received: 5,
        },
    );
}

#[test]
fn version_twice_missing_or_wrong() {
    let mut e = ready(ClientConfig::default());
    let got = e.feed(&wire(&version()));
    assert_failed(&mut e, got, ClientError::UnexpectedVersion);

    let mut e = ClientEngine::new(ClientConfig::default());
    let id = e.send(stat(b"/")).unwrap();
    let got = e.feed(&wire(&attrs(id, 1)));
    assert_failed(&mut e, got, ClientError::MissingVersion);

    let mut e = ClientEngine::new(ClientConfig::default());
    let got = e.feed(&wire(&Response::Version {
        version: 6,
        extensions: vec![],
    }));
    assert_failed(&mut e, got, ClientError::UnsupportedVersion(6));
    assert!(!e.is_ready());
}

#[test]
fn oversize_zero_and_garbage_packets() {
    let config = ClientConfig {
        max_in_flight: 8,
        max_packet: 1000,
    };
    let mut e = ready(config);
    let id = e.send(read(990)).unwrap();
    // Exactly max_packet is fine.
    let ok = Response::Data {
        id,
        data: vec![7; 1000 - 9],
    };
    assert_eq!(ok.encode().unwrap().len(), 1000);
    e.feed(&wire(&ok)).unwrap_err(); // 991 > 990 asked
    let mut e = ready(config);
    let id = e.send(read(991)).unwrap();
    e.feed(&wire(&ok)).unwrap();
    assert_eq!(e.buffered_bytes(), 1000);
    // One byte more: refused on the length alone, before any body arrives.
    let got = e.feed(&1001u32.to_be_bytes());
    assert_failed(
        &mut e,
        got,
        ClientError::Frame(FrameError::TooLarge {
            length: 1001,
            max: 1000,
        }),
    );
    let _ = id;

    let mut e = ready(config);
    let got = e.feed(&0xffff_ffffu32.to_be_bytes());
    assert!(matches!(
        got,
        Err(ClientError::Frame(FrameError::TooLarge { .. }))
    ));
    let mut e = ready(config);
    let got = e.feed(&[0, 0, 0, 0]);
    assert_failed(&mut e, got, ClientError::Frame(FrameError::Empty));
    let mut e = ready(config);
    let got = e.feed(&[0, 0, 0, 5, 1, 0, 0, 0, 3]); // an INIT from the server
    assert!(matches!(got, Err(ClientError::Decode(_))));
    let mut e = ready(config);
    let id = e.send(stat(b"/")).unwrap();
    let mut bad = wire(&attrs(id, 1));
    bad.push(0);
    bad[3] += 1; // trailing byte inside the packet
    assert!(matches!(e.feed(&bad), Err(ClientError::Decode(_))));
}

/// A session script: VERSION then replies to four requests, with the expected replies.
fn script() -> (Vec<Request>, Vec<u8>, Vec<Response>) {
    let reqs = vec![
        stat(b"/"),
        read(100),
        stat(b"/x"),
        Request::OpenDir {
            id: 0,
            path: b"/".to_vec(),
        },
    ];
    // Ids are 1, 2, 3, 4 on a fresh engine.
    let replies = vec![
        Response::Data {
            id: 2,
            data: (0..100).collect(),
        },
        attrs(1, 42),
        Response::Status {
            id: 3,
            code: StatusCode::NoSuchFile,
            message: b"No such file".to_vec(),
            language: b"en".to_vec(),
        },
        Response::Handle {
            id: 4,
            handle: b"dir-handle".to_vec(),
        },
    ];
    let mut bytes = wire(&version());
    for r in &replies {
        bytes.extend(wire(r));
    }
    (reqs, bytes, replies)
}

fn run_split(chunks: &[&[u8]]) {
    let (reqs, _, replies) = script();
    let mut e = ClientEngine::new(ClientConfig::default());
    let ids: Vec<u32> = reqs.into_iter().map(|r| e.send(r).unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    for c in chunks {
        e.feed(c).unwrap();
    }
    for r in replies {
        assert_eq!(e.take_reply(r.id().unwrap()), Some(r));
    }
    assert_eq!(e.in_flight(), 0);
}

#[test]
fn packets_split_at_every_byte() {
    let (_, bytes, _) = script();
    for i in 0..=bytes.len() {
        run_split(&[&bytes[..i], &bytes[i..]]);
    }
    // Every pair of cut points, and one byte at a time.
    for i in (0..=bytes.len()).step_by(3) {
        for j in (i..=bytes.len()).step_by(5) {
            run_split(&[&bytes[..i], &bytes[i..j], &bytes[j..]]);
        }
    }
    let bytes_one: Vec<&[u8]> = bytes.chunks(1).collect();
    run_split(&bytes_one);
}

#[test]
fn a_server_that_never_answers_keeps_the_engine_bounded() {
    let mut e = ready(ClientConfig {
        max_in_flight: 16,
        max_packet: 4096,
    });
    let mut ids = Vec::new();
    loop {
        match e.send(read(4000)) {
            Ok(id) => ids.push(id),
            Err(err) => {
                assert_eq!(err, ClientError::TooManyInFlight { max: 16 });
                break;
            }
        }
    }
    assert_eq!(ids.len(), 16);
    assert_eq!(e.in_flight(), 16);
    assert_eq!(e.capacity(), 0);
    assert!(e.failure().is_none(), "refusing a send is not fatal");
    let out = sent(&mut e);
    assert_eq!(out.len(), 16);
    // Still refused, nothing more queued.
    assert!(e.send(stat(b"/")).is_err());
    assert!(!e.has_output());
    // The caller gives up: ids stay reserved until late replies come, which are dropped.
    for id in &ids {
        e.abandon(*id);
    }
    assert_eq!(e.in_flight(), 16);
    for id in &ids[..8] {
        e.feed(&wire(&Response::Data {
            id: *id,
            data: vec![0; 4000],
        }))
        .unwrap();
    }
    assert_eq!(
        (e.in_flight(), e.unclaimed(), e.buffered_bytes()),
        (8, 0, 0)
    );
    assert_eq!(e.capacity(), 8);
    // The transport closes.
    e.on_closed();
    assert_eq!(e.failure(), Some(&ClientError::Closed));
    assert_eq!(e.in_flight(), 0);
}

#[test]
fn untaken_replies_count_against_the_cap() {
    let max_packet = 70_000;
    let mut e = ready(ClientConfig {
        max_in_flight: 4,
        max_packet,
    });
    let ids: Vec<u32> = (0..4).map(|_| e.send(read(65_536)).unwrap()).collect();
    for id in &ids {
        e.feed(&wire(&Response::Data {
            id: *id,
            data: vec![1; 65_536],
        }))
        .unwrap();
    }
    assert_eq!((e.in_flight(), e.unclaimed()), (0, 4));
    assert!(e.buffered_bytes() <= 4 * max_packet as usize);
    assert_eq!(
        e.send(stat(b"/")),
        Err(ClientError::TooManyInFlight { max: 4 })
    );
    e.take_reply(ids[0]).unwrap();
    e.abandon(ids[1]);
    assert_eq!(e.unclaimed(), 2);
    assert_eq!(e.buffered_bytes(), 2 * (65_536 + 9));
    e.send(stat(b"/")).unwrap();
    e.send(stat(b"/")).unwrap();
    assert!(e.send(stat(b"/")).is_err());
}

#[test]
fn ids_are_fresh_and_refusals_are_not_fatal() {
    let mut e = ready(ClientConfig::default());
    assert_eq!(
        e.send(Request::Init {
            version: 3,
            extensions: vec![]
        }),
        Err(ClientError::NotARequest)
    );
    let mut ids: Vec<u32> = (0..1000).map(|_| e.send(stat(b"/")).unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1000);
    assert!(e.failure().is_none());
    // The id written in the request is replaced by the engine's.
    let reqs = sent(&mut e);
    assert!(reqs.iter().all(|r| r.id() != Some(4_000_000_000)));
}

#[test]
fn expect_functions_give_typed_results() {
    let status = |code| Response::Status {
        id: 1,
        code,
        message: b"the reason".to_vec(),
        language: vec![],
    };
    let err = expect_handle(status(StatusCode::PermissionDenied)).unwrap_err();
    assert_eq!(
        err,
        SftpError::Status {
            code: StatusCode::PermissionDenied,
            message: "the reason".into()
        }
    );
    assert_eq!(err.to_string(), "sftp: the reason");
    assert_eq!(
        expect_handle(status(StatusCode::Ok)),
        Err(SftpError::UnexpectedReply {
            expected: "HANDLE",
            got: "STATUS"
        })
    );
    assert_eq!(expect_ok(status(StatusCode::Ok)), Ok(()));
    assert!(expect_ok(status(StatusCode::Eof)).unwrap_err().is_eof());
    assert_eq!(expect_data(status(StatusCode::Eof)), Ok(None));
    assert_eq!(
        expect_data(Response::Data {
            id: 1,
            data: vec![5]
        }),
        Ok(Some(vec![5]))
    );
    assert_eq!(expect_dir_entries(status(StatusCode::Eof)), Ok(None));
    let name = |n| Response::Name {
        id: 1,
        entries: vec![NameEntry::default(); n],
    };
    assert_eq!(expect_name(name(2)).unwrap().len(), 2);
    assert_eq!(expect_one_name(name(1)).unwrap(), NameEntry::default());
    assert!(matches!(
        expect_one_name(name(0)),
        Err(SftpError::BadReply(_))
    ));
    assert!(matches!(
        expect_one_name(name(2)),
        Err(SftpError::BadReply(_))
    ));
    assert_eq!(
        expect_attrs(Response::Data {
            id: 1,
            data: vec![]
        }),
        Err(SftpError::UnexpectedReply {
            expected: "ATTRS",
            got: "DATA"
        })
    );
    assert_eq!(
        expect_extended(Response::ExtendedReply {
            id: 1,
            data: vec![9]
        }),
        Ok(vec![9])
    );
    let e: SftpError = ClientError::Closed.into();
    assert_eq!(e.to_string(), "sftp channel closed");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `Response::decode_owned` (DATA kept in place) agrees with `decode` on any payload,
    /// DATA-shaped or not.
    #[test]
    fn decode_owned_agrees_with_decode(
        ty in prop_oneof![Just(103u8), any::<u8>()],
        id in any::<u32>(),
        len_delta in -3i64..3,
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut p = vec![ty];
        p.extend_from_slice(&id.to_be_bytes());
        let len = (body.len() as i64 + len_delta).max(0) as u32;
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&body);
        for cut in [p.len(), 9.min(p.len()), 5.min(p.len()), 1, 0] {
            let q = p[..cut].to_vec();
            prop_assert_eq!(Response::decode_owned(q.clone()), Response::decode(&q));
        }
    }

    /// Arbitrary server bytes, in arbitrary chunks: never a panic; bounds hold while the
    /// engine lives, and a failed engine holds nothing.
    #[test]
    fn arbitrary_server_bytes(
        prefix_version in any::<bool>(),
        data in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(0usize..600, 0..6),
    ) {
        let config = ClientConfig { max_in_flight: 8, max_packet: 300 };
        let mut e = ClientEngine::new(config);
        for n in 0..6u32 {
            e.send(if n % 2 == 0 { read(200) } else { stat(b"/") }).unwrap();
        }
        let mut bytes = if prefix_version { wire(&version()) } else { Vec::new() };
        bytes.extend(data);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.push(bytes.len());
        cuts.sort_unstable();
        let mut at = 0;
        for c in cuts {
            let _ = e.feed(&bytes[at..c]);
            at = c;
            prop_assert!(e.in_flight() + e.unclaimed() <= 8);
            prop_assert!(e.buffered_bytes() <= e.unclaimed() * 300);
            if e.failure().is_some() {
                prop_assert_eq!(e.in_flight() + e.unclaimed(), 0);
            }
        }
    }

    /// Replies to N requests in any order and any chunking all reach their request.
    #[test]
    fn any_order_any_chunking(
        n in 1usize..40,
        seed in any::<u64>(),
        chunk in 1usize..200,
    ) {
        let mut e = ready(ClientConfig::default());
        let ids: Vec<u32> = (0..n).map(|_| e.send(stat(b"/")).unwrap()).collect();
        let mut order: Vec<usize> = (0..n).collect();
        let mut s = seed | 1;
        for i in (1..n).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            order.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let mut bytes = Vec::new();
        for &i in &order {
            bytes.extend(wire(&attrs(ids[i], i as u64)));
        }
        for c in bytes.chunks(chunk) {
            e.feed(c).unwrap();
        }
        for (i, id) in ids.iter().enumerate() {
            prop_assert_eq!(expect_attrs(e.take_reply(*id).unwrap()).unwrap().size, Some(i as u64));
        }
    }
}

#[test]
fn recycled_buffers_carry_the_next_data_reply() {
    let mut e = ready(ClientConfig::default());
    let a = e.send(read(1000)).unwrap();
    e.feed(&wire(&Response::Data {
        id: a,
        data: vec![1; 1000],
    }))
    .unwrap();
    let Some(Response::Data { data, .. }) = e.take_reply(a) else {
        panic!("expected DATA");
    };
    let ptr = data.as_ptr();
    e.recycle(data);
    let b = e.send(read(500)).unwrap();
    // Split, so the body arrives in pieces into the offered buffer.
    let bytes = wire(&Response::Data {
        id: b,
        data: vec![2; 500],
    });
    e.feed(&bytes[..100]).unwrap();
    e.feed(&bytes[100..]).unwrap();
    let Some(Response::Data { data, .. }) = e.take_reply(b) else {
        panic!("expected DATA");
    };
    assert_eq!(data, vec![2; 500]);
    assert_eq!(data.as_ptr(), ptr, "the recycled allocation was reused");
    // Buffers larger than max_packet are not kept; the framer refuses a second offer.
    e.recycle(Vec::with_capacity(1 << 20));
    let mut f = Framer::new();
    assert!(f.offer_buffer(Vec::with_capacity(10)).is_none());
    assert!(f.offer_buffer(Vec::with_capacity(10)).is_some());
}
