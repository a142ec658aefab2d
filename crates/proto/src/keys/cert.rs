//! OpenSSH certificates (`*-cert-v01@openssh.com`, OpenSSH `PROTOCOL.certkeys`): a public
//! key, who it is for (user or host, principals), when it is valid, what it may do (critical
//! options and extensions), signed by a certificate authority (CA) key.
//!
//! A certificate travels wherever a public key does: as a host key in the key exchange, as a
//! user key in `publickey` authentication. Signatures made with the certified key use the
//! plain algorithm name (`rsa-sha2-256`, not `rsa-sha2-256-cert-v01@openssh.com`).
//!
//! Parsing ([`Certificate::from_blob`]) checks only the encoding. Trust is a separate step:
//! [`Certificate::verify_signature`] checks the CA signature, and
//! [`Certificate::check`](crate::keys::cert::Certificate::check) checks type, validity
//! (against a clock the caller supplies: the core reads no clock), principals and critical
//! options.

use super::{PublicKey, RSA_SHA2_256, RSA_SHA2_512, SSH_ED25519};
use crate::error::{CryptoError, Error, InvalidMessage};
use crate::keys::EcdsaCurve;
use crate::wire::{Reader, put_string, put_u32, put_u64};

/// The suffix of every certificate key type and signature algorithm name.
pub const CERT_SUFFIX: &str = "-cert-v01@openssh.com";

/// Most principals, critical options or extensions accepted in one certificate (OpenSSH
/// `SSHKEY_CERT_MAX_PRINCIPALS` is 256).
const MAX_LIST: usize = 256;

/// The certificate signature algorithms, plain algorithm first: every name a certificate
/// may be offered or verified with.
pub const CERT_ALGORITHMS: [&str; 9] = [
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
];

/// The signature algorithm a certified key signs with for the certificate algorithm `alg`
/// (`"rsa-sha2-256-cert-v01@openssh.com"` → `"rsa-sha2-256"`); other names are returned as
/// they are.
pub fn plain_algorithm(alg: &str) -> &str {
    match alg {
        "sk-ssh-ed25519-cert-v01@openssh.com" => super::sk::SK_SSH_ED25519,
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com" => super::sk::SK_ECDSA_SHA2_NISTP256,
        _ => alg.strip_suffix(CERT_SUFFIX).unwrap_or(alg),
    }
}

/// The certificate key type name for certificates of `key` (`""` for a certificate).
fn cert_type_name(key: &PublicKey) -> &'static str {
    match key {
        PublicKey::Ed25519(_) => CERT_ALGORITHMS[0],
        PublicKey::Ecdsa { curve, .. } => match curve {
            EcdsaCurve::NistP256 => CERT_ALGORITHMS[1],
            EcdsaCurve::NistP384 => CERT_ALGORITHMS[2],
            EcdsaCurve::NistP521 => CERT_ALGORITHMS[3],
        },
        PublicKey::Rsa { .. } => CERT_ALGORITHMS[6],
        PublicKey::SkEd25519 { .. } => CERT_ALGORITHMS[7],
        PublicKey::SkEcdsa { .. } => CERT_ALGORITHMS[8],
        PublicKey::Certificate(_) | PublicKey::MlDsa44Ed25519(_) => "",
    }
}

/// The certificate key type name for a plain key type name, if we know it
/// (`b"ssh-ed25519-cert-v01@openssh.com"` → `"ssh-ed25519-cert-v01@openssh.com"`).
pub fn cert_key_type(name: &[u8]) -> Option<&'static str> {
    CERT_ALGORITHMS
        .iter()
        .copied()
        .filter(|a| !a.starts_with("rsa-sha2-"))
        .find(|a| a.as_bytes() == name)
}

/// Whether a certificate is for a user or a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertType {
    /// `SSH2_CERT_TYPE_USER` (1): authenticates a user to a server.
    User,
    /// `SSH2_CERT_TYPE_HOST` (2): authenticates a server to a client.
    Host,
}

impl CertType {
    /// The wire value.
    pub fn code(self) -> u32 {
        match self {
            CertType::User => 1,
            CertType::Host => 2,
        }
    }

    /// `"user"` or `"host"`, as `ssh-keygen -L` prints it.
    pub fn name(self) -> &'static str {
        match self {
            CertType::User => "user",
            CertType::Host => "host",
        }
    }
}

