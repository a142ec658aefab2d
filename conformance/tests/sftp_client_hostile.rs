//! The SFTP client's glue (adapter session + engine) against scripted hostile servers: our
//! own SSH server whose `sftp` subsystem is a script over the codec. Out-of-order replies
//! reach their callers; a duplicate reply, a reply to an id never sent, a reply of the wrong
//! type and a length past the limit fail the session with typed errors (no panic, nothing
//! allocated from the length); a server that stops answering and closes ends every call
//! with `ConnectionAborted`; a cancelled call's late reply is discarded; short reads are
//! completed. The engine's own hostile-input tests are in `crates/sftp/tests`.

use seashell_blocking::sftp::Sftp;
use seashell_blocking::{
    ChannelReader, ChannelWriter, Client, ClientConfig, Handler, HostKeyPolicy, Server,
    ServerChannel,
};
use seashell_conformance::with_timeout;
use seashell_proto::{AuthAttempt, AuthDecision, PrivateKey, ServerConfig, SessionRequestKind};
use seashell_sftp::{FileAttributes, Framer, Request, Response, StatusCode};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// The server side of one scripted SFTP session.
struct Peer {
    r: ChannelReader,
    w: ChannelWriter,
    framer: Framer,
    pending: Vec<u8>,
}

impl Peer {
    /// The next request, `None` when the client went away.
    fn next(&mut self) -> Option<Request> {
        loop {
            let mut input = &self.pending[..];
            let got = self.framer.feed(&mut input).ok()?;
            let used = self.pending.len() - input.len();
            self.pending.drain(..used);
            if let Some(payload) = got {
                return Request::decode(&payload).ok();
            }
            let mut buf = [0u8; 65536];
            let n = self.r.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    fn send(&mut self, r: &Response) {
        let _ = self.w.write_all(&r.encode_framed().unwrap());
    }

    fn raw(&mut self, bytes: &[u8]) {
        let _ = self.w.write_all(bytes);
    }

    /// INIT → VERSION 3 with no extensions.
    fn version(&mut self) {
        assert!(matches!(self.next(), Some(Request::Init { .. })));
        self.send(&Response::Version {
            version: 3,
            extensions: Vec::new(),
        });
    }

    /// The next request, which must carry an id.
    fn request(&mut self) -> Option<(u32, Request)> {
        let r = self.next()?;
        Some((r.id()?, r))
    }
}

fn attrs(size: u64) -> FileAttributes {
    FileAttributes {
        size: Some(size),
        permissions: Some(0o100_644),
        ..FileAttributes::default()
    }
}

fn stat_size(r: &Request) -> u64 {
    match r {
        Request::Stat { path, .. } | Request::Lstat { path, .. } => path.len() as u64,
        _ => 0,
    }
}

type Script = fn(&mut Peer);

struct Scripted(Script);

impl Handler for Scripted {
    fn auth(&mut self, _: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::Password(pw) if pw.as_str() == "pw" => AuthDecision::Accept,
            _ => AuthDecision::Reject,
        }
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        if !matches!(request, SessionRequestKind::Subsystem(s) if s == "sftp") {
            return false;
        }
        let (ch, script) = (channel.clone(), self.0);
        std::thread::spawn(move || {
            let mut peer = Peer {
                r: ch.stdin(),
                w: ch.stdout(),
                framer: Framer::new(),
                pending: Vec::new(),
            };
            script(&mut peer);
            ch.eof();
            ch.exit(0);
        });
        true
    }
}

/// Starts our server with `script` as its sftp subsystem; returns its address and config.
fn serve(script: Script) -> (String, ClientConfig) {
    let key = Arc::new(PrivateKey::ed25519_generate().expect("host key"));
    let fingerprint = key.public_key().fingerprint();
    let server = Server::bind("127.0.0.1:0", ServerConfig::new(vec![key])).expect("bind");
    let addr = server.local_addr().expect("address").to_string();
    std::thread::spawn(move || server.run(|_| Scripted(script)));
    let config = ClientConfig::new("me")
        .password("pw")
        .host_key_policy(HostKeyPolicy::Fingerprint(fingerprint));
    (addr, config)
}

fn sftp(script: Script) -> (seashell_blocking::Session, Sftp) {
    let (addr, config) = serve(script);
    let session = Client::connect(&addr, config).expect("login");
    let sftp = session.sftp().expect("sftp");
    (session, sftp)
}

/// Holds what the script keeps running for (it ends when the client goes).
fn drain(p: &mut Peer) {
    while p.next().is_some() {}
}

#[test]
fn out_of_order_replies_reach_their_callers() {
    with_timeout(LIMIT, "hostile/out_of_order", || {
        let (_s, sftp) = sftp(|p| {
            p.version();
            let a = p.request().unwrap();
            let b = p.request().unwrap();
            for (id, r) in [b, a] {
                p.send(&Response::Attrs {
                    id,
                    attrs: attrs(stat_size(&r)),
                });
            }
            drain(p);
        });
        std::thread::scope(|s| {
            let t = s.spawn(|| sftp.metadata("abc").unwrap().len());
            std::thread::sleep(Duration::from_millis(50));
            let u = s.spawn(|| sftp.metadata("abcdefgh").unwrap().len());
            assert_eq!(t.join().unwrap(), 3);
            assert_eq!(u.join().unwrap(), 8);
        });
    });
}

fn assert_invalid_data(r: io::Result<impl std::fmt::Debug>) {
    match r {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}"),
        Ok(v) => panic!("accepted: {v:?}"),
    }
}

