//! Every channel kind and global request, both directions, our client core against our server
//! core in memory: answered at once and answered late, replies in arrival order, the core's
//! own refusals (a forwarded connection for a port never granted, kinds the direction does
//! not allow, X11 and agent channels nobody asked for), dropped tokens, keepalive on virtual
//! time, and host-key announcements with proofs.

use seashell_proto::{
    AuthMethod, ChannelId, ChannelKind, ClientConfig, Error, Event, GlobalReply, GlobalRequestId,
    GlobalRequestKind, IncomingChannel, IncomingGlobalRequest, OpenFailure, PrivateKey,
    ServerConfig,
};
use seashell_testkit::Pair;
use seashell_testkit::pair::{test_host_key, test_user_key};
use std::sync::Arc;
use std::time::Duration;

fn connected() -> Pair {
    let mut pair = Pair::default_pair();
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    pair
}

fn direct_tcpip() -> ChannelKind {
    ChannelKind::DirectTcpip {
        host: "intranet.example".into(),
        port: 80,
        originator: "127.0.0.1".into(),
        originator_port: 50000,
    }
}

fn forwarded_tcpip(port: u32) -> ChannelKind {
    ChannelKind::ForwardedTcpip {
        address: "localhost".into(),
        port,
        originator: "10.1.2.3".into(),
        originator_port: 41000,
    }
}

/// Runs until quiet, collecting the open requests each side receives (unanswered).
fn collect_opens(pair: &mut Pair) -> (Vec<IncomingChannel>, Vec<IncomingChannel>, Vec<Event>) {
    let (mut at_client, mut at_server, mut other) = (Vec::new(), Vec::new(), Vec::new());
    let mut client_events = Vec::new();
    let mut server_events = Vec::new();
    pair.run(
        Duration::from_secs(1),
        |_, ev| client_events.push(ev),
        |_, ev| server_events.push(ev),
    );
    for ev in client_events.into_iter().chain(server_events) {
        match ev {
            Event::ChannelOpenRequest(c)
                if c.kind().name().starts_with("forwarded")
                    || matches!(c.kind(), ChannelKind::X11 { .. } | ChannelKind::AuthAgent) =>
            {
                at_client.push(c)
            }
            Event::ChannelOpenRequest(c) => at_server.push(c),
            ev => other.push(ev),
        }
    }
    (at_client, at_server, other)
}

/// Runs until quiet and returns the events of both sides (client's first).
fn settle(pair: &mut Pair) -> (Vec<Event>, Vec<Event>) {
    let (mut c, mut s) = (Vec::new(), Vec::new());
    pair.run(
        Duration::from_secs(1),
        |_, ev| c.push(ev),
        |_, ev| s.push(ev),
    );
    (c, s)
}

/// The bytes of `Data` events on channel `to`.
fn data_on(events: &[Event], to: ChannelId) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Data { id, data } if *id == to => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Sends `data` on the client's channel `from` and checks it arrives on the server's `to`.
fn client_to_server(pair: &mut Pair, from: ChannelId, to: ChannelId, data: &[u8]) {
    assert_eq!(
        pair.client.channel(from).unwrap().write(data).unwrap(),
        data.len()
    );
    let (_, s) = settle(pair);
    assert_eq!(data_on(&s, to), data);
}

/// Sends `data` on the server's channel `from` and checks it arrives on the client's `to`.
fn server_to_client(pair: &mut Pair, from: ChannelId, to: ChannelId, data: &[u8]) {
    assert_eq!(
        pair.server.channel(from).unwrap().write(data).unwrap(),
        data.len()
    );
    let (c, _) = settle(pair);
    assert_eq!(data_on(&c, to), data);
}

