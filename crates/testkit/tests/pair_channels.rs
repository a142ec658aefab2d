//! Session channels end to end, our client core against our server core in memory: every
//! session request decoded on the server, replies in request order, exit status and signal,
//! MaxSessions, window back-pressure in both directions, and large transfers under random
//! chunking and latency.

use seashell_proto::{
    AuthMethod, Channel, ChannelId, ClientConfig, ClientConnection, Event, ServerConfig,
    ServerConnection, SessionRequest, SessionRequestKind,
};
use seashell_testkit::pair::{accept_auth, test_host_key, test_user_key};
use seashell_testkit::{Chunking, Pair};
use std::time::Duration;

const MIB: usize = 1024 * 1024;
const WINDOW: usize = 2 * MIB;

/// An authenticated pair with one open session: (client channel, server channel).
fn session(pair: &mut Pair) -> (ChannelId, ChannelId) {
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    let (client_id, server_id) = pair.open_session_channel();
    assert!(pair.client.channel(client_id).is_some());
    (client_id, server_id)
}

/// Deterministic bytes with no short period.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes what the window allows; returns how much was written.
fn write_some(ch: &mut Channel<'_>, data: &[u8], sent: &mut usize) -> usize {
    let before = *sent;
    while *sent < data.len() {
        let n = ch.write(&data[*sent..]).unwrap();
        if n == 0 {
            break;
        }
        *sent += n;
    }
    *sent - before
}

#[test]
fn every_session_request_reaches_the_server_decoded() {
    let mut pair = Pair::default_pair();
    let (cid, sid) = session(&mut pair);
    {
        let mut ch = pair.client.channel(cid).unwrap();
        ch.request_pty("xterm-256color", 120, 40).unwrap();
        ch.env("LANG", "C.UTF-8").unwrap();
        ch.exec(b"ls -l /tmp").unwrap();
        ch.shell().unwrap();
        ch.subsystem("sftp").unwrap();
        ch.window_change(132, 50).unwrap();
        ch.signal("INT").unwrap();
    }
    // The server says yes to pty-req and shell, no to exec and subsystem.
    let mut seen = Vec::new();
    let mut client = Vec::new();
    pair.run(
        Duration::from_secs(1),
        |_, ev| client.push(format!("{ev:?}")),
        |s, ev| {
            let Event::ChannelRequest(r) = ev else { return };
            assert_eq!(r.channel(), sid);
            let ok = !matches!(
                r.kind(),
                SessionRequestKind::Exec(_) | SessionRequestKind::Subsystem(_)
            );
            seen.push((r.kind().clone(), r.want_reply()));
            s.reply_request(r, ok).unwrap();
        },
    );
    let expected = vec![
        (
            SessionRequestKind::Pty {
                term: "xterm-256color".into(),
                cols: 120,
                rows: 40,
                width_px: 0,
                height_px: 0,
                modes: vec![0],
            },
            true,
        ),
        (
            SessionRequestKind::Env {
                name: "LANG".into(),
                value: "C.UTF-8".into(),
            },
            false,
        ),
        (SessionRequestKind::Exec(b"ls -l /tmp".to_vec()), true),
        (SessionRequestKind::Shell, true),
        (SessionRequestKind::Subsystem("sftp".into()), true),
        (
            SessionRequestKind::WindowChange {
                cols: 132,
                rows: 50,
                width_px: 0,
                height_px: 0,
            },
            false,
        ),
        (SessionRequestKind::Signal("INT".into()), false),
    ];
    assert_eq!(seen, expected);
    assert_eq!(
        client,
        [
            format!("RequestSucceeded({cid:?})"),
            format!("RequestFailed({cid:?})"),
            format!("RequestSucceeded({cid:?})"),
            format!("RequestFailed({cid:?})"),
        ]
    );
}

