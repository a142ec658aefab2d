//! Reading the configuration for one destination as `ssh` does: the command line's `-o`
//! options first, then the user's file, then the system's (or only `-F`'s), `Host` and
//! `Match` blocks, nested `Include`s, then `HostName` and canonicalization, and a final
//! pass when `Match final` or canonicalization asks for one.

use crate::env::{ConfigEnv, LocalInfo};
use crate::keywords::{Class, Key, classify};
use crate::lexer::{split_args, split_keyword};
use crate::matching::{MatchInput, evaluate};
use crate::options::{ApplyCx, ResolvedConfig};
use crate::pattern::{ListMatch, match_pattern, match_pattern_list};
use crate::tokens;
use crate::values::Canonicalize;
use std::fmt;
use std::path::{Path, PathBuf};

/// OpenSSH's limit on nested `Include`s.
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// The longest configuration line, in bytes.
pub const MAX_LINE: usize = 16 * 1024;
/// The most files read for one resolution (every pass, every `Include`).
pub const MAX_FILES: usize = 1024;
/// The most bytes of configuration read for one resolution (every pass, every file).
pub const MAX_TOTAL_BYTES: usize = 16 << 20;
/// The most notes about ignored keywords kept.
const MAX_NOTES: usize = 256;

/// Which configuration files to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SshConfigFiles {
    /// `~/.ssh/config` (if it exists), then `/etc/ssh/ssh_config` (if it exists).
    #[default]
    Default,
    /// Only this file (`ssh -F`): a user configuration that must exist.
    Only(PathBuf),
    /// No file at all (`-F none`).
    None,
    /// These files: a user one and a system one, each read if it exists.
    Custom {
        /// Read as a user configuration (relative `Include`s under `~/.ssh`).
        user: Option<PathBuf>,
        /// Read as a system configuration (relative `Include`s under `/etc/ssh`).
        system: Option<PathBuf>,
    },
}

impl SshConfigFiles {
    /// What `-F` asks for: `none` for no file, else that file.
    pub fn from_flag(value: &str) -> SshConfigFiles {
        if value.eq_ignore_ascii_case("none") {
            SshConfigFiles::None
        } else {
            SshConfigFiles::Only(PathBuf::from(value))
        }
    }
}

/// Something the command line set, applied before any file (first value wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// A `-o` option's text (`Keyword=value` or `Keyword value`).
    Option(String),
    /// A flag's setting as a keyword and its arguments (`-p 2222` is `Port ["2222"]`).
    Set(String, Vec<String>),
    /// A forwarding flag (`'L'`, `'R'` or `'D'`) and its argument as given.
    Forward(char, String),
}

/// The destination and what the command line says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The host as given (an alias, a name or an address).
    pub host: String,
    /// Command-line settings, in order.
    pub command_line: Vec<CommandLine>,
    /// The remote command (for `Match command` and `Match sessiontype`).
    pub remote_command: Option<String>,
    /// The version `Match version` sees.
    pub version: String,
}

