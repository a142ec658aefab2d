//! Every deadline of a connection in one table: the handshake (the client's handshake
//! timeout, the server's login grace time), keepalive (interval and count, for dead-peer
//! detection), idle timeout, and rekey by time. The role adds its own (delayed auth replies)
//! through [`Side`](super::Side). Time is an input: nothing here reads a clock.

use crate::kex::rekey_timer::{RekeyTimer, earliest};
use std::time::{Duration, Instant};

/// What fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// The handshake or login grace time ran out.
    Handshake,
    /// A keepalive is due (or too many went unanswered).
    Keepalive,
    /// Nothing arrived for the idle time.
    Idle,
    /// The keys are old enough to be replaced.
    Rekey,
}

/// Keepalive probes: one every `interval` of silence from the peer, at most `count_max`
/// unanswered before the peer is declared dead.
#[derive(Debug, Clone)]
struct Keepalive {
    interval: Option<Duration>,
    count_max: u32,
    next: Option<Instant>,
    unanswered: u32,
}

/// The connection's deadlines.
#[derive(Debug, Clone)]
pub(crate) struct Timers {
    handshake: Option<Instant>,
    pub rekey: RekeyTimer,
    keepalive: Keepalive,
    idle: Option<Duration>,
    idle_at: Option<Instant>,
    /// The latest time an input told us.
    last_now: Instant,
}

/// What the table is built from (both configurations carry these).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimerConfig {
    pub handshake: Duration,
    pub rekey_interval: Option<Duration>,
    pub keepalive_interval: Option<Duration>,
    pub keepalive_count_max: u32,
    pub idle_timeout: Option<Duration>,
}

impl Timers {
    /// A table for a connection starting at `now`.
    pub fn new(c: TimerConfig, now: Instant) -> Timers {
        Timers {
            handshake: Some(now + c.handshake),
            rekey: RekeyTimer::new(c.rekey_interval),
            keepalive: Keepalive {
                interval: c.keepalive_interval.filter(|d| !d.is_zero()),
                count_max: c.keepalive_count_max,
                next: None,
                unanswered: 0,
            },
            idle: c.idle_timeout.filter(|d| !d.is_zero()),
            idle_at: c.idle_timeout.filter(|d| !d.is_zero()).map(|d| now + d),
            last_now: now,
        }
    }

    /// The handshake is over (authenticated): its deadline goes, keepalives start, counted
    /// from the latest time an input told us.
    pub fn authenticated(&mut self) {
        self.handshake = None;
        self.rekey.undefer(self.last_now);
        self.keepalive.next = self.keepalive.interval.map(|i| self.last_now + i);
    }

    /// The latest time an input told us.
    pub fn now(&self) -> Instant {
        self.last_now
    }

    /// Something arrived from the peer: it is alive and not idle.
    pub fn heard_from_peer(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        self.keepalive.unanswered = 0;
        if let (Some(i), Some(_)) = (self.keepalive.interval, self.keepalive.next) {
            self.keepalive.next = Some(now + i);
        }
        self.idle_at = self.idle.map(|d| now + d);
    }

    /// The earliest deadline, plus `extra` (the role's own).
    pub fn next(&self, extra: Option<Instant>) -> Option<Instant> {
        [
            self.handshake,
            self.rekey.deadline(),
            self.keepalive.next,
            self.idle_at,
        ]
        .into_iter()
        .fold(extra, earliest)
    }

    /// Takes the first timer due at `now`, rearming it as it needs.
    pub fn take_due(&mut self, now: Instant) -> Option<Due> {
        self.last_now = self.last_now.max(now);
        if self.handshake.is_some_and(|d| now >= d) {
            return Some(Due::Handshake);
        }
        if self.idle_at.is_some_and(|d| now >= d) {
            self.idle_at = None;
            return Some(Due::Idle);
        }
        if self.keepalive.next.is_some_and(|d| now >= d) {
            self.keepalive.next = self.keepalive.interval.map(|i| now + i);
            return Some(Due::Keepalive);
        }
        if self.rekey.take_due(now) {
            return Some(Due::Rekey);
        }
        None
    }

    /// A keepalive is due: `Err(count)` if `count_max` already went unanswered (the peer is
    /// dead), else counts one more probe to send.
    pub fn keepalive_probe(&mut self) -> Result<(), u32> {
        if self.keepalive.unanswered >= self.keepalive.count_max {
            return Err(self.keepalive.unanswered);
        }
        self.keepalive.unanswered += 1;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // a base for virtual time
mod tests {
    use super::*;

    fn config() -> TimerConfig {
        TimerConfig {
            handshake: Duration::from_secs(120),
            rekey_interval: None,
            keepalive_interval: Some(Duration::from_secs(5)),
            keepalive_count_max: 3,
            idle_timeout: None,
        }
    }

    #[test]
    fn silent_peer_is_dead_after_interval_times_count_plus_one() {
        let t0 = Instant::now();
        let mut t = Timers::new(config(), t0);
        assert_eq!(t.next(None), Some(t0 + Duration::from_secs(120)));
        t.authenticated();
        let mut probes = 0;
        let now = loop {
            let now = t.next(None).unwrap();
            assert_eq!(t.take_due(now), Some(Due::Keepalive));
            match t.keepalive_probe() {
                Ok(()) => probes += 1,
                Err(n) => {
                    assert_eq!(n, 3);
                    break now;
                }
            }
        };
        assert_eq!(probes, 3);
        assert_eq!(now - t0, Duration::from_secs(20));
    }

    #[test]
    fn traffic_resets_the_count() {
        let t0 = Instant::now();
        let mut t = Timers::new(config(), t0);
        t.authenticated();
        for i in 1..10u64 {
            let now = t0 + Duration::from_secs(5 * i);
            assert_eq!(t.take_due(now), Some(Due::Keepalive));
            assert!(t.keepalive_probe().is_ok());
            t.heard_from_peer(now);
        }
    }
}
