//! What both roles share below the KEX and auth layers: the byte buffers, the identification
//! exchange, the framer, the queue of messages held during a key exchange, the event queue,
//! the cap on output the peer does not read, and sticky fatal errors that still flush a
//! DISCONNECT.

use super::packet::{PacketReader, PacketWriter};
use super::version::VersionReader;
use super::{MAX_HELD_BYTES, MAX_PACKETS_PER_KEY, framed_bound};
use crate::crypto::SecureRandom;
use crate::error::{Error, PeerMisbehaved};
use crate::event::Event;
use crate::wire::{self, msg};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;

/// The caps on bytes held for the peer (`out` plus what is held during a key exchange),
/// before and after user authentication.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutputLimits {
    pub preauth: usize,
    pub authenticated: usize,
}

/// The shared lower half of a connection.
#[derive(Debug)]
pub(crate) struct Transport {
    rng: Arc<dyn SecureRandom>,
    inbuf: BytesMut,
    out: Vec<u8>,
    version: Option<VersionReader>,
    pub our_ident: String,
    pub peer_ident: Option<String>,
    pub reader: PacketReader,
    pub writer: PacketWriter,
    /// Non-KEX payloads held while our side of a key exchange is in progress.
    held: VecDeque<Vec<u8>>,
    /// Total length of `held`, bounded by [`MAX_HELD_BYTES`].
    held_bytes: usize,
    /// The wire size `held` will take at most once released (see [`framed_bound`]).
    held_wire: usize,
    limits: OutputLimits,
    /// User authentication has succeeded (the post-authentication cap applies).
    authenticated: bool,
    /// A channel write was cut short by the output cap: `Writable` follows the next drain.
    output_blocked: bool,
    pub events: VecDeque<Event>,
    error: Option<Error>,
    disconnect_sent: bool,
    is_server: bool,
}

impl Transport {
    /// Queues our identification line. A server accepts no lines before the client's
    /// identification; a client skips up to 1024.
    pub fn new(
        our_ident: String,
        rng: Arc<dyn SecureRandom>,
        is_server: bool,
        limits: OutputLimits,
    ) -> Transport {
        let mut out = Vec::with_capacity(64 * 1024);
        out.extend_from_slice(our_ident.as_bytes());
        out.extend_from_slice(b"\r\n");
        Transport {
            rng,
            inbuf: BytesMut::with_capacity(64 * 1024),
            out,
            version: Some(VersionReader::new(!is_server)),
            our_ident,
            peer_ident: None,
            reader: PacketReader::default(),
            writer: PacketWriter::default(),
            held: VecDeque::new(),
            held_bytes: 0,
            held_wire: 0,
            limits,
            authenticated: false,
            output_blocked: false,
            events: VecDeque::new(),
            error: None,
            disconnect_sent: false,
            is_server,
        }
    }

    /// The sticky error, if the connection has failed.
    pub fn check_alive(&self) -> Result<(), Error> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Whether the connection has failed or closed.
    pub fn is_closed(&self) -> bool {
        self.error.is_some()
    }

    /// Appends received bytes.
    pub fn push_input(&mut self, data: &[u8]) {
        self.inbuf.extend_from_slice(data);
    }

    /// Reads the peer's identification if it has not arrived yet. True once it has.
    pub fn read_ident(&mut self) -> Result<bool, Error> {
        if let Some(v) = &mut self.version {
            match v.read(&mut self.inbuf)? {
                None => return Ok(false),
                Some(ident) => {
                    self.peer_ident = Some(ident);
                    self.version = None;
                }
            }
        }
        Ok(true)
    }

    /// The next complete packet's payload and its sequence number.
    pub fn next_packet(&mut self) -> Result<Option<(Bytes, u32)>, Error> {
        if self.error.is_some() {
            return Ok(None);
        }
        let seq = self.reader.seq();
        let packet = self.reader.read(&mut self.inbuf)?;
        // A client enables delayed compression on receiving USERAUTH_SUCCESS (OpenSSH).
        if !self.is_server
            && let Some(p) = &packet
            && p.first() == Some(&msg::USERAUTH_SUCCESS)
        {
            self.auth_succeeded();
        }
        Ok(packet.map(|p| (p, seq)))
    }

    /// User authentication succeeded: `zlib@openssh.com` starts in both directions.
    fn auth_succeeded(&mut self) {
        self.authenticated = true;
        self.writer.compression_auth_done();
        self.reader.compression_auth_done();
    }