/// The signed contents of a certificate: everything but the CA key and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFields {
    /// A random nonce chosen by the CA (OpenSSH uses 32 bytes).
    pub nonce: Vec<u8>,
    /// The certified key (never itself a certificate).
    pub key: PublicKey,
    /// The serial number the CA chose (0 if none).
    pub serial: u64,
    /// User or host.
    pub cert_type: CertType,
    /// The key identifier (free text, logged by servers).
    pub key_id: String,
    /// The user or host names the certificate is valid for; empty means any (accepted only
    /// for host certificates, as OpenSSH does).
    pub principals: Vec<String>,
    /// Valid from this time on (seconds since the Unix epoch, inclusive).
    pub valid_after: u64,
    /// Valid until this time (seconds since the Unix epoch, exclusive); `u64::MAX` is
    /// "forever".
    pub valid_before: u64,
    /// Critical options, sorted by name: `(name, data)` where `data` is the option's raw data
    /// field (for `force-command` and `source-address` itself an SSH string).
    pub critical_options: Vec<(String, Vec<u8>)>,
    /// Extensions, sorted by name, in the same form (flags have empty data).
    pub extensions: Vec<(String, Vec<u8>)>,
}

impl CertFields {
    /// The value of the critical option or extension `name` in `list` decoded as a string.
    fn string_in(list: &[(String, Vec<u8>)], name: &str) -> Option<String> {
        let (_, data) = list.iter().find(|(n, _)| n == name)?;
        let mut r = Reader::new(data);
        let s = r.utf8("option value").ok()?;
        r.end("option value").ok()?;
        Some(s.to_owned())
    }

    /// The string value of the critical option `name` (`force-command`, `source-address`).
    pub fn critical_string(&self, name: &str) -> Option<String> {
        Self::string_in(&self.critical_options, name)
    }

    /// Whether the extension `name` (for example `permit-pty`) is present.
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|(n, _)| n == name)
    }

    /// Sets the critical option `name` to the string `value` (keeping the list sorted).
    pub fn set_critical_string(&mut self, name: &str, value: &str) {
        let mut data = Vec::new();
        put_string(&mut data, value.as_bytes());
        set_sorted(&mut self.critical_options, name, data);
    }

    /// Adds the flag extension `name` (keeping the list sorted).
    pub fn set_extension(&mut self, name: &str) {
        set_sorted(&mut self.extensions, name, Vec::new());
    }

    /// Removes the extension `name`.
    pub fn clear_extension(&mut self, name: &str) {
        self.extensions.retain(|(n, _)| n != name);
    }

    /// The extensions `ssh-keygen` puts in a user certificate by default.
    pub const DEFAULT_USER_EXTENSIONS: [&'static str; 5] = [
        "permit-X11-forwarding",
        "permit-agent-forwarding",
        "permit-port-forwarding",
        "permit-pty",
        "permit-user-rc",
    ];

    /// Encodes the signed part, up to and including the CA key blob.
    fn encode_tbs(&self, ca: &PublicKey) -> Result<Vec<u8>, Error> {
        if matches!(self.key, PublicKey::Certificate(_)) || matches!(ca, PublicKey::Certificate(_))
        {
            return Err(CryptoError::BadPublicKey.into());
        }
        let plain = self.key.to_blob();
        let mut r = Reader::new(&plain);
        r.string("key type")?;
        let key_fields = r.rest();
        let mut out = Vec::with_capacity(plain.len() + 256);
        put_string(&mut out, cert_type_name(&self.key).as_bytes());
        put_string(&mut out, &self.nonce);
        out.extend_from_slice(key_fields);
        put_u64(&mut out, self.serial);
        put_u32(&mut out, self.cert_type.code());
        put_string(&mut out, self.key_id.as_bytes());
        let mut principals = Vec::new();
        for p in &self.principals {
            put_string(&mut principals, p.as_bytes());
        }
        put_string(&mut out, &principals);
        put_u64(&mut out, self.valid_after);
        put_u64(&mut out, self.valid_before);
        put_string(&mut out, &encode_options(&self.critical_options));
        put_string(&mut out, &encode_options(&self.extensions));
        put_string(&mut out, b"");
        put_string(&mut out, &ca.to_blob());
        Ok(out)
    }
}