#[test]
fn direct_tcpip_answered_at_once_and_late() {
    let mut pair = connected();
    let early = pair.client.open_channel(direct_tcpip()).unwrap();
    let late = pair.client.open_channel(direct_tcpip()).unwrap();
    let (_, mut opens, _) = collect_opens(&mut pair);
    assert_eq!(opens.len(), 2);
    assert_eq!(opens[0].kind(), &direct_tcpip());
    let second = opens.pop().unwrap();
    let first = opens.pop().unwrap();
    let s_early = pair.server.accept_channel(first).unwrap();
    let (c, _) = settle(&mut pair);
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::ChannelOpened(id) if *id == early))
    );
    // The second is answered after virtual time has passed and other traffic flowed.
    client_to_server(&mut pair, early, s_early, b"GET / HTTP/1.0\r\n\r\n");
    pair.advance(Duration::from_secs(30));
    let s_late = pair.server.accept_channel(second).unwrap();
    let (c, _) = settle(&mut pair);
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::ChannelOpened(id) if *id == late))
    );
    server_to_client(&mut pair, s_late, late, b"HTTP/1.0 200 OK\r\n");
    assert_eq!(pair.client.channel_kind(late), Some(&direct_tcpip()));
}

#[test]
fn direct_tcpip_refused_with_reason() {
    let mut pair = connected();
    let id = pair.client.open_channel(direct_tcpip()).unwrap();
    let (_, mut opens, _) = collect_opens(&mut pair);
    pair.server
        .reject_channel(
            opens.pop().unwrap(),
            OpenFailure::ConnectFailed,
            "connect refused",
        )
        .unwrap();
    let (c, _) = settle(&mut pair);
    assert!(c.iter().any(|e| matches!(e,
        Event::ChannelOpenFailed { id: x, reason: 2, description } if *x == id && description == "connect refused")));
    assert!(pair.client.channel(id).is_none());
}

/// Sends a global request from the client and returns the server's copy of it.
fn client_global(
    pair: &mut Pair,
    kind: GlobalRequestKind,
) -> (GlobalRequestId, IncomingGlobalRequest) {
    let id = pair
        .client
        .global_request(kind.clone(), true)
        .unwrap()
        .unwrap();
    let (_, s) = settle(pair);
    let req = s
        .into_iter()
        .find_map(|e| match e {
            Event::GlobalRequest(r) => Some(r),
            _ => None,
        })
        .expect("the server sees the request");
    assert_eq!(req.kind(), &kind);
    assert!(req.want_reply());
    (id, req)
}

#[test]
fn remote_forward_port_zero_replies_in_order_and_admits_only_granted_ports() {
    let mut pair = connected();
    let (id_a, req_a) = client_global(
        &mut pair,
        GlobalRequestKind::TcpipForward {
            address: "localhost".into(),
            port: 0,
        },
    );
    let (id_b, req_b) = client_global(
        &mut pair,
        GlobalRequestKind::TcpipForward {
            address: "".into(),
            port: 8022,
        },
    );
    // Answered out of order: the second first. Nothing may reach the client before the
    // first is answered.
    pair.server
        .reply_global(req_b, GlobalReply::Success)
        .unwrap();
    let (c, _) = settle(&mut pair);
    assert!(c.is_empty(), "{c:?}");
    pair.server
        .reply_global(req_a, GlobalReply::SuccessWithPort(40001))
        .unwrap();
    let (c, _) = settle(&mut pair);
    let answers: Vec<_> = c
        .iter()
        .filter_map(|e| match e {
            Event::GlobalRequestSucceeded { id, bound_port } => Some((*id, *bound_port)),
            _ => None,
        })
        .collect();
    assert_eq!(answers, vec![(id_a, Some(40001)), (id_b, None)]);

    // The server may now open forwarded-tcpip for the granted ports only.
    let granted = pair.server.open_channel(forwarded_tcpip(40001)).unwrap();
    let never = pair.server.open_channel(forwarded_tcpip(41)).unwrap();
    let (mut at_client, _, other) = collect_opens(&mut pair);
    assert_eq!(
        at_client.len(),
        1,
        "only the granted port reaches the application"
    );
    assert!(other.iter().any(|e| matches!(e,
        Event::ChannelOpenFailed { id, reason: 1, .. } if *id == never)));
    let c_id = pair
        .client
        .accept_channel(at_client.pop().unwrap())
        .unwrap();
    let (_, s) = settle(&mut pair);
    assert!(
        s.iter()
            .any(|e| matches!(e, Event::ChannelOpened(x) if *x == granted))
    );
    server_to_client(&mut pair, granted, c_id, b"SSH-2.0-inner\r\n");
    client_to_server(&mut pair, c_id, granted, b"reply");

    // Cancelled, the port is refused again.
    let (_, cancel) = client_global(
        &mut pair,
        GlobalRequestKind::CancelTcpipForward {
            address: "localhost".into(),
            port: 40001,
        },
    );
    pair.server
        .reply_global(cancel, GlobalReply::Success)
        .unwrap();
    settle(&mut pair);
    let after = pair.server.open_channel(forwarded_tcpip(40001)).unwrap();
    let (at_client, _, other) = collect_opens(&mut pair);
    assert!(at_client.is_empty());
    assert!(
        other
            .iter()
            .any(|e| matches!(e, Event::ChannelOpenFailed { id, .. } if *id == after))
    );
}