    /// Whether user authentication has succeeded (a server has sent USERAUTH_SUCCESS, a
    /// client has received it).
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// The cap on bytes held for the peer now: the pre-authentication one until the user is
    /// authenticated.
    pub fn output_cap(&self) -> usize {
        if self.authenticated {
            self.limits.authenticated
        } else {
            self.limits.preauth
        }
    }

    /// Bytes waiting in the output, not yet taken by [`poll_transmit`](Self::poll_transmit).
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// A reply of `payload_len` bytes fits under the output cap, counting what waits in the
    /// output and what is held for the end of a key exchange; else the peer is flooding us
    /// with requests it does not read the answers to.
    fn ensure_room(&self, payload_len: usize) -> Result<(), Error> {
        if self.out.len() + self.held_wire + framed_bound(payload_len) > self.output_cap() {
            return Err(PeerMisbehaved::OutputFlood.into());
        }
        Ok(())
    }

    /// Sends a reply the peer's traffic called for, now, or holds it when `kex_blocking` and it
    /// is not a transport or KEX message. Fails with [`PeerMisbehaved::OutputFlood`] when it
    /// would take the output over the cap.
    pub fn send(&mut self, payload: Vec<u8>, kex_blocking: bool) -> Result<(), Error> {
        self.ensure_room(payload.len())?;
        self.send_command(payload, kex_blocking)
    }

    /// Sends a message the application (or a timer) originated, which the output cap does not
    /// refuse: like [`send`](Self::send) without the cap.
    pub fn send_command(&mut self, payload: Vec<u8>, kex_blocking: bool) -> Result<(), Error> {
        let n = payload.first().copied().unwrap_or(0);
        if kex_blocking && !msg::allowed_during_kex(n) {
            if self.held_bytes + payload.len() > MAX_HELD_BYTES {
                return Err(PeerMisbehaved::KexStalled.into());
            }
            self.held_bytes += payload.len();
            self.held_wire += framed_bound(payload.len());
            self.held.push_back(payload);
            return Ok(());
        }
        self.write_raw(&payload)
    }

    /// Frames and seals one payload the peer's traffic called for (a KEX message) into the
    /// output, under the output cap.
    pub fn write(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.ensure_room(payload.len())?;
        self.write_raw(payload)
    }

    /// Frames and seals one payload into the output, whatever the cap.
    pub(crate) fn write_raw(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.write_with(|o| o.extend_from_slice(payload))
    }

    /// How many bytes of channel data may go out now: channel data fills the output only up
    /// to half the cap, so the other half stays free for replies the peer is owed.
    pub fn data_room(&self) -> usize {
        let limit = self.output_cap() / 2;
        let avail = limit.saturating_sub(self.out.len() + self.held_wire);
        // The data header (at most 13 bytes) and the framing fit in the 256 kept back.
        avail.saturating_sub(256) / 65 * 64
    }

    /// Records that a channel write was cut short by the output cap.
    pub fn block_output(&mut self) {
        self.output_blocked = true;
    }

    /// Whether a channel write was cut short by the output cap since the last call.
    pub fn take_output_blocked(&mut self) -> bool {
        std::mem::take(&mut self.output_blocked)
    }

    /// Frames and seals the payload `body` appends, with no intermediate copy. Nothing is
    /// capped here: the callers bound what they write.
    pub fn write_with(&mut self, body: impl FnOnce(&mut Vec<u8>)) -> Result<(), Error> {
        self.writer.write(&mut self.out, self.rng.as_ref(), body)?;
        // A server enables delayed compression once USERAUTH_SUCCESS is on the wire (OpenSSH).
        if self.is_server && self.writer.last_msg() == msg::USERAUTH_SUCCESS {
            self.auth_succeeded();
        }
        Ok(())
    }

    /// Sends everything held during the key exchange, in order.
    pub fn release_held(&mut self) -> Result<(), Error> {
        while let Some(p) = self.held.pop_front() {
            self.held_bytes -= p.len();
            self.held_wire -= framed_bound(p.len());
            self.write_raw(&p)?;
        }
        Ok(())
    }

    /// The random source.
    pub fn rng(&self) -> &dyn SecureRandom {
        self.rng.as_ref()
    }