/// Inserts or replaces `(name, data)` keeping `list` sorted by name.
fn set_sorted(list: &mut Vec<(String, Vec<u8>)>, name: &str, data: Vec<u8>) {
    list.retain(|(n, _)| n != name);
    let at = list.partition_point(|(n, _)| n.as_str() < name);
    list.insert(at, (name.to_owned(), data));
}

fn encode_options(list: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in list {
        put_string(&mut out, name.as_bytes());
        put_string(&mut out, data);
    }
    out
}

/// A parsed OpenSSH certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    fields: CertFields,
    signature_key: PublicKey,
    signature: Vec<u8>,
    /// The whole encoded certificate.
    blob: Vec<u8>,
    /// How many leading bytes of `blob` the CA signed.
    signed_len: usize,
}

impl Certificate {
    /// Parses a certificate blob (the key blob of a `*-cert-v01@openssh.com` key). Only the
    /// encoding is checked: the certified and CA keys must parse (and not be certificates),
    /// lists must be well formed, option names unique and at most 256 entries each; nothing
    /// about trust.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if the blob does not decode, [`CryptoError::BadPublicKey`]
    /// for an unknown certificate type or an unacceptable key.
    pub fn from_blob(blob: &[u8]) -> Result<Certificate, Error> {
        let mut r = Reader::new(blob);
        let type_name = r.string("certificate type")?;
        let plain_type = cert_key_type(type_name)
            .map(plain_algorithm)
            .ok_or(CryptoError::BadPublicKey)?;
        let nonce = r.string("certificate nonce")?.to_vec();
        // The certified key's own fields follow, as in its plain blob after the type name.
        // ECDSA: curve name and point; RSA: e and n; Ed25519: the key; FIDO keys add the
        // application.
        let fields_count = match plain_type {
            SSH_ED25519 => 1,
            super::sk::SK_SSH_ED25519 => 2,
            super::sk::SK_ECDSA_SHA2_NISTP256 => 3,
            _ => 2,
        };
        let before = r.rest();
        for _ in 0..fields_count {
            r.string("certified key")?;
        }
        let key_fields = before
            .get(..before.len() - r.remaining())
            .ok_or(InvalidMessage::Truncated("certified key"))?;
        let mut plain = Vec::with_capacity(key_fields.len() + 32);
        put_string(&mut plain, plain_type.as_bytes());
        plain.extend_from_slice(key_fields);
        let key = PublicKey::from_blob(&plain)?;
        let serial = r.u64("certificate serial")?;
        let cert_type = match r.u32("certificate type code")? {
            1 => CertType::User,
            2 => CertType::Host,
            _ => return Err(InvalidMessage::BadValue("certificate type code").into()),
        };
        let key_id = r.utf8("certificate key id")?.to_owned();
        let principals = parse_principals(r.string("certificate principals")?)?;
        let valid_after = r.u64("certificate valid after")?;
        let valid_before = r.u64("certificate valid before")?;
        let critical_options = parse_options(r.string("certificate critical options")?)?;
        let extensions = parse_options(r.string("certificate extensions")?)?;
        r.string("certificate reserved")?;
        let signature_key = PublicKey::from_blob(r.string("certificate signature key")?)?;
        if matches!(signature_key, PublicKey::Certificate(_)) {
            return Err(CryptoError::BadPublicKey.into());
        }
        let signed_len = blob.len() - r.remaining();
        let signature = r.string("certificate signature")?.to_vec();
        r.end("certificate")?;
        Ok(Certificate {
            fields: CertFields {
                nonce,
                key,
                serial,
                cert_type,
                key_id,
                principals,
                valid_after,
                valid_before,
                critical_options,
                extensions,
            },
            signature_key,
            signature,
            blob: blob.to_vec(),
            signed_len,
        })
    }

    /// Issues a certificate: encodes `fields`, signs them with the CA key `ca` using the
    /// signature algorithm `alg` (one of `ca.public_key().signature_algorithms()`), and
    /// returns the result as parsed back.
    ///
    /// # Errors
    /// [`CryptoError::BadPublicKey`] if the certified or CA key is itself a certificate,
    /// [`CryptoError::Signing`] if the CA cannot sign with `alg`.
    pub fn issue(
        fields: &CertFields,
        ca: &super::PrivateKey,
        alg: &str,
    ) -> Result<Certificate, Error> {
        let ca_public = ca.public_key();
        let mut blob = fields.encode_tbs(&ca_public)?;
        let sig = ca.sign(alg, &blob)?;
        put_string(&mut blob, &sig);
        Certificate::from_blob(&blob)
    }

