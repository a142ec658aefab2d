//! The settings of a session beyond the transport: forwarding, jump hosts, the terminal, the
//! escape character, keepalive and logging. Each can come from a flag and from its `-o`
//! keyword. As in ssh, a keyword's first value wins, while most flags override
//! (`-t`, `-T`, `-N`, `-n`, `-f`, `-g`, `-e`, `-v`, `-q`), and forwards accumulate.

use crate::forward::{
    ForwardKind, ForwardSpec, Target, parse_forward, parse_forward_keyword, parse_stdio_forward,
};
use crate::hosts::{HostSpec, parse_jump};
use crate::log::LogLevel;
use crate::options::OptionError;
use crate::units::parse_time;
use std::time::Duration;

/// `RequestTTY` (and `-t`, `-tt`, `-T`): whether to ask the server for a pseudo-terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestTty {
    /// `no`, `-T`: never.
    No,
    /// `yes`, `-t`: when stdin is a terminal.
    Yes,
    /// `force`, `-tt`: always.
    Force,
    /// `auto` (the default): for a shell (no command) when stdin is a terminal.
    Auto,
}

/// `SessionType` (and `-N`, `-s`): what the session channel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionType {
    /// `none`, `-N`: no session channel (forwarding only).
    None,
    /// `subsystem`, `-s`: the command is a subsystem name.
    Subsystem,
    /// `default`: a shell, or the command.
    Default,
}

/// `EscapeChar` and `-e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeChar {
    /// `none`: no escape character; every byte is sent as typed.
    None,
    /// This byte (default `~`).
    Char(u8),
}

impl Default for EscapeChar {
    fn default() -> Self {
        EscapeChar::Char(b'~')
    }
}

/// Parses an escape character as ssh does: one character, `^X` for a control character, or
/// `none`.
pub fn parse_escape_char(text: &str) -> Option<EscapeChar> {
    match text.as_bytes() {
        [b'^', c @ 64..=127] => Some(EscapeChar::Char(c & 31)),
        [c] => Some(EscapeChar::Char(*c)),
        _ if text == "none" => Some(EscapeChar::None),
        _ => None,
    }
}

/// Session settings; `None` means not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// `-L`, `-R`, `-D` and their keywords, in the order given.
    pub forwards: Vec<ForwardSpec>,
    /// `-W`: connect stdin and stdout to this target through the server.
    pub stdio_forward: Option<Target>,
    /// `-J`/`ProxyJump`: hops, first connected first (`Some(empty)`: `none`).
    pub jump_hosts: Option<Vec<HostSpec>>,
    /// `ExitOnForwardFailure`.
    pub exit_on_forward_failure: Option<bool>,
    /// `GatewayPorts` or `-g`: local forwards without a bind address listen on every address.
    pub gateway_ports: Option<bool>,
    /// `ServerAliveInterval` (zero: off).
    pub server_alive_interval: Option<Duration>,
    /// `ServerAliveCountMax`.
    pub server_alive_count_max: Option<u32>,
    /// `LogLevel`.
    pub log_level: Option<LogLevel>,
    /// The level `-v` and `-q` set (they win over `LogLevel`).
    pub flag_log_level: Option<LogLevel>,
    /// `-E`: where diagnostics go.
    pub log_file: Option<String>,
    /// `RequestTTY`, `-t`, `-T`.
    pub request_tty: Option<RequestTty>,
    /// `SessionType`, `-N`, `-s`.
    pub session_type: Option<SessionType>,
    /// `StdinNull`, `-n`, `-f`.
    pub stdin_null: Option<bool>,
    /// `ForkAfterAuthentication`, `-f`.
    pub fork_after_authentication: Option<bool>,
    /// `EscapeChar`, `-e`.
    pub escape_char: Option<EscapeChar>,
    /// `StreamLocalBindUnlink`: remove an existing file before listening on a local socket.
    pub stream_local_bind_unlink: Option<bool>,
    /// `ClearAllForwardings`: forget every `-L`, `-R` and `-D` (as scp uses it).
    pub clear_all_forwardings: Option<bool>,
}

