//! The channel table: lifecycle, flow control in both directions, and channel requests.
//! It has no crypto and no I/O: incoming messages go in, events and reply payloads come out,
//! so it can be driven directly by tests.

use super::kind::ChannelKind;
use super::replies::OrderedReplies;
use super::window::{RecvWindow, WindowLimits};
use crate::error::{ApiMisuse, Error, InvalidMessage, PeerMisbehaved};
use crate::event::{ChannelId, Event, IncomingChannel, SessionRequest, Ticket, sanitize};
use crate::transport::MAX_PACKET_LEN;
use crate::wire::{self, Reader, msg};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

/// Most channels open at once on one connection.
pub const MAX_CHANNELS: usize = 1024;
/// Most unanswered want-reply requests a peer may have on one channel.
const MAX_REPLIES_OWED: usize = 64;
/// Largest data chunk per packet we send, whatever the peer allows: it keeps the packet
/// under the 256 KiB cap with room for the headers.
const MAX_SEND_CHUNK: u32 = (MAX_PACKET_LEN - 1024) as u32;

#[derive(Debug)]
struct Chan {
    /// What the channel carries.
    kind: ChannelKind,
    /// The peer opened it (its requests are decisions for us on a session).
    accepted: bool,
    remote_id: Option<u32>,
    /// What the peer may send us, and how that grows.
    recv: RecvWindow,
    /// Bytes we may still send.
    remote_window: u32,
    remote_max_packet: u32,
    eof_sent: bool,
    eof_received: bool,
    close_sent: bool,
    /// The application closed the channel while replies to the peer's requests were still
    /// owed: CLOSE follows the last of them (a reply after CLOSE could not be sent, and the
    /// peer would take its request as refused).
    close_deferred: bool,
    /// A write came up short; tell the application when the window opens.
    blocked: bool,
    /// Requests we sent with want-reply, not yet answered.
    awaiting_replies: u32,
    /// The peer's want-reply requests we decide, answered in arrival order.
    replies_owed: OrderedReplies<bool>,
}

impl Chan {
    fn new(window: u32, kind: ChannelKind, accepted: bool) -> Chan {
        Chan {
            kind,
            accepted,
            remote_id: None,
            recv: RecvWindow::new(window),
            remote_window: 0,
            remote_max_packet: 0,
            eof_sent: false,
            eof_received: false,
            close_sent: false,
            close_deferred: false,
            blocked: false,
            awaiting_replies: 0,
            replies_owed: OrderedReplies::new(MAX_REPLIES_OWED),
        }
    }
}

/// All channels of a connection.
#[derive(Debug)]
pub struct Channels {
    map: BTreeMap<u32, Chan>,
    next_id: u32,
    window: WindowLimits,
    /// The windows of all channels added up (what the growth budget counts).
    committed: u64,
    /// The time of the latest input (window growth measures round trips with it).
    now: Option<Instant>,
    max_packet: u32,
    /// We asked for X11 forwarding on some session (`x11-req`): the peer may open `x11`.
    pub x11_requested: bool,
    /// We asked for agent forwarding (`auth-agent-req@openssh.com`).
    pub agent_requested: bool,
    /// The peer advertised EXT_INFO `agent-forward` (RFC 9987): agent forwarding is asked
    /// for with `agent-req` (and its channels are `agent-connect`).
    pub peer_agent_forward: bool,
}

fn open_failure_reason(r: &mut Reader<'_>) -> Result<(u32, String), InvalidMessage> {
    let reason = r.u32("open failure reason")?;
    let desc = r.string("open failure description")?;
    r.string("open failure language")?;
    r.end("channel open failure")?;
    Ok((reason, sanitize(desc)))
}

impl Channels {
    /// A table whose channels announce `window_size` and `max_packet` to the peer, with
    /// windows that never grow (see [`with_window_limits`](Self::with_window_limits)).
    pub fn new(window_size: u32, max_packet: u32) -> Channels {
        Channels {
            map: BTreeMap::new(),
            next_id: 0,
            window: WindowLimits::fixed(window_size),
            committed: 0,
            now: None,
            max_packet,
            x11_requested: false,
            agent_requested: false,
            peer_agent_forward: false,
        }
    }

