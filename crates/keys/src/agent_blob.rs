//! A private key file's key as the ssh-agent protocol carries it (`ADD_IDENTITY`): the key
//! type and its fields, exactly as in the file's (decrypted) private section, and the
//! comment. `seashell add` sends these to an agent.

use std::path::Path;

use seashell_proto::keys::EcdsaCurve;
use seashell_proto::wire::Reader;
use zeroize::Zeroizing;

use crate::KeyFileError;
use crate::encrypted::{Sealed, check_sealed, decrypt};
use crate::openssh::{
    BEGIN, END, MAGIC, NONE_BLOCK_SIZE, as_text, decode_armored_base64, malformed, read_key_file,
};

/// A key's agent encoding (type and fields, no comment) in wiped memory, and its comment.
pub struct AgentKey {
    /// The key type and its fields.
    pub blob: Zeroizing<Vec<u8>>,
    /// The comment stored with the key.
    pub comment: String,
}

impl core::fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AgentKey(<redacted>, {:?})", self.comment)
    }
}

/// Reads an OpenSSH private key file (decrypting it with `passphrase` if it is encrypted)
/// into its agent encoding.
///
/// # Errors
/// As [`load_private_key_with_passphrase`](crate::load_private_key_with_passphrase):
/// [`KeyFileError::Encrypted`] without a passphrase for an encrypted key,
/// [`KeyFileError::BadPassphrase`], [`KeyFileError::Unsupported`] for other key types.
pub fn load_agent_key(path: &Path, passphrase: Option<&[u8]>) -> Result<AgentKey, KeyFileError> {
    let bytes = read_key_file(path)?;
    parse_agent_key(as_text(&bytes)?, passphrase)
}

/// [`load_agent_key`] on the file's text.
///
/// # Errors
/// As [`load_agent_key`].
pub fn parse_agent_key(text: &str, passphrase: Option<&[u8]>) -> Result<AgentKey, KeyFileError> {
    let body = text
        .trim_start()
        .strip_prefix(BEGIN)
        .ok_or(KeyFileError::NotOpenSsh)?;
    let end = body
        .find(END)
        .ok_or(KeyFileError::Malformed("armor end line"))?;
    let data = decode_armored_base64(body.get(..end).ok_or(KeyFileError::Malformed("armor"))?)?;
    let mut r = Reader::new(&data);
    if r.take(MAGIC.len(), "magic").ok() != Some(MAGIC) {
        return Err(KeyFileError::NotOpenSsh);
    }
    let cipher = r.string("cipher name").map_err(malformed)?;
    let kdf = r.string("kdf name").map_err(malformed)?;
    let kdf_options = r.string("kdf options").map_err(malformed)?;
    if r.u32("number of keys").map_err(malformed)? != 1 {
        return Err(KeyFileError::Unsupported("several keys in one file".into()));
    }
    r.string("public key").map_err(malformed)?;
    let private = r.string("private section").map_err(malformed)?;
    let trailer = r.rest();
    if cipher == b"none" {
        return section(private, NONE_BLOCK_SIZE, false);
    }
    let sealed = Sealed {
        cipher,
        kdf,
        kdf_options,
        encrypted: private,
        trailer,
    };
    let Some(passphrase) = passphrase.filter(|p| !p.is_empty()) else {
        check_sealed(&sealed)?;
        return Err(KeyFileError::Encrypted);
    };
    let (plain, block) = decrypt(&sealed, passphrase)?;
    section(&plain, block, true)
}

fn section(private: &[u8], block: usize, decrypted: bool) -> Result<AgentKey, KeyFileError> {
    if !private.len().is_multiple_of(block) {
        return Err(KeyFileError::Malformed("private section length"));
    }
    let mut p = Reader::new(private);
    let c1 = p.u32("check integer").map_err(malformed)?;
    let c2 = p.u32("check integer").map_err(malformed)?;
    if c1 != c2 {
        return Err(if decrypted {
            KeyFileError::BadPassphrase
        } else {
            KeyFileError::Malformed("check integers")
        });
    }
    let start = p.rest();
    let key_type = p.string("private key type").map_err(malformed)?;
    let fields = match key_type {
        b"ssh-ed25519" => 2,
        b"ssh-rsa" => 6,
        t if EcdsaCurve::from_key_type(t).is_some() => 3,
        other => {
            return Err(KeyFileError::Unsupported(format!(
                "key type {}",
                String::from_utf8_lossy(other.get(..64.min(other.len())).unwrap_or_default())
            )));
        }
    };
    for _ in 0..fields {
        p.string("key field").map_err(malformed)?;
    }
    let used = start.len() - p.remaining();
    let blob = Zeroizing::new(start.get(..used).unwrap_or_default().to_vec());
    let comment = String::from_utf8_lossy(p.string("comment").map_err(malformed)?).into_owned();
    Ok(AgentKey { blob, comment })
}
