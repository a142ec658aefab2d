//! [`Channel`]: commands on one open channel, for both roles, and the pieces of a connection
//! a channel command needs ([`Parts`]).

use super::Channels;
use crate::error::{Error, PeerMisbehaved};
use crate::event::ChannelId;
use crate::kex::machine::{KexLists, KexMachine};
use crate::transport::conn::Transport;
use crate::wire::{self, msg};

/// The parts of a connection that sending needs, borrowed together.
pub(crate) struct Parts<'a> {
    pub t: &'a mut Transport,
    pub kex: &'a mut KexMachine,
    pub channels: &'a mut Channels,
    pub lists: &'a KexLists,
    pub rekey_bytes: u64,
    /// The hard volume limit before authentication (the cipher's own).
    pub preauth_bytes: u64,
}

impl Parts<'_> {
    /// Sends a reply the peer's traffic called for, under the output cap, now or after our
    /// side of a key exchange, then starts a rekey if the traffic calls for one.
    pub fn send(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        self.t.send(payload, self.kex.sending_blocked())?;
        self.maybe_rekey()
    }

    /// Like [`send`](Self::send), for a message the application or a timer originated: the
    /// output cap does not refuse it.
    pub fn send_command(&mut self, payload: Vec<u8>) -> Result<(), Error> {
        self.t.send_command(payload, self.kex.sending_blocked())?;
        self.maybe_rekey()
    }

    /// After authentication, starts a rekey once either direction has carried `rekey_bytes`
    /// (or the packet limit) under the current keys. Before, nothing is re-keyed by us
    /// (OpenSSH 10.3): carrying the hard limit ends the connection.
    pub fn maybe_rekey(&mut self) -> Result<(), Error> {
        if !self.t.is_authenticated() {
            if self.t.traffic_over(self.preauth_bytes) {
                return Err(PeerMisbehaved::PreauthTrafficLimit.into());
            }
            return Ok(());
        }
        if self.kex.is_idle()
            && self.kex.session_id().is_some()
            && self.t.traffic_over(self.rekey_bytes)
        {
            self.kex.start(self.t, self.lists)?;
        }
        Ok(())
    }

    /// Whether channel data must wait: our side of a key exchange is in progress, or we have
    /// sent the rekey limit under our new keys while the exchange still waits for the peer's
    /// NEWKEYS (when it arrives, the next exchange starts and `Writable` follows its end).
    fn data_held(&self) -> bool {
        self.kex.sending_blocked()
            || (!self.kex.is_idle() && self.t.writer.traffic().bytes > self.rekey_bytes)
    }

    /// Records a fatal error once and returns it (errors are sticky).
    pub fn check<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        r.map_err(|e| self.t.fail(e))
    }

    /// Sends a channel command's message (not refused by the output cap).
    fn send_opt(&mut self, p: Option<Vec<u8>>) -> Result<(), Error> {
        self.t.check_alive()?;
        match p {
            Some(p) => {
                let r = self.send_command(p);
                self.check(r)
            }
            None => Ok(()),
        }
    }

    /// Writes channel data straight into sealed packets in the output buffer: one copy, no
    /// intermediate payload.
    fn write_data(
        &mut self,
        id: ChannelId,
        code: Option<u32>,
        data: &[u8],
    ) -> Result<usize, Error> {
        self.t.check_alive()?;
        if self.data_held() {
            self.channels.mark_blocked(id)?;
            return Ok(0);
        }
        let mut written = 0;
        while written < data.len() {
            // Only what fits under the output cap goes: a peer that does not read holds a
            // fast writer back, as a full window does.
            let room = self.t.data_room();
            if room == 0 {
                self.channels.mark_blocked(id)?;
                self.t.block_output();
                break;
            }
            let (remote, n) = self
                .channels
                .plan_write(id, (data.len() - written).min(room))?;
            let Some(chunk) = data.get(written..written + n).filter(|c| !c.is_empty()) else {
                break;
            };
            let r = self.t.write_with(|o| {
                match code {
                    None => o.push(msg::CHANNEL_DATA),
                    Some(_) => o.push(msg::CHANNEL_EXTENDED_DATA),
                }
                wire::put_u32(o, remote);
                if let Some(c) = code {
                    wire::put_u32(o, c);
                }
                wire::put_string(o, chunk);
            });
            self.check(r)?;
            written += n;
            // Honour the rekey limit packet by packet: once a rekey starts, the rest waits for
            // its end (a `Writable` follows), instead of a whole window under the old keys.
            let r = self.maybe_rekey();
            self.check(r)?;
            if self.data_held() {
                self.channels.mark_blocked(id)?;
                break;
            }
        }
        Ok(written)
    }
}

