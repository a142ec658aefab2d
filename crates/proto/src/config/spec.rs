//! OpenSSH's algorithm-list syntax (`+` append, `-` remove, `^` prepend, `*`/`?` wildcards,
//! a plain list replaces), shared by the API ([`ClientConfig::set_algorithms`],
//! [`ServerConfig::set_algorithms`]), the `seashell` client's `-o` and `seashell serve -o`.

use super::{ClientConfig, HOST_KEY_ALGORITHMS, ServerConfig, bad_config};
use crate::crypto::{CipherAlg, MacAlg};
use crate::error::Error;
use crate::kex::KexAlg;
use crate::transport::compress::CompressionAlg;

/// One algorithm list of a configuration, named after its OpenSSH keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlgorithmSlot {
    /// `KexAlgorithms`.
    Kex,
    /// `HostKeyAlgorithms`.
    HostKey,
    /// `PubkeyAcceptedAlgorithms`: signature algorithms for user keys.
    PubkeyAccepted,
    /// `Ciphers`.
    Cipher,
    /// `MACs`.
    Mac,
    /// `Compression` (as an algorithm list).
    Compression,
}

impl AlgorithmSlot {
    /// Every slot.
    pub const ALL: [AlgorithmSlot; 6] = [
        AlgorithmSlot::Kex,
        AlgorithmSlot::HostKey,
        AlgorithmSlot::PubkeyAccepted,
        AlgorithmSlot::Cipher,
        AlgorithmSlot::Mac,
        AlgorithmSlot::Compression,
    ];

    /// Every algorithm we implement for the slot, default ones first and opt-in legacy ones
    /// last: what a spec may name.
    pub fn supported(self) -> Vec<&'static str> {
        match self {
            AlgorithmSlot::Kex => KexAlg::ALL.iter().map(|k| k.name()).collect(),
            AlgorithmSlot::HostKey | AlgorithmSlot::PubkeyAccepted => HOST_KEY_ALGORITHMS
                .iter()
                .chain(crate::keys::cert::CERT_ALGORITHMS.iter())
                .chain(crate::keys::sk::SK_ALGORITHMS.iter())
                .chain([crate::keys::mldsa::SSH_MLDSA44_ED25519].iter())
                .copied()
                .collect(),
            AlgorithmSlot::Cipher => CipherAlg::ALL.iter().map(|c| c.name()).collect(),
            AlgorithmSlot::Mac => MacAlg::ALL.iter().map(|m| m.name()).collect(),
            AlgorithmSlot::Compression => CompressionAlg::ALL.iter().map(|c| c.name()).collect(),
        }
    }

    /// The OpenSSH configuration keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            AlgorithmSlot::Kex => "KexAlgorithms",
            AlgorithmSlot::HostKey => "HostKeyAlgorithms",
            AlgorithmSlot::PubkeyAccepted => "PubkeyAcceptedAlgorithms",
            AlgorithmSlot::Cipher => "Ciphers",
            AlgorithmSlot::Mac => "MACs",
            AlgorithmSlot::Compression => "Compression",
        }
    }

    /// Applies `spec` to `current` (the slot's list) against the supported algorithms.
    pub fn apply(self, spec: &str, current: &[String]) -> Result<Vec<String>, String> {
        apply_algorithm_spec(spec, current, &self.supported())
            .map_err(|e| format!("{}: {e}", self.keyword()))
    }
}

/// Replaces `list` with `spec` applied to it, or leaves it alone on error.
fn edit(list: &mut Vec<String>, slot: AlgorithmSlot, spec: &str) -> Result<(), Error> {
    *list = slot
        .apply(spec, list)
        .map_err(|_| bad_config("algorithm spec names an unsupported algorithm or leaves none"))?;
    Ok(())
}

impl ClientConfig {
    /// Edits one algorithm list with OpenSSH's syntax, as `ssh -o KexAlgorithms=+…` does:
    /// `config.set_algorithms(AlgorithmSlot::Kex, "+diffie-hellman-group14-sha1")` adds a
    /// legacy method for an old server; `"-ecdh-*"` removes; `"^aes256-gcm@openssh.com"`
    /// moves to the front. Unknown names are an error.
    pub fn set_algorithms(&mut self, slot: AlgorithmSlot, spec: &str) -> Result<(), Error> {
        let list = match slot {
            AlgorithmSlot::Kex => &mut self.kex_algorithms,
            AlgorithmSlot::HostKey => &mut self.host_key_algorithms,
            AlgorithmSlot::PubkeyAccepted => &mut self.pubkey_accepted_algorithms,
            AlgorithmSlot::Cipher => &mut self.ciphers,
            AlgorithmSlot::Mac => &mut self.macs,
            AlgorithmSlot::Compression => &mut self.compression,
        };
        edit(list, slot, spec)
    }
}

