//! `seashell sftp`: OpenSSH's `sftp` command over Seashell's SFTP client (see docs/cli.md).
//!
//! ```text
//! seashell sftp [-aCfhpqrv] [-B buffer_size] [-b batchfile] [-c cipher] [-F ssh_config]
//!               [-i identity_file] [-J destination] [-o ssh_option] [-P port]
//!               [-R num_requests] [user@]host[:path] [local]
//! ```
//!
//! Interactive on a terminal (`sftp> ` prompts), commands from stdin otherwise, or from a
//! batch file with `-b` (which stops at the first failure, as OpenSSH's does). Exit status:
//! 0, 1 when a command failed in batch mode (or the fetch of `host:file` failed), 255 when
//! the connection failed.

pub mod adapter;
pub mod cmdline;
pub mod commands;
pub mod connection;
pub mod interp;
pub mod listing;
pub mod local;
pub mod ls;
pub mod progress;
pub mod remote;
pub mod shell;
pub mod transfer;
pub mod words;

use cmdline::{SFTP_USAGE, SftpArgs};
use interp::{Interp, Next};
use std::io::{BufRead, BufReader, IsTerminal};
use std::process::ExitCode;
use words::Word;

/// Runs `seashell sftp` with the arguments after `sftp`.
pub fn main(args: &[String]) -> ExitCode {
    let a = match cmdline::parse_sftp(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            eprintln!("{SFTP_USAGE}");
            return ExitCode::from(1);
        }
        Err(msg) => {
            eprintln!("seashell sftp: {msg}");
            eprintln!("{SFTP_USAGE}");
            return ExitCode::from(1);
        }
    };
    // The batch file is opened before connecting, as OpenSSH does.
    let mut input: Box<dyn BufRead> = match a.batch.as_deref() {
        None | Some("-") => Box::new(BufReader::new(std::io::stdin())),
        Some(file) => match std::fs::File::open(file) {
            Ok(f) => Box::new(BufReader::new(f)),
            Err(e) => {
                eprintln!("{} ({file}).", crate::run::io_text(&e));
                return ExitCode::from(255);
            }
        },
    };
    let ssh_argv = connection::ssh_args(&a.ssh_flags, &a.target);
    let connected = match connection::connect(&ssh_argv) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            eprintln!("Connection closed.");
            return ExitCode::from(255);
        }
    };
    let fs = match adapter::open(&connected.session, a.requests) {
        Ok(fs) => fs,
        Err(msg) => {
            eprintln!("{msg}");
            eprintln!("Connection closed.");
            return ExitCode::from(255);
        }
    };
    if !a.quiet {
        eprintln!("Connected to {}.", a.target.host);
    }
    let ok = session(&a, &fs, &mut *input);
    drop(fs);
    let _ = connected.session.close();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The session on an open connection: `host:path` handled first, then the commands.
fn session(a: &SftpArgs, fs: &adapter::Remote, input: &mut dyn BufRead) -> bool {
    let home = match remote::RemoteFs::canonicalize(fs, ".") {
        Ok(h) => h,
        Err(e) => {
            let _ = interp::fail(format!("Need cwd: {}", e.reason));
            return false;
        }
    };
    let mut interp = Interp {
        fs,
        pwd: home.clone(),
        start_dir: home,
        quiet: a.quiet,
        progress: !a.quiet && std::io::stdout().is_terminal(),
        global_recursive: a.recursive,
        global_preserve: a.preserve,
        global_resume: a.resume,
        global_fsync: a.fsync,
    };
    if let Some(path) = &a.target.path {
        let word = Word {
            text: path.clone(),
            pattern: path.contains(['*', '?', '[']),
        };
        let abs = interp.absolute(path);
        let is_dir = !word.pattern && remote::RemoteFs::stat(fs, &abs).is_ok_and(|m| m.is_dir());
        if is_dir {
            if interp.run(commands::Command::Cd(Some(word))).is_err() {
                return false;
            }
            interp.start_dir = interp.pwd.clone();
        } else {
            // `sftp host:file [local]` fetches the file and ends.
            let flags = commands::TransferFlags::default();
            return interp.run(commands::Command::Get(flags, word, a.local.clone()))
                == Ok(Next::Continue);
        }
    }
    let mode = shell::Mode {
        batch: a.batch.is_some(),
        interactive: a.batch.is_none() && std::io::stdin().is_terminal(),
    };
    shell::run(&mut interp, input, mode)
}
