//! What a session runs, as sshd's `Subsystem`, `ForceCommand` and `ChrootDirectory` decide
//! it, and the command line of `internal-sftp` (`-R`, `-d`, `-P`, `-p`). Parsing only: the
//! handler acts on the result ([`super::sftp`] serves internal-sftp).

/// The name sshd gives its built-in SFTP server in `Subsystem` and `ForceCommand`.
pub const INTERNAL_SFTP: &str = "internal-sftp";

/// `Subsystem`, `ForceCommand` and `ChrootDirectory`, with sshd's defaults as Debian ships
/// them plus `Subsystem sftp internal-sftp` (served by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// Subsystem name and command line, in the order given.
    subsystems: Vec<(String, String)>,
    /// Whether the `sftp` entry is still the default (an explicit one replaces it).
    default_sftp: bool,
    /// `ChrootDirectory`, tokens not yet expanded (`None`: `none`).
    pub chroot: Option<String>,
    /// `ForceCommand` (`None`: `none`).
    pub force_command: Option<String>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            subsystems: vec![("sftp".to_owned(), INTERNAL_SFTP.to_owned())],
            default_sftp: true,
            chroot: None,
            force_command: None,
        }
    }
}

impl SessionOptions {
    /// Applies `name` (lower-cased) = `value` if it is one of these options; `Ok(false)`
    /// for any other option.
    pub fn apply(&mut self, name: &str, value: &str) -> Result<bool, String> {
        match name {
            "subsystem" => self.subsystem_option(value)?,
            "chrootdirectory" => {
                self.chroot = if value.eq_ignore_ascii_case("none") {
                    None
                } else {
                    // Checked now, expanded per login.
                    expand(value, &[('h', ""), ('u', ""), ('U', "")])
                        .map_err(|e| format!("ChrootDirectory: {e}"))?;
                    Some(value.to_owned())
                };
            }
            "forcecommand" => {
                self.force_command = if value.eq_ignore_ascii_case("none") {
                    None
                } else {
                    Command::parse(value).map_err(|e| format!("ForceCommand: {e}"))?;
                    Some(value.to_owned())
                };
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `Subsystem NAME COMMAND [ARGS]`: as sshd, defining a name twice is an error; the
    /// built-in `sftp` default may be replaced once.
    fn subsystem_option(&mut self, value: &str) -> Result<(), String> {
        let (name, command) = value
            .split_once(char::is_whitespace)
            .map(|(n, c)| (n, c.trim()))
            .filter(|(_, c)| !c.is_empty())
            .ok_or_else(|| format!("Subsystem: missing subsystem command: \"{value}\""))?;
        Command::parse(command).map_err(|e| format!("Subsystem {name}: {e}"))?;
        if name == "sftp" && self.default_sftp {
            self.default_sftp = false;
            self.subsystems.retain(|(n, _)| n != "sftp");
        } else if self.subsystems.iter().any(|(n, _)| n == name) {
            return Err(format!("Subsystem '{name}' already defined."));
        }
        self.subsystems.push((name.to_owned(), command.to_owned()));
        Ok(())
    }

    /// The command line of subsystem `name`, if defined.
    pub fn subsystem(&self, name: &str) -> Option<&str> {
        self.subsystems
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_str())
    }

    /// The chroot directory for `user` whose home is `home`, tokens expanded (`%h` home,
    /// `%u` user name, `%U` uid, `%%`). Relative paths are taken from the home directory
    /// (sshd requires them absolute after expansion; so does this).
    pub fn chroot_for(&self, user: &str, home: &str) -> Option<Result<String, String>> {
        let uid = rustix::process::getuid().as_raw().to_string();
        let raw = self.chroot.as_deref()?;
        Some(
            expand(raw, &[('h', home), ('u', user), ('U', &uid)])
                .and_then(|p| {
                    if p.starts_with('/') {
                        Ok(p)
                    } else {
                        Err(format!("\"{p}\" is not an absolute path"))
                    }
                })
                .map_err(|e| format!("ChrootDirectory: {e}")),
        )
    }
}

/// A session request that starts something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// `exec` with its command (bytes: it need not be UTF-8).
    Exec(&'a [u8]),
    /// `shell`.
    Shell,
    /// `subsystem` with its name.
    Subsystem(&'a str),
}

/// What a session request runs, decided as sshd's `session.c` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// The built-in SFTP server.
    Sftp(InternalSftp),
    /// A command through the shell (`None`: the login shell), with the client's own
    /// command in `SSH_ORIGINAL_COMMAND` when a forced command replaced it.
    Command {
        /// What runs.
        command: Option<Vec<u8>>,
        /// What the client asked for, when forced.
        original: Option<String>,
    },
    /// `ForceCommand internal-sftp` and a shell or exec request: sshd's "This service
    /// allows sftp connections only." and exit status 1.
    SftpOnly,
    /// Refused, with the log line saying why.
    Refused(String),
}

/// sshd's line to a non-sftp session under `ForceCommand internal-sftp`.
pub const SFTP_ONLY: &str = "This service allows sftp connections only.\n";

impl SessionOptions {
    /// What `request` runs for `user`, with `key_command` the `command="..."` of the
    /// `authorized_keys` line that authenticated the client (`ForceCommand` wins over it,
    /// as in sshd). With `ChrootDirectory` only internal-sftp is served: this server cannot
    /// `chroot(2)` a command.
    pub fn launch(&self, request: Request<'_>, key_command: Option<&str>, user: &str) -> Launch {
        let (asked, subsystem) = match request {
            Request::Exec(c) => (Some(c), false),
            Request::Shell => (None, false),
            Request::Subsystem(name) => match self.subsystem(name) {
                Some(c) => (Some(c.as_bytes()), true),
                None => {
                    return Launch::Refused(format!(
                        "subsystem request for {name} by user {user} failed, subsystem not found"
                    ));
                }
            },
        };
        let forced = self.force_command.as_deref().or(key_command);
        let line = forced.map(str::as_bytes).or(asked);
        let parsed = line.map(|l| Command::parse(&String::from_utf8_lossy(l)));
        let launch = match parsed {
            Some(Ok(Command::InternalSftp(s))) if subsystem => Launch::Sftp(s),
            Some(Ok(Command::InternalSftp(_))) => {
                if forced.is_some() {
                    Launch::SftpOnly
                } else {
                    // `exec internal-sftp`: sshd runs it as a command, which fails.
                    Launch::Command {
                        command: asked.map(<[u8]>::to_vec),
                        original: None,
                    }
                }
            }
            Some(Err(e)) => Launch::Refused(e),
            Some(Ok(Command::Shell(_))) | None => Launch::Command {
                command: line.map(<[u8]>::to_vec),
                original: forced
                    .and(asked)
                    .map(|a| String::from_utf8_lossy(a).into_owned()),
            },
        };
        match launch {
            Launch::Command { .. } if self.chroot.is_some() => Launch::Refused(format!(
                "ChrootDirectory is set: refusing non-sftp session for user {user} \
                 (seashell serve cannot chroot a command; use internal-sftp)"
            )),
            other => other,
        }
    }
}

/// A session's command line: the built-in SFTP server or a command for the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `internal-sftp [flags]`.
    InternalSftp(InternalSftp),
    /// Anything else, run as `SHELL -c COMMAND`.
    Shell(String),
}

impl Command {
    /// Parses a `Subsystem` or `ForceCommand` command line.
    pub fn parse(line: &str) -> Result<Command, String> {
        let mut words = line.split_whitespace();
        match words.next() {
            Some(INTERNAL_SFTP) => InternalSftp::parse(words).map(Command::InternalSftp),
            Some(_) => Ok(Command::Shell(line.to_owned())),
            None => Err("empty command".to_owned()),
        }
    }
}

/// `internal-sftp`'s flags, as sshd's `sftp-server(8)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternalSftp {
    /// `-R`: read-only.
    pub read_only: bool,
    /// `-d DIR`: the starting directory (`%d` home, `%u` user, `%%`), unexpanded.
    pub start_dir: Option<String>,
    /// `-P LIST`: requests refused (sftp-server's names: `open`, `remove`, ...).
    pub deny: Vec<String>,
    /// `-p LIST`: only these requests allowed.
    pub allow: Option<Vec<String>>,
}

