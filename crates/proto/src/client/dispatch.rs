//! Incoming packets: reading them off the buffer and routing each message to its layer,
//! enforcing which messages are allowed in which state.

use super::ClientConnection;
use crate::error::{Error, PeerMisbehaved};
use crate::event::{Event, sanitize};
use crate::wire::{self, Reader, msg};
use bytes::Bytes;

/// Most extensions an EXT_INFO may carry (OpenSSH's limit).
const MAX_EXTENSIONS: u32 = 1024;

impl ClientConnection {
    /// Processes everything complete in the input buffer.
    pub(super) fn process(&mut self) -> Result<(), Error> {
        if !self.core.t.read_ident()? {
            return Ok(());
        }
        while let Some((payload, seq)) = self.core.t.next_packet()? {
            if !self.core.kex.peer_initial_done() && self.core.t.reader.seq() == 0 {
                return Err(PeerMisbehaved::SequenceWrapDuringInitialKex.into());
            }
            self.handle(payload, seq)?;
        }
        self.maybe_rekey()
    }

    fn handle(&mut self, payload: Bytes, seq: u32) -> Result<(), Error> {
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
                let step =
                    self.core
                        .kex
                        .on_message(&mut self.core.t, payload, &self.core.lists, &[])?;
                return self.after_kex_step(step);
            }
            _ => {}
        }
        if self.core.kex.peer_in_kex() || !self.core.kex.peer_initial_done() {
            return Err(PeerMisbehaved::UnexpectedMessage(n).into());
        }
        match n {
            msg::EXT_INFO if ext_info_allowed || self.auth.in_progress() => {
                self.on_ext_info(&payload)
            }
            msg::EXT_INFO => Err(PeerMisbehaved::MisplacedExtInfo.into()),
            msg::SERVICE_ACCEPT => {
                let p = self.auth.on_service_accept(&payload, &self.config.user)?;
                self.send(p)
            }
            msg::USERAUTH_REQUEST | msg::SERVICE_REQUEST => {
                Err(PeerMisbehaved::UnexpectedMessage(n).into())
            }
            51..=79 => {
                if let Some(ev) = self.auth.on_message(&payload)? {
                    if matches!(ev, Event::Authenticated) {
                        self.deadline = None;
                    }
                    self.core.t.events.push_back(ev);
                }
                Ok(())
            }
            _ if (80..=127).contains(&n) && !self.auth.is_done() => {
                Err(PeerMisbehaved::UnexpectedMessage(n).into())
            }
            msg::GLOBAL_REQUEST => self.on_global_request(&payload),
            msg::CHANNEL_OPEN => self.on_channel_open(&payload),
            msg::CHANNEL_OPEN_CONFIRMATION..=msg::CHANNEL_FAILURE => {
                let mut replies = Vec::new();
                self.core
                    .channels
                    .on_message(&payload, &mut self.core.t.events, &mut replies)?;
                for r in replies {
                    self.send(r)?;
                }
                Ok(())
            }
            _ if (80..=127).contains(&n) => Err(PeerMisbehaved::UnexpectedMessage(n).into()),
            msg::PING => self.on_ping(&payload),
            msg::PONG => {
                if let Some(data) = self.ping.on_pong(&payload)? {
                    self.core.t.events.push_back(Event::Pong(data));
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

    fn on_ext_info(&mut self, payload: &[u8]) -> Result<(), Error> {
        let mut r = Reader::new(payload);
        r.u8("ext info")?;
        let count = r.u32("extension count")?;
        if count > MAX_EXTENSIONS {
            return Err(PeerMisbehaved::TooManyExtensions.into());
        }
        for _ in 0..count {
            let name = r.string("extension name")?;
            let value = r.string("extension value")?;
            if crate::transport::ping::advertised(name, value) {
                self.ping.peer_supports = true;
            }
            self.auth.on_extension(name, value);
            if name == b"server-sig-algs" {
                let text = String::from_utf8_lossy(value);
                self.server_sig_algs = Some(wire::names(&text).map(str::to_owned).collect());
            }
        }
        r.end("ext info")?;
        Ok(())
    }

    /// Answers a PING once authenticated (OpenSSH ignores pre-authentication pings).
    fn on_ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        let pong = crate::transport::ping::pong_for(payload)?;
        if self.auth.is_done() {
            self.send(pong)?;
        }
        Ok(())
    }

    fn on_global_request(&mut self, payload: &[u8]) -> Result<(), Error> {
        let mut r = Reader::new(payload);
        r.u8("global request")?;
        r.string("request name")?;
        // Nothing is supported yet (hostkeys-00@openssh.com is informational).
        if r.bool("want reply")? {
            self.send(vec![msg::REQUEST_FAILURE])?;
        }
        Ok(())
    }

    fn on_channel_open(&mut self, payload: &[u8]) -> Result<(), Error> {
        let mut r = Reader::new(payload);
        r.u8("channel open")?;
        r.string("channel type")?;
        let sender = r.u32("sender channel")?;
        let mut p = vec![msg::CHANNEL_OPEN_FAILURE];
        wire::put_u32(&mut p, sender);
        wire::put_u32(&mut p, 1);
        wire::put_string(&mut p, b"channels opened by the server are not supported");
        wire::put_string(&mut p, b"");
        self.send(p)
    }
}
