//! OpenSSH key files: the `openssh-key-v1` private key format (`PROTOCOL.key` in the OpenSSH
//! sources) and one-line public keys (`type base64 [comment]`).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use base64ct::{Base64, Encoding};
use seashell_proto::error::InvalidMessage;
use seashell_proto::keys::{EcdsaCurve, PrivateKey, PublicKey};
use seashell_proto::wire::Reader;
use zeroize::Zeroizing;

use crate::KeyFileError;
pub use crate::encrypted::MAX_KDF_ROUNDS;
use crate::encrypted::{Sealed, check_sealed, decrypt};

pub(crate) const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
pub(crate) const END: &str = "-----END OPENSSH PRIVATE KEY-----";
pub(crate) const MAGIC: &[u8] = b"openssh-key-v1\0";
/// The block size of the `none` cipher: the private section is padded to a multiple of it.
pub(crate) const NONE_BLOCK_SIZE: usize = 8;
/// Key files larger than this are refused by [`load_private_key`] (real ones are < 4 KiB).
pub(crate) const MAX_KEY_FILE: u64 = 1 << 20;
/// Key type names in messages are cut to this many characters.
const MAX_NAME_IN_MESSAGE: usize = 64;

/// The RSA modulus sizes we sign with, in bits (ring up to 4096, crypto-bigint above).
const RSA_SIGN_BITS: core::ops::RangeInclusive<usize> =
    seashell_proto::keys::RSA_SIGN_MIN_BITS..=seashell_proto::keys::RSA_SIGN_MAX_BITS;

/// Parses an OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`) that is not
/// protected by a passphrase.
///
/// Supported key types: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384`,
/// `ecdsa-sha2-nistp521` and `ssh-rsa` (2048 to 8192 bits). The public key in the file's
/// header must equal the key in its private section. Every decoded secret buffer is wiped
/// before this returns.
///
/// # Errors
/// - [`KeyFileError::NotOpenSsh`] if the text is not in this format (for example a PEM or
///   PKCS#8 key);
/// - [`KeyFileError::Encrypted`] if the key is protected by a passphrase (use
///   [`parse_private_key_with_passphrase`]);
/// - [`KeyFileError::Unsupported`] for other key types, sizes or several keys in one file;
/// - [`KeyFileError::Mismatch`] if the header and private section disagree;
/// - [`KeyFileError::Malformed`] for anything damaged.
pub fn parse_private_key(text: &str) -> Result<PrivateKey, KeyFileError> {
    parse_private_key_inner(text, None)
}

/// Parses an OpenSSH private key file, decrypting it with `passphrase` if it is encrypted
/// (an unencrypted key is returned as by [`parse_private_key`], the passphrase unused).
///
/// Encrypted keys use the `bcrypt` KDF (at most [`MAX_KDF_ROUNDS`] rounds) and one of the
/// ciphers `ssh-keygen -Z` writes: `aes128-ctr`, `aes192-ctr`, `aes256-ctr`, `aes128-cbc`,
/// `aes192-cbc`, `aes256-cbc`, `aes128-gcm@openssh.com`, `aes256-gcm@openssh.com`,
/// `chacha20-poly1305@openssh.com`. The derived key and IV and the decrypted section are
/// wiped before this returns; the caller owns (and should wipe) `passphrase`.
///
/// # Errors
/// As [`parse_private_key`], and:
/// - [`KeyFileError::Encrypted`] if the key is encrypted and `passphrase` is empty;
/// - [`KeyFileError::BadPassphrase`] if the passphrase is wrong (the AEAD tag fails or the
///   check integers differ after decryption);
/// - [`KeyFileError::Unsupported`] for another cipher or KDF, or more KDF rounds than
///   [`MAX_KDF_ROUNDS`] (refused before any work is done).
pub fn parse_private_key_with_passphrase(
    text: &str,
    passphrase: &[u8],
) -> Result<PrivateKey, KeyFileError> {
    parse_private_key_inner(text, Some(passphrase))
}

fn parse_private_key_inner(
    text: &str,
    passphrase: Option<&[u8]>,
) -> Result<PrivateKey, KeyFileError> {
    parse_with_comment(text, passphrase).map(|(key, _)| key)
}

