//! Running a session's command: through pipes (stdin, stdout and stderr kept apart) or on a
//! pseudo-terminal (one stream, the child a session leader with the pty as controlling
//! terminal). Threads move the bytes between the child and the [`ServerChannel`], whose
//! readers and writers carry the client's back-pressure; the exit status (or the signal that
//! killed the child) is reported once all output has been handed over.

use super::Log;
use super::pty::{self, Size};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, kill_process, kill_process_group};
use seashell_blocking::ServerChannel;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;

/// The signals a client may name (RFC 4254 §6.10), without "SIG".
const SIGNALS: [(&str, Signal); 13] = [
    ("ABRT", Signal::ABORT),
    ("ALRM", Signal::ALARM),
    ("FPE", Signal::FPE),
    ("HUP", Signal::HUP),
    ("ILL", Signal::ILL),
    ("INT", Signal::INT),
    ("KILL", Signal::KILL),
    ("PIPE", Signal::PIPE),
    ("QUIT", Signal::QUIT),
    ("SEGV", Signal::SEGV),
    ("TERM", Signal::TERM),
    ("USR1", Signal::USR1),
    ("USR2", Signal::USR2),
];

/// Bytes moved per read from the child.
const CHUNK: usize = 32 * 1024;

/// A pseudo-terminal the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtySpec {
    /// `TERM`.
    pub term: String,
    /// The initial window size.
    pub size: Size,
    /// Encoded terminal modes.
    pub modes: Vec<u8>,
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The user's shell.
    pub shell: PathBuf,
    /// `Some(cmd)`: `shell -c cmd`; `None`: the shell as a login shell (`-sh`).
    pub command: Option<std::ffi::OsString>,
    /// The complete environment.
    pub env: Vec<(String, String)>,
    /// The working directory (`None`: the server's).
    pub cwd: Option<PathBuf>,
    /// A pseudo-terminal, or pipes when `None`.
    pub pty: Option<PtySpec>,
}

#[derive(Debug, Default)]
struct ChildState {
    /// Set (under the lock) before the child is reaped: its pid must not be signalled after.
    exited: bool,
    status: Option<io::Result<ExitStatus>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<ChildState>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ChildState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running command, for `signal` and `window-change` requests.
#[derive(Debug, Clone)]
pub struct Running {
    pid: Pid,
    shared: Arc<Shared>,
    master: Option<Weak<OwnedFd>>,
}

impl Running {
    /// Sends the signal named `name` (without "SIG") unless the child has exited. Returns
    /// whether the name is known and the child was still there.
    pub fn signal(&self, name: &str) -> bool {
        let Some(sig) = signal_by_name(name) else {
            return false;
        };
        let state = self.shared.lock();
        !state.exited && kill_process(self.pid, sig).is_ok()
    }

