//! The local terminal of an interactive session: raw mode (undone on every way out: a
//! [`RawMode`] guard restores the saved settings when dropped, on return or unwinding), the
//! window size, `TERM`, and the terminal modes sent with a pseudo-terminal request.

use rustix::termios::{
    self, InputModes, LocalModes, OptionalActions, OutputModes, SpecialCodeIndex, Termios,
};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

/// A terminal's size in characters and pixels (pixels 0 when unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowSize {
    /// Columns.
    pub cols: u32,
    /// Rows.
    pub rows: u32,
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
}

/// The size of the terminal on `fd` (`TIOCGWINSZ`).
pub fn window_size(fd: impl AsFd) -> io::Result<WindowSize> {
    let w = termios::tcgetwinsize(fd)?;
    Ok(WindowSize {
        cols: w.ws_col.into(),
        rows: w.ws_row.into(),
        width_px: w.ws_xpixel.into(),
        height_px: w.ws_ypixel.into(),
    })
}

/// The terminal type to ask for: `$TERM`, or the empty string as ssh sends when unset.
pub fn term_from_env() -> String {
    std::env::var("TERM").unwrap_or_default()
}

/// A terminal switched to raw mode; dropping it restores the settings it had.
#[derive(Debug)]
pub struct RawMode<'fd> {
    fd: BorrowedFd<'fd>,
    saved: Termios,
    raw: bool,
}

impl<'fd> RawMode<'fd> {
    /// Saves the settings of the terminal on `fd` and switches it to raw mode as ssh does:
    /// no echo, no line editing, no signals from keys, no flow control, no CR/NL
    /// translation in either direction, reads return each byte.
    pub fn enable(fd: BorrowedFd<'fd>) -> io::Result<RawMode<'fd>> {
        let saved = termios::tcgetattr(fd)?;
        let mut guard = RawMode {
            fd,
            saved,
            raw: false,
        };
        guard.resume()?;
        Ok(guard)
    }

    /// The settings to restore.
    #[cfg(test)]
    pub fn saved(&self) -> &Termios {
        &self.saved
    }

    /// Restores the saved settings for now (before suspending, or to run something local).
    pub fn pause(&mut self) -> io::Result<()> {
        if self.raw {
            termios::tcsetattr(self.fd, OptionalActions::Drain, &self.saved)?;
            self.raw = false;
            crate::log::set_raw_stderr(false);
        }
        Ok(())
    }

    /// Switches back to raw mode after [`RawMode::pause`].
    pub fn resume(&mut self) -> io::Result<()> {
        if !self.raw {
            termios::tcsetattr(self.fd, OptionalActions::Drain, &raw_settings(&self.saved))?;
            self.raw = true;
            crate::log::set_raw_stderr(true);
        }
        Ok(())
    }
}

/// `~^Z`: restores the terminal, stops this process (`SIGTSTP`, as a shell's job control
/// expects) and, once continued, switches back to raw mode.
pub fn suspend(raw: &mut RawMode<'_>) -> io::Result<()> {
    raw.pause()?;
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::TSTP)?;
    raw.resume()
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = self.pause();
    }
}

/// `saved` with ssh's raw-mode changes (`enter_raw_mode` in OpenSSH's sshtty.c).
fn raw_settings(saved: &Termios) -> Termios {
    let mut t = saved.clone();
    t.input_modes |= InputModes::IGNPAR;
    t.input_modes -= InputModes::ISTRIP
        | InputModes::INLCR
        | InputModes::IGNCR
        | InputModes::ICRNL
        | InputModes::IXON
        | InputModes::IXANY
        | InputModes::IXOFF;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        t.input_modes -= InputModes::IUCLC;
    }
    t.local_modes -= LocalModes::ISIG
        | LocalModes::ICANON
        | LocalModes::ECHO
        | LocalModes::ECHOE
        | LocalModes::ECHOK
        | LocalModes::ECHONL
        | LocalModes::IEXTEN;
    t.output_modes -= OutputModes::OPOST;
    t.special_codes[SpecialCodeIndex::VMIN] = 1;
    t.special_codes[SpecialCodeIndex::VTIME] = 0;
    t
}