/// Parses an OpenSSH private key file and returns the key with the comment of its private
/// section (readable only once decrypted).
pub(crate) fn parse_with_comment(
    text: &str,
    passphrase: Option<&[u8]>,
) -> Result<(PrivateKey, String), KeyFileError> {
    let body = text
        .trim_start()
        .strip_prefix(BEGIN)
        .ok_or(KeyFileError::NotOpenSsh)?;
    let end = body
        .find(END)
        .ok_or(KeyFileError::Malformed("armor end line"))?;
    let body = body.get(..end).ok_or(KeyFileError::Malformed("armor"))?;
    let data = decode_armored_base64(body)?;
    parse_binary(&data, passphrase)
}

/// The public key in the (never encrypted) header of an OpenSSH private key file.
pub(crate) fn header_public_key(text: &str) -> Result<PublicKey, KeyFileError> {
    let body = text
        .trim_start()
        .strip_prefix(BEGIN)
        .ok_or(KeyFileError::NotOpenSsh)?;
    let end = body
        .find(END)
        .ok_or(KeyFileError::Malformed("armor end line"))?;
    let data = decode_armored_base64(body.get(..end).unwrap_or_default())?;
    let mut r = Reader::new(&data);
    let magic = r
        .take(MAGIC.len(), "magic")
        .map_err(|_| KeyFileError::NotOpenSsh)?;
    if magic != MAGIC {
        return Err(KeyFileError::NotOpenSsh);
    }
    for what in ["cipher name", "kdf name", "kdf options"] {
        r.string(what).map_err(malformed)?;
    }
    if r.u32("number of keys").map_err(malformed)? != 1 {
        return Err(KeyFileError::Unsupported(
            "several keys in one file".to_string(),
        ));
    }
    let blob = r.string("public key").map_err(malformed)?;
    supported_type(blob)?;
    PublicKey::from_blob(blob).map_err(|_| KeyFileError::Malformed("public key"))
}

/// Reads and parses a private key file with [`parse_private_key`]. Files over 1 MiB are
/// refused without being read in full.
///
/// On Unix, a file that its group or others may read or write is refused with
/// [`KeyFileError::UnprotectedFile`] before it is read, as `ssh` does ("UNPROTECTED PRIVATE
/// KEY FILE").
///
/// # Errors
/// [`KeyFileError::Io`] if the file cannot be read, [`KeyFileError::UnprotectedFile`] (see
/// above), otherwise as [`parse_private_key`].
pub fn load_private_key(path: &Path) -> Result<PrivateKey, KeyFileError> {
    let text = read_key_file(path)?;
    parse_private_key(as_text(&text)?)
}

/// Reads and parses a private key file with [`parse_private_key_with_passphrase`], with the
/// checks of [`load_private_key`].
///
/// # Errors
/// As [`load_private_key`] and [`parse_private_key_with_passphrase`].
pub fn load_private_key_with_passphrase(
    path: &Path,
    passphrase: &[u8],
) -> Result<PrivateKey, KeyFileError> {
    let text = read_key_file(path)?;
    parse_private_key_with_passphrase(as_text(&text)?, passphrase)
}

pub(crate) fn as_text(bytes: &[u8]) -> Result<&str, KeyFileError> {
    core::str::from_utf8(bytes).map_err(|_| KeyFileError::NotOpenSsh)
}

/// Opens a key file, checks its permissions and size, and reads it into a wiped buffer.
pub(crate) fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    check_permissions(&meta)?;
    let size = meta.len();
    if size > MAX_KEY_FILE {
        return Err(KeyFileError::Unsupported(
            "key file larger than 1 MiB".to_string(),
        ));
    }
    // Reserve the whole size up front, so the secret is not left behind in reallocated
    // buffers (unless the file grows while it is read).
    let capacity = usize::try_from(size).unwrap_or(0).saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_KEY_FILE {
        return Err(KeyFileError::Unsupported(
            "key file larger than 1 MiB".to_string(),
        ));
    }
    Ok(bytes)
}

