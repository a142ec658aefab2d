//! The command loop: `sftp> ` prompts on a terminal, commands from stdin or a batch file
//! (`-b`), echoed as `sftp> command` when not typed at a terminal. In batch mode the first
//! failure of a command without the `-` prefix ends the session with status 1; `@` keeps a
//! command from being echoed.

use super::commands::{self, Command};
use super::interp::{Interp, Next, fail};
use std::io::{BufRead, Write};

/// How commands come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// `-b`: a failure ends the session.
    pub batch: bool,
    /// stdin is a terminal (and no `-b`): prompt, don't echo.
    pub interactive: bool,
}

/// Runs commands from `input` until it ends, `bye`, or (in batch mode) a failure.
/// Returns whether the session ended well.
pub fn run(interp: &mut Interp<'_>, input: &mut dyn BufRead, mode: Mode) -> bool {
    let mut line = Vec::new();
    loop {
        if mode.interactive {
            print!("sftp> ");
            let _ = std::io::stdout().flush();
        }
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => {
                if mode.interactive {
                    println!();
                }
                return true;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = fail(format!("read: {}", crate::run::io_text(&e)));
                return false;
            }
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        match one(interp, text, mode) {
            Step::Go => {}
            Step::Quit => return true,
            Step::Abort => return false,
        }
    }
}

/// What one line led to.
enum Step {
    Go,
    Quit,
    Abort,
}

/// Parses, echoes and runs one line.
fn one(interp: &mut Interp<'_>, text: &str, mode: Mode) -> Step {
    let line = commands::prefix(text);
    let abort_on_error = mode.batch && !line.ignore_errors;
    let echo = !mode.interactive && !line.no_echo;
    let parsed = commands::parse(line.rest);
    let echo_line = || {
        if echo {
            println!("sftp> {}", text.trim_start());
            let _ = std::io::stdout().flush();
        }
    };
    let cmd: Command = match parsed {
        Ok(None) => return Step::Go,
        Ok(Some(cmd)) => cmd,
        Err(msg) => {
            let _ = fail(msg);
            echo_line();
            return if abort_on_error {
                Step::Abort
            } else {
                Step::Go
            };
        }
    };
    echo_line();
    match interp.run(cmd) {
        Ok(Next::Quit) => Step::Quit,
        Ok(Next::Continue) => Step::Go,
        Err(_) if abort_on_error => Step::Abort,
        Err(_) => Step::Go,
    }
}