impl Request {
    /// A request for `host` with nothing from the command line.
    pub fn new(host: impl Into<String>) -> Request {
        Request {
            host: host.into(),
            command_line: Vec::new(),
            remote_command: None,
            version: format!("Seashell_{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Why the configuration could not be used: OpenSSH's messages, in order (the last one is
/// the fatal one, such as `FILE: terminating, 2 bad configuration options`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The messages.
    pub messages: Vec<String>,
}

impl ConfigError {
    fn one(msg: impl Into<String>) -> ConfigError {
        ConfigError {
            messages: vec![msg.into()],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.messages.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// The result of one line: fine, a bad line (counted), or a fatal error.
enum LineError {
    Bad(Vec<String>),
    Fatal(ConfigError),
}

/// How a file is read.
#[derive(Clone, Copy)]
struct FileFlags {
    user: bool,
    never_match: bool,
    check_perm: bool,
}

/// The state of one resolution.
pub(crate) struct Resolver<'a> {
    env: &'a dyn ConfigEnv,
    local: LocalInfo,
    req: &'a Request,
    /// The host `Host` lines and `%h` in `Match` see.
    host: String,
    final_pass: bool,
    want_final: bool,
    files_read: usize,
    bytes_read: usize,
    pub opts: ResolvedConfig,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(env: &'a dyn ConfigEnv, req: &'a Request) -> Resolver<'a> {
        let opts = ResolvedConfig {
            host_arg: req.host.clone(),
            ..ResolvedConfig::default()
        };
        Resolver {
            env,
            local: env.local(),
            req,
            host: req.host.clone(),
            final_pass: false,
            want_final: false,
            files_read: 0,
            bytes_read: 0,
            opts,
        }
    }

    pub(crate) fn local(&self) -> &LocalInfo {
        &self.local
    }

    /// Applies the command line, then the files, then the hostname rules and the final pass.
    pub(crate) fn run(mut self, files: &SshConfigFiles) -> Result<ResolvedConfig, ConfigError> {
        for item in &self.req.command_line {
            let r = match item {
                CommandLine::Option(text) => self.line(text, "command-line", 0, &mut true, None, 0),
                CommandLine::Forward(kind, spec) => self.forward_flag(*kind, spec),
                CommandLine::Set(k, args) => {
                    let quoted: Vec<String> = args.iter().map(|a| quote(a)).collect();
                    let text = format!("{k} {}", quoted.join(" "));
                    self.line(&text, "command-line", 0, &mut true, None, 0)
                }
            };
            match r {
                Ok(()) => {}
                Err(LineError::Bad(m)) => return Err(ConfigError { messages: m }),
                Err(LineError::Fatal(e)) => return Err(e),
            }
        }
        self.files(files)?;
        // HostName, with %h, then lower case (not for addresses).
        let mut host = match &self.opts.hostname_setting {
            Some(h) => tokens::expand(h, &[('h', &self.req.host)], None)
                .map_err(|e| ConfigError::one(e.0))?,
            None => self.req.host.clone(),
        };
        let is_addr = host.parse::<std::net::IpAddr>().is_ok();
        if !is_addr {
            host = host.to_ascii_lowercase();
        }
        let canon = self.opts.canonicalize_hostname.unwrap_or(Canonicalize::No);
        if canon != Canonicalize::No && !is_addr {
            host = self.canonicalize(host, canon)?;
        }
        if canon != Canonicalize::No {
            self.want_final = true;
        }
        if self.want_final {
            self.opts.hostname = host.clone();
            self.host = host.clone();
            self.final_pass = true;
            self.files(files)?;
        }
        self.opts.hostname = host;
        if let Some(a) = &mut self.opts.host_key_alias {
            a.make_ascii_lowercase();
        }
        if self.opts.clear_all_forwardings == Some(true) {
            self.opts.local_forwards.clear();
            self.opts.remote_forwards.clear();
        }
        Ok(self.opts)
    }

    /// `-L`, `-R` or `-D` from the command line.
    fn forward_flag(&mut self, kind: char, spec: &str) -> Result<(), LineError> {
        let word = match kind {
            'L' => "local",
            'R' => "remote",
            _ => "dynamic",
        };
        let bad = || {
            LineError::Bad(vec![format!(
                "Bad {word} forwarding specification '{spec}'"
            )])
        };
        let remote = kind == 'R';
        let mut f = crate::forward::parse_forward(spec, kind == 'D', remote, self.env);
        if f.is_none() && remote {
            f = crate::forward::parse_forward(spec, true, true, self.env);
        }
        let f = f.ok_or_else(bad)?;
        let list = if remote {
            &mut self.opts.remote_forwards
        } else {
            &mut self.opts.local_forwards
        };
        if !list.contains(&f) && list.len() < crate::options::MAX_LIST {
            list.push(f);
        }
        Ok(())
    }

    /// `CanonicalizeHostname`: try `host.domain.` for each of `CanonicalDomains`.
    fn canonicalize(&self, host: String, canon: Canonicalize) -> Result<String, ConfigError> {
        let proxied = self
            .opts
            .proxy_command
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case("none"))
            || matches!(self.opts.proxy_jump, Some(Some(_)));
        if proxied && canon != Canonicalize::Always {
            return Ok(host);
        }
        if host.ends_with('.') {
            if self.env.resolves(&host) {
                return Ok(host.trim_end_matches('.').to_owned());
            }
        } else {
            let dots = host.matches('.').count();
            if dots > self.opts.canonicalize_max_dots.unwrap_or(1) as usize {
                return Ok(host);
            }
            for d in &self.opts.canonical_domains {
                if d.eq_ignore_ascii_case("none") {
                    break;
                }
                let full = format!("{host}.{d}.");
                if self.env.resolves(&full) {
                    return Ok(full.trim_end_matches('.').to_owned());
                }
            }
        }
        if self.opts.canonicalize_fallback_local == Some(false) {
            return Err(ConfigError::one(format!(
                "ssh: Could not resolve host \"{host}\""
            )));
        }
        Ok(host)
    }

    fn files(&mut self, files: &SshConfigFiles) -> Result<(), ConfigError> {
        let home = self.local.home.clone();
        let user_flags = FileFlags {
            user: true,
            never_match: false,
            check_perm: true,
        };
        let sys_flags = FileFlags {
            user: false,
            never_match: false,
            check_perm: false,
        };
        match files {
            SshConfigFiles::None => {}
            SshConfigFiles::Only(p) => {
                let flags = FileFlags {
                    check_perm: false,
                    ..user_flags
                };
                if !self.read_file(p, flags, &mut true, 0)? {
                    return Err(ConfigError::one(format!(
                        "Can't open user config file {}: No such file or directory",
                        p.display()
                    )));
                }
            }
            SshConfigFiles::Default => {
                let user = PathBuf::from(format!("{}/.ssh/config", home.trim_end_matches('/')));
                self.read_file(&user, user_flags, &mut true, 0)?;
                self.read_file(Path::new("/etc/ssh/ssh_config"), sys_flags, &mut true, 0)?;
            }
            SshConfigFiles::Custom { user, system } => {
                if let Some(u) = user {
                    self.read_file(u, user_flags, &mut true, 0)?;
                }
                if let Some(s) = system {
                    self.read_file(s, sys_flags, &mut true, 0)?;
                }
            }
        }
        Ok(())
    }

    /// Reads one file; `Ok(false)` if it does not exist.
    fn read_file(
        &mut self,
        path: &Path,
        flags: FileFlags,
        active: &mut bool,
        depth: usize,
    ) -> Result<bool, ConfigError> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(ConfigError::one(
                "Too many recursive configuration includes",
            ));
        }
        self.files_read += 1;
        if self.files_read > MAX_FILES {
            return Err(ConfigError::one("Too many configuration files"));
        }
        let text = match self.env.read_file(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => {
                return Err(ConfigError::one(format!(
                    "Can't open user config file {}: {e}",
                    path.display()
                )));
            }
        };
        let name = path.display().to_string();
        if flags.check_perm && !self.env.safe_permissions(path) {
            return Err(ConfigError::one(format!(
                "Bad owner or permissions on {name}"
            )));
        }
        let mut bad = Vec::new();
        let mut count = 0;
        self.bytes_read = self.bytes_read.saturating_add(text.len());
        if self.bytes_read > MAX_TOTAL_BYTES {
            return Err(ConfigError::one("Too much configuration data"));
        }
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let r = if line.len() > MAX_LINE {
                Err(LineError::Bad(vec![format!(
                    "{name} line {n}: line too long"
                )]))
            } else {
                self.line(line, &name, n, active, Some(flags), depth)
            };
            match r {
                Ok(()) => {}
                Err(LineError::Bad(m)) => {
                    bad.extend(m);
                    count += 1;
                }
                Err(LineError::Fatal(mut e)) => {
                    bad.append(&mut e.messages);
                    return Err(ConfigError { messages: bad });
                }
            }
        }
        if count > 0 {
            bad.push(format!(
                "{name}: terminating, {count} bad configuration options"
            ));
            return Err(ConfigError { messages: bad });
        }
        Ok(true)
    }

