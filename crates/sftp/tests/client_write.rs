//! The client engine's zero-copy paths: WRITEs framed straight from a borrowed slice or a
//! fill function into the output (`send_write`, `send_write_with`), and the output read in
//! place (`output`, `consume_output`) in any steps, interleaved with other requests.

use seashell_sftp::client::{ClientConfig, ClientEngine, ClientError, expect_ok};
use seashell_sftp::{Framer, Request, Response, StatusCode};

fn decode_all(bytes: &[u8]) -> Vec<Request> {
    let mut framer = Framer::new();
    let mut input = bytes;
    let mut reqs = Vec::new();
    while let Some(p) = framer.feed(&mut input).unwrap() {
        reqs.push(Request::decode(&p).unwrap());
    }
    assert!(input.is_empty());
    reqs
}

fn write(id: u32, offset: u64, data: &[u8]) -> Request {
    Request::Write {
        id,
        handle: b"handle".to_vec(),
        offset,
        data: data.to_vec(),
    }
}

#[test]
fn writes_are_framed_in_place_and_output_is_consumed_in_steps() {
    let mut e = ClientEngine::new(ClientConfig::default());
    // Held until VERSION, as any request.
    let first = e.send_write(b"handle", 0, b"abc").unwrap();
    let mut wire = Vec::new();
    // Read the INIT in two steps, in place.
    let init_len = e.output().len();
    wire.extend_from_slice(&e.output()[..3]);
    e.consume_output(3);
    wire.extend_from_slice(e.output());
    e.consume_output(init_len);
    assert!(!e.has_output());
    let version = Response::Version {
        version: 3,
        extensions: vec![],
    };
    e.feed(&version.encode_framed().unwrap()).unwrap();
    let stat = e
        .send(Request::Stat {
            id: 0,
            path: b"/x".to_vec(),
        })
        .unwrap();
    // A fill that writes less than asked: the WRITE carries what it wrote.
    let (second, n) = e
        .send_write_with(b"handle", 3, 10, |buf| {
            assert_eq!(buf.len(), 10);
            buf[..4].copy_from_slice(b"defg");
            4
        })
        .unwrap()
        .unwrap();
    assert_eq!(n, 4);
    // Partly consumed, then more queued behind the rest.
    wire.extend_from_slice(&e.output()[..7]);
    e.consume_output(7);
    // A fill that claims more than the slice counts as the slice.
    let (third, n) = e
        .send_write_with(b"handle", 7, 2, |buf| {
            buf.copy_from_slice(b"hi");
            99
        })
        .unwrap()
        .unwrap();
    assert_eq!(n, 2);
    // Nothing written: nothing queued, no id taken.
    let before = e.capacity();
    assert_eq!(e.send_write_with(b"handle", 9, 8, |_| 0).unwrap(), None);
    assert_eq!(e.capacity(), before);
    e.take_output(&mut wire);
    assert!(!e.has_output());
    assert_eq!(
        decode_all(&wire),
        [
            Request::Init {
                version: 3,
                extensions: vec![]
            },
            write(first, 0, b"abc"),
            Request::Stat {
                id: stat,
                path: b"/x".to_vec()
            },
            write(second, 3, b"defg"),
            write(third, 7, b"hi"),
        ]
    );
    // Their replies are STATUS, as for a WRITE sent as a `Request`.
    for id in [first, second, third] {
        let ok = Response::status(id, StatusCode::Ok);
        e.feed(&ok.encode_framed().unwrap()).unwrap();
        expect_ok(e.take_reply(id).unwrap()).unwrap();
    }
}

#[test]
fn a_full_table_refuses_before_fill_runs() {
    let mut e = ClientEngine::new(ClientConfig {
        max_in_flight: 1,
        ..ClientConfig::default()
    });
    e.send_write(b"h", 0, b"x").unwrap();
    let refused = e.send_write_with(b"h", 1, 4, |_| panic!("fill must not run"));
    assert_eq!(refused, Err(ClientError::TooManyInFlight { max: 1 }));
    assert_eq!(
        e.send_write(b"h", 1, b"y"),
        Err(ClientError::TooManyInFlight { max: 1 })
    );
}
