//! The one error type of the core, with sub-enums that say whose fault it is.

use core::fmt;

/// A fatal connection error. Once returned, it is sticky: every later call returns it again,
/// after the queued `SSH_MSG_DISCONNECT` (if any) has been flushed by `poll_transmit`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The peer sent bytes that do not decode as the message they claim to be.
    InvalidMessage(InvalidMessage),
    /// The peer sent a well-formed message that the protocol forbids at this point.
    PeerMisbehaved(PeerMisbehaved),
    /// The peer and we have nothing in common (algorithms, protocol version).
    PeerIncompatible(PeerIncompatible),
    /// The application used the API wrongly (our fault, not the peer's).
    ApiMisuse(ApiMisuse),
    /// A cryptographic operation failed: a bad MAC/tag, a bad signature, a bad key.
    Crypto(CryptoError),
    /// The application refused the server's host key.
    HostKeyRejected {
        /// The SHA-256 fingerprint of the refused key, as `SHA256:<base64>`.
        fingerprint: String,
    },
    /// The peer sent `SSH_MSG_DISCONNECT`.
    DisconnectReceived {
        /// The reason code the peer gave.
        reason: u32,
        /// The peer's description, stripped of control characters.
        description: String,
    },
    /// We disconnected on the application's request.
    LocallyClosed,
    /// The peer closed the byte stream without a `SSH_MSG_DISCONNECT`.
    ConnectionClosed,
    /// The peer did not answer in time.
    Timeout,
    /// The peer answered none of `count` keepalives in a row (`ServerAliveCountMax` /
    /// `ClientAliveCountMax`): it is dead, frozen or unreachable.
    KeepaliveTimeout {
        /// How many keepalives went unanswered.
        count: u32,
    },
    /// Nothing arrived from the peer for the configured idle time.
    IdleTimeout,
}

