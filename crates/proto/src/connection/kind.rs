//! Channel types (RFC 4254 §6.1, §7, OpenSSH `PROTOCOL` §2.4–2.5): what a channel carries,
//! stored per channel, with the type-specific data of CHANNEL_OPEN.

use crate::error::{Error, InvalidMessage};
use crate::wire::{self, Reader};

/// Longest type-specific field we accept in a CHANNEL_OPEN (host names, paths).
const MAX_FIELD: usize = 4096;

/// What a channel carries, with the data its CHANNEL_OPEN named.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKind {
    /// An interactive session or a command (`session`), opened by the client.
    Session,
    /// A TCP connection the client asks the server to make (`direct-tcpip`, ssh `-L`).
    DirectTcpip {
        /// Where the server should connect.
        host: String,
        /// Its port.
        port: u32,
        /// The address the connection came from on the client's side.
        originator: String,
        /// Its port.
        originator_port: u32,
    },
    /// A connection to a port the client asked the server to listen on (`forwarded-tcpip`,
    /// ssh `-R`).
    ForwardedTcpip {
        /// The address the listener was bound to, as the client asked for it.
        address: String,
        /// The port that accepted the connection.
        port: u32,
        /// Who connected.
        originator: String,
        /// Its port.
        originator_port: u32,
    },
    /// A Unix socket the client asks the server to connect to
    /// (`direct-streamlocal@openssh.com`).
    DirectStreamlocal {
        /// The socket path on the server.
        path: String,
    },
    /// A connection to a Unix socket the client asked the server to listen on
    /// (`forwarded-streamlocal@openssh.com`).
    ForwardedStreamlocal {
        /// The listening socket path.
        path: String,
    },
    /// An X11 client connection forwarded by the server (`x11`).
    X11 {
        /// The originator address.
        originator: String,
        /// Its port.
        originator_port: u32,
    },
    /// A connection to the client's authentication agent (`auth-agent@openssh.com`).
    AuthAgent,
    /// A connection to the client's agent under RFC 9987's name (`agent-connect`), opened
    /// after an `agent-req` request.
    AgentConnect,
    /// Any other type, by name, with its raw type-specific data.
    Other {
        /// The channel type.
        name: String,
        /// The type-specific data, undecoded.
        data: Vec<u8>,
    },
}

/// Which side of a connection may open a channel type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opener {
    Client,
    Server,
    Either,
}

impl ChannelKind {
    /// The channel type name on the wire.
    pub fn name(&self) -> &str {
        match self {
            ChannelKind::Session => "session",
            ChannelKind::DirectTcpip { .. } => "direct-tcpip",
            ChannelKind::ForwardedTcpip { .. } => "forwarded-tcpip",
            ChannelKind::DirectStreamlocal { .. } => "direct-streamlocal@openssh.com",
            ChannelKind::ForwardedStreamlocal { .. } => "forwarded-streamlocal@openssh.com",
            ChannelKind::X11 { .. } => "x11",
            ChannelKind::AuthAgent => "auth-agent@openssh.com",
            ChannelKind::AgentConnect => "agent-connect",
            ChannelKind::Other { name, .. } => name,
        }
    }

    /// Who may open this type: RFC 4254 lets only the client open sessions and direct
    /// connections, and only the server the forwarded ones, X11 and agent channels.
    pub(crate) fn opener(&self) -> Opener {
        match self {
            ChannelKind::Session
            | ChannelKind::DirectTcpip { .. }
            | ChannelKind::DirectStreamlocal { .. } => Opener::Client,
            ChannelKind::ForwardedTcpip { .. }
            | ChannelKind::ForwardedStreamlocal { .. }
            | ChannelKind::X11 { .. }
            | ChannelKind::AuthAgent
            | ChannelKind::AgentConnect => Opener::Server,
            ChannelKind::Other { .. } => Opener::Either,
        }
    }

    /// Appends the type-specific data of CHANNEL_OPEN.
    pub(crate) fn put_data(&self, p: &mut Vec<u8>) {
        match self {
            ChannelKind::Session | ChannelKind::AuthAgent | ChannelKind::AgentConnect => {}
            ChannelKind::DirectTcpip {
                host,
                port,
                originator,
                originator_port,
            }
            | ChannelKind::ForwardedTcpip {
                address: host,
                port,
                originator,
                originator_port,
            } => {
                wire::put_string(p, host.as_bytes());
                wire::put_u32(p, *port);
                wire::put_string(p, originator.as_bytes());
                wire::put_u32(p, *originator_port);
            }
            ChannelKind::DirectStreamlocal { path } => {
                wire::put_string(p, path.as_bytes());
                // Reserved: an originator address and port (OpenSSH sends "" and 0).
                wire::put_string(p, b"");
                wire::put_u32(p, 0);
            }
            ChannelKind::ForwardedStreamlocal { path } => {
                wire::put_string(p, path.as_bytes());
                wire::put_string(p, b"");
            }
            ChannelKind::X11 {
                originator,
                originator_port,
            } => {
                wire::put_string(p, originator.as_bytes());
                wire::put_u32(p, *originator_port);
            }
            ChannelKind::Other { data, .. } => p.extend_from_slice(data),
        }
    }

