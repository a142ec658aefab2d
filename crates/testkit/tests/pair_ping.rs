//! `ping@openssh.com` between our client and server in memory: advertised in EXT_INFO,
//! answered only after authentication, held across a key exchange.

use seashell_proto::{AuthMethod, Error, Event};
use seashell_testkit::Pair;
use seashell_testkit::pair::{accept_auth, test_user_key};
use std::time::Duration;

fn pongs(pair: &mut Pair) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    pair.run(
        Duration::from_secs(2),
        |_, ev| {
            if let Event::Pong(data) = ev {
                got.push(data.to_vec());
            }
        },
        accept_auth,
    );
    got
}

#[test]
fn ping_is_advertised_and_echoed_in_order() {
    let mut pair = Pair::default_pair();
    assert!(matches!(
        pair.client.ping(b"early"),
        Err(Error::ApiMisuse(_))
    ));
    pair.connect(AuthMethod::PublicKey(test_user_key(3)));
    assert!(
        pair.client.can_ping(),
        "our server advertises ping@openssh.com"
    );
    pair.client.ping(b"one").unwrap();
    pair.client.ping(b"").unwrap();
    pair.client.ping(&[0xff; 300]).unwrap();
    let got = pongs(&mut pair);
    assert_eq!(got, vec![b"one".to_vec(), Vec::new(), vec![0xff; 300]]);
    assert!(pair.client_error.is_none() && pair.server_error.is_none());
}

#[test]
fn ping_during_rekey_is_answered_after_it() {
    let mut pair = Pair::default_pair();
    pair.connect(AuthMethod::PublicKey(test_user_key(4)));
    let before = pair.client.negotiated().cloned();
    pair.client.rekey().unwrap();
    // Sent while our KEXINIT is out: held until the exchange ends, then answered.
    pair.client.ping(b"held").unwrap();
    let got = pongs(&mut pair);
    assert_eq!(got, vec![b"held".to_vec()]);
    assert!(before.is_some());
    assert!(pair.client_error.is_none() && pair.server_error.is_none());
}

#[test]
fn too_many_unanswered_pings_are_refused() {
    let mut pair = Pair::default_pair();
    pair.connect(AuthMethod::PublicKey(test_user_key(5)));
    for _ in 0..seashell_proto::transport::ping::MAX_OUTSTANDING {
        pair.client.ping(b"x").unwrap();
    }
    assert!(matches!(pair.client.ping(b"x"), Err(Error::ApiMisuse(_))));
    assert_eq!(
        pongs(&mut pair).len() as u32,
        seashell_proto::transport::ping::MAX_OUTSTANDING
    );
    pair.client.ping(b"again").unwrap();
    assert_eq!(pongs(&mut pair), vec![b"again".to_vec()]);
}
