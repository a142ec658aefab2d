//! A scripted SSH *client* built from the core's public pieces (packet writer, sealer/opener,
//! curve25519, key derivation, keys), to drive a real [`ServerConnection`] with messages the
//! client core would never send: key queries, forged user names, messages in the wrong state.
//! It needs nothing but `seashell_proto`, so the testkit's tests include it too (`#[path]`).
#![allow(dead_code)]

use seashell_proto::crypto::{CipherAlg, Opener, Sealer, SystemRandom};
use seashell_proto::kex::curve25519::{Curve25519, HashInputs};
use seashell_proto::kex::derive::derive_key;
use seashell_proto::kex::{EXT_INFO_CLIENT, KexAlg, STRICT_KEX_CLIENT};
use seashell_proto::transport::packet::PacketWriter;
use seashell_proto::wire::{self, Reader, msg};
use seashell_proto::{Error, Event, PrivateKey, ServerConfig, ServerConnection};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const CLIENT_IDENT: &str = "SSH-2.0-RawClient_1.0";

/// The fixed ed25519 host key the scripted tests use.
pub fn host_key() -> Arc<PrivateKey> {
    Arc::new(PrivateKey::ed25519_from_seed(&[1; 32]).unwrap())
}

/// A fixed ed25519 user key from `seed`.
pub fn user_key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
}

/// Our KEXINIT: one KEX method, one host-key algorithm, one cipher, so the outcome of the
/// negotiation is known without decoding the server's KEXINIT.
pub fn kexinit(strict: bool, cipher: CipherAlg) -> Vec<u8> {
    let mut kex = vec![KexAlg::Curve25519Sha256.name(), EXT_INFO_CLIENT];
    if strict {
        kex.push(STRICT_KEX_CLIENT);
    }
    let mut p = vec![msg::KEXINIT];
    p.extend_from_slice(&[7; 16]);
    let none: [&str; 1] = ["none"];
    let empty: [&str; 0] = [];
    wire::put_name_list(&mut p, &kex);
    wire::put_name_list(&mut p, &["ssh-ed25519"]);
    wire::put_name_list(&mut p, &[cipher.name()]);
    wire::put_name_list(&mut p, &[cipher.name()]);
    wire::put_name_list(&mut p, &empty);
    wire::put_name_list(&mut p, &empty);
    wire::put_name_list(&mut p, &none);
    wire::put_name_list(&mut p, &none);
    wire::put_name_list(&mut p, &empty);
    wire::put_name_list(&mut p, &empty);
    wire::put_bool(&mut p, false);
    wire::put_u32(&mut p, 0);
    p
}

/// One cleartext packet (RFC 4253 §6 framing, block size 8, minimal padding of zeros).
pub fn clear_packet(payload: &[u8]) -> Vec<u8> {
    let mut pad = 8 - (5 + payload.len()) % 8;
    if pad < 4 {
        pad += 8;
    }
    let mut p = Vec::new();
    wire::put_u32(&mut p, (1 + payload.len() + pad) as u32);
    p.push(pad as u8);
    p.extend_from_slice(payload);
    p.extend(std::iter::repeat_n(0, pad));
    p
}

/// A USERAUTH_REQUEST header for `user`, `service`, `method`.
pub fn userauth(user: &str, service: &str, method: &str) -> Vec<u8> {
    let mut p = vec![msg::USERAUTH_REQUEST];
    wire::put_string(&mut p, user.as_bytes());
    wire::put_string(&mut p, service.as_bytes());
    wire::put_string(&mut p, method.as_bytes());
    p
}

/// A password request.
pub fn password(user: &str, pw: &[u8]) -> Vec<u8> {
    let mut p = userauth(user, "ssh-connection", "password");
    wire::put_bool(&mut p, false);
    wire::put_string(&mut p, pw);
    p
}

/// A publickey query (has-signature false): "would you accept this key?".
pub fn pk_query(user: &str, key: &PrivateKey) -> Vec<u8> {
    let mut p = userauth(user, "ssh-connection", "publickey");
    wire::put_bool(&mut p, false);
    wire::put_string(&mut p, b"ssh-ed25519");
    wire::put_string(&mut p, &key.public_key().to_blob());
    p
}

