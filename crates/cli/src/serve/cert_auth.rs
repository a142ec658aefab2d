//! Which user keys and certificates `seashell serve` accepts, as sshd decides it:
//! `authorized_keys` lines (plain keys, and `cert-authority` lines for certificates),
//! `TrustedUserCAKeys` with `AuthorizedPrincipalsFile`, and `RevokedKeys`.
//!
//! A certificate must be a user certificate with a valid CA signature, valid now, with no
//! critical option we do not enforce, from an address its `source-address` allows, and name
//! an acceptable principal. Its restrictions join the `authorized_keys` line's: a missing
//! `permit-pty` extension forbids terminals, a missing `permit-port-forwarding` forbids
//! forwarding, `force-command` forces the command (and must agree with the line's `command=`).

use super::authorized_keys::{AuthorizedKeys, KeyOptions};
use seashell_proto::PublicKey;
use seashell_proto::keys::{CertType, Certificate};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The server-wide trust settings (`-o` options as in `sshd_config`).
#[derive(Debug, Clone, Default)]
pub struct UserTrust {
    /// `TrustedUserCAKeys`: CA keys whose user certificates are accepted for any user whose
    /// name (or a line of the principals file) the certificate lists.
    pub trusted_cas: Vec<PublicKey>,
    /// `AuthorizedPrincipalsFile`: the path, with `%u` (user), `%h` (home), `%%`.
    pub principals_file: Option<String>,
    /// `RevokedKeys`: keys refused, alone or as certificate key or CA.
    pub revoked: Vec<PublicKey>,
}

/// Why a key or certificate is refused; the text is for the log.
pub type Refusal = String;

/// Reads a file of public keys (`TrustedUserCAKeys`, `RevokedKeys`): one key per line,
/// blank lines and `#` comments ignored. A binary OpenSSH KRL is refused: it is not
/// supported, and ignoring it would accept revoked keys.
///
/// # Errors
/// A message naming the file and line.
pub fn read_key_list(path: &Path) -> Result<Vec<PublicKey>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.starts_with(b"SSHKRL\n\0") {
        return Err(format!(
            "{}: OpenSSH key revocation lists (KRL) are not supported; give a list of public keys",
            path.display()
        ));
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, _) = seashell_keys::parse_public_key_line(line)
            .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?;
        keys.push(key);
    }
    Ok(keys)
}

/// The current time in Unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What decides a login: the trust settings, the user's `authorized_keys`, and the user.
#[derive(Debug)]
pub struct Request<'a> {
    /// Server-wide settings.
    pub trust: &'a UserTrust,
    /// The user's authorized keys.
    pub authorized: &'a AuthorizedKeys,
    /// The user name asked for.
    pub user: &'a str,
    /// The user's home directory (for `%h`).
    pub home: Option<&'a Path>,
    /// The client's address (`None`: unknown, as with `-i`).
    pub client: Option<IpAddr>,
    /// Now, in Unix seconds.
    pub now: u64,
}

