//! Incoming packets, for both roles: reading them off the buffer and routing each message to
//! its layer, enforcing which messages are allowed in which state. The role sees only its
//! own messages (service, EXT_INFO, user authentication).

use super::Connection;
use super::conn::{MAX_PENDING_OPENS, PendingOpen};
use super::global::{GlobalReply, GlobalRequestKind, MAX_OWED, PROVE, Sent};
use super::kind::{ChannelKind, OpenFailure, Opener};
use super::side::Side;
use super::{Channels, channels::MAX_CHANNELS};
use crate::error::{Error, PeerMisbehaved};
use crate::event::{Event, IncomingChannel, IncomingGlobalRequest, Ticket, sanitize};
use crate::kex::machine::KexStep;
use crate::wire::{self, Reader, msg};
use bytes::Bytes;
use std::time::Instant;

impl<S: Side> Connection<S> {
    /// Processes everything complete in the input buffer.
    pub(crate) fn process(&mut self, now: Instant) -> Result<(), Error> {
        self.core.channels.set_now(now);
        if !self.core.t.read_ident()? {
            return Ok(());
        }
        while let Some((payload, seq)) = self.core.t.next_packet()? {
            if !self.core.kex.peer_initial_done() && self.core.t.reader.seq() == 0 {
                return Err(PeerMisbehaved::SequenceWrapDuringInitialKex.into());
            }
            self.timers.heard_from_peer(now);
            self.handle(payload, seq, now)?;
        }
        self.core.maybe_rekey()
    }

    fn handle(&mut self, payload: Bytes, seq: u32, now: Instant) -> Result<(), Error> {
        let n = payload.first().copied().unwrap_or(0);
        if n == msg::DISCONNECT {
            return Err(self.on_disconnect(&payload));
        }
        if self.core.kex.strict() && !self.core.kex.peer_initial_done() && !msg::is_kex(n) {
            return Err(PeerMisbehaved::NonKexMessageDuringStrictKex(n).into());
        }
        let ext_info_allowed = std::mem::take(&mut self.core.kex.expect_ext_info);
        match n {
            msg::IGNORE | msg::DEBUG | msg::UNIMPLEMENTED => return Ok(()),
            _ if msg::is_kex(n) => {
                if n == msg::KEXINIT {
                    self.core.on_peer_kexinit()?;
                }
                let core = &mut self.core;
                let step = core.kex.on_message(
                    &mut core.t,
                    payload,
                    &core.lists,
                    self.side.host_keys(),
                )?;
                return self.after_kex_step(step);
            }
            _ => {}
        }
        if self.core.kex.peer_in_kex() || !self.core.kex.peer_initial_done() {
            return Err(PeerMisbehaved::UnexpectedMessage(n).into());
        }
        match n {
            msg::SERVICE_REQUEST | msg::SERVICE_ACCEPT | msg::EXT_INFO | 50..=79 => {
                S::on_message(self, n, payload, now, ext_info_allowed)
            }
            80..=127 if !self.side.is_authenticated() => {
                Err(PeerMisbehaved::UnexpectedMessage(n).into())
            }
            msg::GLOBAL_REQUEST => self.on_global_request(&payload),
            msg::REQUEST_SUCCESS | msg::REQUEST_FAILURE => self.on_global_reply(n, &payload),
            msg::CHANNEL_OPEN => self.on_channel_open(&payload),
            msg::CHANNEL_OPEN_CONFIRMATION..=msg::CHANNEL_FAILURE => {
                let mut replies = Vec::new();
                let core = &mut self.core;
                core.channels
                    .on_message(&payload, &mut core.t.events, &mut replies)?;
                replies.into_iter().try_for_each(|r| self.send(r))
            }
            _ if (80..=127).contains(&n) => Err(PeerMisbehaved::UnexpectedMessage(n).into()),
            msg::PING => {
                // Answered only once authenticated, as OpenSSH does.
                let pong = crate::transport::ping::pong_for(&payload)?;
                if self.side.is_authenticated() {
                    self.send(pong)?;
                }
                Ok(())
            }
            msg::PONG => {
                if let Some(data) = self.ping.on_pong(&payload)? {
                    self.emit(Event::Pong(data));
                }
                Ok(())
            }
            _ => {
                let mut p = vec![msg::UNIMPLEMENTED];
                wire::put_u32(&mut p, seq);
                self.send(p)
            }
        }
    }