/// A signed publickey request over `session_id` (RFC 4252 §7).
pub fn pk_signed(user: &str, key: &PrivateKey, session_id: &[u8]) -> Vec<u8> {
    let mut p = userauth(user, "ssh-connection", "publickey");
    wire::put_bool(&mut p, true);
    wire::put_string(&mut p, b"ssh-ed25519");
    wire::put_string(&mut p, &key.public_key().to_blob());
    let mut data = Vec::new();
    wire::put_string(&mut data, session_id);
    data.extend_from_slice(&p);
    let sig = key.sign("ssh-ed25519", &data).unwrap();
    wire::put_string(&mut p, &sig);
    p
}

/// CHANNEL_OPEN "session" with our channel 0, a 2 MiB window and 32 KiB packets.
pub fn channel_open() -> Vec<u8> {
    let mut p = vec![msg::CHANNEL_OPEN];
    wire::put_string(&mut p, b"session");
    for v in [0, 2 << 20, 32 << 10] {
        wire::put_u32(&mut p, v);
    }
    p
}

/// CHANNEL_REQUEST "exec" on server channel `id`.
pub fn exec_request(id: u32) -> Vec<u8> {
    let mut p = vec![msg::CHANNEL_REQUEST];
    wire::put_u32(&mut p, id);
    wire::put_string(&mut p, b"exec");
    wire::put_bool(&mut p, true);
    wire::put_string(&mut p, b"id");
    p
}

/// GLOBAL_REQUEST "tcpip-forward" for 0.0.0.0:2222, want-reply.
pub fn tcpip_forward() -> Vec<u8> {
    let mut p = vec![msg::GLOBAL_REQUEST];
    wire::put_string(&mut p, b"tcpip-forward");
    wire::put_bool(&mut p, true);
    wire::put_string(&mut p, b"0.0.0.0");
    wire::put_u32(&mut p, 2222);
    p
}

/// The scripted client: it runs a real curve25519 key exchange, then sends whatever payloads
/// the test asks for, sealed, and records every payload the server sends.
pub struct RawClient {
    rng: SystemRandom,
    strict: bool,
    cipher: CipherAlg,
    writer: PacketWriter,
    opener: Option<Opener>,
    next_opener: Option<Opener>,
    read_seq: u32,
    inbuf: Vec<u8>,
    server_ident: Option<String>,
    ours: Vec<u8>,
    theirs: Vec<u8>,
    eph: Option<Curve25519>,
    /// The session identifier, once the exchange hash is known.
    pub session_id: Option<Vec<u8>>,
    /// Bytes to deliver to the server.
    pub out: Vec<u8>,
    /// Every payload the server sent, in order.
    pub received: Vec<Vec<u8>>,
}

impl RawClient {
    /// A client that sends its identification and KEXINIT; `kex` drives the exchange to the
    /// end when the server's messages arrive.
    pub fn new(strict: bool) -> RawClient {
        RawClient::with_cipher(strict, CipherAlg::ALL[0])
    }

    pub fn with_cipher(strict: bool, cipher: CipherAlg) -> RawClient {
        let mut c = RawClient {
            rng: SystemRandom::new(),
            strict,
            cipher,
            writer: PacketWriter::default(),
            opener: None,
            next_opener: None,
            read_seq: 0,
            inbuf: Vec::new(),
            server_ident: None,
            ours: kexinit(strict, cipher),
            theirs: Vec::new(),
            eph: None,
            session_id: None,
            out: format!("{CLIENT_IDENT}\r\n").into_bytes(),
            received: Vec::new(),
        };
        let ours = c.ours.clone();
        c.send(&ours);
        c
    }

    /// Frames (and, after NEWKEYS, seals) one payload.
    pub fn send(&mut self, payload: &[u8]) {
        self.writer
            .write(&mut self.out, &self.rng, |o| o.extend_from_slice(payload))
            .unwrap();
    }

