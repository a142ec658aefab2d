//! Checking a certificate for a use: its type, validity period, principals and critical
//! options, as OpenSSH's `sshkey_cert_check_authority` and `sshauthopt_from_cert` do.
//! The time comes from the caller (the core reads no clock).

use core::fmt;
use std::net::IpAddr;

use super::cert::{CertType, Certificate};

/// The critical options OpenSSH defines; a user certificate with any other is refused.
pub const KNOWN_CRITICAL_OPTIONS: [&str; 3] =
    ["force-command", "source-address", "verify-required"];

/// Why a certificate may not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertError {
    /// The CA signature does not verify (or uses SHA-1 RSA).
    BadSignature,
    /// A host certificate where a user certificate was expected, or the reverse.
    WrongType {
        /// The type that was needed.
        wanted: CertType,
    },
    /// The current time is before `valid_after`.
    NotYetValid,
    /// The current time is at or after `valid_before`.
    Expired,
    /// The principal (user or host name) is not listed.
    PrincipalNotListed(String),
    /// A user certificate without principals (OpenSSH refuses them).
    NoPrincipals,
    /// A critical option we do not know: the certificate is refused.
    UnknownCriticalOption(String),
    /// A critical option whose value does not decode.
    BadCriticalOption(String),
    /// The client address is not in the `source-address` list.
    SourceAddressRefused,
    /// The signing CA is not trusted for this use.
    UntrustedCa,
    /// The certificate or its CA key is revoked.
    Revoked,
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::BadSignature => f.write_str("certificate signature does not verify"),
            CertError::WrongType { wanted } => {
                write!(f, "certificate is not a {} certificate", wanted.name())
            }
            CertError::NotYetValid => f.write_str("certificate is not yet valid"),
            CertError::Expired => f.write_str("certificate has expired"),
            CertError::PrincipalNotListed(p) => {
                write!(f, "certificate is not valid for principal \"{p}\"")
            }
            CertError::NoPrincipals => f.write_str("certificate lacks a principal list"),
            CertError::UnknownCriticalOption(o) => {
                write!(f, "certificate has unsupported critical option \"{o}\"")
            }
            CertError::BadCriticalOption(o) => {
                write!(f, "certificate critical option \"{o}\" is malformed")
            }
            CertError::SourceAddressRefused => {
                f.write_str("client address is not allowed by the certificate's source-address")
            }
            CertError::UntrustedCa => f.write_str("certificate is signed by an untrusted CA"),
            CertError::Revoked => f.write_str("certificate is revoked"),
        }
    }
}

impl std::error::Error for CertError {}

impl Certificate {
    /// Checks that the certificate is of type `wanted`, signed correctly, valid at
    /// `now_unix` (seconds since the Unix epoch) and, if `principal` is given, lists it. A
    /// certificate with no principals is valid for any host name but no user, as in OpenSSH.
    /// Critical options are not checked here: see [`Certificate::check_critical_options`].
    ///
    /// # Errors
    /// The first [`CertError`] found.
    pub fn check(
        &self,
        wanted: CertType,
        principal: Option<&str>,
        now_unix: u64,
    ) -> Result<(), CertError> {
        let f = self.fields();
        if f.cert_type != wanted {
            return Err(CertError::WrongType { wanted });
        }
        self.verify_signature()
            .map_err(|_| CertError::BadSignature)?;
        self.check_validity(now_unix)?;
        if let Some(name) = principal {
            if f.principals.is_empty() {
                if wanted == CertType::User {
                    return Err(CertError::NoPrincipals);
                }
            } else if !f.principals.iter().any(|p| p == name) {
                return Err(CertError::PrincipalNotListed(name.to_owned()));
            }
        }
        Ok(())
    }

    /// Checks the validity period against `now_unix`.
    ///
    /// # Errors
    /// [`CertError::NotYetValid`] or [`CertError::Expired`].
    pub fn check_validity(&self, now_unix: u64) -> Result<(), CertError> {
        let f = self.fields();
        if now_unix < f.valid_after {
            return Err(CertError::NotYetValid);
        }
        if now_unix >= f.valid_before {
            return Err(CertError::Expired);
        }
        Ok(())
    }

    /// Checks the critical options of a user certificate for a client at `client` (`None`:
    /// unknown, as on pipes): every option must be one we enforce, and `source-address`, if
    /// present, must list the address.
    ///
    /// # Errors
    /// [`CertError::UnknownCriticalOption`], [`CertError::BadCriticalOption`] or
    /// [`CertError::SourceAddressRefused`].
    pub fn check_critical_options(&self, client: Option<IpAddr>) -> Result<(), CertError> {
        let f = self.fields();
        for (name, _) in &f.critical_options {
            if !KNOWN_CRITICAL_OPTIONS.contains(&name.as_str()) {
                return Err(CertError::UnknownCriticalOption(name.clone()));
            }
            if name != "verify-required" && f.critical_string(name).is_none() {
                return Err(CertError::BadCriticalOption(name.clone()));
            }
        }
        if let Some(list) = f.critical_string("source-address") {
            let ok = match client {
                Some(ip) => match_cidr_list(ip, &list)
                    .ok_or_else(|| CertError::BadCriticalOption("source-address".into()))?,
                None => false,
            };
            if !ok {
                return Err(CertError::SourceAddressRefused);
            }
        }
        Ok(())
    }

    /// The `force-command` critical option, if any.
    pub fn force_command(&self) -> Option<String> {
        self.fields().critical_string("force-command")
    }
}

/// Matches `ip` against a comma-separated list of addresses and CIDR blocks
/// (`10.0.0.0/8,::1`), with `!` negation as OpenSSH's `addr_match_cidr_list`. Returns
/// `None` if the list is malformed (OpenSSH then refuses the certificate), else whether the
/// address is allowed. IPv4-mapped IPv6 addresses are matched as IPv4.
pub fn match_cidr_list(ip: IpAddr, list: &str) -> Option<bool> {
    let ip = ip.to_canonical();
    let mut allowed = false;
    for entry in list.split(',') {
        let entry = entry.trim();
        let (negated, entry) = match entry.strip_prefix('!') {
            Some(e) => (true, e),
            None => (false, entry),
        };
        let hit = cidr_contains(entry, ip)?;
        match (hit, negated) {
            (true, true) => return Some(false),
            (true, false) => allowed = true,
            _ => {}
        }
    }
    Some(allowed)
}

/// Whether the CIDR block (or plain address) `entry` contains `ip`; `None` if malformed.
pub fn cidr_contains(entry: &str, ip: IpAddr) -> Option<bool> {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (entry, None),
    };
    let net: IpAddr = addr.parse().ok()?;
    match (net.to_canonical(), ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = bits.unwrap_or(32);
            if bits > 32 {
                return None;
            }
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            if u32::from(n) & !mask != 0 {
                return None;
            }
            Some(u32::from(a) & mask == u32::from(n))
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = bits.unwrap_or(128);
            if bits > 128 {
                return None;
            }
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            if u128::from(n) & !mask != 0 {
                return None;
            }
            Some(u128::from(a) & mask == u128::from(n))
        }
        (IpAddr::V4(_), IpAddr::V6(_)) | (IpAddr::V6(_), IpAddr::V4(_)) => {
            if bits.is_some_and(|b| b > 128) {
                return None;
            }
            Some(false)
        }
    }
}