/// OpenSSH's agent forwarding request.
pub const AUTH_AGENT_REQ: &str = "auth-agent-req@openssh.com";
/// RFC 9987's agent forwarding request.
pub const AGENT_REQ: &str = "agent-req";
/// The EXT_INFO extension with which a server says it takes RFC 9987's agent forwarding
/// names (value `"0"`).
pub const AGENT_FORWARD_EXTENSION: &str = "agent-forward";

/// A borrowed handle on one channel of a connection (client or server).
pub struct Channel<'a> {
    conn: Parts<'a>,
    id: ChannelId,
}

impl core::fmt::Debug for Channel<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Channel({:?})", self.id)
    }
}

impl<'a> Channel<'a> {
    pub(crate) fn new(conn: Parts<'a>, id: ChannelId) -> Self {
        Channel { conn, id }
    }

    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// Sends as much of `data` as the peer's window and the output cap allow now and returns
    /// how much that was. A short count means the window is full or the peer is not reading
    /// what we already hold for it (channel data fills the output up to half of
    /// [`max_pending_output`](crate::ServerConfig::max_pending_output)):
    /// [`Event::Writable`](crate::Event::Writable) follows when the window opens or
    /// [`poll_transmit`](crate::Connection::poll_transmit) takes the output. A writer is never
    /// disconnected for writing too fast.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.conn.write_data(self.id, None, data)
    }

    /// Like [`write`](Self::write), as extended data of type `code` (1 = stderr).
    pub fn write_extended(&mut self, code: u32, data: &[u8]) -> Result<usize, Error> {
        self.conn.write_data(self.id, Some(code), data)
    }

    /// Sends EOF: we will write no more.
    pub fn eof(&mut self) -> Result<(), Error> {
        let p = self.conn.channels.eof(self.id)?;
        self.conn.send_opt(p)
    }

    /// Closes the channel. [`Event::Closed`](crate::Event::Closed) follows when the peer
    /// confirms.
    pub fn close(&mut self) -> Result<(), Error> {
        let p = self.conn.channels.close(self.id)?;
        self.conn.send_opt(p)
    }

    /// Server: reports the command's exit status (send it before EOF/close).
    pub fn exit_status(&mut self, status: u32) -> Result<(), Error> {
        self.request("exit-status", false, |p| wire::put_u32(p, status))
    }

    /// Server: reports that the command was killed by `signal` (name without "SIG").
    pub fn exit_signal(
        &mut self,
        signal: &str,
        core_dumped: bool,
        message: &str,
    ) -> Result<(), Error> {
        self.request("exit-signal", false, |p| {
            wire::put_string(p, signal.as_bytes());
            wire::put_bool(p, core_dumped);
            wire::put_string(p, message.as_bytes());
            wire::put_string(p, b"");
        })
    }

    /// Client: runs `command` (want-reply: [`Event::RequestSucceeded`](crate::Event::RequestSucceeded)
    /// or `RequestFailed` follows).
    pub fn exec(&mut self, command: &[u8]) -> Result<(), Error> {
        self.request("exec", true, |p| wire::put_string(p, command))
    }

    /// Starts the user's shell.
    pub fn shell(&mut self) -> Result<(), Error> {
        self.request("shell", true, |_| {})
    }

    /// Starts a subsystem such as `sftp`.
    pub fn subsystem(&mut self, name: &str) -> Result<(), Error> {
        self.request("subsystem", true, |p| wire::put_string(p, name.as_bytes()))
    }

    /// Sets an environment variable for the command (servers accept only some names).
    pub fn env(&mut self, name: &str, value: &str) -> Result<(), Error> {
        self.request("env", false, |p| {
            wire::put_string(p, name.as_bytes());
            wire::put_string(p, value.as_bytes());
        })
    }

    /// Requests a pseudo-terminal of `term` type and size in characters, with no modes.
    pub fn request_pty(&mut self, term: &str, cols: u32, rows: u32) -> Result<(), Error> {
        self.pty(&crate::event::PtyRequest::new(term, cols, rows))
    }

    /// Requests a pseudo-terminal (`pty-req`) with its size in characters and pixels and its
    /// terminal modes.
    pub fn pty(&mut self, pty: &crate::event::PtyRequest) -> Result<(), Error> {
        let modes = pty.modes.encode();
        self.request("pty-req", true, |p| {
            wire::put_string(p, pty.term.as_bytes());
            for v in [pty.cols, pty.rows, pty.width_px, pty.height_px] {
                wire::put_u32(p, v);
            }
            wire::put_string(p, &modes);
        })
    }

    /// Sends a break of `millis` milliseconds (RFC 4335), for serial consoles.
    pub fn send_break(&mut self, millis: u32) -> Result<(), Error> {
        self.request("break", true, |p| wire::put_u32(p, millis))
    }

    /// Asks the server to forward X11 connections to us (`x11-req`); afterwards the server
    /// may open `x11` channels.
    pub fn request_x11(
        &mut self,
        single_connection: bool,
        protocol: &str,
        cookie: &str,
        screen: u32,
    ) -> Result<(), Error> {
        self.request("x11-req", true, |p| {
            wire::put_bool(p, single_connection);
            wire::put_string(p, protocol.as_bytes());
            wire::put_string(p, cookie.as_bytes());
            wire::put_u32(p, screen);
        })
    }

    /// Asks the server to forward our authentication agent; afterwards the server may open
    /// agent channels. The request is RFC 9987's `agent-req` when the server advertised
    /// EXT_INFO `agent-forward` (its channels are then `agent-connect`), else OpenSSH's
    /// `auth-agent-req@openssh.com` (channels `auth-agent@openssh.com`); incoming channels of
    /// either name are accepted once asked.
    pub fn request_agent_forwarding(&mut self) -> Result<(), Error> {
        let name = if self.conn.channels.peer_agent_forward {
            AGENT_REQ
        } else {
            AUTH_AGENT_REQ
        };
        self.request(name, true, |_| {})
    }

    /// Server: tells the client whether it may use ^S/^Q flow control locally (`xon-xoff`).
    pub fn xon_xoff(&mut self, client_can_do: bool) -> Result<(), Error> {
        self.request("xon-xoff", false, |p| wire::put_bool(p, client_can_do))
    }

    /// Says we will write no more but still read (`eow@openssh.com`), then sends EOF.
    pub fn end_of_write(&mut self) -> Result<(), Error> {
        self.request("eow@openssh.com", false, |_| {})?;
        self.eof()
    }

    /// Tells the server the terminal size changed.
    pub fn window_change(&mut self, cols: u32, rows: u32) -> Result<(), Error> {
        self.request("window-change", false, |p| {
            for v in [cols, rows, 0, 0] {
                wire::put_u32(p, v);
            }
        })
    }

    /// Sends a signal (name without "SIG", for example "TERM") to the remote process.
    pub fn signal(&mut self, name: &str) -> Result<(), Error> {
        self.request("signal", false, |p| wire::put_string(p, name.as_bytes()))
    }

    /// Tells the core the application has processed `n` bytes of this channel's data, so the
    /// peer's window can reopen. Data not consumed keeps the window closed: back-pressure.
    pub fn consume(&mut self, n: usize) -> Result<(), Error> {
        let p = self.conn.channels.consume(self.id, n)?;
        self.conn.send_opt(p)
    }

    fn request(
        &mut self,
        kind: &str,
        want_reply: bool,
        body: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), Error> {
        let p = self
            .conn
            .channels
            .request(self.id, kind, want_reply, body)?;
        self.conn.send_opt(Some(p))
    }
}
