//! The client's side of key exchange and re-exchange: KEXINIT, the ECDH reply, the host-key
//! decision, NEWKEYS and strict KEX.

use super::ClientConnection;
use crate::crypto::{Opener, Sealer};
use crate::error::{Error, PeerMisbehaved};
use crate::event::{Event, HostKeyCheck};
use crate::kex::curve25519::{Curve25519, HashInputs};
use crate::kex::derive::derive_key;
use crate::kex::negotiate::{Negotiated, negotiate};
use crate::kex::{EXT_INFO_CLIENT, KexInit, STRICT_KEX_CLIENT, STRICT_KEX_SERVER, slot};
use crate::keys::PublicKey;
use crate::wire::{self, Reader, msg};
use bytes::Bytes;

// One per connection; the keys in `Finishing` are large but short-lived.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Default)]
enum Phase {
    #[default]
    Idle,
    /// Our KEXINIT is sent; the server's has not arrived.
    SentInit { ours: KexInit },
    /// Both KEXINITs are known and our ECDH_INIT is sent.
    AwaitReply(Box<AwaitReply>),
    /// The reply is verified and keys are derived. `sealer` goes when we send NEWKEYS (after
    /// the host-key decision on the first exchange), `opener` when the server's NEWKEYS arrives.
    Finishing {
        sealer: Option<Sealer>,
        opener: Option<Opener>,
    },
}

/// Both KEXINITs and our ephemeral key, waiting for the server's reply.
#[derive(Debug)]
struct AwaitReply {
    ours: KexInit,
    theirs: KexInit,
    eph: Curve25519,
}

/// Key-exchange state that lives for the whole connection.
#[derive(Debug, Default)]
pub(super) struct KexState {
    phase: Phase,
    session_id: Option<Vec<u8>>,
    /// The host key the application accepted at the first exchange.
    host_key: Option<PublicKey>,
    /// A host key verified by the first exchange, waiting for the application's decision.
    pending_host_key: bool,
    negotiated: Option<Negotiated>,
    strict: bool,
    initial_done: bool,
    /// Completed key exchanges, the first included.
    completed: u64,
    /// The server's first NEWKEYS has arrived: its side of the first exchange is over.
    peer_initial_done: bool,
    /// The server's KEXINIT arrived and its NEWKEYS has not.
    peer_in_kex: bool,
    /// The next packet may be EXT_INFO (it follows the first NEWKEYS).
    pub(super) expect_ext_info: bool,
    /// The server guessed wrongly and its next KEX packet must be ignored.
    skip_guessed: bool,
}

impl KexState {
    pub(super) fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle)
    }

    /// Whether our side is mid-exchange, so only transport and KEX messages may be sent.
    pub(super) fn sending_blocked(&self) -> bool {
        match &self.phase {
            Phase::Idle => false,
            Phase::SentInit { .. } | Phase::AwaitReply(_) => true,
            Phase::Finishing { sealer, .. } => sealer.is_some(),
        }
    }

    pub(super) fn session_id(&self) -> Option<&[u8]> {
        self.session_id.as_deref()
    }

    pub(super) fn host_key(&self) -> Option<&PublicKey> {
        self.host_key.as_ref()
    }

    pub(super) fn completed(&self) -> u64 {
        self.completed
    }

    pub(super) fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// Whether the server has finished its side of the first exchange (sent NEWKEYS).
    pub(super) fn peer_initial_done(&self) -> bool {
        self.peer_initial_done
    }

    pub(super) fn strict(&self) -> bool {
        self.strict
    }

    pub(super) fn peer_in_kex(&self) -> bool {
        self.peer_in_kex
    }
}

