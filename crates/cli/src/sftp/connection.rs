//! Reaching the server for `sftp` and `cp` exactly as `seashell` (ssh) does: the ssh flags
//! they pass on (`-i`, `-F`, `-o`, `-J`, `-P` as `-p`, `-c`, `-C`, `-v`, `-q`) go through
//! the ssh command-line parser, ssh_config and [`crate::connect::establish`]; then the `sftp`
//! subsystem is opened on the session.

use crate::args::{self, Parsed};
use crate::connect::{self, Connected};
use crate::log::{self, Log};

/// A remote location: `[user@]host[:path]`, `[user@][v6addr]:path`, or
/// `sftp://[user@]host[:port][/path]` (`scp://` for `cp`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The user, if given.
    pub user: Option<String>,
    /// The host (IPv6 addresses without brackets).
    pub host: String,
    /// The port of a URI.
    pub port: Option<u16>,
    /// The path after `:` (or a URI's `/path`), if any.
    pub path: Option<String>,
}

/// Where the `:` that separates a host from a path is, as scp's `colon()` finds it: the
/// first `:` outside `[...]` that comes before any `/`. `None`: a local path.
pub fn colon(text: &str) -> Option<usize> {
    if text.starts_with(':') {
        return None;
    }
    let mut in_brackets = false;
    for (i, c) in text.char_indices() {
        match c {
            '[' if i == 0 || text.get(..i).is_some_and(|s| s.ends_with('@')) => {
                in_brackets = true;
            }
            ']' if in_brackets => in_brackets = false,
            ':' if !in_brackets => return Some(i),
            '/' => return None,
            _ => {}
        }
    }
    None
}

/// Parses a remote location. `scheme` is `sftp` or `scp`. `None` if `text` names no host.
pub fn parse_target(text: &str, scheme: &str) -> Option<Target> {
    if let Some(rest) = text.strip_prefix(&format!("{scheme}://")) {
        let (authority, path) = match rest.find('/') {
            Some(i) => (rest.get(..i)?, rest.get(i + 1..).filter(|p| !p.is_empty())),
            None => (rest, None),
        };
        let spec = crate::hosts::parse_ssh_uri(&format!("ssh://{authority}"))??;
        return Some(Target {
            user: spec.user,
            host: spec.host,
            port: spec.port,
            path: path.map(str::to_owned),
        });
    }
    let (hostpart, path) = match colon(text) {
        Some(i) => (text.get(..i)?, Some(text.get(i + 1..)?.to_owned())),
        None => (text, None),
    };
    let (user, host) = match hostpart.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_owned()).filter(|u| !u.is_empty()), h),
        None => (None, hostpart),
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    Some(Target {
        user,
        host: host.to_owned(),
        port: None,
        path: path.filter(|p| !p.is_empty()),
    })
}

/// The ssh argument list for `target` after `flags` (ssh's own flags, as `seashell` takes
/// them): the port and user of the target, then the host.
pub fn ssh_args(flags: &[String], target: &Target) -> Vec<String> {
    let mut out = flags.to_vec();
    if let Some(p) = target.port {
        out.extend(["-p".to_owned(), p.to_string()]);
    }
    if let Some(u) = &target.user {
        out.extend(["-l".to_owned(), u.clone()]);
    }
    out.push("--".to_owned());
    if target.host.contains(':') {
        out.push(format!("ssh://[{}]", target.host));
    } else {
        out.push(target.host.clone());
    }
    out
}

/// Connects and authenticates with ssh's argument list `ssh_argv` (resolving ssh_config,
/// setting the log level). The error is the message to print.
pub fn connect(ssh_argv: &[String]) -> Result<Connected, String> {
    let mut settings = match args::parse(ssh_argv) {
        Ok(Parsed::Run(s)) => s,
        Ok(_) => return Err("invalid arguments".to_owned()),
        Err(e) => return Err(e.message),
    };
    crate::ssh_config::apply(&mut settings).map_err(|e| e.to_string())?;
    if let Some(file) = &settings.session.log_file
        && let Err(msg) = log::redirect_to_file(std::path::Path::new(file))
    {
        eprintln!("{msg}");
    }
    log::set_level(settings.session.log_level());
    let log = Log::global();
    for note in settings.config.iter().flat_map(|c| &c.ignored) {
        log.debug(note);
    }
    connect::establish(&settings, log).map_err(|f| format!("seashell: {}", f.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(user: Option<&str>, host: &str, port: Option<u16>, path: Option<&str>) -> Target {
        Target {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
            path: path.map(str::to_owned),
        }
    }

    #[test]
    fn targets() {
        assert_eq!(parse_target("h", "sftp"), Some(t(None, "h", None, None)));
        assert_eq!(
            parse_target("u@h:/tmp/x", "sftp"),
            Some(t(Some("u"), "h", None, Some("/tmp/x")))
        );
        assert_eq!(parse_target("h:", "sftp"), Some(t(None, "h", None, None)));
        assert_eq!(
            parse_target("u@[::1]:dir", "scp"),
            Some(t(Some("u"), "::1", None, Some("dir")))
        );
        assert_eq!(
            parse_target("sftp://u@h:2222/some/path", "sftp"),
            Some(t(Some("u"), "h", Some(2222), Some("some/path")))
        );
        assert_eq!(
            parse_target("scp://h", "scp"),
            Some(t(None, "h", None, None))
        );
        assert_eq!(parse_target("@:x", "scp"), None);
    }

    #[test]
    fn colons_as_scp() {
        assert_eq!(colon("h:x"), Some(1));
        assert_eq!(colon("./a:b"), None);
        assert_eq!(colon("/a:b"), None);
        assert_eq!(colon(":a"), None);
        assert_eq!(colon("[::1]:a"), Some(5));
        assert_eq!(colon("u@[::1]:a"), Some(7));
        assert_eq!(colon("plain"), None);
    }

    #[test]
    fn ssh_argument_lists() {
        let args = ssh_args(
            &["-i".into(), "k".into()],
            &t(Some("u"), "::1", Some(7), None),
        );
        assert_eq!(args, ["-i", "k", "-p", "7", "-l", "u", "--", "ssh://[::1]"]);
        let args = ssh_args(&[], &t(None, "h", None, None));
        assert_eq!(args, ["--", "h"]);
    }
}