#[test]
fn refused_forward_leaves_no_listener() {
    let mut pair = connected();
    let (id, req) = client_global(
        &mut pair,
        GlobalRequestKind::TcpipForward {
            address: "".into(),
            port: 2222,
        },
    );
    pair.server.reply_global(req, GlobalReply::Failure).unwrap();
    let (c, _) = settle(&mut pair);
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::GlobalRequestFailed { id: x } if *x == id))
    );
    let never = pair.server.open_channel(forwarded_tcpip(2222)).unwrap();
    let (at_client, _, other) = collect_opens(&mut pair);
    assert!(at_client.is_empty());
    assert!(
        other
            .iter()
            .any(|e| matches!(e, Event::ChannelOpenFailed { id, .. } if *id == never))
    );
}

#[test]
fn streamlocal_both_ways() {
    let mut pair = connected();
    let path = "/run/user/1000/app.sock".to_string();
    let (_, req) = client_global(
        &mut pair,
        GlobalRequestKind::StreamlocalForward { path: path.clone() },
    );
    pair.server.reply_global(req, GlobalReply::Success).unwrap();
    settle(&mut pair);
    let s_id = pair
        .server
        .open_channel(ChannelKind::ForwardedStreamlocal { path: path.clone() })
        .unwrap();
    let stray = pair
        .server
        .open_channel(ChannelKind::ForwardedStreamlocal {
            path: "/etc/other.sock".into(),
        })
        .unwrap();
    let (mut at_client, _, other) = collect_opens(&mut pair);
    assert_eq!(at_client.len(), 1);
    assert!(
        other
            .iter()
            .any(|e| matches!(e, Event::ChannelOpenFailed { id, .. } if *id == stray))
    );
    let c_id = pair
        .client
        .accept_channel(at_client.pop().unwrap())
        .unwrap();
    settle(&mut pair);
    server_to_client(&mut pair, s_id, c_id, b"unix bytes");

    let kind = ChannelKind::DirectStreamlocal {
        path: "/var/run/docker.sock".into(),
    };
    let c2 = pair.client.open_channel(kind.clone()).unwrap();
    let (_, mut at_server, _) = collect_opens(&mut pair);
    assert_eq!(at_server.len(), 1);
    assert_eq!(at_server[0].kind(), &kind);
    let s2 = pair
        .server
        .accept_channel(at_server.pop().unwrap())
        .unwrap();
    settle(&mut pair);
    client_to_server(&mut pair, c2, s2, b"GET /containers/json");
}

