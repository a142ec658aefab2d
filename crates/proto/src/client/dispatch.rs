//! The client's own messages (service accept, EXT_INFO, user authentication) and its hooks
//! into the common [`Connection`] code.

use super::Client;
use crate::connection::side::private::Sealed;
use crate::connection::{ChannelKind, Connection, OpenFailure};
use crate::error::{Error, PeerIncompatible, PeerMisbehaved};
use crate::event::Event;
use crate::keys::PrivateKey;
use crate::wire::{self, Reader, msg};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;

/// Most extensions an EXT_INFO may carry (OpenSSH's limit).
const MAX_EXTENSIONS: u32 = 1024;

impl Sealed for Client {
    const SERVER: bool = false;

    fn on_message(
        c: &mut Connection<Client>,
        n: u8,
        payload: Bytes,
        _now: Instant,
        ext_info_allowed: bool,
    ) -> Result<(), Error> {
        match n {
            msg::EXT_INFO if ext_info_allowed || c.side.auth.in_progress() => {
                c.on_ext_info(&payload)
            }
            msg::EXT_INFO => Err(PeerMisbehaved::MisplacedExtInfo.into()),
            msg::SERVICE_ACCEPT => {
                let p = c
                    .side
                    .auth
                    .on_service_accept(&payload, &c.side.config.user)?;
                c.send(p)
            }
            51..=79 => {
                let Some(ev) = c.side.auth.on_message(&payload)? else {
                    return Ok(());
                };
                match &ev {
                    Event::Authenticated => c.timers.authenticated(),
                    Event::AuthMethods { choice, .. } | Event::AuthPrompts { choice, .. } => {
                        c.side.pending_choice = Some(choice.ticket.serial());
                    }
                    Event::SignRequest(req) => {
                        c.side.pending_sign = Some(req.ticket.serial());
                    }
                    _ => {}
                }
                c.emit(ev);
                Ok(())
            }
            // The server's messages only (SERVICE_REQUEST, USERAUTH_REQUEST).
            _ => Err(PeerMisbehaved::UnexpectedMessage(n).into()),
        }
    }

    fn after_new_keys(c: &mut Connection<Client>, first: bool) -> Result<(), Error> {
        if first {
            let p = c.side.auth.service_request();
            c.core.t.write(&p)?;
        }
        Ok(())
    }

    fn host_keys(&self) -> &[Arc<PrivateKey>] {
        &[]
    }

    fn is_authenticated(&self) -> bool {
        self.auth.is_done()
    }

    fn deadline(&self) -> Option<Instant> {
        None
    }

    fn on_timeout(_: &mut Connection<Client>, _: Instant) -> Result<(), Error> {
        Ok(())
    }

    fn answer_dropped(c: &mut Connection<Client>, serial: u64) -> Result<bool, Error> {
        if c.core.kex.pending_host_key() == Some(serial) {
            // An unanswered host key is an untrusted one.
            return Err(Error::HostKeyRejected {
                fingerprint: String::from("(decision dropped)"),
            });
        }
        if c.side.pending_sign == Some(serial) {
            // A dropped signature request is a refusal: the next method is chosen.
            c.refuse_pending_signature()?;
            return Ok(true);
        }
        if c.side.pending_choice == Some(serial) {
            return Err(PeerIncompatible::NoMoreAuthMethods {
                remaining: Vec::new(),
            }
            .into());
        }
        Ok(false)
    }

    fn admit_open(
        _: &Connection<Client>,
        kind: &ChannelKind,
    ) -> Result<(), (OpenFailure, &'static str)> {
        match kind {
            ChannelKind::Other { .. } => Err((OpenFailure::UnknownChannelType, "unknown type")),
            _ => Ok(()),
        }
    }
}

impl Connection<Client> {
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
            self.side.auth.on_extension(name, value);
            if name == crate::connection::handle::AGENT_FORWARD_EXTENSION.as_bytes()
                && value == b"0"
            {
                self.core.channels.peer_agent_forward = true;
            }
            if name == b"server-sig-algs" {
                let text = String::from_utf8_lossy(value);
                self.side.server_sig_algs = Some(wire::names(&text).map(str::to_owned).collect());
            }
        }
        r.end("ext info")?;
        Ok(())
    }
}