    /// One line. `flags` is `None` for the command line.
    fn line(
        &mut self,
        line: &str,
        file: &str,
        n: usize,
        active: &mut bool,
        flags: Option<FileFlags>,
        depth: usize,
    ) -> Result<(), LineError> {
        let at = |m: &str| LineError::Bad(vec![format!("{file} line {n}: {m}")]);
        let Some(l) = split_keyword(line) else {
            return Ok(());
        };
        let kw = l.keyword.clone();
        if l.rest.is_empty() {
            return Err(at(&format!("no argument after keyword \"{kw}\"")));
        }
        let class = classify(&kw);
        let class = match class {
            Some(c) => c,
            None => {
                let ignored = self
                    .opts
                    .ignore_unknown
                    .as_deref()
                    .is_some_and(|p| match_pattern_list(&kw, p, true) == ListMatch::Yes);
                if ignored {
                    return Ok(());
                }
                return Err(LineError::Bad(vec![format!(
                    "{file}: line {n}: Bad configuration option: {kw}"
                )]));
            }
        };
        let words = split_args(l.rest).map_err(|_| at("invalid quotes"))?;
        let note = |this: &mut Self, msg: String| {
            if *active && flags.is_some() && this.opts.ignored.len() < MAX_NOTES {
                this.opts.ignored.push(msg);
            }
        };
        let used = match class {
            Class::Ignore => return Ok(()),
            Class::Deprecated => {
                note(self, format!("{file} line {n}: Deprecated option \"{kw}\""));
                return Ok(());
            }
            Class::Known(name) => {
                note(
                    self,
                    format!("{file} line {n}: {name} is not supported by Seashell yet; ignored"),
                );
                return Ok(());
            }
            Class::Unsupported => {
                return Err(at(&format!("Unsupported option \"{kw}\"")));
            }
            Class::Supported(Key::Host) => {
                let Some(flags) = flags else {
                    return Err(LineError::Bad(vec![
                        "Host directive not supported as a command-line option".into(),
                    ]));
                };
                *active = false;
                for w in &words {
                    if w.is_empty() {
                        return Err(at(&format!("keyword {kw} empty argument")));
                    }
                    if flags.never_match {
                        break;
                    }
                    let (neg, pat) = match w.strip_prefix('!') {
                        Some(p) => (true, p),
                        None => (false, w.as_str()),
                    };
                    if match_pattern(&self.host, pat) {
                        if neg {
                            *active = false;
                            break;
                        }
                        *active = true;
                    }
                }
                words.len()
            }
            Class::Supported(Key::Match) => {
                let Some(flags) = flags else {
                    return Err(LineError::Bad(vec![
                        "Host directive not supported as a command-line option".into(),
                    ]));
                };
                let matched = self.match_line(&words).map_err(|m| {
                    if m.starts_with("match exec") {
                        LineError::Fatal(ConfigError::one(format!("{file} line {n}: {m}")))
                    } else {
                        LineError::Bad(vec![m, format!("{file} line {n}: Bad Match condition")])
                    }
                })?;
                *active = !flags.never_match && matched;
                words.len()
            }
            Class::Supported(Key::Include) => {
                let Some(flags) = flags else {
                    return Err(LineError::Bad(vec![
                        "Include directive not supported as a command-line option".into(),
                    ]));
                };
                self.include(&words, &kw, file, n, active, flags, depth)?;
                words.len()
            }
            Class::Supported(key) => {
                let cx = ApplyCx {
                    env: self.env,
                    active: *active,
                };
                self.opts
                    .apply(key, &kw, &words, l.rest, &cx)
                    .map_err(|m| at(&m))?
            }
        };
        if words.len() > used {
            return Err(at(&format!("keyword {kw} extra arguments at end of line")));
        }
        Ok(())
    }