    /// 32 random bytes from the operating system, for [`CertFields::nonce`].
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the random number generator fails.
    pub fn random_nonce() -> Result<Vec<u8>, Error> {
        let mut nonce = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
            .map_err(|_| CryptoError::Rng)?;
        Ok(nonce)
    }

    /// The signed contents.
    pub fn fields(&self) -> &CertFields {
        &self.fields
    }

    /// The certified key.
    pub fn key(&self) -> &PublicKey {
        &self.fields.key
    }

    /// The CA key that signed the certificate.
    pub fn signature_key(&self) -> &PublicKey {
        &self.signature_key
    }

    /// The CA's signature blob (`string(alg) string(signature)`).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signature algorithm the CA used, if the signature blob names one.
    pub fn signature_algorithm(&self) -> Option<String> {
        Reader::new(&self.signature)
            .utf8("signature algorithm")
            .ok()
            .map(str::to_owned)
    }

    /// The whole certificate blob.
    pub fn to_blob(&self) -> Vec<u8> {
        self.blob.clone()
    }

    /// The certificate key type name, e.g. `"ssh-ed25519-cert-v01@openssh.com"`.
    pub fn key_type(&self) -> &'static str {
        cert_type_name(&self.fields.key)
    }

    /// The certificate signature algorithms this certificate can be used with.
    pub fn signature_algorithms(&self) -> &'static [&'static str] {
        match &self.fields.key {
            PublicKey::Ed25519(_) => &CERT_ALGORITHMS[0..1],
            PublicKey::Ecdsa { curve, .. } => match curve {
                EcdsaCurve::NistP256 => &CERT_ALGORITHMS[1..2],
                EcdsaCurve::NistP384 => &CERT_ALGORITHMS[2..3],
                EcdsaCurve::NistP521 => &CERT_ALGORITHMS[3..4],
            },
            PublicKey::Rsa { .. } => &CERT_ALGORITHMS[4..7],
            PublicKey::SkEd25519 { .. } => &CERT_ALGORITHMS[7..8],
            PublicKey::SkEcdsa { .. } => &CERT_ALGORITHMS[8..9],
            PublicKey::Certificate(_) | PublicKey::MlDsa44Ed25519(_) => &[],
        }
    }

    /// Checks the CA signature over the certificate. CA signatures with SHA-1 RSA
    /// (`ssh-rsa`) are refused, as OpenSSH's default `CASignatureAlgorithms` does.
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`] if the signature does not verify or uses SHA-1.
    pub fn verify_signature(&self) -> Result<(), Error> {
        let alg = self
            .signature_algorithm()
            .ok_or(CryptoError::BadSignature)?;
        let allowed = [
            SSH_ED25519,
            RSA_SHA2_512,
            RSA_SHA2_256,
            "ecdsa-sha2-nistp256",
            "ecdsa-sha2-nistp384",
            "ecdsa-sha2-nistp521",
        ];
        if !allowed.contains(&alg.as_str()) {
            return Err(CryptoError::BadSignature.into());
        }
        let signed = self
            .blob
            .get(..self.signed_len)
            .ok_or(CryptoError::BadSignature)?;
        self.signature_key
            .verify(&alg, signed, &self.signature)
            .map_err(|_| CryptoError::BadSignature.into())
    }
}

/// Parses the packed principals list.
fn parse_principals(data: &[u8]) -> Result<Vec<String>, Error> {
    let mut r = Reader::new(data);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        if out.len() >= MAX_LIST {
            return Err(InvalidMessage::BadValue("too many certificate principals").into());
        }
        out.push(r.utf8("certificate principal")?.to_owned());
    }
    Ok(out)
}

/// Parses a packed option list (`string name, string data` pairs); names must be unique.
fn parse_options(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut r = Reader::new(data);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    while r.remaining() > 0 {
        if out.len() >= MAX_LIST {
            return Err(InvalidMessage::BadValue("too many certificate options").into());
        }
        let name = r.utf8("certificate option name")?.to_owned();
        let value = r.string("certificate option data")?.to_vec();
        if out.iter().any(|(n, _)| *n == name) {
            return Err(InvalidMessage::BadValue("duplicate certificate option").into());
        }
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "cert_tests.rs"]
mod tests;