    /// Whether either direction has carried more than `limit` bytes, or more than
    /// [`MAX_PACKETS_PER_KEY`] packets, under the current keys.
    pub fn traffic_over(&self, limit: u64) -> bool {
        let (w, r) = (self.writer.traffic(), self.reader.traffic());
        w.bytes > limit
            || r.bytes > limit
            || w.packets > MAX_PACKETS_PER_KEY
            || r.packets > MAX_PACKETS_PER_KEY
    }

    /// Whether the peer has sent its identification.
    pub fn has_peer_ident(&self) -> bool {
        self.peer_ident.is_some()
    }

    /// Records that the peer ended the connection, so no DISCONNECT is sent back.
    pub fn peer_disconnected(&mut self) {
        self.disconnect_sent = true;
    }

    /// Records a fatal error once: queues DISCONNECT where the error calls for one and the
    /// `ConnectionLost` event. Returns the error to propagate.
    pub fn fail(&mut self, e: Error) -> Error {
        if self.error.is_none() {
            if let (Some(reason), false) = (e.disconnect_reason(), self.disconnect_sent) {
                let mut p = vec![msg::DISCONNECT];
                wire::put_u32(&mut p, reason);
                wire::put_string(&mut p, e.to_string().as_bytes());
                wire::put_string(&mut p, b"");
                // The DISCONNECT goes out whatever the cap: it is the last packet.
                let _ = self.write_raw(&p);
                self.disconnect_sent = true;
            }
            self.held.clear();
            self.held_bytes = 0;
            self.held_wire = 0;
            self.error = Some(e.clone());
            self.events.push_back(Event::ConnectionLost(e.clone()));
        }
        e
    }

    /// Appends bytes ready for the wire to `buf` (by swapping buffers when `buf` is empty).
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.out.len();
        if buf.is_empty() {
            std::mem::swap(buf, &mut self.out);
        } else {
            buf.extend_from_slice(&self.out);
            self.out.clear();
        }
        n
    }

    /// Whether bytes are waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn wants_write(&self) -> bool {
        !self.out.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SystemRandom;

    #[test]
    fn replies_stop_at_the_cap_commands_and_disconnect_do_not() {
        let limits = OutputLimits {
            preauth: 4096,
            authenticated: 1 << 20,
        };
        let mut t = Transport::new(
            "SSH-2.0-t".into(),
            Arc::new(SystemRandom::new()),
            true,
            limits,
        );
        let reply = vec![msg::UNIMPLEMENTED, 0, 0, 0, 1];
        let err = loop {
            if let Err(e) = t.send(reply.clone(), false) {
                break e;
            }
            assert!(t.pending_output() <= 4096);
        };
        assert_eq!(err, Error::PeerMisbehaved(PeerMisbehaved::OutputFlood));
        assert!(t.pending_output() > 4096 - framed_bound(reply.len()));
        assert_eq!(t.data_room(), 0);
        // The application's own messages still go (the cap does not refuse them).
        t.send_command(vec![msg::IGNORE; 600], false).unwrap();
        assert!(t.pending_output() > 4096);
        let before = t.pending_output();
        t.fail(err);
        assert!(
            t.pending_output() > before,
            "DISCONNECT queued over the cap"
        );
        // Taking the output frees the room.
        let mut buf = Vec::new();
        t.poll_transmit(&mut buf);
        assert_eq!(t.pending_output(), 0);
    }

    #[test]
    fn held_messages_are_bounded_and_released_in_order() {
        let limits = OutputLimits {
            preauth: 4 * MAX_HELD_BYTES,
            authenticated: 4 * MAX_HELD_BYTES,
        };
        let mut t = Transport::new(
            "SSH-2.0-t".into(),
            Arc::new(SystemRandom::new()),
            false,
            limits,
        );
        let reply = vec![msg::REQUEST_FAILURE; 1000];
        let mut sent = 0;
        let err = loop {
            match t.send(reply.clone(), true) {
                Ok(()) => sent += reply.len(),
                Err(e) => break e,
            }
            assert!(sent <= MAX_HELD_BYTES, "the queue grew past its bound");
        };
        assert_eq!(err, Error::PeerMisbehaved(PeerMisbehaved::KexStalled));
        assert!(sent + reply.len() > MAX_HELD_BYTES);
        // Transport messages still go out at once, and the held ones leave on release.
        t.send(vec![msg::IGNORE, 0, 0, 0, 0], true).unwrap();
        let before = t.out.len();
        t.release_held().unwrap();
        assert!(t.out.len() > before + sent);
        assert_eq!(t.held_bytes, 0);
    }
}
