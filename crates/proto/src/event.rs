//! What a connection reports to the application, and the decision tokens it answers with.

use crate::error::Error;
use crate::keys::PublicKey;
use bytes::Bytes;

/// A channel, named by a local number the core allocates. The peer's number never leaves the
/// core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub(crate) u32);

impl ChannelId {
    /// The local channel number.
    pub fn index(self) -> u32 {
        self.0
    }
}

/// Something the application must know about or decide.
#[non_exhaustive]
#[derive(Debug)]
pub enum Event {
    /// The server proved it holds this host key (its signature over the exchange hash has been
    /// verified). Decide whether to trust it with `accept_host_key` or `reject_host_key`; no
    /// authentication data is sent until you accept.
    HostKey(HostKeyCheck),
    /// The server wants authentication; these methods can continue. Call `authenticate`.
    AuthMethods {
        /// Methods the server would accept next.
        methods: Vec<String>,
        /// Whether the previous attempt succeeded partially (more methods required).
        partial_success: bool,
    },
    /// A banner from the server, control characters removed.
    Banner(String),
    /// Authentication succeeded; channels can be opened.
    Authenticated,
    /// A channel we opened is open.
    ChannelOpened(ChannelId),
    /// The server refused to open a channel.
    ChannelOpenFailed {
        /// The channel.
        id: ChannelId,
        /// RFC 4254 reason code.
        reason: u32,
        /// The server's description.
        description: String,
    },
    /// Channel data (stdout of a session). Call `consume` once processed.
    Data {
        /// The channel.
        id: ChannelId,
        /// The bytes, a slice of the decrypted packet.
        data: Bytes,
    },
    /// Extended channel data (code 1 is stderr). Call `consume` once processed.
    ExtendedData {
        /// The channel.
        id: ChannelId,
        /// The data type code.
        code: u32,
        /// The bytes.
        data: Bytes,
    },
    /// The channel's send window opened again after a short write.
    Writable(ChannelId),
    /// The server accepted a channel request we sent with want-reply.
    RequestSucceeded(ChannelId),
    /// The server refused a channel request we sent with want-reply.
    RequestFailed(ChannelId),
    /// The remote command exited with this status.
    ExitStatus {
        /// The channel.
        id: ChannelId,
        /// The exit status.
        status: u32,
    },
    /// The remote command was killed by a signal.
    ExitSignal {
        /// The channel.
        id: ChannelId,
        /// Signal name without "SIG" (for example "TERM").
        signal: String,
        /// Whether a core was dumped.
        core_dumped: bool,
        /// The error message, control characters removed.
        message: String,
    },
    /// The server will send no more data on the channel.
    Eof(ChannelId),
    /// The channel is closed in both directions and its id is free.
    Closed(ChannelId),
    /// The connection ended. This is the last event.
    ConnectionLost(Error),
}

/// A pending host-key decision. Answer it with `accept_host_key` or `reject_host_key`.
#[must_use = "the connection waits until the host key is accepted or rejected"]
#[derive(Debug)]
pub struct HostKeyCheck {
    pub(crate) key: PublicKey,
    pub(crate) algorithm: String,
}

impl HostKeyCheck {
    /// The server's host key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The signature algorithm the server used (for example `rsa-sha2-512`).
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The key's SHA-256 fingerprint, `SHA256:<base64>`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint()
    }
}

/// Removes control characters (except tab and newline) from text the peer chose, so it cannot
/// drive the user's terminal.
pub fn sanitize(text: &[u8]) -> String {
    String::from_utf8_lossy(text)
        .chars()
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect()
}