    /// Whether our NEWKEYS is sent and the server's has arrived.
    pub fn keyed(&self) -> bool {
        self.opener.is_some() && self.writer.is_encrypted()
    }

    /// Takes bytes from the server; answers the KEX messages.
    pub fn feed(&mut self, data: &[u8]) {
        self.inbuf.extend_from_slice(data);
        if self.server_ident.is_none() {
            let Some(nl) = self.inbuf.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let line: Vec<u8> = self.inbuf.drain(..nl + 2).collect();
            self.server_ident = Some(String::from_utf8(line[..nl].to_vec()).unwrap());
        }
        while let Some(p) = self.next_packet() {
            self.on_packet(&p);
            self.received.push(p);
        }
    }

    fn next_packet(&mut self) -> Option<Vec<u8>> {
        let first4: [u8; 4] = self.inbuf.get(..4)?.try_into().unwrap();
        let len = match &self.opener {
            Some(o) => o.packet_length(self.read_seq, first4),
            None => u32::from_be_bytes(first4),
        } as usize;
        let tag = if self.opener.is_some() { 16 } else { 0 };
        if self.inbuf.len() < 4 + len + tag {
            return None;
        }
        let mut pkt: Vec<u8> = self.inbuf.drain(..4 + len + tag).collect();
        if let Some(o) = &mut self.opener {
            let (body, t) = pkt.split_at_mut(4 + len);
            o.open(self.read_seq, body, t).expect("server packet opens");
        }
        self.read_seq = self.read_seq.wrapping_add(1);
        let pad = usize::from(pkt[4]);
        Some(pkt[5..4 + len - pad].to_vec())
    }

    fn on_packet(&mut self, p: &[u8]) {
        match p[0] {
            msg::KEXINIT if self.session_id.is_none() => {
                self.theirs = p.to_vec();
                let eph = Curve25519::generate().unwrap();
                let mut init = vec![msg::KEX_ECDH_INIT];
                wire::put_string(&mut init, eph.public());
                self.send(&init);
                self.eph = Some(eph);
            }
            msg::KEX_ECDH_REPLY if self.eph.is_some() => self.on_reply(p),
            msg::NEWKEYS => {
                self.opener = self.next_opener.take();
                if self.strict {
                    self.read_seq = 0;
                }
            }
            _ => {}
        }
    }

    fn on_reply(&mut self, p: &[u8]) {
        let mut r = Reader::new(p);
        r.u8("reply").unwrap();
        let blob = r.string("host key").unwrap().to_vec();
        let q_s = r.string("q_s").unwrap().to_vec();
        let sig = r.string("signature").unwrap().to_vec();
        let ident = self.server_ident.clone().unwrap();
        let inputs = HashInputs {
            client_ident: CLIENT_IDENT.as_bytes(),
            server_ident: ident.as_bytes(),
            client_kexinit: &self.ours,
            server_kexinit: &self.theirs,
            host_key: &blob,
        };
        let eph = self.eph.take().unwrap();
        let out = eph
            .finish(KexAlg::Curve25519Sha256, &q_s, inputs, true)
            .unwrap();
        let host = seashell_proto::PublicKey::from_blob(&blob).unwrap();
        host.verify("ssh-ed25519", &out.exchange_hash, &sig)
            .unwrap();
        let sid = out.exchange_hash.clone();
        let c = self.cipher;
        self.send(&[msg::NEWKEYS]);
        let key = |l: u8, n: usize| derive_key(&out, &sid, l, n);
        self.writer
            .set_sealer(Sealer::new(c, &key(b'C', c.key_len()), &key(b'A', c.iv_len())).unwrap());
        if self.strict {
            self.writer.reset_seq();
        }
        self.next_opener =
            Some(Opener::new(c, &key(b'D', c.key_len()), &key(b'B', c.iv_len())).unwrap());
        self.session_id = Some(sid);
    }

    /// Whether the server sent a payload starting with message number `n`.
    pub fn got(&self, n: u8) -> bool {
        self.received.iter().any(|p| p.first() == Some(&n))
    }