    fn on_disconnect(&mut self, payload: &[u8]) -> Error {
        self.core.t.peer_disconnected();
        let mut r = Reader::new(payload);
        let _ = r.u8("disconnect");
        let reason = r.u32("disconnect reason").unwrap_or(0);
        let description = r
            .string("disconnect description")
            .map(sanitize)
            .unwrap_or_default();
        Error::DisconnectReceived {
            reason,
            description,
        }
    }

    /// What follows a key-exchange step: the client's host-key decision, or after our NEWKEYS
    /// what the role sends first, then everything held during the exchange, then writers.
    pub(crate) fn after_kex_step(&mut self, step: KexStep) -> Result<(), Error> {
        match step {
            KexStep::Nothing => Ok(()),
            KexStep::HostKey(check) => {
                self.emit(Event::HostKey(check));
                Ok(())
            }
            KexStep::SentNewKeys { first } => {
                S::after_new_keys(self, first)?;
                self.core.t.release_held()?;
                let core = &mut self.core;
                core.channels.wake_writable(&mut core.t.events);
                Ok(())
            }
        }
    }

    fn on_global_request(&mut self, payload: &[u8]) -> Result<(), Error> {
        let mut r = Reader::new(payload);
        r.u8("global request")?;
        let name = r.string("request name")?;
        let want_reply = r.bool("want reply")?;
        let kind = GlobalRequestKind::decode(name, &mut r)?;
        let ticket = Ticket::new();
        let serial = ticket.serial();
        if want_reply {
            self.globals.owe(serial)?;
        }
        let decide = match &kind {
            // Liveness probes: any answer proves us alive; OpenSSH answers failure.
            GlobalRequestKind::Keepalive => Some(GlobalReply::Failure),
            GlobalRequestKind::NoMoreSessions if S::SERVER => {
                self.globals.no_more_sessions = true;
                Some(GlobalReply::Success)
            }
            GlobalRequestKind::HostKeysProve(keys) if S::SERVER => Some(match self.prove(keys) {
                Some(sigs) => return self.answer_proof(serial, want_reply, sigs),
                None => GlobalReply::Failure,
            }),
            GlobalRequestKind::HostKeys(keys) if !S::SERVER => {
                self.emit(Event::HostKeysAnnounced(keys.clone()));
                Some(GlobalReply::Success)
            }
            GlobalRequestKind::TcpipForward { .. }
            | GlobalRequestKind::CancelTcpipForward { .. }
            | GlobalRequestKind::StreamlocalForward { .. }
            | GlobalRequestKind::CancelStreamlocalForward { .. }
                if S::SERVER =>
            {
                None
            }
            GlobalRequestKind::Other { .. } => None,
            // Requests the direction does not allow.
            _ => Some(GlobalReply::Failure),
        };
        match decide {
            Some(reply) if want_reply => self.answer_global(serial, reply),
            Some(_) => Ok(()),
            None if self.globals.undecided >= MAX_OWED => {
                if want_reply {
                    self.answer_global(serial, GlobalReply::Failure)?;
                }
                Ok(())
            }
            None => {
                self.globals.undecided += 1;
                self.emit(Event::GlobalRequest(IncomingGlobalRequest {
                    ticket,
                    kind,
                    want_reply,
                }));
                Ok(())
            }
        }
    }

