//! A scripted in-memory SSH server built from the core's own pieces (framer, KEX, keys), so
//! the client can be driven end to end without sockets. It is deliberately simple: one
//! session channel, password or publickey auth, an `exec` that answers with fixed output.
#![allow(dead_code)]

use bytes::BytesMut;
use seashell_proto::crypto::{CipherAlg, Opener, Sealer, SystemRandom};
use seashell_proto::kex::curve25519::{Curve25519, HashInputs};
use seashell_proto::kex::derive::derive_key;
use seashell_proto::kex::{KexAlg, KexInit, STRICT_KEX_SERVER};
use seashell_proto::transport::packet::{PacketReader, PacketWriter};
use seashell_proto::transport::version::VersionReader;
use seashell_proto::wire::{self, Reader, msg};
use seashell_proto::{AuthMethod, ChannelId, ClientConfig, ClientConnection, Event, PrivateKey};
use std::sync::Arc;
use std::time::Instant;

pub const PASSWORD: &str = "secret";

/// One EXT_INFO entry: name and value.
pub type Extension = (Vec<u8>, Vec<u8>);

/// Knobs for misbehaving on purpose.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Offer strict KEX.
    pub no_strict: bool,
    /// Send SSH_MSG_IGNORE before KEXINIT.
    pub ignore_before_kexinit: bool,
    /// Send SSH_MSG_IGNORE between the KEX reply and NEWKEYS (Terrapin-style injection).
    pub ignore_before_newkeys: bool,
    /// Lines before the identification.
    pub pre_banner: Vec<String>,
    /// Send EXT_INFO with server-sig-algs after NEWKEYS.
    pub no_ext_info: bool,
    /// Send this EXT_INFO instead: the declared count, then the (name, value) entries.
    pub ext_info: Option<(u32, Vec<Extension>)>,
    /// At a re-exchange, sign with the Ed25519 key of this seed instead of the first one.
    pub rekey_host_key_seed: Option<u8>,
}

pub struct FakeServer {
    script: Script,
    rng: SystemRandom,
    host_key: PrivateKey,
    version: Option<VersionReader>,
    client_ident: String,
    inbuf: BytesMut,
    reader: PacketReader,
    writer: PacketWriter,
    ours: KexInit,
    theirs: Option<KexInit>,
    session_id: Option<Vec<u8>>,
    opener: Option<Opener>,
    pub out: Vec<u8>,
    pub client_channel: Option<u32>,
    pub received: Vec<u8>,
    pub auth_requests: usize,
    /// NEWKEYS messages the client sent.
    pub newkeys_received: usize,
}

pub const IDENT: &str = "SSH-2.0-FakeServer_1.0";

impl FakeServer {
    pub fn new(script: Script) -> FakeServer {
        let rng = SystemRandom::new();
        let mut kex = vec!["curve25519-sha256".to_owned()];
        if !script.no_strict {
            kex.push(STRICT_KEX_SERVER.to_owned());
        }
        let ciphers: Vec<String> = CipherAlg::ALL.iter().map(|c| c.name().to_owned()).collect();
        let lists = [
            kex,
            vec!["ssh-ed25519".to_owned()],
            ciphers.clone(),
            ciphers,
            vec!["hmac-sha2-256".to_owned()],
            vec!["hmac-sha2-256".to_owned()],
            vec!["none".to_owned()],
            vec!["none".to_owned()],
            vec![],
            vec![],
        ];
        let ours = KexInit::build(lists, &rng).unwrap();
        let mut s = FakeServer {
            rng,
            host_key: PrivateKey::ed25519_from_seed(&[42; 32]).unwrap(),
            version: Some(VersionReader::default()),
            client_ident: String::new(),
            inbuf: BytesMut::new(),
            reader: PacketReader::default(),
            writer: PacketWriter::default(),
            ours,
            theirs: None,
            session_id: None,
            opener: None,
            out: Vec::new(),
            client_channel: None,
            received: Vec::new(),
            auth_requests: 0,
            newkeys_received: 0,
            script,
        };
        for l in s.script.pre_banner.clone() {
            s.out.extend_from_slice(l.as_bytes());
            s.out.extend_from_slice(b"\r\n");
        }
        s.out.extend_from_slice(IDENT.as_bytes());
        s.out.extend_from_slice(b"\r\n");
        if s.script.ignore_before_kexinit {
            s.send(&[msg::IGNORE, 0, 0, 0, 0]);
        }
        let raw = s.ours.raw.clone();
        s.send(&raw);
        s
    }

