//! Command-line parsing in OpenSSH's style: getopt-like flags (bundled, with attached or
//! separate arguments), `user@host` or `ssh://user@host:port`, more flags right after the
//! destination, then the command. As in `ssh`, the first value given for a setting wins
//! (`-l` before `user@host`, `-p` or `-o Port` before a URI's port).

use crate::options::{OptionError, Options, apply_option};

/// The usage line printed by `-h` and on errors.
pub const USAGE: &str = "usage: seashell [-CnqTvV] [-i identity_file] [-l login_name] [-o option] [-p port]\n\
                         \x20               destination [command [argument ...]]";

/// Flags that take an argument.
const WITH_ARG: &str = "ilop";
/// Flags that don't.
const NO_ARG: &str = "ChnqTvV";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Connect and run a command (or, without one, a shell).
    Run(Box<Settings>),
    /// `-V`: print the version.
    Version,
    /// `-h` or `--help`: print the usage.
    Help,
}

/// Everything the command line said, resolved (first value wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The host to connect to.
    pub host: String,
    /// The remote user (`None`: the local user).
    pub user: Option<String>,
    /// The port (`None`: 22).
    pub port: Option<u16>,
    /// `-i` and `IdentityFile` paths, unexpanded, in order.
    pub identity_files: Vec<String>,
    /// The `-o` settings.
    pub options: Options,
    /// How many `-v` were given.
    pub verbose: u8,
    /// `-q`: no warnings or notes.
    pub quiet: bool,
    /// `-n`: don't read local stdin.
    pub stdin_null: bool,
    /// The remote command: the words after the destination joined by single spaces.
    pub command: Option<String>,
}

/// A command-line error: a message, and whether the usage should follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// What is wrong.
    pub message: String,
    /// Whether to print [`USAGE`] after the message.
    pub show_usage: bool,
}

impl ArgError {
    fn usage(message: impl Into<String>) -> ArgError {
        ArgError {
            message: message.into(),
            show_usage: true,
        }
    }
}

impl From<OptionError> for ArgError {
    fn from(e: OptionError) -> Self {
        ArgError {
            message: e.0,
            show_usage: false,
        }
    }
}

/// Where [`parse_flags`] stopped.
enum Flags {
    /// At the first word that is not a flag; `true` if that was after `--`.
    Stopped(bool),
    /// A flag that ends parsing (`-h`, `-V`).
    Done(Parsed),
}

/// Parses the arguments after the program name.
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Parsed, ArgError> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    if args.first().is_some_and(|a| *a == "--help") {
        return Ok(Parsed::Help);
    }
    let mut s = Settings::default();
    let mut i = 0;
    let terminated = match parse_flags(&args, &mut i, &mut s)? {
        Flags::Done(p) => return Ok(p),
        Flags::Stopped(t) => t,
    };
    let Some(&dest) = args.get(i) else {
        return Err(ArgError::usage("no destination given"));
    };
    i += 1;
    s.host = parse_destination(&mut s, dest)?;
    // Like OpenSSH, flags may follow the destination (until the first other word).
    if !terminated && let Flags::Done(p) = parse_flags(&args, &mut i, &mut s)? {
        return Ok(p);
    }
    let words = args.get(i..).unwrap_or_default();
    if !words.is_empty() {
        s.command = Some(words.join(" "));
    }
    Ok(Parsed::Run(Box::new(s)))
}

/// Parses flags from `args[*i]` on, getopt style, and leaves `*i` at the first word that
/// is not a flag (after `--` if there is one).
fn parse_flags(args: &[&str], i: &mut usize, s: &mut Settings) -> Result<Flags, ArgError> {
    while let Some(&arg) = args.get(*i) {
        if arg == "--" {
            *i += 1;
            return Ok(Flags::Stopped(true));
        }
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            break;
        };
        *i += 1;
        for (pos, c) in flags.char_indices() {
            if NO_ARG.contains(c) {
                match c {
                    'h' => return Ok(Flags::Done(Parsed::Help)),
                    'V' => return Ok(Flags::Done(Parsed::Version)),
                    'v' => s.verbose = s.verbose.saturating_add(1),
                    'q' => s.quiet = true,
                    'n' => s.stdin_null = true,
                    // As in ssh, -C wins over any `-o Compression`.
                    'C' => s.options.compression = Some(true),
                    _ => {} // 'T': no pty, which is all we do.
                }
            } else if WITH_ARG.contains(c) {
                let attached = flags.get(pos + c.len_utf8()..).unwrap_or_default();
                let value = if attached.is_empty() {
                    let v = args.get(*i).ok_or_else(|| {
                        ArgError::usage(format!("option requires an argument -- {c}"))
                    })?;
                    *i += 1;
                    *v
                } else {
                    attached
                };
                apply_flag(s, c, value)?;
                break;
            } else {
                return Err(ArgError::usage(format!("unknown option -- {c}")));
            }
        }
    }
    Ok(Flags::Stopped(false))
}