impl InternalSftp {
    /// Parses the words after `internal-sftp`. Logging flags (`-e`, `-f`, `-l`) are
    /// accepted and ignored (the server's `-v` log is used); `-h`, `-Q` and unknown flags
    /// are errors.
    fn parse<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<InternalSftp, String> {
        let mut s = InternalSftp::default();
        while let Some(w) = words.next() {
            let flags = w
                .strip_prefix('-')
                .filter(|f| !f.is_empty())
                .ok_or_else(|| format!("{INTERNAL_SFTP}: unexpected argument \"{w}\""))?;
            for (at, c) in flags.char_indices() {
                if c == 'u' {
                    // The server process's umask applies to what is created, as with
                    // sftp-server without -u; one per session is not possible in threads.
                    return Err(format!(
                        "{INTERNAL_SFTP}: -u is not supported (the server's umask applies)"
                    ));
                }
                let takes_value = matches!(c, 'd' | 'f' | 'l' | 'P' | 'p');
                if !takes_value {
                    match c {
                        'R' => s.read_only = true,
                        'e' | 'c' => {}
                        _ => return Err(format!("{INTERNAL_SFTP}: unsupported flag -{c}")),
                    }
                    continue;
                }
                let attached = flags.get(at + c.len_utf8()..).unwrap_or_default();
                let value = if attached.is_empty() {
                    words
                        .next()
                        .ok_or_else(|| format!("{INTERNAL_SFTP}: -{c} needs a value"))?
                } else {
                    attached
                };
                match c {
                    'd' => s.start_dir = Some(value.to_owned()),
                    'P' => s.deny.extend(list(value)),
                    'p' => s.allow.get_or_insert_with(Vec::new).extend(list(value)),
                    _ => {} // -f, -l: logging.
                }
                break;
            }
        }
        if let Some(d) = &s.start_dir {
            expand(d, &[('d', ""), ('u', "")]).map_err(|e| format!("{INTERNAL_SFTP} -d: {e}"))?;
        }
        Ok(s)
    }