    pub fn host_public_key(&self) -> seashell_proto::PublicKey {
        self.host_key.public_key()
    }

    fn send(&mut self, payload: &[u8]) {
        self.writer
            .write(&mut self.out, &self.rng, |o| o.extend_from_slice(payload))
            .unwrap();
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.inbuf.extend_from_slice(data);
        if let Some(v) = &mut self.version {
            match v.read(&mut self.inbuf).unwrap() {
                Some(id) => {
                    self.client_ident = id;
                    self.version = None;
                }
                None => return,
            }
        }
        while let Some(p) = self.reader.read(&mut self.inbuf).unwrap() {
            self.handle(&p);
        }
    }

    fn handle(&mut self, p: &[u8]) {
        let mut r = Reader::new(p);
        let n = r.u8("n").unwrap();
        match n {
            msg::KEXINIT => {
                self.theirs = Some(KexInit::decode(bytes::Bytes::copy_from_slice(p)).unwrap());
                if self.session_id.is_some() {
                    // A re-exchange the client started: answer with a fresh KEXINIT.
                    if let Some(seed) = self.script.rekey_host_key_seed {
                        self.host_key = PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap();
                    }
                    self.ours = KexInit::build(self.ours.lists.clone(), &self.rng).unwrap();
                    let raw = self.ours.raw.clone();
                    self.send(&raw);
                }
            }
            msg::KEX_ECDH_INIT => self.kex_reply(r.string("q_c").unwrap().to_vec()),
            msg::NEWKEYS => {
                self.newkeys_received += 1;
                let o = self.opener.take().unwrap();
                self.reader.set_opener(o);
                if !self.script.no_strict {
                    self.reader.reset_seq();
                }
            }
            msg::SERVICE_REQUEST => {
                let mut a = vec![msg::SERVICE_ACCEPT];
                wire::put_string(&mut a, b"ssh-userauth");
                self.send(&a);
            }
            msg::USERAUTH_REQUEST => self.userauth(p),
            msg::CHANNEL_OPEN => {
                r.string("type").unwrap();
                let sender = r.u32("sender").unwrap();
                self.client_channel = Some(sender);
                let mut c = vec![msg::CHANNEL_OPEN_CONFIRMATION];
                wire::put_u32(&mut c, sender);
                wire::put_u32(&mut c, 100);
                wire::put_u32(&mut c, 2 * 1024 * 1024);
                wire::put_u32(&mut c, 32768);
                self.send(&c);
            }
            msg::CHANNEL_REQUEST => {
                r.u32("recipient").unwrap();
                let kind = r.string("kind").unwrap().to_vec();
                let want = r.bool("want").unwrap();
                let ch = self.client_channel.unwrap();
                if want {
                    let mut s = vec![msg::CHANNEL_SUCCESS];
                    wire::put_u32(&mut s, ch);
                    self.send(&s);
                }
                if kind == b"exec" {
                    let mut d = vec![msg::CHANNEL_DATA];
                    wire::put_u32(&mut d, ch);
                    wire::put_string(&mut d, b"hello\n");
                    self.send(&d);
                    let mut e = vec![msg::CHANNEL_EXTENDED_DATA];
                    wire::put_u32(&mut e, ch);
                    wire::put_u32(&mut e, 1);
                    wire::put_string(&mut e, b"oops\n");
                    self.send(&e);
                    let mut x = vec![msg::CHANNEL_REQUEST];
                    wire::put_u32(&mut x, ch);
                    wire::put_string(&mut x, b"exit-status");
                    wire::put_bool(&mut x, false);
                    wire::put_u32(&mut x, 7);
                    self.send(&x);
                    let mut eof = vec![msg::CHANNEL_EOF];
                    wire::put_u32(&mut eof, ch);
                    self.send(&eof);
                    let mut close = vec![msg::CHANNEL_CLOSE];
                    wire::put_u32(&mut close, ch);
                    self.send(&close);
                }
            }
            msg::CHANNEL_DATA => {
                r.u32("recipient").unwrap();
                self.received.extend_from_slice(r.string("data").unwrap());
            }
            _ => {}
        }
    }