#[test]
fn duplicate_reply_fails_the_session() {
    with_timeout(LIMIT, "hostile/duplicate", || {
        let (_s, sftp) = sftp(|p| {
            p.version();
            let (id, r) = p.request().unwrap();
            let reply = Response::Attrs {
                id,
                attrs: attrs(stat_size(&r)),
            };
            p.send(&reply);
            p.send(&reply);
            drain(p);
        });
        // The duplicate may come with the first reply (then the call fails) or after it.
        match sftp.metadata("x") {
            Ok(m) => assert_eq!(m.len(), 1),
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}"),
        }
        assert_invalid_data(sftp.metadata("y"));
        assert_invalid_data(sftp.metadata("z"));
    });
}

#[test]
fn reply_to_an_unknown_id_fails_the_session() {
    with_timeout(LIMIT, "hostile/unknown_id", || {
        let (_s, sftp) = sftp(|p| {
            p.version();
            let (id, _) = p.request().unwrap();
            p.send(&Response::status(id.wrapping_add(1000), StatusCode::Ok));
            drain(p);
        });
        assert_invalid_data(sftp.metadata("x"));
    });
}

#[test]
fn reply_of_the_wrong_type_fails_the_session() {
    with_timeout(LIMIT, "hostile/wrong_type", || {
        let (_s, sftp) = sftp(|p| {
            p.version();
            let (id, _) = p.request().unwrap();
            p.send(&Response::Data {
                id,
                data: b"nope".to_vec(),
            });
            drain(p);
        });
        assert_invalid_data(sftp.metadata("x"));
    });
}

#[test]
fn length_past_the_limit_is_refused() {
    with_timeout(LIMIT, "hostile/length", || {
        let (_s, sftp) = sftp(|p| {
            p.version();
            let _ = p.request();
            // 2 GiB announced: refused from the four length bytes, nothing allocated.
            p.raw(&[0x7f, 0xff, 0xff, 0xff, 105, 0, 0, 0]);
            drain(p);
        });
        assert_invalid_data(sftp.metadata("x"));
    });
}

#[test]
fn bad_version_fails_the_handshake() {
    with_timeout(LIMIT, "hostile/version", || {
        let (addr, config) = serve(|p| {
            let _ = p.next();
            p.send(&Response::Version {
                version: 6,
                extensions: Vec::new(),
            });
            drain(p);
        });
        let session = Client::connect(&addr, config).expect("login");
        let e = session.sftp().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
    });
}