    /// Lets windows grow from `window_size` up to `max` each and `budget` for all channels
    /// together while the peer is limited by them (see [`super::window`]).
    pub fn with_window_limits(mut self, max: u32, budget: u64) -> Channels {
        self.window.max = max.max(self.window.initial);
        self.window.budget = budget;
        self
    }

    /// Records the time of the latest input (window growth measures round trips with it).
    pub fn set_now(&mut self, now: Instant) {
        self.now = Some(now);
    }

    /// The receive window channel `id` has grown to, and the smallest round trip measured on
    /// it.
    pub fn recv_window(&self, id: ChannelId) -> Option<(u32, Option<std::time::Duration>)> {
        self.map.get(&id.0).map(|c| (c.recv.size(), c.recv.rtt()))
    }

    /// What channel `id` carries.
    pub fn kind(&self, id: ChannelId) -> Option<&ChannelKind> {
        self.map.get(&id.0).map(|c| &c.kind)
    }

    /// How many channels of `name`'s type exist.
    pub fn count_kind(&self, name: &str) -> usize {
        self.map.values().filter(|c| c.kind.name() == name).count()
    }

    /// How many channels exist.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    fn allocate(&mut self, kind: ChannelKind, accepted: bool) -> Result<u32, Error> {
        if self.map.len() >= MAX_CHANNELS {
            return Err(ApiMisuse::WrongState("too many channels open").into());
        }
        let mut id = self.next_id;
        while self.map.contains_key(&id) {
            id = id.wrapping_add(1);
        }
        self.next_id = id.wrapping_add(1);
        self.map
            .insert(id, Chan::new(self.window.initial, kind, accepted));
        self.committed += u64::from(self.window.initial);
        Ok(id)
    }

    fn remove(&mut self, id: u32) {
        if let Some(c) = self.map.remove(&id) {
            self.committed = self.committed.saturating_sub(u64::from(c.recv.size()));
        }
    }

    /// Accepts a channel the peer asked for and returns it with the OPEN_CONFIRMATION.
    pub fn accept(&mut self, incoming: IncomingChannel) -> Result<(ChannelId, Vec<u8>), Error> {
        let id = self.allocate(incoming.kind, true)?;
        if let Some(c) = self.map.get_mut(&id) {
            c.remote_id = Some(incoming.remote_id);
            c.remote_window = incoming.window;
            c.remote_max_packet = incoming.max_packet;
        }
        let mut p = simple(msg::CHANNEL_OPEN_CONFIRMATION, incoming.remote_id);
        wire::put_u32(&mut p, id);
        wire::put_u32(&mut p, self.window.initial);
        wire::put_u32(&mut p, self.max_packet);
        Ok((ChannelId(id), p))
    }

    /// The OPEN_FAILURE refusing a channel the peer numbered `remote_id`.
    pub fn reject(remote_id: u32, reason: u32, description: &str) -> Vec<u8> {
        let mut p = simple(msg::CHANNEL_OPEN_FAILURE, remote_id);
        wire::put_u32(&mut p, reason);
        wire::put_string(&mut p, description.as_bytes());
        wire::put_string(&mut p, b"");
        p
    }

    /// Answers a request by its serial alone, wherever it is (a token dropped unanswered).
    pub fn reply_serial(&mut self, serial: u64, ok: bool) -> Vec<Vec<u8>> {
        let owner = self
            .map
            .iter()
            .find(|(_, c)| c.replies_owed.is_owed(serial))
            .map(|(&id, _)| ChannelId(id));
        owner
            .and_then(|id| self.reply(id, serial, ok).ok())
            .unwrap_or_default()
    }

    /// Records the answer to a peer's request and returns the replies now due, in order.
    pub fn reply(&mut self, id: ChannelId, serial: u64, ok: bool) -> Result<Vec<Vec<u8>>, Error> {
        let c = self.get(id)?;
        let due = c.replies_owed.answer(serial, ok)?;
        let (Some(remote), false) = (c.remote_id, c.close_sent) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Vec<u8>> = due
            .into_iter()
            .map(|ok| {
                let n = if ok {
                    msg::CHANNEL_SUCCESS
                } else {
                    msg::CHANNEL_FAILURE
                };
                simple(n, remote)
            })
            .collect();
        if c.close_deferred && c.replies_owed.is_empty() {
            c.close_deferred = false;
            c.close_sent = true;
            out.push(simple(msg::CHANNEL_CLOSE, remote));
        }
        Ok(out)
    }

    /// Whether no channel is open.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Allocates a channel and returns it with the CHANNEL_OPEN payload for `kind`.
    pub fn open(&mut self, kind: ChannelKind) -> Result<(ChannelId, Vec<u8>), Error> {
        let mut p = vec![msg::CHANNEL_OPEN];
        wire::put_string(&mut p, kind.name().as_bytes());
        let body_at = p.len();
        kind.put_data(&mut p);
        let body = p.split_off(body_at);
        let id = self.allocate(kind, false)?;
        wire::put_u32(&mut p, id);
        wire::put_u32(&mut p, self.window.initial);
        wire::put_u32(&mut p, self.max_packet);
        p.extend_from_slice(&body);
        Ok((ChannelId(id), p))
    }

    fn get(&mut self, id: ChannelId) -> Result<&mut Chan, Error> {
        self.map
            .get_mut(&id.0)
            .ok_or(Error::ApiMisuse(ApiMisuse::NoSuchChannel))
    }

    fn open_chan(&mut self, id: ChannelId) -> Result<(&mut Chan, u32), Error> {
        let c = self.get(id)?;
        match (c.remote_id, c.close_sent) {
            (Some(r), false) => Ok((c, r)),
            _ => Err(ApiMisuse::WrongState("channel is not open").into()),
        }
    }

    /// Whether the channel exists (open or opening).
    pub fn contains(&self, id: ChannelId) -> bool {
        self.map.contains_key(&id.0)
    }

    /// How many bytes of `want` can go in the next data packet, and the peer's channel number.
    /// Zero marks the channel blocked, so a [`Event::Writable`] follows when the window opens.
    pub fn plan_write(&mut self, id: ChannelId, want: usize) -> Result<(u32, usize), Error> {
        let (c, remote) = self.open_chan(id)?;
        if c.eof_sent {
            return Err(ApiMisuse::WrongState("write after EOF").into());
        }
        let limit = c.remote_window.min(c.remote_max_packet).min(MAX_SEND_CHUNK);
        let n = want.min(usize::try_from(limit).unwrap_or(0));
        if n < want {
            c.blocked = true;
        }
        c.remote_window -= u32::try_from(n).unwrap_or(0);
        Ok((remote, n))
    }

    /// Marks a channel blocked: a write was refused, so a [`Event::Writable`] must follow.
    pub fn mark_blocked(&mut self, id: ChannelId) -> Result<(), Error> {
        self.get(id)?.blocked = true;
        Ok(())
    }

    /// Marks every open channel blocked (writes are held during a key exchange), so each gets
    /// a [`Event::Writable`] afterwards.
    pub fn block_all(&mut self) {
        for c in self.map.values_mut() {
            c.blocked = true;
        }
    }

    /// Emits [`Event::Writable`] for blocked channels that have window again.
    pub fn wake_writable(&mut self, events: &mut VecDeque<Event>) {
        for (&id, c) in self.map.iter_mut() {
            if c.blocked && c.remote_window > 0 && c.remote_id.is_some() && !c.close_sent {
                c.blocked = false;
                events.push_back(Event::Writable(ChannelId(id)));
            }
        }
    }

    /// Builds a CHANNEL_REQUEST payload; `body` appends the type-specific fields.
    pub fn request(
        &mut self,
        id: ChannelId,
        kind: &str,
        want_reply: bool,
        body: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Vec<u8>, Error> {
        let (c, remote) = self.open_chan(id)?;
        if want_reply {
            c.awaiting_replies += 1;
        }
        match kind {
            "x11-req" => self.x11_requested = true,
            "auth-agent-req@openssh.com" | "agent-req" => self.agent_requested = true,
            _ => {}
        }
        let mut p = vec![msg::CHANNEL_REQUEST];
        wire::put_u32(&mut p, remote);
        wire::put_string(&mut p, kind.as_bytes());
        wire::put_bool(&mut p, want_reply);
        body(&mut p);
        Ok(p)
    }

    /// Builds CHANNEL_EOF (once; later calls return `None`).
    pub fn eof(&mut self, id: ChannelId) -> Result<Option<Vec<u8>>, Error> {
        let (c, remote) = self.open_chan(id)?;
        if c.eof_sent {
            return Ok(None);
        }
        c.eof_sent = true;
        Ok(Some(simple(msg::CHANNEL_EOF, remote)))
    }

    /// Builds CHANNEL_CLOSE (once). The id stays allocated until the peer's CLOSE arrives.
    pub fn close(&mut self, id: ChannelId) -> Result<Option<Vec<u8>>, Error> {
        let c = self.get(id)?;
        let Some(remote) = c.remote_id else {
            return Err(ApiMisuse::WrongState("channel is not open yet").into());
        };
        if c.close_sent {
            return Ok(None);
        }
        if !c.replies_owed.is_empty() {
            c.close_deferred = true;
            return Ok(None);
        }
        c.close_sent = true;
        Ok(Some(simple(msg::CHANNEL_CLOSE, remote)))
    }

    /// Returns `n` processed bytes to the peer's window. Sends WINDOW_ADJUST once an eighth
    /// of the window has been consumed, so a reader that stops reading stops the sender; the window
    /// grows within the limits while the peer is limited by it (see [`super::window`]).
    pub fn consume(&mut self, id: ChannelId, n: usize) -> Result<Option<Vec<u8>>, Error> {
        let (now, limits) = (self.now, self.window);
        let budget_left = limits.budget.saturating_sub(self.committed);
        let c = self.get(id)?;
        let room = limits
            .max
            .saturating_sub(c.recv.size())
            .min(u32::try_from(budget_left).unwrap_or(u32::MAX));
        let open = c.remote_id.is_some() && !c.eof_received && !c.close_sent;
        let (Some(adjust), Some(remote)) = (c.recv.consume(n, now, room, open), c.remote_id) else {
            return Ok(None);
        };
        self.committed += u64::from(adjust.grew);
        let mut p = simple(msg::CHANNEL_WINDOW_ADJUST, remote);
        wire::put_u32(&mut p, adjust.add);
        Ok(Some(p))
    }

    /// Handles a connection-protocol message about a channel (91–100). Events go to `events`,
    /// payloads to send back go to `replies`.
    pub fn on_message(
        &mut self,
        payload: &Bytes,
        events: &mut VecDeque<Event>,
        replies: &mut Vec<Vec<u8>>,
    ) -> Result<(), Error> {
        let mut r = Reader::new(payload);
        let n = r.u8("channel message")?;
        let local = r.u32("recipient channel")?;
        let id = ChannelId(local);
        let (max_packet, now) = (self.max_packet, self.now);
        let c = self
            .map
            .get_mut(&local)
            .ok_or(PeerMisbehaved::UnknownChannel(local))?;
        if c.remote_id.is_none()
            && n != msg::CHANNEL_OPEN_CONFIRMATION
            && n != msg::CHANNEL_OPEN_FAILURE
        {
            return Err(PeerMisbehaved::UnexpectedMessage(n).into());
        }
        match n {
            msg::CHANNEL_OPEN_CONFIRMATION => {
                if c.remote_id.is_some() {
                    return Err(PeerMisbehaved::UnexpectedMessage(n).into());
                }
                let remote = r.u32("sender channel")?;
                let window = r.u32("initial window")?;
                let max_packet = r.u32("maximum packet")?;
                if max_packet == 0 {
                    return Err(InvalidMessage::BadValue("maximum packet size 0").into());
                }
                // Type-specific confirmation data (none is defined for the types we open)
                // is ignored.
                c.remote_id = Some(remote);
                c.remote_window = window;
                c.remote_max_packet = max_packet;
                events.push_back(Event::ChannelOpened(id));
            }
            msg::CHANNEL_OPEN_FAILURE => {
                if c.remote_id.is_some() {
                    return Err(PeerMisbehaved::UnexpectedMessage(n).into());
                }
                let (reason, description) = open_failure_reason(&mut r)?;
                self.remove(local);
                events.push_back(Event::ChannelOpenFailed {
                    id,
                    reason,
                    description,
                });
            }
            msg::CHANNEL_WINDOW_ADJUST => {
                let add = r.u32("bytes to add")?;
                r.end("window adjust")?;
                c.remote_window = c
                    .remote_window
                    .checked_add(add)
                    .ok_or(PeerMisbehaved::WindowOverflow)?;
            }
            msg::CHANNEL_DATA | msg::CHANNEL_EXTENDED_DATA => {
                let code = if n == msg::CHANNEL_EXTENDED_DATA {
                    Some(r.u32("data type")?)
                } else {
                    None
                };
                let data = r.string("channel data")?;
                let start = payload.len() - r.remaining() - data.len();
                r.end("channel data")?;
                let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                if c.eof_received {
                    return Err(PeerMisbehaved::DataAfterEof.into());
                }
                if len > max_packet {
                    return Err(PeerMisbehaved::OversizedChannelPacket.into());
                }
                let deliver = !c.close_sent && !data.is_empty();
                c.recv.on_data(len, now, deliver)?;
                if !deliver {
                    return Ok(());
                }
                let data = payload.slice(start..start + data.len());
                events.push_back(match code {
                    None => Event::Data { id, data },
                    Some(code) => Event::ExtendedData { id, code, data },
                });
            }
            msg::CHANNEL_EOF => {
                r.end("channel eof")?;
                c.eof_received = true;
                events.push_back(Event::Eof(id));
            }
            msg::CHANNEL_CLOSE => {
                r.end("channel close")?;
                if let (false, Some(remote)) = (c.close_sent, c.remote_id) {
                    replies.push(simple(msg::CHANNEL_CLOSE, remote));
                }
                self.remove(local);
                events.push_back(Event::Closed(id));
            }
            // Requests on a session the peer opened are ours to decide.
            msg::CHANNEL_REQUEST if c.accepted && c.kind == ChannelKind::Session => {
                let kind = r.string("request type")?;
                let want_reply = r.bool("want reply")?;
                let kind = super::session_request::decode(kind, &mut r)?;
                let ticket = Ticket::new();
                if want_reply {
                    c.replies_owed.owe(ticket.serial())?;
                }
                events.push_back(Event::ChannelRequest(SessionRequest {
                    id,
                    kind,
                    want_reply,
                    ticket,
                }));
            }
            msg::CHANNEL_REQUEST => {
                let kind = r.string("request type")?;
                let want_reply = r.bool("want reply")?;
                // On a session we opened, the peer reports how the command ended; on other
                // channel types no request is defined.
                let handled = if c.kind == ChannelKind::Session {
                    channel_request(kind, &mut r, id, events)?
                } else {
                    false
                };
                if let (true, Some(remote)) = (want_reply, c.remote_id) {
                    let answer = if handled {
                        msg::CHANNEL_SUCCESS
                    } else {
                        msg::CHANNEL_FAILURE
                    };
                    replies.push(simple(answer, remote));
                }
            }
            msg::CHANNEL_SUCCESS | msg::CHANNEL_FAILURE => {
                r.end("channel reply")?;
                if c.awaiting_replies == 0 {
                    return Err(PeerMisbehaved::UnexpectedMessage(n).into());
                }
                c.awaiting_replies -= 1;
                events.push_back(if n == msg::CHANNEL_SUCCESS {
                    Event::RequestSucceeded(id)
                } else {
                    Event::RequestFailed(id)
                });
            }
            other => return Err(PeerMisbehaved::UnexpectedMessage(other).into()),
        }
        if c_blocked_and_writable(self.map.get(&local)) {
            self.wake_writable(events);
        }
        Ok(())
    }
}

