//! The `-o` keywords about trust in keys: `CertificateFile`, `GlobalKnownHostsFile`,
//! `HashKnownHosts`, `CheckHostIP` and `UpdateHostKeys`, with OpenSSH's rules (the first
//! value given wins; `CertificateFile` accumulates).

use crate::options::OptionError;

/// `UpdateHostKeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateHostKeys {
    /// `no`: keys the server announces are ignored.
    No,
    /// `yes`: new keys the server proves are added, recorded keys it no longer has removed.
    Yes,
    /// `ask`: as `yes` after confirmation; without a terminal to ask on, as `no`.
    Ask,
}

/// The trust keywords given with `-o`; `None` means not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustOptions {
    /// `CertificateFile` paths, unexpanded, in order.
    pub certificate_files: Vec<String>,
    /// `GlobalKnownHostsFile` paths, unexpanded (`none` removes them all).
    pub global_known_hosts_files: Option<Vec<String>>,
    /// `HashKnownHosts`.
    pub hash_known_hosts: Option<bool>,
    /// `CheckHostIP`.
    pub check_host_ip: Option<bool>,
    /// `UpdateHostKeys`.
    pub update_host_keys: Option<UpdateHostKeys>,
}

/// The keywords handled here, lower case.
const TRUST_KEYWORDS: [&str; 5] = [
    "certificatefile",
    "globalknownhostsfile",
    "hashknownhosts",
    "checkhostip",
    "updatehostkeys",
];

/// OpenSSH's default `GlobalKnownHostsFile`.
pub const DEFAULT_GLOBAL_KNOWN_HOSTS: [&str; 2] =
    ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];

impl TrustOptions {
    /// Applies `key` (lower-cased as `lower`) with `words` if it is a trust keyword;
    /// `None` if it is not one.
    pub fn apply_keyword(
        &mut self,
        lower: &str,
        key: &str,
        words: &[String],
    ) -> Option<Result<(), OptionError>> {
        if !TRUST_KEYWORDS.contains(&lower) {
            return None;
        }
        Some(self.apply(lower, key, words))
    }

    fn apply(&mut self, lower: &str, key: &str, words: &[String]) -> Result<(), OptionError> {
        let all = words.join(" ");
        let bad =
            |what: &str| OptionError(format!("bad value \"{all}\" for option \"{key}\": {what}"));
        let Some(first) = words.first() else {
            return Err(OptionError(format!("missing value for option \"{key}\"")));
        };
        if words.len() > 1 && lower != "globalknownhostsfile" {
            return Err(bad("takes one value"));
        }
        let flag = |v: &str| match v.to_ascii_lowercase().as_str() {
            "yes" | "true" => Ok(true),
            "no" | "false" => Ok(false),
            _ => Err(bad("expected yes or no")),
        };
        match lower {
            "certificatefile" => self.certificate_files.push(first.clone()),
            "globalknownhostsfile" => {
                if self.global_known_hosts_files.is_none() {
                    let files = words.iter().filter(|w| !matches!(w.as_str(), "none"));
                    self.global_known_hosts_files = Some(files.cloned().collect());
                }
            }
            "hashknownhosts" => {
                let v = flag(first)?;
                self.hash_known_hosts.get_or_insert(v);
            }
            "checkhostip" => {
                let v = flag(first)?;
                self.check_host_ip.get_or_insert(v);
            }
            _ => {
                let v = match first.to_ascii_lowercase().as_str() {
                    "yes" | "true" => UpdateHostKeys::Yes,
                    "no" | "false" => UpdateHostKeys::No,
                    "ask" => UpdateHostKeys::Ask,
                    _ => return Err(bad("expected yes, no or ask")),
                };
                self.update_host_keys.get_or_insert(v);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(t: &mut TrustOptions, key: &str, value: &str) -> Result<(), OptionError> {
        let words: Vec<String> = value.split_whitespace().map(String::from).collect();
        t.apply_keyword(&key.to_ascii_lowercase(), key, &words)
            .unwrap()
    }

    #[test]
    fn keywords() {
        let mut t = TrustOptions::default();
        apply(&mut t, "CertificateFile", "~/a-cert.pub").unwrap();
        apply(&mut t, "CertificateFile", "b").unwrap();
        assert_eq!(t.certificate_files, ["~/a-cert.pub", "b"]);
        apply(&mut t, "GlobalKnownHostsFile", "/x /y").unwrap();
        apply(&mut t, "GlobalKnownHostsFile", "/z").unwrap();
        assert_eq!(
            t.global_known_hosts_files,
            Some(vec!["/x".into(), "/y".into()])
        );
        apply(&mut t, "HashKnownHosts", "yes").unwrap();
        apply(&mut t, "HashKnownHosts", "no").unwrap();
        assert_eq!(t.hash_known_hosts, Some(true));
        apply(&mut t, "UpdateHostKeys", "ask").unwrap();
        assert_eq!(t.update_host_keys, Some(UpdateHostKeys::Ask));
        assert!(apply(&mut t, "CheckHostIP", "maybe").is_err());
        assert!(apply(&mut t, "HashKnownHosts", "yes no").is_err());
        assert!(
            TrustOptions::default()
                .apply_keyword("ciphers", "Ciphers", &[])
                .is_none()
        );
    }
}