/// The keywords [`SessionOptions::apply_keyword`] handles, lower case.
pub const SESSION_KEYWORDS: [&str; 16] = [
    "localforward",
    "remoteforward",
    "dynamicforward",
    "proxyjump",
    "exitonforwardfailure",
    "gatewayports",
    "serveraliveinterval",
    "serveralivecountmax",
    "loglevel",
    "requesttty",
    "sessiontype",
    "stdinnull",
    "forkafterauthentication",
    "escapechar",
    "streamlocalbindunlink",
    "clearallforwardings",
];

impl SessionOptions {
    /// The effective log level: `-v`/`-q`, else `LogLevel`, else INFO.
    pub fn log_level(&self) -> LogLevel {
        self.flag_log_level
            .or(self.log_level)
            .unwrap_or(LogLevel::Info)
    }

    /// `-v`: one step more verbose.
    pub fn more_verbose(&mut self) {
        let now = self.flag_log_level.unwrap_or(LogLevel::Info);
        self.flag_log_level = Some(now.more_verbose());
    }

    /// `-t`: `yes`, or `force` when given twice.
    pub fn tty_flag(&mut self) {
        self.request_tty = Some(match self.request_tty {
            Some(RequestTty::Yes) => RequestTty::Force,
            _ => RequestTty::Yes,
        });
    }

    /// `-f`: fork after authentication, which implies `-n`.
    pub fn fork_flag(&mut self) {
        self.fork_after_authentication = Some(true);
        self.stdin_null = Some(true);
    }

    /// `-L`, `-R` or `-D` with its argument.
    pub fn forward_flag(&mut self, spec: &str, kind: ForwardKind) -> Result<(), String> {
        let f = parse_forward(spec, kind).map_err(|e| e.to_string())?;
        self.forwards.push(f);
        Ok(())
    }

    /// `-W host:port`: stdio forwarding, no terminal and no session.
    pub fn stdio_flag(&mut self, spec: &str) -> Result<(), String> {
        if self.stdio_forward.is_some() {
            return Err("stdio forward already specified".to_owned());
        }
        self.stdio_forward = Some(parse_stdio_forward(spec).map_err(|e| e.to_string())?);
        self.request_tty = Some(RequestTty::No);
        self.session_type = Some(SessionType::None);
        Ok(())
    }

    /// `-J hops`: only once, and it wins over a later `ProxyJump`.
    pub fn jump_flag(&mut self, spec: &str, given_before: bool) -> Result<(), String> {
        if given_before {
            return Err("Only a single -J option is permitted".to_owned());
        }
        let hops = parse_jump(spec).ok_or_else(|| "Invalid -J argument".to_owned())?;
        self.jump_hosts.get_or_insert(hops);
        Ok(())
    }

    /// `-e`: the escape character (ssh's message on a bad one).
    pub fn escape_flag(&mut self, text: &str) -> Result<(), String> {
        let c = parse_escape_char(text).ok_or_else(|| format!("Bad escape character '{text}'."))?;
        self.escape_char = Some(c);
        Ok(())
    }

    /// Applies a session keyword (`lower` is its lower-case form, `key` as given) with its
    /// value `words`. `None` if `lower` is not one of [`SESSION_KEYWORDS`].
    pub fn apply_keyword(
        &mut self,
        lower: &str,
        key: &str,
        words: &[String],
    ) -> Option<Result<(), OptionError>> {
        if !SESSION_KEYWORDS.contains(&lower) {
            return None;
        }
        Some(self.apply(lower, key, words))
    }

