//! The output cap through the public API, our client core against our server core in memory:
//! a fast writer whose peer's window is huge is held back at half the cap while nothing takes
//! the output (never disconnected), resumes on `Writable`, and every byte arrives in order.

use seashell_proto::transport::MIN_PENDING_OUTPUT;
use seashell_proto::{AnyConnection, AuthMethod, ClientConfig, Event, ServerConfig};
use seashell_testkit::Pair;
use seashell_testkit::pair::{test_host_key, test_user_key};
use std::time::Duration;

#[test]
fn a_fast_writer_is_held_back_by_the_output_cap_and_delivers_everything() {
    let mut client = ClientConfig::new("alice");
    client.window_size = 64 << 20;
    let mut server = ServerConfig::new(vec![test_host_key()]);
    server.max_pending_output = MIN_PENDING_OUTPUT;
    let mut pair = Pair::new(client, server);
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    let (cid, sid) = pair.open_session_channel();
    let data: Vec<u8> = (0..8 * MIN_PENDING_OUTPUT)
        .map(|i| (i % 251) as u8)
        .collect();
    // Nothing takes the server's output: it accepts about half the cap, then 0, and stays up.
    let mut sent = 0;
    loop {
        let n = pair
            .server
            .channel(sid)
            .unwrap()
            .write(&data[sent..])
            .unwrap();
        if n == 0 {
            break;
        }
        sent += n;
    }
    let held = AnyConnection::pending_output(&pair.server);
    assert!(held <= MIN_PENDING_OUTPUT / 2, "{held}");
    assert!(sent > MIN_PENDING_OUTPUT / 4 && sent < data.len(), "{sent}");
    assert!(!pair.server.is_closed());
    let mut got = Vec::new();
    pair.run(
        Duration::from_secs(5),
        |c, ev| {
            if let Event::Data { data, .. } = ev {
                got.extend_from_slice(&data);
                c.channel(cid).unwrap().consume(data.len()).unwrap();
            }
        },
        |s, ev| {
            if let Event::Writable(_) = ev {
                while sent < data.len() {
                    let n = s.channel(sid).unwrap().write(&data[sent..]).unwrap();
                    if n == 0 {
                        break;
                    }
                    sent += n;
                    assert!(s.pending_output() <= MIN_PENDING_OUTPUT / 2);
                }
            }
        },
    );
    assert!(pair.client_error.is_none() && pair.server_error.is_none());
    assert_eq!(sent, data.len());
    assert!(got == data, "bytes differ");
}
