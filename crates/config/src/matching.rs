//! `Match` criteria: `all`, `canonical`, `final`, `exec`, `host`, `originalhost`, `user`,
//! `localuser`, `localnetwork`, `version`, `tagged`, `command`, `sessiontype`, each
//! negatable with `!`, as `criterion value` or `criterion=value`.

use crate::pattern::{
    ListMatch, cidr_contains, match_hostname, match_pattern_list, parse_cidr_list,
};
use crate::values::SessionType;

/// What the criteria are checked against.
pub(crate) struct MatchInput<'a> {
    /// The host for `host` (HostName with `%h` expanded, or the canonical name in the final
    /// pass).
    pub host: &'a str,
    /// The host as given (`originalhost`).
    pub original_host: &'a str,
    /// The remote user so far (or the local user).
    pub remote_user: &'a str,
    /// The local user.
    pub local_user: &'a str,
    /// Whether this is the final (or canonical) pass.
    pub final_pass: bool,
    /// Our version string (`version`).
    pub version: &'a str,
    /// `Tag` so far.
    pub tag: Option<&'a str>,
    /// The remote command (`command`, `sessiontype`).
    pub remote_command: Option<&'a str>,
    /// `SessionType` so far.
    pub session_type: Option<SessionType>,
    /// The local interface addresses.
    pub local_addresses: &'a [std::net::IpAddr],
}

/// The outcome of a `Match` line.
pub(crate) struct MatchResult {
    /// Whether the block applies.
    pub matched: bool,
    /// Whether `final` was named (a final pass is wanted).
    pub wants_final: bool,
}

/// Evaluates `words` (the arguments of `Match`). `exec` runs a command (after `%` tokens are
/// expanded by `expand_exec`) only while every earlier criterion matched. Errors are
/// OpenSSH's messages.
pub(crate) fn evaluate(
    words: &[String],
    input: &MatchInput<'_>,
    expand_exec: &mut dyn FnMut(&str) -> Result<String, String>,
    run: &mut dyn FnMut(&str) -> Option<i32>,
) -> Result<MatchResult, String> {
    let mut result = true;
    let mut attributes = 0usize;
    let mut wants_final = false;
    let mut i = 0;
    while let Some(word) = words.get(i) {
        i += 1;
        if word.starts_with('#') {
            break;
        }
        let (negate, attrib) = match word.strip_prefix('!') {
            Some(a) => (true, a),
            None => (false, word.as_str()),
        };
        if attrib.eq_ignore_ascii_case("all") {
            let next = words
                .get(i)
                .filter(|w| !w.is_empty() && !w.starts_with('#'));
            if attributes > 1 || next.is_some() {
                return Err(format!(
                    "'{word}' cannot be combined with other Match attributes"
                ));
            }
            if result {
                result = !negate;
            }
            return Ok(MatchResult {
                matched: result,
                wants_final,
            });
        }
        attributes += 1;
        let lower = attrib.to_ascii_lowercase();
        if lower == "canonical" || lower == "final" {
            wants_final |= lower == "final";
            if input.final_pass == negate {
                result = false;
            }
            continue;
        }
        let (name, arg) = match lower.split_once('=') {
            Some((n, _)) => {
                let v = attrib.split_once('=').map(|(_, v)| v).unwrap_or_default();
                (n.to_owned(), v.to_owned())
            }
            None => {
                let v = words
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("missing argument for Match '{word}'"))?;
                i += 1;
                (lower.clone(), v)
            }
        };
        let empty_ok = name == "tagged" || name == "command";
        if (arg.is_empty() && !empty_ok) || arg.starts_with('#') {
            return Err(format!("Missing Match criteria for {attrib}"));
        }
        let list = |s: &str| match_pattern_list(s, &arg, false) == ListMatch::Yes;
        let hit = match name.as_str() {
            "host" => match_hostname(input.host, &arg),
            "originalhost" => match_hostname(input.original_host, &arg),
            "user" => list(input.remote_user),
            "localuser" => list(input.local_user),
            "version" => list(input.version),
            "localnetwork" => {
                let nets = parse_cidr_list(&arg)
                    .ok_or_else(|| format!("Invalid network list \"{arg}\""))?;
                input
                    .local_addresses
                    .iter()
                    .any(|a| nets.iter().any(|n| cidr_contains(n, a)))
            }
            "tagged" | "command" => {
                let criteria = if name == "tagged" {
                    input.tag
                } else {
                    input.remote_command
                };
                match criteria.unwrap_or_default() {
                    "" => arg.is_empty(),
                    c => list(c),
                }
            }
            "sessiontype" => {
                let kind = match (input.session_type, input.remote_command) {
                    (Some(SessionType::Subsystem), _) => "subsystem",
                    (Some(SessionType::None), _) => "none",
                    (_, Some(c)) if !c.is_empty() => "exec",
                    _ => "shell",
                };
                list(kind)
            }
            "exec" => {
                let cmd = expand_exec(&arg)?;
                if !result {
                    continue;
                }
                let status = run(&cmd).ok_or_else(|| format!("match exec '{cmd}' error"))?;
                status == 0
            }
            _ => return Err(format!("Unsupported Match attribute {attrib}")),
        };
        if hit == negate {
            result = false;
        }
    }
    if attributes == 0 {
        return Err("One or more attributes required for Match".into());
    }
    Ok(MatchResult {
        matched: result,
        wants_final,
    })
}