#[test]
fn x11_and_agent_channels_only_after_the_request() {
    let mut pair = connected();
    let x11 = ChannelKind::X11 {
        originator: "127.0.0.1".into(),
        originator_port: 6010,
    };
    let unasked_x11 = pair.server.open_channel(x11.clone()).unwrap();
    let unasked_agent = pair.server.open_channel(ChannelKind::AuthAgent).unwrap();
    let (at_client, _, other) = collect_opens(&mut pair);
    assert!(at_client.is_empty());
    for id in [unasked_x11, unasked_agent] {
        assert!(
            other.iter().any(
                |e| matches!(e, Event::ChannelOpenFailed { id: x, reason: 1, .. } if *x == id)
            )
        );
    }
    // A session asks for both; the server decides each request.
    let session = pair.client.open_session().unwrap();
    let mut server_session = None;
    let mut requests = Vec::new();
    pair.run(
        Duration::from_secs(1),
        |_, _| {},
        |s, ev| match ev {
            Event::ChannelOpenRequest(c) => server_session = Some(s.accept_channel(c).unwrap()),
            Event::ChannelRequest(r) => requests.push(r),
            _ => {}
        },
    );
    {
        let mut ch = pair.client.channel(session).unwrap();
        ch.request_x11(false, "MIT-MAGIC-COOKIE-1", "0123abcd", 0)
            .unwrap();
        ch.request_agent_forwarding().unwrap();
    }
    pair.run(
        Duration::from_secs(1),
        |_, _| {},
        |_, ev| {
            if let Event::ChannelRequest(r) = ev {
                requests.push(r)
            }
        },
    );
    let kinds: Vec<_> = requests.iter().map(|r| r.kind().clone()).collect();
    assert!(
        matches!(&kinds[0], seashell_proto::SessionRequestKind::X11 { protocol, screen: 0, .. } if protocol == "MIT-MAGIC-COOKIE-1")
    );
    // The server advertises `agent-forward`: the client uses RFC 9987's name.
    assert_eq!(kinds[1], seashell_proto::SessionRequestKind::AgentReq);
    for r in requests {
        pair.server.reply_request(r, true).unwrap();
    }
    settle(&mut pair);
    assert!(server_session.is_some());
    pair.server.open_channel(x11.clone()).unwrap();
    pair.server.open_channel(ChannelKind::AuthAgent).unwrap();
    let (at_client, _, _) = collect_opens(&mut pair);
    assert_eq!(at_client.len(), 2);
    assert_eq!(at_client[0].kind(), &x11);
    assert_eq!(at_client[1].kind(), &ChannelKind::AuthAgent);
}

#[test]
fn each_role_may_open_only_its_kinds() {
    let mut pair = connected();
    assert!(matches!(
        pair.server.open_channel(ChannelKind::Session),
        Err(Error::ApiMisuse(_))
    ));
    assert!(matches!(
        pair.server.open_channel(direct_tcpip()),
        Err(Error::ApiMisuse(_))
    ));
    assert!(matches!(
        pair.client.open_channel(forwarded_tcpip(1)),
        Err(Error::ApiMisuse(_))
    ));
    // A type neither RFC defines is the application's to decide on a server, and refused by
    // a client.
    let other = ChannelKind::Other {
        name: "custom@example.org".into(),
        data: vec![1, 2, 3],
    };
    pair.client.open_channel(other.clone()).unwrap();
    let (_, at_server, _) = collect_opens(&mut pair);
    assert_eq!(at_server[0].kind(), &other);
    let refused = pair.server.open_channel(other).unwrap();
    let (at_client, _, evs) = collect_opens(&mut pair);
    assert!(at_client.is_empty());
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::ChannelOpenFailed { id, reason: 3, .. } if *id == refused))
    );
    assert!(pair.client_error.is_none() && pair.server_error.is_none());
}

#[test]
fn dropped_tokens_are_refused_to_the_peer() {
    let mut pair = connected();
    let id = pair.client.open_channel(direct_tcpip()).unwrap();
    let gid = pair
        .client
        .global_request(
            GlobalRequestKind::TcpipForward {
                address: "".into(),
                port: 9000,
            },
            true,
        )
        .unwrap()
        .unwrap();
    // The server's application drops every decision unanswered.
    let (_, s) = settle(&mut pair);
    assert_eq!(s.len(), 2, "{s:?}");
    drop(s);
    let (c, _) = settle(&mut pair);
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::ChannelOpenFailed { id: x, .. } if *x == id))
    );
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::GlobalRequestFailed { id } if *id == gid))
    );
    assert!(pair.client_error.is_none() && pair.server_error.is_none());
}

