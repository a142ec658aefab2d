//! Running a session channel to its end as ssh does: a shell, a command or a subsystem,
//! with a pseudo-terminal when [`crate::tty::decide`] says so. Local stdin goes to the
//! channel, the remote stdout and stderr to ours, as they come (a full window in one
//! direction never stops the other), and the remote exit status is returned.
//!
//! With a pseudo-terminal, the local terminal is in raw mode for the whole session (a
//! [`RawMode`] guard restores it on every way out), typed bytes go through the
//! [`EscapeMachine`] (`~.`, `~^Z`, `~?`, ...), and `SIGWINCH` becomes a `window-change`.
//! `SIGHUP`, `SIGINT`, `SIGQUIT` and `SIGTERM` end the session (status 255), as in ssh.
//!
//! Threads: one copies the remote stdout to ours and one the remote stderr; this thread
//! polls local stdin, the signal pipe and a wake-up from the stdout copier, and writes to
//! the channel.

use crate::escape::{self, EscapeAction, EscapeMachine};
use crate::log::{self, Log};
use crate::session_options::EscapeChar;
use crate::signals::SignalPipe;
use crate::terminal::{self, RawMode};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::Signal;
use seashell_blocking::{Channel, Error, ExitStatus, PtyRequest, Session};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;

/// What the session channel runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// The login shell.
    Shell,
    /// A command.
    Exec(String),
    /// A subsystem (`-s`).
    Subsystem(String),
}

/// How the session is to be run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Shell or command.
    pub what: What,
    /// Ask for a pseudo-terminal (and use raw mode and the escape character).
    pub pty: bool,
    /// The escape character (used only with a pseudo-terminal).
    pub escape: EscapeChar,
    /// Don't read local stdin (`-n`): the remote side gets EOF at once.
    pub stdin_null: bool,
    /// The host as named on the command line, for "Connection to HOST closed.".
    pub host: String,
}

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The remote side ended it; its exit status, if it sent one.
    Status(ExitStatus),
    /// `~.`.
    Disconnected,
    /// This signal arrived.
    Killed(i32),
    /// The connection was lost.
    Lost(String),
}

/// Whether the connection ended because the server stopped answering keepalives
/// (`ServerAliveInterval` × `ServerAliveCountMax`).
pub fn keepalive_timed_out(session: &Session) -> bool {
    matches!(
        session.shared().check(),
        Err(Error::Ssh(seashell_proto::Error::KeepaliveTimeout { .. }))
    )
}

/// Signals that end the session.
const QUIT_SIGNALS: [Signal; 4] = [Signal::HUP, Signal::INT, Signal::QUIT, Signal::TERM];

/// `-N`: no session channel; holds the connection until it ends or a signal ends it.
pub fn hold(session: &Session, log: Log) -> Result<Ended, Error> {
    let sig = SignalPipe::install(&QUIT_SIGNALS).map_err(Error::Io)?;
    let tick = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 250_000_000,
    };
    loop {
        if session.is_closed() {
            return Ok(Ended::Lost("the connection ended".to_owned()));
        }
        let fd = sig.fd();
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match poll(&mut fds, Some(&tick)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::Io(e.into())),
        }
        if let Some(s) = sig.take().first() {
            log.verbose(&format!("Killed by signal {}.", s.as_raw()));
            session.disconnect();
            return Ok(Ended::Killed(s.as_raw()));
        }
    }
}

