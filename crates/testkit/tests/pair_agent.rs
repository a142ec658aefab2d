//! Agent forwarding under both name sets, in memory: a server advertising EXT_INFO
//! `agent-forward` gets `agent-req` and opens `agent-connect` channels; one that does not
//! gets `auth-agent-req@openssh.com` and opens `auth-agent@openssh.com`. Agent channels of
//! either name are refused before the client asked, and data flows through an accepted one.

use seashell_proto::{
    AuthMethod, ChannelKind, ClientConfig, Event, ServerConfig, SessionRequestKind,
};
use seashell_testkit::Pair;
use seashell_testkit::pair::{test_host_key, test_user_key};
use std::time::Duration;

fn connected(advertise: bool) -> Pair {
    let mut server = ServerConfig::new(vec![test_host_key()]);
    server.advertise_agent_forward = advertise;
    let mut pair = Pair::new(ClientConfig::new("alice"), server);
    pair.connect(AuthMethod::PublicKey(test_user_key(8)));
    pair
}

/// Opens a session, accepted by the server; returns (client, server) ids.
fn session(pair: &mut Pair) -> (seashell_proto::ChannelId, seashell_proto::ChannelId) {
    pair.open_session_channel()
}

/// Sends the agent request on `id` and returns what the server saw.
fn request_agent(pair: &mut Pair, id: seashell_proto::ChannelId) -> SessionRequestKind {
    pair.client
        .channel(id)
        .unwrap()
        .request_agent_forwarding()
        .unwrap();
    let mut kind = None;
    let mut replied = false;
    pair.run(
        Duration::from_secs(1),
        |_, ev| {
            if let Event::RequestSucceeded(_) = ev {
                replied = true;
            }
        },
        |s, ev| {
            if let Event::ChannelRequest(r) = ev {
                kind = Some(r.kind().clone());
                s.reply_request(r, true).unwrap();
            }
        },
    );
    assert!(replied);
    kind.expect("an agent request")
}

/// The server opens `kind`; returns what reached the client (accepted there) and whether
/// the server saw it open.
fn open_agent_channel(pair: &mut Pair, kind: ChannelKind) -> Option<ChannelKind> {
    let server_id = pair.server.open_channel(kind).unwrap();
    let mut seen = None;
    let mut opened = false;
    let mut failed = false;
    pair.run(
        Duration::from_secs(1),
        |c, ev| {
            if let Event::ChannelOpenRequest(req) = ev {
                seen = Some(req.kind().clone());
                c.accept_channel(req).unwrap();
            }
        },
        |_, ev| match ev {
            Event::ChannelOpened(id) if id == server_id => opened = true,
            Event::ChannelOpenFailed { id, .. } if id == server_id => failed = true,
            _ => {}
        },
    );
    assert_eq!(opened, seen.is_some());
    assert_eq!(failed, seen.is_none());
    seen
}

#[test]
fn standard_names_when_the_server_advertises_agent_forward() {
    let mut pair = connected(true);
    // Before any request, neither name is accepted by the client core.
    assert_eq!(
        open_agent_channel(&mut pair, ChannelKind::AgentConnect),
        None
    );
    assert_eq!(open_agent_channel(&mut pair, ChannelKind::AuthAgent), None);
    let (c, _) = session(&mut pair);
    assert_eq!(request_agent(&mut pair, c), SessionRequestKind::AgentReq);
    assert_eq!(
        open_agent_channel(&mut pair, ChannelKind::AgentConnect),
        Some(ChannelKind::AgentConnect)
    );
}

#[test]
fn openssh_names_otherwise() {
    let mut pair = connected(false);
    let (c, _) = session(&mut pair);
    assert_eq!(request_agent(&mut pair, c), SessionRequestKind::AuthAgent);
    assert_eq!(
        open_agent_channel(&mut pair, ChannelKind::AuthAgent),
        Some(ChannelKind::AuthAgent)
    );
}

#[test]
fn agent_bytes_flow_through_an_agent_connect_channel() {
    let mut pair = connected(true);
    let (c, _) = session(&mut pair);
    request_agent(&mut pair, c);
    let server_id = pair.server.open_channel(ChannelKind::AgentConnect).unwrap();
    let mut client_id = None;
    pair.run(
        Duration::from_secs(1),
        |cl, ev| {
            if let Event::ChannelOpenRequest(req) = ev {
                client_id = Some(cl.accept_channel(req).unwrap());
            }
        },
        |_, _| {},
    );
    let client_id = client_id.unwrap();
    // A REQUEST_IDENTITIES from the server side's socket, an answer from the client's agent.
    let ask = seashell_agent::frame(&seashell_agent::Request::RequestIdentities.encode());
    pair.server.channel(server_id).unwrap().write(&ask).unwrap();
    let mut at_client = Vec::new();
    pair.run(
        Duration::from_secs(1),
        |_, ev| {
            if let Event::Data { data, .. } = ev {
                at_client.extend_from_slice(&data);
            }
        },
        |_, _| {},
    );
    assert_eq!(at_client, ask);
    let answer = seashell_agent::frame(&seashell_agent::Response::Identities(vec![]).encode());
    pair.client
        .channel(client_id)
        .unwrap()
        .write(&answer)
        .unwrap();
    let mut at_server = Vec::new();
    pair.run(
        Duration::from_secs(1),
        |_, _| {},
        |_, ev| {
            if let Event::Data { data, .. } = ev {
                at_server.extend_from_slice(&data);
            }
        },
    );
    assert_eq!(at_server, answer);
}