    /// The reason code of the server's DISCONNECT, if it sent one.
    pub fn disconnect_reason(&self) -> Option<u32> {
        let p = self.received.iter().find(|p| p[0] == msg::DISCONNECT)?;
        Some(u32::from_be_bytes(p[1..5].try_into().unwrap()))
    }

    /// Payloads received with message number `n`.
    pub fn all(&self, n: u8) -> Vec<&Vec<u8>> {
        self.received.iter().filter(|p| p[0] == n).collect()
    }
}

/// A [`ServerConnection`] wired to a [`RawClient`], with a virtual clock and a log of every
/// event the server produced.
pub struct Rig {
    pub server: ServerConnection,
    pub client: RawClient,
    pub now: Instant,
    pub error: Option<Error>,
    /// Every server event, as `Debug` text, in order.
    pub log: Vec<String>,
}

impl Rig {
    pub fn new(config: ServerConfig, client: RawClient) -> Rig {
        #[allow(clippy::disallowed_methods)] // the base of the virtual clock
        let now = Instant::now();
        Rig {
            server: ServerConnection::new(Arc::new(config), now).unwrap(),
            client,
            now,
            error: None,
            log: Vec::new(),
        }
    }

    /// A rig with the default server config, the fixed host key and a strict-KEX client.
    pub fn default_rig() -> Rig {
        Rig::new(ServerConfig::new(vec![host_key()]), RawClient::new(true))
    }

    /// Moves bytes both ways until nothing moves; returns the server events produced.
    pub fn pump(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        for _ in 0..100 {
            let c2s = std::mem::take(&mut self.client.out);
            if !c2s.is_empty()
                && self.error.is_none()
                && let Err(e) = self.server.feed(self.now, &c2s)
            {
                self.error = Some(e);
            }
            let mut s2c = Vec::new();
            self.server.poll_transmit(&mut s2c);
            if !s2c.is_empty() {
                self.client.feed(&s2c);
            }
            while let Some(ev) = self.server.poll_event() {
                self.log.push(format!("{ev:?}"));
                events.push(ev);
            }
            if c2s.is_empty() && s2c.is_empty() {
                return events;
            }
        }
        panic!("rig did not settle");
    }

    /// Advances the virtual clock and runs the server's due timers.
    pub fn advance(&mut self, by: Duration) -> Vec<Event> {
        self.now += by;
        if self.server.poll_timeout().is_some_and(|t| t <= self.now)
            && let Err(e) = self.server.handle_timeout(self.now)
        {
            self.error.get_or_insert(e);
        }
        self.pump()
    }

    /// Runs the key exchange to the end. Panics if it does not finish.
    pub fn kex(&mut self) {
        let ev = self.pump();
        assert!(ev.is_empty(), "{ev:?}");
        assert!(self.client.keyed(), "kex did not finish: {:?}", self.error);
        assert!(self.error.is_none(), "{:?}", self.error);
        assert_eq!(self.server.session_id(), self.client.session_id.as_deref());
    }

    /// Key exchange and SERVICE_REQUEST ssh-userauth, answered with SERVICE_ACCEPT.
    pub fn ready_for_auth(&mut self) {
        self.kex();
        let mut p = vec![msg::SERVICE_REQUEST];
        wire::put_string(&mut p, b"ssh-userauth");
        self.client.send(&p);
        self.pump();
        assert!(self.client.got(msg::SERVICE_ACCEPT), "{:?}", self.error);
    }

    /// The session identifier.
    pub fn sid(&self) -> Vec<u8> {
        self.client.session_id.clone().unwrap()
    }

    /// Sends one payload and pumps; returns the server events.
    pub fn send(&mut self, payload: &[u8]) -> Vec<Event> {
        self.client.send(payload);
        self.pump()
    }

    /// Whether the log holds any connection-layer or success effect.
    pub fn any_connection_effect(&self) -> bool {
        self.log.iter().any(|l| {
            l.starts_with("ChannelOpenRequest")
                || l.starts_with("ChannelRequest")
                || l.starts_with("ClientAuthenticated")
        })
    }
}