    fn apply(&mut self, lower: &str, key: &str, words: &[String]) -> Result<(), OptionError> {
        let all = words.join(" ");
        let bad =
            |what: &str| OptionError(format!("bad value \"{all}\" for option \"{key}\": {what}"));
        let kind = match lower {
            "localforward" => Some(ForwardKind::Local),
            "remoteforward" => Some(ForwardKind::Remote),
            "dynamicforward" => Some(ForwardKind::Dynamic),
            _ => None,
        };
        if let Some(kind) = kind {
            let f = parse_forward_keyword(words, kind).map_err(|e| bad(&e))?;
            self.forwards.push(f);
            return Ok(());
        }
        let value = match words {
            [one] => one.as_str(),
            [] => return Err(OptionError(format!("missing value for option \"{key}\""))),
            [_, extra, ..] => {
                return Err(OptionError(format!(
                    "option \"{key}\" takes one value; unexpected \"{extra}\""
                )));
            }
        };
        let v = value.to_ascii_lowercase();
        match lower {
            "proxyjump" => {
                let hops = parse_jump(value)
                    .ok_or_else(|| bad(&format!("Invalid ProxyJump \"{value}\"")))?;
                self.jump_hosts.get_or_insert(hops);
            }
            "exitonforwardfailure" => set_yes_no(&mut self.exit_on_forward_failure, &v)
                .ok_or_else(|| bad("expected yes or no"))?,
            "gatewayports" => {
                set_yes_no(&mut self.gateway_ports, &v).ok_or_else(|| bad("expected yes or no"))?
            }
            "stdinnull" => {
                set_yes_no(&mut self.stdin_null, &v).ok_or_else(|| bad("expected yes or no"))?
            }
            "forkafterauthentication" => set_yes_no(&mut self.fork_after_authentication, &v)
                .ok_or_else(|| bad("expected yes or no"))?,
            "streamlocalbindunlink" => set_yes_no(&mut self.stream_local_bind_unlink, &v)
                .ok_or_else(|| bad("expected yes or no"))?,
            "clearallforwardings" => set_yes_no(&mut self.clear_all_forwardings, &v)
                .ok_or_else(|| bad("expected yes or no"))?,
            "serveraliveinterval" => {
                let t = parse_time(value).ok_or_else(|| bad("invalid time value"))?;
                self.server_alive_interval.get_or_insert(t);
            }
            "serveralivecountmax" => {
                let n = value
                    .parse::<u32>()
                    .ok()
                    .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| bad("integer value invalid"))?;
                self.server_alive_count_max.get_or_insert(n);
            }
            "loglevel" => {
                let l = LogLevel::parse(value).ok_or_else(|| {
                    bad("unsupported log level (QUIET, FATAL, ERROR, INFO, VERBOSE, DEBUG, DEBUG1, DEBUG2 or DEBUG3)")
                })?;
                self.log_level.get_or_insert(l);
            }
            "requesttty" => {
                let t = match v.as_str() {
                    "no" | "false" => RequestTty::No,
                    "yes" | "true" => RequestTty::Yes,
                    "force" => RequestTty::Force,
                    "auto" => RequestTty::Auto,
                    _ => return Err(bad("expected no, yes, force or auto")),
                };
                self.request_tty.get_or_insert(t);
            }
            "sessiontype" => {
                let t = match v.as_str() {
                    "none" => SessionType::None,
                    "subsystem" => SessionType::Subsystem,
                    "default" => SessionType::Default,
                    _ => return Err(bad("expected none, subsystem or default")),
                };
                self.session_type.get_or_insert(t);
            }
            _ => {
                // "escapechar"
                let c = parse_escape_char(value).ok_or_else(|| bad("Bad escape character"))?;
                self.escape_char.get_or_insert(c);
            }
        }
        Ok(())
    }
}

/// Sets `slot` from a lower-case yes/no value if not set yet; `None` if the value is bad.
fn set_yes_no(slot: &mut Option<bool>, v: &str) -> Option<()> {
    let b = match v {
        "yes" | "true" => true,
        "no" | "false" => false,
        _ => return None,
    };
    slot.get_or_insert(b);
    Some(())
}

#[cfg(test)]
#[path = "session_options_tests.rs"]
mod tests;