#[test]
fn replies_answered_out_of_order_leave_in_request_order() {
    let mut pair = Pair::default_pair();
    let (cid, _) = session(&mut pair);
    {
        let mut ch = pair.client.channel(cid).unwrap();
        ch.request_pty("vt100", 80, 24).unwrap(); // answered yes
        ch.exec(b"true").unwrap(); // answered no
        ch.subsystem("sftp").unwrap(); // answered yes
    }
    let mut held: Vec<SessionRequest> = Vec::new();
    pair.run(
        Duration::from_secs(1),
        |_, ev| panic!("nothing before the answers: {ev:?}"),
        |_, ev| {
            if let Event::ChannelRequest(r) = ev {
                held.push(r);
            }
        },
    );
    assert_eq!(held.len(), 3);
    let third = held.pop().unwrap();
    let second = held.pop().unwrap();
    let first = held.pop().unwrap();
    pair.server.reply_request(third, true).unwrap();
    assert!(
        !pair.server.wants_write(),
        "third reply must wait for the first"
    );
    pair.server.reply_request(second, false).unwrap();
    assert!(!pair.server.wants_write());
    pair.server.reply_request(first, true).unwrap();
    assert!(pair.server.wants_write());
    let mut client = Vec::new();
    pair.run(
        Duration::from_secs(1),
        |_, ev| client.push(format!("{ev:?}")),
        |_, _| {},
    );
    assert_eq!(
        client,
        [
            format!("RequestSucceeded({cid:?})"),
            format!("RequestFailed({cid:?})"),
            format!("RequestSucceeded({cid:?})"),
        ]
    );
}

/// A request token belongs to its connection: answering another connection's token is an
/// `ApiMisuse` that changes nothing, and the right token still works afterwards.
#[test]
fn a_request_token_from_another_connection_is_refused() {
    let (mut one, mut two) = (Pair::default_pair(), Pair::default_pair());
    let mut tokens = Vec::new();
    for pair in [&mut one, &mut two] {
        let (cid, _) = session(pair);
        pair.client.channel(cid).unwrap().exec(b"true").unwrap();
        let mut held = None;
        pair.run(
            Duration::from_secs(1),
            |_, _| {},
            |_, ev| {
                if let Event::ChannelRequest(r) = ev {
                    held = Some(r);
                }
            },
        );
        tokens.push(held.unwrap());
    }
    let theirs = tokens.pop().unwrap();
    let mine = tokens.pop().unwrap();
    assert_eq!(
        mine.channel(),
        theirs.channel(),
        "same channel number on both"
    );
    assert!(matches!(
        one.server.reply_request(theirs, false),
        Err(seashell_proto::Error::ApiMisuse(_))
    ));
    assert!(!one.server.is_closed() && !one.server.wants_write());
    one.server.reply_request(mine, true).unwrap();
    let mut client = Vec::new();
    one.run(
        Duration::from_secs(1),
        |_, ev| client.push(format!("{ev:?}")),
        |_, _| {},
    );
    assert_eq!(client, ["RequestSucceeded(ChannelId(0))"]);
}

#[test]
fn a_channel_open_token_from_another_connection_is_refused() {
    let (mut one, mut two) = (Pair::default_pair(), Pair::default_pair());
    let mut held = Vec::new();
    for pair in [&mut one, &mut two] {
        pair.connect(seashell_proto::AuthMethod::PublicKey(test_user_key(3)));
        pair.client.open_session().unwrap();
        let mut token = None;
        pair.run(
            Duration::from_secs(1),
            |_, _| {},
            |_, ev| {
                if let Event::ChannelOpenRequest(c) = ev {
                    token = Some(c);
                }
            },
        );
        held.push(token.unwrap());
    }
    let theirs = held.pop().unwrap();
    let mine = held.pop().unwrap();
    assert!(matches!(
        one.server.accept_channel(theirs),
        Err(seashell_proto::Error::ApiMisuse(_))
    ));
    assert!(
        !one.server.is_closed() && !one.server.wants_write(),
        "no confirmation was sent"
    );
    one.server.accept_channel(mine).unwrap();
    let mut client = Vec::new();
    one.run(
        Duration::from_secs(1),
        |_, ev| client.push(format!("{ev:?}")),
        |_, _| {},
    );
    assert_eq!(client, ["ChannelOpened(ChannelId(0))"]);
}

