//! Rekeying by time (OpenSSH's `RekeyLimit` second field): a re-exchange starts once the
//! current keys are `interval` old. Time is an input: the connection feeds it `now`.

use std::time::{Duration, Instant};

/// The deadline of the next time-based rekey.
#[derive(Debug, Clone)]
pub(crate) struct RekeyTimer {
    interval: Option<Duration>,
    deadline: Option<Instant>,
    seen: u64,
}

impl RekeyTimer {
    /// A timer for `interval` (none: never), armed once the first exchange completes.
    pub fn new(interval: Option<Duration>) -> RekeyTimer {
        RekeyTimer {
            interval,
            deadline: None,
            seen: 0,
        }
    }

    /// Notes the number of completed exchanges at `now`: a new one restarts the clock.
    pub fn observe(&mut self, completed: u64, now: Instant) {
        if completed != self.seen {
            self.seen = completed;
            self.deadline = self.interval.map(|i| now + i);
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
