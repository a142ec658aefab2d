//! A peer that does not read: the output cap before and after authentication, channel writes
//! held back (not killed) by it, and the limits before authentication (hard traffic limit,
//! few re-exchanges by the peer). Our own client and server, in memory, with a switch that
//! stops delivering the server's output; the client floods with `send_raw_message`.
#![allow(clippy::disallowed_methods)] // the base of the virtual clock

use crate::error::PeerMisbehaved;
use crate::transport::{DEFAULT_MAX_PENDING_OUTPUT_PREAUTH, MIN_PENDING_OUTPUT};
use crate::wire::{self, msg};
use crate::{
    AuthAttempt, AuthChoice, AuthDecision, AuthMethod, ChannelId, ClientConfig, ClientConnection,
    Error, Event, GlobalRequestKind, PrivateKey, ServerConfig, ServerConnection,
};
use std::sync::Arc;
use std::time::Instant;

/// Room for the one DISCONNECT that may go over the cap.
const DISCONNECT_ROOM: usize = 512;

struct Duo {
    c: ClientConnection,
    s: ServerConnection,
    now: Instant,
    /// Deliver the server's output to the client (false: the client never reads).
    deliver: bool,
    /// Deliver the client's output to the server (false: the server never reads).
    deliver_c2s: bool,
    /// Authenticate when the server lists its methods.
    authenticate: bool,
    client_error: Option<Error>,
    server_error: Option<Error>,
    /// The largest `pending_output` the server had while alive.
    peak: usize,
    /// Server-side channel ids it accepted, and Writable events it got.
    server_channels: Vec<ChannelId>,
    writable: usize,
    /// Bytes the server sent before the client was authenticated.
    preauth_sent: usize,
    /// The authentication step left for later when `authenticate` is off.
    choice: Option<AuthChoice>,
}

fn configs() -> (ClientConfig, ServerConfig) {
    let key = Arc::new(PrivateKey::ed25519_from_seed(&[1; 32]).unwrap());
    (ClientConfig::new("alice"), ServerConfig::new(vec![key]))
}

impl Duo {
    fn new(cc: ClientConfig, sc: ServerConfig) -> Duo {
        let now = Instant::now();
        Duo {
            c: ClientConnection::new(Arc::new(cc), now).unwrap(),
            s: ServerConnection::new(Arc::new(sc), now).unwrap(),
            now,
            deliver: true,
            deliver_c2s: true,
            authenticate: true,
            client_error: None,
            server_error: None,
            peak: 0,
            server_channels: Vec::new(),
            writable: 0,
            preauth_sent: 0,
            choice: None,
        }
    }

    fn watch(&mut self) {
        if !self.s.is_closed() {
            self.peak = self.peak.max(self.s.pending_output());
        }
    }

    /// Runs the timers due within 100 ms (the delayed authentication failure); false if none.
    fn run_timers(&mut self) -> bool {
        let next = [self.c.poll_timeout(), self.s.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) if t <= self.now + std::time::Duration::from_millis(100) => {
                self.now = self.now.max(t);
                if let Err(e) = self.c.handle_timeout(self.now) {
                    self.client_error.get_or_insert(e);
                }
                if let Err(e) = self.s.handle_timeout(self.now) {
                    self.server_error.get_or_insert(e);
                }
                true
            }
            _ => false,
        }
    }

    /// Moves bytes (the server's only when `deliver`) and answers events until nothing moves.
    fn pump(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            let mut c2s = Vec::new();
            if self.deliver_c2s {
                self.c.poll_transmit(&mut c2s);
            }
            if !c2s.is_empty() && self.server_error.is_none() {
                moved = true;
                if let Err(e) = self.s.feed(self.now, &c2s) {
                    self.server_error = Some(e);
                }
            }
            self.watch();
            if self.deliver {
                let mut s2c = Vec::new();
                self.s.poll_transmit(&mut s2c);
                if !self.c.is_authenticated() {
                    self.preauth_sent += s2c.len();
                }
                if !s2c.is_empty() && self.client_error.is_none() {
                    moved = true;
                    if let Err(e) = self.c.feed(self.now, &s2c) {
                        self.client_error = Some(e);
                    }
                }
            }
            while let Some(ev) = self.c.poll_event() {
                moved = true;
                match ev {
                    Event::HostKey(k) => self.c.accept_host_key(k).unwrap(),
                    Event::AuthMethods { choice, .. } if self.authenticate => {
                        let pw = AuthMethod::Password("pw".to_owned().into());
                        self.c.authenticate(choice, pw).unwrap();
                    }
                    Event::AuthMethods { choice, .. } => self.choice = Some(choice),
                    _ => {}
                }
            }
            while let Some(ev) = self.s.poll_event() {
                moved = true;
                let r = match ev {
                    Event::AuthRequest(r) if matches!(r.attempt, AuthAttempt::None) => {
                        self.s.answer_auth(r, AuthDecision::Reject)
                    }
                    Event::AuthRequest(r) => self.s.answer_auth(r, AuthDecision::Accept),
                    Event::ChannelOpenRequest(o) => self.s.accept_channel(o).map(|id| {
                        self.server_channels.push(id);
                    }),
                    Event::ChannelRequest(r) => self.s.reply_request(r, true),
                    Event::Writable(_) => {
                        self.writable += 1;
                        Ok(())
                    }
                    _ => Ok(()),
                };
                if let Err(e) = r {
                    self.server_error.get_or_insert(e);
                }
                self.watch();
            }
            if !moved && !self.run_timers() {
                return;
            }
        }
        panic!("did not settle");
    }

    /// Sends `payload` from the client `times` times, raw, pumping every `batch` messages,
    /// until the server fails; returns how many went.
    fn flood(&mut self, payload: &[u8], times: usize, batch: usize) -> usize {
        for i in 0..times {
            self.c.send_raw_message(payload.to_vec()).unwrap();
            if i % batch == batch - 1 {
                self.pump();
                let cap = self.s.core.t.output_cap();
                assert!(self.peak <= cap, "{} held over the cap {cap}", self.peak);
                if self.server_error.is_some() {
                    return i + 1;
                }
            }
        }
        self.pump();
        times
    }

    /// After the flood: the typed error, one DISCONNECT queued on top of at most the cap.
    fn assert_flood_stopped(&self, cap: usize) {
        assert_eq!(
            self.server_error,
            Some(Error::PeerMisbehaved(PeerMisbehaved::OutputFlood))
        );
        assert!(self.s.is_closed());
        assert!(self.peak <= cap);
        assert!(self.s.pending_output() <= cap + DISCONNECT_ROOM);
        assert!(self.s.pending_output() > self.peak, "no DISCONNECT queued");
    }
}

