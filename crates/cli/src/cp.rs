//! `seashell cp`: scp's command line over SFTP.
//!
//! ```text
//! seashell cp [-ACpqrv] [-c cipher] [-F ssh_config] [-i identity_file] [-J destination]
//!             [-o ssh_option] [-P port] source ... target
//! ```
//!
//! A remote file is `[user@]host:path` (or `scp://[user@]host[:port][/path]`); a relative
//! remote path is under the login directory. Local to remote, remote to local (several
//! hosts among the sources are fine), local to local through `cp`; not remote to remote.
//! Remote sources are glob patterns, as with scp. A progress meter shows on a terminal
//! unless `-q`. Exit status: 0, 1 when a file failed, 255 when a connection failed.

use crate::sftp::adapter::{self, Remote};
use crate::sftp::cmdline::{self, CP_USAGE, CpArgs};
use crate::sftp::connection::{self, Target, colon, parse_target};
use crate::sftp::interp::{basename, path_append};
use crate::sftp::progress::Reporter;
use crate::sftp::remote::{RemoteFs, TransferOptions};
use crate::sftp::transfer::transfer_error;
use std::path::Path;
use std::process::ExitCode;

/// Prints `seashell: message`.
fn error(message: impl AsRef<str>) {
    eprintln!("seashell: {}", message.as_ref());
}

/// A connection to one remote host, with its login directory.
struct Connection {
    /// Who it is to.
    key: (Option<String>, String, Option<u16>),
    /// Kept open with the SFTP session.
    _connected: crate::connect::Connected,
    /// The SFTP session.
    fs: Remote,
    /// The login directory.
    home: String,
}

impl Connection {
    /// `path` absolute (relative ones under the login directory; empty: the directory).
    fn absolute(&self, path: &str) -> String {
        if path.starts_with('/') {
            path.to_owned()
        } else if path.is_empty() {
            self.home.clone()
        } else {
            path_append(&self.home, path)
        }
    }
}

/// Connects to `target`'s host (or reuses `cached` if it is the same). The error is the
/// exit code.
fn connect<'a>(
    a: &CpArgs,
    target: &Target,
    cached: &'a mut Option<Connection>,
) -> Result<&'a Connection, ExitCode> {
    let key = (target.user.clone(), target.host.clone(), target.port);
    if cached.as_ref().is_some_and(|c| c.key == key) {
        return cached.as_ref().ok_or(ExitCode::from(255));
    }
    *cached = None;
    let fail = |msg: String| {
        eprintln!("{msg}");
        ExitCode::from(255)
    };
    let connected =
        connection::connect(&connection::ssh_args(&a.ssh_flags, target)).map_err(fail)?;
    let fs = adapter::open(&connected.session, None).map_err(fail)?;
    let home = fs
        .canonicalize(".")
        .map_err(|e| fail(format!("seashell: realpath .: {}", e.reason)))?;
    Ok(cached.insert(Connection {
        key,
        _connected: connected,
        fs,
        home,
    }))
}

/// Runs `seashell cp` with the arguments after `cp`.
pub fn main(args: &[String]) -> ExitCode {
    let a = match cmdline::parse_cp(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            eprintln!("{CP_USAGE}");
            return ExitCode::from(1);
        }
        Err(msg) => {
            if !msg.is_empty() {
                error(msg);
            }
            eprintln!("{CP_USAGE}");
            return ExitCode::from(1);
        }
    };
    let remote_target = colon(&a.target)
        .and_then(|_| parse_target(&a.target, "scp"))
        .or_else(|| {
            a.target
                .starts_with("scp://")
                .then(|| parse_target(&a.target, "scp"))
                .flatten()
        });
    let is_remote = |s: &str| colon(s).is_some() || s.starts_with("scp://");
    let opts = TransferOptions {
        recursive: a.recursive,
        preserve: a.preserve,
        ..TransferOptions::default()
    };
    let mut cached = None;
    let result = match remote_target {
        Some(target) => {
            if let Some(src) = a.sources.iter().find(|s| is_remote(s)) {
                error(format!(
                    "{src}: copies between two remote hosts are not supported"
                ));
                return ExitCode::from(1);
            }
            upload(&a, &target, opts, &mut cached)
        }
        None if a.sources.iter().any(|s| is_remote(s)) => download(&a, opts, &mut cached),
        None => local_copy(&a),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(code) => code,
    }
}

