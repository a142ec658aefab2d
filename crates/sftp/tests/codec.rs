//! The codec on its own: round trips, vectors built by hand from the draft, truncations,
//! trailing bytes, hostile counts, the framer, and mutations.

use proptest::prelude::*;
use seashell_sftp::{
    DEFAULT_MAX_PACKET, DecodeError, ExtendedRequest, FileAttributes, FrameError, Framer, Limits,
    NameEntry, OpenFlags, Request, Response, StatVfs, StatusCode, UsersGroups,
};

fn full_attrs() -> FileAttributes {
    FileAttributes {
        size: Some(1234),
        uid_gid: Some((1000, 100)),
        permissions: Some(0o100_644),
        atime_mtime: Some((1_700_000_000, 1_700_000_001)),
        extended: Some(vec![(b"x@example.com".to_vec(), b"v".to_vec())]),
    }
}

fn requests() -> Vec<Request> {
    let h = b"handle-1".to_vec();
    let p = b"/tmp/\xff\xfe-not-utf8".to_vec();
    let ext = |request| Request::Extended { id: 40, request };
    vec![
        Request::Init {
            version: 3,
            extensions: vec![],
        },
        Request::Init {
            version: 3,
            extensions: vec![(b"a".to_vec(), b"1".to_vec())],
        },
        Request::Open {
            id: 1,
            filename: p.clone(),
            flags: OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC,
            attrs: FileAttributes {
                permissions: Some(0o644),
                ..Default::default()
            },
        },
        Request::Close {
            id: 2,
            handle: h.clone(),
        },
        Request::Read {
            id: 3,
            handle: h.clone(),
            offset: 1 << 40,
            len: 32768,
        },
        Request::Write {
            id: 4,
            handle: h.clone(),
            offset: 7,
            data: b"hello".to_vec(),
        },
        Request::Lstat {
            id: 5,
            path: p.clone(),
        },
        Request::Fstat {
            id: 6,
            handle: h.clone(),
        },
        Request::SetStat {
            id: 7,
            path: p.clone(),
            attrs: full_attrs(),
        },
        Request::FSetStat {
            id: 8,
            handle: h.clone(),
            attrs: full_attrs(),
        },
        Request::OpenDir {
            id: 9,
            path: p.clone(),
        },
        Request::ReadDir {
            id: 10,
            handle: h.clone(),
        },
        Request::Remove {
            id: 11,
            filename: p.clone(),
        },
        Request::Mkdir {
            id: 12,
            path: p.clone(),
            attrs: FileAttributes::default(),
        },
        Request::Rmdir {
            id: 13,
            path: p.clone(),
        },
        Request::RealPath {
            id: 14,
            path: b".".to_vec(),
        },
        Request::Stat {
            id: 15,
            path: p.clone(),
        },
        Request::Rename {
            id: 16,
            old: b"a".to_vec(),
            new: b"b".to_vec(),
        },
        Request::ReadLink {
            id: 17,
            path: p.clone(),
        },
        Request::Symlink {
            id: 18,
            target: b"t".to_vec(),
            link: b"l".to_vec(),
        },
        ext(ExtendedRequest::PosixRename {
            old: b"a".to_vec(),
            new: b"b".to_vec(),
        }),
        ext(ExtendedRequest::StatVfs { path: p.clone() }),
        ext(ExtendedRequest::FStatVfs { handle: h.clone() }),
        ext(ExtendedRequest::Hardlink {
            old: b"a".to_vec(),
            new: b"b".to_vec(),
        }),
        ext(ExtendedRequest::Fsync { handle: h.clone() }),
        ext(ExtendedRequest::LSetStat {
            path: p.clone(),
            attrs: full_attrs(),
        }),
        ext(ExtendedRequest::Limits),
        ext(ExtendedRequest::ExpandPath {
            path: b"~/x".to_vec(),
        }),
        ext(ExtendedRequest::CopyData {
            read_handle: h.clone(),
            read_offset: 1,
            length: 2,
            write_handle: b"h2".to_vec(),
            write_offset: 3,
        }),
        ext(ExtendedRequest::HomeDirectory {
            username: b"root".to_vec(),
        }),
        ext(ExtendedRequest::UsersGroupsById {
            uids: vec![0, 1000],
            gids: vec![100],
        }),
        ext(ExtendedRequest::Unknown {
            name: b"foo@example.com".to_vec(),
            data: b"\x00\x01raw".to_vec(),
        }),
    ]
}