fn c_blocked_and_writable(c: Option<&Chan>) -> bool {
    c.is_some_and(|c| c.blocked && c.remote_window > 0)
}

fn simple(n: u8, remote: u32) -> Vec<u8> {
    let mut p = vec![n];
    wire::put_u32(&mut p, remote);
    p
}

/// Handles a request the server sends on a session channel we opened. Returns whether it was
/// understood.
fn channel_request(
    kind: &[u8],
    r: &mut Reader<'_>,
    id: ChannelId,
    events: &mut VecDeque<Event>,
) -> Result<bool, Error> {
    match kind {
        b"exit-status" => {
            let status = r.u32("exit status")?;
            r.end("exit-status")?;
            events.push_back(Event::ExitStatus { id, status });
            Ok(true)
        }
        b"exit-signal" => {
            let signal = sanitize(r.string("signal name")?);
            let core_dumped = r.bool("core dumped")?;
            let message = sanitize(r.string("error message")?);
            r.string("language")?;
            r.end("exit-signal")?;
            events.push_back(Event::ExitSignal {
                id,
                signal,
                core_dumped,
                message,
            });
            Ok(true)
        }
        // OpenSSH's end-of-write notice and keepalives carry nothing we act on.
        b"eow@openssh.com" => Ok(true),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod window_tests;
