//! A private key as the ssh-agent protocol carries it (`ADD_IDENTITY`): the key type and its
//! fields, as an `openssh-key-v1` private section holds them, and the comment. `seashell add`
//! sends these to an agent. Any key file format [`load_key_file`](crate::load_key_file)
//! reads can be added.

use std::path::Path;

use seashell_proto::keys::PrivateKey;
use zeroize::Zeroizing;

use crate::KeyFileError;
use crate::openssh_write::put_private_fields;

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

/// The agent encoding of `key`, with `comment`.
///
/// # Errors
/// [`KeyFileError::Unsupported`] for a key type the agent protocol encoding is not written
/// for here (`ssh-mldsa44-ed25519`).
pub fn agent_key(key: &PrivateKey, comment: &str) -> Result<AgentKey, KeyFileError> {
    // Large enough for an 8192-bit RSA key, so the secret is never copied by a reallocation.
    let mut blob = Zeroizing::new(Vec::with_capacity(8192));
    put_private_fields(&mut blob, key)?;
    Ok(AgentKey {
        blob,
        comment: comment.to_owned(),
    })
}

/// Reads a private key file in any supported format (decrypting it with `passphrase` if it
/// is encrypted) into its agent encoding.
///
/// # Errors
/// As [`load_key_file`](crate::load_key_file): [`KeyFileError::Encrypted`] without a
/// passphrase for an encrypted key, [`KeyFileError::BadPassphrase`],
/// [`KeyFileError::UnprotectedFile`]; and as [`agent_key`].
pub fn load_agent_key(path: &Path, passphrase: Option<&[u8]>) -> Result<AgentKey, KeyFileError> {
    let loaded = crate::load_key_file(path, passphrase).map_err(|e| e.error)?;
    agent_key(&loaded.key, &loaded.comment)
}

/// [`load_agent_key`] on the file's text.
///
/// # Errors
/// As [`load_agent_key`].
pub fn parse_agent_key(text: &str, passphrase: Option<&[u8]>) -> Result<AgentKey, KeyFileError> {
    let loaded = crate::parse_key_file(text, passphrase)?;
    agent_key(&loaded.key, &loaded.comment)
}
