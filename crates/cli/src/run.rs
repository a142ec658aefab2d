//! Running the command line: connecting (through the jump hosts, if any) and
//! authenticating ([`crate::connect`]), going to the background (`-f`), setting up the
//! forwards ([`crate::tunnels`]), then `-W`, `-N`, or the session ([`crate::remote`]).

use crate::args::Settings;
use crate::background::{self, Notifier};
use crate::connect;
use crate::log::Log;
use crate::remote;
use crate::session_options::SessionType;
use crate::stdio_forward;
use crate::tty;
use crate::tunnels;
use seashell_blocking::{ExitStatus, Session};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fatal error: printed as `seashell: <message>`, exit status 255.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal(pub String);

/// Connects, runs the command and returns how it ended.
pub fn run(s: &Settings) -> Result<ExitStatus, Fatal> {
    let log = Log::global();
    check_supported(s)?;
    let fork = s.session.fork_after_authentication == Some(true);
    let notifier = match (fork, Notifier::in_background()) {
        (false, _) => None,
        (true, Some(n)) => Some(n),
        (true, None) => return background::launch(),
    };
    let tty = tty_decision(s, log);
    if s.options.strict_ask {
        log.warn(
            "seashell: StrictHostKeyChecking=ask: prompting is not supported; treating it as yes",
        );
    }
    let connected = connect::establish(s, log)?;
    let session = &connected.session;
    let host = s.host.as_str();
    let _tunnels = match tunnels::start(session, &s.session, log) {
        Ok(t) => t,
        Err(msg) => {
            log.fatal(&msg);
            return Ok(ExitStatus::Unknown);
        }
    };
    if let Some(n) = notifier {
        n.ready();
    }
    if let Some(target) = &s.session.stdio_forward {
        return Ok(match stdio_forward::run(session, target, log) {
            stdio_forward::Ended::Closed => ExitStatus::Code(0),
            stdio_forward::Ended::Refused => {
                log.fatal("stdio forwarding failed");
                ExitStatus::Unknown
            }
            stdio_forward::Ended::Lost(why) => lost(session, host, &why, log),
        });
    }
    let port = s.port.unwrap_or(22);
    let failed = |e: seashell_blocking::Error| {
        if remote::keepalive_timed_out(session) {
            return Ok(lost(session, host, "", log));
        }
        let why = clean(&e.to_string());
        Err(Fatal(format!("connection to {host} port {port}: {why}")))
    };
    if s.session.session_type == Some(SessionType::None) {
        log.debug("Not starting a session (-N).");
        return match remote::hold(session, log) {
            Ok(remote::Ended::Lost(why)) => Ok(lost(session, host, &why, log)),
            Ok(_) => Ok(ExitStatus::Unknown),
            Err(e) => failed(e),
        };
    }
    tunnels::next_channel();
    let subsystem = s.session.session_type == Some(SessionType::Subsystem);
    let what = match &s.command {
        None => remote::What::Shell,
        Some(c) if subsystem => {
            log.debug(&format!("Sending subsystem: {c}"));
            remote::What::Subsystem(c.clone())
        }
        Some(c) => {
            log.debug(&format!("Sending command: {c}"));
            remote::What::Exec(c.clone())
        }
    };
    // A command without a pseudo-terminal does not read a terminal: its stdin ends at once.
    let terminal_stdin = s.command.is_some() && !tty.allocate && std::io::stdin().is_terminal();
    let plan = remote::Plan {
        what,
        pty: tty.allocate,
        escape: s.session.escape_char.unwrap_or_default(),
        stdin_null: s.session.stdin_null == Some(true) || fork || terminal_stdin,
        host: host.to_owned(),
    };
    let status = match remote::run(session, &plan, log) {
        Ok(remote::Ended::Status(status)) => status,
        Ok(remote::Ended::Disconnected | remote::Ended::Killed(_)) => {
            return Ok(ExitStatus::Unknown);
        }
        Ok(remote::Ended::Lost(why)) => return Ok(lost(session, host, &why, log)),
        Err(e) => return failed(e),
    };
    match &status {
        ExitStatus::Code(c) => log.debug(&format!("Exit status {c}")),
        ExitStatus::Signal(sig) => log.debug(&format!("Remote command killed by signal {sig}")),
        ExitStatus::Unknown => log.debug("The server sent no exit status"),
    }
    wait_for_forwarded(session);
    let session = connected.session;
    let _ = session.close();
    Ok(status)
}

