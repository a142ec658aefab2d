//! Helpers shared by the integration tests: running the real `ssh-keygen`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `ssh-keygen` can be run. If it cannot, prints a skip message, or panics when the
/// environment variable `CI` is `true` (CI must have it).
pub fn have_ssh_keygen(test: &str) -> bool {
    let ok = Command::new("ssh-keygen")
        .arg("-?")
        .output()
        .map(|_| true)
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("ssh-keygen is required in CI but was not found");
        }
        eprintln!("SKIPPED {test}: ssh-keygen not found");
    }
    ok
}

/// Runs `ssh-keygen -q -N <passphrase> <args> -f <dir>/<name>` and returns the key path.
pub fn keygen(dir: &Path, name: &str, args: &[&str], passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-N", passphrase, "-C", "test@seashell"])
        .args(args)
        .arg("-f")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "ssh-keygen {args:?} failed");
    path
}

/// The fingerprint `ssh-keygen -lf` prints for a key file (second field).
pub fn keygen_fingerprint(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().nth(1).unwrap().to_string()
}

/// Appends `.pub` to a path.
pub fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}