#[test]
fn a_server_that_stops_answering_and_closes_ends_every_call() {
    with_timeout(LIMIT, "hostile/silent", || {
        let (_s, sftp) = sftp(|p| {
            p.version();
            let _ = p.request();
            std::thread::sleep(Duration::from_millis(200));
            // Returning closes the channel without an answer.
        });
        let e = sftp.metadata("x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted, "{e}");
        let e = sftp.read_dir("/").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted, "{e}");
    });
}

#[test]
fn a_server_that_stops_answering_but_stays_open_times_out_with_a_limit() {
    with_timeout(LIMIT, "hostile/timeout", || {
        let (_s, mut sftp) = sftp(|p| {
            p.version();
            drain(p); // reads every request, answers none
        });
        sftp.set_timeout(Some(Duration::from_millis(300)));
        let start = std::time::Instant::now();
        let e = sftp.metadata("x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(10),
            "{took:?}"
        );
        // The session stays usable for calls that do not wait on the silent server's reply
        // forever: a second call times out the same way, it does not hang.
        let e = sftp.read_dir("/").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
    });
}

#[test]
fn the_limit_is_on_silence_not_on_the_length_of_a_call() {
    with_timeout(LIMIT, "hostile/timeout_idle", || {
        let (_s, mut sftp) = sftp(|p| {
            p.version();
            // The first request is answered last, after 6 others answered 100 ms apart:
            // it waits about 700 ms, but the server is never silent for 300 ms.
            let first = p.request().unwrap();
            for _ in 0..6 {
                let (id, r) = p.request().unwrap();
                std::thread::sleep(Duration::from_millis(100));
                p.send(&Response::Attrs {
                    id,
                    attrs: attrs(stat_size(&r)),
                });
            }
            let (id, r) = first;
            p.send(&Response::Attrs {
                id,
                attrs: attrs(stat_size(&r)),
            });
            drain(p);
        });
        sftp.set_timeout(Some(Duration::from_millis(300)));
        std::thread::scope(|s| {
            let slow = s.spawn(|| sftp.metadata("slow").unwrap().len());
            std::thread::sleep(Duration::from_millis(50));
            for _ in 0..6 {
                assert_eq!(sftp.metadata("ab").unwrap().len(), 2);
            }
            assert_eq!(slow.join().unwrap(), 4);
        });
    });
}

/// READs answered with at most 1000 bytes: the pipeline asks for the rest.
#[test]
fn short_reads_are_completed() {
    with_timeout(LIMIT, "hostile/short_reads", || {
        let (_s, sftp) = sftp(|p| {
            let file: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
            p.version();
            while let Some((id, r)) = p.request() {
                let reply = match r {
                    Request::Open { .. } => Response::Handle {
                        id,
                        handle: b"h".to_vec(),
                    },
                    Request::Fstat { .. } | Request::Stat { .. } => Response::Attrs {
                        id,
                        attrs: attrs(file.len() as u64),
                    },
                    Request::Read { offset, len, .. } => {
                        let at = offset as usize;
                        if at >= file.len() {
                            Response::status(id, StatusCode::Eof)
                        } else {
                            let end = file.len().min(at + (len as usize).min(1000));
                            Response::Data {
                                id,
                                data: file[at..end].to_vec(),
                            }
                        }
                    }
                    _ => Response::status(id, StatusCode::Ok),
                };
                p.send(&reply);
            }
        });
        let want: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert!(sftp.read("f").unwrap() == want, "read");
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("f");
        let opts = seashell_blocking::sftp::TransferOptions::new();
        assert_eq!(sftp.get("f", &local, &opts).unwrap().bytes, 100_000);
        assert!(std::fs::read(&local).unwrap() == want, "get");
    });
}

