//! The key-exchange state machine, for both roles: KEXINIT, the ECDH messages, NEWKEYS,
//! strict KEX, guessed packets and re-exchanges. It works on the shared [`Transport`] and tells
//! its role what to do next with a [`KexStep`].

use super::curve25519::HashInputs;
use super::derive::derive_key;
use super::dh::Modp;
use super::method::{
    ClientKex, put_value as put_kex_value, read_value as kex_value, server_respond,
};
use super::negotiate::{Negotiated, negotiate};
use super::{EXT_INFO_CLIENT, KexInit, STRICT_KEX_CLIENT, STRICT_KEX_SERVER, slot};
use crate::crypto::{CipherAlg, MacAlg, Opener, Sealer};
use crate::error::{ApiMisuse, Error, InvalidMessage, PeerMisbehaved};
use crate::event::HostKeyCheck;
use crate::keys::{PrivateKey, PublicKey};
use crate::transport::compress::CompressionAlg;
use crate::transport::conn::Transport;
use crate::wire::{self, Reader, msg};
use bytes::Bytes;
use std::sync::Arc;

/// Which end of the exchange we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Client,
    Server,
}

/// The algorithm lists we offer (markers are added by the machine).
#[derive(Debug, Clone)]
pub(crate) struct KexLists {
    pub kex: Vec<String>,
    pub host_key: Vec<String>,
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
    pub compression: Vec<String>,
}

/// What the role must do after a KEX step.
#[derive(Debug)]
pub(crate) enum KexStep {
    /// Nothing beyond what the machine did.
    Nothing,
    /// Client, first exchange: the application must decide on this verified host key.
    HostKey(HostKeyCheck),
    /// We sent NEWKEYS: the role sends what must follow it (EXT_INFO, SERVICE_REQUEST), then
    /// releases held messages.
    SentNewKeys {
        /// Whether this was the first exchange of the connection.
        first: bool,
    },
}

#[derive(Debug)]
struct Pending {
    ours: KexInit,
    theirs: KexInit,
    /// The client's ephemeral key (client role only).
    eph: Option<ClientKex>,
    /// Server, group exchange: the client's request and the group we sent.
    gex: Option<super::gex::Transcript>,
}

// One per connection; the keys in `Finishing` are large but short-lived.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Default)]
enum Phase {
    #[default]
    Idle,
    /// Our KEXINIT is sent; the peer's has not arrived.
    SentInit { ours: KexInit },
    /// Both KEXINITs are known; the ECDH message of the other side is awaited.
    Exchanging(Box<Pending>),
    /// Keys are derived. `sealer` goes when we send NEWKEYS (after the host-key decision on a
    /// client's first exchange), `opener` when the peer's NEWKEYS arrives.
    Finishing {
        sealer: Option<Sealer>,
        opener: Option<Opener>,
    },
}

/// Key-exchange state for the whole connection.
#[derive(Debug)]
pub(crate) struct KexMachine {
    role: Role,
    phase: Phase,
    session_id: Option<Vec<u8>>,
    /// The host key's signature over the session identifier (the first exchange's), for
    /// an agent's `session-bind@openssh.com`.
    session_signature: Option<Vec<u8>>,
    /// Client: the host key the application accepted at the first exchange. Server: the host
    /// key of the first exchange (host-bound authentication must name it).
    host_key: Option<PublicKey>,
    /// The serial of the host-key decision the application owes us.
    pending_host_key: Option<u64>,
    negotiated: Option<Negotiated>,
    strict: bool,
    /// The peer's first NEWKEYS has arrived: its side of the first exchange is over.
    peer_initial_done: bool,
    /// The peer's KEXINIT arrived and its NEWKEYS has not.
    peer_in_kex: bool,
    /// The next packet may be EXT_INFO (it follows the server's first NEWKEYS).
    pub expect_ext_info: bool,
    /// Server: the client asked for EXT_INFO (`ext-info-c`).
    pub peer_wants_ext_info: bool,
    /// The peer guessed wrongly and its next KEX packet must be ignored.
    skip_guessed: bool,
    /// NEWKEYS messages we have sent.
    newkeys_sent: u64,
    /// Completed exchanges.
    completed: u64,
    /// Server: the group-exchange groups (a `moduli` file's); `None` uses the built-ins.
    gex_groups: Option<Arc<Vec<Modp>>>,
}

