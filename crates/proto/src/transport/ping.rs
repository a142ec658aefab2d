//! OpenSSH's transport-level ping (`PROTOCOL` §1.9, `ping@openssh.com`): SSH2_MSG_PING carries
//! a string that the peer echoes in SSH2_MSG_PONG. A server advertises it in EXT_INFO with
//! version "0". Pings are answered only after user authentication, as OpenSSH does, so an
//! unauthenticated peer cannot make us send anything.

use crate::error::{ApiMisuse, Error};
use crate::wire::{self, Reader, msg};
use bytes::Bytes;

/// The EXT_INFO extension name a server uses to advertise ping support.
pub const EXTENSION: &str = "ping@openssh.com";

/// Most unanswered pings we keep track of; more is the application's mistake.
pub const MAX_OUTSTANDING: u32 = 64;

/// Largest ping payload we send (one small packet, far below any peer's packet limit).
pub const MAX_DATA: usize = 16 * 1024;

/// Ping state of one connection: whether the peer answers pings, and how many replies we
/// still expect.
#[derive(Debug, Default)]
pub(crate) struct Ping {
    /// The peer advertised `ping@openssh.com` version "0".
    pub peer_supports: bool,
    outstanding: u32,
}

impl Ping {
    /// Builds a PING for `data`, counting it as outstanding.
    pub fn ping(&mut self, data: &[u8]) -> Result<Vec<u8>, Error> {
        if !self.peer_supports {
            return Err(
                ApiMisuse::WrongState("the peer did not advertise ping@openssh.com").into(),
            );
        }
        if data.len() > MAX_DATA {
            return Err(ApiMisuse::WrongState("ping data longer than 16 KiB").into());
        }
        if self.outstanding >= MAX_OUTSTANDING {
            return Err(ApiMisuse::WrongState("64 pings are already unanswered").into());
        }
        self.outstanding += 1;
        let mut p = Vec::with_capacity(data.len() + 5);
        p.push(msg::PING);
        wire::put_string(&mut p, data);
        Ok(p)
    }

    /// A PONG arrived: its data if it answers one of our pings; an unsolicited PONG is
    /// dropped (OpenSSH only logs it).
    pub fn on_pong(&mut self, payload: &Bytes) -> Result<Option<Bytes>, Error> {
        let mut r = Reader::new(payload);
        r.u8("pong")?;
        let data = r.string("pong data")?;
        r.end("pong")?;
        if self.outstanding == 0 {
            return Ok(None);
        }
        self.outstanding -= 1;
        Ok(Some(payload.slice_ref(data)))
    }
}

/// The PONG that answers a PING payload.
pub(crate) fn pong_for(payload: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Reader::new(payload);
    r.u8("ping")?;
    let data = r.string("ping data")?;
    r.end("ping")?;
    let mut p = Vec::with_capacity(data.len() + 5);
    p.push(msg::PONG);
    wire::put_string(&mut p, data);
    Ok(p)
}

/// Whether an EXT_INFO entry advertises ping support we can use (version "0").
pub(crate) fn advertised(name: &[u8], value: &[u8]) -> bool {
    name == EXTENSION.as_bytes() && value == b"0"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pong_echoes_data_and_is_counted() {
        let mut p = Ping::default();
        assert!(p.ping(b"x").is_err(), "not advertised yet");
        p.peer_supports = true;
        let ping = p.ping(b"hello").unwrap();
        let pong = Bytes::from(pong_for(&ping).unwrap());
        assert_eq!(pong.first(), Some(&msg::PONG));
        assert_eq!(p.on_pong(&pong).unwrap().as_deref(), Some(&b"hello"[..]));
        // A second, unsolicited PONG is dropped.
        assert_eq!(p.on_pong(&pong).unwrap(), None);
    }

    #[test]
    fn malformed_and_excess_are_refused() {
        assert!(pong_for(&[msg::PING, 0, 0, 0, 9, 1]).is_err());
        assert!(
            pong_for(&[msg::PING, 0, 0, 0, 0, 7]).is_err(),
            "trailing byte"
        );
        let mut p = Ping {
            peer_supports: true,
            ..Ping::default()
        };
        assert!(p.ping(&[0; MAX_DATA + 1]).is_err());
        for _ in 0..MAX_OUTSTANDING {
            p.ping(b"").unwrap();
        }
        assert!(p.ping(b"").is_err());
        assert!(advertised(b"ping@openssh.com", b"0"));
        assert!(!advertised(b"ping@openssh.com", b"1"));
    }
}