fn unknown_message() -> Vec<u8> {
    vec![150, 1, 2, 3]
}

#[test]
fn preauth_unknown_message_flood_is_cut_at_the_preauth_cap() {
    let (cc, sc) = configs();
    let mut d = Duo::new(cc, sc);
    d.authenticate = false;
    d.pump();
    assert!(d.c.session_id().is_some() && !d.s.is_authenticated());
    d.deliver = false;
    let sent = d.flood(&unknown_message(), 100_000, 64);
    d.assert_flood_stopped(DEFAULT_MAX_PENDING_OUTPUT_PREAUTH);
    // Each UNIMPLEMENTED is a few dozen bytes: the cap, not a count, stopped it.
    assert!(sent > 500 && sent < 5000, "{sent}");
    assert!(d.peak > DEFAULT_MAX_PENDING_OUTPUT_PREAUTH - 4096);
}

/// What the client sends, after authentication, to get a reply it will not read.
enum Flood {
    Keepalive,
    Ping,
    ChannelRequest,
    Unknown,
}

fn flood_payload(kind: &Flood, server_channel: u32) -> Vec<u8> {
    match kind {
        Flood::Keepalive => {
            let mut p = vec![msg::GLOBAL_REQUEST];
            wire::put_string(&mut p, b"keepalive@openssh.com");
            wire::put_bool(&mut p, true);
            p
        }
        Flood::Ping => {
            let mut p = vec![msg::PING];
            wire::put_string(&mut p, &[7; 2048]);
            p
        }
        Flood::ChannelRequest => {
            let mut p = vec![msg::CHANNEL_REQUEST];
            wire::put_u32(&mut p, server_channel);
            wire::put_string(&mut p, b"env");
            wire::put_bool(&mut p, true);
            wire::put_string(&mut p, b"LANG");
            wire::put_string(&mut p, b"C");
            p
        }
        Flood::Unknown => unknown_message(),
    }
}

#[test]
fn postauth_reply_floods_are_cut_at_the_cap() {
    for kind in [
        Flood::Keepalive,
        Flood::Ping,
        Flood::ChannelRequest,
        Flood::Unknown,
    ] {
        let (cc, mut sc) = configs();
        sc.max_pending_output = MIN_PENDING_OUTPUT;
        let mut d = Duo::new(cc, sc);
        d.pump();
        assert!(d.s.is_authenticated());
        d.c.open_session().unwrap();
        d.pump();
        let id = d.server_channels[0].0;
        d.deliver = false;
        // Pumped often enough that the application answers each channel request before the
        // 64 a channel may have unanswered pile up.
        d.flood(&flood_payload(&kind, id), 1_000_000, 32);
        d.assert_flood_stopped(MIN_PENDING_OUTPUT);
        assert!(d.peak > MIN_PENDING_OUTPUT / 2);
    }
}

#[test]
fn a_fast_writer_is_held_back_not_disconnected() {
    let (mut cc, mut sc) = configs();
    cc.window_size = 64 << 20;
    sc.max_pending_output = MIN_PENDING_OUTPUT;
    let mut d = Duo::new(cc, sc);
    d.pump();
    d.c.open_session().unwrap();
    d.pump();
    let id = d.server_channels[0];
    d.deliver = false;
    let data = vec![0x5a; 300_000];
    let mut total = 0;
    loop {
        let n = d.s.channel(id).unwrap().write(&data).unwrap();
        if n == 0 {
            break;
        }
        total += n;
        assert!(d.s.pending_output() <= MIN_PENDING_OUTPUT / 2);
    }
    assert!(total > MIN_PENDING_OUTPUT / 2 - 4096, "{total}");
    // The peer's requests still get their replies, in the half kept for them.
    for _ in 0..20 {
        d.c.global_request(GlobalRequestKind::Keepalive, true)
            .unwrap();
    }
    d.pump();
    assert!(d.server_error.is_none() && !d.s.is_closed());
    // Once the output is taken, the writer hears it may go on.
    d.deliver = true;
    d.pump();
    assert!(d.writable >= 1);
    assert!(d.s.channel(id).unwrap().write(&data).unwrap() > 0);
    assert!(d.server_error.is_none() && d.client_error.is_none());
}

