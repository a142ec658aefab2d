//! Global requests (RFC 4254 §4, OpenSSH `PROTOCOL` §2.2–2.5): their types, the replies we
//! owe (sent in arrival order whatever order they are answered in), the replies we wait
//! for, and the listeners the peer has granted us.

use super::kind::text;
use super::replies::OrderedReplies;
use crate::error::{ApiMisuse, Error, PeerMisbehaved};
use crate::keys::PublicKey;
use crate::wire::{self, Reader, msg};
use std::collections::VecDeque;

/// Most want-reply global requests a peer may leave waiting for our answers.
pub(crate) const MAX_OWED: usize = 64;
/// Most of our own global requests waiting for answers.
const MAX_OURS: usize = 256;
/// Most host keys a `hostkeys-00` or `hostkeys-prove-00` message may carry.
const MAX_HOST_KEYS: usize = 64;
/// The string a `hostkeys-prove-00@openssh.com` signature covers first.
pub(crate) const PROVE: &str = "hostkeys-prove-00@openssh.com";

/// What a global request asks.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalRequestKind {
    /// Listen on `address:port` and forward connections back (`tcpip-forward`, ssh `-R`).
    /// Port 0 asks the server to choose; the reply names it.
    TcpipForward {
        /// The bind address (`""` all, `localhost`, an address).
        address: String,
        /// The port, 0 for any.
        port: u32,
    },
    /// Stop a listener started by `TcpipForward`.
    CancelTcpipForward {
        /// The bind address as given.
        address: String,
        /// The port.
        port: u32,
    },
    /// Listen on a Unix socket (`streamlocal-forward@openssh.com`).
    StreamlocalForward {
        /// The socket path.
        path: String,
    },
    /// Stop a Unix-socket listener (`cancel-streamlocal-forward@openssh.com`).
    CancelStreamlocalForward {
        /// The socket path.
        path: String,
    },
    /// A liveness probe (`keepalive@openssh.com`); any answer proves the peer alive.
    Keepalive,
    /// The client will open no more sessions (`no-more-sessions@openssh.com`).
    NoMoreSessions,
    /// The server announces every host key it has (`hostkeys-00@openssh.com`).
    HostKeys(Vec<PublicKey>),
    /// The client asks the server to prove it holds these host keys
    /// (`hostkeys-prove-00@openssh.com`).
    HostKeysProve(Vec<PublicKey>),
    /// Any other request, by name, with its undecoded data.
    Other {
        /// The request name.
        name: String,
        /// The request-specific data.
        data: Vec<u8>,
    },
}

impl GlobalRequestKind {
    /// The request name on the wire.
    pub fn name(&self) -> &str {
        match self {
            GlobalRequestKind::TcpipForward { .. } => "tcpip-forward",
            GlobalRequestKind::CancelTcpipForward { .. } => "cancel-tcpip-forward",
            GlobalRequestKind::StreamlocalForward { .. } => "streamlocal-forward@openssh.com",
            GlobalRequestKind::CancelStreamlocalForward { .. } => {
                "cancel-streamlocal-forward@openssh.com"
            }
            GlobalRequestKind::Keepalive => "keepalive@openssh.com",
            GlobalRequestKind::NoMoreSessions => "no-more-sessions@openssh.com",
            GlobalRequestKind::HostKeys(_) => "hostkeys-00@openssh.com",
            GlobalRequestKind::HostKeysProve(_) => PROVE,
            GlobalRequestKind::Other { name, .. } => name,
        }
    }

    /// The whole GLOBAL_REQUEST payload.
    pub(crate) fn encode(&self, want_reply: bool) -> Vec<u8> {
        let mut p = vec![msg::GLOBAL_REQUEST];
        wire::put_string(&mut p, self.name().as_bytes());
        wire::put_bool(&mut p, want_reply);
        match self {
            GlobalRequestKind::TcpipForward { address, port }
            | GlobalRequestKind::CancelTcpipForward { address, port } => {
                wire::put_string(&mut p, address.as_bytes());
                wire::put_u32(&mut p, *port);
            }
            GlobalRequestKind::StreamlocalForward { path }
            | GlobalRequestKind::CancelStreamlocalForward { path } => {
                wire::put_string(&mut p, path.as_bytes());
            }
            GlobalRequestKind::Keepalive | GlobalRequestKind::NoMoreSessions => {}
            GlobalRequestKind::HostKeys(keys) | GlobalRequestKind::HostKeysProve(keys) => {
                for k in keys {
                    wire::put_string(&mut p, &k.to_blob());
                }
            }
            GlobalRequestKind::Other { data, .. } => p.extend_from_slice(data),
        }
        p
    }