/// One direction's derived keys (RFC 4253 §7.2): cipher key, IV and, for a non-AEAD
/// cipher, the MAC key.
struct DirectionKeys {
    alg: CipherAlg,
    key: zeroize::Zeroizing<Vec<u8>>,
    iv: zeroize::Zeroizing<Vec<u8>>,
    mac: Option<(MacAlg, zeroize::Zeroizing<Vec<u8>>)>,
}

impl DirectionKeys {
    /// `letters` are the IV, key and MAC-key letters: `b"ACE"` client to server, `b"BDF"`
    /// server to client.
    fn derive(
        out: &super::KexOutput,
        sid: &[u8],
        alg: CipherAlg,
        mac: Option<MacAlg>,
        letters: [u8; 3],
    ) -> Self {
        let [iv, key, mac_letter] = letters;
        DirectionKeys {
            alg,
            key: derive_key(out, sid, key, alg.key_len()),
            iv: derive_key(out, sid, iv, alg.iv_len()),
            mac: mac.map(|m| (m, derive_key(out, sid, mac_letter, m.key_len()))),
        }
    }

    fn mac(&self) -> Option<(MacAlg, &[u8])> {
        self.mac.as_ref().map(|(m, k)| (*m, k.as_slice()))
    }

    fn sealer(&self) -> Result<Sealer, Error> {
        Ok(Sealer::with_mac(self.alg, &self.key, &self.iv, self.mac())?)
    }

    fn opener(&self) -> Result<Opener, Error> {
        Ok(Opener::with_mac(self.alg, &self.key, &self.iv, self.mac())?)
    }
}

impl KexMachine {
    pub fn new(role: Role) -> KexMachine {
        KexMachine {
            role,
            phase: Phase::Idle,
            session_id: None,
            session_signature: None,
            host_key: None,
            pending_host_key: None,
            negotiated: None,
            strict: false,
            peer_initial_done: false,
            peer_in_kex: false,
            expect_ext_info: false,
            peer_wants_ext_info: false,
            skip_guessed: false,
            newkeys_sent: 0,
            completed: 0,
            gex_groups: None,
        }
    }

    /// Server: offers these groups for group exchange instead of the built-in ones.
    pub fn with_gex_groups(mut self, groups: Option<Arc<Vec<Modp>>>) -> KexMachine {
        self.gex_groups = groups;
        self
    }