#[test]
fn exit_status_and_exit_signal_reach_the_client() {
    let mut pair = Pair::default_pair();
    let (c1, s1) = session(&mut pair);
    let c2 = pair.client.open_session().unwrap();
    let mut s2 = None;
    pair.run(
        Duration::from_secs(1),
        |_, _| {},
        |s, ev| {
            if let Event::ChannelOpenRequest(c) = ev {
                s2 = Some(s.accept_channel(c).unwrap());
            }
        },
    );
    let s2 = s2.unwrap();
    {
        let mut ch = pair.server.channel(s1).unwrap();
        ch.exit_status(42).unwrap();
        ch.eof().unwrap();
        ch.close().unwrap();
    }
    {
        let mut ch = pair.server.channel(s2).unwrap();
        ch.exit_signal("TERM", false, "terminated by admin")
            .unwrap();
        ch.close().unwrap();
    }
    let mut client = Vec::new();
    pair.run(
        Duration::from_secs(1),
        |_, ev| client.push(format!("{ev:?}")),
        |_, _| {},
    );
    let want = [
        format!("ExitStatus {{ id: {c1:?}, status: 42 }}"),
        format!("Eof({c1:?})"),
        format!("Closed({c1:?})"),
        format!(
            "ExitSignal {{ id: {c2:?}, signal: \"TERM\", core_dumped: false, message: \"terminated by admin\" }}"
        ),
        format!("Closed({c2:?})"),
    ];
    assert_eq!(client, want);
}

