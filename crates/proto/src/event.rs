//! What a connection reports to the application, and the decision tokens it answers with.

use crate::connection::global::{GlobalRequestId, GlobalRequestKind};
use crate::connection::kind::ChannelKind;
use crate::error::Error;
use crate::keys::PublicKey;
use bytes::Bytes;
use std::sync::{Arc, Mutex, Weak};

/// Decision tokens carry numbers unique in the process, so a token can never be answered on
/// a connection it does not belong to.
pub(crate) fn next_token() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Serials of tokens dropped unanswered, for their connection to answer (refuse) them.
pub(crate) type DropBox = Arc<Mutex<Vec<u64>>>;

/// The identity of one decision: a process-unique serial, and the way back to its
/// connection. A token dropped without an answer reports its serial there, and the
/// connection refuses it at the next call, so the peer is never left without a reply.
#[derive(Debug)]
pub(crate) struct Ticket {
    serial: u64,
    dropped: Option<Weak<Mutex<Vec<u64>>>>,
}

impl Ticket {
    /// A fresh ticket, not yet tied to a connection.
    pub fn new() -> Ticket {
        Ticket {
            serial: next_token(),
            dropped: None,
        }
    }

    /// The serial.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// Ties the ticket to its connection's drop box.
    pub fn arm(&mut self, dropped: &DropBox) {
        self.dropped = Some(Arc::downgrade(dropped));
    }

    /// The token is being answered: dropping it later reports nothing.
    pub fn defuse(&mut self) -> u64 {
        self.dropped = None;
        self.serial
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(b) = self.dropped.take().and_then(|w| w.upgrade()) {
            b.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(self.serial);
        }
    }
}

/// Client: the token of an authentication step (the choice of the next method, or the
/// answers to keyboard-interactive prompts).
#[must_use = "authentication waits until the step is answered"]
#[derive(Debug)]
pub struct AuthChoice {
    pub(crate) ticket: Ticket,
}

impl AuthChoice {
    pub(crate) fn new() -> AuthChoice {
        AuthChoice {
            ticket: Ticket::new(),
        }
    }
}

/// Client: the server accepted a key whose private half is held elsewhere
/// ([`AuthMethod::ExternalKey`](crate::AuthMethod::ExternalKey)); sign `data` with it.
/// Answer with `provide_signature` or `refuse_signature`; a dropped request counts as a
/// refusal (the next [`Event::AuthMethods`] follows).
#[must_use = "authentication waits until the signature is provided or refused"]
#[derive(Debug)]
pub struct SignRequest {
    pub(crate) ticket: Ticket,
    key: PublicKey,
    algorithm: &'static str,
    data: Vec<u8>,
}

impl SignRequest {
    pub(crate) fn new(key: PublicKey, algorithm: &'static str, data: Vec<u8>) -> SignRequest {
        SignRequest {
            ticket: Ticket::new(),
            key,
            algorithm,
            data,
        }
    }

    /// The key to sign with.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The signature algorithm to use (for RSA keys `rsa-sha2-512`, `rsa-sha2-256` or
    /// `ssh-rsa`: an agent is asked with the matching flag).
    pub fn algorithm(&self) -> &'static str {
        self.algorithm
    }

    /// The data to sign (the session identifier and the request, RFC 4252 §7).
    pub fn data(&self) -> &[u8] {
        &self.data
    }
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
        /// The token to answer with `authenticate` (dropping it ends the connection).
        choice: AuthChoice,
    },
    /// A banner from the server, control characters removed.
    Banner(String),
    /// Client: sign for a key held elsewhere; answer with `provide_signature` or
    /// `refuse_signature`.
    SignRequest(SignRequest),
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
    AuthPrompts {
        /// The questions.
        prompts: PromptRequest,
        /// The token to answer with.
        choice: AuthChoice,
    },
    /// Server: a client asks to authenticate. The core has already verified any signature.
    /// Answer with `answer_auth`.
    AuthRequest(AuthRequest),
    /// Server: the client authenticated as this user.
    ClientAuthenticated(AuthenticatedUser),
    /// The peer wants to open a channel (either role). Answer with `accept_channel` or
    /// `reject_channel`; a dropped token is refused.
    ChannelOpenRequest(IncomingChannel),
    /// A request on a channel we accepted (exec, shell, pty-req, …). Answer with
    /// `reply_request` (the core sends replies in the order the requests arrived).
    ChannelRequest(SessionRequest),
    /// The peer sent a global request the application decides (`tcpip-forward`, …). Answer
    /// with `reply_global`; replies leave in arrival order.
    GlobalRequest(IncomingGlobalRequest),
    /// One of our global requests succeeded.
    GlobalRequestSucceeded {
        /// Which request.
        id: GlobalRequestId,
        /// For `tcpip-forward` of port 0: the port the peer bound.
        bound_port: Option<u32>,
    },
    /// One of our global requests was refused.
    GlobalRequestFailed {
        /// Which request.
        id: GlobalRequestId,
    },
    /// Client: the server announced every host key it holds (`hostkeys-00@openssh.com`),
    /// after authentication. Ask it to prove the new ones with `prove_host_keys`.
    HostKeysAnnounced(Vec<PublicKey>),
    /// Client: the server proved it holds these host keys (each signature over the session
    /// identifier verified): they may be recorded, as OpenSSH's `UpdateHostKeys` does.
    HostKeysProven(Vec<PublicKey>),
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
        /// For a FIDO security key (`sk-*`): the authenticator's flags and counter. Check
        /// [`SkSignatureInfo::user_present`](crate::keys::SkSignatureInfo::user_present)
        /// (OpenSSH requires it unless `no-touch-required`) and, where wanted,
        /// `user_verified`.
        sk: Option<crate::keys::SkSignatureInfo>,
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
    pub(crate) ticket: Ticket,
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
    pub(crate) ticket: Ticket,
    pub(crate) kind: ChannelKind,
    pub(crate) remote_id: u32,
    pub(crate) window: u32,
    pub(crate) max_packet: u32,
}