/// A call cancelled while its request is unanswered: the late reply is discarded and the
/// session goes on (tokio, where a call can be dropped).
#[test]
fn a_cancelled_call_is_abandoned() {
    with_timeout(LIMIT, "hostile/cancel", || {
        let (addr, config) = serve(|p| {
            p.version();
            let (first, r1) = p.request().unwrap();
            let (second, r2) = p.request().unwrap();
            p.send(&Response::Attrs {
                id: second,
                attrs: attrs(stat_size(&r2)),
            });
            // The late answer to the cancelled call.
            p.send(&Response::Attrs {
                id: first,
                attrs: attrs(stat_size(&r1)),
            });
            while let Some((id, r)) = p.request() {
                p.send(&Response::Attrs {
                    id,
                    attrs: attrs(stat_size(&r)),
                });
            }
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let session = seashell_tokio::Client::connect(&addr, config)
                .await
                .unwrap();
            let sftp = session.sftp().await.unwrap();
            let r = tokio::time::timeout(Duration::from_millis(100), sftp.metadata("a")).await;
            assert!(r.is_err(), "the first call must time out");
            assert_eq!(sftp.metadata("bb").await.unwrap().len(), 2);
            assert_eq!(sftp.metadata("ccc").await.unwrap().len(), 3);
            assert_eq!(sftp.metadata("dddd").await.unwrap().len(), 4);
        });
    });
}

/// A directory listing without end: `list_dir` stops at its bound with an error instead of
/// growing without limit (`read_dir` would stream on).
#[test]
fn an_endless_listing_is_bounded() {
    with_timeout(LIMIT, "hostile/endless_listing", || {
        let (_s, sftp) = sftp(|p| {
            p.version();
            let mut n = 0u64;
            while let Some((id, r)) = p.request() {
                let reply = match r {
                    Request::OpenDir { .. } => Response::Handle {
                        id,
                        handle: b"d".to_vec(),
                    },
                    Request::ReadDir { .. } => Response::Name {
                        id,
                        entries: (0..5000)
                            .map(|_| {
                                n += 1;
                                seashell_sftp::NameEntry {
                                    filename: n.to_string().into_bytes(),
                                    ..Default::default()
                                }
                            })
                            .collect(),
                    },
                    _ => Response::status(id, StatusCode::Ok),
                };
                p.send(&reply);
            }
        });
        let e = sftp.list_dir("/endless").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::OutOfMemory, "{e}");
        // The session is still usable for streaming.
        let first: Vec<_> = sftp.read_dir("/endless").unwrap().take(10).collect();
        assert_eq!(first.len(), 10);
    });
}

/// Whether the script of `a_cancelled_open_closes_its_handle` saw the CLOSE.
static CLOSED_ORPHAN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// An OPEN cancelled before its answer: the handle that comes later is closed, so cancelled
/// opens cannot fill the server's handle table.
#[test]
fn a_cancelled_open_closes_its_handle() {
    with_timeout(LIMIT, "hostile/cancel_open", || {
        let (addr, config) = serve(|p| {
            p.version();
            let (id, _) = p.request().unwrap();
            std::thread::sleep(Duration::from_millis(300));
            p.send(&Response::Handle {
                id,
                handle: b"orphan".to_vec(),
            });
            while let Some((id, r)) = p.request() {
                let reply = match r {
                    Request::Close { handle, .. } => {
                        if handle == b"orphan" {
                            CLOSED_ORPHAN.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                        Response::status(id, StatusCode::Ok)
                    }
                    r => Response::Attrs {
                        id,
                        attrs: attrs(stat_size(&r)),
                    },
                };
                p.send(&reply);
            }
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let session = seashell_tokio::Client::connect(&addr, config)
                .await
                .unwrap();
            let sftp = session.sftp().await.unwrap();
            let r = tokio::time::timeout(Duration::from_millis(50), sftp.open("x")).await;
            assert!(r.is_err(), "the open must time out");
            // Later calls move the late HANDLE in, and its CLOSE out.
            assert_eq!(sftp.metadata("yy").await.unwrap().len(), 2);
            tokio::time::sleep(Duration::from_millis(400)).await;
            assert_eq!(sftp.metadata("zzz").await.unwrap().len(), 3);
            assert_eq!(sftp.metadata("wwww").await.unwrap().len(), 4);
        });
        assert!(
            CLOSED_ORPHAN.load(std::sync::atomic::Ordering::SeqCst),
            "no CLOSE for the orphan"
        );
    });
}
