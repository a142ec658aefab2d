//! [`Pair`]: a client core and a server core wired together in memory, with a virtual clock,
//! latency and chunking policies. No sockets, no threads, no real time: every test is
//! deterministic apart from the key material.

use seashell_proto::{
    AuthDecision, AuthMethod, ChannelId, ClientConfig, ClientConnection, Error, Event, PrivateKey,
    ServerConfig, ServerConnection,
};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How bytes are cut when delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// Everything available at once.
    Whole,
    /// Pieces of at most this many bytes.
    Fixed(usize),
    /// Pieces of random size (1..=max), from a seeded generator.
    Random {
        /// Generator seed.
        seed: u64,
        /// Largest piece.
        max: usize,
    },
}

/// An interposer on the wire: gets each transmitted buffer and the bytes sent before it.
pub type Tamper = Box<dyn FnMut(&mut Vec<u8>, usize)>;

/// The two cores, the virtual clock and the bytes in flight.
pub struct Pair {
    /// The client core.
    pub client: ClientConnection,
    /// The server core.
    pub server: ServerConnection,
    now: Instant,
    /// One-way delivery delay.
    pub latency: Duration,
    /// How deliveries are cut.
    pub chunking: Chunking,
    c2s: VecDeque<(Instant, Vec<u8>)>,
    s2c: VecDeque<(Instant, Vec<u8>)>,
    rng: u64,
    /// The error the client's last input returned, if any.
    pub client_error: Option<Error>,
    /// The error the server's last input returned, if any.
    pub server_error: Option<Error>,
    /// Tampers with server-to-client bytes as they are sent (an interposer on the wire):
    /// called with each transmitted buffer and the count of bytes sent before it.
    pub tamper_s2c: Option<Tamper>,
    s2c_total: usize,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair")
            .field("now", &self.now)
            .field("latency", &self.latency)
            .finish_non_exhaustive()
    }
}

/// A fixed ed25519 host key (from seed 1), for tests.
pub fn test_host_key() -> Arc<PrivateKey> {
    Arc::new(PrivateKey::ed25519_from_seed(&[1; 32]).unwrap_or_else(|e| panic!("fixed key: {e}")))
}

/// A fixed ed25519 user key from `seed`, for tests.
pub fn test_user_key(seed: u8) -> Arc<PrivateKey> {
    Arc::new(
        PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap_or_else(|e| panic!("fixed key: {e}")),
    )
}

impl Pair {
    /// Two fresh cores at a virtual "now".
    pub fn new(client: ClientConfig, server: ServerConfig) -> Pair {
        #[allow(clippy::disallowed_methods)] // the base of the virtual clock
        let now = Instant::now();
        Pair {
            client: ClientConnection::new(Arc::new(client), now)
                .unwrap_or_else(|e| panic!("client config: {e}")),
            server: ServerConnection::new(Arc::new(server), now)
                .unwrap_or_else(|e| panic!("server config: {e}")),
            now,
            latency: Duration::ZERO,
            chunking: Chunking::Whole,
            c2s: VecDeque::new(),
            s2c: VecDeque::new(),
            rng: 0x9e37_79b9_7f4a_7c15,
            client_error: None,
            server_error: None,
            tamper_s2c: None,
            s2c_total: 0,
        }
    }

    /// A pair with default configs: user `alice`, the fixed test host key.
    pub fn default_pair() -> Pair {
        Pair::new(
            ClientConfig::new("alice"),
            ServerConfig::new(vec![test_host_key()]),
        )
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Moves the virtual clock forward and runs both cores' due timers.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.run_timers();
    }

    fn run_timers(&mut self) {
        if self.client.poll_timeout().is_some_and(|t| t <= self.now)
            && let Err(e) = self.client.handle_timeout(self.now)
        {
            self.client_error.get_or_insert(e);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= self.now)
            && let Err(e) = self.server.handle_timeout(self.now)
        {
            self.server_error.get_or_insert(e);
        }
    }