impl ClientConnection {
    /// Sends our KEXINIT. The first one carries `ext-info-c` and the strict-KEX marker.
    pub(super) fn start_kex(&mut self) -> Result<(), Error> {
        let first = self.kex.session_id.is_none();
        let mut kex = self.config.kex_algorithms.clone();
        if first {
            kex.push(EXT_INFO_CLIENT.to_owned());
            kex.push(STRICT_KEX_CLIENT.to_owned());
        }
        let c = &self.config;
        let none = vec!["none".to_owned()];
        let lists = [
            kex,
            c.host_key_algorithms.clone(),
            c.ciphers.clone(),
            c.ciphers.clone(),
            Vec::new(),
            Vec::new(),
            none.clone(),
            none,
            Vec::new(),
            Vec::new(),
        ];
        let ours = KexInit::build(lists, self.config.rng.as_ref())?;
        self.write_payload_raw(&ours.raw)?;
        self.kex.phase = Phase::SentInit { ours };
        Ok(())
    }

    fn write_payload_raw(&mut self, payload: &[u8]) -> Result<(), Error> {
        let rng = self.config.rng.clone();
        self.writer.write(&mut self.out, rng.as_ref(), |o| {
            o.extend_from_slice(payload)
        })
    }

    /// Handles a KEX-range message (20–49).
    pub(super) fn on_kex_message(&mut self, payload: Bytes) -> Result<(), Error> {
        let n = payload.first().copied().unwrap_or(0);
        if self.kex.skip_guessed && n != msg::KEXINIT && n != msg::NEWKEYS {
            self.kex.skip_guessed = false;
            return Ok(());
        }
        match n {
            msg::KEXINIT => self.on_kexinit(payload),
            msg::KEX_ECDH_REPLY => self.on_ecdh_reply(&payload),
            msg::NEWKEYS => self.on_newkeys(&payload),
            other => Err(PeerMisbehaved::UnexpectedMessage(other).into()),
        }
    }

