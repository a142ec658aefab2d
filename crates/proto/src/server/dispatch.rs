//! Incoming packets on the server: routing each message to its layer and refusing what the
//! state or the direction does not allow.

use super::ServerConnection;
use crate::error::{Error, PeerMisbehaved};
use crate::event::{IncomingChannel, sanitize};
use crate::transport::ping::Ping;
use crate::wire::{self, Reader, msg};
use bytes::Bytes;
use std::time::Instant;

impl ServerConnection {
    /// Processes everything complete in the input buffer.
    pub(super) fn process(&mut self, now: Instant) -> Result<(), Error> {
        if !self.core.t.read_ident()? {
            return Ok(());
        }
        while let Some((payload, seq)) = self.core.t.next_packet()? {
            if !self.core.kex.peer_initial_done() && self.core.t.reader.seq() == 0 {
                return Err(PeerMisbehaved::SequenceWrapDuringInitialKex.into());
            }
            self.handle(payload, seq, now)?;
        }
        self.parts().maybe_rekey()
    }

    fn handle(&mut self, payload: Bytes, seq: u32, now: Instant) -> Result<(), Error> {
        let n = payload.first().copied().unwrap_or(0);
        if n == msg::DISCONNECT {
            self.core.t.peer_disconnected();
            let mut r = Reader::new(&payload);
            let _ = r.u8("disconnect");
            let reason = r.u32("reason").unwrap_or(0);
            let description = r.string("description").map(sanitize).unwrap_or_default();
            return Err(Error::DisconnectReceived {
                reason,
                description,
            });
        }
        if self.core.kex.strict() && !self.core.kex.peer_initial_done() && !msg::is_kex(n) {
            return Err(PeerMisbehaved::NonKexMessageDuringStrictKex(n).into());
        }
        match n {
            msg::IGNORE | msg::DEBUG | msg::UNIMPLEMENTED => return Ok(()),
            _ if msg::is_kex(n) => {
                let keys = self.config.host_keys.clone();
                let step =
                    self.core
                        .kex
                        .on_message(&mut self.core.t, payload, &self.core.lists, &keys)?;
                return self.after_kex_step(step);
            }
            _ => {}
        }
        if self.core.kex.peer_in_kex() || !self.core.kex.peer_initial_done() {
            return Err(PeerMisbehaved::UnexpectedMessage(n).into());
        }
        let authed = self.auth.is_done();
        match n {
            msg::SERVICE_REQUEST => {
                let p = self.auth.on_service_request(&payload)?;
                self.send(p)
            }
            // RFC 4252 §5.1: requests after success are ignored.
            msg::USERAUTH_REQUEST | 61 if authed => Ok(()),
            msg::USERAUTH_REQUEST | 61 => {
                let sid = self.core.kex.session_id().unwrap_or_default().to_vec();
                let host_key = self
                    .core
                    .kex
                    .host_key()
                    .map(crate::keys::PublicKey::to_blob);
                let session = crate::auth::server::Session {
                    id: &sid,
                    host_key: host_key.as_deref(),
                };
                let out = self.auth.on_message(&payload, &session, now)?;
                self.apply_auth(out)
            }
            _ if (80..=127).contains(&n) && !authed => {
                Err(PeerMisbehaved::UnexpectedMessage(n).into())
            }
            msg::GLOBAL_REQUEST => {
                let mut r = Reader::new(&payload);
                r.u8("global request")?;
                r.string("request name")?;
                if r.bool("want reply")? {
                    self.send(vec![msg::REQUEST_FAILURE])?;
                }
                Ok(())
            }
            msg::CHANNEL_OPEN => {
                let mut r = Reader::new(&payload);
                r.u8("channel open")?;
                let kind = String::from_utf8_lossy(r.string("channel type")?).into_owned();
                let remote_id = r.u32("sender channel")?;
                let window = r.u32("initial window")?;
                let max_packet = r.u32("maximum packet")?;
                // Type-specific data (for forwarding types) is not used yet.
                self.open_request(IncomingChannel {
                    serial: crate::event::next_token(),
                    kind,
                    remote_id,
                    window,
                    max_packet,
                })
            }
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
            msg::PING => {
                // Answered only once authenticated, as OpenSSH does.
                let pong = crate::transport::ping::pong_for(&payload)?;
                if authed {
                    self.send(pong)?;
                }
                Ok(())
            }
            // We never ping a client (it cannot advertise support), so a PONG is unsolicited:
            // dropped once well-formed, as OpenSSH does.
            msg::PONG => Ping::default().on_pong(&payload).map(drop),
            // Everything the server sends and the client must not (direction confusion).
            msg::SERVICE_ACCEPT | msg::EXT_INFO | 51..=79 | 80..=127 => {
                Err(PeerMisbehaved::UnexpectedMessage(n).into())
            }
            _ => {
                let mut p = vec![msg::UNIMPLEMENTED];
                wire::put_u32(&mut p, seq);
                self.send(p)
            }
        }
    }
}