/// Refuses a regular file whose mode lets group or others in (`mode & 0o077`), as OpenSSH's
/// `sshkey_perm_ok` does.
#[cfg(unix)]
fn check_permissions(meta: &std::fs::Metadata) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if meta.is_file() && mode & 0o077 != 0 {
        return Err(KeyFileError::UnprotectedFile { mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_meta: &std::fs::Metadata) -> Result<(), KeyFileError> {
    Ok(())
}

/// Parses a public key line as in `id_ed25519.pub`: `type base64 [comment]`. Returns the key
/// and the comment (empty if there is none).
///
/// # Errors
/// [`KeyFileError::Malformed`] if the line does not decode, [`KeyFileError::Unsupported`]
/// for other key types, [`KeyFileError::Mismatch`] if the type field differs from the type
/// inside the key blob.
pub fn parse_public_key_line(line: &str) -> Result<(PublicKey, String), KeyFileError> {
    let line = line.trim();
    let (key_type, rest) = split_token(line).ok_or(KeyFileError::Malformed("public key line"))?;
    let (b64, comment) = split_token(rest).ok_or(KeyFileError::Malformed("public key line"))?;
    let key = decode_public_key(key_type, b64)?;
    Ok((key, comment.to_string()))
}

/// Formats a public key line: `type base64`, followed by ` comment` if `comment` is not
/// empty.
pub fn format_public_key_line(key: &PublicKey, comment: &str) -> String {
    let b64 = Base64::encode_string(&key.to_blob());
    if comment.is_empty() {
        format!("{} {b64}", key.key_type())
    } else {
        format!("{} {b64} {comment}", key.key_type())
    }
}

/// Splits off the first whitespace-separated token; returns it and the rest (trimmed).
pub(crate) fn split_token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    match s.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => Some((s.get(..i)?, s.get(i..)?.trim())),
        None => Some((s, "")),
    }
}

/// Decodes the `type base64` pair of a public key line or known_hosts entry.
pub(crate) fn decode_public_key(key_type: &str, b64: &str) -> Result<PublicKey, KeyFileError> {
    let blob = Base64::decode_vec(b64).map_err(|_| KeyFileError::Malformed("base64 key data"))?;
    let blob_type = supported_type(&blob)?;
    if blob_type != key_type {
        return Err(KeyFileError::Mismatch);
    }
    PublicKey::from_blob(&blob).map_err(|_| KeyFileError::Malformed("public key"))
}

/// Reads the key type at the start of a public key blob and checks it is one we support.
fn supported_type(blob: &[u8]) -> Result<&'static str, KeyFileError> {
    let name = Reader::new(blob).string("key type").map_err(malformed)?;
    if let Some(t) = seashell_proto::keys::cert::cert_key_type(name)
        .or_else(|| seashell_proto::keys::sk::sk_key_type(name))
    {
        return Ok(t);
    }
    if let Some(curve) = EcdsaCurve::from_key_type(name) {
        return Ok(curve.key_type());
    }
    match name {
        b"ssh-ed25519" => Ok("ssh-ed25519"),
        b"ssh-rsa" => Ok("ssh-rsa"),
        other => Err(KeyFileError::Unsupported(format!(
            "key type {}",
            printable(other)
        ))),
    }
}