    fn on_kexinit(&mut self, payload: Bytes) -> Result<(), Error> {
        if self.kex.peer_in_kex {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::KEXINIT).into());
        }
        let theirs = KexInit::decode(payload)?;
        if !self.kex.initial_done {
            self.kex.strict = theirs.offers(slot::KEX, STRICT_KEX_SERVER);
            // The reader has counted this packet: it must have been packet 0.
            if self.kex.strict && self.reader.seq() != 1 {
                return Err(PeerMisbehaved::KexInitNotFirst.into());
            }
        }
        self.kex.peer_in_kex = true;
        if self.kex.is_idle() {
            self.start_kex()?;
        }
        let Phase::SentInit { ours } = std::mem::take(&mut self.kex.phase) else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::KEXINIT).into());
        };
        let negotiated = negotiate(&ours, &theirs, true)?;
        if theirs.first_kex_packet_follows {
            let first = |i: usize| theirs.lists.get(i).and_then(|l| l.first()).cloned();
            self.kex.skip_guessed = first(slot::KEX).as_deref() != Some(negotiated.kex.name())
                || first(slot::HOST_KEY).as_deref() != Some(negotiated.host_key.as_str());
        }
        let eph = Curve25519::generate()?;
        let mut p = vec![msg::KEX_ECDH_INIT];
        wire::put_string(&mut p, eph.public());
        self.write_payload_raw(&p)?;
        self.kex.negotiated = Some(negotiated);
        self.kex.phase = Phase::AwaitReply(Box::new(AwaitReply { ours, theirs, eph }));
        Ok(())
    }

    fn on_ecdh_reply(&mut self, payload: &[u8]) -> Result<(), Error> {
        let Phase::AwaitReply(wait) = std::mem::take(&mut self.kex.phase) else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::KEX_ECDH_REPLY).into());
        };
        let AwaitReply { ours, theirs, eph } = *wait;
        let neg = self
            .kex
            .negotiated
            .clone()
            .ok_or(PeerMisbehaved::UnexpectedMessage(msg::KEX_ECDH_REPLY))?;
        let mut r = Reader::new(payload);
        r.u8("kex ecdh reply")?;
        let host_key_blob = r.string("server host key")?;
        let q_s = r.string("server ephemeral key")?;
        let signature = r.string("exchange hash signature")?;
        r.end("kex ecdh reply")?;
        let host_key = PublicKey::from_blob(host_key_blob)?;
        let inputs = HashInputs {
            client_ident: self.config.client_id.as_bytes(),
            server_ident: self.server_ident.as_deref().unwrap_or_default().as_bytes(),
            client_kexinit: &ours.raw,
            server_kexinit: &theirs.raw,
            host_key: host_key_blob,
        };
        let out = eph.finish(neg.kex, q_s, inputs, true)?;
        host_key.verify(&neg.host_key, &out.exchange_hash, signature)?;
        let sid = self
            .kex
            .session_id
            .get_or_insert_with(|| out.exchange_hash.clone())
            .clone();
        let (c2s, s2c) = (neg.cipher_c2s, neg.cipher_s2c);
        let sealer = Sealer::new(
            c2s,
            &derive_key(&out, &sid, b'C', c2s.key_len()),
            &derive_key(&out, &sid, b'A', c2s.iv_len()),
        )?;
        let opener = Opener::new(
            s2c,
            &derive_key(&out, &sid, b'D', s2c.key_len()),
            &derive_key(&out, &sid, b'B', s2c.iv_len()),
        )?;
        self.kex.phase = Phase::Finishing {
            sealer: Some(sealer),
            opener: Some(opener),
        };
        match &self.kex.host_key {
            None => {
                self.kex.pending_host_key = true;
                self.events.push_back(Event::HostKey(HostKeyCheck {
                    key: host_key,
                    algorithm: neg.host_key,
                }));
                Ok(())
            }
            Some(known) if *known == host_key => self.send_newkeys(),
            Some(_) => Err(PeerMisbehaved::HostKeyChanged.into()),
        }
    }

    pub(super) fn on_host_key_accepted(&mut self, check: HostKeyCheck) -> Result<(), Error> {
        if !self.kex.pending_host_key {
            return Err(
                crate::error::ApiMisuse::WrongState("no host key decision is pending").into(),
            );
        }
        self.kex.pending_host_key = false;
        self.kex.host_key = Some(check.key);
        self.send_newkeys()
    }

    /// Sends NEWKEYS, switches outgoing keys, then releases what was held during the exchange.
    fn send_newkeys(&mut self) -> Result<(), Error> {
        let Phase::Finishing { sealer, opener } = &mut self.kex.phase else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::NEWKEYS).into());
        };
        let Some(sealer) = sealer.take() else {
            return Ok(());
        };
        let done = opener.is_none();
        self.write_payload_raw(&[msg::NEWKEYS])?;
        self.writer.set_sealer(sealer);
        if self.kex.strict {
            self.writer.reset_seq();
        }
        if done {
            self.finish_kex();
        }
        if self.auth.needs_service_request() {
            let p = self.auth.service_request();
            self.write_payload_raw(&p)?;
        }
        while let Some(p) = self.held.pop_front() {
            self.write_payload_raw(&p)?;
        }
        self.channels.wake_writable(&mut self.events);
        Ok(())
    }

    fn on_newkeys(&mut self, payload: &[u8]) -> Result<(), Error> {
        let Phase::Finishing { sealer, opener } = &mut self.kex.phase else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::NEWKEYS).into());
        };
        if payload.len() != 1 {
            return Err(crate::error::InvalidMessage::TrailingBytes("newkeys").into());
        }
        let Some(o) = opener.take() else {
            return Err(PeerMisbehaved::UnexpectedMessage(msg::NEWKEYS).into());
        };
        let done = sealer.is_none();
        self.reader.set_opener(o);
        if self.kex.strict {
            self.reader.reset_seq();
        }
        self.kex.peer_in_kex = false;
        if !self.kex.peer_initial_done {
            self.kex.peer_initial_done = true;
            self.kex.expect_ext_info = true;
        }
        if done {
            self.finish_kex();
        }
        Ok(())
    }

    fn finish_kex(&mut self) {
        self.kex.completed += 1;
        self.kex.phase = Phase::Idle;
        self.kex.initial_done = true;
    }
}