#[test]
fn the_peer_may_rekey_once_before_authentication() {
    let (cc, sc) = configs();
    let mut d = Duo::new(cc, sc);
    d.authenticate = false;
    d.pump();
    d.c.rekey().unwrap();
    d.pump();
    assert_eq!((d.c.key_exchanges(), d.s.key_exchanges()), (2, 2));
    assert!(d.server_error.is_none());
    d.c.rekey().unwrap();
    d.pump();
    assert_eq!(
        d.server_error,
        Some(Error::PeerMisbehaved(PeerMisbehaved::TooManyPreauthRekeys))
    );
    assert!(matches!(
        d.client_error,
        Some(Error::DisconnectReceived { .. })
    ));
}

#[test]
fn preauth_traffic_over_the_hard_limit_ends_the_connection() {
    let (cc, sc) = configs();
    let mut d = Duo::new(cc, sc);
    d.authenticate = false;
    d.pump();
    // The cipher's own limit (1 GiB or 64 GiB) is too much for a test: lower it.
    d.s.core.preauth_bytes = 16 * 1024;
    let mut ignore = vec![msg::IGNORE];
    wire::put_string(&mut ignore, &[0; 1000]);
    for _ in 0..15 {
        d.c.send_raw_message(ignore.clone()).unwrap();
    }
    d.pump();
    assert!(d.server_error.is_none());
    for _ in 0..5 {
        d.c.send_raw_message(ignore.clone()).unwrap();
    }
    d.pump();
    assert_eq!(
        d.server_error,
        Some(Error::PeerMisbehaved(PeerMisbehaved::PreauthTrafficLimit))
    );
}

#[test]
fn volume_rekeys_wait_for_authentication_then_happen() {
    let (mut cc, mut sc) = configs();
    cc.rekey_bytes = 1024;
    sc.rekey_bytes = 1024;
    let mut d = Duo::new(cc, sc);
    d.authenticate = false;
    d.pump();
    let mut ignore = vec![msg::IGNORE];
    wire::put_string(&mut ignore, &[0; 1000]);
    d.c.send_raw_message(ignore.clone()).unwrap();
    d.c.send_raw_message(ignore).unwrap();
    d.pump();
    // Over the configured limit, but nothing is re-keyed before authentication.
    assert_eq!((d.c.key_exchanges(), d.s.key_exchanges()), (1, 1));
    assert!(d.server_error.is_none() && d.client_error.is_none());
    let pw = AuthMethod::Password("pw".to_owned().into());
    d.c.authenticate(d.choice.take().unwrap(), pw).unwrap();
    d.pump();
    assert!(d.c.is_authenticated());
    assert!(d.c.key_exchanges() >= 2 && d.s.key_exchanges() >= 2);
    assert!(d.server_error.is_none() && d.client_error.is_none());
}

#[test]
fn a_whole_preauth_flight_is_far_below_the_preauth_cap() {
    let (cc, mut sc) = configs();
    sc.banner = Some("Authorized use only.\n".repeat(100));
    let mut d = Duo::new(cc, sc);
    d.pump();
    assert!(d.c.is_authenticated());
    // Identification, KEXINIT, an ML-KEM KEX reply, NEWKEYS, EXT_INFO, SERVICE_ACCEPT, a
    // 2 KiB banner and the auth replies, all together.
    assert!(d.preauth_sent < 12 * 1024, "{}", d.preauth_sent);
}

#[test]
fn a_hostile_server_flooding_a_client_that_it_does_not_read_is_cut_off() {
    let (mut cc, sc) = configs();
    cc.max_pending_output = MIN_PENDING_OUTPUT;
    let mut d = Duo::new(cc, sc);
    d.pump();
    assert!(d.c.is_authenticated());
    d.deliver_c2s = false;
    let request = flood_payload(&Flood::Keepalive, 0);
    let mut peak = 0;
    for _ in 0..100_000 {
        for _ in 0..64 {
            d.s.send_raw_message(request.clone()).unwrap();
        }
        d.pump();
        if d.client_error.is_some() {
            break;
        }
        peak = peak.max(d.c.pending_output());
        assert!(peak <= MIN_PENDING_OUTPUT);
    }
    assert_eq!(
        d.client_error,
        Some(Error::PeerMisbehaved(PeerMisbehaved::OutputFlood))
    );
    assert!(peak > MIN_PENDING_OUTPUT / 2);
    assert!(d.c.pending_output() <= MIN_PENDING_OUTPUT + DISCONNECT_ROOM);
}