    /// Decodes a request's type-specific data.
    pub(crate) fn decode(name: &[u8], r: &mut Reader<'_>) -> Result<GlobalRequestKind, Error> {
        let kind = match name {
            b"tcpip-forward" => GlobalRequestKind::TcpipForward {
                address: text(r, "bind address")?,
                port: r.u32("bind port")?,
            },
            b"cancel-tcpip-forward" => GlobalRequestKind::CancelTcpipForward {
                address: text(r, "bind address")?,
                port: r.u32("bind port")?,
            },
            b"streamlocal-forward@openssh.com" => GlobalRequestKind::StreamlocalForward {
                path: text(r, "socket path")?,
            },
            b"cancel-streamlocal-forward@openssh.com" => {
                GlobalRequestKind::CancelStreamlocalForward {
                    path: text(r, "socket path")?,
                }
            }
            b"keepalive@openssh.com" => GlobalRequestKind::Keepalive,
            b"no-more-sessions@openssh.com" => GlobalRequestKind::NoMoreSessions,
            b"hostkeys-00@openssh.com" => GlobalRequestKind::HostKeys(host_keys(r)?),
            b"hostkeys-prove-00@openssh.com" => GlobalRequestKind::HostKeysProve(host_keys(r)?),
            other => {
                let data = r.take(r.remaining(), "request data")?.to_vec();
                return Ok(GlobalRequestKind::Other {
                    name: String::from_utf8_lossy(other).into_owned(),
                    data,
                });
            }
        };
        r.end("global request")?;
        Ok(kind)
    }
}

/// Key blobs, one string each, up to the end of the message. Keys of types we do not know
/// are skipped, as OpenSSH does.
fn host_keys(r: &mut Reader<'_>) -> Result<Vec<PublicKey>, Error> {
    let mut keys = Vec::new();
    let mut count = 0;
    while r.remaining() > 0 {
        let blob = r.string("host key")?;
        count += 1;
        if count > MAX_HOST_KEYS {
            return Err(PeerMisbehaved::TooManyPendingRequests.into());
        }
        if let Ok(k) = PublicKey::from_blob(blob) {
            keys.push(k);
        }
    }
    Ok(keys)
}

/// Names one of our global requests, to match its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalRequestId(pub(crate) u64);

/// The answer to a peer's global request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalReply {
    /// `REQUEST_SUCCESS` with no data.
    Success,
    /// `REQUEST_SUCCESS` naming the port bound (the answer to `tcpip-forward` for port 0).
    SuccessWithPort(u32),
    /// `REQUEST_FAILURE`.
    Failure,
}

impl GlobalReply {
    fn payload(self) -> Vec<u8> {
        match self {
            GlobalReply::Success => vec![msg::REQUEST_SUCCESS],
            GlobalReply::SuccessWithPort(port) => {
                let mut p = vec![msg::REQUEST_SUCCESS];
                wire::put_u32(&mut p, port);
                p
            }
            GlobalReply::Failure => vec![msg::REQUEST_FAILURE],
        }
    }
}

/// What one of our requests was, for the handling of its answer.
#[derive(Debug)]
pub(crate) enum Sent {
    /// Answered with an event.
    Plain,
    /// A `tcpip-forward`: success records the listener.
    TcpipForward { port: u32 },
    /// A `cancel-tcpip-forward`: success forgets it.
    CancelTcpip { port: u32 },
    /// A `streamlocal-forward`.
    Streamlocal { path: String },
    /// A `cancel-streamlocal-forward`.
    CancelStreamlocal { path: String },
    /// A keepalive of the core's own: the answer needs no event.
    Keepalive,
    /// A `hostkeys-prove-00` for these keys.
    Prove(Vec<PublicKey>),
}

