//! Pseudo-terminals for `pty-req` sessions: opening a pair, sizing it, applying the
//! client's terminal modes (RFC 4254 §8). (The child is made a session leader with the
//! slave as controlling terminal by [`super::process`].)

use rustix::fs::{Mode, OFlags};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{
    ControlModes, InputModes, LocalModes, OptionalActions, OutputModes, SpecialCodeIndex, Termios,
    Winsize, tcgetattr, tcsetattr, tcsetwinsize,
};
use std::io;
use std::os::fd::{AsFd, OwnedFd};

/// A terminal size as the client gives it (characters and pixels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    /// Columns.
    pub cols: u32,
    /// Rows.
    pub rows: u32,
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
}

impl Size {
    fn winsize(self) -> Winsize {
        let c = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        Winsize {
            ws_row: c(self.rows),
            ws_col: c(self.cols),
            ws_xpixel: c(self.width_px),
            ws_ypixel: c(self.height_px),
        }
    }
}

/// An open pseudo-terminal pair.
#[derive(Debug)]
pub struct Pty {
    /// The master side, kept by the server.
    pub master: OwnedFd,
    /// The slave side, given to the child as stdin, stdout and stderr.
    pub slave: OwnedFd,
    /// The slave's path (`/dev/pts/N`), for `SSH_TTY`.
    pub path: String,
}