impl ServerConfig {
    /// Edits one algorithm list with OpenSSH's syntax, as `sshd -o Ciphers=+…` does (see
    /// [`ClientConfig::set_algorithms`]). The host-key slot limits which algorithms the host
    /// keys are offered with.
    pub fn set_algorithms(&mut self, slot: AlgorithmSlot, spec: &str) -> Result<(), Error> {
        let list = match slot {
            AlgorithmSlot::Kex => &mut self.kex_algorithms,
            AlgorithmSlot::HostKey => &mut self.host_key_algorithms,
            AlgorithmSlot::PubkeyAccepted => &mut self.pubkey_accepted_algorithms,
            AlgorithmSlot::Cipher => &mut self.ciphers,
            AlgorithmSlot::Mac => &mut self.macs,
            AlgorithmSlot::Compression => &mut self.compression,
        };
        edit(list, slot, spec)
    }
}

/// Filters an algorithm list the way OpenSSH's `-o Ciphers=` does: `+a,b` appends, `-a*`
/// removes (with `*`/`?` wildcards), `^a,b` prepends, a plain list replaces. `all` is the full
/// supported list in default order, `current` the list to modify.
pub fn apply_algorithm_spec(
    spec: &str,
    current: &[String],
    all: &[&str],
) -> Result<Vec<String>, String> {
    let (op, body) = match spec.chars().next() {
        Some(c @ ('+' | '-' | '^')) => (Some(c), spec.get(1..).unwrap_or_default()),
        _ => (None, spec),
    };
    let names: Vec<&str> = body.split(',').filter(|s| !s.is_empty()).collect();
    let expand = |pat: &str| -> Vec<String> {
        all.iter()
            .filter(|a| wildcard_match(pat, a))
            .map(|a| (*a).to_owned())
            .collect()
    };
    let mut listed = Vec::new();
    for n in &names {
        let m = expand(n);
        if m.is_empty() && op != Some('-') {
            return Err(format!("unsupported algorithm \"{n}\""));
        }
        for x in m {
            if !listed.contains(&x) {
                listed.push(x);
            }
        }
    }
    let mut out: Vec<String> = match op {
        Some('+') => current.iter().cloned().chain(listed).collect(),
        Some('-') => current
            .iter()
            .filter(|c| !listed.contains(c))
            .cloned()
            .collect(),
        Some('^') => listed.into_iter().chain(current.iter().cloned()).collect(),
        _ => listed,
    };
    let mut seen = Vec::new();
    out.retain(|x| {
        let new = !seen.contains(x);
        seen.push(x.clone());
        new
    });
    if out.is_empty() {
        return Err("empty algorithm list".to_owned());
    }
    Ok(out)
}

/// OpenSSH's time format (`convtime`): a number of seconds, or number+unit groups added up
/// (`s`, `m`, `h`, `d`, `w`, either case), like `90`, `1m30s`, `1w1d1s`. `None` for an empty,
/// malformed or overflowing value.
pub fn convtime(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(unit)?)?;
    }
    if let Some(n) = num {
        total = total.checked_add(n)?;
    }
    Some(total)
}

/// `*` and `?` glob matching (OpenSSH `match_pattern`).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algorithms_edits_like_openssh() {
        let mut c = ClientConfig::new("u");
        c.set_algorithms(AlgorithmSlot::Kex, "+diffie-hellman-group1-sha1")
            .unwrap();
        assert_eq!(
            c.kex_algorithms.last().map(String::as_str),
            Some("diffie-hellman-group1-sha1")
        );
        c.set_algorithms(AlgorithmSlot::Kex, "-ecdh-sha2-*")
            .unwrap();
        assert!(!c.kex_algorithms.iter().any(|k| k.starts_with("ecdh-")));
        c.set_algorithms(AlgorithmSlot::Cipher, "^aes256-ctr")
            .unwrap();
        assert_eq!(c.ciphers.first().map(String::as_str), Some("aes256-ctr"));
        c.set_algorithms(AlgorithmSlot::HostKey, "+ssh-rsa")
            .unwrap();
        assert!(c.host_key_algorithms.iter().any(|h| h == "ssh-rsa"));
        assert!(
            c.set_algorithms(AlgorithmSlot::Mac, "+umac-64@openssh.com")
                .is_err()
        );
        assert!(c.set_algorithms(AlgorithmSlot::Compression, "-*").is_err());
        c.validate().unwrap();

        let mut s = ServerConfig::new(Vec::new());
        s.set_algorithms(AlgorithmSlot::Cipher, "+3des-cbc")
            .unwrap();
        assert_eq!(s.ciphers.last().map(String::as_str), Some("3des-cbc"));
        s.set_algorithms(AlgorithmSlot::Compression, "zlib,none")
            .unwrap();
        assert_eq!(s.compression, ["zlib", "none"]);
    }

    #[test]
    fn every_slot_lists_only_names_the_core_knows() {
        for slot in AlgorithmSlot::ALL {
            let all = slot.supported();
            assert!(!all.is_empty(), "{slot:?}");
            let list: Vec<String> = all.iter().map(|s| (*s).to_owned()).collect();
            let mut c = ClientConfig::new("u");
            c.set_algorithms(slot, &list.join(",")).unwrap();
            c.validate().unwrap_or_else(|e| panic!("{slot:?}: {e}"));
        }
    }
}