/// Decoding failures. Each variant names what was being decoded.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidMessage {
    /// The input ended before the field was complete.
    Truncated(&'static str),
    /// Bytes were left over after the last field of a message.
    TrailingBytes(&'static str),
    /// A field held a value outside its allowed range.
    BadValue(&'static str),
    /// A string field that must be UTF-8 was not.
    NotUtf8(&'static str),
    /// The identification line was malformed or exceeded a limit.
    BadIdentification(&'static str),
    /// A packet length or padding length broke the framing rules.
    BadPacketLength(u32),
    /// A packet's padding was shorter than 4 bytes or longer than the packet.
    BadPadding,
    /// A packet with no payload (no message number).
    EmptyPacket,
    /// A compressed payload inflated to more than the packet cap (a "zip bomb").
    DecompressedTooLarge,
    /// A compressed payload was not valid zlib data, made no progress or ended the stream.
    BadCompressedData,
}

/// Protocol violations by the peer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMisbehaved {
    /// A message arrived in a state where it is not allowed (number given).
    UnexpectedMessage(u8),
    /// Strict KEX: the first packet from the peer was not KEXINIT.
    KexInitNotFirst,
    /// Strict KEX: a non-KEX message arrived during the initial key exchange.
    NonKexMessageDuringStrictKex(u8),
    /// The packet sequence number wrapped during the initial key exchange.
    SequenceWrapDuringInitialKex,
    /// The server's host key changed during a rekey.
    HostKeyChanged,
    /// The peer sent more data than the channel window allowed.
    WindowExceeded,
    /// A window adjust would overflow the 32-bit window.
    WindowOverflow,
    /// A channel message named a channel that is not open.
    UnknownChannel(u32),
    /// A channel message arrived after the peer's EOF or CLOSE.
    DataAfterEof,
    /// The peer sent more extensions than allowed in EXT_INFO.
    TooManyExtensions,
    /// More than [`MAX_HELD_BYTES`](crate::transport::MAX_HELD_BYTES) of messages waited for
    /// a key exchange the peer did not complete (it kept sending requests instead).
    KexStalled,
    /// EXT_INFO arrived somewhere other than where RFC 8308 allows it.
    MisplacedExtInfo,
    /// The peer sent too many lines before its identification.
    TooManyPreBannerLines,
    /// The peer's identification was not SSH-2.0.
    UnsupportedProtocolVersion(String),
    /// The peer sent something that is not SSH at all.
    NotSsh,
    /// A channel data packet was larger than the maximum packet size we announced.
    OversizedChannelPacket,
    /// The peer signed with an algorithm other than the negotiated one.
    SignatureAlgorithmMismatch,
    /// Too many pending channel or global requests.
    TooManyPendingRequests,
    /// The client failed authentication more often than allowed.
    TooManyAuthFailures,
    /// The peer does not read what we send but keeps sending messages that call for replies
    /// (unknown message types, requests with want-reply, pings, key exchanges): a reply would
    /// have taken the bytes we hold for it over the configured cap
    /// ([`ServerConfig::max_pending_output`](crate::ServerConfig::max_pending_output), or the
    /// `_preauth` one before authentication).
    OutputFlood,
    /// Before authentication, one direction carried more than the cipher's own volume limit
    /// or [`MAX_PACKETS_PER_KEY`](crate::transport::MAX_PACKETS_PER_KEY) packets under one
    /// key. Nothing is re-keyed before authentication (as OpenSSH 10.3): the connection ends.
    PreauthTrafficLimit,
    /// The peer started more than
    /// [`MAX_PREAUTH_REKEYS`](crate::transport::MAX_PREAUTH_REKEYS) key re-exchanges before
    /// authentication.
    TooManyPreauthRekeys,
}

/// Nothing in common with the peer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerIncompatible {
    /// No common algorithm for the named negotiation slot.
    NoCommonAlgorithm {
        /// Which slot: "kex", "host key", "cipher c2s", …
        what: &'static str,
        /// What we offered.
        ours: String,
        /// What the peer offered.
        theirs: String,
    },
    /// No authentication method left to try.
    NoMoreAuthMethods {
        /// The methods the server would still accept.
        remaining: Vec<String>,
    },
}

/// The application misused the API.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMisuse {
    /// The call is not allowed in the connection's current state.
    WrongState(&'static str),
    /// The channel does not exist or is closed.
    NoSuchChannel,
    /// A configuration value is invalid.
    BadConfig(&'static str),
}

/// A failed cryptographic operation.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// A packet's MAC or AEAD tag did not verify.
    BadMac,
    /// A signature did not verify.
    BadSignature,
    /// A public key could not be parsed or was not acceptable.
    BadPublicKey,
    /// The key agreement failed (for example an all-zero X25519 result).
    KeyAgreement,
    /// The random number generator failed.
    Rng,
    /// A private key could not be used for signing.
    Signing,
}

/// SSH_MSG_DISCONNECT reason codes (RFC 4253 §11.1).
#[allow(missing_docs)]
pub mod reason {
    pub const HOST_NOT_ALLOWED_TO_CONNECT: u32 = 1;
    pub const PROTOCOL_ERROR: u32 = 2;
    pub const KEY_EXCHANGE_FAILED: u32 = 3;
    pub const MAC_ERROR: u32 = 5;
    pub const SERVICE_NOT_AVAILABLE: u32 = 7;
    pub const PROTOCOL_VERSION_NOT_SUPPORTED: u32 = 8;
    pub const HOST_KEY_NOT_VERIFIABLE: u32 = 9;
    pub const CONNECTION_LOST: u32 = 10;
    pub const BY_APPLICATION: u32 = 11;
    pub const NO_MORE_AUTH_METHODS_AVAILABLE: u32 = 14;
}

impl Error {
    /// The `SSH_MSG_DISCONNECT` reason code we send for this error, if we send one.
    pub fn disconnect_reason(&self) -> Option<u32> {
        match self {
            Error::PeerMisbehaved(PeerMisbehaved::TooManyAuthFailures) => {
                Some(reason::NO_MORE_AUTH_METHODS_AVAILABLE)
            }
            Error::InvalidMessage(_) | Error::PeerMisbehaved(_) => Some(reason::PROTOCOL_ERROR),
            Error::PeerIncompatible(PeerIncompatible::NoCommonAlgorithm { .. }) => {
                Some(reason::KEY_EXCHANGE_FAILED)
            }
            Error::PeerIncompatible(PeerIncompatible::NoMoreAuthMethods { .. }) => {
                Some(reason::NO_MORE_AUTH_METHODS_AVAILABLE)
            }
            Error::Crypto(CryptoError::BadMac) => Some(reason::MAC_ERROR),
            Error::Crypto(_) => Some(reason::KEY_EXCHANGE_FAILED),
            Error::HostKeyRejected { .. } => Some(reason::HOST_KEY_NOT_VERIFIABLE),
            Error::LocallyClosed => Some(reason::BY_APPLICATION),
            Error::Timeout | Error::KeepaliveTimeout { .. } | Error::IdleTimeout => {
                Some(reason::CONNECTION_LOST)
            }
            Error::ApiMisuse(_) => Some(reason::BY_APPLICATION),
            Error::DisconnectReceived { .. } | Error::ConnectionClosed => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidMessage(m) => write!(f, "invalid message from peer: {m:?}"),
            Error::PeerMisbehaved(PeerMisbehaved::TooManyAuthFailures) => {
                f.write_str("too many authentication failures")
            }
            Error::PeerMisbehaved(m) => write!(f, "protocol violation by peer: {m:?}"),
            Error::PeerIncompatible(PeerIncompatible::NoCommonAlgorithm { what, ours, theirs }) => {
                write!(
                    f,
                    "no matching {what} algorithm: we offer {ours}, peer offers {theirs}"
                )
            }
            Error::PeerIncompatible(PeerIncompatible::NoMoreAuthMethods { remaining }) => {
                write!(f, "permission denied ({})", remaining.join(","))
            }
            Error::ApiMisuse(m) => write!(f, "API misuse: {m:?}"),
            Error::Crypto(c) => write!(f, "cryptographic failure: {c:?}"),
            Error::HostKeyRejected { fingerprint } => {
                write!(f, "host key verification failed for key {fingerprint}")
            }
            Error::DisconnectReceived {
                reason,
                description,
            } => {
                write!(f, "disconnected by peer (reason {reason}): {description}")
            }
            Error::LocallyClosed => f.write_str("connection closed locally"),
            Error::ConnectionClosed => f.write_str("connection closed by peer"),
            Error::Timeout => f.write_str("connection timed out"),
            Error::KeepaliveTimeout { count } => {
                write!(
                    f,
                    "timeout: peer not responding ({count} keepalives unanswered)"
                )
            }
            Error::IdleTimeout => f.write_str("connection idle for too long"),
        }
    }
}

impl std::error::Error for Error {}

impl From<InvalidMessage> for Error {
    fn from(e: InvalidMessage) -> Self {
        Error::InvalidMessage(e)
    }
}

impl From<PeerMisbehaved> for Error {
    fn from(e: PeerMisbehaved) -> Self {
        Error::PeerMisbehaved(e)
    }
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Error::Crypto(e)
    }
}

impl From<ApiMisuse> for Error {
    fn from(e: ApiMisuse) -> Self {
        Error::ApiMisuse(e)
    }
}

impl From<PeerIncompatible> for Error {
    fn from(e: PeerIncompatible) -> Self {
        Error::PeerIncompatible(e)
    }
}