/// Runs the session to its end.
pub fn run(session: &Session, plan: &Plan, log: Log) -> Result<Ended, Error> {
    let stdin = rustix::stdio::stdin();
    let mut builder = session.open_session();
    if plan.pty {
        let size = terminal::window_size(stdin).unwrap_or(terminal::WindowSize {
            cols: 80,
            rows: 24,
            ..Default::default()
        });
        let mut pty = PtyRequest::new(terminal::term_from_env(), size.cols, size.rows);
        if let Ok(t) = rustix::termios::tcgetattr(stdin) {
            pty.modes = seashell_blocking::proto::TerminalModes(terminal::terminal_modes(&t));
        }
        builder = builder.pty(pty);
    }
    let channel = match &plan.what {
        What::Shell => builder.shell()?,
        What::Exec(cmd) => builder.exec(cmd)?,
        What::Subsystem(name) => builder.subsystem(name)?,
    };
    if plan.pty && channel.pty_granted() == Some(false) {
        log.error(&format!(
            "PTY allocation request failed on channel {}",
            channel.id().index()
        ));
    }
    let mut signals = vec![Signal::WINCH];
    signals.extend(QUIT_SIGNALS);
    let sig = SignalPipe::install(&signals).map_err(Error::Io)?;
    let (wake_rx, wake_tx) = UnixStream::pair().map_err(Error::Io)?;
    // Raw mode only when a terminal was asked for and stdin is one (with -tt it may not be).
    let mut raw = if plan.pty {
        RawMode::enable(stdin).ok()
    } else {
        None
    };
    let out = copy_out(channel.clone(), wake_tx);
    let err = copy_err(channel.clone());
    let mut escapes = EscapeMachine::new(if plan.pty && raw.is_some() {
        plan.escape
    } else {
        EscapeChar::None
    });
    let mut loop_state = Loop {
        channel: &channel,
        session,
        log,
        raw: &mut raw,
        stdin_open: !plan.stdin_null,
        pty: plan.pty,
    };
    if plan.stdin_null {
        channel.send_eof()?;
    }
    let ended = loop_state.pump(&mut escapes, &sig, &wake_rx);
    drop(raw);
    drop(sig);
    let ended = match ended {
        Ok(Some(e)) => e,
        Ok(None) => {
            // Output ended: all the output is in, then the status (closing our side).
            let out_result = out.join().unwrap_or(Ok(()));
            let _ = err.join();
            match (channel.wait(), out_result) {
                (Ok(status), _) if status != ExitStatus::Unknown => Ended::Status(status),
                (_, Err(e)) => Ended::Lost(e.to_string()),
                (Ok(status), Ok(())) => Ended::Status(status),
                (Err(e), Ok(())) => Ended::Lost(e.to_string()),
            }
        }
        Err(e) => return Err(e),
    };
    if log.enabled(log::LogLevel::Info) {
        match &ended {
            // ssh says only "Timeout, server HOST not responding." then.
            Ended::Lost(_) if keepalive_timed_out(session) => {}
            Ended::Lost(_) => eprint!("Connection to {} closed by remote host.\r\n", plan.host),
            // A signal ends ssh without the note.
            Ended::Killed(_) => {}
            _ if plan.pty => eprint!("Connection to {} closed.\r\n", plan.host),
            _ => {}
        }
    }
    Ok(ended)
}

/// The state of the input loop.
struct Loop<'a, 'fd> {
    channel: &'a Channel,
    session: &'a Session,
    log: Log,
    raw: &'a mut Option<RawMode<'fd>>,
    stdin_open: bool,
    pty: bool,
}

