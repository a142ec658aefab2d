//! `-f` (`ForkAfterAuthentication`): going to the background once authenticated, without
//! `fork(2)`, which is unsafe once threads exist (every connection has an I/O thread).
//!
//! The foreground process starts the same binary again with the same arguments, marked by
//! an environment variable, with one end of a socket pair as its stdin; stdout and stderr are
//! shared. The background process authenticates and sets up its forwards as usual (a password
//! prompt still reaches the terminal), then writes one byte on that socket, puts `/dev/null`
//! on its stdin and leaves the terminal's session (`setsid`). The foreground process exits 0
//! when the byte arrives; if the socket closes first, the background process has failed and
//! already printed why, and its exit status is returned.

use crate::run::Fatal;
use seashell_blocking::ExitStatus;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

/// Marks the background process (its stdin is then the socket to the foreground one).
const MARK: &str = "SEASHELL_FORKED_AFTER_AUTH";

/// The background process's side: tells the foreground process that it may exit.
#[derive(Debug)]
pub struct Notifier(());

impl Notifier {
    /// Whether this process is the background one of `-f` (its stdin being the socket).
    pub fn in_background() -> Option<Notifier> {
        std::env::var_os(MARK)?;
        let stat = rustix::fs::fstat(rustix::stdio::stdin()).ok()?;
        (rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Socket)
            .then_some(Notifier(()))
    }

    /// Authenticated and forwarding: the foreground process exits now; this one reads
    /// nothing from stdin and leaves the terminal.
    pub fn ready(self) {
        let _ = rustix::io::write(rustix::stdio::stdin(), b"1");
        if let Ok(null) = std::fs::File::open("/dev/null") {
            let _ = rustix::stdio::dup2_stdin(&null);
        }
        let _ = rustix::process::setsid();
    }
}

/// The foreground process's side: starts the background process and waits until it is
/// authenticated (status 0) or has failed (its status).
pub fn launch() -> Result<ExitStatus, Fatal> {
    let fail = |what: &str, e: std::io::Error| {
        Fatal(format!(
            "cannot go to the background: {what}: {}",
            crate::run::clean(&e.to_string())
        ))
    };
    let exe = std::env::current_exe().map_err(|e| fail("finding this program", e))?;
    let (ours, theirs) = UnixStream::pair().map_err(|e| fail("socketpair", e))?;
    let mut child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(MARK, "1")
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .spawn()
        .map_err(|e| fail("starting it", e))?;
    let mut byte = [0u8; 1];
    loop {
        match (&ours).read(&mut byte) {
            Ok(1) => return Ok(ExitStatus::Code(0)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            _ => break,
        }
    }
    let status = child.wait().map_err(|e| fail("waiting for it", e))?;
    Ok(status
        .code()
        .map_or(ExitStatus::Unknown, |c| ExitStatus::Code(c as u32)))
}