/// Local sources to a remote target; `Ok(false)` if a file failed.
fn upload(
    a: &CpArgs,
    target: &Target,
    opts: TransferOptions,
    cached: &mut Option<Connection>,
) -> Result<bool, ExitCode> {
    let conn = connect(a, target, cached)?;
    let dst = conn.absolute(target.path.as_deref().unwrap_or_default());
    let dst_is_dir = conn.fs.stat(&dst).is_ok_and(|m| m.is_dir());
    if a.sources.len() > 1 && !dst_is_dir {
        error(format!("\"{dst}\" is not a directory"));
        return Ok(false);
    }
    let mut ok = true;
    for src in &a.sources {
        let meta = match std::fs::metadata(src) {
            Ok(m) => m,
            Err(e) => {
                error(format!("stat local \"{src}\": {}", crate::run::io_text(&e)));
                ok = false;
                continue;
            }
        };
        let abs_dst = if dst_is_dir {
            path_append(&dst, basename(src))
        } else {
            dst.clone()
        };
        let what = if meta.is_dir() { "directory" } else { "file" };
        if meta.is_dir() && !a.recursive {
            error(format!("local \"{src}\" is not a regular file"));
            error(format!("failed to upload {what} {src} to {dst}"));
            ok = false;
            continue;
        }
        let report = Reporter::new(true, None, !a.quiet);
        let progress = report.active().then(|| report.callback());
        let done = conn.fs.put(Path::new(src), &abs_dst, opts, progress);
        report.finish();
        if let Err(e) = done {
            error(transfer_error(&e, true, src, &abs_dst));
            error(format!("failed to upload {what} {src} to {dst}"));
            ok = false;
        }
    }
    Ok(ok)
}

/// Remote sources (local ones are refused) to a local target; `Ok(false)` if one failed.
fn download(
    a: &CpArgs,
    opts: TransferOptions,
    cached: &mut Option<Connection>,
) -> Result<bool, ExitCode> {
    let dst = a.target.as_str();
    let dst_is_dir = Path::new(dst).is_dir();
    let mut ok = true;
    for src in &a.sources {
        let Some(target) =
            parse_target(src, "scp").filter(|_| colon(src).is_some() || src.starts_with("scp://"))
        else {
            error(format!("{src}: local and remote sources cannot be mixed"));
            ok = false;
            continue;
        };
        let conn = connect(a, &target, cached)?;
        let path = conn.absolute(target.path.as_deref().unwrap_or_default());
        let matches = if path.contains(['*', '?', '[']) {
            conn.fs.glob(&path).unwrap_or_default()
        } else if conn.fs.stat(&path).is_ok() {
            vec![path.clone()]
        } else {
            Vec::new()
        };
        if matches.is_empty() {
            let why = conn
                .fs
                .stat(&path)
                .err()
                .map_or_else(|| "No such file or directory".to_owned(), |e| e.reason);
            error(format!("{path}: {why}"));
            ok = false;
            continue;
        }
        if matches.len() > 1 && !dst_is_dir {
            error(format!(
                "Multiple files match pattern, but destination \"{dst}\" is not a directory"
            ));
            ok = false;
            continue;
        }
        for m in matches {
            let abs_dst = if dst_is_dir {
                path_append(dst, basename(&m))
            } else {
                dst.to_owned()
            };
            let is_dir = conn.fs.stat(&m).is_ok_and(|meta| meta.is_dir());
            if is_dir && !a.recursive {
                error(format!("download {m}: not a regular file"));
                ok = false;
                continue;
            }
            let report = Reporter::new(false, None, !a.quiet);
            let progress = report.active().then(|| report.callback());
            let done = conn.fs.get(&m, Path::new(&abs_dst), opts, progress);
            report.finish();
            if let Err(e) = done {
                error(transfer_error(&e, false, &m, &abs_dst));
                let what = if is_dir { "directory" } else { "file" };
                error(format!("failed to download {what} {m} to {dst}"));
                ok = false;
            }
        }
    }
    Ok(ok)
}

/// Local to local: the system's `cp`, as scp does.
fn local_copy(a: &CpArgs) -> Result<bool, ExitCode> {
    let mut cmd = std::process::Command::new("cp");
    if a.recursive {
        cmd.arg("-r");
    }
    if a.preserve {
        cmd.arg("-p");
    }
    cmd.arg("--").args(&a.sources).arg(&a.target);
    match cmd.status() {
        Ok(s) => Ok(s.success()),
        Err(e) => {
            error(format!("cp: {}", crate::run::io_text(&e)));
            Ok(false)
        }
    }
}
