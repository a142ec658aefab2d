//! OpenSSH's configuration lexer: a line is a keyword, then its arguments. The keyword ends at
//! whitespace or at one `=` (with whitespace around it); arguments are split at whitespace,
//! with `"` and `'` quoting and `\` escaping quotes, backslashes and (unquoted) spaces, and a
//! word starting with `#` ends the line.

/// Why a line could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexError {
    /// A quote was not closed.
    InvalidQuotes,
}

/// A line split into its keyword (lower case) and the text after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// The keyword, lower case.
    pub keyword: String,
    /// The keyword as written.
    pub keyword_as_written: &'a str,
    /// Everything after the keyword and its separator (may be empty).
    pub rest: &'a str,
}

/// Characters OpenSSH treats as whitespace in configuration lines.
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Splits `line` into keyword and remainder, as OpenSSH's `strdelim` does for the first word.
/// `None` for a blank line or a comment.
pub fn split_keyword(line: &str) -> Option<Line<'_>> {
    // Trailing whitespace (and form feeds) go first.
    let line = line.trim_end_matches(|c: char| is_ws(c) || c == '\x0c');
    let line = line.trim_start_matches(is_ws);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| is_ws(c) || c == '=' || c == '"')
        .unwrap_or(line.len());
    let (keyword, after) = line.split_at(end);
    let mut rest = after;
    if let Some(r) = rest.strip_prefix('"') {
        // A quote right after the keyword: OpenSSH reads no keyword from such a line unless
        // the quote closes; keep it simple and treat the quote as part of the arguments.
        rest = r;
    }
    let mut rest = rest.trim_start_matches(is_ws);
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start_matches(is_ws);
    } else if let Some(r) = after.strip_prefix('=') {
        rest = r.trim_start_matches(is_ws);
    }
    if keyword.is_empty() {
        return None;
    }
    Some(Line {
        keyword: keyword.to_ascii_lowercase(),
        keyword_as_written: keyword,
        rest,
    })
}

/// Splits arguments as OpenSSH's `argv_split` with comments ending the line.
pub fn split_args(s: &str) -> Result<Vec<String>, LexError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        match chars.peek() {
            None => break,
            Some('#') => break,
            Some(_) => {}
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        let mut ended = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek().copied() {
                    Some(n @ ('\'' | '"' | '\\')) => {
                        chars.next();
                        arg.push(n);
                    }
                    Some(' ') if quote.is_none() => {
                        chars.next();
                        arg.push(' ');
                    }
                    _ => arg.push('\\'),
                },
                ' ' | '\t' if quote.is_none() => {
                    ended = true;
                    break;
                }
                '"' | '\'' if quote.is_none() => quote = Some(c),
                c if Some(c) == quote => quote = None,
                c => arg.push(c),
            }
        }
        if !ended && quote.is_some() {
            return Err(LexError::InvalidQuotes);
        }
        out.push(arg);
        if !ended {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(line: &str) -> Option<(String, String)> {
        split_keyword(line).map(|l| (l.keyword, l.rest.to_owned()))
    }

    #[test]
    fn keyword_separators() {
        for form in [
            "Port 22",
            "port=22",
            "PORT = 22",
            "  Port\t22  ",
            "Port= 22",
            "Port =22\r\n",
        ] {
            assert_eq!(kw(form), Some(("port".into(), "22".into())), "{form:?}");
        }
        assert_eq!(kw("# comment"), None);
        assert_eq!(kw("   "), None);
        assert_eq!(kw("Port"), Some(("port".into(), String::new())));
        assert_eq!(
            kw("ProxyCommand = nc %h %p"),
            Some(("proxycommand".into(), "nc %h %p".into()))
        );
    }

    #[test]
    fn arguments_quotes_escapes_comments() {
        let a = |s: &str| split_args(s).unwrap();
        assert_eq!(a("a b\tc"), ["a", "b", "c"]);
        assert_eq!(a("\"a b\" 'c d' e"), ["a b", "c d", "e"]);
        assert_eq!(a("a\\ b c"), ["a b", "c"]);
        assert_eq!(a("x\"y z\"w"), ["xy zw"]);
        assert_eq!(a("a #comment here"), ["a"]);
        assert_eq!(a("a#b"), ["a#b"]);
        assert_eq!(a("\"\""), [""]);
        assert_eq!(a("\\q \\\\ \\\""), ["\\q", "\\", "\""]);
        assert_eq!(a(""), Vec::<String>::new());
        assert_eq!(split_args("\"open"), Err(LexError::InvalidQuotes));
        assert_eq!(split_args("'open x"), Err(LexError::InvalidQuotes));
    }
}
