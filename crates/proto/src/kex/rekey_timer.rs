//! When to rekey: by time (OpenSSH's `RekeyLimit` second field), once the current keys are
//! `interval` old — time is an input, the connection feeds it `now` — and by volume, after
//! the configured byte limit or the cipher's own limit, whichever comes first.

use super::negotiate::Negotiated;
use crate::crypto::CipherAlg;
use std::time::{Duration, Instant};

/// The bytes one direction may carry under one key, by the cipher's block size, as OpenSSH
/// (`packet.c`) decides when no `RekeyLimit` is set: 2^(4·block bytes) blocks for 16-byte
/// blocks (64 GiB for AES), 1 GiB for 8-byte blocks (chacha20-poly1305's nominal block, and
/// 3DES, where Sweet32 makes large volumes under one key dangerous).
pub fn cipher_volume_limit(cipher: CipherAlg) -> u64 {
    let block = cipher.block_len() as u64;
    if block >= 16 {
        (1u64 << (block * 2).min(40)).saturating_mul(block)
    } else {
        1 << 30
    }
}

/// The volume limit in force: the configured one, or the negotiated ciphers' if lower.
pub(crate) fn volume_limit(configured: u64, negotiated: Option<&Negotiated>) -> u64 {
    negotiated.map_or(configured, |n| {
        configured
            .min(cipher_volume_limit(n.cipher_c2s))
            .min(cipher_volume_limit(n.cipher_s2c))
    })
}

/// The deadline of the next time-based rekey.
#[derive(Debug, Clone)]
pub(crate) struct RekeyTimer {
    interval: Option<Duration>,
    deadline: Option<Instant>,
    seen: u64,
    /// A rekey fell due before authentication and waits for it.
    deferred: bool,
}

impl RekeyTimer {
    /// A timer for `interval` (none: never), armed once the first exchange completes.
    pub fn new(interval: Option<Duration>) -> RekeyTimer {
        RekeyTimer {
            interval,
            deadline: None,
            seen: 0,
            deferred: false,
        }
    }

    /// Notes the number of completed exchanges at `now`: a new one restarts the clock.
    pub fn observe(&mut self, completed: u64, now: Instant) {
        if completed != self.seen {
            self.seen = completed;
            self.deadline = self.interval.map(|i| now + i);
        }
    }

    /// A rekey fell due before user authentication: it waits for [`undefer`](Self::undefer).
    pub fn defer(&mut self) {
        self.deferred = true;
    }

    /// The user is authenticated: a deferred rekey is due at `now`.
    pub fn undefer(&mut self, now: Instant) {
        if std::mem::take(&mut self.deferred) {
            self.deadline = Some(now);
        }
    }

    /// When the next rekey is due, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether a rekey is due at `now`; if so the timer waits for the exchange to complete.
    pub fn take_due(&mut self, now: Instant) -> bool {
        match self.deadline {
            Some(d) if now >= d => {
                self.deadline = None;
                true
            }
            _ => false,
        }
    }
}

/// The earlier of two optional instants.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod volume_tests {
    use super::cipher_volume_limit;
    use crate::crypto::CipherAlg;

    #[test]
    fn openssh_cipher_based_defaults() {
        assert_eq!(cipher_volume_limit(CipherAlg::Aes256Gcm), 64 << 30);
        assert_eq!(cipher_volume_limit(CipherAlg::Aes128Ctr), 64 << 30);
        assert_eq!(cipher_volume_limit(CipherAlg::ChaCha20Poly1305), 1 << 30);
    }
}