fn responses() -> Vec<Response> {
    vec![
        Response::Version {
            version: 3,
            extensions: vec![
                (b"posix-rename@openssh.com".to_vec(), b"1".to_vec()),
                (b"limits@openssh.com".to_vec(), b"1".to_vec()),
            ],
        },
        Response::status(1, StatusCode::Eof),
        Response::status(2, StatusCode::Other(99)),
        Response::Handle {
            id: 3,
            handle: b"h".to_vec(),
        },
        Response::Data {
            id: 4,
            data: vec![0; 100],
        },
        Response::Name {
            id: 5,
            entries: vec![
                NameEntry {
                    filename: b"a".to_vec(),
                    longname: b"-rw-r--r-- a".to_vec(),
                    attrs: full_attrs(),
                },
                NameEntry::default(),
            ],
        },
        Response::Attrs {
            id: 6,
            attrs: full_attrs(),
        },
        Response::ExtendedReply {
            id: 7,
            data: Limits {
                max_packet_length: 262144,
                max_read_length: 261120,
                max_write_length: 261120,
                max_open_handles: 100,
            }
            .encode(),
        },
    ]
}

/// Messages whose last field runs to the end of the packet, so a shorter packet can still
/// be a (different) valid message.
fn open_ended_req(r: &Request) -> bool {
    matches!(
        r,
        Request::Init { .. }
            | Request::Extended {
                request: ExtendedRequest::Unknown { .. },
                ..
            }
    )
}

fn open_ended_resp(r: &Response) -> bool {
    matches!(r, Response::Version { .. } | Response::ExtendedReply { .. })
}

#[test]
fn every_request_round_trips() {
    for m in requests() {
        let b = m.encode().unwrap();
        assert_eq!(Request::decode(&b).unwrap(), m);
    }
}

#[test]
fn every_response_round_trips() {
    for m in responses() {
        let b = m.encode().unwrap();
        assert_eq!(Response::decode(&b).unwrap(), m);
    }
}

