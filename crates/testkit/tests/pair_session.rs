//! Client core against server core in memory: a whole session, with every chunking policy.

use seashell_proto::{AuthMethod, Event, SessionRequestKind};
use seashell_testkit::pair::{accept_auth, test_user_key};
use seashell_testkit::{Chunking, Pair};
use std::time::Duration;

fn session(chunking: Chunking, latency: Duration) -> Vec<String> {
    let mut pair = Pair::default_pair();
    pair.chunking = chunking;
    pair.latency = latency;
    pair.connect(AuthMethod::PublicKey(test_user_key(7)));
    let id = pair.client.open_session().unwrap();
    let mut log = Vec::new();
    let mut server_chan = None;
    pair.run(
        Duration::from_secs(5),
        |c, ev| {
            match &ev {
                Event::ChannelOpened(id) => c.channel(*id).unwrap().exec(b"echo hi").unwrap(),
                Event::Data { id, data } | Event::ExtendedData { id, data, .. } => {
                    if let Some(mut ch) = c.channel(*id) {
                        ch.consume(data.len()).unwrap();
                    }
                }
                _ => {}
            }
            log.push(format!("client {ev:?}"));
        },
        |s, ev| match ev {
            Event::ChannelRequest(r) => {
                assert_eq!(r.kind(), &SessionRequestKind::Exec(b"echo hi".to_vec()));
                let ch = r.channel();
                server_chan = Some(ch);
                s.reply_request(r, true).unwrap();
                let mut c = s.channel(ch).unwrap();
                c.write(b"hi\n").unwrap();
                c.write_extended(1, b"warn\n").unwrap();
                c.exit_status(3).unwrap();
                c.eof().unwrap();
                c.close().unwrap();
            }
            other => accept_auth(s, other),
        },
    );
    assert!(server_chan.is_some());
    let _ = id;
    log
}

#[test]
fn exec_round_trip_is_the_same_under_every_chunking_and_latency() {
    let whole = session(Chunking::Whole, Duration::ZERO);
    let wanted = [
        "client ChannelOpened(ChannelId(0))",
        "client RequestSucceeded(ChannelId(0))",
        "client ExitStatus { id: ChannelId(0), status: 3 }",
        "client Eof(ChannelId(0))",
        "client Closed(ChannelId(0))",
    ];
    for w in wanted {
        assert!(whole.iter().any(|l| l == w), "missing {w} in {whole:#?}");
    }
    assert!(
        whole
            .iter()
            .any(|l| l.contains("Data") && l.contains("b\"hi\\n\"")),
        "{whole:#?}"
    );
    assert_eq!(whole, session(Chunking::Fixed(1), Duration::ZERO));
    assert_eq!(
        whole,
        session(
            Chunking::Random { seed: 42, max: 300 },
            Duration::from_millis(20)
        )
    );
}
