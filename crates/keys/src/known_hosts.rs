//! OpenSSH `known_hosts` files: looking up a server's host key and recording new ones.
//!
//! Each line is `[marker] hosts key-type base64 [comment]`, where `hosts` is either a
//! comma-separated list of patterns (`*` and `?` wildcards, `!` negation) or one hashed entry
//! `|1|base64(salt)|base64(HMAC-SHA1(salt, host))`. Names are compared case-insensitively
//! against [`host_pattern`]`(host, port)`: `host` on port 22, `[host]:port` otherwise.

use seashell_proto::config::wildcard_match;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use base64ct::{Base64, Encoding};
use ring::hmac;
use seashell_proto::keys::PublicKey;

use crate::openssh::{decode_public_key, split_token};

/// The length of a SHA-1 HMAC, the hash in a hashed host entry.
const SHA1_LEN: usize = 20;
/// The longest salt accepted in a hashed host entry (OpenSSH writes 20 bytes).
const MAX_SALT_LEN: usize = 64;

/// What a known_hosts file says about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// A line for this host lists exactly this key.
    Trusted,
    /// A `@revoked` line for this host lists this key. Takes precedence over everything else.
    Revoked,
    /// Lines for this host list other keys of the same type, and none lists this key: the key
    /// may have changed (or someone is in the middle).
    Mismatch {
        /// The known keys of the same type, each with its (1-based) line number.
        known: Vec<(PublicKey, usize)>,
    },
    /// No line for this host lists a key of this type.
    Unknown,
}

/// The marker at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

/// The host field of a line.
#[derive(Debug, Clone)]
enum Hosts {
    /// Patterns, lowercased; a leading `!` negates.
    Patterns(Vec<String>),
    /// `|1|salt|hash`.
    Hashed { salt: Vec<u8>, hash: [u8; SHA1_LEN] },
}

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    marker: Marker,
    hosts: Hosts,
    key: PublicKey,
}

/// A parsed known_hosts file.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
    skipped: Vec<usize>,
}

impl KnownHosts {
    /// Parses known_hosts text. Blank lines and comments are ignored; lines that are malformed
    /// or hold an unsupported key type are skipped (see [`skipped_lines`](Self::skipped_lines)).
    pub fn parse(text: &str) -> KnownHosts {
        let mut hosts = KnownHosts::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index.saturating_add(1);
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match parse_line(trimmed, line) {
                Some(entry) => hosts.entries.push(entry),
                None => hosts.skipped.push(line),
            }
        }
        hosts
    }

    /// Reads and parses a known_hosts file. A missing file is an empty list; bytes that are
    /// not UTF-8 are replaced (such lines then fail to parse and are skipped).
    ///
    /// # Errors
    /// Any I/O error other than "not found".
    pub fn load(path: &Path) -> io::Result<KnownHosts> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(KnownHosts::parse(&String::from_utf8_lossy(&bytes))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(KnownHosts::default()),
            Err(e) => Err(e),
        }
    }

    /// Looks up `key` for `host` on `port`.
    ///
    /// `@cert-authority` lines are ignored for now. See [`HostKeyStatus`] for the outcomes.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
        let target = host_pattern(&host.to_ascii_lowercase(), port);
        let mut trusted = false;
        let mut known = Vec::new();
        for entry in self.entries.iter().filter(|e| e.matches(&target)) {
            match entry.marker {
                Marker::Revoked if entry.key == *key => return HostKeyStatus::Revoked,
                Marker::Revoked | Marker::CertAuthority => {}
                Marker::None if entry.key == *key => trusted = true,
                Marker::None if entry.key.key_type() == key.key_type() => {
                    known.push((entry.key.clone(), entry.line));
                }
                Marker::None => {}
            }
        }
        if trusted {
            HostKeyStatus::Trusted
        } else if !known.is_empty() {
            HostKeyStatus::Mismatch { known }
        } else {
            HostKeyStatus::Unknown
        }
    }

    /// The number of usable lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no usable lines.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The (1-based) numbers of the lines that were skipped as malformed or unsupported.
    pub fn skipped_lines(&self) -> &[usize] {
        &self.skipped
    }
}

impl Entry {
    /// Whether the entry's host field matches `target` (already lowercased).
    fn matches(&self, target: &str) -> bool {
        match &self.hosts {
            Hosts::Patterns(patterns) => match_pattern_list(patterns, target),
            Hosts::Hashed { salt, hash } => {
                let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, salt);
                hmac::verify(&key, target.as_bytes(), hash).is_ok()
            }
        }
    }
}