    fn kex_reply(&mut self, q_c: Vec<u8>) {
        // EXT_INFO may follow only the first NEWKEYS (RFC 8308 §2.4).
        let first = self.session_id.is_none();
        let theirs = self.theirs.clone().unwrap();
        let neg = seashell_proto::kex::negotiate::negotiate(&theirs, &self.ours, false).unwrap();
        let eph = Curve25519::generate().unwrap();
        let q_s = *eph.public();
        let blob = self.host_key.public_key().to_blob();
        let inputs = HashInputs {
            client_ident: self.client_ident.as_bytes(),
            server_ident: IDENT.as_bytes(),
            client_kexinit: &theirs.raw,
            server_kexinit: &self.ours.raw,
            host_key: &blob,
        };
        let out = eph
            .finish(KexAlg::Curve25519Sha256, &q_c, inputs, false)
            .unwrap();
        let sig = self
            .host_key
            .sign("ssh-ed25519", &out.exchange_hash)
            .unwrap();
        let sid = self
            .session_id
            .get_or_insert(out.exchange_hash.clone())
            .clone();
        let mut p = vec![msg::KEX_ECDH_REPLY];
        wire::put_string(&mut p, &blob);
        wire::put_string(&mut p, &q_s);
        wire::put_string(&mut p, &sig);
        self.send(&p);
        if self.script.ignore_before_newkeys {
            self.send(&[msg::IGNORE, 0, 0, 0, 0]);
        }
        self.send(&[msg::NEWKEYS]);
        let (c2s, s2c) = (neg.cipher_c2s, neg.cipher_s2c);
        self.writer.set_sealer(
            Sealer::new(
                s2c,
                &derive_key(&out, &sid, b'D', s2c.key_len()),
                &derive_key(&out, &sid, b'B', s2c.iv_len()),
            )
            .unwrap(),
        );
        if !self.script.no_strict {
            self.writer.reset_seq();
        }
        self.opener = Some(
            Opener::new(
                c2s,
                &derive_key(&out, &sid, b'C', c2s.key_len()),
                &derive_key(&out, &sid, b'A', c2s.iv_len()),
            )
            .unwrap(),
        );
        if !first {
            return;
        }
        if let Some((count, entries)) = &self.script.ext_info {
            let mut e = vec![msg::EXT_INFO];
            wire::put_u32(&mut e, *count);
            for (name, value) in entries {
                wire::put_string(&mut e, name);
                wire::put_string(&mut e, value);
            }
            self.send(&e);
        } else if !self.script.no_ext_info {
            let mut e = vec![msg::EXT_INFO];
            wire::put_u32(&mut e, 1);
            wire::put_string(&mut e, b"server-sig-algs");
            wire::put_string(&mut e, b"ssh-ed25519,rsa-sha2-256");
            self.send(&e);
        }
    }

