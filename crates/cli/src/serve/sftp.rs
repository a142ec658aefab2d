//! The built-in SFTP server of `seashell serve` (sshd's `internal-sftp`): the engine of
//! seashell-sftp over the local filesystem, confined to `ChrootDirectory` when set, run on
//! a thread of its own by [`seashell_adapter::sftp_serve`].

use super::Log;
use super::session_options::{InternalSftp, SFTP_ONLY, SessionOptions};
use seashell_adapter::sftp_serve::{self, LocalFs, Request, ServerConfig, ServerEngine};
use seashell_blocking::ServerChannel;
use std::io::Write;
use std::path::Path;

/// Who the SFTP server serves.
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    /// The user name.
    pub user: &'a str,
    /// The home directory, if known.
    pub home: Option<&'a Path>,
    /// `ChrootDirectory` and friends.
    pub options: &'a SessionOptions,
}

/// Starts internal-sftp with `flags` on `channel`; `false` (logged) if it cannot start.
pub fn start(
    channel: &ServerChannel,
    flags: &InternalSftp,
    login: &Login<'_>,
    label: &str,
    log: Log,
) -> bool {
    let (fs, what) = match filesystem(flags, login, label, log) {
        Ok(x) => x,
        Err(e) => {
            log.info(&format!("{label}: internal-sftp: {e}"));
            return false;
        }
    };
    let config = ServerConfig {
        read_only: flags.read_only,
        ..ServerConfig::default()
    };
    let engine = ServerEngine::new(fs, config).with_policy(requests_policy(flags));
    let ch = channel.clone();
    let name = label.to_owned();
    log.debug(&format!("{label}: subsystem internal-sftp ({what})"));
    let spawned = std::thread::Builder::new()
        .name("serve-sftp".into())
        .spawn(move || match sftp_serve::serve(&ch, engine) {
            Ok(s) => log.debug(&format!(
                "{name}: sftp session ended: {} bytes in, {} bytes out, {} handles left open",
                s.bytes_in, s.bytes_out, s.left_open
            )),
            Err(e) => log.info(&format!("{name}: sftp session ended: {e}")),
        });
    match spawned {
        Ok(_) => true,
        Err(e) => {
            log.info(&format!("{label}: cannot start internal-sftp: {e}"));
            false
        }
    }
}

/// The local filesystem internal-sftp serves: `ChrootDirectory` (tokens expanded) or `/`
/// as its root, starting in `-d`'s directory, else in the home directory when it is
/// inside (under a chroot, as sshd, `/` otherwise); and how the log describes it.
fn filesystem(
    flags: &InternalSftp,
    login: &Login<'_>,
    label: &str,
    log: Log,
) -> Result<(LocalFs, String), String> {
    let home = login
        .home
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = match login.options.chroot_for(login.user, &home) {
        Some(r) => r?,
        None => "/".to_owned(),
    };
    let open = || {
        LocalFs::confined(&root)
            .map(|fs| fs.read_only(flags.read_only))
            .map_err(|e| format!("root {root}: {e}"))
    };
    // `-d`'s directory, else the home directory if the root holds it.
    let wanted = match flags.start_dir_for(login.user, &home) {
        Some(dir) => Some((dir?, true)),
        None if home.is_empty() => None,
        None => Some((home.clone(), false)),
    };
    let (fs, start) = match wanted {
        None => (open()?, "/".to_owned()),
        Some((dir, explicit)) => match open()?.start_dir(&dir) {
            Ok(fs) => (fs, dir),
            Err(e) => {
                // As sftp-server: a start directory that cannot be entered is only logged.
                if explicit {
                    log.info(&format!(
                        "{label}: internal-sftp: chdir to \"{dir}\" failed: {e}"
                    ));
                }
                (open()?, "/".to_owned())
            }
        },
    };
    let mode = if flags.read_only { ", read-only" } else { "" };
    Ok((fs, format!("root {root}, start {start}{mode}")))
}

/// `-P` and `-p`: requests refused, or the only ones allowed, by sftp-server's names.
fn requests_policy(flags: &InternalSftp) -> impl FnMut(&Request) -> bool + Send + 'static {
    let deny = flags.deny.clone();
    let allow = flags.allow.clone();
    move |request: &Request| {
        let name = request_name(request);
        let allowed = allow.as_ref().is_none_or(|a| a.contains(&name));
        allowed && !deny.contains(&name)
    }
}

/// A request's name as sftp-server's `-P`, `-p` and `-Q requests` spell it.
fn request_name(request: &Request) -> String {
    let name = match request {
        Request::Init { .. } => "init",
        Request::Open { .. } => "open",
        Request::Close { .. } => "close",
        Request::Read { .. } => "read",
        Request::Write { .. } => "write",
        Request::Lstat { .. } => "lstat",
        Request::Fstat { .. } => "fstat",
        Request::SetStat { .. } => "setstat",
        Request::FSetStat { .. } => "fsetstat",
        Request::OpenDir { .. } => "opendir",
        Request::ReadDir { .. } => "readdir",
        Request::Remove { .. } => "remove",
        Request::Mkdir { .. } => "mkdir",
        Request::Rmdir { .. } => "rmdir",
        Request::RealPath { .. } => "realpath",
        Request::Stat { .. } => "stat",
        Request::Rename { .. } => "rename",
        Request::ReadLink { .. } => "readlink",
        Request::Symlink { .. } => "symlink",
        Request::Extended { request, .. } => {
            let full = String::from_utf8_lossy(request.name()).into_owned();
            return full
                .strip_suffix("@openssh.com")
                .map_or_else(|| full.clone(), str::to_owned);
        }
    };
    name.to_owned()
}

/// sshd's answer to a shell or exec under `ForceCommand internal-sftp`: one line, exit
/// status 1 (from a thread: a write may wait for the client's window).
pub fn refuse_non_sftp(channel: &ServerChannel) {
    let ch = channel.clone();
    let spawned = std::thread::Builder::new()
        .name("serve-sftp-only".into())
        .spawn(move || {
            let _ = ch.stdout().write_all(SFTP_ONLY.as_bytes());
            ch.exit(1);
        });
    if spawned.is_err() {
        channel.exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seashell_adapter::sftp_serve::ExtendedRequest;

    fn remove() -> Request {
        Request::Remove {
            id: 1,
            filename: b"x".to_vec(),
        }
    }

    fn posix_rename() -> Request {
        Request::Extended {
            id: 2,
            request: ExtendedRequest::PosixRename {
                old: b"a".to_vec(),
                new: b"b".to_vec(),
            },
        }
    }

    fn stat() -> Request {
        Request::Stat {
            id: 3,
            path: b".".to_vec(),
        }
    }

    #[test]
    fn request_names_as_sftp_server() {
        assert_eq!(request_name(&remove()), "remove");
        assert_eq!(request_name(&posix_rename()), "posix-rename");
        assert_eq!(request_name(&stat()), "stat");
    }

    #[test]
    fn deny_and_allow_lists() {
        let mut deny = requests_policy(&InternalSftp {
            deny: vec!["remove".into(), "posix-rename".into()],
            ..InternalSftp::default()
        });
        assert!(!deny(&remove()) && !deny(&posix_rename()) && deny(&stat()));
        let mut allow = requests_policy(&InternalSftp {
            allow: Some(vec!["stat".into(), "remove".into()]),
            deny: vec!["remove".into()],
            ..InternalSftp::default()
        });
        assert!(allow(&stat()) && !allow(&remove()) && !allow(&posix_rename()));
    }
}