/// Parses one non-blank, non-comment line.
fn parse_line(line: &str, number: usize) -> Option<Entry> {
    let (first, mut rest) = split_token(line)?;
    let (marker, hosts_field) = match first {
        "@revoked" => {
            let (hosts, r) = split_token(rest)?;
            rest = r;
            (Marker::Revoked, hosts)
        }
        "@cert-authority" => {
            let (hosts, r) = split_token(rest)?;
            rest = r;
            (Marker::CertAuthority, hosts)
        }
        m if m.starts_with('@') => return None,
        hosts => (Marker::None, hosts),
    };
    let (key_type, rest) = split_token(rest)?;
    let (b64, _comment) = split_token(rest)?;
    let key = decode_public_key(key_type, b64).ok()?;
    Some(Entry {
        line: number,
        marker,
        hosts: parse_hosts(hosts_field)?,
        key,
    })
}

/// Parses the host field: a hashed entry or a pattern list.
fn parse_hosts(field: &str) -> Option<Hosts> {
    if let Some(hashed) = field.strip_prefix("|1|") {
        let (salt, hash) = hashed.split_once('|')?;
        let salt = Base64::decode_vec(salt).ok()?;
        let hash = Base64::decode_vec(hash).ok()?;
        if salt.is_empty() || salt.len() > MAX_SALT_LEN {
            return None;
        }
        return Some(Hosts::Hashed {
            salt,
            hash: hash.try_into().ok()?,
        });
    }
    if field.starts_with('|') {
        return None;
    }
    let patterns: Vec<String> = field.split(',').map(str::to_ascii_lowercase).collect();
    if patterns.iter().any(|p| p.is_empty() || p == "!") {
        return None;
    }
    Some(Hosts::Patterns(patterns))
}

/// OpenSSH's pattern-list rule: the list matches if some positive pattern matches and no
/// negated (`!`) pattern does.
fn match_pattern_list(patterns: &[String], target: &str) -> bool {
    let mut positive = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) if wildcard_match(negated, target) => {
                return false;
            }
            Some(_) => {}
            None if wildcard_match(pattern, target) => positive = true,
            None => {}
        }
    }
    positive
}

/// The name a host is recorded and looked up under: `host` for port 22, `[host]:port`
/// otherwise.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Appends `pattern key-type base64` for `host`/`port` to the known_hosts file at `path`,
/// creating its parent directory (mode 0700) and the file (mode 0600) if missing.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] if `host` is empty or holds whitespace, control
/// characters, commas, wildcards or a leading `!`, `|`, `@` or `#` (it would corrupt the
/// file or turn into a pattern); otherwise any I/O error.
pub fn append_known_host(path: &Path, host: &str, port: u16, key: &PublicKey) -> io::Result<()> {
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || matches!(c, ',' | '*' | '?');
    if host.is_empty() || host.chars().any(bad_char) || host.starts_with(['!', '|', '@', '#']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "host name not usable in known_hosts",
        ));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Creating an existing directory is a no-op here; its mode is left alone.
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    let needs_newline = !ends_with_newline_or_empty(path)?;
    let mut line = String::new();
    if needs_newline {
        line.push('\n');
    }
    line.push_str(&host_pattern(host, port));
    line.push(' ');
    line.push_str(&crate::openssh::format_public_key_line(key, ""));
    line.push('\n');
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.flush()
}

/// Whether the file is missing, empty, or ends with a newline.
fn ends_with_newline_or_empty(path: &Path) -> io::Result<bool> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(e),
    };
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last == [b'\n'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let m = |p: &str, t: &str| wildcard_match(p, t);
        assert!(m("*", ""));
        assert!(m("*", "abc"));
        assert!(m("a*c", "abbbc"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*.example.com", "www.example.com"));
        assert!(!m("*.example.com", "example.com"));
        assert!(m("[*]:2222", "[host]:2222"));
        assert!(!m("abc", "abcd"));
        assert!(m("a*b*c*", "aXbYcZ"));
        assert!(!m("a*b*c", "aXbYcZ"));
        assert!(m("**?", "x"));
    }

    #[test]
    fn pattern_lists() {
        let list = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        assert!(match_pattern_list(
            &list("*.a.com,!bad.a.com"),
            "good.a.com"
        ));
        assert!(!match_pattern_list(
            &list("*.a.com,!bad.a.com"),
            "bad.a.com"
        ));
        assert!(!match_pattern_list(&list("!bad.a.com"), "good.a.com"));
        assert!(!match_pattern_list(&list("x,y"), "z"));
    }

    #[test]
    fn host_patterns() {
        assert_eq!(host_pattern("example.com", 22), "example.com");
        assert_eq!(host_pattern("example.com", 2222), "[example.com]:2222");
        assert_eq!(host_pattern("::1", 2222), "[::1]:2222");
    }
}
