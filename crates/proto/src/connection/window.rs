//! The receive window of one channel, and how it grows with the bandwidth-delay product.
//!
//! SSH has no acknowledgements, so a sender can have at most one window of data in flight:
//! with a fixed window `W` and a round trip `R`, one channel moves at most `W / R`. We start
//! every channel at the configured window and double it, up to a cap, while the peer is
//! limited by it. The rule needs a round-trip time and a clock; the core has both as inputs
//! (every `feed` carries `now`), so nothing here reads a clock.
//!
//! - **Round trip.** When we send a WINDOW_ADJUST at time `t`, no byte beyond what we had
//!   granted before it (the edge) can be sent until the peer has read it. The first such byte
//!   arrives at `t + R` at the earliest. When the peer sent exactly up to the edge and then
//!   nothing for a while (at least a sixteenth of that time), it was stalled on the window,
//!   and the time from `t` to that byte is a round-trip sample (never below the real round
//!   trip). Otherwise the peer was sending what it was already allowed to, and the time says
//!   nothing about the link: no sample. We keep the smallest sample, one probe at a time;
//!   without one the window does not grow, so a peer that is never stalled never makes it
//!   grow.
//! - **Growth.** An adjust goes out once an eighth of the window is consumed. Each time a
//!   whole window has been returned, we look at how long that took: under two round trips
//!   means the peer sends more than `W / 2R`, over half what the window allows, so the
//!   window (not the link, not the application) is what limits it, and the window doubles
//!   (the extra is granted in the same adjust). It settles between one and two
//!   bandwidth-delay products. This is the rule quic-go and Chromium use for QUIC streams,
//!   with the round trip measured as above since SSH has no acknowledgements. A consumer
//!   slower than the link stretches the time a window takes, so its window settles at about
//!   twice what its own rate needs; an application that stops reading sends no adjust at all
//!   and never makes the window grow. Neither does one that leaves more than a quarter of
//!   the window unread.
//! - **Bounds.** Growth stops at a per-channel cap and at a connection-wide budget shared by
//!   all channels (so N channels cannot grow to N × cap). The window never shrinks: what has
//!   been granted cannot be taken back, and a window that grew stays until the channel closes.
//!
//! A peer controls when its data arrives, so it can make the samples look long and the window
//! grow while our application consumes fast; that is what a fast honest sender on a long
//! link does, and it is bounded by the cap and the budget. It cannot send past what we
//! granted: that still ends the connection.
//!
//! A clock-free rule (grow when the peer had nearly used the window when an adjust went out
//! and the application kept up) was considered and rejected: with a reader that keeps up,
//! the receiver sees the same on a short link and a long one (an adjust every so many bytes,
//! the rest of the window still granted), so only time tells them apart.

use crate::error::PeerMisbehaved;
use std::time::{Duration, Instant};

/// Growth limits shared by all channels of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimits {
    /// The window each channel starts with (and announces when it opens).
    pub initial: u32,
    /// The largest a channel's window grows to.
    pub max: u32,
    /// The most all channels' windows may add up to through growth (initial windows are
    /// always granted, as before; only growth is refused past this).
    pub budget: u64,
}

impl WindowLimits {
    /// Limits that never grow a window past `initial`.
    pub fn fixed(initial: u32) -> WindowLimits {
        WindowLimits {
            initial,
            max: initial,
            budget: 0,
        }
    }
}

/// A round-trip probe: an adjust sent at `at`, answered by the first byte past `edge` (the
/// total granted before it).
#[derive(Debug, Clone, Copy)]
struct Probe {
    at: Instant,
    edge: u64,
    /// When the peer had sent exactly up to the edge.
    reached: Option<Instant>,
}

/// What a call to [`RecvWindow::consume`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjust {
    /// Bytes to add to the peer's window (the WINDOW_ADJUST's value).
    pub add: u32,
    /// By how much the window grew (included in `add`).
    pub grew: u32,
}

/// The receive side of one channel's flow control.
#[derive(Debug, Clone)]
pub struct RecvWindow {
    /// The window we keep granting up to.
    size: u32,
    /// Bytes the peer may still send us.
    available: u32,
    /// Bytes consumed by the application but not yet returned to the peer.
    unacked: u32,
    /// Bytes delivered to the application and not yet consumed.
    delivered: u64,
    /// Bytes received since the channel opened.
    received: u64,
    /// The round-trip probe in flight.
    probe: Option<Probe>,
    /// The smallest round-trip sample so far.
    rtt: Option<Duration>,
    /// The measurement under way: when it began and what was returned since.
    epoch: Option<Epoch>,
}

