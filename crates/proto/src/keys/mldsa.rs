//! `ssh-mldsa44-ed25519`: the composite post-quantum signature of OpenSSH 10.6
//! (draft-miller-sshm-mldsa44-ed25519-composite-sigs, with the LAMPS composite construction
//! MLDSA44-Ed25519-SHA512).
//!
//! ```text
//! key blob:        string "ssh-mldsa44-ed25519", string (mldsa44_pk[1312] || ed25519_pk[32])
//! signature blob:  string "ssh-mldsa44-ed25519", string (mldsa44_sig[2420] || ed25519_sig[64])
//! private key:     mldsa44_seed[32] || ed25519_seed[32]
//! ```
//!
//! Both halves sign `M' = "CompositeAlgorithmSignatures2025" || "COMPSIG-MLDSA44-Ed25519-SHA512"
//! || 0x00 (empty context) || SHA-512(message)`; ML-DSA-44 (FIPS 204, libcrux) also takes the
//! label as its context string. A signature is valid only if both halves are.

use libcrux_ml_dsa::ml_dsa_44::{
    self, MLDSA44Signature, MLDSA44SigningKey, MLDSA44VerificationKey,
};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use zeroize::Zeroizing;

use super::PublicKey;
use crate::error::{CryptoError, Error};

/// The key type and signature algorithm name.
pub const SSH_MLDSA44_ED25519: &str = "ssh-mldsa44-ed25519";

/// The ML-DSA-44 public key length.
const MLDSA_PK: usize = 1312;
/// The ML-DSA-44 signature length.
const MLDSA_SIG: usize = 2420;
/// The composite public key length.
pub const PUBLIC_KEY_LEN: usize = MLDSA_PK + 32;
/// The composite signature length.
pub const SIGNATURE_LEN: usize = MLDSA_SIG + 64;

const PREFIX: &[u8] = b"CompositeAlgorithmSignatures2025";
const LABEL: &[u8] = b"COMPSIG-MLDSA44-Ed25519-SHA512";

/// The message representative both halves sign.
fn m_prime(msg: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(PREFIX.len() + LABEL.len() + 1 + 64);
    m.extend_from_slice(PREFIX);
    m.extend_from_slice(LABEL);
    m.push(0);
    m.extend_from_slice(digest::digest(&digest::SHA512, msg).as_ref());
    m
}

/// Checks a composite public key (the string inside the blob).
pub(crate) fn check_public(raw: &[u8]) -> Result<(), Error> {
    if raw.len() != PUBLIC_KEY_LEN {
        return Err(CryptoError::BadPublicKey.into());
    }
    Ok(())
}

/// Verifies a raw composite signature (the string inside the signature blob).
pub(crate) fn verify(public: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    let bad = || Error::Crypto(CryptoError::BadSignature);
    if sig.len() != SIGNATURE_LEN || public.len() != PUBLIC_KEY_LEN {
        return Err(bad());
    }
    let (pq_pk, ed_pk) = public.split_at(MLDSA_PK);
    let (pq_sig, ed_sig) = sig.split_at(MLDSA_SIG);
    let pq_pk: [u8; MLDSA_PK] = pq_pk.try_into().map_err(|_| bad())?;
    let pq_sig: [u8; MLDSA_SIG] = pq_sig.try_into().map_err(|_| bad())?;
    let m = m_prime(msg);
    let pq_ok = ml_dsa_44::verify(
        &MLDSA44VerificationKey::new(pq_pk),
        &m,
        LABEL,
        &MLDSA44Signature::new(pq_sig),
    )
    .is_ok();
    let ed_ok = signature::UnparsedPublicKey::new(&signature::ED25519, ed_pk)
        .verify(&m, ed_sig)
        .is_ok();
    if pq_ok && ed_ok { Ok(()) } else { Err(bad()) }
}

