//! Tracing, behind the `tracing` feature: one span per connection (`ssh`: role, peer) and
//! one per session channel (`channel`: id), and events an operator wants: admission
//! refusals, the negotiated algorithms, each authentication attempt's method and outcome,
//! channel opens and closes, and the end of a connection with its byte counts and reason.
//! Nothing secret is recorded: no password, no key material, no channel data (a key shows
//! as its fingerprint).
//!
//! Without the feature the spans are empty values and the events compile to nothing.

use seashell_proto::{AuthAttempt, SessionRequestKind};

#[cfg(feature = "tracing")]
pub(crate) use tracing::Span;

/// A span that records nothing (the `tracing` feature is off).
#[cfg(not(feature = "tracing"))]
#[derive(Debug, Clone, Default)]
pub(crate) struct Span;

/// A connection's span.
pub(crate) fn connection(server: bool) -> Span {
    #[cfg(feature = "tracing")]
    {
        let role = if server { "server" } else { "client" };
        tracing::info_span!("ssh", role, peer = tracing::field::Empty)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = server;
        Span
    }
}

/// Records the peer's address (or `host:port`) on a connection's span.
pub(crate) fn set_peer(span: &Span, peer: &dyn std::fmt::Display) {
    #[cfg(feature = "tracing")]
    span.record("peer", tracing::field::display(peer));
    #[cfg(not(feature = "tracing"))]
    let _ = (span, peer);
}

/// A session channel's span, inside its connection's.
pub(crate) fn channel(parent: &Span, id: u32) -> Span {
    #[cfg(feature = "tracing")]
    {
        tracing::info_span!(parent: parent, "channel", id)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (parent, id);
        Span
    }
}

/// The method of an authentication attempt, for the log (never its secret).
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn method(attempt: &AuthAttempt) -> &'static str {
    match attempt {
        AuthAttempt::None => "none",
        AuthAttempt::Password(_) => "password",
        AuthAttempt::PublicKeyQuery { .. } => "publickey-query",
        AuthAttempt::PublicKey { .. } => "publickey",
        AuthAttempt::KeyboardInteractive { .. } | AuthAttempt::KeyboardInteractiveResponses(_) => {
            "keyboard-interactive"
        }
        _ => "other",
    }
}

/// A session request's kind, for the log (never a command line or an environment value).
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn request(kind: &SessionRequestKind) -> &'static str {
    match kind {
        SessionRequestKind::Exec(_) => "exec",
        SessionRequestKind::Shell => "shell",
        SessionRequestKind::Subsystem(_) => "subsystem",
        SessionRequestKind::Pty { .. } => "pty-req",
        SessionRequestKind::Env { .. } => "env",
        SessionRequestKind::WindowChange { .. } => "window-change",
        SessionRequestKind::Signal(_) => "signal",
        SessionRequestKind::Break(_) => "break",
        SessionRequestKind::XonXoff(_) => "xon-xoff",
        SessionRequestKind::EndOfWrite => "eow",
        SessionRequestKind::X11 { .. } => "x11-req",
        _ => "other",
    }
}

/// An event at `level` inside `span`: `event!(info, span, field = value, "message")`.
/// Without the `tracing` feature it evaluates nothing.
macro_rules! event {
    ($level:ident, $span:expr, $($rest:tt)+) => {{
        #[cfg(feature = "tracing")]
        {
            let span = &$span;
            let _entered = span.enter();
            tracing::$level!($($rest)+);
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = &$span;
        }
    }};
}
pub(crate) use event;

/// The algorithms the key exchange chose, as one event.
pub(crate) fn negotiated(span: &Span, n: &seashell_proto::kex::negotiate::Negotiated) {
    event!(
        info,
        span,
        kex = n.kex.name(),
        host_key = %n.host_key,
        cipher = n.cipher_c2s.name(),
        mac = n.mac_c2s.map(|m| m.name()).unwrap_or("(aead)"),
        compression = n.comp_c2s.name(),
        "negotiated"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = n;
}