/// A bounded, printable rendering of a name from a file, for messages.
pub(crate) fn printable(name: &[u8]) -> String {
    name.iter()
        .take(MAX_NAME_IN_MESSAGE)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// Maps a decoding error to [`KeyFileError::Malformed`] naming the field.
pub(crate) fn malformed(e: InvalidMessage) -> KeyFileError {
    match e {
        InvalidMessage::Truncated(what)
        | InvalidMessage::TrailingBytes(what)
        | InvalidMessage::BadValue(what)
        | InvalidMessage::NotUtf8(what) => KeyFileError::Malformed(what),
        _ => KeyFileError::Malformed("key data"),
    }
}

/// Decodes the base64 between the armor lines, ignoring whitespace, into a wiped buffer.
pub(crate) fn decode_armored_base64(body: &str) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let mut compact = Zeroizing::new(Vec::with_capacity(body.len()));
    compact.extend(body.bytes().filter(|b| !b.is_ascii_whitespace()));
    let mut out = Zeroizing::new(vec![0u8; compact.len() / 4 * 3 + 3]);
    let len = Base64::decode(compact.as_slice(), out.as_mut_slice())
        .map_err(|_| KeyFileError::Malformed("base64 body"))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Parses the decoded `openssh-key-v1` structure.
fn parse_binary(
    data: &[u8],
    passphrase: Option<&[u8]>,
) -> Result<(PrivateKey, String), KeyFileError> {
    let mut r = Reader::new(data);
    let magic = r
        .take(MAGIC.len(), "magic")
        .map_err(|_| KeyFileError::NotOpenSsh)?;
    if magic != MAGIC {
        return Err(KeyFileError::NotOpenSsh);
    }
    let cipher = r.string("cipher name").map_err(malformed)?;
    let kdf = r.string("kdf name").map_err(malformed)?;
    let kdf_options = r.string("kdf options").map_err(malformed)?;
    if cipher == b"none" && (kdf != b"none" || !kdf_options.is_empty()) {
        return Err(KeyFileError::Malformed("kdf for an unencrypted key"));
    }
    let count = r.u32("number of keys").map_err(malformed)?;
    if count != 1 {
        return Err(KeyFileError::Unsupported(format!(
            "{count} keys in one file (exactly one is supported)"
        )));
    }
    let public_blob = r.string("public key").map_err(malformed)?;
    let private = r.string("private section").map_err(malformed)?;
    let trailer = r.rest();

    let key_type = supported_type(public_blob)?;
    let header_key =
        PublicKey::from_blob(public_blob).map_err(|_| KeyFileError::Malformed("public key"))?;
    let (key, comment) = if cipher == b"none" {
        if !trailer.is_empty() {
            return Err(KeyFileError::Malformed("key file"));
        }
        parse_private_section(private, key_type, NONE_BLOCK_SIZE, false)?
    } else {
        let sealed = Sealed {
            cipher,
            kdf,
            kdf_options,
            encrypted: private,
            trailer,
        };
        let Some(passphrase) = passphrase else {
            check_sealed(&sealed)?;
            return Err(KeyFileError::Encrypted);
        };
        let (plain, block) = decrypt(&sealed, passphrase)?;
        parse_private_section(&plain, key_type, block, true)?
    };
    if key.public_key() != header_key {
        return Err(KeyFileError::Mismatch);
    }
    Ok((key, comment))
}

/// Checks a (decrypted) private section's padding to the cipher's `block` and its two check
/// integers, and returns a reader after them. Unequal check integers mean a wrong passphrase
/// when the section was `decrypted`, a damaged file otherwise.
fn private_section_reader(
    private: &[u8],
    block: usize,
    decrypted: bool,
) -> Result<Reader<'_>, KeyFileError> {
    if !private.len().is_multiple_of(block) {
        return Err(KeyFileError::Malformed("private section length"));
    }
    let mut p = Reader::new(private);
    let check1 = p.u32("check integer").map_err(malformed)?;
    let check2 = p.u32("check integer").map_err(malformed)?;
    if check1 != check2 {
        return Err(if decrypted {
            KeyFileError::BadPassphrase
        } else {
            KeyFileError::Malformed("check integers")
        });
    }
    Ok(p)
}

