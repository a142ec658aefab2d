//! The command loop: `sftp> ` prompts on a terminal, commands from stdin or a batch file
//! (`-b`), echoed as `sftp> command` when not typed at a terminal. In batch mode the first
//! failure of a command without the `-` prefix ends the session with status 1; `@` keeps a
//! command from being echoed. At a terminal's prompt, Ctrl-C gives a new prompt (as in
//! OpenSSH's `sftp`); while a command runs it ends the program.

use super::commands::{self, Command};
use super::interp::{Interp, Next, fail};
use crate::signals::SignalPipe;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::Signal;
use std::io::{BufRead, Write};
use std::os::fd::AsFd;

/// The longest command line read (a longer one ends the session).
pub const MAX_LINE: usize = 64 * 1024;

/// How commands come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// `-b`: a failure ends the session.
    pub batch: bool,
    /// stdin is a terminal (and no `-b`): prompt, don't echo.
    pub interactive: bool,
}

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// End of input or `bye`.
    Done,
    /// A command failed in batch mode (or reading the input failed).
    Failed,
    /// The connection is gone (`Connection closed` is printed).
    Lost,
}

/// Runs commands from `input` until it ends, `bye`, (in batch mode) a failure, or a failure
/// after which `lost()` says the connection is gone.
pub fn run(
    interp: &mut Interp<'_>,
    input: &mut dyn BufRead,
    mode: Mode,
    lost: &dyn Fn() -> bool,
) -> Ended {
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = if mode.interactive {
            match read_at_prompt(&mut line) {
                Ok(Prompt::Interrupted) => {
                    println!();
                    continue;
                }
                Ok(Prompt::Read(n)) => Ok(n),
                Err(e) => Err(e),
            }
        } else {
            let mut limited = std::io::Read::take(&mut *input, MAX_LINE as u64 + 1);
            limited.read_until(b'\n', &mut line)
        };
        if line.len() > MAX_LINE {
            let _ = fail(format!("Command line longer than {MAX_LINE} bytes"));
            return Ended::Failed;
        }
        match read {
            Ok(0) => {
                if mode.interactive {
                    println!();
                }
                return Ended::Done;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = fail(format!("read: {}", crate::run::io_text(&e)));
                return Ended::Failed;
            }
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        let step = one(interp, text, mode);
        if step.failed && lost() {
            let _ = fail("Connection closed");
            return Ended::Lost;
        }
        match step.next {
            Flow::Go => {}
            Flow::Quit => return Ended::Done,
            Flow::Abort => return Ended::Failed,
        }
    }
}

/// What waiting at the prompt gave.
enum Prompt {
    /// This many bytes (0: end of input).
    Read(usize),
    /// Ctrl-C.
    Interrupted,
}

/// Prompts and reads one line from the terminal on stdin into `line`, catching `SIGINT`
/// meanwhile (the terminal delivers whole lines, so stdin is read directly, unbuffered).
fn read_at_prompt(line: &mut Vec<u8>) -> std::io::Result<Prompt> {
    let pipe = SignalPipe::install(&[Signal::INT]).ok();
    if let Some(p) = &pipe {
        // Only a Ctrl-C from now on counts.
        p.take();
    }
    print!("sftp> ");
    let _ = std::io::stdout().flush();
    let stdin = std::io::stdin();
    let mut buf = [0u8; 4096];
    loop {
        let interrupted = {
            let in_fd = stdin.as_fd();
            let mut fds = vec![PollFd::new(&in_fd, PollFlags::IN)];
            let sig_fd = pipe.as_ref().map(SignalPipe::fd);
            if let Some(fd) = &sig_fd {
                fds.push(PollFd::new(fd, PollFlags::IN));
            }
            match poll(&mut fds, None) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            pipe.as_ref()
                .is_some_and(|p| p.take().contains(&Signal::INT))
        };
        if interrupted {
            return Ok(Prompt::Interrupted);
        }
        match rustix::io::read(stdin.as_fd(), &mut buf) {
            Ok(0) => return Ok(Prompt::Read(line.len())),
            Ok(n) => {
                line.extend_from_slice(buf.get(..n).unwrap_or_default());
                if line.ends_with(b"\n") || line.len() > MAX_LINE {
                    return Ok(Prompt::Read(line.len()));
                }
            }
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// What one line led to: go on, stop, or stop as failed; and whether it failed.
struct Step {
    next: Flow,
    failed: bool,
}

enum Flow {
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
        Ok(None) => {
            return Step {
                next: Flow::Go,
                failed: false,
            };
        }
        Ok(Some(cmd)) => cmd,
        Err(msg) => {
            let _ = fail(msg);
            echo_line();
            let next = if abort_on_error {
                Flow::Abort
            } else {
                Flow::Go
            };
            return Step { next, failed: true };
        }
    };
    echo_line();
    let (next, failed) = match interp.run(cmd) {
        Ok(Next::Quit) => (Flow::Quit, false),
        Ok(Next::Continue) => (Flow::Go, false),
        Err(_) if abort_on_error => (Flow::Abort, true),
        Err(_) => (Flow::Go, true),
    };
    Step { next, failed }
}