/// Applies one flag that takes `value`.
fn apply_flag(s: &mut Settings, flag: char, value: &str) -> Result<(), ArgError> {
    match flag {
        'p' => {
            let port =
                parse_port(value).ok_or_else(|| ArgError::usage(format!("Bad port '{value}'")))?;
            s.port.get_or_insert(port);
        }
        'l' => {
            s.user.get_or_insert_with(|| value.to_owned());
        }
        'i' => s.identity_files.push(value.to_owned()),
        _ => apply_option(s, value)?, // 'o'
    }
    Ok(())
}

/// A port number 1..=65535, digits only.
pub fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|&p| p != 0)
}

/// Reads `[user@]host` or `ssh://[user@]host[:port]`, fills user and port if not set yet,
/// and returns the host.
fn parse_destination(s: &mut Settings, dest: &str) -> Result<String, ArgError> {
    if let Some(rest) = dest.strip_prefix("ssh://") {
        let bad = || ArgError::usage(format!("invalid destination \"{dest}\""));
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(bad());
        }
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, hp)) if !u.is_empty() => (Some(u), hp),
            Some(_) => return Err(bad()),
            None => (None, rest),
        };
        let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
            let (h, after) = inner.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(parse_port(p).ok_or_else(bad)?)),
                None if after.is_empty() => (h, None),
                None => return Err(bad()),
            }
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h, Some(parse_port(p).ok_or_else(bad)?)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        if let Some(u) = user {
            s.user.get_or_insert_with(|| u.to_owned());
        }
        if let Some(p) = port {
            s.port.get_or_insert(p);
        }
        return Ok(host.to_owned());
    }
    match dest.rsplit_once('@') {
        Some((user, host)) => {
            if user.is_empty() || host.is_empty() {
                return Err(ArgError::usage(format!("invalid destination \"{dest}\"")));
            }
            s.user.get_or_insert_with(|| user.to_owned());
            Ok(host.to_owned())
        }
        None if dest.is_empty() => Err(ArgError::usage("empty destination")),
        None => Ok(dest.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seashell_blocking::StrictHostKeyChecking;
    use std::time::Duration;

    fn run(args: &[&str]) -> Settings {
        match parse(args) {
            Ok(Parsed::Run(s)) => *s,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match parse(args) {
            Err(e) => e.message,
            other => panic!("{args:?} should fail, gave {other:?}"),
        }
    }

    #[test]
    fn plain_destination_and_command() {
        let s = run(&["host", "echo", "a  b", "c"]);
        assert_eq!(s.host, "host");
        assert_eq!(s.user, None);
        assert_eq!(s.port, None);
        assert_eq!(s.command.as_deref(), Some("echo a  b c"));
        assert_eq!(run(&["u@h"]).command, None);
    }

    #[test]
    fn bundled_and_attached_flags() {
        let s = run(&["-p2222", "-vvq", "-Tl", "bob", "-i~/k", "h"]);
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.verbose, 2);
        assert!(s.quiet);
        assert_eq!(s.user.as_deref(), Some("bob"));
        assert_eq!(s.identity_files, ["~/k"]);
        let s = run(&["-vp", "22", "h"]);
        assert_eq!((s.verbose, s.port), (1, Some(22)));
        let s = run(&["-nvi", "a", "-i", "b", "h"]);
        assert!(s.stdin_null);
        assert_eq!(s.identity_files, ["a", "b"]);
    }

    #[test]
    fn compression_flag_wins_over_the_option() {
        assert_eq!(run(&["-Cv", "h"]).options.compression, Some(true));
        let s = run(&["-o", "Compression=no", "-C", "h"]);
        assert_eq!(s.options.compression, Some(true));
        assert_eq!(run(&["h"]).options.compression, None);
    }

    #[test]
    fn first_user_wins_like_openssh() {
        assert_eq!(run(&["-l", "flag", "dest@h"]).user.as_deref(), Some("flag"));
        assert_eq!(run(&["dest@h", "-l", "flag"]).user.as_deref(), Some("dest"));
        assert_eq!(
            run(&["-o", "User=opt", "-l", "flag", "h"]).user.as_deref(),
            Some("opt")
        );
        assert_eq!(run(&["a@b@h"]).user.as_deref(), Some("a@b"));
        assert_eq!(run(&["a@b@h"]).host, "h");
    }

    #[test]
    fn first_port_wins() {
        assert_eq!(run(&["-p", "1", "-o", "Port=2", "h"]).port, Some(1));
        assert_eq!(run(&["-o", "Port 2", "-p", "1", "h"]).port, Some(2));
        assert_eq!(run(&["-p", "1", "ssh://h:3"]).port, Some(1));
        let s = run(&["ssh://u@h:3", "ls"]);
        assert_eq!(
            (s.user.as_deref(), s.port, s.host.as_str()),
            (Some("u"), Some(3), "h")
        );
        assert_eq!(run(&["ssh://[::1]:4"]).host, "::1");
    }

    #[test]
    fn flags_after_destination_then_command() {
        let s = run(&["h", "-p", "5", "ls", "-l"]);
        assert_eq!(s.port, Some(5));
        assert_eq!(s.command.as_deref(), Some("ls -l"));
        let s = run(&["h", "--", "-p", "5"]);
        assert_eq!(s.port, None);
        assert_eq!(s.command.as_deref(), Some("-p 5"));
        let s = run(&["--", "h", "-x"]);
        assert_eq!(s.host, "h");
        assert_eq!(s.command.as_deref(), Some("-x"));
        let s = run(&["h", "cmd", "-p", "5"]);
        assert_eq!(s.port, None);
        assert_eq!(s.command.as_deref(), Some("cmd -p 5"));
    }

    #[test]
    fn version_and_help() {
        assert_eq!(parse(&["-V"]), Ok(Parsed::Version));
        assert_eq!(parse(&["-h"]), Ok(Parsed::Help));
        assert_eq!(parse(&["--help"]), Ok(Parsed::Help));
        assert_eq!(parse(&["-vV", "h"]), Ok(Parsed::Version));
    }

    #[test]
    fn option_forms() {
        let s = run(&[
            "-o",
            "stricthostkeychecking=accept-new",
            "-oBatchMode yes",
            "-o",
            "ConnectTimeout = 7",
            "h",
        ]);
        assert_eq!(s.options.strict, Some(StrictHostKeyChecking::AcceptNew));
        assert_eq!(s.options.batch_mode, Some(true));
        assert_eq!(s.options.connect_timeout, Some(Duration::from_secs(7)));
        let s = run(&["-o", "IdentityFile=x", "-i", "y", "h"]);
        assert_eq!(s.identity_files, ["x", "y"]);
    }

    #[test]
    fn errors() {
        assert_eq!(err(&[]), "no destination given");
        assert_eq!(err(&["-x", "h"]), "unknown option -- x");
        assert_eq!(err(&["-p"]), "option requires an argument -- p");
        assert_eq!(err(&["-p", "0", "h"]), "Bad port '0'");
        assert_eq!(err(&["-p", "65536", "h"]), "Bad port '65536'");
        assert_eq!(err(&["-p", "2x", "h"]), "Bad port '2x'");
        assert_eq!(err(&["@h"]), "invalid destination \"@h\"");
        assert_eq!(err(&["u@"]), "invalid destination \"u@\"");
        assert_eq!(err(&["ssh://h:0"]), "invalid destination \"ssh://h:0\"");
        assert_eq!(err(&["-o", "Bogus=1", "h"]), "unsupported option \"Bogus\"");
        assert!(parse(&["-x", "h"]).is_err_and(|e| e.show_usage));
        assert!(parse(&["-o", "Bogus=1", "h"]).is_err_and(|e| !e.show_usage));
    }
}