#[test]
fn global_requests_from_the_server_to_the_client() {
    let mut pair = connected();
    let other = GlobalRequestKind::Other {
        name: "example@example.org".into(),
        data: vec![7],
    };
    let id = pair
        .server
        .global_request(other.clone(), true)
        .unwrap()
        .unwrap();
    let (c, _) = settle(&mut pair);
    let req = c
        .into_iter()
        .find_map(|e| match e {
            Event::GlobalRequest(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(req.kind(), &other);
    pair.advance(Duration::from_secs(5));
    pair.client.reply_global(req, GlobalReply::Success).unwrap();
    let (_, s) = settle(&mut pair);
    assert!(s.iter().any(
        |e| matches!(e, Event::GlobalRequestSucceeded { id: x, bound_port: None } if *x == id)
    ));
    // tcpip-forward is a client's request: a client refuses it by itself.
    let id = pair
        .server
        .global_request(
            GlobalRequestKind::TcpipForward {
                address: "".into(),
                port: 1,
            },
            true,
        )
        .unwrap()
        .unwrap();
    let (c, s) = settle(&mut pair);
    assert!(!c.iter().any(|e| matches!(e, Event::GlobalRequest(_))));
    assert!(
        s.iter()
            .any(|e| matches!(e, Event::GlobalRequestFailed { id: x } if *x == id))
    );
}

#[test]
fn keepalive_requests_are_answered_by_the_core() {
    let mut pair = connected();
    let id = pair
        .client
        .global_request(GlobalRequestKind::Keepalive, true)
        .unwrap()
        .unwrap();
    let (c, s) = settle(&mut pair);
    assert!(s.is_empty(), "{s:?}");
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::GlobalRequestFailed { id: x } if *x == id))
    );
}

#[test]
fn a_flood_of_global_requests_is_bounded() {
    let mut pair = connected();
    // Each answered by nobody: the 65th unanswered want-reply request ends the connection.
    let mut held = Vec::new();
    for i in 0..70u32 {
        let _ = pair.client.global_request(
            GlobalRequestKind::TcpipForward {
                address: "".into(),
                port: 10_000 + i,
            },
            true,
        );
    }
    pair.run(
        Duration::from_secs(1),
        |_, _| {},
        |_, ev| {
            if let Event::GlobalRequest(r) = ev {
                held.push(r)
            }
        },
    );
    assert!(held.len() <= 64, "{}", held.len());
    assert!(
        matches!(
            pair.server_error,
            Some(Error::PeerMisbehaved(
                seashell_proto::error::PeerMisbehaved::TooManyPendingRequests
            ))
        ),
        "{:?}",
        pair.server_error
    );
}

#[test]
fn keepalive_detects_a_silent_peer_within_interval_times_count() {
    let mut config = ClientConfig::new("alice");
    config.keepalive_interval = Some(Duration::from_secs(5));
    config.keepalive_count_max = 3;
    let mut pair = Pair::new(config, ServerConfig::new(vec![test_host_key()]));
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    // An answering peer keeps the connection alive indefinitely.
    pair.advance(Duration::from_secs(60));
    for _ in 0..30 {
        pair.pump();
        pair.advance(Duration::from_secs(1));
    }
    assert!(pair.client_error.is_none(), "{:?}", pair.client_error);
    // Now the server is frozen: the client alone runs its timers.
    let frozen_at = pair.now();
    let mut now;
    let err = loop {
        now = pair.client.poll_timeout().expect("a keepalive deadline");
        match pair.client.handle_timeout(now) {
            Ok(()) => {
                let mut sink = Vec::new();
                pair.client.poll_transmit(&mut sink);
            }
            Err(e) => break e,
        }
        assert!(now - frozen_at <= Duration::from_secs(20), "no detection");
    };
    assert_eq!(err, Error::KeepaliveTimeout { count: 3 });
    assert!(now - frozen_at <= Duration::from_secs(20));
    assert!(now - frozen_at >= Duration::from_secs(15));
}

#[test]
fn server_keepalive_and_idle_timeout() {
    let mut server = ServerConfig::new(vec![test_host_key()]);
    server.keepalive_interval = Some(Duration::from_secs(2));
    server.keepalive_count_max = 2;
    let mut pair = Pair::new(ClientConfig::new("alice"), server);
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    // The client answers the server's keepalives (with failure, as OpenSSH does).
    pair.advance(Duration::from_secs(30));
    pair.run(Duration::from_secs(30), |_, _| {}, |_, _| {});
    assert!(pair.server_error.is_none(), "{:?}", pair.server_error);

    let mut client = ClientConfig::new("alice");
    client.idle_timeout = Some(Duration::from_secs(10));
    let mut pair = Pair::new(client, ServerConfig::new(vec![test_host_key()]));
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    let start = pair.now();
    let deadline = pair.client.poll_timeout().unwrap();
    assert!(deadline - start <= Duration::from_secs(10));
    assert_eq!(
        pair.client.handle_timeout(deadline),
        Err(Error::IdleTimeout)
    );
}