/// RFC 4254 §8 opcodes of the special characters, with their local index.
fn special_chars() -> Vec<(u8, SpecialCodeIndex)> {
    use SpecialCodeIndex as I;
    #[allow(unused_mut, reason = "more characters on some systems")]
    let mut v = vec![
        (1, I::VINTR),
        (2, I::VQUIT),
        (3, I::VERASE),
        (4, I::VKILL),
        (5, I::VEOF),
        (6, I::VEOL),
        (7, I::VEOL2),
        (8, I::VSTART),
        (9, I::VSTOP),
        (10, I::VSUSP),
        (12, I::VREPRINT),
        (13, I::VWERASE),
        (14, I::VLNEXT),
        (18, I::VDISCARD),
    ];
    #[cfg(any(target_os = "macos", target_os = "freebsd", target_os = "openbsd"))]
    v.extend([(11, I::VDSUSP), (17, I::VSTATUS)]);
    v
}

/// The terminal modes ssh sends in a `pty-req` (opcode, value), from `t`: the special
/// characters (255 for a disabled one), the input, local, output and control flags, and the
/// speeds.
pub fn terminal_modes(t: &Termios) -> Vec<(u8, u32)> {
    let mut modes = Vec::new();
    for (op, index) in special_chars() {
        let c = t.special_codes[index];
        // _POSIX_VDISABLE is 0 on Linux and 0xff on the BSDs.
        let disabled = c == 0 || c == 0xff;
        modes.push((op, if disabled { 255 } else { u32::from(c) }));
    }
    let flag = |on: bool| u32::from(on);
    let i = t.input_modes;
    #[allow(unused_mut, reason = "more flags on some systems")]
    let mut input = vec![
        (30, InputModes::IGNPAR),
        (31, InputModes::PARMRK),
        (32, InputModes::INPCK),
        (33, InputModes::ISTRIP),
        (34, InputModes::INLCR),
        (35, InputModes::IGNCR),
        (36, InputModes::ICRNL),
        (38, InputModes::IXON),
        (39, InputModes::IXANY),
        (40, InputModes::IXOFF),
        (41, InputModes::IMAXBEL),
    ];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    input.extend([(37, InputModes::IUCLC), (42, InputModes::IUTF8)]);
    input.sort_by_key(|(op, _)| *op);
    modes.extend(input.into_iter().map(|(op, f)| (op, flag(i.contains(f)))));
    let l = t.local_modes;
    #[allow(unused_mut, reason = "more flags on some systems")]
    let mut local = vec![
        (50, LocalModes::ISIG),
        (51, LocalModes::ICANON),
        (53, LocalModes::ECHO),
        (54, LocalModes::ECHOE),
        (55, LocalModes::ECHOK),
        (56, LocalModes::ECHONL),
        (57, LocalModes::NOFLSH),
        (58, LocalModes::TOSTOP),
        (59, LocalModes::IEXTEN),
        (60, LocalModes::ECHOCTL),
        (61, LocalModes::ECHOKE),
        (62, LocalModes::PENDIN),
    ];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    local.push((52, LocalModes::XCASE));
    local.sort_by_key(|(op, _)| *op);
    modes.extend(local.into_iter().map(|(op, f)| (op, flag(l.contains(f)))));
    let o = t.output_modes;
    #[allow(unused_mut, reason = "more flags on some systems")]
    let mut output = vec![
        (70, OutputModes::OPOST),
        (72, OutputModes::ONLCR),
        (73, OutputModes::OCRNL),
        (74, OutputModes::ONOCR),
        (75, OutputModes::ONLRET),
    ];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    output.push((71, OutputModes::OLCUC));
    output.sort_by_key(|(op, _)| *op);
    modes.extend(output.into_iter().map(|(op, f)| (op, flag(o.contains(f)))));
    let c = t.control_modes;
    use termios::ControlModes as C;
    let size = c & C::CSIZE;
    modes.push((90, flag(size == C::CS7)));
    modes.push((91, flag(size == C::CS8)));
    modes.push((92, flag(c.contains(C::PARENB))));
    modes.push((93, flag(c.contains(C::PARODD))));
    modes.push((128, t.input_speed()));
    modes.push((129, t.output_speed()));
    modes
}

#[cfg(test)]
#[path = "terminal_tests.rs"]
mod tests;