impl Request<'_> {
    /// The options a login with `key` gets, or why it is refused.
    ///
    /// # Errors
    /// The reason for the log.
    pub fn authorize(&self, key: &PublicKey) -> Result<KeyOptions, Refusal> {
        if self.is_revoked(key) {
            return Err(format!(
                "{} key {} is revoked",
                key.key_type(),
                key.fingerprint()
            ));
        }
        match key.certificate() {
            Some(cert) => self.authorize_certificate(cert),
            None => self.authorize_plain(key),
        }
    }

    fn is_revoked(&self, key: &PublicKey) -> bool {
        let plain = key.plain();
        self.trust
            .revoked
            .iter()
            .any(|r| r == plain || key.certificate().is_some_and(|c| r == c.signature_key()))
    }

    fn authorize_plain(&self, key: &PublicKey) -> Result<KeyOptions, Refusal> {
        let entry = self
            .authorized
            .find(key)
            .ok_or_else(|| format!("{} key not in authorized_keys", key.key_type()))?;
        self.line_allows(&entry.options)?;
        Ok(entry.options.clone())
    }

    /// `from=` and `expiry-time=` of an authorized_keys line.
    fn line_allows(&self, o: &KeyOptions) -> Result<(), Refusal> {
        if !o.allows_from(self.client) {
            return Err("client address not allowed by from=".into());
        }
        if o.expired(self.now) {
            return Err("authorized_keys expiry-time has passed".into());
        }
        Ok(())
    }

    fn authorize_certificate(&self, cert: &Certificate) -> Result<KeyOptions, Refusal> {
        // Type, signature and validity first; the principal depends on the trust path.
        cert.check(CertType::User, None, self.now)
            .map_err(|e| e.to_string())?;
        cert.check_critical_options(self.client)
            .map_err(|e| e.to_string())?;
        let ca = cert.signature_key();
        let names = &cert.fields().principals;
        if names.is_empty() {
            return Err("certificate lacks a principal list".into());
        }
        let mut why = "certificate signed by an untrusted CA".to_owned();
        // authorized_keys cert-authority lines, in file order.
        for entry in self.authorized.cert_authorities(ca) {
            let o = &entry.options;
            if let Err(e) = self.line_allows(o) {
                why = e;
                continue;
            }
            let ok = match &o.principals {
                Some(list) => names.iter().any(|n| list.contains(n)),
                None => names.iter().any(|n| n == self.user),
            };
            if !ok {
                why = format!(
                    "certificate does not name an acceptable principal for {}",
                    self.user
                );
                continue;
            }
            return merge(o.clone(), cert);
        }
        // TrustedUserCAKeys.
        if self.trust.trusted_cas.contains(ca) {
            let ok = match &self.trust.principals_file {
                Some(template) => {
                    let path = expand(template, self.user, self.home);
                    let allowed = read_principals(&path);
                    names.iter().any(|n| allowed.contains(n))
                }
                None => names.iter().any(|n| n == self.user),
            };
            if !ok {
                return Err(format!(
                    "certificate does not name an acceptable principal for {}",
                    self.user
                ));
            }
            return merge(KeyOptions::default(), cert);
        }
        Err(why)
    }
}

/// Joins a certificate's restrictions into the line's options.
fn merge(mut o: KeyOptions, cert: &Certificate) -> Result<KeyOptions, Refusal> {
    let f = cert.fields();
    if let Some(forced) = cert.force_command() {
        match &o.command {
            Some(c) if *c != forced => {
                return Err(
                    "certificate and authorized_keys forced commands differ; refused".into(),
                );
            }
            _ => o.command = Some(forced),
        }
    }
    if !f.has_extension("permit-pty") {
        o.no_pty = true;
    }
    if !f.has_extension("permit-port-forwarding") {
        o.forwarding.no_port_forwarding = true;
    }
    if f.has_extension("no-touch-required") {
        o.no_touch_required = true;
    }
    if f.critical_options
        .iter()
        .any(|(n, _)| n == "verify-required")
    {
        o.verify_required = true;
    }
    Ok(o)
}

/// Expands `%u`, `%h` and `%%` in a path; a relative result is taken from the home
/// directory, as sshd does.
fn expand(template: &str, user: &str, home: Option<&Path>) -> PathBuf {
    let home_text = home
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = String::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => out.push_str(user),
            Some('h') => out.push_str(&home_text),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    let path = PathBuf::from(out);
    match home {
        Some(h) if path.is_relative() => h.join(path),
        _ => path,
    }
}

/// The principal names of an `AuthorizedPrincipalsFile` (first word of each line; blank
/// lines and comments skipped). Lines with options are left out: they are not enforced. A
/// missing file allows nobody.
fn read_principals(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.contains(char::is_whitespace))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
#[path = "cert_auth_tests.rs"]
mod tests;