    fn userauth(&mut self, p: &[u8]) {
        self.auth_requests += 1;
        let mut r = Reader::new(p);
        r.u8("n").unwrap();
        r.string("user").unwrap();
        r.string("service").unwrap();
        let method = r.string("method").unwrap();
        let ok = match method {
            b"password" => {
                r.bool("change").unwrap();
                r.string("password").unwrap() == PASSWORD.as_bytes()
            }
            b"publickey" => {
                r.bool("has sig").unwrap();
                let alg = std::str::from_utf8(r.string("alg").unwrap())
                    .unwrap()
                    .to_owned();
                let blob = r.string("blob").unwrap();
                let key = seashell_proto::PublicKey::from_blob(blob).unwrap();
                let signed_len = p.len() - r.remaining();
                let sig = r.string("sig").unwrap();
                let mut data = Vec::new();
                wire::put_string(&mut data, self.session_id.as_ref().unwrap());
                data.extend_from_slice(&p[..signed_len]);
                key.verify(&alg, &data, sig).is_ok()
            }
            _ => false,
        };
        if ok {
            self.send(&[msg::USERAUTH_SUCCESS]);
        } else {
            let mut f = vec![msg::USERAUTH_FAILURE];
            wire::put_string(&mut f, b"publickey,password");
            wire::put_bool(&mut f, false);
            self.send(&f);
        }
    }
}

/// A short, comparable description of an event.
pub fn describe(ev: &Event) -> String {
    match ev {
        Event::HostKey(c) => format!("hostkey {}", c.fingerprint()),
        Event::Data { data, .. } => format!("data {:?}", String::from_utf8_lossy(data)),
        Event::ExtendedData { code, data, .. } => {
            format!("ext {code} {:?}", String::from_utf8_lossy(data))
        }
        Event::ConnectionLost(e) => format!("lost {e:?}"),
        // Without the token, whose serial differs from run to run.
        Event::AuthMethods {
            methods,
            partial_success,
            ..
        } => format!("AuthMethods {methods:?} partial={partial_success}"),
        other => format!("{other:?}"),
    }
}

pub fn client(now: Instant) -> ClientConnection {
    ClientConnection::new(Arc::new(ClientConfig::new("alice")), now).unwrap()
}

/// Runs a full session (host key accepted, password auth, exec, output, exit status, close)
/// delivering the server's bytes to the client in chunks chosen by `split`. Returns the
/// events the client reported, described.
pub fn run_session(script: Script, mut split: impl FnMut(usize) -> usize) -> Vec<String> {
    let now = Instant::now();
    let mut c = client(now);
    let mut s = FakeServer::new(script);
    let mut log = Vec::new();
    let mut buf = Vec::new();
    let mut chan: Option<ChannelId> = None;
    for _round in 0..200 {
        buf.clear();
        c.poll_transmit(&mut buf);
        s.feed(&buf);
        let wire = std::mem::take(&mut s.out);
        let mut at = 0;
        while at < wire.len() {
            let n = split(wire.len() - at).clamp(1, wire.len() - at);
            if c.feed(now, &wire[at..at + n]).is_err() {
                break;
            }
            at += n;
        }
        while let Some(ev) = c.poll_event() {
            log.push(describe(&ev));
            match ev {
                Event::HostKey(check) => {
                    let _ = c.accept_host_key(check);
                }
                Event::AuthMethods { choice, .. } => c
                    .authenticate(choice, AuthMethod::Password(PASSWORD.to_owned().into()))
                    .unwrap(),
                Event::Authenticated => {
                    let id = c.open_session().unwrap();
                    chan = Some(id);
                }
                Event::ChannelOpened(id) => c.channel(id).unwrap().exec(b"run").unwrap(),
                Event::Data { id, data } | Event::ExtendedData { id, data, .. } => {
                    // The channel may already be closed: its id is then gone.
                    if let Some(mut ch) = c.channel(id) {
                        ch.consume(data.len()).unwrap()
                    }
                }
                Event::Closed(_) | Event::ConnectionLost(_) => return log,
                _ => {}
            }
        }
        if wire.is_empty() && !c.wants_write() && chan.is_some() && c.is_closed() {
            break;
        }
    }
    log
}