/// The connection ended under us: ssh's timeout message if the keepalive gave up on the
/// server; status 255 either way.
fn lost(session: &Session, host: &str, why: &str, log: Log) -> ExitStatus {
    if remote::keepalive_timed_out(session) {
        log.warn(&format!("Timeout, server {host} not responding."));
    } else {
        log.debug(&format!("connection lost: {why}"));
    }
    ExitStatus::Unknown
}

/// As ssh, waits until the connections forwarded through local forwards have finished
/// before ending (unless the connection ends first).
fn wait_for_forwarded(session: &Session) {
    while crate::relay::active() > 0 && !session.is_closed() {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops with a clear message when the settings ask for something Seashell cannot do.
fn check_supported(s: &Settings) -> Result<(), Fatal> {
    let o = &s.session;
    if let Some(what) = o.forwards.iter().find_map(tunnels::unsupported) {
        return Err(Fatal(format!("{what} not supported yet")));
    }
    match o.session_type {
        Some(SessionType::Subsystem) if s.command.is_none() => {
            return Err(Fatal("-s needs a subsystem name as the command".to_owned()));
        }
        _ => {}
    }
    if o.fork_after_authentication == Some(true)
        && s.command.is_none()
        && o.session_type != Some(SessionType::None)
    {
        return Err(Fatal(
            "Cannot fork into background without a command to execute.".to_owned(),
        ));
    }
    Ok(())
}

/// Whether to ask for a pseudo-terminal, as ssh decides (with its note when stdin is not a
/// terminal).
fn tty_decision(s: &Settings, log: Log) -> tty::TtyDecision {
    let decision = tty::decide(tty::TtyInputs {
        request: s.session.request_tty,
        has_command: s.command.is_some(),
        session_type: s.session.session_type,
        stdin_is_tty: std::io::stdin().is_terminal(),
        stdin_null: s.session.stdin_null == Some(true),
    });
    if decision.warn {
        log.warn(tty::NOT_A_TERMINAL);
    }
    decision
}

/// An I/O error's text without Rust's `(os error N)` suffix and lookup prefix.
pub fn io_text(e: &std::io::Error) -> String {
    clean(&e.to_string())
}

/// `text` without ` (os error N)` and `failed to lookup address information: `.
pub fn clean(text: &str) -> String {
    let text = text.replace("failed to lookup address information: ", "");
    match text.find(" (os error ") {
        Some(i) => {
            let rest = text.get(i + 1..).unwrap_or_default();
            let end = rest.find(')').map_or(text.len(), |j| i + 1 + j + 1);
            format!(
                "{}{}",
                text.get(..i).unwrap_or_default(),
                text.get(end..).unwrap_or_default()
            )
        }
        None => text,
    }
}

/// `~` and `~/...` expanded with `home`.
pub fn expand_tilde(path: &str, home: &Path) -> PathBuf {
    if path == "~" {
        return home.to_path_buf();
    }
    match path.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_expansion() {
        let home = Path::new("/home/me");
        assert_eq!(expand_tilde("~", home), PathBuf::from("/home/me"));
        assert_eq!(
            expand_tilde("~/.ssh/k", home),
            PathBuf::from("/home/me/.ssh/k")
        );
        assert_eq!(expand_tilde("/abs", home), PathBuf::from("/abs"));
        assert_eq!(expand_tilde("rel/~", home), PathBuf::from("rel/~"));
    }

    #[test]
    fn io_text_drops_os_error() {
        let e = std::io::Error::from_raw_os_error(111);
        assert_eq!(io_text(&e), "Connection refused");
        assert_eq!(
            clean("a: No such file (os error 2): b"),
            "a: No such file: b"
        );
        assert_eq!(
            clean("failed to lookup address information: Unknown host"),
            "Unknown host"
        );
    }

    #[test]
    fn unsupported_requests_are_refused_before_connecting() {
        let mut s = Settings {
            host: "nowhere.invalid".into(),
            ..Settings::default()
        };
        s.session.session_type = Some(SessionType::Subsystem);
        let e = run(&s).unwrap_err();
        assert_eq!(e.0, "-s needs a subsystem name as the command");
        s.session.session_type = None;
        s.session
            .forward_flag("8080", crate::forward::ForwardKind::Remote)
            .unwrap();
        let e = run(&s).unwrap_err();
        assert_eq!(
            e.0,
            "remote dynamic forwarding (-R [bind_address:]port) is not supported yet"
        );
        s.session.forwards.clear();
        s.session.fork_flag();
        let e = run(&s).unwrap_err();
        assert_eq!(
            e.0,
            "Cannot fork into background without a command to execute."
        );
    }
}
