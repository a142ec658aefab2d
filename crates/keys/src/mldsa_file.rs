//! The `ssh-mldsa44-ed25519` private section of an `openssh-key-v1` file, as OpenSSH 10.6
//! (and puressh) write it: `string public (1344 bytes)`, `string seeds (64 bytes: ML-DSA-44
//! seed, Ed25519 seed)`.

use seashell_proto::PrivateKey;
use seashell_proto::keys::mldsa::PUBLIC_KEY_LEN;
use seashell_proto::wire::Reader;
use zeroize::Zeroizing;

use crate::KeyFileError;

/// Reads the key fields after the type name and checks that the seeds give the public key.
pub(crate) fn parse_mldsa44_ed25519(p: &mut Reader<'_>) -> Result<PrivateKey, KeyFileError> {
    let bad = |what| move |_| KeyFileError::Malformed(what);
    let public = p
        .string("mldsa44-ed25519 public key")
        .map_err(bad("mldsa44-ed25519 public key"))?;
    let seeds = p
        .string("mldsa44-ed25519 seeds")
        .map_err(bad("mldsa44-ed25519 seeds"))?;
    if public.len() != PUBLIC_KEY_LEN {
        return Err(KeyFileError::Malformed("mldsa44-ed25519 public key"));
    }
    let mut seed_array = Zeroizing::new([0u8; 64]);
    if seeds.len() != 64 {
        return Err(KeyFileError::Malformed("mldsa44-ed25519 seeds"));
    }
    seed_array.copy_from_slice(seeds);
    let key = PrivateKey::mldsa44_ed25519_from_seeds(&seed_array)
        .map_err(|_| KeyFileError::Malformed("mldsa44-ed25519 seeds"))?;
    match key.public_key() {
        seashell_proto::PublicKey::MlDsa44Ed25519(pk) if pk == public => Ok(key),
        _ => Err(KeyFileError::Mismatch),
    }
}
