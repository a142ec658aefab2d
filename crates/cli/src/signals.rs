//! Signals an interactive session reacts to (`SIGWINCH`: the window changed; `SIGHUP`,
//! `SIGINT`, `SIGQUIT`, `SIGTERM`: leave, restoring the terminal), delivered through a
//! self-pipe so a `poll` loop sees them as a readable descriptor.
//!
//! This module holds the client's only `unsafe`: installing a handler needs `sigaction`,
//! which rustix does not offer safely, and the handler itself calls `write(2)`. The handler
//! does only async-signal-safe work (an atomic OR and one `write` to a non-blocking socket)
//! and keeps `errno` as it found it.

use rustix::process::Signal;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// The write end of the pipe the handler writes to (-1: none installed).
static PIPE_FD: AtomicI32 = AtomicI32::new(-1);
/// Signals received and not yet taken, one bit per signal number below 64.
static PENDING: AtomicU64 = AtomicU64::new(0);

/// The handler: record the signal, wake the reader.
extern "C" fn on_signal(sig: libc::c_int) {
    let errno = errno_location();
    #[allow(unsafe_code)]
    // SAFETY: errno_location() points at this thread's errno (or is null).
    let saved = unsafe { errno.as_ref().copied() };
    if (0..64).contains(&sig) {
        PENDING.fetch_or(1 << sig, Ordering::SeqCst);
    }
    let fd = PIPE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        #[allow(unsafe_code)]
        // SAFETY: write(2) is async-signal-safe; the buffer is one valid byte. A full pipe
        // (EAGAIN) is fine: a wake-up is already pending.
        unsafe {
            libc::write(fd, (&raw const byte).cast(), 1);
        }
    }
    if let Some(v) = saved {
        #[allow(unsafe_code)]
        // SAFETY: as above; restores the interrupted code's errno.
        unsafe {
            *errno = v;
        }
    }
}

/// This thread's `errno` (null where unknown).
fn errno_location() -> *mut libc::c_int {
    #[cfg(any(target_os = "linux", target_os = "redox"))]
    #[allow(unsafe_code)]
    // SAFETY: returns a pointer to the calling thread's errno; no preconditions.
    let p = unsafe { libc::__errno_location() };
    #[cfg(target_os = "android")]
    #[allow(unsafe_code)]
    // SAFETY: as above.
    let p = unsafe { libc::__errno() };
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    #[allow(unsafe_code)]
    // SAFETY: as above.
    let p = unsafe { libc::__error() };
    #[cfg(not(any(
        target_os = "linux",
        target_os = "redox",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    let p = std::ptr::null_mut();
    p
}

/// Handlers installed for some signals; dropping it puts the previous handlers back.
pub struct SignalPipe {
    reader: UnixStream,
    writer: UnixStream,
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl std::fmt::Debug for SignalPipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let signals: Vec<libc::c_int> = self.previous.iter().map(|(s, _)| *s).collect();
        f.debug_struct("SignalPipe")
            .field("reader", &self.reader)
            .field("signals", &signals)
            .finish()
    }
}

impl SignalPipe {
    /// Catches `signals` from now on. Only one `SignalPipe` may exist at a time.
    pub fn install(signals: &[Signal]) -> io::Result<SignalPipe> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        if PIPE_FD
            .compare_exchange(-1, writer.as_raw_fd(), Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "signal handlers are already installed",
            ));
        }
        let mut pipe = SignalPipe {
            reader,
            writer,
            previous: Vec::new(),
        };
        for sig in signals {
            let num = sig.as_raw();
            #[allow(unsafe_code)]
            // SAFETY: sigaction is plain data; all-zero is a valid empty value.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            #[allow(unsafe_code)]
            // SAFETY: zeroed is valid for the old action, which sigaction fills in.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            #[allow(unsafe_code)]
            // SAFETY: valid pointers to initialised sigaction values; the handler is an
            // `extern "C" fn(c_int)` doing only async-signal-safe work.
            let r = unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(num, &action, &mut old)
            };
            if r != 0 {
                return Err(io::Error::last_os_error()); // Drop restores the others.
            }
            pipe.previous.push((num, old));
        }
        Ok(pipe)
    }

    /// The descriptor that becomes readable when a signal arrives.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }

    /// The signals received since the last call (each once, however often it came), and
    /// drains the wake-ups.
    pub fn take(&self) -> Vec<Signal> {
        let mut buf = [0u8; 64];
        while matches!((&self.reader).read(&mut buf), Ok(n) if n > 0) {}
        let bits = PENDING.swap(0, Ordering::SeqCst);
        (1..64i32)
            .filter(|n| bits & (1u64 << n) != 0)
            .filter_map(Signal::from_named_raw)
            .collect()
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        for (num, old) in self.previous.drain(..).rev() {
            #[allow(unsafe_code)]
            // SAFETY: puts back the action sigaction returned for this signal.
            unsafe {
                libc::sigaction(num, &old, std::ptr::null_mut());
            }
        }
        let _ = PIPE_FD.compare_exchange(
            self.writer.as_raw_fd(),
            -1,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::process::{getpid, kill_process};

    fn readable(pipe: &SignalPipe, ms: i64) -> bool {
        let fd = pipe.fd();
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        let t = Timespec {
            tv_sec: ms / 1000,
            tv_nsec: (ms % 1000) * 1_000_000,
        };
        poll(&mut fds, Some(&t)).is_ok_and(|n| n > 0)
    }

    /// One test for everything: handlers are process-wide.
    #[test]
    fn winch_wakes_the_pipe_and_handlers_are_put_back() {
        let pipe = SignalPipe::install(&[Signal::WINCH, Signal::USR2]).unwrap();
        assert!(SignalPipe::install(&[Signal::WINCH]).is_err());
        assert!(!readable(&pipe, 10));
        assert!(pipe.take().is_empty());
        kill_process(getpid(), Signal::WINCH).unwrap();
        kill_process(getpid(), Signal::WINCH).unwrap();
        assert!(readable(&pipe, 2000));
        // In a test binary another thread may take the second signal a little later.
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(pipe.take(), [Signal::WINCH]);
        assert!(!readable(&pipe, 10));
        kill_process(getpid(), Signal::USR2).unwrap();
        assert!(readable(&pipe, 2000));
        assert_eq!(pipe.take(), [Signal::USR2]);
        drop(pipe);
        // SIGWINCH is ignored by default again; a new pipe can be installed.
        kill_process(getpid(), Signal::WINCH).unwrap();
        let again = SignalPipe::install(&[Signal::WINCH]).unwrap();
        assert!(again.take().is_empty());
    }
}
