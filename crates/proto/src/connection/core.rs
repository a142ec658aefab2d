//! The protocol machinery below a [`Connection`](super::Connection): the transport, the
//! key-exchange machine, the channels, the algorithm lists we offer, the volume rekey
//! limit, and the limits before authentication (no rekey of ours, a hard traffic limit, few
//! re-exchanges by the peer).

use super::Channels;
use super::handle::{Channel, Parts};
use crate::error::{Error, PeerMisbehaved};
use crate::event::ChannelId;
use crate::kex::machine::{KexLists, KexMachine};
use crate::kex::negotiate::Negotiated;
use crate::kex::rekey_timer::volume_limit;
use crate::transport::MAX_PREAUTH_REKEYS;
use crate::transport::conn::Transport;

/// The shared half of a connection.
#[derive(Debug)]
pub(crate) struct Core {
    pub t: Transport,
    pub kex: KexMachine,
    pub channels: Channels,
    pub lists: KexLists,
    /// The configured volume limit (`rekey_bytes`); the cipher's own may be lower.
    rekey_bytes: u64,
    /// The volume limit before authentication, before the cipher's own (which is lower): no
    /// limit but the cipher's, as OpenSSH's "hard" limit. Tests lower it.
    pub preauth_bytes: u64,
    /// Key re-exchanges the peer started before authentication.
    preauth_rekeys: u32,
}

impl Core {
    /// Assembles the parts and sends our first KEXINIT.
    pub fn start(
        mut t: Transport,
        mut kex: KexMachine,
        channels: Channels,
        lists: KexLists,
        rekey_bytes: u64,
    ) -> Result<Core, Error> {
        kex.start(&mut t, &lists)?;
        Ok(Core {
            t,
            kex,
            channels,
            lists,
            rekey_bytes,
            preauth_bytes: u64::MAX,
            preauth_rekeys: 0,
        })
    }

    /// The pieces sending needs, borrowed together.
    pub fn parts(&mut self) -> Parts<'_> {
        let rekey_bytes = volume_limit(self.rekey_bytes, self.kex.negotiated());
        let preauth_bytes = volume_limit(self.preauth_bytes, self.kex.negotiated());
        Parts {
            t: &mut self.t,
            kex: &mut self.kex,
            channels: &mut self.channels,
            lists: &self.lists,
            rekey_bytes,
            preauth_bytes,
        }
    }

    /// Records a fatal error once (see [`Transport::fail`]).
    pub fn check<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        r.map_err(|e| self.t.fail(e))
    }

    /// Sends a reply the peer's traffic called for (under the output cap) now, or holds it
    /// while our side of a key exchange is in progress.
    pub fn send(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        self.parts().send(payload)
    }

    /// Sends a message the application or a timer originated (not refused by the output cap).
    pub fn send_command(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        self.parts().send_command(payload)
    }

    /// Starts a rekey if either direction has carried the volume limit (after
    /// authentication), or fails if it carried the hard limit (before).
    pub fn maybe_rekey(&mut self) -> Result<(), Error> {
        self.parts().maybe_rekey()
    }

    /// Counts a KEXINIT from the peer: one starting a re-exchange before authentication (we
    /// start none then) counts against [`MAX_PREAUTH_REKEYS`].
    pub fn on_peer_kexinit(&mut self) -> Result<(), Error> {
        if self.kex.session_id().is_some() && !self.t.is_authenticated() && !self.kex.peer_in_kex()
        {
            self.preauth_rekeys += 1;
            if self.preauth_rekeys > MAX_PREAUTH_REKEYS {
                return Err(PeerMisbehaved::TooManyPreauthRekeys.into());
            }
        }
        Ok(())
    }

    /// Starts a key re-exchange now, unless one is running or the first has not finished.
    pub fn rekey(&mut self) -> Result<(), Error> {
        self.t.check_alive()?;
        if !self.kex.is_idle() || self.kex.session_id().is_none() {
            return Ok(());
        }
        let r = self.kex.start(&mut self.t, &self.lists);
        self.check(r)
    }

    /// A handle on an open channel.
    pub fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
        if self.channels.contains(id) {
            Some(Channel::new(self.parts(), id))
        } else {
            None
        }
    }

    /// The peer closed the byte stream: `ConnectionClosed`, or `NotSsh` if it never sent an
    /// identification.
    pub fn feed_eof(&mut self) -> Result<(), Error> {
        self.t.check_alive()?;
        let e = if self.t.has_peer_ident() {
            Error::ConnectionClosed
        } else {
            Error::PeerMisbehaved(PeerMisbehaved::NotSsh)
        };
        self.t.peer_disconnected();
        self.check(Err(e))
    }

    /// Appends bytes ready for the wire to `buf`.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        self.t.poll_transmit(buf)
    }

    /// The algorithms the last key exchange chose.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.kex.negotiated()
    }
}