    /// Server: signatures proving every key of `keys` is ours (`hostkeys-prove-00`), or
    /// `None` if one is not.
    fn prove(&self, keys: &[crate::keys::PublicKey]) -> Option<Vec<Vec<u8>>> {
        let sid = self.core.kex.session_id()?;
        let kex_alg = self.core.negotiated().map(|n| n.host_key.clone());
        keys.iter()
            .map(|k| {
                let private = self
                    .side
                    .host_keys()
                    .iter()
                    .find(|h| h.public_key() == *k)?;
                let data = prove_data(sid, k);
                let alg = proof_algorithm(k, kex_alg.as_deref())?;
                private.sign(alg, &data).ok()
            })
            .collect()
    }

    fn answer_proof(
        &mut self,
        serial: u64,
        want_reply: bool,
        sigs: Vec<Vec<u8>>,
    ) -> Result<(), Error> {
        if !want_reply {
            return Ok(());
        }
        // The reply carries data, so it bypasses `GlobalReply`; order is still kept.
        let mut p = vec![msg::REQUEST_SUCCESS];
        for s in sigs {
            wire::put_string(&mut p, &s);
        }
        for out in self.globals.answer_with(serial, p)? {
            self.send(out)?;
        }
        Ok(())
    }

    fn on_global_reply(&mut self, n: u8, payload: &Bytes) -> Result<(), Error> {
        let (id, sent) = self.globals.on_reply()?;
        let mut r = Reader::new(payload);
        r.u8("global reply")?;
        if n == msg::REQUEST_FAILURE {
            if !matches!(sent, Sent::Keepalive) {
                self.emit(Event::GlobalRequestFailed { id });
            }
            return Ok(());
        }
        let mut bound_port = None;
        match sent {
            Sent::Keepalive => return Ok(()),
            Sent::TcpipForward { port } => {
                let bound = if port == 0 && r.remaining() >= 4 {
                    r.u32("bound port")?
                } else {
                    port
                };
                if port == 0 {
                    bound_port = Some(bound);
                }
                self.globals.tcp_listeners.push(bound);
            }
            Sent::CancelTcpip { port } => {
                if let Some(i) = self.globals.tcp_listeners.iter().position(|p| *p == port) {
                    self.globals.tcp_listeners.swap_remove(i);
                }
            }
            Sent::Streamlocal { path } => self.globals.unix_listeners.push(path),
            Sent::CancelStreamlocal { path } => self.globals.unix_listeners.retain(|p| *p != path),
            Sent::Prove(keys) => {
                let proven = self.check_proofs(&keys, &mut r);
                match proven {
                    Some(()) => self.emit(Event::HostKeysProven(keys)),
                    None => self.emit(Event::GlobalRequestFailed { id }),
                }
                return Ok(());
            }
            Sent::Plain => {}
        }
        self.emit(Event::GlobalRequestSucceeded { id, bound_port });
        Ok(())
    }

    /// Client: checks one signature per key over the session identifier.
    fn check_proofs(&self, keys: &[crate::keys::PublicKey], r: &mut Reader<'_>) -> Option<()> {
        let sid = self.core.kex.session_id()?;
        let kex_alg = self.core.negotiated().map(|n| n.host_key.clone());
        for k in keys {
            let sig = r.string("host key proof").ok()?;
            let data = prove_data(sid, k);
            let alg = match proof_algorithm(k, kex_alg.as_deref()) {
                // An RSA proof when the exchange used no RSA key may use any RSA algorithm
                // (OpenSSH's server signs with its default).
                Some(_) if k.rsa_bits().is_some() && !is_rsa(kex_alg.as_deref()) => {
                    let mut sr = Reader::new(sig);
                    let named = sr.string("signature algorithm").ok()?;
                    let named = std::str::from_utf8(named).ok()?;
                    k.signature_algorithms()
                        .iter()
                        .find(|a| **a == named)
                        .copied()?
                }
                other => other?,
            };
            k.verify(alg, &data, sig).ok()?;
        }
        r.end("host key proofs").ok()
    }