#[test]
fn the_eleventh_concurrent_session_is_refused() {
    let mut pair = Pair::default_pair();
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    let ids: Vec<ChannelId> = (0..11)
        .map(|_| pair.client.open_session().unwrap())
        .collect();
    let mut client = Vec::new();
    let mut opens = 0;
    pair.run(
        Duration::from_secs(1),
        |_, ev| client.push(ev),
        |s, ev| {
            if matches!(ev, Event::ChannelOpenRequest(_)) {
                opens += 1;
            }
            accept_auth(s, ev);
        },
    );
    assert_eq!(opens, 10, "the 11th never reaches the application");
    let opened = client
        .iter()
        .filter(|e| matches!(e, Event::ChannelOpened(_)))
        .count();
    assert_eq!(opened, 10);
    let failed: Vec<_> = client
        .iter()
        .filter_map(|e| match e {
            Event::ChannelOpenFailed { id, reason, .. } => Some((*id, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(failed, [(ids[10], 1)]);
    // Closing one makes room for another.
    pair.client.channel(ids[0]).unwrap().close().unwrap();
    pair.run(Duration::from_secs(1), |_, _| {}, accept_auth);
    let again = pair.client.open_session().unwrap();
    let mut ok = false;
    pair.run(
        Duration::from_secs(1),
        |_, ev| ok |= matches!(ev, Event::ChannelOpened(id) if id == again),
        accept_auth,
    );
    assert!(ok);
}

/// One direction of the back-pressure test: `writer_is_server` picks who writes 8 MiB.
fn back_pressure(writer_is_server: bool) {
    let mut pair = Pair::default_pair();
    let (cid, sid) = session(&mut pair);
    let data = pattern(8 * MIB, 11);
    let mut sent = 0;
    let mut got: Vec<u8> = Vec::new();
    let mut writable = 0;
    macro_rules! writer {
        ($pair:expr) => {
            if writer_is_server {
                $pair.server.channel(sid).unwrap()
            } else {
                $pair.client.channel(cid).unwrap()
            }
        };
    }
    // Phase 1: the reader never consumes. Writing stops at the reader's 2 MiB window.
    assert_eq!(write_some(&mut writer!(pair), &data, &mut sent), WINDOW);
    assert_eq!(writer!(pair).write(&data[sent..]).unwrap(), 0);
    {
        let mut on_event = |ev: Event| match ev {
            Event::Data { data, .. } => got.extend_from_slice(&data),
            Event::Writable(_) => writable += 1,
            _ => {}
        };
        if writer_is_server {
            pair.run(Duration::from_secs(5), |_, ev| on_event(ev), |_, _| {});
        } else {
            pair.run(Duration::from_secs(5), |_, _| {}, |_, ev| on_event(ev));
        }
    }
    assert_eq!(got.len(), WINDOW);
    assert_eq!(writable, 0);
    assert_eq!(
        writer!(pair).write(&data[sent..]).unwrap(),
        0,
        "still stalled"
    );

    // Phase 2: the reader consumes everything; the writer continues on each Writable.
    let mut consumed_all = false;
    for _ in 0..1000 {
        if got.len() == data.len() {
            break;
        }
        if !consumed_all {
            // What arrived in phase 1 is consumed now.
            consumed_all = true;
            let mut reader = if writer_is_server {
                pair.client.channel(cid).unwrap()
            } else {
                pair.server.channel(sid).unwrap()
            };
            reader.consume(WINDOW).unwrap();
        }
        let mut reader_ev = |ev: Event, ch: Option<Channel<'_>>| {
            if let Event::Data { data, .. } = ev {
                got.extend_from_slice(&data);
                ch.unwrap().consume(data.len()).unwrap();
            }
        };
        let mut writer_ev = |ev: Event, ch: Option<Channel<'_>>| {
            if let Event::Writable(_) = ev {
                writable += 1;
                write_some(&mut ch.unwrap(), &data, &mut sent);
            }
        };
        if writer_is_server {
            pair.run(
                Duration::from_secs(5),
                |c: &mut ClientConnection, ev| reader_ev(ev, c.channel(cid)),
                |s: &mut ServerConnection, ev| writer_ev(ev, s.channel(sid)),
            );
        } else {
            pair.run(
                Duration::from_secs(5),
                |c: &mut ClientConnection, ev| writer_ev(ev, c.channel(cid)),
                |s: &mut ServerConnection, ev| reader_ev(ev, s.channel(sid)),
            );
        }
        assert!(pair.client_error.is_none() && pair.server_error.is_none());
    }
    assert!(writable > 0);
    assert_eq!(sent, data.len());
    assert_eq!(got.len(), data.len());
    assert!(got == data, "bytes differ");
}

#[test]
fn window_back_pressure_server_to_client() {
    back_pressure(true);
}

#[test]
fn window_back_pressure_client_to_server() {
    back_pressure(false);
}

#[test]
fn large_transfer_both_ways_with_random_chunking_and_latency() {
    let mut pair = Pair::default_pair();
    pair.chunking = Chunking::Random {
        seed: 7,
        max: 48 * 1024,
    };
    pair.latency = Duration::from_millis(3);
    let (cid, sid) = session(&mut pair);
    let up = pattern(4 * MIB, 21);
    let down = pattern(4 * MIB, 22);
    let (mut up_sent, mut down_sent) = (0, 0);
    let (mut up_got, mut down_got) = (Vec::new(), Vec::new());
    write_some(&mut pair.client.channel(cid).unwrap(), &up, &mut up_sent);
    write_some(
        &mut pair.server.channel(sid).unwrap(),
        &down,
        &mut down_sent,
    );
    pair.run(
        Duration::from_secs(60),
        |c, ev| match ev {
            Event::Data { data, .. } => {
                down_got.extend_from_slice(&data);
                c.channel(cid).unwrap().consume(data.len()).unwrap();
            }
            Event::Writable(_) => {
                write_some(&mut c.channel(cid).unwrap(), &up, &mut up_sent);
            }
            other => panic!("client: {other:?}"),
        },
        |s, ev| match ev {
            Event::Data { data, .. } => {
                up_got.extend_from_slice(&data);
                s.channel(sid).unwrap().consume(data.len()).unwrap();
            }
            Event::Writable(_) => {
                write_some(&mut s.channel(sid).unwrap(), &down, &mut down_sent);
            }
            other => panic!("server: {other:?}"),
        },
    );
    assert!(pair.client_error.is_none() && pair.server_error.is_none());
    assert_eq!((up_got.len(), down_got.len()), (up.len(), down.len()));
    assert!(up_got == up && down_got == down, "bytes differ");
}

/// A small rekey limit on either side while data streams both ways: every byte arrives, and
/// the limit is honoured packet by packet, not once per (window-sized) write call.
#[test]
fn small_rekey_limit_rekeys_during_transfer_without_data_loss() {
    for (client_limit, server_limit) in [(150_000, 1 << 30), (1 << 30, 150_000), (16, 100_000)] {
        let mut client = ClientConfig::new("alice");
        client.rekey_bytes = client_limit;
        let mut server = ServerConfig::new(vec![test_host_key()]);
        server.rekey_bytes = server_limit;
        let mut pair = Pair::new(client, server);
        pair.chunking = Chunking::Random {
            seed: 3,
            max: 40_000,
        };
        pair.latency = Duration::from_millis(2);
        let (cid, sid) = session(&mut pair);
        let up = pattern(3 * MIB, 31);
        let down = pattern(3 * MIB, 32);
        let (mut up_sent, mut down_sent) = (0, 0);
        let (mut up_got, mut down_got) = (Vec::new(), Vec::new());
        let mut writes_up = write_some(&mut pair.client.channel(cid).unwrap(), &up, &mut up_sent);
        write_some(
            &mut pair.server.channel(sid).unwrap(),
            &down,
            &mut down_sent,
        );
        pair.run(
            Duration::from_secs(60),
            |c, ev| match ev {
                Event::Data { data, .. } => {
                    down_got.extend_from_slice(&data);
                    c.channel(cid).unwrap().consume(data.len()).unwrap();
                }
                Event::Writable(_) => {
                    writes_up += write_some(&mut c.channel(cid).unwrap(), &up, &mut up_sent);
                }
                other => panic!("client: {other:?}"),
            },
            |s, ev| match ev {
                Event::Data { data, .. } => {
                    up_got.extend_from_slice(&data);
                    s.channel(sid).unwrap().consume(data.len()).unwrap();
                }
                Event::Writable(_) => {
                    write_some(&mut s.channel(sid).unwrap(), &down, &mut down_sent);
                }
                other => panic!("server: {other:?}"),
            },
        );
        assert!(pair.client_error.is_none() && pair.server_error.is_none());
        assert!(up_got == up && down_got == down, "bytes differ");
        assert_eq!(writes_up, up.len());
        // 3 MiB each way at a limit of at most 150 kB: one exchange per limit's worth of
        // traffic at least on the limited side's writes (a window per write call before).
        let kex = pair.client.key_exchanges();
        assert_eq!(kex, pair.server.key_exchanges());
        assert!(
            kex >= 15,
            "{client_limit}/{server_limit}: only {kex} key exchanges"
        );
    }
}

/// A channel nobody reads for 10 s of virtual time holds at most one window of data, while a
/// second channel on the same connection streams to the end; reading the first afterwards
/// gets every byte.
#[test]
fn a_slow_reader_holds_one_window_and_stalls_nothing_else() {
    let mut pair = Pair::default_pair();
    pair.latency = Duration::from_millis(5);
    let (slow_c, slow_s) = session(&mut pair);
    let fast_c = pair.client.open_session().unwrap();
    let mut fast_s = None;
    pair.run(
        Duration::from_secs(1),
        |_, _| {},
        |s, ev| {
            if let Event::ChannelOpenRequest(c) = ev {
                fast_s = Some(s.accept_channel(c).unwrap());
            }
        },
    );
    let fast_s = fast_s.unwrap();
    let (slow_data, fast_data) = (pattern(8 * MIB, 11), pattern(6 * MIB, 12));
    let (mut slow_sent, mut fast_sent) = (0, 0);
    let (mut slow_held, mut fast_got) = (Vec::new(), Vec::new());
    let start = pair.now();
    // Phase 1: 10 s of virtual time; the client consumes only the fast channel.
    while pair.now() < start + Duration::from_secs(10) {
        write_some(
            &mut pair.server.channel(slow_s).unwrap(),
            &slow_data,
            &mut slow_sent,
        );
        write_some(
            &mut pair.server.channel(fast_s).unwrap(),
            &fast_data,
            &mut fast_sent,
        );
        pair.run(
            Duration::from_millis(50),
            |c, ev| match ev {
                Event::Data { id, data } if id == fast_c => {
                    c.channel(id).unwrap().consume(data.len()).unwrap();
                    fast_got.extend_from_slice(&data);
                }
                Event::Data { id, data } if id == slow_c => slow_held.extend_from_slice(&data),
                _ => {}
            },
            |_, _| {},
        );
        pair.advance(Duration::from_millis(100));
    }
    assert_eq!(fast_got, fast_data, "the other channel streamed to the end");
    assert_eq!(
        slow_held.len(),
        WINDOW,
        "the unread channel holds exactly one window"
    );
    assert_eq!(
        slow_sent, WINDOW,
        "the server could send no more than the window"
    );
    // Phase 2: read the slow channel; everything arrives.
    let mut consumed_upto = 0;
    for _ in 0..10_000 {
        if slow_held.len() == slow_data.len() {
            break;
        }
        if slow_held.len() > consumed_upto {
            pair.client
                .channel(slow_c)
                .unwrap()
                .consume(slow_held.len() - consumed_upto)
                .unwrap();
            consumed_upto = slow_held.len();
        }
        write_some(
            &mut pair.server.channel(slow_s).unwrap(),
            &slow_data,
            &mut slow_sent,
        );
        pair.run(
            Duration::from_millis(50),
            |_, ev| {
                if let Event::Data { id, data } = ev
                    && id == slow_c
                {
                    slow_held.extend_from_slice(&data);
                }
            },
            |_, _| {},
        );
    }
    assert_eq!(slow_held, slow_data);
}

/// Rekeying by time fires on virtual time, from either side, and data keeps flowing.
#[test]
fn time_based_rekey_fires_on_virtual_time() {
    for client_side in [true, false] {
        let mut client = ClientConfig::new("alice");
        client.handshake_timeout = Duration::from_secs(3600);
        let mut server = ServerConfig::new(vec![test_host_key()]);
        if client_side {
            client.rekey_interval = Some(Duration::from_secs(60));
        } else {
            server.rekey_interval = Some(Duration::from_secs(60));
        }
        let mut pair = Pair::new(client, server);
        let (cid, sid) = session(&mut pair);
        assert_eq!(pair.client.key_exchanges(), 1);
        pair.run(Duration::from_secs(59), |_, _| {}, |_, _| {});
        assert_eq!(pair.client.key_exchanges(), 1, "not before the interval");
        pair.run(Duration::from_secs(130), |_, _| {}, |_, _| {});
        assert!(
            pair.client.key_exchanges() >= 3,
            "client side {client_side}: {}",
            pair.client.key_exchanges()
        );
        assert_eq!(pair.server.key_exchanges(), pair.client.key_exchanges());
        pair.server
            .channel(sid)
            .unwrap()
            .write(b"after rekeys")
            .unwrap();
        let mut got = Vec::new();
        pair.run(
            Duration::from_secs(1),
            |_, ev| {
                if let Event::Data { id, data } = ev
                    && id == cid
                {
                    got.extend_from_slice(&data);
                }
            },
            |_, _| {},
        );
        assert_eq!(got, b"after rekeys");
    }
}