/// Bytes returned to the peer since `start`.
#[derive(Debug, Clone, Copy)]
struct Epoch {
    start: Instant,
    returned: u64,
}

/// An adjust goes out once this fraction of the window is consumed. OpenSSH waits for half,
/// and a sender whose window arrives in bursts then gets only half the window per round trip
/// (the tail of each burst waits for the next); an eighth loses at most an eighth.
const ADJUST_FRACTION: u32 = 8;

impl RecvWindow {
    /// A window of `size` bytes, all granted.
    pub fn new(size: u32) -> RecvWindow {
        RecvWindow {
            size,
            available: size,
            unacked: 0,
            delivered: 0,
            received: 0,
            probe: None,
            rtt: None,
            epoch: None,
        }
    }

    /// The window we keep granting up to (what it has grown to).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Bytes the peer may still send.
    pub fn available(&self) -> u32 {
        self.available
    }

    /// The smallest round-trip sample so far.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// Counts `len` bytes the peer sent at `now`; `deliver` says they go to the application
    /// (they are dropped after our CLOSE). More than the window allows is a protocol violation.
    pub fn on_data(
        &mut self,
        len: u32,
        now: Option<Instant>,
        deliver: bool,
    ) -> Result<(), PeerMisbehaved> {
        if len > self.available {
            return Err(PeerMisbehaved::WindowExceeded);
        }
        self.available -= len;
        let before = self.received;
        self.received += u64::from(len);
        if deliver {
            self.delivered += u64::from(len);
        }
        if let Some(now) = now {
            self.probe_data(before, now);
        }
        Ok(())
    }

    /// Takes a round-trip sample when the first byte past the probe's edge arrives, if the
    /// peer was stalled at the edge: it sent exactly up to it, then nothing for at least a
    /// sixteenth of the sample. Only then is the sample the round trip, not the time the peer
    /// took to send what it was already allowed to. (A peer held by the window gets it back
    /// an eighth at a time, so it waits about an eighth of a round trip at each edge; one
    /// that is not held waits only between two packets.)
    fn probe_data(&mut self, before: u64, now: Instant) {
        let Some(p) = self.probe.as_mut() else {
            return;
        };
        if self.received == p.edge {
            p.reached = Some(now);
            return;
        }
        if self.received < p.edge {
            return;
        }
        let sample = now.saturating_duration_since(p.at);
        let stalled = before == p.edge
            && p.reached.is_some_and(|at| {
                now.saturating_duration_since(at) * 2 * ADJUST_FRACTION >= sample
            });
        if stalled {
            self.rtt = Some(self.rtt.map_or(sample, |r| r.min(sample)));
        }
        self.probe = None;
    }

    /// The application processed `n` bytes (at most what was delivered). Once an eighth of
    /// the window is consumed, returns the adjust to send, grown by at most `room` bytes when
    /// the peer is limited by the window; `None` while no adjust is due or `open` is false
    /// (EOF received, CLOSE sent).
    pub fn consume(
        &mut self,
        n: usize,
        now: Option<Instant>,
        room: u32,
        open: bool,
    ) -> Option<Adjust> {
        let n = u32::try_from((n as u64).min(self.delivered)).unwrap_or(0);
        self.delivered -= u64::from(n);
        self.unacked = self.unacked.saturating_add(n);
        if self.unacked < (self.size / ADJUST_FRACTION).max(1) || !open {
            return None;
        }
        let grew = match now {
            Some(now) => self.measure(now, room),
            None => 0,
        };
        self.size += grew;
        let add = self.unacked.saturating_add(grew);
        self.available = self.available.saturating_add(add);
        self.unacked = 0;
        Some(Adjust { add, grew })
    }