    /// Resizes the pseudo-terminal, if there is one still open.
    pub fn resize(&self, size: Size) -> bool {
        match self.master.as_ref().and_then(Weak::upgrade) {
            Some(master) => pty::resize(&*master, size).is_ok(),
            None => false,
        }
    }
}

/// The signal called `name` (without "SIG"), if clients may send it.
pub fn signal_by_name(name: &str) -> Option<Signal> {
    SIGNALS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The name (without "SIG") of signal number `raw`, as `exit-signal` reports it; unknown
/// signals get OpenSSH's `SIG@openssh.com`.
pub fn signal_name(raw: i32) -> &'static str {
    SIGNALS
        .iter()
        .find(|(_, s)| s.as_raw() == raw)
        .map_or("SIG@openssh.com", |(n, _)| n)
}

/// Starts `spec` for `channel` and returns at once; threads forward the data and report
/// the exit. `label` names the session in `-v` logs.
pub fn start(channel: &ServerChannel, spec: Spec, log: Log, label: String) -> io::Result<Running> {
    let mut cmd = Command::new(&spec.shell);
    let base = spec
        .shell
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sh".to_owned());
    match &spec.command {
        Some(c) => {
            cmd.arg0(&base).arg("-c").arg(c);
        }
        None => {
            cmd.arg0(format!("-{base}"));
        }
    }
    cmd.env_clear().envs(spec.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    prepare_child(&mut cmd, spec.pty.is_some());
    match &spec.pty {
        Some(p) => start_pty(channel, cmd, p, log, label),
        None => start_pipes(channel, cmd, log, label),
    }
}

/// Sets up the child between `fork` and `exec`: every signal back to its default action
/// (a server started in the background by a non-interactive shell inherits `SIGINT` and
/// `SIGQUIT` ignored, and a command must not), and with `pty`, a new session with its stdin
/// (the pty slave, already in place) as controlling terminal, like `login_tty(3)`.
///
/// This is the only `unsafe` in the server: `Command::pre_exec` is unsafe because its closure
/// runs in the forked child, where only async-signal-safe operations are allowed. The
/// closure makes only such system calls: `signal(2)` (listed async-signal-safe by POSIX),
/// and through rustix `setsid(2)` and `ioctl(0, TIOCSCTTY)`. It allocates nothing, takes no
/// lock and touches no state shared with the parent's other threads
/// (`rustix::stdio::stdin()` only names descriptor 0, and an `Errno` converts to
/// `io::Error` without allocating). Going through `setsid --ctty` instead would avoid the
/// `unsafe` for the pty but not for the signals, depend on util-linux, and add an exec.
#[allow(unsafe_code)]
fn prepare_child(cmd: &mut Command, pty: bool) {
    // SAFETY: see above; the closure only makes async-signal-safe system calls.
    unsafe {
        cmd.pre_exec(move || {
            for sig in 1..32 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
            if pty {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(rustix::stdio::stdin())?;
            }
            Ok(())
        });
    }
}

fn thread<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    std::thread::Builder::new().name(name.to_owned()).spawn(f)
}

/// Kills and reaps a child we could not set up threads for.
fn abandon(mut child: Child, e: io::Error) -> io::Error {
    let _ = child.kill();
    let _ = child.wait();
    e
}

fn start_pipes(
    channel: &ServerChannel,
    mut cmd: Command,
    log: Log,
    label: String,
) -> io::Result<Running> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let pid = Pid::from_child(&child);
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let shared = Arc::new(Shared::default());
    let mut handles = Vec::new();
    if let Some(mut input) = stdin {
        let mut from_client = channel.stdin();
        // Ends at the client's EOF (closing the child's stdin) or when the child stops
        // reading; either way the pipe is closed when this thread ends.
        let h = thread("serve-stdin", move || {
            let _ = io::copy(&mut from_client, &mut input);
        });
        if let Err(e) = h {
            return Err(abandon(child, e));
        }
    }
    for (src, dst) in [
        (
            stdout.map(|s| Box::new(s) as Box<dyn Read + Send>),
            channel.stdout(),
        ),
        (
            stderr.map(|s| Box::new(s) as Box<dyn Read + Send>),
            channel.stderr(),
        ),
    ] {
        if let Some(src) = src {
            match thread("serve-output", move || forward(src, dst)) {
                Ok(h) => handles.push(h),
                Err(e) => return Err(abandon(child, e)),
            }
        }
    }
    let ch = channel.clone();
    let sh = shared.clone();
    // If this spawn fails the child is reaped by nobody; kill it so it does not linger.
    let waiter = thread("serve-wait", move || {
        let status = reap(child, pid, &sh);
        for h in handles {
            let _ = h.join();
        }
        report(&ch, &status, log, &label);
    });
    if let Err(e) = waiter {
        let _ = kill_process(pid, Signal::KILL);
        return Err(e);
    }
    Ok(Running {
        pid,
        shared,
        master: None,
    })
}

/// Copies the child's output to the channel until EOF, or until the channel is gone (then
/// the pipe is closed, so the child gets `SIGPIPE` instead of blocking forever).
fn forward(mut src: impl Read, mut dst: impl Write) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match src.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if dst.write_all(buf.get(..n).unwrap_or_default()).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Waits for the child to exit, marks it exited (so no signal can reach a reused pid), then
/// reaps it and publishes the status.
fn reap(mut child: Child, pid: Pid, shared: &Shared) -> io::Result<ExitStatus> {
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT;
    while let Err(Errno::INTR) = rustix::process::waitid(WaitId::Pid(pid), options) {}
    shared.lock().exited = true;
    let status = child.wait();
    let mut state = shared.lock();
    state.status = Some(match &status {
        Ok(s) => Ok(*s),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    });
    shared.changed.notify_all();
    status
}