/// Opens a pty pair, sets its window size and applies the encoded terminal `modes`.
pub fn open(size: Size, modes: &[u8]) -> io::Result<Pty> {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let path = ptsname(&master, Vec::new())?
        .into_string()
        .map_err(|_| io::Error::other("pty name is not UTF-8"))?;
    let slave = rustix::fs::open(
        path.as_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    tcsetwinsize(&master, size.winsize())?;
    let mut t = tcgetattr(&slave)?;
    apply_modes(&mut t, modes);
    tcsetattr(&slave, OptionalActions::Now, &t)?;
    Ok(Pty {
        master,
        slave,
        path,
    })
}

/// Changes the window size; the kernel sends `SIGWINCH` to the foreground process group.
pub fn resize(master: impl AsFd, size: Size) -> io::Result<()> {
    Ok(tcsetwinsize(master, size.winsize())?)
}

/// Applies RFC 4254 §8 encoded terminal modes: `opcode (byte) value (uint32)` pairs ended
/// by `TTY_OP_END` (0). Unknown opcodes below 160 are skipped; anything malformed stops
/// the parse (what was applied so far stays).
pub fn apply_modes(t: &mut Termios, modes: &[u8]) {
    let mut rest = modes;
    while let [op, tail @ ..] = rest {
        if *op == 0 || *op >= 160 {
            return;
        }
        let Some((value, tail)) = tail.split_first_chunk::<4>() else {
            return;
        };
        rest = tail;
        apply_mode(t, *op, u32::from_be_bytes(*value));
    }
}

fn apply_mode(t: &mut Termios, op: u8, value: u32) {
    let on = value != 0;
    if let Some(idx) = special_code(op) {
        // OpenSSH sends 255 for a disabled character; Linux's _POSIX_VDISABLE is 0.
        t.special_codes[idx] = if value == 255 {
            0
        } else {
            u8::try_from(value).unwrap_or(0)
        };
    } else if let Some(f) = input_flag(op) {
        t.input_modes.set(f, on);
    } else if let Some(f) = local_flag(op) {
        t.local_modes.set(f, on);
    } else if let Some(f) = output_flag(op) {
        t.output_modes.set(f, on);
    } else {
        match op {
            90 | 91 if on => {
                t.control_modes.remove(ControlModes::CSIZE);
                t.control_modes.insert(if op == 90 {
                    ControlModes::CS7
                } else {
                    ControlModes::CS8
                });
            }
            92 => t.control_modes.set(ControlModes::PARENB, on),
            93 => t.control_modes.set(ControlModes::PARODD, on),
            // 128/129 are the speeds, meaningless on a pty; the rest are unknown.
            _ => {}
        }
    }
}

fn special_code(op: u8) -> Option<SpecialCodeIndex> {
    Some(match op {
        1 => SpecialCodeIndex::VINTR,
        2 => SpecialCodeIndex::VQUIT,
        3 => SpecialCodeIndex::VERASE,
        4 => SpecialCodeIndex::VKILL,
        5 => SpecialCodeIndex::VEOF,
        6 => SpecialCodeIndex::VEOL,
        7 => SpecialCodeIndex::VEOL2,
        8 => SpecialCodeIndex::VSTART,
        9 => SpecialCodeIndex::VSTOP,
        10 => SpecialCodeIndex::VSUSP,
        12 => SpecialCodeIndex::VREPRINT,
        13 => SpecialCodeIndex::VWERASE,
        14 => SpecialCodeIndex::VLNEXT,
        18 => SpecialCodeIndex::VDISCARD,
        _ => return None,
    })
}

fn input_flag(op: u8) -> Option<InputModes> {
    Some(match op {
        30 => InputModes::IGNPAR,
        31 => InputModes::PARMRK,
        32 => InputModes::INPCK,
        33 => InputModes::ISTRIP,
        34 => InputModes::INLCR,
        35 => InputModes::IGNCR,
        36 => InputModes::ICRNL,
        37 => InputModes::IUCLC,
        38 => InputModes::IXON,
        39 => InputModes::IXANY,
        40 => InputModes::IXOFF,
        41 => InputModes::IMAXBEL,
        42 => InputModes::IUTF8,
        _ => return None,
    })
}

fn local_flag(op: u8) -> Option<LocalModes> {
    Some(match op {
        50 => LocalModes::ISIG,
        51 => LocalModes::ICANON,
        52 => LocalModes::XCASE,
        53 => LocalModes::ECHO,
        54 => LocalModes::ECHOE,
        55 => LocalModes::ECHOK,
        56 => LocalModes::ECHONL,
        57 => LocalModes::NOFLSH,
        58 => LocalModes::TOSTOP,
        59 => LocalModes::IEXTEN,
        60 => LocalModes::ECHOCTL,
        61 => LocalModes::ECHOKE,
        62 => LocalModes::PENDIN,
        _ => return None,
    })
}

fn output_flag(op: u8) -> Option<OutputModes> {
    Some(match op {
        70 => OutputModes::OPOST,
        71 => OutputModes::OLCUC,
        72 => OutputModes::ONLCR,
        73 => OutputModes::OCRNL,
        74 => OutputModes::ONOCR,
        75 => OutputModes::ONLRET,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(op: u8, v: u32) -> Vec<u8> {
        let mut m = vec![op];
        m.extend_from_slice(&v.to_be_bytes());
        m
    }

    #[test]
    fn opens_a_pty_and_applies_modes() {
        let mut modes = mode(53, 0); // ECHO off
        modes.extend(mode(3, 0x7f)); // VERASE = DEL
        modes.extend(mode(1, 255)); // VINTR disabled
        modes.extend(mode(128, 38400)); // speed: ignored
        modes.extend(mode(91, 1)); // CS8
        modes.push(0);
        modes.extend(mode(53, 1)); // after TTY_OP_END: ignored
        let size = Size {
            cols: 100,
            rows: 40,
            ..Size::default()
        };
        let pty = open(size, &modes).unwrap();
        assert!(pty.path.starts_with("/dev/pts/"));
        let t = tcgetattr(&pty.slave).unwrap();
        assert!(!t.local_modes.contains(LocalModes::ECHO));
        assert_eq!(t.special_codes[SpecialCodeIndex::VERASE], 0x7f);
        assert_eq!(t.special_codes[SpecialCodeIndex::VINTR], 0);
        let ws = rustix::termios::tcgetwinsize(&pty.slave).unwrap();
        assert_eq!((ws.ws_col, ws.ws_row), (100, 40));
        resize(
            &pty.master,
            Size {
                cols: 7,
                rows: 3,
                ..size
            },
        )
        .unwrap();
        let ws = rustix::termios::tcgetwinsize(&pty.slave).unwrap();
        assert_eq!((ws.ws_col, ws.ws_row), (7, 3));
    }

    #[test]
    fn truncated_modes_stop_quietly() {
        let pty = open(Size::default(), &[53, 0, 0]).unwrap();
        let t = tcgetattr(&pty.slave).unwrap();
        assert!(t.local_modes.contains(LocalModes::ECHO));
    }
}