    /// The starting directory for `user` whose home is `home`, tokens expanded.
    pub fn start_dir_for(&self, user: &str, home: &str) -> Option<Result<String, String>> {
        let d = self.start_dir.as_deref()?;
        Some(expand(d, &[('d', home), ('u', user)]).map_err(|e| format!("-d: {e}")))
    }
}

/// A comma-separated list.
fn list(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Expands sshd's `%` tokens: `%%` and each `(letter, value)`; any other `%` is an error.
pub fn expand(s: &str, tokens: &[(char, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match tokens.iter().find(|(k, _)| *k == t) {
                Some((_, v)) => out.push_str(v),
                None => return Err(format!("unknown key %{t} in \"{s}\"")),
            },
            None => return Err(format!("invalid trailing % in \"{s}\"")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsystems() {
        let mut o = SessionOptions::default();
        assert_eq!(o.subsystem("sftp"), Some("internal-sftp"));
        assert_eq!(o.subsystem("netconf"), None);
        assert!(
            o.apply("subsystem", "sftp /usr/lib/openssh/sftp-server -l INFO")
                .unwrap()
        );
        assert_eq!(
            o.subsystem("sftp"),
            Some("/usr/lib/openssh/sftp-server -l INFO")
        );
        let again = o.apply("subsystem", "sftp internal-sftp").unwrap_err();
        assert_eq!(again, "Subsystem 'sftp' already defined.");
        o.apply("subsystem", "netconf  /bin/netconf").unwrap();
        assert_eq!(o.subsystem("netconf"), Some("/bin/netconf"));
        assert!(o.apply("subsystem", "lonely").is_err());
        assert!(o.apply("subsystem", "sftp2 internal-sftp -Z").is_err());
        assert!(!o.apply("ciphers", "x").unwrap());
    }

    #[test]
    fn internal_sftp_flags() {
        let parse = |l: &str| match Command::parse(l).unwrap() {
            Command::InternalSftp(s) => s,
            Command::Shell(c) => panic!("not internal: {c}"),
        };
        assert_eq!(parse("internal-sftp"), InternalSftp::default());
        let s = parse("internal-sftp -R -d /srv/%u -e -l INFO -f AUTH");
        assert!(s.read_only);
        assert_eq!(
            s.start_dir_for("ann", "/home/ann").unwrap().unwrap(),
            "/srv/ann"
        );
        let s = parse("internal-sftp -Rd%d/up -P remove,rename -p open,close");
        assert!(s.read_only);
        assert_eq!(s.start_dir.as_deref(), Some("%d/up"));
        assert_eq!(s.deny, ["remove", "rename"]);
        assert_eq!(s.allow, Some(vec!["open".into(), "close".into()]));
        for bad in [
            "internal-sftp -Z",
            "internal-sftp -u 022",
            "internal-sftp -d",
            "internal-sftp -d %x",
            "internal-sftp stray",
        ] {
            assert!(Command::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Command::parse("/usr/lib/openssh/sftp-server -R").unwrap(),
            Command::Shell("/usr/lib/openssh/sftp-server -R".into())
        );
    }

    #[test]
    fn chroot_and_force_command() {
        let mut o = SessionOptions::default();
        o.apply("chrootdirectory", "%h/jail/%u%%").unwrap();
        assert_eq!(
            o.chroot_for("ann", "/home/ann").unwrap().unwrap(),
            "/home/ann/jail/ann%"
        );
        o.apply("chrootdirectory", "none").unwrap();
        assert!(o.chroot_for("ann", "/home/ann").is_none());
        assert!(o.apply("chrootdirectory", "/x/%q").is_err());
        o.apply("chrootdirectory", "jail").unwrap();
        assert!(o.chroot_for("ann", "/home/ann").unwrap().is_err());
        o.apply("forcecommand", "internal-sftp -R").unwrap();
        assert_eq!(o.force_command.as_deref(), Some("internal-sftp -R"));
        assert!(o.apply("forcecommand", "internal-sftp -X").is_err());
        o.apply("forcecommand", "none").unwrap();
        assert_eq!(o.force_command, None);
    }

    #[test]
    fn launching() {
        let mut o = SessionOptions::default();
        let cmd = |c: Option<&str>, orig: Option<&str>| Launch::Command {
            command: c.map(|c| c.as_bytes().to_vec()),
            original: orig.map(Into::into),
        };
        let sftp = Launch::Sftp(InternalSftp::default());
        assert_eq!(o.launch(Request::Subsystem("sftp"), None, "u"), sftp);
        assert_eq!(
            o.launch(Request::Exec(b"ls"), None, "u"),
            cmd(Some("ls"), None)
        );
        assert_eq!(o.launch(Request::Shell, None, "u"), cmd(None, None));
        assert!(matches!(
            o.launch(Request::Subsystem("nope"), None, "u"),
            Launch::Refused(m) if m.contains("subsystem not found")
        ));
        // A key's command= applies to subsystems too, as in sshd.
        assert_eq!(
            o.launch(Request::Subsystem("sftp"), Some("echo k"), "u"),
            cmd(Some("echo k"), Some("internal-sftp"))
        );
        o.apply("forcecommand", "internal-sftp -R").unwrap();
        let ro = Launch::Sftp(InternalSftp {
            read_only: true,
            ..InternalSftp::default()
        });
        assert_eq!(
            o.launch(Request::Subsystem("sftp"), Some("echo k"), "u"),
            ro
        );
        assert_eq!(o.launch(Request::Exec(b"ls"), None, "u"), Launch::SftpOnly);
        assert_eq!(o.launch(Request::Shell, None, "u"), Launch::SftpOnly);
        o.apply("forcecommand", "echo forced").unwrap();
        assert_eq!(
            o.launch(Request::Exec(b"ls"), None, "u"),
            cmd(Some("echo forced"), Some("ls"))
        );
        o.apply("forcecommand", "none").unwrap();
        o.apply("chrootdirectory", "/srv/%u").unwrap();
        assert_eq!(o.launch(Request::Subsystem("sftp"), None, "u"), sftp);
        assert!(matches!(
            o.launch(Request::Shell, None, "u"),
            Launch::Refused(_)
        ));
        o.apply("subsystem", "sftp /usr/lib/openssh/sftp-server")
            .unwrap();
        assert!(matches!(
            o.launch(Request::Subsystem("sftp"), None, "u"),
            Launch::Refused(_)
        ));
    }

    #[test]
    fn tokens() {
        assert_eq!(expand("a%%b", &[]).unwrap(), "a%b");
        assert!(expand("a%", &[]).is_err());
        assert!(expand("%z", &[('h', "x")]).is_err());
        assert_eq!(expand("%h/x", &[('h', "/h")]).unwrap(), "/h/x");
    }
}