/// Tells the client how the command ended, and closes the channel.
fn report(channel: &ServerChannel, status: &io::Result<ExitStatus>, log: Log, label: &str) {
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => {
                log.debug(&format!("{label}: exit status {code}"));
                channel.exit(u32::try_from(code).unwrap_or(255));
            }
            (None, Some(sig)) => {
                let name = signal_name(sig);
                log.debug(&format!("{label}: killed by signal {name}"));
                channel.exit_signal(name);
            }
            (None, None) => channel.exit(255),
        },
        Err(e) => {
            log.debug(&format!("{label}: cannot wait for the command: {e}"));
            channel.exit(255);
        }
    }
}

fn start_pty(
    channel: &ServerChannel,
    mut cmd: Command,
    p: &PtySpec,
    log: Log,
    label: String,
) -> io::Result<Running> {
    let pty = pty::open(p.size, &p.modes)?;
    cmd.env("TERM", &p.term).env("SSH_TTY", &pty.path);
    cmd.stdin(Stdio::from(pty.slave.try_clone()?))
        .stdout(Stdio::from(pty.slave.try_clone()?))
        .stderr(Stdio::from(pty.slave));
    let spawned = cmd.spawn();
    // Our copies of the slave must be closed, or reading the master never sees the end.
    drop(cmd);
    let child = spawned?;
    let pid = Pid::from_child(&child);
    let master = Arc::new(pty.master);
    let shared = Arc::new(Shared::default());
    let setup = (|| {
        let mut to_pty = File::from(master.try_clone()?);
        let mut from_client = channel.stdin();
        // The client's EOF does not end a terminal session (a pty cannot be half-closed).
        thread("serve-pty-in", move || {
            let _ = io::copy(&mut from_client, &mut to_pty);
        })?;
        Ok::<_, io::Error>(())
    })();
    if let Err(e) = setup {
        return Err(abandon(child, e));
    }
    let sh = shared.clone();
    let waiter = thread("serve-wait", move || {
        let _ = reap(child, pid, &sh);
    });
    if let Err(e) = waiter {
        let _ = kill_process(pid, Signal::KILL);
        return Err(e);
    }
    let weak = Arc::downgrade(&master);
    let ch = channel.clone();
    let sh = shared.clone();
    thread("serve-pty-out", move || {
        pty_output(&ch, &master, pid, &sh, log, &label);
    })?;
    Ok(Running {
        pid,
        shared,
        master: Some(weak),
    })
}

/// Forwards the terminal's output until the session ends, then reports the exit.
///
/// The session ends when the slave side is closed by everyone (reading gives `EIO`), when
/// the child has exited and the terminal stays quiet for a moment (background jobs may keep
/// the slave open, as with OpenSSH they do not hold the session), or when the client is gone
/// (then the child's process group gets `SIGHUP`, as a terminal hangup would send).
fn pty_output(
    channel: &ServerChannel,
    master: &OwnedFd,
    pid: Pid,
    shared: &Shared,
    log: Log,
    label: &str,
) {
    let mut out = channel.stdout();
    let mut buf = vec![0u8; CHUNK];
    let mut client_gone = false;
    loop {
        let exited = shared.lock().exited;
        let wait = if exited { 100 } else { 500 };
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: wait * 1_000_000,
        };
        let mut fds = [PollFd::new(master, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => {
                if channel.is_closed() {
                    client_gone = true;
                    break;
                }
                if exited {
                    break;
                }
                continue;
            }
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(_) => break,
        }
        match rustix::io::read(master, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if out.write_all(buf.get(..n).unwrap_or_default()).is_err() {
                    client_gone = true;
                    break;
                }
            }
            Err(Errno::INTR | Errno::AGAIN) => {}
            Err(_) => break, // EIO: every slave descriptor is closed.
        }
    }
    let mut state = shared.lock();
    if client_gone {
        if !state.exited {
            let _ = kill_process_group(pid, Signal::HUP);
        }
        return;
    }
    while state.status.is_none() {
        state = shared
            .changed
            .wait(state)
            .unwrap_or_else(|p| p.into_inner());
    }
    let status = match state.status.take() {
        Some(s) => s,
        None => Err(io::Error::other("no status")),
    };
    drop(state);
    report(channel, &status, log, label);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_round_trip() {
        for (name, sig) in SIGNALS {
            assert_eq!(signal_by_name(name), Some(sig));
            assert_eq!(signal_name(sig.as_raw()), name);
        }
        assert_eq!(signal_by_name("SIGTERM"), None);
        assert_eq!(signal_name(Signal::WINCH.as_raw()), "SIG@openssh.com");
    }
}
