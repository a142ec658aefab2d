//! What both roles share below the KEX and auth layers: the byte buffers, the identification
//! exchange, the framer, the queue of messages held during a key exchange, the event queue,
//! and sticky fatal errors that still flush a DISCONNECT.

use super::MAX_HELD_BYTES;
use super::packet::{PacketReader, PacketWriter};
use super::version::VersionReader;
use crate::crypto::SecureRandom;
use crate::error::{Error, PeerMisbehaved};
use crate::event::Event;
use crate::wire::{self, msg};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;

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
    pub events: VecDeque<Event>,
    error: Option<Error>,
    disconnect_sent: bool,
    is_server: bool,
}

impl Transport {
    /// Queues our identification line. A server accepts no lines before the client's
    /// identification; a client skips up to 1024.
    pub fn new(our_ident: String, rng: Arc<dyn SecureRandom>, is_server: bool) -> Transport {
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
        self.writer.compression_auth_done();
        self.reader.compression_auth_done();
    }

    /// Sends a payload now, or holds it when `kex_blocking` and it is not a transport or KEX
    /// message.
    pub fn send(&mut self, payload: Vec<u8>, kex_blocking: bool) -> Result<(), Error> {
        let n = payload.first().copied().unwrap_or(0);
        if kex_blocking && !msg::allowed_during_kex(n) {
            if self.held_bytes + payload.len() > MAX_HELD_BYTES {
                return Err(PeerMisbehaved::KexStalled.into());
            }
            self.held_bytes += payload.len();
            self.held.push_back(payload);
            return Ok(());
        }
        self.write(&payload)
    }

    /// Frames and seals one payload into the output.
    pub fn write(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.write_with(|o| o.extend_from_slice(payload))
    }

    /// Frames and seals the payload `body` appends, with no intermediate copy.
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
            self.write(&p)?;
        }
        Ok(())
    }

    /// The random source.
    pub fn rng(&self) -> &dyn SecureRandom {
        self.rng.as_ref()
    }

    /// Whether either direction has carried more than `limit` bytes under the current keys.
    pub fn traffic_over(&self, limit: u64) -> bool {
        self.writer.traffic().bytes > limit || self.reader.traffic().bytes > limit
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
                let _ = self.write(&p);
                self.disconnect_sent = true;
            }
            self.held.clear();
            self.held_bytes = 0;
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
    fn held_messages_are_bounded_and_released_in_order() {
        let mut t = Transport::new("SSH-2.0-t".into(), Arc::new(SystemRandom::new()), false);
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
