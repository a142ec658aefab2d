//! Every key-exchange method end to end through both connection state machines
//! (`ClientConnection` against `ServerConnection`, in memory): the first exchange, then a
//! re-exchange, for each method in `KexAlg::ALL`, and group exchange with a server-side group
//! list as a `moduli` file would give. The known-answer tests of the methods themselves are
//! in `src/kex/kat_tests.rs`.

use seashell_proto::kex::KexAlg;
use seashell_proto::kex::dh::Group;
use seashell_proto::{
    ClientConfig, ClientConnection, Event, PrivateKey, ServerConfig, ServerConnection,
};
use std::sync::Arc;
use std::time::Instant;

/// Moves bytes until both sides are quiet; the client's authentication steps are kept in
/// `held` unanswered (a dropped one would end the connection), so only key exchanges run.
fn pump(c: &mut ClientConnection, s: &mut ServerConnection, now: Instant, held: &mut Vec<Event>) {
    for _ in 0..50 {
        let mut c2s = Vec::new();
        c.poll_transmit(&mut c2s);
        if !c2s.is_empty() {
            s.feed(now, &c2s).unwrap();
        }
        let mut s2c = Vec::new();
        s.poll_transmit(&mut s2c);
        if !s2c.is_empty() {
            c.feed(now, &s2c).unwrap();
        }
        while let Some(ev) = c.poll_event() {
            match ev {
                Event::HostKey(check) => c.accept_host_key(check).unwrap(),
                other => held.push(other),
            }
        }
        while s.poll_event().is_some() {}
        if c2s.is_empty() && s2c.is_empty() {
            return;
        }
    }
    panic!("did not settle");
}

fn run(alg: KexAlg, gex_groups: Option<Vec<Group>>) {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let key = Arc::new(PrivateKey::ed25519_generate().unwrap());
    let mut sc = ServerConfig::new(vec![key]);
    sc.kex_algorithms = vec![alg.name().to_owned()];
    sc.gex_groups = gex_groups.map(|g| Arc::new(g.iter().map(|g| g.modp()).collect()));
    let cc = ClientConfig::new("alice").kex_algorithms(&[alg.name()]);
    let mut c = ClientConnection::new(Arc::new(cc), now).unwrap();
    let mut s = ServerConnection::new(Arc::new(sc), now).unwrap();
    let mut held = Vec::new();
    pump(&mut c, &mut s, now, &mut held);
    assert_eq!(c.negotiated().map(|n| n.kex), Some(alg));
    assert_eq!(c.key_exchanges(), 1, "{}", alg.name());
    assert_eq!(c.session_id(), s.session_id(), "{}", alg.name());
    let sid = c.session_id().map(<[u8]>::to_vec);
    c.rekey().unwrap();
    pump(&mut c, &mut s, now, &mut held);
    assert_eq!(c.key_exchanges(), 2, "{} rekey", alg.name());
    assert_eq!(c.session_id().map(<[u8]>::to_vec), sid);
}

#[test]
fn every_method_between_our_client_and_server() {
    for alg in KexAlg::ALL {
        run(alg, None);
    }
}

#[test]
fn group_exchange_with_a_configured_group_list() {
    run(KexAlg::DhGexSha256, Some(vec![Group::G14]));
    run(KexAlg::DhGexSha1, Some(vec![Group::G15, Group::G16]));
}