    pub fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle)
    }

    /// Whether our side is mid-exchange, so only transport and KEX messages may be sent.
    pub fn sending_blocked(&self) -> bool {
        match &self.phase {
            Phase::Idle => false,
            Phase::SentInit { .. } | Phase::Exchanging(_) => true,
            Phase::Finishing { sealer, .. } => sealer.is_some(),
        }
    }

    /// The host key's signature over the session identifier, from the first exchange.
    pub fn session_signature(&self) -> Option<&[u8]> {
        self.session_signature.as_deref()
    }

    /// The session identifier (the first exchange hash), once known.
    pub fn session_id(&self) -> Option<&[u8]> {
        self.session_id.as_deref()
    }

    pub fn host_key(&self) -> Option<&PublicKey> {
        self.host_key.as_ref()
    }

    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    pub fn completed(&self) -> u64 {
        self.completed
    }

    pub fn peer_initial_done(&self) -> bool {
        self.peer_initial_done
    }

    pub fn strict(&self) -> bool {
        self.strict
    }

    pub fn peer_in_kex(&self) -> bool {
        self.peer_in_kex
    }

    /// Sends our KEXINIT. The first one carries the strict-KEX marker (and `ext-info-c` from a
    /// client).
    pub fn start(&mut self, t: &mut Transport, lists: &KexLists) -> Result<(), Error> {
        let first = self.session_id.is_none();
        let mut kex = lists.kex.clone();
        if first {
            match self.role {
                Role::Client => {
                    kex.push(EXT_INFO_CLIENT.to_owned());
                    kex.push(STRICT_KEX_CLIENT.to_owned());
                }
                Role::Server => kex.push(STRICT_KEX_SERVER.to_owned()),
            }
        }
        let all = [
            kex,
            lists.host_key.clone(),
            lists.ciphers.clone(),
            lists.ciphers.clone(),
            lists.macs.clone(),
            lists.macs.clone(),
            lists.compression.clone(),
            lists.compression.clone(),
            Vec::new(),
            Vec::new(),
        ];
        let ours = KexInit::build(all, t.rng())?;
        t.write(&ours.raw)?;
        self.phase = Phase::SentInit { ours };
        Ok(())
    }

    /// Handles a KEX-range message (20–49).
    pub fn on_message(
        &mut self,
        t: &mut Transport,
        payload: Bytes,
        lists: &KexLists,
        host_keys: &[Arc<PrivateKey>],
    ) -> Result<KexStep, Error> {
        let n = payload.first().copied().unwrap_or(0);
        if self.skip_guessed && n != msg::KEXINIT && n != msg::NEWKEYS {
            self.skip_guessed = false;
            return Ok(KexStep::Nothing);
        }
        let gex = self.negotiated.as_ref().is_some_and(|n| n.kex.is_gex());
        match (n, self.role) {
            (msg::KEXINIT, _) => self.on_kexinit(t, payload, lists),
            (msg::KEX_DH_GEX_GROUP, Role::Client) if gex => self.on_gex_group(t, &payload),
            (msg::KEX_DH_GEX_REQUEST, Role::Server) if gex => self.on_gex_request(t, &payload),
            (msg::KEX_DH_GEX_REPLY, Role::Client) if gex => self.on_ecdh_reply(t, &payload),
            (msg::KEX_DH_GEX_INIT, Role::Server) if gex => {
                self.on_ecdh_init(t, &payload, host_keys)
            }
            (msg::KEX_ECDH_REPLY, Role::Client) if !gex => self.on_ecdh_reply(t, &payload),
            (msg::KEX_ECDH_INIT, Role::Server) if !gex => self.on_ecdh_init(t, &payload, host_keys),
            (msg::NEWKEYS, _) => self.on_newkeys(t, &payload),
            (other, _) => Err(PeerMisbehaved::UnexpectedMessage(other).into()),
        }
    }

    fn on_kexinit(
        &mut self,
        t: &mut Transport,
        payload: Bytes,
        lists: &KexLists,
    ) -> Result<KexStep, Error> {
        if self.peer_in_kex {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::KEXINIT).into());
        }
        let theirs = KexInit::decode(payload)?;
        if self.session_id.is_none() {
            let marker = match self.role {
                Role::Client => STRICT_KEX_SERVER,
                Role::Server => STRICT_KEX_CLIENT,
            };
            self.strict = theirs.offers(slot::KEX, marker);
            self.peer_wants_ext_info = theirs.offers(slot::KEX, EXT_INFO_CLIENT);
            // The reader has counted this packet: it must have been packet 0.
            if self.strict && t.reader.seq() != 1 {
                return Err(PeerMisbehaved::KexInitNotFirst.into());
            }
        }
        self.peer_in_kex = true;
        if self.is_idle() {
            self.start(t, lists)?;
        }
        let Phase::SentInit { ours } = std::mem::take(&mut self.phase) else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::KEXINIT).into());
        };
        let negotiated = match self.role {
            Role::Client => negotiate(&ours, &theirs, true)?,
            Role::Server => negotiate(&theirs, &ours, false)?,
        };
        if theirs.first_kex_packet_follows {
            // RFC 4253 §7: the guess is wrong when the two sides' *preferred* (first-listed)
            // key-exchange or host-key algorithms differ, whatever is finally negotiated (as
            // OpenSSH's `proposals_match` and Dropbear decide).
            let first = |k: &KexInit, i: usize| k.lists.get(i).and_then(|l| l.first()).cloned();
            self.skip_guessed = first(&theirs, slot::KEX) != first(&ours, slot::KEX)
                || first(&theirs, slot::HOST_KEY) != first(&ours, slot::HOST_KEY);
        }
        let eph = match self.role {
            Role::Client => {
                let eph = ClientKex::start_for(&negotiated, t.rng())?;
                t.write(&eph.first_message())?;
                Some(eph)
            }
            Role::Server => None,
        };
        self.negotiated = Some(negotiated);
        self.phase = Phase::Exchanging(Box::new(Pending {
            ours,
            theirs,
            eph,
            gex: None,
        }));
        Ok(KexStep::Nothing)
    }

    fn take_pending(&mut self, n: u8) -> Result<(Pending, Negotiated), Error> {
        let Phase::Exchanging(p) = std::mem::take(&mut self.phase) else {
            return Err(PeerMisbehaved::UnexpectedMessage(n).into());
        };
        let neg = self
            .negotiated
            .clone()
            .ok_or(PeerMisbehaved::UnexpectedMessage(n))?;
        Ok((*p, neg))
    }

    /// Client, group exchange: the server's group arrived; we answer with e.
    fn on_gex_group(&mut self, t: &mut Transport, payload: &[u8]) -> Result<KexStep, Error> {
        let unexpected = PeerMisbehaved::UnexpectedMessage(msg::KEX_DH_GEX_GROUP);
        let Phase::Exchanging(p) = &mut self.phase else {
            return Err(unexpected.into());
        };
        let eph = p.eph.as_mut().ok_or(unexpected)?;
        let init = eph.on_gex_group(payload, t.rng())?;
        t.write(&init)?;
        Ok(KexStep::Nothing)
    }

    /// Server, group exchange: the client's request arrived; we send a group.
    fn on_gex_request(&mut self, t: &mut Transport, payload: &[u8]) -> Result<KexStep, Error> {
        let unexpected = PeerMisbehaved::UnexpectedMessage(msg::KEX_DH_GEX_REQUEST);
        let Phase::Exchanging(p) = &mut self.phase else {
            return Err(unexpected.into());
        };
        if p.gex.is_some() {
            return Err(unexpected.into());
        }
        let groups = self.gex_groups.as_deref().map(Vec::as_slice);
        let (transcript, reply) = super::gex::on_request(payload, groups, t.rng())?;
        t.write(&reply)?;
        p.gex = Some(transcript);
        Ok(KexStep::Nothing)
    }

    fn on_ecdh_reply(&mut self, t: &mut Transport, payload: &[u8]) -> Result<KexStep, Error> {
        let (
            Pending {
                ours, theirs, eph, ..
            },
            neg,
        ) = self.take_pending(msg::KEX_ECDH_REPLY)?;
        let eph = eph.ok_or(PeerMisbehaved::UnexpectedMessage(msg::KEX_ECDH_REPLY))?;
        let mut r = Reader::new(payload);
        r.u8("kex ecdh reply")?;
        let host_key_blob = r.string("server host key")?;
        let q_s = kex_value(&mut r, neg.kex, "server ephemeral key")?;
        let signature = r.string("exchange hash signature")?;
        r.end("kex ecdh reply")?;
        let host_key = PublicKey::from_blob(host_key_blob)?;
        let inputs = HashInputs {
            client_ident: t.our_ident.as_bytes(),
            server_ident: t.peer_ident.as_deref().unwrap_or_default().as_bytes(),
            client_kexinit: &ours.raw,
            server_kexinit: &theirs.raw,
            host_key: host_key_blob,
        };
        let out = eph.finish(q_s, inputs)?;
        host_key.verify(&neg.host_key, &out.exchange_hash, signature)?;
        if self.session_id.is_none() {
            self.session_signature = Some(signature.to_vec());
        }
        let sid = self
            .session_id
            .get_or_insert_with(|| out.exchange_hash.clone())
            .clone();
        let c2s = DirectionKeys::derive(&out, &sid, neg.cipher_c2s, neg.mac_c2s, *b"ACE");
        let s2c = DirectionKeys::derive(&out, &sid, neg.cipher_s2c, neg.mac_s2c, *b"BDF");
        self.phase = Phase::Finishing {
            sealer: Some(c2s.sealer()?),
            opener: Some(s2c.opener()?),
        };
        match &self.host_key {
            None => {
                let ticket = crate::event::Ticket::new();
                self.pending_host_key = Some(ticket.serial());
                Ok(KexStep::HostKey(HostKeyCheck {
                    key: host_key,
                    algorithm: neg.host_key,
                    ticket,
                }))
            }
            Some(known) if *known == host_key => self.send_newkeys(t),
            Some(_) => Err(PeerMisbehaved::HostKeyChanged.into()),
        }
    }

    fn on_ecdh_init(
        &mut self,
        t: &mut Transport,
        payload: &[u8],
        host_keys: &[Arc<PrivateKey>],
    ) -> Result<KexStep, Error> {
        let (
            Pending {
                ours, theirs, gex, ..
            },
            neg,
        ) = self.take_pending(msg::KEX_ECDH_INIT)?;
        let mut r = Reader::new(payload);
        r.u8("kex ecdh init")?;
        let q_c = kex_value(&mut r, neg.kex, "client ephemeral key")?;
        r.end("kex ecdh init")?;
        let key = host_keys
            .iter()
            .find(|k| {
                k.public_key()
                    .signature_algorithms()
                    .contains(&neg.host_key.as_str())
            })
            .ok_or(Error::ApiMisuse(ApiMisuse::BadConfig(
                "no host key for the negotiated algorithm",
            )))?;
        let blob = key.public_key().to_blob();
        if self.host_key.is_none() {
            self.host_key = Some(key.public_key());
        }
        let inputs = HashInputs {
            client_ident: t.peer_ident.as_deref().unwrap_or_default().as_bytes(),
            server_ident: t.our_ident.as_bytes(),
            client_kexinit: &theirs.raw,
            server_kexinit: &ours.raw,
            host_key: &blob,
        };
        let (q_s, out) = server_respond(neg.kex, q_c, inputs, gex.as_ref(), t.rng())?;
        let sig = key.sign(&neg.host_key, &out.exchange_hash)?;
        let sid = self
            .session_id
            .get_or_insert_with(|| out.exchange_hash.clone())
            .clone();
        let c2s = DirectionKeys::derive(&out, &sid, neg.cipher_c2s, neg.mac_c2s, *b"ACE");
        let s2c = DirectionKeys::derive(&out, &sid, neg.cipher_s2c, neg.mac_s2c, *b"BDF");
        let mut p = vec![if neg.kex.is_gex() {
            msg::KEX_DH_GEX_REPLY
        } else {
            msg::KEX_ECDH_REPLY
        }];
        wire::put_string(&mut p, &blob);
        put_kex_value(&mut p, neg.kex, &q_s);
        wire::put_string(&mut p, &sig);
        t.write(&p)?;
        self.phase = Phase::Finishing {
            sealer: Some(s2c.sealer()?),
            opener: Some(c2s.opener()?),
        };
        self.send_newkeys(t)
    }

    /// Client: the application trusts the host key; the exchange continues.
    pub fn accept_host_key(
        &mut self,
        t: &mut Transport,
        mut check: HostKeyCheck,
    ) -> Result<KexStep, Error> {
        if self.pending_host_key != Some(check.ticket.serial()) {
            // A check of another connection (or answered already): nothing is installed.
            return Err(ApiMisuse::WrongState("no such host key decision pending").into());
        }
        check.ticket.defuse();
        self.pending_host_key = None;
        self.host_key = Some(check.key.clone());
        self.send_newkeys(t)
    }

    /// Client: the serial of the host-key decision still owed, if any.
    pub fn pending_host_key(&self) -> Option<u64> {
        self.pending_host_key
    }

    /// Sends NEWKEYS and switches outgoing keys. Held messages stay held until the role has
    /// sent what must come first.
    fn send_newkeys(&mut self, t: &mut Transport) -> Result<KexStep, Error> {
        let Phase::Finishing { sealer, opener } = &mut self.phase else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::NEWKEYS).into());
        };
        let Some(sealer) = sealer.take() else {
            return Ok(KexStep::Nothing);
        };
        let done = opener.is_none();
        t.write(&[msg::NEWKEYS])?;
        t.writer.set_sealer(sealer);
        t.writer.set_compression(self.compression().0);
        if self.strict {
            t.writer.reset_seq();
        }
        let first = self.newkeys_sent == 0;
        self.newkeys_sent += 1;
        if done {
            self.finish();
        }
        Ok(KexStep::SentNewKeys { first })
    }

    fn on_newkeys(&mut self, t: &mut Transport, payload: &[u8]) -> Result<KexStep, Error> {
        let Phase::Finishing { sealer, opener } = &mut self.phase else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::NEWKEYS).into());
        };
        if payload.len() != 1 {
            return Err(InvalidMessage::TrailingBytes("newkeys").into());
        }
        let Some(o) = opener.take() else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::NEWKEYS).into());
        };
        let done = sealer.is_none();
        t.reader.set_opener(o);
        t.reader.set_compression(self.compression().1);
        if self.strict {
            t.reader.reset_seq();
        }
        self.peer_in_kex = false;
        if !self.peer_initial_done {
            self.peer_initial_done = true;
            self.expect_ext_info = self.role == Role::Client;
        }
        if done {
            self.finish();
        }
        Ok(KexStep::Nothing)
    }

    /// The negotiated compression of our (outgoing, incoming) direction.
    fn compression(&self) -> (CompressionAlg, CompressionAlg) {
        let (c2s, s2c) = self
            .negotiated
            .as_ref()
            .map_or(Default::default(), |n| (n.comp_c2s, n.comp_s2c));
        match self.role {
            Role::Client => (c2s, s2c),
            Role::Server => (s2c, c2s),
        }
    }

    fn finish(&mut self) {
        self.completed += 1;
        self.phase = Phase::Idle;
    }
}
