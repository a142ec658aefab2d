//! Changing known_hosts files: appending accepted keys (plain or hashed, as `HashKnownHosts`
//! does), and the text operations behind `ssh-keygen -F` (find), `-R` (remove) and `-H`
//! (hash).

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use base64ct::{Base64, Encoding};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use seashell_proto::keys::PublicKey;

use crate::known_hosts::{Marker, host_pattern, parse_line};
use crate::openssh::split_token;

/// The salt length OpenSSH uses for hashed host names (the SHA-1 length).
const SALT_LEN: usize = 20;

/// The hashed form of a host name as `ssh-keygen -H` writes it:
/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. `name` is the lowercased
/// [`host_pattern`].
pub fn hash_host_name(name: &str, salt: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, salt);
    let tag = hmac::sign(&key, name.as_bytes());
    format!(
        "|1|{}|{}",
        Base64::encode_string(salt),
        Base64::encode_string(tag.as_ref())
    )
}

/// [`hash_host_name`] with a fresh random salt.
///
/// # Errors
/// An error if the system's random number generator fails.
pub fn hash_host_name_random(name: &str) -> io::Result<String> {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| io::Error::other("random number generator failed"))?;
    Ok(hash_host_name(name, &salt))
}

/// Checks that `host` can be written to a known_hosts file as a name.
fn check_host_name(host: &str) -> io::Result<()> {
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || matches!(c, ',' | '*' | '?');
    if host.is_empty() || host.chars().any(bad_char) || host.starts_with(['!', '|', '@', '#']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "host name not usable in known_hosts",
        ));
    }
    Ok(())
}

/// Appends `pattern key-type base64` for `host`/`port` to the known_hosts file at `path`,
/// creating its parent directory (mode 0700) and the file (mode 0600) if missing.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] if `host` is empty or holds whitespace, control
/// characters, commas, wildcards or a leading `!`, `|`, `@` or `#` (it would corrupt the
/// file or turn into a pattern); otherwise any I/O error.
pub fn append_known_host(path: &Path, host: &str, port: u16, key: &PublicKey) -> io::Result<()> {
    append_known_host_names(path, &[host], port, key, false)
}

/// Appends `key` for each of `hosts` (a host name and, with `CheckHostIP`, its address) on
/// `port`: one line `host1,host2 key` in the clear, or with `hash` (OpenSSH's
/// `HashKnownHosts`) one hashed line per name. Certificates are recorded as their plain key.
///
/// # Errors
/// As [`append_known_host`].
pub fn append_known_host_names(
    path: &Path,
    hosts: &[&str],
    port: u16,
    key: &PublicKey,
    hash: bool,
) -> io::Result<()> {
    for h in hosts {
        check_host_name(h)?;
    }
    if hosts.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no host name"));
    }
    let key_text = crate::openssh::format_public_key_line(key.plain(), "");
    let names: Vec<String> = hosts
        .iter()
        .map(|h| host_pattern(&h.to_ascii_lowercase(), port))
        .collect();
    let mut lines = String::new();
    if hash {
        for n in &names {
            lines.push_str(&hash_host_name_random(n)?);
            lines.push(' ');
            lines.push_str(&key_text);
            lines.push('\n');
        }
    } else {
        // The clear form keeps the name as given (only the lookup is case-insensitive).
        let given: Vec<String> = hosts.iter().map(|h| host_pattern(h, port)).collect();
        lines.push_str(&given.join(","));
        lines.push(' ');
        lines.push_str(&key_text);
        lines.push('\n');
    }
    append_lines(path, &lines)
}

/// Appends `lines` (each ending in a newline) to the file, creating it and its directory.
fn append_lines(path: &Path, lines: &str) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Creating an existing directory is a no-op here; its mode is left alone.
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    let mut text = String::new();
    if !ends_with_newline_or_empty(path)? {
        text.push('\n');
    }
    text.push_str(lines);
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
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

/// The lines of known_hosts `text` whose host field matches `host` on `port` (hashed ones
/// included), as `(line number, line)`: `ssh-keygen -F`.
pub fn find_host_lines(text: &str, host: &str, port: u16) -> Vec<(usize, String)> {
    let target = host_pattern(&host.to_ascii_lowercase(), port);
    text.lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let entry = parse_line(raw.trim(), i + 1)?;
            entry
                .matches(&target)
                .then(|| (i + 1, raw.trim().to_owned()))
        })
        .collect()
}

/// Removes the unmarked lines for `host` on `port` from known_hosts `text` (`@cert-authority`
/// and `@revoked` lines are kept, as `ssh-keygen -R` does). Returns the new text and how many
/// lines went.
pub fn remove_host_lines(text: &str, host: &str, port: u16) -> (String, usize) {
    let target = host_pattern(&host.to_ascii_lowercase(), port);
    let mut out = String::with_capacity(text.len());
    let mut removed = 0;
    for (i, raw) in text.lines().enumerate() {
        let gone = parse_line(raw.trim(), i + 1)
            .is_some_and(|e| e.marker == Marker::None && e.matches(&target));
        if gone {
            removed += 1;
        } else {
            out.push_str(raw);
            out.push('\n');
        }
    }
    (out, removed)
}

