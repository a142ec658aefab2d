use super::*;

pub(super) fn pkt(n: u8, id: u32, body: impl FnOnce(&mut Vec<u8>)) -> Bytes {
    let mut p = vec![n];
    wire::put_u32(&mut p, id);
    body(&mut p);
    Bytes::from(p)
}

fn confirmed(window: u32, max_packet: u32) -> (Channels, ChannelId, VecDeque<Event>) {
    let mut ch = Channels::new(1000, 100);
    let (id, open) = ch.open(ChannelKind::Session).unwrap();
    assert_eq!(open[0], msg::CHANNEL_OPEN);
    let mut ev = VecDeque::new();
    let mut rep = Vec::new();
    let conf = pkt(msg::CHANNEL_OPEN_CONFIRMATION, id.0, |p| {
        wire::put_u32(p, 77);
        wire::put_u32(p, window);
        wire::put_u32(p, max_packet);
    });
    ch.on_message(&conf, &mut ev, &mut rep).unwrap();
    assert!(matches!(ev.pop_front(), Some(Event::ChannelOpened(x)) if x == id));
    (ch, id, ev)
}

pub(super) fn data(id: ChannelId, bytes: &[u8]) -> Bytes {
    pkt(msg::CHANNEL_DATA, id.0, |p| wire::put_string(p, bytes))
}

#[test]
fn data_is_a_slice_and_window_is_enforced() {
    let (mut ch, id, mut ev) = confirmed(10, 10);
    let mut rep = Vec::new();
    for _ in 0..10 {
        ch.on_message(&data(id, &[1; 100]), &mut ev, &mut rep)
            .unwrap();
    }
    assert_eq!(ev.len(), 10);
    // Window (1000) is used up: one more byte is a violation.
    let e = ch
        .on_message(&data(id, &[1]), &mut ev, &mut rep)
        .unwrap_err();
    assert_eq!(e, PeerMisbehaved::WindowExceeded.into());
}

#[test]
fn consume_reopens_window_after_an_eighth() {
    let (mut ch, id, mut ev) = confirmed(10, 10);
    let mut rep = Vec::new();
    for _ in 0..10 {
        ch.on_message(&data(id, &[1; 100]), &mut ev, &mut rep)
            .unwrap();
    }
    assert!(ch.consume(id, 100).unwrap().is_none());
    let adj = ch
        .consume(id, 400)
        .unwrap()
        .expect("adjust after an eighth of the window");
    assert_eq!(adj[0], msg::CHANNEL_WINDOW_ADJUST);
    assert_eq!(u32::from_be_bytes(adj[5..9].try_into().unwrap()), 500);
    // Consuming more than was delivered cannot inflate the window.
    assert!(ch.consume(id, 1 << 30).unwrap().is_some());
    for _ in 0..10 {
        ch.on_message(&data(id, &[1; 100]), &mut ev, &mut rep)
            .unwrap();
    }
    assert!(ch.on_message(&data(id, &[1]), &mut ev, &mut rep).is_err());
}

#[test]
fn oversized_packet_and_unknown_channel() {
    let (mut ch, id, mut ev) = confirmed(10, 10);
    let mut rep = Vec::new();
    assert_eq!(
        ch.on_message(&data(id, &[1; 101]), &mut ev, &mut rep)
            .unwrap_err(),
        PeerMisbehaved::OversizedChannelPacket.into()
    );
    assert_eq!(
        ch.on_message(&data(ChannelId(9), &[1]), &mut ev, &mut rep)
            .unwrap_err(),
        PeerMisbehaved::UnknownChannel(9).into()
    );
}

#[test]
fn writes_respect_remote_window_and_max_packet() {
    let (mut ch, id, mut ev) = confirmed(25, 10);
    assert_eq!(ch.plan_write(id, 100).unwrap(), (77, 10));
    assert_eq!(ch.plan_write(id, 100).unwrap(), (77, 10));
    assert_eq!(ch.plan_write(id, 100).unwrap(), (77, 5));
    assert_eq!(ch.plan_write(id, 100).unwrap(), (77, 0));
    let mut rep = Vec::new();
    let adj = pkt(msg::CHANNEL_WINDOW_ADJUST, id.0, |p| wire::put_u32(p, 50));
    ch.on_message(&adj, &mut ev, &mut rep).unwrap();
    assert!(matches!(ev.pop_front(), Some(Event::Writable(x)) if x == id));
    let overflow = pkt(msg::CHANNEL_WINDOW_ADJUST, id.0, |p| {
        wire::put_u32(p, u32::MAX)
    });
    assert_eq!(
        ch.on_message(&overflow, &mut ev, &mut rep).unwrap_err(),
        PeerMisbehaved::WindowOverflow.into()
    );
}

