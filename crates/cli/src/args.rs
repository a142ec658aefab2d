//! Command-line parsing in OpenSSH's style: getopt-like flags (bundled, with attached or
//! separate arguments), `user@host` or `ssh://user@host:port`, more flags right after the
//! destination, then the command. As in `ssh`, the first value given for a setting wins
//! (`-l` before `user@host`, `-p` or `-o Port` before a URI's port).

use crate::forward::ForwardKind;
use crate::hosts::{HostSpec, parse_destination, parse_port};
use crate::log::LogLevel;
use crate::options::{OptionError, Options, apply_option};
use crate::session_options::{RequestTty, SessionOptions, SessionType};

/// The usage line printed by `-h` and on errors.
pub const USAGE: &str = "usage: seashell [-AaCfGgkNnqsTtVvx] [-c cipher_spec] [-D [bind_address:]port]\n\
                         \x20               [-E log_file] [-e escape_char] [-F configfile] [-i identity_file]\n\
                         \x20               [-J destination] [-L address] [-l login_name] [-m mac_spec]\n\
                         \x20               [-o option] [-p port]\n\
                         \x20               [-R address] [-W host:port] destination [command [argument ...]]";

/// Flags that take an argument.
const WITH_ARG: &str = "cDEeFiJLlmoRpW";
/// Flags that don't.
const NO_ARG: &str = "AaCfgGhkNnqsTtVvx";
/// ssh's other flags: valid, but not acted on yet.
const SSH_ONLY: &str = "46KMXYyBbIiOPQSw";

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
    /// The `-o` settings of the transport and authentication.
    pub options: Options,
    /// Forwarding, terminal, escape character, keepalive and logging (flags and keywords).
    pub session: SessionOptions,
    /// Certificates and known_hosts keywords (`CertificateFile`, `GlobalKnownHostsFile`, ...).
    pub trust: crate::trust_options::TrustOptions,
    /// The remote command: the words after the destination joined by single spaces.
    pub command: Option<String>,
    /// Whether `-J` was given (a second one is an error).
    pub jump_flag_given: bool,
    /// `-F`: the configuration file (`none`: none), instead of `~/.ssh/config` and
    /// `/etc/ssh/ssh_config`.
    pub config_file: Option<String>,
    /// `-G`: print the resolved configuration and exit.
    pub dump_config: bool,
    /// The `-o` arguments as given, in order (the configuration resolver reads them first).
    pub option_texts: Vec<String>,
    /// `-L`, `-R`, `-D` arguments as given, with their flag.
    pub forward_flags: Vec<(char, String)>,
    /// `-J`'s argument.
    pub jump_flag: Option<String>,
    /// `-i` arguments as given.
    pub identity_flags: Vec<String>,
    /// `-c`'s argument.
    pub cipher_flag: Option<String>,
    /// `-m`'s argument.
    pub mac_flag: Option<String>,
    /// `-o` keywords the configuration resolver takes but a connection cannot act on yet
    /// (their messages): `-G` prints them, connecting refuses them.
    pub deferred_errors: Vec<String>,
    /// The configuration resolved for the destination (after [`crate::ssh_config::apply`]).
    pub config: Option<Box<seashell_config::ResolvedConfig>>,
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

    fn plain(message: impl Into<String>) -> ArgError {
        ArgError {
            message: message.into(),
            show_usage: false,
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
    s.host = apply_destination(&mut s, dest)?;
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
                let session = &mut s.session;
                match c {
                    'h' => return Ok(Flags::Done(Parsed::Help)),
                    'G' => s.dump_config = true,
                    'V' => return Ok(Flags::Done(Parsed::Version)),
                    'v' => session.more_verbose(),
                    'q' => session.flag_log_level = Some(LogLevel::Quiet),
                    'n' => session.stdin_null = Some(true),
                    'f' => session.fork_flag(),
                    'g' => session.gateway_ports = Some(true),
                    'N' => {
                        // As ssh: no session, so no terminal either.
                        session.session_type = Some(SessionType::None);
                        session.request_tty = Some(RequestTty::No);
                    }
                    's' => session.session_type = Some(SessionType::Subsystem),
                    't' => session.tty_flag(),
                    'T' => session.request_tty = Some(RequestTty::No),
                    // Agent forwarding on or off, as ssh's -A and -a.
                    'A' => s.options.forward_agent = Some(true),
                    'a' => s.options.forward_agent = Some(false),
                    // No X11 or GSSAPI forwarding: what Seashell does anyway.
                    'x' | 'k' => {}
                    // As in ssh, -C wins over any `-o Compression`.
                    _ => s.options.compression = Some(true), // 'C'
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
            } else if SSH_ONLY.contains(c) {
                return Err(ArgError::plain(format!("option -{c} is not supported yet")));
            } else {
                return Err(ArgError::usage(format!("unknown option -- {c}")));
            }
        }
    }
    Ok(Flags::Stopped(false))
}