impl Loop<'_, '_> {
    /// Moves stdin to the channel until the output ends (`Ok(None)`) or the user or a
    /// signal ends the session.
    fn pump(
        &mut self,
        escapes: &mut EscapeMachine,
        sig: &SignalPipe,
        wake: &UnixStream,
    ) -> Result<Option<Ended>, Error> {
        let stdin = rustix::stdio::stdin();
        let mut buf = vec![0u8; 64 * 1024];
        let mut send = Vec::with_capacity(buf.len() + 1);
        loop {
            let (stdin_ready, sig_ready, woken) = {
                let sig_fd = sig.fd();
                let wake_fd = wake.as_fd();
                let mut fds = vec![
                    PollFd::new(&sig_fd, PollFlags::IN),
                    PollFd::new(&wake_fd, PollFlags::IN),
                ];
                if self.stdin_open {
                    fds.push(PollFd::new(&stdin, PollFlags::IN));
                }
                match poll(&mut fds, None) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(Error::Io(e.into())),
                }
                let ready = |i: usize| fds.get(i).is_some_and(|f| !f.revents().is_empty());
                (ready(2), ready(0), ready(1))
            };
            if sig_ready {
                for s in sig.take() {
                    if s == Signal::WINCH {
                        self.window_changed();
                    } else {
                        self.log
                            .verbose(&format!("Killed by signal {}.", s.as_raw()));
                        self.session.disconnect();
                        return Ok(Some(Ended::Killed(s.as_raw())));
                    }
                }
            }
            if woken {
                return Ok(None);
            }
            if !stdin_ready {
                continue;
            }
            let n = match rustix::io::read(stdin, &mut buf) {
                Ok(n) => n,
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
                Err(_) => 0,
            };
            if n == 0 {
                self.stdin_open = false;
                self.channel.send_eof()?;
                continue;
            }
            let mut input = buf.get(..n).unwrap_or_default();
            while !input.is_empty() {
                let step = escapes.feed(input, &mut send);
                input = input.get(step.consumed..).unwrap_or_default();
                self.send(&mut send)?;
                if let Some(action) = step.action {
                    let esc = escapes.escape_char().unwrap_or(b'~');
                    if let Some(ended) = self.act(action, esc)? {
                        return Ok(Some(ended));
                    }
                }
            }
        }
    }

    /// Writes `send` to the channel and empties it.
    fn send(&self, send: &mut Vec<u8>) -> Result<(), Error> {
        if !send.is_empty() {
            let mut to: &Channel = self.channel;
            let r = to.write_all(send);
            send.clear();
            // The channel closing under us is the end of the session, seen by the copier.
            if let Err(e) = r
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                return Err(Error::Io(e));
            }
        }
        Ok(())
    }

    /// Sends the terminal's size after `SIGWINCH` or a resume.
    fn window_changed(&self) {
        if !self.pty {
            return;
        }
        if let Ok(size) = terminal::window_size(rustix::stdio::stdin()) {
            let _ = self.channel.window_change(size.cols, size.rows);
        }
    }

    /// Carries out an escape command; `Some` if it ends the session.
    fn act(&mut self, action: EscapeAction, esc: u8) -> Result<Option<Ended>, Error> {
        if let Some(text) = escape::echo(esc, action) {
            eprint!("{text}");
        }
        let e = escape::show_char(esc);
        match action {
            EscapeAction::Disconnect => {
                self.session.disconnect();
                return Ok(Some(Ended::Disconnected));
            }
            EscapeAction::Suspend => {
                if let Some(raw) = self.raw.as_mut() {
                    terminal::suspend(raw).map_err(Error::Io)?;
                }
                self.window_changed();
            }
            EscapeAction::Rekey => {
                if let Err(err) = self.session.rekey() {
                    eprint!("rekey: {err}\r\n");
                }
            }
            EscapeAction::LessVerbose | EscapeAction::MoreVerbose => {
                let now = log::level();
                let next = if action == EscapeAction::MoreVerbose {
                    now.up()
                } else {
                    now.down()
                };
                log::set_level(next);
                eprint!(
                    "{}",
                    escape::verbosity_message(esc, action, &next.to_string())
                );
            }
            EscapeAction::ListForwards => {
                eprint!(
                    "The following connections are open:\r\n  #{} client-session\r\n",
                    self.channel.id().index()
                );
            }
            EscapeAction::Help => {}
            EscapeAction::SendBreak => eprint!("{e}B: sending a BREAK is not supported yet\r\n"),
            EscapeAction::CommandLine => {
                eprint!("{e}C: the escape command line is not supported yet\r\n");
            }
            EscapeAction::Background => {
                eprint!("{e}&: going to the background is not supported yet\r\n");
            }
        }
        Ok(None)
    }
}

/// Copies the remote stdout to ours until EOF, then wakes the input loop. The result is
/// the error that stopped it, if any. If our stdout is closed, the channel is closed: the
/// command has nowhere to write.
fn copy_out(channel: Channel, wake: UnixStream) -> JoinHandle<Result<(), Error>> {
    std::thread::spawn(move || {
        let r = copy(&mut &channel, &mut io::stdout());
        let r = match r {
            Err(Copy::Output) => channel.close(),
            Err(Copy::Input(e)) => Err(e),
            Ok(()) => Ok(()),
        };
        let _ = (&wake).write_all(&[1]);
        r
    })
}

/// Copies the remote stderr to ours until EOF (dropping it if our stderr is closed).
fn copy_err(channel: Channel) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut from = channel.stderr();
        if let Err(Copy::Output) = copy(&mut from, &mut io::stderr()) {
            let _ = io::copy(&mut from, &mut io::sink());
        }
    })
}

/// Which side of a copy failed.
enum Copy {
    /// Reading the channel (the connection).
    Input(Error),
    /// Writing locally.
    Output,
}

fn copy(from: &mut impl Read, to: &mut impl Write) -> Result<(), Copy> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Input(Error::Io(e))),
        };
        let data = buf.get(..n).unwrap_or_default();
        to.write_all(data)
            .and_then(|()| to.flush())
            .map_err(|_| Copy::Output)?;
    }
}