    fn next_piece(&mut self, avail: usize) -> usize {
        match self.chunking {
            Chunking::Whole => avail,
            Chunking::Fixed(n) => n.clamp(1, avail.max(1)),
            Chunking::Random { max, .. } => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                1 + (self.rng as usize) % max.clamp(1, avail.max(1))
            }
        }
    }

    /// Collects what both sides transmit and delivers every byte due at the current virtual
    /// time. Returns whether any byte moved.
    pub fn pump(&mut self) -> bool {
        if let Chunking::Random { seed, .. } = self.chunking
            && self.rng == 0x9e37_79b9_7f4a_7c15
        {
            self.rng = seed | 1;
        }
        let at = self.now + self.latency;
        let mut buf = Vec::new();
        if self.client.poll_transmit(&mut buf) > 0 {
            self.c2s.push_back((at, std::mem::take(&mut buf)));
        }
        if self.server.poll_transmit(&mut buf) > 0 {
            if let Some(tamper) = &mut self.tamper_s2c {
                tamper(&mut buf, self.s2c_total);
            }
            self.s2c_total += buf.len();
            self.s2c.push_back((at, buf));
        }
        let mut moved = false;
        while let Some((due, _)) = self.c2s.front() {
            if *due > self.now {
                break;
            }
            let Some((_, bytes)) = self.c2s.pop_front() else {
                break;
            };
            moved = true;
            let mut at = 0;
            while at < bytes.len() && self.server_error.is_none() {
                let n = self.next_piece(bytes.len() - at);
                if let Err(e) = self.server.feed(self.now, &bytes[at..at + n]) {
                    self.server_error = Some(e);
                }
                at += n;
            }
        }
        while let Some((due, _)) = self.s2c.front() {
            if *due > self.now {
                break;
            }
            let Some((_, bytes)) = self.s2c.pop_front() else {
                break;
            };
            moved = true;
            let mut at = 0;
            while at < bytes.len() && self.client_error.is_none() {
                let n = self.next_piece(bytes.len() - at);
                if let Err(e) = self.client.feed(self.now, &bytes[at..at + n]) {
                    self.client_error = Some(e);
                }
                at += n;
            }
        }
        moved
    }

    /// Runs until nothing moves: pumps bytes, hands every event to the handlers, advances the
    /// virtual clock to the next delivery or timer when idle (at most `max_idle` ahead).
    /// Returns after `max_rounds` rounds at most, so a livelock fails a test instead of
    /// hanging it.
    pub fn run(
        &mut self,
        max_idle: Duration,
        mut on_client: impl FnMut(&mut ClientConnection, Event),
        mut on_server: impl FnMut(&mut ServerConnection, Event),
    ) {
        let deadline = self.now + max_idle;
        for _ in 0..100_000 {
            let moved = self.pump();
            let mut evented = false;
            while let Some(ev) = self.client.poll_event() {
                evented = true;
                on_client(&mut self.client, ev);
            }
            while let Some(ev) = self.server.poll_event() {
                evented = true;
                on_server(&mut self.server, ev);
            }
            if moved || evented || self.client.wants_write() || self.server.wants_write() {
                continue;
            }
            let next = [
                self.c2s.front().map(|x| x.0),
                self.s2c.front().map(|x| x.0),
                self.client.poll_timeout(),
                self.server.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t <= deadline => {
                    if t > self.now {
                        self.now = t;
                    }
                    self.run_timers();
                }
                _ => return,
            }
        }
        panic!("Pair::run did not settle in 100000 rounds");
    }

    /// Runs the handshake with the usual answers: the client trusts the host key and
    /// authenticates with `method`; the server accepts every attempt. Panics if the client
    /// is not authenticated at the end.
    pub fn connect(&mut self, method: AuthMethod) {
        let mut m = Some(method);
        self.run(
            Duration::from_secs(1),
            |c, ev| match ev {
                Event::HostKey(k) => c.accept_host_key(k).unwrap_or_else(|e| panic!("{e}")),
                Event::AuthMethods { choice, .. } => {
                    if let Some(m) = m.take() {
                        c.authenticate(choice, m).unwrap_or_else(|e| panic!("{e}"));
                    }
                }
                _ => {}
            },
            accept_auth,
        );
        assert!(
            self.client.is_authenticated(),
            "not authenticated: {:?} / {:?}",
            self.client_error,
            self.server_error
        );
    }

    /// Opens a session channel from the authenticated client, accepted by the server:
    /// (client channel, server channel).
    pub fn open_session_channel(&mut self) -> (ChannelId, ChannelId) {
        let client_id = self
            .client
            .open_session()
            .unwrap_or_else(|e| panic!("open_session: {e}"));
        let mut server_id = None;
        self.run(
            Duration::from_secs(1),
            |_, _| {},
            |s, ev| {
                if let Event::ChannelOpenRequest(c) = ev {
                    assert_eq!(c.kind(), &seashell_proto::ChannelKind::Session);
                    server_id = Some(s.accept_channel(c).unwrap_or_else(|e| panic!("{e}")));
                }
            },
        );
        (client_id, server_id.expect("channel accepted"))
    }
}

/// A server handler that accepts every authentication attempt and every channel, and says
/// yes to every request.
pub fn accept_auth(s: &mut ServerConnection, ev: Event) {
    match ev {
        Event::AuthRequest(r) => s
            .answer_auth(r, AuthDecision::Accept)
            .unwrap_or_else(|e| panic!("{e}")),
        Event::ChannelOpenRequest(c) => {
            s.accept_channel(c).unwrap_or_else(|e| panic!("{e}"));
        }
        Event::ChannelRequest(r) => s.reply_request(r, true).unwrap_or_else(|e| panic!("{e}")),
        _ => {}
    }
}

/// A client handler that ignores everything (for phases driven by hand).
pub fn ignore_client(_: &mut ClientConnection, _: Event) {}

/// Answer for keyboard-interactive prompts, for handlers.
pub fn answers(texts: &[&str]) -> Vec<zeroize::Zeroizing<String>> {
    texts
        .iter()
        .map(|t| zeroize::Zeroizing::new((*t).to_owned()))
        .collect()
}
