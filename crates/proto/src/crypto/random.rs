//! The one injectable source of randomness of the core.

use crate::error::CryptoError;

/// A cryptographically secure random source. The core takes every random byte it chooses
/// itself (cookies, padding) from here, so tests can seed it. (ring's own key generation uses
/// ring's system RNG, which ring does not let us replace.)
pub trait SecureRandom: Send + Sync + core::fmt::Debug {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError>;
}

/// The operating system's random source, through ring.
#[derive(Debug)]
pub struct SystemRandom(ring::rand::SystemRandom);

impl SystemRandom {
    /// A new handle on the system random source.
    pub fn new() -> Self {
        SystemRandom(ring::rand::SystemRandom::new())
    }
}

impl Default for SystemRandom {
    fn default() -> Self {
        SystemRandom::new()
    }
}

impl SecureRandom for SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        ring::rand::SecureRandom::fill(&self.0, dest).map_err(|_| CryptoError::Rng)
    }
}
