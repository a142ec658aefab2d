//! Filing the core's events: channel events go to their [`Inbox`](crate::Inbox) and wake its
//! waiters; the rest (decisions, handshake progress) go back to the pump.

use crate::error::Lost;
use crate::exit::ExitStatus;
use crate::inbox::Inbox;
use crate::shared::State;
use bytes::Bytes;
use seashell_proto::{ChannelId, Event};

impl State {
    /// Files one event. Returns the events that are not about a channel (decisions, auth
    /// progress) for the caller to handle.
    pub fn file(&mut self, ev: Event) -> Option<Event> {
        let server = self.server;
        match ev {
            Event::ChannelOpened(id) => {
                let dropped = self.with(id, |c| {
                    c.opened = Some(Ok(()));
                    c.watchers.wake();
                    c.dropped
                });
                if dropped == Some(true)
                    && let Some(mut ch) = self.conn.channel(id)
                {
                    let _ = ch.close();
                    self.wake_driver();
                }
            }
            Event::ChannelOpenFailed {
                id,
                reason,
                description,
            } => {
                self.with(id, |c| {
                    c.opened = Some(Err((reason, description)));
                    c.closed = true;
                    c.wake_all();
                });
                self.forget_if_dropped(id, server);
            }
            Event::Data { id, data } => self.push_data(id, false, data),
            // Servers discard the client's extended data: nothing reads it, and unread it
            // would hold the shared window shut.
            Event::ExtendedData { id, data, .. } if server => self.consume(id, data.len()),
            Event::ExtendedData { id, data, .. } => self.push_data(id, true, data),
            Event::Writable(id) => {
                if let Some(c) = self.channels.get_mut(&id) {
                    c.writers.wake_later(&mut self.wake_later);
                }
            }
            Event::RequestSucceeded(id) | Event::RequestFailed(id) => {
                let ok = matches!(ev, Event::RequestSucceeded(_));
                self.with(id, |c| {
                    c.replies.push_back(ok);
                    c.watchers.wake();
                });
            }
            Event::ExitStatus { id, status } => {
                self.with(id, |c| {
                    c.exit = Some(ExitStatus::Code(status));
                    c.watchers.wake();
                });
            }
            Event::ExitSignal { id, signal, .. } => {
                self.with(id, |c| {
                    c.exit = Some(ExitStatus::Signal(signal));
                    c.watchers.wake();
                });
            }
            Event::Eof(id) => {
                self.with(id, |c| {
                    c.eof = true;
                    c.wake_all();
                });
            }
            Event::Closed(id) => {
                self.with(id, |c| {
                    c.closed = true;
                    c.eof = true;
                    c.wake_all();
                });
                self.forget_if_dropped(id, server);
                // A server's handler hears of it too.
                if server {
                    return Some(ev);
                }
            }
            Event::Pong(data) => self.push_pong(data),
            // A client's forwarded channels go to its forwarding loop; a server's handler
            // decides its own.
            Event::ChannelOpenRequest(incoming) if !server => self.push_incoming(incoming),
            Event::GlobalRequestSucceeded { id, bound_port } => {
                self.push_global_reply(id, Ok(bound_port))
            }
            Event::GlobalRequestFailed { id } => self.push_global_reply(id, Err(())),
            Event::ConnectionLost(e) => self.set_lost(Lost::Ssh(e)),
            Event::HostKeysAnnounced(keys) if !server => self.host_keys_announced(keys),
            Event::HostKeysProven(keys) if !server => self.host_keys_proven(keys),
            other => return Some(other),
        }
        None
    }

    fn with<T>(&mut self, id: ChannelId, f: impl FnOnce(&mut Inbox) -> T) -> Option<T> {
        self.channels.get_mut(&id).map(f)
    }

    /// Server channels are forgotten when closed (their handles then read EOF and refuse
    /// writes), except forwarded ones, whose owner forgets them when dropped (after reading
    /// what came before the CLOSE); client channels once their handles are gone too.
    fn forget_if_dropped(&mut self, id: ChannelId, server: bool) {
        let forget = |c: &Inbox| c.dropped || (server && !c.owned);
        if self.channels.get(&id).is_some_and(forget) {
            self.channels.remove(&id);
        }
    }

    fn push_data(&mut self, id: ChannelId, ext: bool, data: Bytes) {
        match self.channels.get_mut(&id) {
            Some(c) => c.push(ext, data, &mut self.wake_later),
            // Nobody will read it: give the window back.
            None => self.consume(id, data.len()),
        }
    }
}