    /// Accounts for an adjust of `unacked` bytes sent at `now`: starts a round-trip probe if
    /// none is in flight and, once a whole window has been returned since the epoch began,
    /// says by how much the window grows (at most `room`).
    fn measure(&mut self, now: Instant, room: u32) -> u32 {
        if self.probe.is_none() {
            // No byte past what is granted now can come before the peer reads this adjust.
            self.probe = Some(Probe {
                at: now,
                edge: self.received + u64::from(self.available),
                // Nothing left granted: the peer is waiting at the edge already.
                reached: (self.available == 0).then_some(now),
            });
        }
        let Some(epoch) = self.epoch.as_mut() else {
            // What this adjust returns was consumed before the epoch: count from here.
            self.epoch = Some(Epoch {
                start: now,
                returned: 0,
            });
            return 0;
        };
        epoch.returned += u64::from(self.unacked);
        if epoch.returned < u64::from(self.size) {
            return 0;
        }
        let elapsed = now.saturating_duration_since(epoch.start);
        *epoch = Epoch {
            start: now,
            returned: 0,
        };
        // A whole window in less than two round trips: the peer sends more than half what
        // the window allows, and the application keeps up.
        let limited = self.rtt.is_some_and(|rtt| elapsed < 2 * rtt)
            && self.delivered <= u64::from(self.size / 4);
        if limited { self.size.min(room) } else { 0 }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // a base for virtual time
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn data_past_the_window_is_refused() {
        let mut w = RecvWindow::new(100);
        w.on_data(100, None, true).unwrap();
        assert_eq!(
            w.on_data(1, None, true),
            Err(PeerMisbehaved::WindowExceeded)
        );
        assert_eq!(w.available(), 0);
    }

    #[test]
    fn without_a_clock_the_window_is_fixed() {
        let mut w = RecvWindow::new(100);
        for _ in 0..10 {
            w.on_data(50, None, true).unwrap();
            let a = w.consume(50, None, u32::MAX, true).unwrap();
            assert_eq!(a, Adjust { add: 50, grew: 0 });
        }
        assert_eq!(w.size(), 100);
    }

    #[test]
    fn the_round_trip_is_the_time_to_the_first_byte_past_the_old_grant() {
        let t = Instant::now();
        let mut w = RecvWindow::new(100);
        w.on_data(50, Some(t), true).unwrap();
        w.consume(50, Some(t), 0, true).unwrap();
        // The other 50 were granted before the adjust: no sample yet.
        w.on_data(50, Some(t + MS), true).unwrap();
        assert_eq!(w.rtt(), None);
        w.on_data(1, Some(t + 30 * MS), true).unwrap();
        assert_eq!(w.rtt(), Some(30 * MS));
    }

    #[test]
    fn a_peer_that_was_not_stalled_gives_no_sample() {
        let t = Instant::now();
        let mut w = RecvWindow::new(100);
        w.on_data(50, Some(t), true).unwrap();
        w.consume(50, Some(t), 0, true).unwrap();
        // A packet across the edge: the peer never waited at it.
        w.on_data(60, Some(t + 30 * MS), true).unwrap();
        assert_eq!(w.rtt(), None);
        // Up to the edge, then the next byte soon after: it was still sending.
        w.consume(60, Some(t + 30 * MS), 0, true).unwrap();
        w.on_data(40, Some(t + 39 * MS + MS / 2), true).unwrap();
        w.on_data(1, Some(t + 40 * MS), true).unwrap();
        assert_eq!(w.rtt(), None);
        // The same with a long wait at the edge is a sample.
        w.consume(41, Some(t + 40 * MS), 0, true).unwrap();
        w.on_data(59, Some(t + 41 * MS), true).unwrap();
        w.on_data(1, Some(t + 60 * MS), true).unwrap();
        assert_eq!(w.rtt(), Some(20 * MS));
    }

    #[test]
    fn not_delivered_data_cannot_be_consumed() {
        let mut w = RecvWindow::new(100);
        w.on_data(60, None, false).unwrap();
        assert_eq!(w.consume(1 << 30, None, 0, true), None);
        w.on_data(40, None, true).unwrap();
        let a = w.consume(1 << 30, None, 0, true).unwrap();
        assert_eq!(a, Adjust { add: 40, grew: 0 });
        assert_eq!(w.available(), 40);
    }

    #[test]
    fn closed_windows_send_no_adjust() {
        let mut w = RecvWindow::new(100);
        w.on_data(100, None, true).unwrap();
        assert_eq!(w.consume(100, None, 0, false), None);
    }
}
