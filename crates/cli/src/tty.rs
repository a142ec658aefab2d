//! Whether to ask the server for a pseudo-terminal, decided the way ssh decides it.
//!
//! - `RequestTTY=yes`/`-t` and `force`/`-tt` ask for one; so does a session with no command
//!   unless `RequestTTY=no`/`-T`.
//! - `-T`, `RequestTTY=no` and `SessionType=none` (`-N`, `-W`) never do.
//! - Unless forced, a stdin that is not a terminal (or `-n`) cancels the request, with ssh's
//!   note "Pseudo-terminal will not be allocated because stdin is not a terminal.".

use crate::session_options::{RequestTty, SessionType};

/// ssh's note when a terminal was wanted but stdin is not one.
pub const NOT_A_TERMINAL: &str =
    "Pseudo-terminal will not be allocated because stdin is not a terminal.";

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtyDecision {
    /// Ask for a pseudo-terminal.
    pub allocate: bool,
    /// Print [`NOT_A_TERMINAL`].
    pub warn: bool,
}

/// What ssh's session setup needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtyInputs {
    /// `RequestTTY`/`-t`/`-T` (`None`: `auto`).
    pub request: Option<RequestTty>,
    /// Whether a remote command was given.
    pub has_command: bool,
    /// `SessionType`/`-N`/`-s`/`-W` (`None`: `default`).
    pub session_type: Option<SessionType>,
    /// Whether local stdin is a terminal.
    pub stdin_is_tty: bool,
    /// `-n`, `-f` or `StdinNull=yes`.
    pub stdin_null: bool,
}

/// Decides as ssh does.
pub fn decide(i: TtyInputs) -> TtyDecision {
    let request = i.request.unwrap_or(RequestTty::Auto);
    let mut wanted = if i.has_command {
        matches!(request, RequestTty::Yes | RequestTty::Force)
    } else {
        request != RequestTty::No
    };
    if i.session_type == Some(SessionType::None) {
        wanted = false;
    }
    if request != RequestTty::Force && (!i.stdin_is_tty || i.stdin_null) {
        return TtyDecision {
            allocate: false,
            warn: wanted,
        };
    }
    TtyDecision {
        allocate: wanted,
        warn: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(request: Option<RequestTty>, has_command: bool, stdin_is_tty: bool) -> TtyInputs {
        TtyInputs {
            request,
            has_command,
            session_type: None,
            stdin_is_tty,
            stdin_null: false,
        }
    }

    const YES: TtyDecision = TtyDecision {
        allocate: true,
        warn: false,
    };
    const NO: TtyDecision = TtyDecision {
        allocate: false,
        warn: false,
    };
    const WARN: TtyDecision = TtyDecision {
        allocate: false,
        warn: true,
    };

    #[test]
    fn shell_gets_a_tty_when_stdin_is_one() {
        assert_eq!(decide(inputs(None, false, true)), YES);
        assert_eq!(decide(inputs(Some(RequestTty::Auto), false, true)), YES);
        assert_eq!(decide(inputs(None, false, false)), WARN);
        assert_eq!(decide(inputs(Some(RequestTty::No), false, true)), NO);
        assert_eq!(decide(inputs(Some(RequestTty::No), false, false)), NO);
    }

    #[test]
    fn command_gets_a_tty_only_when_asked() {
        assert_eq!(decide(inputs(None, true, true)), NO);
        assert_eq!(decide(inputs(Some(RequestTty::Yes), true, true)), YES);
        assert_eq!(decide(inputs(Some(RequestTty::Yes), true, false)), WARN);
        assert_eq!(decide(inputs(Some(RequestTty::Force), true, false)), YES);
        assert_eq!(decide(inputs(Some(RequestTty::Force), false, false)), YES);
    }

    #[test]
    fn no_session_and_null_stdin() {
        let mut i = inputs(Some(RequestTty::Yes), true, true);
        i.session_type = Some(SessionType::None);
        assert_eq!(decide(i), NO);
        let mut i = inputs(None, false, true);
        i.stdin_null = true;
        assert_eq!(decide(i), WARN);
        i.request = Some(RequestTty::Force);
        assert_eq!(decide(i), YES);
    }
}