#[test]
fn extension_replies_round_trip() {
    let s = StatVfs {
        bsize: 4096,
        frsize: 4096,
        blocks: 10,
        bfree: 5,
        bavail: 4,
        files: 100,
        ffree: 50,
        favail: 49,
        fsid: 7,
        flag: 1,
        namemax: 255,
    };
    assert_eq!(s.encode().len(), 88);
    assert_eq!(StatVfs::decode(&s.encode()).unwrap(), s);
    let u = UsersGroups {
        users: vec![b"root".to_vec(), vec![]],
        groups: vec![b"users".to_vec()],
    };
    assert_eq!(UsersGroups::decode(&u.encode().unwrap()).unwrap(), u);
    assert!(matches!(
        Limits::decode(&[0; 31]),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(matches!(
        Limits::decode(&[0; 33]),
        Err(DecodeError::TrailingBytes { count: 1 })
    ));
}

#[test]
fn vectors_from_the_draft() {
    // SSH_FXP_INIT, version 3, no extensions.
    assert_eq!(
        Request::Init {
            version: 3,
            extensions: vec![]
        }
        .encode_framed()
        .unwrap(),
        [0, 0, 0, 5, 1, 0, 0, 0, 3]
    );
    // SSH_FXP_REALPATH id 1 ".".
    assert_eq!(
        Request::RealPath {
            id: 1,
            path: b".".to_vec()
        }
        .encode_framed()
        .unwrap(),
        [0, 0, 0, 10, 16, 0, 0, 0, 1, 0, 0, 0, 1, b'.']
    );
    // SSH_FXP_OPEN id 2 "f" READ, attrs with only permissions 0644.
    assert_eq!(
        Request::Open {
            id: 2,
            filename: b"f".to_vec(),
            flags: OpenFlags::READ,
            attrs: FileAttributes {
                permissions: Some(0o644),
                ..Default::default()
            }
        }
        .encode()
        .unwrap(),
        [
            3, 0, 0, 0, 2, 0, 0, 0, 1, b'f', 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0x01, 0xa4
        ]
    );
    // SSH_FXP_STATUS id 5 SSH_FX_EOF "End of file" "".
    let mut st = vec![101, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 11];
    st.extend_from_slice(b"End of file");
    st.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(Response::status(5, StatusCode::Eof).encode().unwrap(), st);
    // SSH_FXP_ATTRS id 9: size 0x0102 and uid/gid 0/0.
    assert_eq!(
        Response::decode(&[
            105, 0, 0, 0, 9, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0
        ])
        .unwrap(),
        Response::Attrs {
            id: 9,
            attrs: FileAttributes {
                size: Some(0x0102),
                uid_gid: Some((0, 0)),
                ..Default::default()
            }
        }
    );
}

#[test]
fn status_codes_and_messages() {
    for n in 0..=9 {
        assert_eq!(StatusCode::from_u32(n).to_u32(), n);
    }
    assert_eq!(StatusCode::NoSuchFile.message(), "No such file");
    assert_eq!(StatusCode::OpUnsupported.message(), "Operation unsupported");
    assert_eq!(StatusCode::from_u32(9), StatusCode::Other(9));
}

#[test]
fn truncation_at_every_offset_is_a_typed_error() {
    for m in requests() {
        let b = m.encode().unwrap();
        for n in 0..b.len() {
            let got = Request::decode(&b[..n]);
            assert_ne!(got.as_ref().ok(), Some(&m));
            if !open_ended_req(&m) {
                let e = got.unwrap_err();
                assert!(
                    matches!(
                        e,
                        DecodeError::Truncated { .. }
                            | DecodeError::Empty
                            | DecodeError::CountTooLarge { .. }
                    ),
                    "{m:?} at {n}: {e:?}"
                );
            }
        }
    }
    for m in responses() {
        let b = m.encode().unwrap();
        for n in 0..b.len() {
            let got = Response::decode(&b[..n]);
            assert_ne!(got.as_ref().ok(), Some(&m));
            if !open_ended_resp(&m) {
                assert!(got.is_err(), "{m:?} at {n}");
            }
        }
    }
}

#[test]
fn trailing_bytes_are_refused() {
    for m in requests().into_iter().filter(|m| !open_ended_req(m)) {
        let mut b = m.encode().unwrap();
        b.push(0);
        assert_eq!(
            Request::decode(&b),
            Err(DecodeError::TrailingBytes { count: 1 }),
            "{m:?}"
        );
    }
    for m in responses().into_iter().filter(|m| !open_ended_resp(m)) {
        let mut b = m.encode().unwrap();
        b.push(0);
        assert_eq!(
            Response::decode(&b),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
    }
}

#[test]
fn hostile_counts_and_types_are_refused_without_allocating() {
    // NAME claiming u32::MAX entries in a 13-byte packet.
    let name = [104, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    assert_eq!(
        Response::decode(&name),
        Err(DecodeError::CountTooLarge {
            what: "name entries",
            count: u32::MAX
        })
    );
    // Attributes with the EXTENDED flag and a huge pair count.
    let attrs = [105, 0, 0, 0, 1, 0x80, 0, 0, 0, 0x10, 0, 0, 0];
    assert!(matches!(
        Response::decode(&attrs),
        Err(DecodeError::CountTooLarge { .. })
    ));
    // A string longer than the packet.
    let s = [16, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, b'.'];
    assert!(matches!(
        Request::decode(&s),
        Err(DecodeError::Truncated { .. })
    ));
    assert_eq!(
        Response::decode(&[105, 0, 0, 0, 1, 0, 0, 1, 0]),
        Err(DecodeError::UnknownAttrFlags(0x100))
    );
    assert_eq!(
        Request::decode(&[101, 0, 0, 0, 1]),
        Err(DecodeError::UnknownType(101))
    );
    assert_eq!(
        Response::decode(&[3, 0, 0, 0, 1]),
        Err(DecodeError::UnknownType(3))
    );
    assert_eq!(Request::decode(&[]), Err(DecodeError::Empty));
    // users-groups-by-id with a uid list that is not a multiple of 4 bytes.
    let mut ug = vec![200, 0, 0, 0, 1];
    let name = b"users-groups-by-id@openssh.com";
    ug.extend_from_slice(&(name.len() as u32).to_be_bytes());
    ug.extend_from_slice(name);
    ug.extend_from_slice(&[0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0]);
    assert!(matches!(
        Request::decode(&ug),
        Err(DecodeError::Invalid { .. })
    ));
}

#[test]
fn framer_reassembles_any_chunking() {
    let mut wire = Vec::new();
    for m in requests() {
        wire.extend(m.encode_framed().unwrap());
    }
    for chunk in [1, 2, 3, 5, 7, 64, wire.len()] {
        let mut f = Framer::new();
        let mut got = Vec::new();
        for c in wire.chunks(chunk) {
            let mut input = c;
            while let Some(p) = f.feed(&mut input).unwrap() {
                got.push(Request::decode(&p).unwrap());
            }
            assert!(input.is_empty());
        }
        assert_eq!(got, requests(), "chunk {chunk}");
    }
}

#[test]
fn framer_refuses_oversize_and_empty_before_buffering() {
    let mut f = Framer::new();
    assert_eq!(f.max_packet(), DEFAULT_MAX_PACKET);
    let too_big = (DEFAULT_MAX_PACKET + 1).to_be_bytes();
    let mut input = &too_big[..];
    let e = f.feed(&mut input).unwrap_err();
    assert_eq!(
        e,
        FrameError::TooLarge {
            length: DEFAULT_MAX_PACKET + 1,
            max: DEFAULT_MAX_PACKET
        }
    );
    // Failed for good.
    let mut more = &[1u8, 2][..];
    assert_eq!(f.feed(&mut more), Err(e));

    let mut f = Framer::with_max_packet(16);
    let mut ok = &[0, 0, 0, 16][..];
    assert_eq!(f.feed(&mut ok), Ok(None));
    let mut f = Framer::new();
    let mut zero = &[0u8, 0, 0, 0, 1][..];
    assert_eq!(f.feed(&mut zero), Err(FrameError::Empty));
}

#[test]
fn every_single_byte_mutation_decodes_or_errors() {
    let mut samples: Vec<Vec<u8>> = requests().iter().map(|m| m.encode().unwrap()).collect();
    samples.extend(responses().iter().map(|m| m.encode().unwrap()));
    for s in &samples {
        for i in 0..s.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut b = s.clone();
                b[i] = v;
                if let Ok(m) = Request::decode(&b) {
                    assert_eq!(Request::decode(&m.encode().unwrap()).unwrap(), m);
                }
                if let Ok(m) = Response::decode(&b) {
                    assert_eq!(Response::decode(&m.encode().unwrap()).unwrap(), m);
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(m) = Request::decode(&data) {
            prop_assert_eq!(Request::decode(&m.encode().unwrap()).unwrap(), m);
        }
        if let Ok(m) = Response::decode(&data) {
            prop_assert_eq!(Response::decode(&m.encode().unwrap()).unwrap(), m);
        }
        let mut f = Framer::with_max_packet(64);
        let mut input = &data[..];
        while let Ok(Some(p)) = f.feed(&mut input) {
            let _ = Request::decode(&p);
        }
    }

    #[test]
    fn writes_and_attrs_round_trip(
        id in any::<u32>(),
        offset in any::<u64>(),
        data in proptest::collection::vec(any::<u8>(), 0..200),
        size in proptest::option::of(any::<u64>()),
        perm in proptest::option::of(any::<u32>()),
        times in proptest::option::of(any::<(u32, u32)>()),
    ) {
        let w = Request::Write { id, handle: data.clone(), offset, data: data.clone() };
        prop_assert_eq!(Request::decode(&w.encode().unwrap()).unwrap(), w);
        let a = Response::Attrs { id, attrs: FileAttributes {
            size, permissions: perm, atime_mtime: times, ..Default::default() } };
        prop_assert_eq!(Response::decode(&a.encode().unwrap()).unwrap(), a);
    }
}