    fn on_channel_open(&mut self, payload: &[u8]) -> Result<(), Error> {
        let mut r = Reader::new(payload);
        r.u8("channel open")?;
        let name = r.string("channel type")?;
        let remote_id = r.u32("sender channel")?;
        let window = r.u32("initial window")?;
        let max_packet = r.u32("maximum packet")?;
        let kind = ChannelKind::decode(name, &mut r)?;
        let refuse = |c: &mut Self, why: OpenFailure, text: &str| {
            c.send(Channels::reject(remote_id, why.code(), text))
        };
        let theirs = if S::SERVER {
            Opener::Client
        } else {
            Opener::Server
        };
        if !matches!(kind.opener(), Opener::Either) && kind.opener() != theirs {
            return refuse(self, OpenFailure::AdministrativelyProhibited, "not allowed");
        }
        if max_packet == 0 {
            return refuse(self, OpenFailure::ResourceShortage, "maximum packet size 0");
        }
        if self.pending_opens.len() >= MAX_PENDING_OPENS
            || self.core.channels.len() + self.pending_opens.len() >= MAX_CHANNELS
        {
            return refuse(self, OpenFailure::ResourceShortage, "too many channels");
        }
        if let Err((why, text)) = self
            .admit_forwarded(&kind)
            .and_then(|()| S::admit_open(self, &kind))
        {
            return refuse(self, why, text);
        }
        let ticket = Ticket::new();
        self.pending_opens.push(PendingOpen {
            serial: ticket.serial(),
            remote_id,
            session: kind == ChannelKind::Session,
        });
        self.emit(Event::ChannelOpenRequest(IncomingChannel {
            ticket,
            kind,
            remote_id,
            window,
            max_packet,
        }));
        Ok(())
    }

    /// Channels the peer may open only because we asked: a forwarded connection for a
    /// listener it granted us, X11 and agent channels after our request for them.
    fn admit_forwarded(&self, kind: &ChannelKind) -> Result<(), (OpenFailure, &'static str)> {
        let denied = (OpenFailure::AdministrativelyProhibited, "not requested");
        match kind {
            ChannelKind::ForwardedTcpip { port, .. }
                if !self.globals.tcp_listeners.contains(port) =>
            {
                Err(denied)
            }
            ChannelKind::ForwardedStreamlocal { path }
                if !self.globals.unix_listeners.contains(path) =>
            {
                Err(denied)
            }
            ChannelKind::X11 { .. } if !self.core.channels.x11_requested => Err(denied),
            ChannelKind::AuthAgent | ChannelKind::AgentConnect
                if !self.core.channels.agent_requested =>
            {
                Err(denied)
            }
            _ => Ok(()),
        }
    }
}

/// What a `hostkeys-prove-00` signature covers.
fn prove_data(session_id: &[u8], key: &crate::keys::PublicKey) -> Vec<u8> {
    let mut d = Vec::new();
    wire::put_string(&mut d, PROVE.as_bytes());
    wire::put_string(&mut d, session_id);
    wire::put_string(&mut d, &key.to_blob());
    d
}

fn is_rsa(alg: Option<&str>) -> bool {
    alg.is_some_and(|a| a.starts_with("rsa-sha2-") || a == "ssh-rsa")
}

/// The algorithm a proof for `key` uses: for RSA keys the exchange's RSA algorithm when it
/// used one, else rsa-sha2-512; for other keys their only one.
fn proof_algorithm(key: &crate::keys::PublicKey, kex_alg: Option<&str>) -> Option<&'static str> {
    let algs = key.signature_algorithms();
    if key.rsa_bits().is_some() {
        let want = if is_rsa(kex_alg) {
            kex_alg?
        } else {
            "rsa-sha2-512"
        };
        return algs.iter().find(|a| **a == want).copied();
    }
    algs.first().copied()
}