/// Removes the unmarked lines that name only `host` on `port` (one plain name or one hashed
/// name: never pattern lines or lists shared with other hosts) and whose key satisfies
/// `remove`, as `ssh` with `UpdateHostKeys` does. Returns the new text and how many lines
/// went.
pub fn remove_host_keys_only(
    text: &str,
    host: &str,
    port: u16,
    remove: impl Fn(&PublicKey) -> bool,
) -> (String, usize) {
    let target = host_pattern(&host.to_ascii_lowercase(), port);
    let mut out = String::with_capacity(text.len());
    let mut removed = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let single = split_token(line).is_some_and(|(hosts, _)| {
            hosts.starts_with("|1|") || !hosts.contains([',', '*', '?', '!'])
        });
        let gone = single
            && parse_line(line, i + 1)
                .is_some_and(|e| e.marker == Marker::None && e.matches(&target) && remove(&e.key));
        if gone {
            removed += 1;
        } else {
            out.push_str(raw);
            out.push('\n');
        }
    }
    (out, removed)
}

/// Hashes the host names of known_hosts `text` (`ssh-keygen -H`): each unmarked line whose
/// names hold no wildcard or negation becomes one hashed line per name; other lines
/// (comments, markers, patterns, already hashed, unparsable) stay as they are. Returns the
/// new text and how many lines were hashed.
///
/// # Errors
/// An error if the random number generator fails.
pub fn hash_known_hosts(text: &str) -> io::Result<(String, usize)> {
    let mut out = String::with_capacity(text.len() * 2);
    let mut hashed = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let keep = |out: &mut String| {
            out.push_str(raw);
            out.push('\n');
        };
        let Some(entry) = parse_line(line, i + 1) else {
            keep(&mut out);
            continue;
        };
        let Some((hosts, rest)) = split_token(line) else {
            keep(&mut out);
            continue;
        };
        let plain_names = !hosts.starts_with('|') && !hosts.contains(['*', '?', '!']);
        if entry.marker != Marker::None || !plain_names {
            keep(&mut out);
            continue;
        }
        for name in hosts.split(',') {
            out.push_str(&hash_host_name_random(&name.to_ascii_lowercase())?);
            out.push(' ');
            out.push_str(rest);
            out.push('\n');
        }
        hashed += 1;
    }
    Ok((out, hashed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KnownHosts;
    use seashell_proto::keys::PrivateKey;

    fn ed(seed: u8) -> PublicKey {
        PrivateKey::ed25519_from_seed(&[seed; 32])
            .unwrap()
            .public_key()
    }

    #[test]
    fn hashed_names_match() {
        let line = format!(
            "{} {}",
            hash_host_name_random("[h.example]:2222").unwrap(),
            crate::openssh::format_public_key_line(&ed(1), "")
        );
        let kh = KnownHosts::parse(&line);
        assert_eq!(
            kh.check("H.example", 2222, &ed(1)),
            crate::HostKeyStatus::Trusted
        );
        assert_eq!(
            kh.check("h.example", 22, &ed(1)),
            crate::HostKeyStatus::Unknown
        );
    }

    #[test]
    fn find_remove_and_hash() {
        let k = |s| crate::openssh::format_public_key_line(&ed(s), "");
        let text = format!(
            "# c\na.example,10.0.0.1 {}\n@cert-authority *.example {}\nb.example {}\n*.w {}\n",
            k(1),
            k(2),
            k(3),
            k(4)
        );
        assert_eq!(find_host_lines(&text, "a.example", 22).len(), 2);
        assert_eq!(find_host_lines(&text, "10.0.0.1", 22)[0].0, 2);
        assert_eq!(find_host_lines(&text, "b.example", 22).len(), 2);
        let (after, n) = remove_host_lines(&text, "b.example", 22);
        assert_eq!(n, 1);
        assert!(after.contains("@cert-authority"));
        assert!(!after.contains("b.example "));
        let (hashed, n) = hash_known_hosts(&text).unwrap();
        assert_eq!(n, 2);
        assert!(!hashed.contains("a.example"));
        assert!(hashed.contains("*.w "));
        assert!(hashed.contains("# c"));
        // UpdateHostKeys removal: only lines naming the host alone.
        let text2 = format!(
            "a.example {}\na.example,b.example {}\n*.example {}\n",
            k(1),
            k(1),
            k(1)
        );
        let (left, n) = remove_host_keys_only(&text2, "a.example", 22, |_| true);
        assert_eq!(n, 1);
        assert_eq!(left.lines().count(), 2);
        let (_, n) = remove_host_keys_only(&text2, "a.example", 22, |key| *key != ed(1));
        assert_eq!(n, 0);
        let kh = KnownHosts::parse(&hashed);
        for (h, s) in [("a.example", 1), ("10.0.0.1", 1), ("b.example", 3)] {
            assert_eq!(
                kh.check(h, 22, &ed(s)),
                crate::HostKeyStatus::Trusted,
                "{h}"
            );
        }
    }
}