#[test]
fn host_key_check_of_another_connection_is_refused_and_installs_nothing() {
    let mut a = Pair::default_pair();
    let other_key = Arc::new(PrivateKey::ed25519_from_seed(&[9; 32]).unwrap());
    let mut b = Pair::new(
        ClientConfig::new("alice"),
        ServerConfig::new(vec![other_key]),
    );
    let grab = |p: &mut Pair| {
        let mut check = None;
        p.run(
            Duration::from_secs(1),
            |_, ev| {
                if let Event::HostKey(k) = ev {
                    check = Some(k)
                }
            },
            |_, _| {},
        );
        check.expect("a host-key decision")
    };
    let check_a = grab(&mut a);
    let check_b = grab(&mut b);
    let b_fp = check_b.fingerprint();
    assert!(matches!(
        a.client.accept_host_key(check_b),
        Err(Error::ApiMisuse(_))
    ));
    assert!(a.client.host_key().is_none(), "nothing installed");
    assert!(!a.client.is_closed());
    assert_ne!(check_a.fingerprint(), b_fp);
    a.client.accept_host_key(check_a).unwrap();
    assert_eq!(
        a.client.host_key().unwrap().fingerprint(),
        test_host_key().public_key().fingerprint()
    );
}

#[test]
fn host_keys_are_announced_and_proven() {
    let rsa_free_second = Arc::new(PrivateKey::ed25519_from_seed(&[2; 32]).unwrap());
    let mut pair = Pair::new(
        ClientConfig::new("alice"),
        ServerConfig::new(vec![test_host_key(), rsa_free_second.clone()]),
    );
    let mut announced = None;
    let mut m = Some(AuthMethod::PublicKey(test_user_key(5)));
    pair.run(
        Duration::from_secs(1),
        |c, ev| match ev {
            Event::HostKey(k) => c.accept_host_key(k).unwrap(),
            Event::AuthMethods { choice, .. } => c.authenticate(choice, m.take().unwrap()).unwrap(),
            Event::HostKeysAnnounced(keys) => announced = Some(keys),
            _ => {}
        },
        seashell_testkit::pair::accept_auth,
    );
    let keys = announced.expect("hostkeys-00 after authentication");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1], rsa_free_second.public_key());
    let new: Vec<_> = keys
        .into_iter()
        .filter(|k| Some(k) != pair.client.host_key())
        .collect();
    pair.client.prove_host_keys(new.clone()).unwrap();
    let (c, _) = settle(&mut pair);
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::HostKeysProven(k) if *k == new)),
        "{c:?}"
    );
    // A key the server does not hold cannot be proven.
    let id = pair
        .client
        .prove_host_keys(vec![test_user_key(3).public_key()])
        .unwrap();
    let (c, _) = settle(&mut pair);
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::GlobalRequestFailed { id: x } if *x == id))
    );
}

#[test]
fn no_more_sessions_is_enforced_by_the_server_core() {
    let mut pair = connected();
    pair.client
        .global_request(GlobalRequestKind::NoMoreSessions, false)
        .unwrap();
    settle(&mut pair);
    assert!(pair.server.no_more_sessions());
    let id = pair.client.open_session().unwrap();
    let (c, s) = settle(&mut pair);
    assert!(!s.iter().any(|e| matches!(e, Event::ChannelOpenRequest(_))));
    assert!(
        c.iter()
            .any(|e| matches!(e, Event::ChannelOpenFailed { id: x, .. } if *x == id))
    );
    // Other kinds still open.
    pair.client.open_channel(direct_tcpip()).unwrap();
    let (_, at_server, _) = collect_opens(&mut pair);
    assert_eq!(at_server.len(), 1);
}