impl IncomingChannel {
    /// What the channel carries, with the data of its open request.
    pub fn kind(&self) -> &ChannelKind {
        &self.kind
    }
}

/// A global request of the peer's, waiting for the application's decision.
#[must_use = "the peer waits until the request is answered"]
#[derive(Debug)]
pub struct IncomingGlobalRequest {
    pub(crate) ticket: Ticket,
    pub(crate) kind: GlobalRequestKind,
    pub(crate) want_reply: bool,
}

impl IncomingGlobalRequest {
    /// What is asked.
    pub fn kind(&self) -> &GlobalRequestKind {
        &self.kind
    }

    /// Whether the peer waits for an answer.
    pub fn want_reply(&self) -> bool {
        self.want_reply
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
    /// Send a break of this many milliseconds (RFC 4335).
    Break(u32),
    /// Whether the client may do flow control with ^S/^Q (`xon-xoff`).
    XonXoff(bool),
    /// The client will write no more, but still reads (`eow@openssh.com`).
    EndOfWrite,
    /// Forward X11 connections (`x11-req`).
    X11 {
        /// Forward one connection only.
        single_connection: bool,
        /// The authentication protocol (`MIT-MAGIC-COOKIE-1`).
        protocol: String,
        /// The authentication cookie, hex.
        cookie: String,
        /// The X11 screen number.
        screen: u32,
    },
    /// Forward the client's authentication agent (`auth-agent-req@openssh.com`): the
    /// server opens `auth-agent@openssh.com` channels ([`ChannelKind::AuthAgent`]).
    AuthAgent,
    /// Forward the client's agent under RFC 9987's name (`agent-req`): the server opens
    /// `agent-connect` channels ([`ChannelKind::AgentConnect`]).
    AgentReq,
    /// Anything else, by name.
    Other(String),
}

/// Terminal modes of a `pty-req` (RFC 4254 §8): opcode and value pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerminalModes(pub Vec<(u8, u32)>);

impl TerminalModes {
    /// Decodes an encoded modes string. Decoding stops at `TTY_OP_END` (0) or at the first
    /// opcode of 160 or more, whose argument size is undefined (RFC 4254 §8).
    pub fn decode(encoded: &[u8]) -> TerminalModes {
        let mut modes = Vec::new();
        let mut r = crate::wire::Reader::new(encoded);
        while let Ok(op) = r.u8("opcode") {
            if op == 0 || op >= 160 {
                break;
            }
            match r.u32("mode value") {
                Ok(v) => modes.push((op, v)),
                Err(_) => break,
            }
        }
        TerminalModes(modes)
    }

    /// The encoded string, ending with `TTY_OP_END`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * 5 + 1);
        for &(op, v) in &self.0 {
            if op == 0 || op >= 160 {
                continue;
            }
            out.push(op);
            crate::wire::put_u32(&mut out, v);
        }
        out.push(0);
        out
    }
}

/// A pseudo-terminal to ask for (`pty-req`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtyRequest {
    /// `TERM` (for example `xterm-256color`).
    pub term: String,
    /// Width in characters.
    pub cols: u32,
    /// Height in characters.
    pub rows: u32,
    /// Width in pixels (0 if unknown).
    pub width_px: u32,
    /// Height in pixels (0 if unknown).
    pub height_px: u32,
    /// Terminal modes.
    pub modes: TerminalModes,
}

impl PtyRequest {
    /// A terminal of `term` type and size, with no modes.
    pub fn new(term: impl Into<String>, cols: u32, rows: u32) -> PtyRequest {
        PtyRequest {
            term: term.into(),
            cols,
            rows,
            width_px: 0,
            height_px: 0,
            modes: TerminalModes::default(),
        }
    }
}

/// Server: a request on a session channel.
#[must_use = "answer with reply_request so replies keep their order"]
#[derive(Debug)]
pub struct SessionRequest {
    pub(crate) id: ChannelId,
    pub(crate) kind: SessionRequestKind,
    pub(crate) want_reply: bool,
    pub(crate) ticket: Ticket,
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
    pub(crate) ticket: Ticket,
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

impl Event {
    /// Ties the decision token this event carries (if any) to its connection, so dropping it
    /// unanswered gets the peer a refusal.
    pub(crate) fn arm(mut self, dropped: &DropBox) -> Event {
        let ticket = match &mut self {
            Event::HostKey(c) => Some(&mut c.ticket),
            Event::AuthMethods { choice, .. } | Event::AuthPrompts { choice, .. } => {
                Some(&mut choice.ticket)
            }
            Event::AuthRequest(r) => Some(&mut r.ticket),
            Event::SignRequest(r) => Some(&mut r.ticket),
            Event::ChannelOpenRequest(r) => Some(&mut r.ticket),
            Event::ChannelRequest(r) if r.want_reply => Some(&mut r.ticket),
            Event::GlobalRequest(r) => Some(&mut r.ticket),
            _ => None,
        };
        if let Some(t) = ticket {
            t.arm(dropped);
        }
        self
    }
}
