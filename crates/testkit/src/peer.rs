//! Finding peer programs, and skipping tests when they are absent.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why a real SSH peer could not be provided to a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerError {
    /// The peer program is not installed. Outside CI the test is skipped.
    Missing {
        /// The program that was looked for, e.g. `"sshd"`.
        peer: &'static str,
        /// The command that installs it, e.g. `"apt-get install openssh-server"`.
        install: &'static str,
    },
    /// The peer is installed but could not be set up or started. Always a test failure.
    Failed(String),
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::Missing { peer, install } => {
                write!(f, "{peer} not installed (install with: {install})")
            }
            PeerError::Failed(msg) => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for PeerError {}

/// Unwraps a peer, or decides what a test does without it.
///
/// - `Ok(peer)` gives `Some(peer)`.
/// - `Err(PeerError::Missing)` prints `skipped: <peer> not installed (install with: ...)`
///   to stderr and gives `None`, so the test can return early. When the environment
///   variable `CI` is `true` it panics instead: CI must not skip interop tests.
/// - `Err(PeerError::Failed)` always panics: a broken peer is a real failure.
///
/// ```no_run
/// # use seashell_testkit::{require_peer, Sshd, SshdOptions};
/// let Some(sshd) = require_peer(Sshd::start(SshdOptions::default())) else {
///     return;
/// };
/// # drop(sshd);
/// ```
#[allow(
    clippy::panic,
    reason = "test support: failing the calling test is the intent"
)]
#[track_caller]
pub fn require_peer<T>(r: Result<T, PeerError>) -> Option<T> {
    match r {
        Ok(peer) => Some(peer),
        Err(e @ PeerError::Missing { .. }) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and a required peer is missing: {e}");
            }
            eprintln!("skipped: {e}");
            None
        }
        Err(PeerError::Failed(msg)) => panic!("peer failed: {msg}"),
    }
}

/// The login user and password for password-authentication tests.
///
/// Returns `Some((user, password))` when both `SEASHELL_TEST_USER` and
/// `SEASHELL_TEST_PASSWORD` are set and non-empty (`.ci/run` creates such a user),
/// otherwise `None`.
pub fn test_password() -> Option<(String, String)> {
    let user = std::env::var("SEASHELL_TEST_USER").ok()?;
    let password = std::env::var("SEASHELL_TEST_PASSWORD").ok()?;
    if user.is_empty() || password.is_empty() {
        return None;
    }
    Some((user, password))
}

/// Finds an executable by name and returns its absolute path.
///
/// A name containing `/` is checked as given. Otherwise the directories of `PATH` are
/// searched, then `/usr/local/sbin`, `/usr/sbin` and `/sbin` (which are often missing from
/// a non-root `PATH` but hold `sshd`).
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return absolute_executable(Path::new(name));
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path_var)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .filter(|dir| !dir.as_os_str().is_empty())
        .find_map(|dir| absolute_executable(&dir.join(name)))
}

/// The OpenSSH client `ssh`, or [`PeerError::Missing`].
pub fn ssh_client() -> Result<PathBuf, PeerError> {
    find_program("ssh").ok_or(PeerError::Missing {
        peer: "ssh",
        install: "apt-get install openssh-client",
    })
}

/// `path` made absolute, if it is an executable regular file.
fn absolute_executable(path: &Path) -> Option<PathBuf> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return None;
    }
    std::path::absolute(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MISSING: PeerError = PeerError::Missing {
        peer: "sshd",
        install: "apt-get install openssh-server",
    };

    #[test]
    fn display_gives_the_install_hint() {
        assert_eq!(
            MISSING.to_string(),
            "sshd not installed (install with: apt-get install openssh-server)"
        );
        assert_eq!(PeerError::Failed("boom".into()).to_string(), "boom");
    }

    #[test]
    fn missing_peer_skips_outside_ci_and_fails_in_ci() {
        assert_eq!(require_peer::<u8>(Ok(7)), Some(7));
        let outcome = std::panic::catch_unwind(|| require_peer::<u8>(Err(MISSING)));
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            assert!(outcome.is_err());
        } else {
            assert_eq!(outcome.ok(), Some(None));
        }
    }

    #[test]
    #[should_panic(expected = "peer failed: broken")]
    fn failed_peer_panics() {
        let _ = require_peer::<u8>(Err(PeerError::Failed("broken".into())));
    }

    #[test]
    fn finds_programs_by_name_and_path() {
        let sh = find_program("sh").expect("sh on PATH");
        assert!(sh.is_absolute());
        assert_eq!(find_program("/bin/sh").map(|p| p.is_absolute()), Some(true));
        assert_eq!(find_program("seashell-no-such-program"), None);
    }
}