/// The private half: the ML-DSA-44 signing key and the Ed25519 key pair.
pub(crate) struct Signer {
    mldsa: Box<MLDSA44SigningKey>,
    ed25519: Ed25519KeyPair,
}

impl Signer {
    /// Derives both halves from the 64 seed bytes of an OpenSSH private key; returns the
    /// signer and its public key.
    pub(crate) fn from_seeds(seeds: &[u8; 64]) -> Result<(Signer, PublicKey), Error> {
        let mut pq_seed = Zeroizing::new([0u8; 32]);
        let mut ed_seed = Zeroizing::new([0u8; 32]);
        pq_seed.copy_from_slice(seeds.get(..32).ok_or(CryptoError::Signing)?);
        ed_seed.copy_from_slice(seeds.get(32..).ok_or(CryptoError::Signing)?);
        let pair = ml_dsa_44::generate_key_pair(*pq_seed);
        let ed25519 = Ed25519KeyPair::from_seed_unchecked(ed_seed.as_ref())
            .map_err(|_| CryptoError::Signing)?;
        let mut public = Vec::with_capacity(PUBLIC_KEY_LEN);
        public.extend_from_slice(pair.verification_key.as_slice());
        public.extend_from_slice(ed25519.public_key().as_ref());
        let signer = Signer {
            mldsa: Box::new(pair.signing_key),
            ed25519,
        };
        Ok((signer, PublicKey::MlDsa44Ed25519(public)))
    }

    /// A raw composite signature over `msg` (ML-DSA hedged with fresh randomness).
    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let mut rnd = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(rnd.as_mut())
            .map_err(|_| CryptoError::Rng)?;
        let m = m_prime(msg);
        let pq = ml_dsa_44::sign(&self.mldsa, &m, LABEL, *rnd).map_err(|_| CryptoError::Signing)?;
        let mut sig = Vec::with_capacity(SIGNATURE_LEN);
        sig.extend_from_slice(pq.as_slice());
        sig.extend_from_slice(self.ed25519.sign(&m).as_ref());
        Ok(sig)
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.mldsa.as_mut_slice());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    #[test]
    fn sign_verify_and_blob_round_trip() {
        let key = PrivateKey::mldsa44_ed25519_from_seeds(&[5; 64]).unwrap();
        let public = key.public_key();
        assert_eq!(public.key_type(), SSH_MLDSA44_ED25519);
        let blob = public.to_blob();
        assert_eq!(blob.len(), 4 + 19 + 4 + PUBLIC_KEY_LEN);
        assert_eq!(PublicKey::from_blob(&blob).unwrap(), public);
        let sig = key.sign(SSH_MLDSA44_ED25519, b"hello").unwrap();
        assert_eq!(sig.len(), 4 + 19 + 4 + SIGNATURE_LEN);
        public.verify(SSH_MLDSA44_ED25519, b"hello", &sig).unwrap();
        assert!(public.verify(SSH_MLDSA44_ED25519, b"hellO", &sig).is_err());
        // Each half matters: break either one.
        for at in [40, sig.len() - 10] {
            let mut bad = sig.clone();
            bad[at] ^= 1;
            assert!(public.verify(SSH_MLDSA44_ED25519, b"hello", &bad).is_err());
        }
        // The same seeds give the same key; others another.
        let again = PrivateKey::mldsa44_ed25519_from_seeds(&[5; 64]).unwrap();
        assert_eq!(again.public_key(), public);
        let other = PrivateKey::mldsa44_ed25519_from_seeds(&[6; 64]).unwrap();
        assert!(
            other
                .public_key()
                .verify(SSH_MLDSA44_ED25519, b"hello", &sig)
                .is_err()
        );
        // Wrong lengths never parse.
        let mut short = Vec::new();
        crate::wire::put_string(&mut short, SSH_MLDSA44_ED25519.as_bytes());
        crate::wire::put_string(&mut short, &[0; PUBLIC_KEY_LEN - 1]);
        assert!(PublicKey::from_blob(&short).is_err());
    }
}