#[test]
fn exit_status_eof_close_lifecycle() {
    let (mut ch, id, mut ev) = confirmed(10, 10);
    let mut rep = Vec::new();
    let req = ch
        .request(id, "exec", true, |p| wire::put_string(p, b"true"))
        .unwrap();
    assert_eq!(req[0], msg::CHANNEL_REQUEST);
    ch.on_message(&pkt(msg::CHANNEL_SUCCESS, id.0, |_| {}), &mut ev, &mut rep)
        .unwrap();
    // An unsolicited reply is a violation.
    assert!(
        ch.on_message(&pkt(msg::CHANNEL_SUCCESS, id.0, |_| {}), &mut ev, &mut rep)
            .is_err()
    );
    let (mut ch, id, mut ev) = confirmed(10, 10);
    let status = pkt(msg::CHANNEL_REQUEST, id.0, |p| {
        wire::put_string(p, b"exit-status");
        wire::put_bool(p, false);
        wire::put_u32(p, 3);
    });
    ch.on_message(&status, &mut ev, &mut rep).unwrap();
    ch.on_message(&pkt(msg::CHANNEL_EOF, id.0, |_| {}), &mut ev, &mut rep)
        .unwrap();
    assert_eq!(
        ch.on_message(&data(id, &[1]), &mut ev, &mut rep)
            .unwrap_err(),
        PeerMisbehaved::DataAfterEof.into()
    );
    ch.on_message(&pkt(msg::CHANNEL_CLOSE, id.0, |_| {}), &mut ev, &mut rep)
        .unwrap();
    assert_eq!(rep.len(), 1, "CLOSE answered with CLOSE exactly once");
    assert!(matches!(
        ev.pop_front(),
        Some(Event::ExitStatus { status: 3, .. })
    ));
    assert!(matches!(ev.pop_front(), Some(Event::Eof(_))));
    assert!(matches!(ev.pop_front(), Some(Event::Closed(_))));
    assert!(ch.is_empty());
}

#[test]
fn unknown_request_with_reply_gets_failure() {
    let (mut ch, id, mut ev) = confirmed(10, 10);
    let mut rep = Vec::new();
    let ka = pkt(msg::CHANNEL_REQUEST, id.0, |p| {
        wire::put_string(p, b"keepalive@openssh.com");
        wire::put_bool(p, true);
    });
    ch.on_message(&ka, &mut ev, &mut rep).unwrap();
    assert_eq!(rep, vec![vec![msg::CHANNEL_FAILURE, 0, 0, 0, 77]]);
}

#[test]
fn trailing_bytes_rejected() {
    let (mut ch, id, mut ev) = confirmed(10, 10);
    let mut rep = Vec::new();
    let adj = pkt(msg::CHANNEL_WINDOW_ADJUST, id.0, |p| {
        wire::put_u32(p, 5);
        p.push(0);
    });
    assert!(ch.on_message(&adj, &mut ev, &mut rep).is_err());
}

#[test]
fn zero_maximum_packet_is_refused() {
    let mut ch = Channels::new(1000, 100);
    let (id, _) = ch.open(ChannelKind::Session).unwrap();
    let conf = pkt(msg::CHANNEL_OPEN_CONFIRMATION, id.0, |p| {
        wire::put_u32(p, 77);
        wire::put_u32(p, 1000);
        wire::put_u32(p, 0);
    });
    let (mut ev, mut rep) = (VecDeque::new(), Vec::new());
    assert!(matches!(
        ch.on_message(&conf, &mut ev, &mut rep),
        Err(Error::InvalidMessage(_))
    ));
    assert!(ev.is_empty());
}

#[test]
fn requests_on_non_session_channels_are_refused() {
    let mut ch = Channels::new(1000, 100);
    let (id, _) = ch
        .open(ChannelKind::DirectTcpip {
            host: "h".into(),
            port: 1,
            originator: "o".into(),
            originator_port: 2,
        })
        .unwrap();
    let (mut ev, mut rep) = (VecDeque::new(), Vec::new());
    let conf = pkt(msg::CHANNEL_OPEN_CONFIRMATION, id.0, |p| {
        wire::put_u32(p, 5);
        wire::put_u32(p, 1000);
        wire::put_u32(p, 100);
    });
    ch.on_message(&conf, &mut ev, &mut rep).unwrap();
    ev.clear();
    let req = pkt(msg::CHANNEL_REQUEST, id.0, |p| {
        wire::put_string(p, b"exit-status");
        wire::put_bool(p, true);
        wire::put_u32(p, 0);
    });
    ch.on_message(&req, &mut ev, &mut rep).unwrap();
    assert!(ev.is_empty(), "no exit status on a TCP channel");
    assert_eq!(rep, vec![vec![msg::CHANNEL_FAILURE, 0, 0, 0, 5]]);
}

#[test]
fn close_waits_for_the_replies_owed() {
    let mut ch = Channels::new(1000, 100);
    let incoming = IncomingChannel {
        ticket: Ticket::new(),
        kind: ChannelKind::Session,
        remote_id: 9,
        window: 1000,
        max_packet: 100,
    };
    let (id, _) = ch.accept(incoming).unwrap();
    let (mut ev, mut rep) = (VecDeque::new(), Vec::new());
    let exec = pkt(msg::CHANNEL_REQUEST, id.0, |p| {
        wire::put_string(p, b"exec");
        wire::put_bool(p, true);
        wire::put_string(p, b"true");
    });
    ch.on_message(&exec, &mut ev, &mut rep).unwrap();
    let Some(Event::ChannelRequest(req)) = ev.pop_front() else {
        panic!("a request to decide");
    };
    // The command ran and ended before the application answered: no CLOSE yet.
    assert_eq!(ch.close(id).unwrap(), None);
    let out = ch.reply(id, req.ticket.serial(), true).unwrap();
    assert_eq!(
        out,
        vec![
            vec![msg::CHANNEL_SUCCESS, 0, 0, 0, 9],
            vec![msg::CHANNEL_CLOSE, 0, 0, 0, 9]
        ]
    );
    assert_eq!(ch.close(id).unwrap(), None, "once");
}
