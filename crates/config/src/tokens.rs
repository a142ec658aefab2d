//! `%` tokens and `${NAME}` environment variables, as OpenSSH's `percent_expand` and
//! `dollar_expand`, and `~` at the start of a path.

use crate::env::ConfigEnv;

/// The longest result of an expansion, in bytes.
pub const MAX_EXPANSION: usize = 64 * 1024;

/// Why an expansion failed; the message is OpenSSH's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(pub String);

/// Expands `%x` tokens from `tokens` (`%%` is `%`) and, with `env`, `${NAME}` variables.
/// An unknown token or an unset variable is an error, as in OpenSSH.
pub fn expand(
    s: &str,
    tokens: &[(char, &str)],
    env: Option<&dyn ConfigEnv>,
) -> Result<String, TokenError> {
    expand_inner(s, Some(tokens), env)
}

/// Expands only `${NAME}` variables (`%` is left alone), as OpenSSH's `dollar_expand`.
pub fn dollar(s: &str, env: &dyn ConfigEnv) -> Result<String, TokenError> {
    expand_inner(s, None, Some(env))
}

fn expand_inner(
    s: &str,
    tokens: Option<&[(char, &str)]>,
    env: Option<&dyn ConfigEnv>,
) -> Result<String, TokenError> {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if env.is_some() && chars.peek() == Some(&'{') => {
                chars.next();
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => {
                            return Err(TokenError("dollar_expand: unterminated variable".into()));
                        }
                    }
                }
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit());
                if !valid {
                    return Err(TokenError(format!(
                        "dollar_expand: invalid environment variable name \"{name}\""
                    )));
                }
                let value = env
                    .and_then(|e| e.env_var(&name))
                    .ok_or_else(|| TokenError(format!("env var ${{{name}}} has no value")))?;
                out.push_str(&value);
            }
            '%' if tokens.is_some() => match chars.next() {
                Some('%') => out.push('%'),
                Some(k) => {
                    let v = tokens
                        .unwrap_or_default()
                        .iter()
                        .find(|(t, _)| *t == k)
                        .ok_or_else(|| TokenError(format!("percent_expand: unknown key %{k}")))?;
                    out.push_str(v.1);
                }
                None => return Err(TokenError("percent_expand: invalid format".into())),
            },
            c => out.push(c),
        }
        if out.len() > MAX_EXPANSION {
            return Err(TokenError("percent_expand: string too long".into()));
        }
    }
    Ok(out)
}

/// Replaces a leading `~` or `~/` with `home` (OpenSSH's `tilde_expand_filename` for the
/// current user; `~user` is left as it is).
pub fn tilde(s: &str, home: &str) -> String {
    if s == "~" {
        return home.to_owned();
    }
    match s.strip_prefix("~/") {
        Some(rest) => format!("{}/{rest}", home.trim_end_matches('/')),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MemoryEnv;

    #[test]
    fn percent_tokens() {
        let t = [('h', "host"), ('p', "22")];
        assert_eq!(expand("%h:%p %%", &t, None).unwrap(), "host:22 %");
        assert_eq!(
            expand("%x", &t, None).unwrap_err().0,
            "percent_expand: unknown key %x"
        );
        assert!(expand("50%", &t, None).is_err());
        // Without an environment, `${` is literal.
        assert_eq!(expand("${A}", &t, None).unwrap(), "${A}");
    }

    #[test]
    fn environment_variables() {
        let mut env = MemoryEnv::default();
        env.vars.insert("A".into(), "va".into());
        let e: &dyn ConfigEnv = &env;
        assert_eq!(expand("x${A}y", &[], Some(e)).unwrap(), "xvay");
        assert_eq!(expand("$A", &[], Some(e)).unwrap(), "$A");
        assert_eq!(
            expand("${B}", &[], Some(e)).unwrap_err().0,
            "env var ${B} has no value"
        );
        assert!(expand("${A", &[], Some(e)).is_err());
    }

    #[test]
    fn expansion_is_bounded() {
        let big = "x".repeat(40_000);
        let t = [('h', big.as_str())];
        assert!(expand("%h%h", &t, None).is_err());
    }

    #[test]
    fn tildes() {
        assert_eq!(tilde("~/.ssh/id", "/home/me"), "/home/me/.ssh/id");
        assert_eq!(tilde("~", "/home/me"), "/home/me");
        assert_eq!(tilde("/abs", "/home/me"), "/abs");
        assert_eq!(tilde("~bob/x", "/home/me"), "~bob/x");
    }
}
