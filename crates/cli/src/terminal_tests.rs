//! Raw mode, sizes and modes on a real pseudo-terminal.

use super::*;
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcgetattr, tcsetwinsize};
use std::fs::File;
use std::os::fd::OwnedFd;

/// A new pseudo-terminal: (controller, terminal).
fn pty() -> (OwnedFd, File) {
    let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&controller).unwrap();
    unlockpt(&controller).unwrap();
    let name = ptsname(&controller, Vec::new()).unwrap();
    let path = name.to_str().unwrap().to_owned();
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    (controller, terminal)
}

#[test]
fn raw_mode_is_restored_on_drop_and_on_unwind() {
    let (_c, tty) = pty();
    let before = tcgetattr(&tty).unwrap();
    assert!(
        before
            .local_modes
            .contains(LocalModes::ICANON | LocalModes::ECHO)
    );
    {
        let _raw = RawMode::enable(tty.as_fd()).unwrap();
        let now = tcgetattr(&tty).unwrap();
        assert!(!now.local_modes.intersects(
            LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG | LocalModes::IEXTEN
        ));
        assert!(
            !now.input_modes
                .intersects(InputModes::ICRNL | InputModes::IXON)
        );
        assert!(now.input_modes.contains(InputModes::IGNPAR));
        assert!(!now.output_modes.contains(OutputModes::OPOST));
        assert_eq!(now.special_codes[SpecialCodeIndex::VMIN], 1);
        assert_eq!(now.special_codes[SpecialCodeIndex::VTIME], 0);
    }
    let after = tcgetattr(&tty).unwrap();
    assert_eq!(after.local_modes, before.local_modes);
    assert_eq!(after.input_modes, before.input_modes);
    assert_eq!(after.output_modes, before.output_modes);

    let fd = tty.as_fd();
    let unwound = std::panic::catch_unwind(|| {
        let _raw = RawMode::enable(fd).unwrap();
        panic!("on purpose");
    });
    assert!(unwound.is_err());
    let after = tcgetattr(&tty).unwrap();
    assert_eq!(after.local_modes, before.local_modes);
    assert_eq!(after.input_modes, before.input_modes);
}

#[test]
fn pause_and_resume() {
    let (_c, tty) = pty();
    let mut raw = RawMode::enable(tty.as_fd()).unwrap();
    raw.pause().unwrap();
    raw.pause().unwrap();
    assert!(
        tcgetattr(&tty)
            .unwrap()
            .local_modes
            .contains(LocalModes::ECHO)
    );
    raw.resume().unwrap();
    assert!(
        !tcgetattr(&tty)
            .unwrap()
            .local_modes
            .contains(LocalModes::ECHO)
    );
    assert!(raw.saved().local_modes.contains(LocalModes::ECHO));
    drop(raw);
    assert!(
        tcgetattr(&tty)
            .unwrap()
            .local_modes
            .contains(LocalModes::ECHO)
    );
}

#[test]
fn raw_mode_on_a_non_terminal_fails_cleanly() {
    let f = tempfile::tempfile().unwrap();
    assert!(RawMode::enable(f.as_fd()).is_err());
    assert!(!std::io::IsTerminal::is_terminal(&f));
    assert!(window_size(&f).is_err());
}

#[test]
fn window_size_follows_the_terminal() {
    let (c, tty) = pty();
    assert!(std::io::IsTerminal::is_terminal(&tty));
    tcsetwinsize(
        &c,
        Winsize {
            ws_row: 40,
            ws_col: 132,
            ws_xpixel: 1320,
            ws_ypixel: 800,
        },
    )
    .unwrap();
    assert_eq!(
        window_size(&tty).unwrap(),
        WindowSize {
            cols: 132,
            rows: 40,
            width_px: 1320,
            height_px: 800
        }
    );
}

#[test]
fn modes_describe_the_terminal() {
    let (_c, tty) = pty();
    let t = tcgetattr(&tty).unwrap();
    let modes = terminal_modes(&t);
    let get = |op: u8| modes.iter().find(|(o, _)| *o == op).map(|(_, v)| *v);
    // A new pty is canonical with echo; ^C interrupts.
    assert_eq!(get(1), Some(3)); // VINTR
    assert_eq!(get(51), Some(1)); // ICANON
    assert_eq!(get(53), Some(1)); // ECHO
    assert_eq!(get(91), Some(1)); // CS8
    assert!(get(128).is_some() && get(129).is_some());
    // Every opcode once, in RFC 4254's ranges.
    let mut ops: Vec<u8> = modes.iter().map(|(o, _)| *o).collect();
    ops.sort_unstable();
    ops.dedup();
    assert_eq!(ops.len(), modes.len());
    assert!(ops.iter().all(|&o| (1..160).contains(&o)));
    let raw = terminal_modes(&raw_settings(&t));
    let get_raw = |op: u8| raw.iter().find(|(o, _)| *o == op).map(|(_, v)| *v);
    assert_eq!(get_raw(51), Some(0));
    assert_eq!(get_raw(53), Some(0));
}

#[test]
fn term_comes_from_the_environment() {
    // Only read: the test does not change the process environment.
    assert_eq!(term_from_env(), std::env::var("TERM").unwrap_or_default());
}