    /// Decodes a channel type and its data (the rest of the CHANNEL_OPEN after the window
    /// and packet size).
    pub(crate) fn decode(name: &[u8], r: &mut Reader<'_>) -> Result<ChannelKind, Error> {
        let kind = match name {
            b"session" => ChannelKind::Session,
            b"direct-tcpip" => ChannelKind::DirectTcpip {
                host: text(r, "host to connect")?,
                port: r.u32("port to connect")?,
                originator: text(r, "originator address")?,
                originator_port: r.u32("originator port")?,
            },
            b"forwarded-tcpip" => ChannelKind::ForwardedTcpip {
                address: text(r, "connected address")?,
                port: r.u32("connected port")?,
                originator: text(r, "originator address")?,
                originator_port: r.u32("originator port")?,
            },
            b"direct-streamlocal@openssh.com" => {
                let path = text(r, "socket path")?;
                // The reserved fields are optional in practice; ignore what follows.
                let _ = r.take(r.remaining(), "reserved");
                ChannelKind::DirectStreamlocal { path }
            }
            b"forwarded-streamlocal@openssh.com" => {
                let path = text(r, "socket path")?;
                let _ = r.take(r.remaining(), "reserved");
                ChannelKind::ForwardedStreamlocal { path }
            }
            b"x11" => ChannelKind::X11 {
                originator: text(r, "originator address")?,
                originator_port: r.u32("originator port")?,
            },
            b"auth-agent@openssh.com" => ChannelKind::AuthAgent,
            b"agent-connect" => ChannelKind::AgentConnect,
            other => {
                if other.len() > 64 {
                    return Err(InvalidMessage::BadValue("channel type name too long").into());
                }
                let data = r.take(r.remaining(), "channel data")?.to_vec();
                return Ok(ChannelKind::Other {
                    name: String::from_utf8_lossy(other).into_owned(),
                    data,
                });
            }
        };
        r.end("channel open")?;
        Ok(kind)
    }
}

/// A text field of bounded length.
pub(crate) fn text(r: &mut Reader<'_>, what: &'static str) -> Result<String, InvalidMessage> {
    let s = r.string(what)?;
    if s.len() > MAX_FIELD {
        return Err(InvalidMessage::BadValue(what));
    }
    Ok(String::from_utf8_lossy(s).into_owned())
}

/// Why a channel open is refused (RFC 4254 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFailure {
    /// `SSH_OPEN_ADMINISTRATIVELY_PROHIBITED` (1): policy forbids it.
    AdministrativelyProhibited,
    /// `SSH_OPEN_CONNECT_FAILED` (2): the target could not be reached.
    ConnectFailed,
    /// `SSH_OPEN_UNKNOWN_CHANNEL_TYPE` (3).
    UnknownChannelType,
    /// `SSH_OPEN_RESOURCE_SHORTAGE` (4): too many channels.
    ResourceShortage,
}

impl OpenFailure {
    /// The reason code on the wire.
    pub fn code(self) -> u32 {
        match self {
            OpenFailure::AdministrativelyProhibited => 1,
            OpenFailure::ConnectFailed => 2,
            OpenFailure::UnknownChannelType => 3,
            OpenFailure::ResourceShortage => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(kind: ChannelKind) {
        let mut p = Vec::new();
        kind.put_data(&mut p);
        let back = ChannelKind::decode(kind.name().as_bytes(), &mut Reader::new(&p)).unwrap();
        assert_eq!(back, kind);
    }

    #[test]
    fn every_kind_round_trips() {
        round_trip(ChannelKind::Session);
        round_trip(ChannelKind::AuthAgent);
        round_trip(ChannelKind::AgentConnect);
        round_trip(ChannelKind::DirectTcpip {
            host: "example.org".into(),
            port: 80,
            originator: "127.0.0.1".into(),
            originator_port: 5555,
        });
        round_trip(ChannelKind::ForwardedTcpip {
            address: "".into(),
            port: 8080,
            originator: "10.0.0.1".into(),
            originator_port: 1,
        });
        round_trip(ChannelKind::DirectStreamlocal {
            path: "/tmp/s".into(),
        });
        round_trip(ChannelKind::ForwardedStreamlocal {
            path: "/tmp/l".into(),
        });
        round_trip(ChannelKind::X11 {
            originator: "127.0.0.1".into(),
            originator_port: 6010,
        });
        round_trip(ChannelKind::Other {
            name: "x@example.org".into(),
            data: vec![1, 2, 3],
        });
    }

    #[test]
    fn truncated_and_trailing_data_are_errors() {
        let mut p = Vec::new();
        wire::put_string(&mut p, b"h");
        assert!(ChannelKind::decode(b"direct-tcpip", &mut Reader::new(&p)).is_err());
        assert!(ChannelKind::decode(b"session", &mut Reader::new(&[0])).is_err());
        let long = vec![b'a'; 5000];
        let mut p = Vec::new();
        wire::put_string(&mut p, &long);
        wire::put_u32(&mut p, 1);
        wire::put_string(&mut p, b"");
        wire::put_u32(&mut p, 1);
        assert!(ChannelKind::decode(b"direct-tcpip", &mut Reader::new(&p)).is_err());
    }
}