/// Parses the (plaintext) private section: check integers, one key, comment, padding to
/// `block` bytes. Differing check integers in a `decrypted` section mean a wrong passphrase.
fn parse_private_section(
    private: &[u8],
    key_type: &str,
    block: usize,
    decrypted: bool,
) -> Result<(PrivateKey, String), KeyFileError> {
    let mut p = private_section_reader(private, block, decrypted)?;
    let private_type = p.string("private key type").map_err(malformed)?;
    if private_type != key_type.as_bytes() {
        return Err(KeyFileError::Mismatch);
    }
    let curve = EcdsaCurve::from_key_type(key_type.as_bytes());
    let key = match (key_type, curve) {
        (_, Some(curve)) => parse_ecdsa(&mut p, curve)?,
        ("ssh-ed25519", None) => parse_ed25519(&mut p)?,
        ("ssh-rsa", None) => parse_rsa(&mut p)?,
        ("ssh-mldsa44-ed25519", None) => crate::mldsa_file::parse_mldsa44_ed25519(&mut p)?,
        (other, None) => return Err(KeyFileError::Unsupported(format!("key type {other}"))),
    };
    let comment = p.string("comment").map_err(malformed)?;
    let comment = String::from_utf8_lossy(comment).into_owned();
    let padding = p.rest();
    let in_order = padding
        .iter()
        .enumerate()
        .all(|(i, &b)| usize::from(b) == i + 1);
    if !in_order || padding.len() >= block {
        return Err(KeyFileError::Malformed("private section padding"));
    }
    Ok((key, comment))
}

fn parse_ed25519(p: &mut Reader<'_>) -> Result<PrivateKey, KeyFileError> {
    let public = p.string("ed25519 public key").map_err(malformed)?;
    let secret = p.string("ed25519 private key").map_err(malformed)?;
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| KeyFileError::Malformed("ed25519 public key"))?;
    if secret.len() != 64 {
        return Err(KeyFileError::Malformed("ed25519 private key"));
    }
    let (seed, public_copy) = secret.split_at(32);
    if public_copy != public {
        return Err(KeyFileError::Mismatch);
    }
    let mut seed_array = Zeroizing::new([0u8; 32]);
    seed_array.copy_from_slice(seed);
    PrivateKey::ed25519_from_seed_and_public(&seed_array, &public)
        .map_err(|_| KeyFileError::Mismatch)
}

fn parse_ecdsa(p: &mut Reader<'_>, curve: EcdsaCurve) -> Result<PrivateKey, KeyFileError> {
    let identifier = p.string("ecdsa curve name").map_err(malformed)?;
    if identifier != curve.identifier().as_bytes() {
        return Err(KeyFileError::Malformed("ecdsa curve name"));
    }
    let q = p.string("ecdsa public point").map_err(malformed)?;
    let d = p
        .mpint_positive("ecdsa private scalar")
        .map_err(malformed)?;
    PrivateKey::ecdsa_from_scalar(curve, d, q)
        .map_err(|_| KeyFileError::Malformed("ecdsa private key"))
}

fn parse_rsa(p: &mut Reader<'_>) -> Result<PrivateKey, KeyFileError> {
    let n = p.mpint_positive("rsa modulus").map_err(malformed)?;
    let e = p.mpint_positive("rsa public exponent").map_err(malformed)?;
    let d = p
        .mpint_positive("rsa private exponent")
        .map_err(malformed)?;
    let iqmp = p.mpint_positive("rsa iqmp").map_err(malformed)?;
    let prime_p = p.mpint_positive("rsa prime p").map_err(malformed)?;
    let prime_q = p.mpint_positive("rsa prime q").map_err(malformed)?;
    check_rsa_bits(n)?;
    PrivateKey::rsa_from_components(n, e, d, iqmp, prime_p, prime_q)
        .map_err(|_| KeyFileError::Malformed("rsa key components"))
}

/// Refuses RSA moduli outside the sizes we sign with (2048 to 8192 bits), naming the size.
pub(crate) fn check_rsa_bits(n: &[u8]) -> Result<(), KeyFileError> {
    let start = n.iter().position(|&b| b != 0).unwrap_or(n.len());
    let n = n.get(start..).unwrap_or_default();
    let bits = bit_len(n);
    if !RSA_SIGN_BITS.contains(&bits) {
        return Err(KeyFileError::Unsupported(format!(
            "{bits}-bit RSA key ({} to {} bits are supported)",
            RSA_SIGN_BITS.start(),
            RSA_SIGN_BITS.end()
        )));
    }
    Ok(())
}

/// The bit length of a big-endian magnitude without leading zeros.
fn bit_len(m: &[u8]) -> usize {
    match m.first() {
        None => 0,
        Some(&top) => (m.len() - 1)
            .saturating_mul(8)
            .saturating_add(8 - top.leading_zeros() as usize),
    }
}
