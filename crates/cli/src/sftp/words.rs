//! Splitting an `sftp` command line into words as OpenSSH's `sftp` does: blanks separate,
//! `'...'` and `"..."` quote, a backslash escapes the next character. A word remembers
//! whether it has glob characters (`*`, `?`, `[`) outside quotes, which makes it a pattern.

/// One word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text, quotes and escapes removed.
    pub text: String,
    /// Whether an unquoted, unescaped `*`, `?` or `[` appears: the word is a glob pattern.
    pub pattern: bool,
}

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// A quote was not closed.
    UnterminatedQuote,
    /// The line ends with a lone backslash.
    TrailingBackslash,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SplitError::UnterminatedQuote => "Unterminated quoted argument",
            SplitError::TrailingBackslash => "Unterminated escape",
        })
    }
}

/// Splits `line` into words.
pub fn split(line: &str) -> Result<Vec<Word>, SplitError> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = Word {
            text: String::new(),
            pattern: false,
        };
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => break,
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (Some('\''), c) => word.text.push(c),
                (_, '\\') => match chars.next() {
                    Some(next) => word.text.push(next),
                    None => return Err(SplitError::TrailingBackslash),
                },
                (None, '*' | '?' | '[') => {
                    word.pattern = true;
                    word.text.push(c);
                }
                (_, c) => word.text.push(c),
            }
        }
        if quote.is_some() {
            return Err(SplitError::UnterminatedQuote);
        }
        words.push(word);
    }
}

/// Escapes glob characters and backslashes so that `text` matches only itself.
pub fn escape_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn blanks_quotes_and_escapes() {
        assert_eq!(texts("  get  a   b "), ["get", "a", "b"]);
        assert_eq!(
            texts("put 'a b' \"c d\" e\\ f"),
            ["put", "a b", "c d", "e f"]
        );
        assert_eq!(texts("x 'it''s' \"a\\\"b\""), ["x", "its", "a\"b"]);
        assert_eq!(texts(""), Vec::<String>::new());
        assert_eq!(split("get 'a"), Err(SplitError::UnterminatedQuote));
        assert_eq!(split("get a\\"), Err(SplitError::TrailingBackslash));
    }

    #[test]
    fn patterns_are_unquoted_glob_characters() {
        let w = split("ls *.txt '*.txt' \\*.txt a?b [ab]").unwrap();
        let p: Vec<bool> = w.iter().map(|w| w.pattern).collect();
        assert_eq!(p, [false, true, false, false, true, true]);
        assert_eq!(escape_pattern("a*b[c]\\"), "a\\*b\\[c\\]\\\\");
    }
}
