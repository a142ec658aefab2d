//! The server's own messages (service request, user authentication) and its hooks into the
//! common [`Connection`] code: delayed failure replies, dropped auth decisions, and which
//! channels a client may open.

use super::Server;
use crate::connection::side::private::Sealed;
use crate::connection::{ChannelKind, Connection, OpenFailure};
use crate::error::{Error, PeerMisbehaved};
use crate::event::AuthDecision;
use crate::keys::PrivateKey;
use crate::wire::msg;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;

impl Sealed for Server {
    const SERVER: bool = true;

    fn on_message(
        c: &mut Connection<Server>,
        n: u8,
        payload: Bytes,
        now: Instant,
        _ext_info_allowed: bool,
    ) -> Result<(), Error> {
        let authed = c.side.auth.authenticated().is_some();
        match n {
            msg::SERVICE_REQUEST => {
                let p = c.side.auth.on_service_request(&payload)?;
                c.send(p)
            }
            // RFC 4252 §5.1: requests after success are ignored.
            msg::USERAUTH_REQUEST | 61 if authed => Ok(()),
            // A client may send requests without waiting for answers (RFC 4252 §5): they wait
            // here, in order, until the application has decided the one before.
            msg::USERAUTH_REQUEST | 61 if c.side.auth.is_deciding() => {
                if c.side.held.len() >= super::MAX_HELD_AUTH {
                    return Err(PeerMisbehaved::TooManyPendingRequests.into());
                }
                c.side.held.push_back(payload);
                Ok(())
            }
            msg::USERAUTH_REQUEST | 61 => {
                let sid = c.core.kex.session_id().unwrap_or_default().to_vec();
                let host_key = c.core.kex.host_key().map(crate::keys::PublicKey::to_blob);
                let session = crate::auth::server::Session {
                    id: &sid,
                    host_key: host_key.as_deref(),
                };
                let out = c.side.auth.on_message(&payload, &session, now)?;
                c.apply_auth(out)
            }
            // Everything the server sends and the client must not (direction confusion).
            _ => Err(PeerMisbehaved::UnexpectedMessage(n).into()),
        }
    }

    fn after_new_keys(c: &mut Connection<Server>, first: bool) -> Result<(), Error> {
        if first && c.core.kex.peer_wants_ext_info {
            let p = c.ext_info();
            c.core.t.write(&p)?;
        }
        Ok(())
    }

    fn host_keys(&self) -> &[Arc<PrivateKey>] {
        &self.config.host_keys
    }

    fn is_authenticated(&self) -> bool {
        self.auth.authenticated().is_some()
    }

    fn deadline(&self) -> Option<Instant> {
        self.delayed.front().map(|(at, _)| *at)
    }

    /// Sends the failure replies whose delay is over.
    fn on_timeout(c: &mut Connection<Server>, now: Instant) -> Result<(), Error> {
        while c.side.delayed.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, p)) = c.side.delayed.pop_front() {
                c.send(p)?;
            }
        }
        Ok(())
    }

    fn answer_dropped(c: &mut Connection<Server>, serial: u64) -> Result<bool, Error> {
        if c.side.auth.is_pending(serial) {
            c.decide_auth(serial, AuthDecision::Reject)?;
            return Ok(true);
        }
        Ok(false)
    }

    fn admit_open(
        c: &Connection<Server>,
        kind: &ChannelKind,
    ) -> Result<(), (OpenFailure, &'static str)> {
        if *kind != ChannelKind::Session {
            return Ok(());
        }
        if c.globals.no_more_sessions {
            return Err((OpenFailure::AdministrativelyProhibited, "no more sessions"));
        }
        let sessions = c.core.channels.count_kind("session")
            + c.pending_opens.iter().filter(|o| o.session).count();
        if sessions >= c.side.config.max_sessions {
            return Err((OpenFailure::AdministrativelyProhibited, "too many sessions"));
        }
        Ok(())
    }
}
