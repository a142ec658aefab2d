//! OpenSSH `known_hosts` files: looking up a server's host key and recording new ones.
//!
//! Each line is `[marker] hosts key-type base64 [comment]`, where `hosts` is either a
//! comma-separated list of patterns (`*` and `?` wildcards, `!` negation) or one hashed entry
//! `|1|base64(salt)|base64(HMAC-SHA1(salt, host))`. Names are compared case-insensitively
//! against [`host_pattern`]`(host, port)`: `host` on port 22, `[host]:port` otherwise.
//!
//! `@cert-authority` lines name certificate authorities trusted to sign host certificates
//! for the hosts they match; `@revoked` lines refuse a key (and certificates of it or signed
//! by it). Several files (`UserKnownHostsFile` list, `GlobalKnownHostsFile`) are checked as
//! one set, as `ssh` does: [`KnownHosts::load_files`].

use seashell_proto::config::wildcard_match;
use std::io;
use std::path::Path;

use base64ct::{Base64, Encoding};
use ring::hmac;
use seashell_proto::keys::{CertError, CertType, PublicKey};

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
    /// A `@revoked` line for this host lists this key (or, for a certificate, its key or its
    /// CA). Takes precedence over everything else.
    Revoked,
    /// The key is a host certificate signed by a CA a `@cert-authority` line trusts for this
    /// host, but it is not valid for it (expired, wrong principal, bad signature, ...).
    CertificateInvalid(CertError),
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
pub(crate) enum Marker {
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
pub(crate) struct Entry {
    pub(crate) line: usize,
    pub(crate) marker: Marker,
    hosts: Hosts,
    pub(crate) key: PublicKey,
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

    /// Reads several files as one set (user files first, then the global ones), as `ssh`
    /// checks them: a `@revoked` line in any file refuses the key, a line listing the key in
    /// any file trusts it. Missing files are empty.
    ///
    /// # Errors
    /// Any I/O error other than "not found".
    pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> io::Result<KnownHosts> {
        let mut all = KnownHosts::default();
        for p in paths {
            let one = KnownHosts::load(p.as_ref())?;
            all.entries.extend(one.entries);
            all.skipped.extend(one.skipped);
        }
        Ok(all)
    }

    /// Looks up `key` for `host` on `port`, checking host certificates against the current
    /// system time. See [`check_at`](Self::check_at).
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.check_at(host, port, key, now)
    }

    /// Looks up `key` for `host` on `port` at `now_unix` (seconds since the Unix epoch).
    ///
    /// `@revoked` entries come first. A host certificate signed by a CA of a matching
    /// `@cert-authority` line is then checked for its type, signature, validity at
    /// `now_unix` and principal (`host`; no principals means any host): the outcome is
    /// [`HostKeyStatus::Trusted`] or [`HostKeyStatus::CertificateInvalid`]. A certificate
    /// no trusted CA signed is looked up as its plain key, as `ssh` does. See
    /// [`HostKeyStatus`] for the outcomes.
    pub fn check_at(&self, host: &str, port: u16, key: &PublicKey, now_unix: u64) -> HostKeyStatus {
        let host = host.to_ascii_lowercase();
        let target = host_pattern(&host, port);
        let matching = || self.entries.iter().filter(|e| e.matches(&target));
        let cert = key.certificate();
        let plain = key.plain();
        let revoked = matching().any(|e| {
            e.marker == Marker::Revoked
                && (e.key == *plain || cert.is_some_and(|c| e.key == *c.signature_key()))
        });
        if revoked {
            return HostKeyStatus::Revoked;
        }
        if let Some(c) = cert {
            let ca_trusted = matching()
                .any(|e| e.marker == Marker::CertAuthority && e.key == *c.signature_key());
            if ca_trusted {
                return match c.check(CertType::Host, Some(&host), now_unix) {
                    Ok(()) => HostKeyStatus::Trusted,
                    Err(e) => HostKeyStatus::CertificateInvalid(e),
                };
            }
        }
        let mut trusted = false;
        let mut known = Vec::new();
        for entry in matching() {
            match entry.marker {
                Marker::Revoked | Marker::CertAuthority => {}
                Marker::None if entry.key == *plain => trusted = true,
                Marker::None if entry.key.key_type() == plain.key_type() => {
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

    /// Whether a `@cert-authority` line matches `host` on `port` (then `ssh` prefers
    /// certificate host-key algorithms).
    pub fn has_cert_authority(&self, host: &str, port: u16) -> bool {
        let target = host_pattern(&host.to_ascii_lowercase(), port);
        self.entries
            .iter()
            .any(|e| e.marker == Marker::CertAuthority && e.matches(&target))
    }

    /// The plain (unmarked) keys recorded for `host` on `port`, in file order.
    pub fn host_keys(&self, host: &str, port: u16) -> Vec<PublicKey> {
        let target = host_pattern(&host.to_ascii_lowercase(), port);
        self.entries
            .iter()
            .filter(|e| e.marker == Marker::None && e.matches(&target))
            .map(|e| e.key.clone())
            .collect()
    }

    /// The host-key algorithms to offer to `host` on `port`, from `configured`, in the order
    /// `ssh` uses when `HostKeyAlgorithms` is not set: with a matching `@cert-authority`
    /// line, the certificate algorithms of the configured plain ones first; then the
    /// algorithms of keys already recorded for the host; then the rest in configured order.
    pub fn order_host_key_algorithms(
        &self,
        host: &str,
        port: u16,
        configured: &[String],
    ) -> Vec<String> {
        let known: Vec<&'static str> = self
            .host_keys(host, port)
            .iter()
            .flat_map(|k| k.signature_algorithms().iter().copied())
            .collect();
        let mut first = Vec::new();
        if self.has_cert_authority(host, port) {
            for a in configured.iter().filter(|a| *a != "ssh-rsa") {
                let name = format!("{a}{}", seashell_proto::keys::cert::CERT_SUFFIX);
                if seashell_proto::keys::cert::CERT_ALGORITHMS.contains(&name.as_str())
                    && !configured.contains(&name)
                {
                    first.push(name);
                }
            }
        }
        let mut rest = Vec::new();
        for a in configured {
            let is_cert = a.ends_with(seashell_proto::keys::cert::CERT_SUFFIX);
            if (is_cert && self.has_cert_authority(host, port)) || known.contains(&a.as_str()) {
                first.push(a.clone());
            } else {
                rest.push(a.clone());
            }
        }
        first.extend(rest);
        first
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
    pub(crate) fn matches(&self, target: &str) -> bool {
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
pub(crate) fn parse_line(line: &str, number: usize) -> Option<Entry> {
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
