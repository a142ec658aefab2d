//! What a connection reports to the application, and the decision tokens it answers with.

use crate::error::Error;
use crate::keys::PublicKey;
use bytes::Bytes;

/// Decision tokens carry numbers unique in the process, so a token can never be answered on
/// a connection it does not belong to.
pub(crate) fn next_token() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

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
    /// The answer to one of our pings (`ping@openssh.com`), with the data we sent.
    Pong(bytes::Bytes),
    /// Client: the server asks keyboard-interactive questions. Answer with `answer_prompts`.
    AuthPrompts(PromptRequest),
    /// Server: a client asks to authenticate. The core has already verified any signature.
    /// Answer with `answer_auth`.
    AuthRequest(AuthRequest),
    /// Server: the client authenticated as this user.
    ClientAuthenticated(AuthenticatedUser),
    /// Server: the client wants to open a channel. Answer with `accept_channel` or
    /// `reject_channel`.
    ChannelOpenRequest(IncomingChannel),
    /// Server: a request on a session channel (exec, shell, pty-req, …). Answer with
    /// `reply_request` (the core sends replies in the order the requests arrived).
    ChannelRequest(SessionRequest),
    /// The connection ended. This is the last event.
    ConnectionLost(Error),
}

/// Client: keyboard-interactive prompts from the server.
#[must_use = "authentication waits until the prompts are answered"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptRequest {
    /// The name of the request (may be empty).
    pub name: String,
    /// Instructions to show (may be empty).
    pub instruction: String,
    /// Each prompt and whether the answer may be echoed.
    pub prompts: Vec<(String, bool)>,
}

/// Server: how the client wants to authenticate, with what the core has proven.
#[non_exhaustive]
#[derive(Debug)]
pub enum AuthAttempt {
    /// The `none` method.
    None,
    /// A password (held in zeroizing memory).
    Password(zeroize::Zeroizing<String>),
    /// Would this key be accepted? Nothing is proven yet; accepting sends `PK_OK`, it does not
    /// authenticate.
    PublicKeyQuery {
        /// The key offered.
        key: PublicKey,
        /// Its signature algorithm.
        algorithm: String,
    },
    /// The client proved possession of this key: the core verified its signature over the
    /// session identifier.
    PublicKey {
        /// The key that signed.
        key: PublicKey,
        /// The signature algorithm used.
        algorithm: String,
    },
    /// The client starts keyboard-interactive; answer with prompts (or reject).
    KeyboardInteractive {
        /// The submethods hint the client sent.
        submethods: String,
    },
    /// The answers to the prompts we sent.
    KeyboardInteractiveResponses(Vec<zeroize::Zeroizing<String>>),
}

/// Server: an authentication attempt waiting for the application's decision.
#[must_use = "authentication waits until the request is answered"]
#[derive(Debug)]
pub struct AuthRequest {
    pub(crate) user: String,
    pub(crate) attempt: AuthAttempt,
    pub(crate) serial: u64,
}

impl AuthRequest {
    /// The user name the client gave.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// What the client tried, with what the core has proven.
    pub fn attempt(&self) -> &AuthAttempt {
        &self.attempt
    }
}

/// Server: the answer to an [`AuthRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    /// Accept: the user is authenticated (for a key query: the key is acceptable, `PK_OK`).
    Accept,
    /// This step succeeded but more is required: the client continues with `methods`.
    Partial {
        /// Methods the client may continue with.
        methods: Vec<String>,
    },
    /// Refuse.
    Reject,
    /// Keyboard-interactive: ask these questions.
    Prompt(PromptRequest),
}

/// Server: who the client proved to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    /// The user name.
    pub user: String,
    /// The method of the final step.
    pub method: String,
    /// The key that actually signed, when a publickey step succeeded.
    pub key: Option<PublicKey>,
}

/// Server: a channel the client wants to open.
#[must_use = "the client waits until the channel is accepted or rejected"]
#[derive(Debug)]
pub struct IncomingChannel {
    pub(crate) serial: u64,
    pub(crate) kind: String,
    pub(crate) remote_id: u32,
    pub(crate) window: u32,
    pub(crate) max_packet: u32,
}

impl IncomingChannel {
    /// The channel type (`session`, …).
    pub fn kind(&self) -> &str {
        &self.kind
    }
}

/// Server: what a client asks of a session channel.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRequestKind {
    /// Run a command.
    Exec(Vec<u8>),
    /// Start the user's shell.
    Shell,
    /// Start a subsystem (for example `sftp`).
    Subsystem(String),
    /// Allocate a pseudo-terminal.
    Pty {
        /// `TERM`.
        term: String,
        /// Width in characters.
        cols: u32,
        /// Height in characters.
        rows: u32,
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
        /// Encoded terminal modes (RFC 4254 §8).
        modes: Vec<u8>,
    },
    /// Set an environment variable.
    Env {
        /// Name.
        name: String,
        /// Value.
        value: String,
    },
    /// The terminal was resized.
    WindowChange {
        /// Width in characters.
        cols: u32,
        /// Height in characters.
        rows: u32,
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
    },
    /// Deliver a signal (name without "SIG").
    Signal(String),
    /// Anything else, by name.
    Other(String),
}

/// Server: a request on a session channel.
#[must_use = "answer with reply_request so replies keep their order"]
#[derive(Debug)]
pub struct SessionRequest {
    pub(crate) id: ChannelId,
    pub(crate) kind: SessionRequestKind,
    pub(crate) want_reply: bool,
    pub(crate) serial: u64,
}

impl SessionRequest {
    /// The channel.
    pub fn channel(&self) -> ChannelId {
        self.id
    }

    /// What is asked.
    pub fn kind(&self) -> &SessionRequestKind {
        &self.kind
    }

    /// Whether the client waits for an answer.
    pub fn want_reply(&self) -> bool {
        self.want_reply
    }
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
