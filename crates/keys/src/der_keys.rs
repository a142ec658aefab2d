//! The DER key structures of PEM files, decoded and encoded with RustCrypto's `pkcs1`, `sec1`
//! and `pkcs8` crates: PKCS#1 `RSAPrivateKey` (`BEGIN RSA PRIVATE KEY`), SEC1
//! `ECPrivateKey` (`BEGIN EC PRIVATE KEY`), PKCS#8 `PrivateKeyInfo` (`BEGIN PRIVATE KEY`, for
//! RSA, ECDSA on the NIST curves and Ed25519 as RFC 8410) and PKCS#8
//! `EncryptedPrivateKeyInfo` (`BEGIN ENCRYPTED PRIVATE KEY`, PBES2 with PBKDF2 or scrypt).
//!
//! Every KDF cost is checked against a cap before any derivation work is done.

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef, UintRef};
use der::{Decode, Encode};
use pkcs8::pkcs5::{EncryptionScheme, pbes2};
use pkcs8::{AlgorithmIdentifierRef, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use seashell_proto::keys::{EcdsaCurve, PrivateKey, SecretParts};
use sec1::{EcParameters, EcPrivateKey};
use zeroize::Zeroizing;

use crate::KeyFileError;

/// `rsaEncryption` (PKCS#1).
pub(crate) const RSA_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-ecPublicKey` (RFC 5480).
pub(crate) const EC_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `id-Ed25519` (RFC 8410).
pub(crate) const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// The most PBKDF2 iterations accepted in an encrypted PKCS#8 file. OpenSSL writes 2048,
/// RustCrypto 600,000; 2,000,000 SHA-256 iterations take about 1 s.
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
/// The most memory a scrypt KDF in an encrypted PKCS#8 file may ask for (128·r·N·p bytes):
/// 256 MiB. OpenSSL's `-scrypt` default (N = 2^14, r = 8, p = 1) needs 16 MiB.
pub const MAX_SCRYPT_MEMORY: u64 = 256 << 20;
/// PBKDF2 iterations written by [`encrypt_pkcs8`].
const WRITE_PBKDF2_ITERATIONS: u32 = 100_000;

fn der_err(what: &'static str) -> impl Fn(der::Error) -> KeyFileError {
    move |_| KeyFileError::Malformed(what)
}

/// The curve named by an OID.
pub(crate) fn curve_from_oid(oid: ObjectIdentifier) -> Result<EcdsaCurve, KeyFileError> {
    match oid {
        P256_OID => Ok(EcdsaCurve::NistP256),
        P384_OID => Ok(EcdsaCurve::NistP384),
        P521_OID => Ok(EcdsaCurve::NistP521),
        other => Err(KeyFileError::Unsupported(format!("elliptic curve {other}"))),
    }
}

/// The OID of a curve.
pub(crate) fn curve_oid(curve: EcdsaCurve) -> ObjectIdentifier {
    match curve {
        EcdsaCurve::NistP256 => P256_OID,
        EcdsaCurve::NistP384 => P384_OID,
        EcdsaCurve::NistP521 => P521_OID,
    }
}

/// The structure of a binary (DER) private key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DerKind {
    /// PKCS#8 `PrivateKeyInfo`.
    Pkcs8,
    /// PKCS#8 `EncryptedPrivateKeyInfo`.
    EncryptedPkcs8,
    /// PKCS#1 `RSAPrivateKey`.
    Pkcs1,
    /// SEC1 `ECPrivateKey`.
    Sec1,
}

/// Which private key structure `der` holds, if any (decoded, not yet checked as a key).
pub(crate) fn sniff_der(der: &[u8]) -> Option<DerKind> {
    if PrivateKeyInfoRef::from_der(der).is_ok() {
        Some(DerKind::Pkcs8)
    } else if EncryptedPrivateKeyInfoRef::from_der(der).is_ok() {
        Some(DerKind::EncryptedPkcs8)
    } else if pkcs1::RsaPrivateKeyRef::from_der(der).is_ok() {
        Some(DerKind::Pkcs1)
    } else if EcPrivateKey::from_der(der).is_ok() {
        Some(DerKind::Sec1)
    } else {
        None
    }
}

/// Builds a key from a PKCS#1 `RSAPrivateKey`.
pub(crate) fn rsa_from_pkcs1(der: &[u8]) -> Result<PrivateKey, KeyFileError> {
    let k = pkcs1::RsaPrivateKeyRef::from_der(der).map_err(der_err("PKCS#1 RSA private key"))?;
    if k.other_prime_infos.is_some() {
        return Err(KeyFileError::Unsupported(
            "multi-prime RSA private key".to_string(),
        ));
    }
    crate::openssh::check_rsa_bits(k.modulus.as_bytes())?;
    PrivateKey::rsa_from_components(
        k.modulus.as_bytes(),
        k.public_exponent.as_bytes(),
        k.private_exponent.as_bytes(),
        k.coefficient.as_bytes(),
        k.prime1.as_bytes(),
        k.prime2.as_bytes(),
    )
    .map_err(|_| KeyFileError::Malformed("rsa key components"))
}

/// Builds a key from a SEC1 `ECPrivateKey`; `outer_curve` is the curve named outside it (by
/// a PKCS#8 algorithm identifier), if any.
pub(crate) fn ec_from_sec1(
    der: &[u8],
    outer_curve: Option<EcdsaCurve>,
) -> Result<PrivateKey, KeyFileError> {
    let k = EcPrivateKey::from_der(der).map_err(|_| KeyFileError::Malformed("EC private key"))?;
    let inner_curve = match k.parameters {
        Some(EcParameters::NamedCurve(oid)) => Some(curve_from_oid(oid)?),
        None => None,
    };
    let curve = match (outer_curve, inner_curve) {
        (Some(a), Some(b)) if a != b => return Err(KeyFileError::Mismatch),
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(KeyFileError::Malformed("EC private key curve")),
    };
    let point = k.public_key.ok_or_else(|| {
        KeyFileError::Unsupported("EC private key without its public key".to_string())
    })?;
    // PuTTY writes the scalar with a leading zero byte, as an ASN.1 integer would have it.
    let start = k
        .private_key
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(k.private_key.len());
    let scalar = k.private_key.get(start..).unwrap_or_default();
    if scalar.is_empty() || scalar.len() > curve.scalar_len() {
        return Err(KeyFileError::Malformed("EC private scalar"));
    }
    PrivateKey::ecdsa_from_scalar(curve, scalar, point).map_err(|_| KeyFileError::Mismatch)
}

/// Builds a key from a PKCS#8 `PrivateKeyInfo` (RSA, NIST-curve ECDSA or Ed25519).
pub(crate) fn from_pkcs8(der: &[u8]) -> Result<PrivateKey, KeyFileError> {
    let info = PrivateKeyInfoRef::from_der(der).map_err(der_err("PKCS#8 private key"))?;
    let inner = info.private_key.as_bytes();
    match info.algorithm.oid {
        RSA_OID => rsa_from_pkcs1(inner),
        EC_OID => {
            let params = info
                .algorithm
                .parameters
                .ok_or(KeyFileError::Malformed("PKCS#8 EC curve"))?;
            let oid = params
                .decode_as::<ObjectIdentifier>()
                .map_err(der_err("PKCS#8 EC curve"))?;
            ec_from_sec1(inner, Some(curve_from_oid(oid)?))
        }
        ED25519_OID => {
            let seed =
                <&OctetStringRef>::from_der(inner).map_err(der_err("Ed25519 private key"))?;
            let seed: [u8; 32] = seed
                .as_bytes()
                .try_into()
                .map_err(|_| KeyFileError::Malformed("Ed25519 private key"))?;
            let seed = Zeroizing::new(seed);
            let key = PrivateKey::ed25519_from_seed(&seed)
                .map_err(|_| KeyFileError::Malformed("Ed25519 private key"))?;
            if let Some(public) = info.public_key {
                let pk = key.public_key();
                let matches = match &pk {
                    seashell_proto::PublicKey::Ed25519(b) => public.raw_bytes() == b.as_slice(),
                    _ => false,
                };
                if !matches {
                    return Err(KeyFileError::Mismatch);
                }
            }
            Ok(key)
        }
        other => Err(KeyFileError::Unsupported(format!(
            "PKCS#8 key algorithm {}",
            algorithm_name(other)
        ))),
    }
}

/// A readable name for an algorithm OID in messages.
fn algorithm_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10040.4.1" => "DSA".to_string(),
        "1.3.101.113" => "Ed448".to_string(),
        "1.3.101.110" => "X25519".to_string(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".to_string(),
        s => s.to_string(),
    }
}

/// Checks the KDF and cipher of an encrypted PKCS#8 key against the caps (no passphrase
/// needed).
pub(crate) fn check_encrypted_pkcs8(der: &[u8]) -> Result<(), KeyFileError> {
    let info = EncryptedPrivateKeyInfoRef::from_der(der)
        .map_err(der_err("PKCS#8 encrypted private key"))?;
    check_scheme(&info.encryption_algorithm)
}

fn check_scheme(scheme: &EncryptionScheme) -> Result<(), KeyFileError> {
    let params = scheme.pbes2().ok_or_else(|| {
        KeyFileError::Unsupported("PKCS#8 encryption other than PBES2 (PBES1)".to_string())
    })?;
    match &params.kdf {
        pbes2::Kdf::Pbkdf2(p) => {
            if p.iteration_count > MAX_PBKDF2_ITERATIONS {
                return Err(KeyFileError::Unsupported(format!(
                    "{} PBKDF2 iterations (at most {MAX_PBKDF2_ITERATIONS} are accepted)",
                    p.iteration_count
                )));
            }
        }
        pbes2::Kdf::Scrypt(s) => {
            let memory = 128u64
                .saturating_mul(u64::from(s.block_size))
                .saturating_mul(s.cost_parameter)
                .saturating_mul(u64::from(s.parallelization).max(1));
            if memory > MAX_SCRYPT_MEMORY || s.parallelization > 16 {
                return Err(KeyFileError::Unsupported(format!(
                    "scrypt parameters N={} r={} p={} (at most {} MiB of memory are accepted)",
                    s.cost_parameter,
                    s.block_size,
                    s.parallelization,
                    MAX_SCRYPT_MEMORY >> 20
                )));
            }
        }
        _ => {
            return Err(KeyFileError::Unsupported(
                "PKCS#8 key derivation function".to_string(),
            ));
        }
    }
    Ok(())
}

/// Decrypts an encrypted PKCS#8 key into its `PrivateKeyInfo` DER.
pub(crate) fn decrypt_pkcs8(
    der: &[u8],
    passphrase: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let info = EncryptedPrivateKeyInfoRef::from_der(der)
        .map_err(der_err("PKCS#8 encrypted private key"))?;
    check_scheme(&info.encryption_algorithm)?;
    if passphrase.is_empty() {
        return Err(KeyFileError::Encrypted);
    }
    // A wrong passphrase shows as bad CBC padding or (1 in 256) as a plaintext that is not
    // DER: both mean the passphrase is wrong.
    let doc = info
        .decrypt(passphrase)
        .map_err(|_| KeyFileError::BadPassphrase)?;
    Ok(Zeroizing::new(doc.as_bytes().to_vec()))
}

/// Encrypts `PrivateKeyInfo` DER as PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), which OpenSSL
/// and `ssh-keygen` read.
pub(crate) fn encrypt_pkcs8(der: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, KeyFileError> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    crate::generate::fill_random(&mut salt)?;
    crate::generate::fill_random(&mut iv)?;
    let params =
        pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(WRITE_PBKDF2_ITERATIONS, &salt, iv)
            .map_err(|_| KeyFileError::Malformed("PBES2 parameters"))?;
    let encrypted = Zeroizing::new(
        params
            .encrypt(passphrase, der)
            .map_err(|_| KeyFileError::Malformed("PKCS#8 encryption"))?,
    );
    let info = EncryptedPrivateKeyInfoRef {
        encryption_algorithm: params.into(),
        encrypted_data: OctetStringRef::new(&encrypted)
            .map_err(der_err("PKCS#8 encrypted data"))?,
    };
    info.to_der().map_err(der_err("PKCS#8 encoding"))
}

/// Encodes an RSA key as PKCS#1 `RSAPrivateKey` DER.
pub(crate) fn to_pkcs1(key: &PrivateKey) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let SecretParts::Rsa {
        n,
        e,
        d,
        p,
        q,
        iqmp,
        dp,
        dq,
    } = key.secret_parts()
    else {
        return Err(KeyFileError::Unsupported(
            "PKCS#1 holds only RSA keys".to_string(),
        ));
    };
    fn u(b: &[u8]) -> Result<UintRef<'_>, KeyFileError> {
        UintRef::new(b).map_err(der_err("RSA component"))
    }
    let k = pkcs1::RsaPrivateKeyRef {
        modulus: u(n)?,
        public_exponent: u(e)?,
        private_exponent: u(d)?,
        prime1: u(p)?,
        prime2: u(q)?,
        exponent1: u(dp)?,
        exponent2: u(dq)?,
        coefficient: u(iqmp)?,
        other_prime_infos: None,
    };
    Ok(Zeroizing::new(
        k.to_der().map_err(der_err("PKCS#1 encoding"))?,
    ))
}

/// Encodes an ECDSA key as SEC1 `ECPrivateKey` DER; `with_curve` puts the curve OID inside
/// (standalone SEC1 files need it; PKCS#8 names the curve outside).
pub(crate) fn to_sec1(
    key: &PrivateKey,
    with_curve: bool,
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let SecretParts::Ecdsa {
        curve,
        scalar,
        point,
    } = key.secret_parts()
    else {
        return Err(KeyFileError::Unsupported(
            "SEC1 holds only ECDSA keys".to_string(),
        ));
    };
    let k = EcPrivateKey {
        private_key: scalar,
        parameters: with_curve.then(|| EcParameters::NamedCurve(curve_oid(curve))),
        public_key: Some(point),
    };
    Ok(Zeroizing::new(
        k.to_der().map_err(der_err("SEC1 encoding"))?,
    ))
}

/// Encodes a key as PKCS#8 `PrivateKeyInfo` DER (version 1, as OpenSSL writes it).
pub(crate) fn to_pkcs8(key: &PrivateKey) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let curve_param;
    let (inner, algorithm) = match key.secret_parts() {
        SecretParts::Rsa { .. } => (
            to_pkcs1(key)?,
            AlgorithmIdentifierRef {
                oid: RSA_OID,
                parameters: Some(AnyRef::NULL),
            },
        ),
        SecretParts::Ecdsa { curve, .. } => {
            curve_param = curve_oid(curve)
                .to_der()
                .map_err(der_err("curve identifier"))?;
            (
                to_sec1(key, false)?,
                AlgorithmIdentifierRef {
                    oid: EC_OID,
                    parameters: Some(
                        AnyRef::from_der(&curve_param).map_err(der_err("curve identifier"))?,
                    ),
                },
            )
        }
        SecretParts::Ed25519 { seed, .. } => (
            Zeroizing::new(
                OctetStringRef::new(seed)
                    .and_then(|s| s.to_der())
                    .map_err(der_err("Ed25519 private key"))?,
            ),
            AlgorithmIdentifierRef {
                oid: ED25519_OID,
                parameters: None,
            },
        ),
        _ => return Err(KeyFileError::Unsupported("key type for PKCS#8".to_string())),
    };
    let info = PrivateKeyInfoRef::new(
        algorithm,
        OctetStringRef::new(&inner).map_err(der_err("PKCS#8 private key"))?,
    );
    Ok(Zeroizing::new(
        info.to_der().map_err(der_err("PKCS#8 encoding"))?,
    ))
}