/// Applies one flag that takes `value`.
fn apply_flag(s: &mut Settings, flag: char, value: &str) -> Result<(), ArgError> {
    if matches!(flag, 'L' | 'R' | 'D') {
        s.forward_flags.push((flag, value.to_owned()));
    }
    match flag {
        'p' => {
            let port =
                parse_port(value).ok_or_else(|| ArgError::usage(format!("Bad port '{value}'")))?;
            s.port.get_or_insert(port);
        }
        'l' => {
            s.user.get_or_insert_with(|| value.to_owned());
        }
        'i' => {
            s.identity_flags.push(value.to_owned());
            s.identity_files.push(value.to_owned());
        }
        'L' => s
            .session
            .forward_flag(value, ForwardKind::Local)
            .map_err(ArgError::plain)?,
        'R' => s
            .session
            .forward_flag(value, ForwardKind::Remote)
            .map_err(ArgError::plain)?,
        'D' => s
            .session
            .forward_flag(value, ForwardKind::Dynamic)
            .map_err(ArgError::plain)?,
        'W' => s.session.stdio_flag(value).map_err(ArgError::plain)?,
        'F' => s.config_file = Some(value.to_owned()),
        'J' => {
            s.jump_flag.get_or_insert_with(|| value.to_owned());
            let before = s.jump_flag_given;
            s.jump_flag_given = true;
            s.session
                .jump_flag(value, before)
                .map_err(ArgError::plain)?;
        }
        'e' => s.session.escape_flag(value).map_err(ArgError::plain)?,
        // As in ssh, -c and -m win over -o Ciphers and -o MACs.
        'c' => {
            s.cipher_flag = Some(value.to_owned());
            s.options.ciphers = None;
            apply_option(s, &format!("Ciphers {value}"))
                .map_err(|_| ArgError::plain(format!("Unknown cipher type '{value}'")))?;
        }
        'm' => {
            s.mac_flag = Some(value.to_owned());
            s.options.macs = None;
            apply_option(s, &format!("MACs {value}"))
                .map_err(|_| ArgError::plain(format!("Unknown mac type '{value}'")))?;
        }
        'E' => s.session.log_file = Some(value.to_owned()),
        _ => {
            // 'o'
            s.option_texts.push(value.to_owned());
            apply_option(s, value)?;
        }
    }
    Ok(())
}

/// Reads the destination, fills user and port if not set yet, and returns the host.
fn apply_destination(s: &mut Settings, dest: &str) -> Result<String, ArgError> {
    if dest.is_empty() {
        return Err(ArgError::usage("empty destination"));
    }
    let HostSpec { user, host, port } = parse_destination(dest)
        .ok_or_else(|| ArgError::usage(format!("invalid destination \"{dest}\"")))?;
    if let Some(u) = user {
        s.user.get_or_insert(u);
    }
    if let Some(p) = port {
        s.port.get_or_insert(p);
    }
    Ok(host)
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
        assert_eq!(s.session.flag_log_level, Some(LogLevel::Quiet));
        assert_eq!(s.user.as_deref(), Some("bob"));
        assert_eq!(s.identity_files, ["~/k"]);
        let s = run(&["-vp", "22", "h"]);
        assert_eq!(s.session.log_level(), LogLevel::Debug1);
        assert_eq!(s.port, Some(22));
        let s = run(&["-nvi", "a", "-i", "b", "h"]);
        assert_eq!(s.session.stdin_null, Some(true));
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
    fn cipher_and_mac_flags_win_over_the_options() {
        let s = run(&[
            "-o",
            "Ciphers=aes256-ctr",
            "-c",
            "aes128-ctr",
            "-m",
            "hmac-sha2-256",
            "h",
        ]);
        assert_eq!(s.options.ciphers, Some(vec!["aes128-ctr".to_owned()]));
        assert_eq!(s.options.macs, Some(vec!["hmac-sha2-256".to_owned()]));
        let s = run(&["-c", "aes128-ctr", "-o", "Ciphers=aes256-ctr", "h"]);
        assert_eq!(s.options.ciphers, Some(vec!["aes128-ctr".to_owned()]));
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
        assert_eq!(err(&["-Z", "h"]), "unknown option -- Z");
        assert!(run(&["-G", "-F", "none", "h"]).dump_config);
        assert_eq!(run(&["-Fcfg", "h"]).config_file.as_deref(), Some("cfg"));
        assert_eq!(err(&["-X", "h"]), "option -X is not supported yet");
        assert_eq!(run(&["-A", "h"]).options.forward_agent, Some(true));
        assert_eq!(run(&["-A", "-a", "h"]).options.forward_agent, Some(false));
        assert_eq!(err(&["-c", "nope", "h"]), "Unknown cipher type 'nope'");
        assert_eq!(err(&["-m", "nope", "h"]), "Unknown mac type 'nope'");
        assert!(parse(&["-axk", "h"]).is_ok());
        assert_eq!(err(&["-p"]), "option requires an argument -- p");
        assert_eq!(err(&["-p", "0", "h"]), "Bad port '0'");
        assert_eq!(err(&["-p", "65536", "h"]), "Bad port '65536'");
        assert_eq!(err(&["-p", "2x", "h"]), "Bad port '2x'");
        assert_eq!(err(&["@h"]), "invalid destination \"@h\"");
        assert_eq!(err(&["u@"]), "invalid destination \"u@\"");
        assert_eq!(err(&["ssh://h:0"]), "invalid destination \"ssh://h:0\"");
        assert_eq!(err(&["-o", "Bogus=1", "h"]), "unsupported option \"Bogus\"");
        assert!(parse(&["-Z", "h"]).is_err_and(|e| e.show_usage));
        assert!(parse(&["-o", "Bogus=1", "h"]).is_err_and(|e| !e.show_usage));
    }
}
