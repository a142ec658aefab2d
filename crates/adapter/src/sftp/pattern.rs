//! Glob patterns on path components, as glob(3) (and so OpenSSH's `sftp`) matches them:
//! `*` (any run), `?` (one byte), `[abc]`, `[a-z]`, `[!x]` (a set), `\x` (a literal); a
//! leading `.` is matched only by a literal `.`. Matching is on bytes and never recurses
//! more than the pattern is long (no exponential backtracking).

/// Whether a component has a wildcard (`*`, `?` or `[`) not escaped by `\`.
pub fn has_wildcard(component: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&c) = component.get(i) {
        match c {
            b'\\' => i += 2,
            b'*' | b'?' | b'[' => return true,
            _ => i += 1,
        }
    }
    false
}

/// The component with its `\` escapes removed (for components without wildcards).
pub fn unescape(component: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(component.len());
    let mut it = component.iter();
    while let Some(&c) = it.next() {
        if c == b'\\' {
            if let Some(&n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `name` (one path component) matches `pattern`.
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    // Iterative matching with one backtrack point (the last `*`): linear in practice.
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(&pc) = pattern.get(p) {
            match pc {
                b'*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                b'?' if n < name.len() => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some(&c) = name.get(n)
                        && let Some((ok, len)) = class(pattern.get(p..).unwrap_or_default(), c)
                    {
                        if ok {
                            p += len;
                            n += 1;
                            continue;
                        }
                    } else if name.get(n).is_some() && pattern.get(p) == name.get(n) {
                        // An unclosed `[` is a literal.
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                b'\\' => {
                    let lit = pattern.get(p + 1).copied().unwrap_or(b'\\');
                    if name.get(n) == Some(&lit) {
                        p += if pattern.get(p + 1).is_some() { 2 } else { 1 };
                        n += 1;
                        continue;
                    }
                }
                c if name.get(n) == Some(&c) => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        } else if n == name.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more byte.
        match star {
            Some((sp, sn)) if sn < name.len() => {
                star = Some((sp, sn + 1));
                p = sp + 1;
                n = sn + 1;
            }
            _ => return false,
        }
    }
}

/// Matches `c` against the class at the start of `pat` (`[...]`): whether it matched and
/// the class's length, or `None` when the class is not closed.
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pat.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let mut lo = *pat.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if lo == b'\\' {
            i += 1;
            lo = *pat.get(i)?;
        }
        i += 1;
        let mut hi = lo;
        if pat.get(i) == Some(&b'-') && pat.get(i + 1).is_some_and(|&h| h != b']') {
            hi = *pat.get(i + 1)?;
            if hi == b'\\' {
                i += 1;
                hi = *pat.get(i + 1)?;
            }
            i += 2;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_questions() {
        assert!(matches(b"*.txt", b"a.txt"));
        assert!(matches(b"*", b"abc"));
        assert!(!matches(b"*", b".hidden"));
        assert!(matches(b".*", b".hidden"));
        assert!(matches(b"a?c", b"abc"));
        assert!(!matches(b"a?c", b"ac"));
        assert!(matches(b"a*b*c", b"aXXbYYc"));
        assert!(!matches(b"a*b*c", b"aXXbYY"));
        assert!(matches(b"**", b""));
        assert!(!matches(b"", b"x"));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(matches(b"f[0-9]", b"f7"));
        assert!(!matches(b"f[0-9]", b"fx"));
        assert!(matches(b"f[!0-9]", b"fx"));
        assert!(matches(b"f[]]", b"f]"));
        assert!(matches(b"f[", b"f["));
        assert!(matches(b"a\\*", b"a*"));
        assert!(!matches(b"a\\*", b"ab"));
        assert!(has_wildcard(b"a[b]"));
        assert!(!has_wildcard(b"a\\*"));
        assert_eq!(unescape(b"a\\*b"), b"a*b");
    }

    #[test]
    fn no_blowup() {
        let name = vec![b'a'; 4000];
        let pat = b"*a*a*a*a*a*a*a*a*b";
        assert!(!matches(pat, &name));
    }
}