/// The global-request state of a connection.
#[derive(Debug)]
pub(crate) struct Globals {
    /// The peer's want-reply requests, answered in arrival order.
    owed: OrderedReplies<Vec<u8>>,
    /// Requests handed to the application and not answered yet.
    pub undecided: usize,
    /// Our want-reply requests, in the order sent.
    ours: VecDeque<(u64, Sent)>,
    /// Ports the peer listens on for us (`tcpip-forward` granted): a `forwarded-tcpip` for
    /// any other port is refused.
    pub tcp_listeners: Vec<u32>,
    /// Unix-socket paths the peer listens on for us.
    pub unix_listeners: Vec<String>,
    /// Server: the client sent `no-more-sessions@openssh.com`.
    pub no_more_sessions: bool,
}

impl Default for Globals {
    fn default() -> Self {
        Globals {
            owed: OrderedReplies::new(MAX_OWED),
            undecided: 0,
            ours: VecDeque::new(),
            tcp_listeners: Vec::new(),
            unix_listeners: Vec::new(),
            no_more_sessions: false,
        }
    }
}

impl Globals {
    /// Records a want-reply request of the peer's; fails past [`MAX_OWED`].
    pub fn owe(&mut self, serial: u64) -> Result<(), Error> {
        self.owed.owe(serial)
    }

    /// Records the answer to `serial` and returns the replies now due, in order.
    pub fn answer(&mut self, serial: u64, reply: GlobalReply) -> Result<Vec<Vec<u8>>, Error> {
        self.answer_with(serial, reply.payload())
    }

    /// Like [`answer`](Self::answer), with the whole reply payload given.
    pub fn answer_with(&mut self, serial: u64, payload: Vec<u8>) -> Result<Vec<Vec<u8>>, Error> {
        self.owed.answer(serial, payload)
    }

    /// Whether `serial` is a request of the peer's still waiting for our answer.
    pub fn is_owed(&self, serial: u64) -> bool {
        self.owed.is_owed(serial)
    }

    /// Records one of our want-reply requests.
    pub fn sent(&mut self, sent: Sent) -> Result<GlobalRequestId, Error> {
        if self.ours.len() >= MAX_OURS {
            return Err(ApiMisuse::WrongState("too many global requests unanswered").into());
        }
        let id = crate::event::next_token();
        self.ours.push_back((id, sent));
        Ok(GlobalRequestId(id))
    }

    /// Matches a REQUEST_SUCCESS/FAILURE to the oldest of our requests.
    pub fn on_reply(&mut self) -> Result<(GlobalRequestId, Sent), Error> {
        self.ours
            .pop_front()
            .map(|(id, s)| (GlobalRequestId(id), s))
            .ok_or(PeerMisbehaved::UnexpectedMessage(msg::REQUEST_SUCCESS).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_leave_in_arrival_order() {
        let mut g = Globals::default();
        g.owe(1).unwrap();
        g.owe(2).unwrap();
        g.owe(3).unwrap();
        assert!(g.answer(2, GlobalReply::Success).unwrap().is_empty());
        assert!(g.answer(2, GlobalReply::Success).is_err());
        let out = g.answer(1, GlobalReply::SuccessWithPort(7)).unwrap();
        assert_eq!(out, vec![vec![81, 0, 0, 0, 7], vec![81]]);
        assert_eq!(g.answer(3, GlobalReply::Failure).unwrap(), vec![vec![82]]);
        assert!(g.answer(99, GlobalReply::Failure).is_err());
    }

    #[test]
    fn flood_is_bounded() {
        let mut g = Globals::default();
        for i in 0..MAX_OWED as u64 {
            g.owe(i).unwrap();
        }
        assert!(g.owe(1000).is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [
            GlobalRequestKind::TcpipForward {
                address: "localhost".into(),
                port: 0,
            },
            GlobalRequestKind::CancelTcpipForward {
                address: "".into(),
                port: 22,
            },
            GlobalRequestKind::StreamlocalForward {
                path: "/tmp/x".into(),
            },
            GlobalRequestKind::CancelStreamlocalForward {
                path: "/tmp/x".into(),
            },
            GlobalRequestKind::Keepalive,
            GlobalRequestKind::NoMoreSessions,
            GlobalRequestKind::Other {
                name: "x@y".into(),
                data: vec![9],
            },
        ] {
            let p = kind.encode(true);
            let mut r = Reader::new(&p);
            r.u8("n").unwrap();
            let name = r.string("name").unwrap();
            assert!(r.bool("want").unwrap());
            assert_eq!(GlobalRequestKind::decode(name, &mut r).unwrap(), kind);
        }
    }
}
