//! The escape character of an interactive session, as OpenSSH implements it, with no I/O:
//! bytes typed by the user go in, bytes to send to the server and [`EscapeAction`]s come out.
//!
//! The escape character (default `~`, `-e`/`EscapeChar`) is only special right after a
//! newline (`\r` or `\n`) or at the very start. Then the next byte decides:
//!
//! | typed | effect |
//! |---|---|
//! | `~.` | disconnect |
//! | `~^Z` | suspend |
//! | `~#` | list forwarded connections |
//! | `~&` | go to the background (when waiting for forwarded connections) |
//! | `~?` | print the help |
//! | `~B` | send a BREAK |
//! | `~C` | open the command line |
//! | `~R` | rekey |
//! | `~V` / `~v` | decrease / increase the verbosity |
//! | `~~` | send one `~` |
//! | `~` + anything else | send both bytes |
//!
//! An escape command leaves the "after a newline" state as it was, so `~?` can be followed
//! by `~.` at once. With `-e none` every byte passes through.

use crate::session_options::EscapeChar;

/// Ctrl-Z.
const CTRL_Z: u8 = b'Z' - 64;

/// What the user asked for with an escape sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeAction {
    /// `~.`: close the connection.
    Disconnect,
    /// `~^Z`: stop this process (the terminal is restored first).
    Suspend,
    /// `~#`: list the forwarded connections.
    ListForwards,
    /// `~&`: continue in the background.
    Background,
    /// `~?`: print [`help_text`].
    Help,
    /// `~B`: send a BREAK to the remote side.
    SendBreak,
    /// `~C`: open the escape command line.
    CommandLine,
    /// `~R`: start a key re-exchange.
    Rekey,
    /// `~V`: less verbose logging.
    LessVerbose,
    /// `~v`: more verbose logging.
    MoreVerbose,
}

/// How far one call to [`EscapeMachine::feed`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// How many input bytes were used; feed the rest after handling `action`.
    pub consumed: usize,
    /// The escape command that stopped the call, if any.
    pub action: Option<EscapeAction>,
}

/// The escape-character state of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeMachine {
    escape: Option<u8>,
    after_newline: bool,
    pending: bool,
}

impl EscapeMachine {
    /// A machine for `escape` (`EscapeChar::None`: no escapes), at the start of a line.
    pub fn new(escape: EscapeChar) -> EscapeMachine {
        EscapeMachine {
            escape: match escape {
                EscapeChar::None => None,
                EscapeChar::Char(c) => Some(c),
            },
            after_newline: true,
            pending: false,
        }
    }

    /// The escape character, if any.
    pub fn escape_char(&self) -> Option<u8> {
        self.escape
    }

    /// Whether an escape character was typed and the next byte will say what it means.
    #[cfg(test)]
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// Reads `input`, appending what is to be sent to `send`, up to and including the first
    /// escape command. Call again with `&input[step.consumed..]` for the rest.
    pub fn feed(&mut self, input: &[u8], send: &mut Vec<u8>) -> Step {
        let Some(esc) = self.escape else {
            send.extend_from_slice(input);
            self.after_newline = input
                .last()
                .map_or(self.after_newline, |&b| b == b'\r' || b == b'\n');
            return Step {
                consumed: input.len(),
                action: None,
            };
        };
        for (i, &b) in input.iter().enumerate() {
            if self.pending {
                self.pending = false;
                let action = match b {
                    b'.' => Some(EscapeAction::Disconnect),
                    CTRL_Z => Some(EscapeAction::Suspend),
                    b'#' => Some(EscapeAction::ListForwards),
                    b'&' => Some(EscapeAction::Background),
                    b'?' => Some(EscapeAction::Help),
                    b'B' => Some(EscapeAction::SendBreak),
                    b'C' => Some(EscapeAction::CommandLine),
                    b'R' => Some(EscapeAction::Rekey),
                    b'V' => Some(EscapeAction::LessVerbose),
                    b'v' => Some(EscapeAction::MoreVerbose),
                    _ => None,
                };
                if let Some(action) = action {
                    return Step {
                        consumed: i + 1,
                        action: Some(action),
                    };
                }
                if b != esc {
                    send.push(esc);
                }
            } else if self.after_newline && b == esc {
                self.pending = true;
                continue;
            }
            self.after_newline = b == b'\r' || b == b'\n';
            send.push(b);
        }
        Step {
            consumed: input.len(),
            action: None,
        }
    }
}

/// How `escape` is shown: `~`, or `^]` for a control character (where ssh would print the
/// raw byte, which a terminal does not show or takes as the start of a sequence).
pub fn show_char(escape: u8) -> String {
    if escape < 0x20 || escape == 0x7f {
        format!("^{}", char::from(escape ^ 0x40))
    } else {
        char::from(escape).to_string()
    }
}

/// What ssh echoes for an escape command before acting on it (`~.\r\n`), if anything.
pub fn echo(escape: u8, action: EscapeAction) -> Option<String> {
    let e = show_char(escape);
    let text = match action {
        EscapeAction::Disconnect => format!("{e}.\r\n"),
        EscapeAction::Suspend => format!("{e}^Z [suspend ssh]\r\n"),
        EscapeAction::ListForwards => format!("{e}#\r\n"),
        EscapeAction::Background => format!("{e}& [backgrounded]\r\n"),
        EscapeAction::SendBreak => format!("{e}B\r\n"),
        EscapeAction::Rekey => format!("{e}R\r\n"),
        EscapeAction::Help => return Some(help_text(escape)),
        EscapeAction::CommandLine | EscapeAction::LessVerbose | EscapeAction::MoreVerbose => {
            return None;
        }
    };
    Some(text)
}

/// ssh's answer to `~V`/`~v` once the level changed: `~v [LogLevel DEBUG1]\r\n`.
pub fn verbosity_message(escape: u8, action: EscapeAction, level: &str) -> String {
    let c = if action == EscapeAction::LessVerbose {
        'V'
    } else {
        'v'
    };
    format!("{}{c} [LogLevel {level}]\r\n", show_char(escape))
}

/// OpenSSH's `~?` text (for a session that is not multiplexed), lines ending in `\r\n`.
pub fn help_text(escape: u8) -> String {
    let e = show_char(escape);
    let lines: [(&str, &str); 9] = [
        (".", "terminate connection (and any multiplexed sessions)"),
        ("B", "send a BREAK to the remote system"),
        ("C", "open a command line"),
        ("R", "request rekey"),
        ("V/v", "decrease/increase verbosity (LogLevel)"),
        ("^Z", "suspend ssh"),
        ("#", "list forwarded connections"),
        (
            "&",
            "background ssh (when waiting for connections to terminate)",
        ),
        ("?", "this message"),
    ];
    let mut text = format!("{e}?\r\nSupported escape sequences:\r\n");
    for (cmd, what) in lines {
        text.push_str(&format!(" {e}{cmd:<3} - {what}\r\n"));
    }
    text.push_str(&format!(
        " {e}{e}   - send the escape character by typing it twice\r\n\
         (Note that escapes are only recognized immediately after newline.)\r\n"
    ));
    text
}

#[cfg(test)]
#[path = "escape_tests.rs"]
mod tests;
