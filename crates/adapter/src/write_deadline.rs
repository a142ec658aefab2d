//! [`WriteDeadline`]: how long output may wait for a socket that takes none of it.
//!
//! A peer that stops reading leaves our output unsent. Reading stops too (above
//! [`SEND_HIGH_WATER`](crate::SEND_HIGH_WATER)), so memory stays bounded, but the connection
//! would live forever. The deadline ends it: it is armed when output is waiting, pushed back
//! whenever the socket takes some bytes, and cleared once everything is written. Once the
//! connection is closing (its DISCONNECT queued), the wait is short: a peer that does not take
//! its last bytes does not hold the connection open.

use std::time::{Duration, Instant};

/// The default time unsent output may make no progress before the connection is dropped.
/// Generous on purpose: TCP itself retries for minutes, and the login grace time and
/// keepalives cover the usual cases earlier.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a closing connection's last bytes may make no progress before the socket is
/// closed anyway.
pub const CLOSING_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The write-stall deadline of one connection (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct WriteDeadline {
    /// The stall allowed while the connection is open; `None`: no limit.
    timeout: Option<Duration>,
    /// When the socket must next take a byte; `None`: nothing is waiting.
    at: Option<Instant>,
    closing: bool,
}

impl WriteDeadline {
    pub fn new(timeout: Option<Duration>) -> WriteDeadline {
        WriteDeadline {
            timeout,
            at: None,
            closing: false,
        }
    }

    /// Sets the stall allowed while the connection is open (`None`: no limit).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
        self.at = None;
    }

    fn allowed(&self) -> Option<Duration> {
        if self.closing {
            Some(
                self.timeout
                    .map_or(CLOSING_WRITE_TIMEOUT, |t| t.min(CLOSING_WRITE_TIMEOUT)),
            )
        } else {
            self.timeout
        }
    }

    /// The connection began closing at `now`: from here on the short wait applies.
    pub fn closing(&mut self, now: Instant) {
        if !self.closing {
            self.closing = true;
            let short = self.allowed().map(|d| now + d);
            self.at = match (self.at, short) {
                (Some(a), Some(s)) => Some(a.min(s)),
                (a, s) => a.or(s),
            };
        }
    }

    /// Whether the connection is closing (the short wait applies).
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// Output is waiting at `now` (`unsent` bytes); `progress`: the socket just took some.
    pub fn waiting(&mut self, now: Instant, unsent: usize, progress: bool) {
        if unsent == 0 {
            self.at = None;
        } else if progress || self.at.is_none() {
            self.at = self.allowed().map(|d| now + d);
        }
    }

    /// When the socket must next take a byte.
    pub fn next(&self) -> Option<Instant> {
        self.at
    }

    /// Whether the deadline has passed at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        self.at.is_some_and(|at| now >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_while_waiting_pushed_back_by_progress_cleared_when_sent() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut d = WriteDeadline::new(Some(10 * s));
        d.waiting(t0, 0, false);
        assert_eq!(d.next(), None);
        d.waiting(t0, 100, false);
        assert_eq!(d.next(), Some(t0 + 10 * s));
        // No progress: the deadline stays where it was.
        d.waiting(t0 + 5 * s, 100, false);
        assert_eq!(d.next(), Some(t0 + 10 * s));
        assert!(!d.expired(t0 + 9 * s));
        // Progress pushes it back.
        d.waiting(t0 + 6 * s, 50, true);
        assert_eq!(d.next(), Some(t0 + 16 * s));
        assert!(d.expired(t0 + 16 * s));
        d.waiting(t0 + 7 * s, 0, true);
        assert_eq!(d.next(), None);
        assert!(!d.expired(t0 + 100 * s));
    }

    #[test]
    fn closing_shortens_the_wait_even_without_a_limit() {
        let t0 = Instant::now();
        let mut d = WriteDeadline::new(None);
        d.waiting(t0, 100, false);
        assert_eq!(d.next(), None, "no limit while open");
        d.closing(t0);
        assert_eq!(d.next(), Some(t0 + CLOSING_WRITE_TIMEOUT));
        let mut d = WriteDeadline::new(Some(Duration::from_secs(300)));
        d.waiting(t0, 100, false);
        d.closing(t0 + Duration::from_secs(1));
        assert_eq!(
            d.next(),
            Some(t0 + Duration::from_secs(1) + CLOSING_WRITE_TIMEOUT)
        );
    }
}