    /// Evaluates a `Match` line.
    fn match_line(&mut self, words: &[String]) -> Result<bool, String> {
        let host = if self.final_pass {
            self.opts.hostname.clone()
        } else {
            match &self.opts.hostname_setting {
                Some(h) => tokens::expand(h, &[('h', &self.host)], None).map_err(|e| e.0)?,
                None => self.host.clone(),
            }
        };
        let local = self.local.clone();
        let ruser = self.opts.user.clone().unwrap_or_else(|| local.user.clone());
        let port = self.opts.port.unwrap_or(22).to_string();
        let keyalias = self
            .opts
            .host_key_alias
            .clone()
            .unwrap_or_else(|| host.clone());
        let short = local
            .hostname
            .split('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        let hash = crate::expand::connection_hash(&local.hostname, &host, &port, &ruser);
        let uid = local.uid.to_string();
        let addresses = self.env.local_addresses();
        let input = MatchInput {
            host: &host,
            original_host: &self.req.host,
            remote_user: &ruser,
            local_user: &local.user,
            final_pass: self.final_pass,
            version: &self.req.version,
            tag: self.opts.tag.as_deref(),
            remote_command: self.req.remote_command.as_deref(),
            session_type: self.opts.session_type,
            local_addresses: &addresses,
        };
        let toks = [
            ('C', hash.as_str()),
            ('L', short.as_str()),
            ('d', local.home.as_str()),
            ('h', host.as_str()),
            ('k', keyalias.as_str()),
            ('l', local.hostname.as_str()),
            ('n', self.req.host.as_str()),
            ('p', port.as_str()),
            ('r', ruser.as_str()),
            ('u', local.user.as_str()),
            ('i', uid.as_str()),
        ];
        let env = self.env;
        let r = evaluate(
            words,
            &input,
            &mut |a| tokens::expand(a, &toks, None).map_err(|e| e.0),
            &mut |c| env.exec(c),
        )?;
        self.want_final |= r.wants_final;
        Ok(r.matched)
    }

    /// `Include`: each argument is a glob, relative to `~/.ssh` (user files) or `/etc/ssh`.
    #[allow(clippy::too_many_arguments)]
    fn include(
        &mut self,
        words: &[String],
        kw: &str,
        file: &str,
        n: usize,
        active: &mut bool,
        flags: FileFlags,
        depth: usize,
    ) -> Result<(), LineError> {
        let at = |m: String| LineError::Bad(vec![format!("{file} line {n}: {m}")]);
        for w in words {
            if w.is_empty() {
                return Err(at(format!("keyword {kw} empty argument")));
            }
            if w.starts_with('~') && !flags.user {
                return Err(at(format!("bad include path {w}.")));
            }
            let path = if !w.starts_with('/') && !w.starts_with('~') {
                if flags.user {
                    format!("~/.ssh/{w}")
                } else {
                    format!("/etc/ssh/{w}")
                }
            } else {
                w.clone()
            };
            let path = tokens::tilde(&path, &self.local.home);
            let matches = crate::glob::glob(self.env, &path);
            let outer = *active;
            for m in matches {
                let f = FileFlags {
                    check_perm: true,
                    never_match: flags.never_match || !outer,
                    ..flags
                };
                self.read_file(&m, f, active, depth + 1)
                    .map_err(LineError::Fatal)?;
                *active = outer;
            }
        }
        Ok(())
    }
}

/// Quotes an argument so the lexer gives it back unchanged.
fn quote(a: &str) -> String {
    if !a.is_empty() && !a.contains([' ', '\t', '"', '\'', '\\', '#']) {
        return a.to_owned();
    }
    let mut s = String::from("\"");
    for c in a.chars() {
        if matches!(c, '"' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}
