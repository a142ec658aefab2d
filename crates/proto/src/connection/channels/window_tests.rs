//! Window growth through the channel table, on a simulated link: a sender that sends as
//! fast as its window and the link allow, a one-way delay each way, and a consumer of a
//! given speed. Time is virtual (ticks of 100 µs), so the runs are exact and fast.
#![allow(clippy::disallowed_methods)] // the base of the virtual clock

use super::tests::{data, pkt};
use super::*;
use std::time::Duration;

const KIB: u32 = 1024;
const MIB: u32 = 1024 * 1024;
const TICK_US: u64 = 100;
const PACKET: u32 = 32 * KIB;

/// One simulated link and the channels on it.
struct Link {
    ch: Channels,
    base: Instant,
    /// One-way delay, in ticks.
    delay: u64,
    /// Bytes the link carries per tick (shared by all channels, in turn).
    bandwidth: u64,
    /// Bytes the consumer reads per tick on each channel (`u64::MAX`: all at once).
    consume_per_tick: u64,
    /// The consumer reads only every this many ticks (a reader that batches).
    consume_every: u64,
    chans: Vec<Sim>,
}

/// One channel of the link: the sender's view and the receiver's.
struct Sim {
    id: ChannelId,
    /// What the sender may still send (its remote window).
    allowance: u64,
    /// Data on the wire: (arrival tick, bytes).
    data: VecDeque<(u64, u32)>,
    /// Adjusts on the wire: (arrival tick, bytes).
    adjusts: VecDeque<(u64, u32)>,
    /// Delivered, not yet consumed.
    unread: u64,
    /// Bytes received, total and since `mark`.
    received: u64,
}

impl Link {
    fn new(limits: (u32, u32, u64), channels: usize, delay_ms: u64, mb_per_s: u64) -> Link {
        let (initial, max, budget) = limits;
        let mut ch = Channels::new(initial, PACKET).with_window_limits(max, budget);
        let mut chans = Vec::new();
        for _ in 0..channels {
            let (id, _) = ch.open(ChannelKind::Session).unwrap();
            let conf = pkt(msg::CHANNEL_OPEN_CONFIRMATION, id.0, |p| {
                wire::put_u32(p, 7);
                wire::put_u32(p, u32::MAX);
                wire::put_u32(p, PACKET);
            });
            ch.on_message(&conf, &mut VecDeque::new(), &mut Vec::new())
                .unwrap();
            chans.push(Sim {
                id,
                allowance: u64::from(initial),
                data: VecDeque::new(),
                adjusts: VecDeque::new(),
                unread: 0,
                received: 0,
            });
        }
        Link {
            ch,
            base: Instant::now(),
            delay: delay_ms * 1000 / TICK_US,
            bandwidth: mb_per_s * TICK_US,
            consume_per_tick: u64::MAX,
            consume_every: 1,
            chans,
        }
    }

    /// Runs `ticks` ticks from `start`.
    fn run(&mut self, start: u64, ticks: u64) {
        for t in start..start + ticks {
            self.ch
                .set_now(self.base + Duration::from_micros(t * TICK_US));
            let mut link = self.bandwidth;
            for s in &mut self.chans {
                while s.adjusts.front().is_some_and(|&(at, _)| at <= t) {
                    let (_, add) = s.adjusts.pop_front().unwrap();
                    s.allowance += u64::from(add);
                }
                while link > 0 && s.allowance > 0 {
                    let n = PACKET.min(u32::try_from(s.allowance.min(link)).unwrap());
                    s.allowance -= u64::from(n);
                    link -= u64::from(n);
                    s.data.push_back((t + self.delay, n));
                }
                let (mut ev, mut rep) = (VecDeque::new(), Vec::new());
                while s.data.front().is_some_and(|&(at, _)| at <= t) {
                    let (_, n) = s.data.pop_front().unwrap();
                    let payload = data(s.id, &vec![0; n as usize]);
                    self.ch.on_message(&payload, &mut ev, &mut rep).unwrap();
                    s.unread += u64::from(n);
                    s.received += u64::from(n);
                }
                if t % self.consume_every != 0 {
                    continue;
                }
                let n = s.unread.min(self.consume_per_tick);
                s.unread -= n;
                if let Some(adj) = self.ch.consume(s.id, n as usize).unwrap() {
                    assert_eq!(adj[0], msg::CHANNEL_WINDOW_ADJUST);
                    let add = u32::from_be_bytes(adj[5..9].try_into().unwrap());
                    s.adjusts.push_back((t + self.delay, add));
                }
            }
        }
    }

    fn window(&self, i: usize) -> u32 {
        self.ch.recv_window(self.chans[i].id).unwrap().0
    }

    /// MB/s received on channel `i` over `ticks` ticks from `start`.
    fn rate(&mut self, i: usize, start: u64, ticks: u64) -> u64 {
        let before = self.chans[i].received;
        self.run(start, ticks);
        (self.chans[i].received - before) / (ticks * TICK_US)
    }
}

const SECOND: u64 = 1_000_000 / TICK_US;

#[test]
fn a_window_limited_sender_grows_the_window_to_the_cap() {
    // 1 GB/s, 50 ms round trip: 50 MB in flight would be needed; the cap is 8 MiB.
    let mut l = Link::new((256 * KIB, 8 * MIB, u64::MAX), 1, 25, 1000);
    let before = l.rate(0, 0, SECOND / 5);
    assert!(before < 40, "{before} MB/s");
    l.run(SECOND / 5, SECOND);
    assert_eq!(l.window(0), 8 * MIB);
    let after = l.rate(0, SECOND * 6 / 5, SECOND / 2);
    // 8 MiB per 50 ms, within the tick granularity.
    assert!((150..=170).contains(&after), "{after} MB/s");
    let rtt = l.ch.recv_window(l.chans[0].id).unwrap().1.unwrap();
    assert!(rtt >= Duration::from_millis(50) && rtt <= Duration::from_millis(51));
}

#[test]
fn a_short_link_keeps_the_starting_window() {
    // 0.2 ms round trip at 500 MB/s: 100 KB in flight; a 2 MiB window is plenty.
    let mut l = Link::new((2 * MIB, 16 * MIB, u64::MAX), 1, 0, 500);
    l.delay = 1;
    l.run(0, SECOND);
    assert_eq!(l.window(0), 2 * MIB);
}

#[test]
fn a_slow_consumer_never_grows_the_window() {
    // 1 MB/s application, 50 ms round trip: 50 KB in flight; the window stays.
    let mut l = Link::new((256 * KIB, 8 * MIB, u64::MAX), 1, 25, 1000);
    l.consume_per_tick = 100;
    l.run(0, 2 * SECOND);
    assert_eq!(l.window(0), 256 * KIB);
}

#[test]
fn a_consumer_slower_than_the_link_grows_the_window_to_its_own_needs() {
    // 20 MB/s application, 50 ms round trip: 1 MB in flight, far below the 16 MiB cap.
    let mut l = Link::new((256 * KIB, 16 * MIB, u64::MAX), 1, 25, 1000);
    l.consume_per_tick = 2000;
    l.run(0, 3 * SECOND);
    let w = l.window(0);
    assert!((MIB..=4 * MIB).contains(&w), "{w}");
    assert_eq!(l.rate(0, 3 * SECOND, SECOND), 20);
}

#[test]
fn an_application_that_stops_reading_stops_growth_and_the_sender() {
    let mut l = Link::new((256 * KIB, 8 * MIB, u64::MAX), 1, 25, 1000);
    l.run(0, SECOND / 2);
    let grown = l.window(0);
    assert!(grown > 256 * KIB);
    l.consume_per_tick = 0;
    l.run(SECOND / 2, SECOND);
    assert_eq!(l.window(0), grown);
    // The sender filled the window and stopped: nothing more than the window is unread.
    assert!(l.chans[0].unread <= u64::from(grown));
    assert_eq!(l.rate(0, 3 * SECOND / 2, SECOND / 10), 0);
}

#[test]
fn growth_stops_at_the_connection_budget_and_resumes_when_a_channel_closes() {
    // Four channels that would each grow to 8 MiB share a 12 MiB budget.
    let mut l = Link::new((MIB, 8 * MIB, 12 * u64::from(MIB)), 4, 25, 1000);
    l.run(0, 2 * SECOND);
    let total: u64 = (0..4).map(|i| u64::from(l.window(i))).sum();
    assert!(total <= 12 * u64::from(MIB), "{total}");
    assert!(total > 4 * u64::from(MIB), "some grew: {total}");
    assert_eq!(l.ch.committed, total);
    // Closing the channels returns their share; the one left grows to the cap.
    for s in l.chans.drain(1..) {
        let close = pkt(msg::CHANNEL_CLOSE, s.id.0, |_| {});
        l.ch.on_message(&close, &mut VecDeque::new(), &mut Vec::new())
            .unwrap();
    }
    l.run(2 * SECOND, SECOND);
    assert_eq!(l.window(0), 8 * MIB);
    assert_eq!(l.ch.committed, u64::from(8 * MIB));
}

#[test]
fn without_budget_or_room_the_window_is_fixed() {
    let mut l = Link::new((256 * KIB, 8 * MIB, 0), 1, 25, 1000);
    l.run(0, SECOND);
    assert_eq!(l.window(0), 256 * KIB);
    let mut l = Link::new((256 * KIB, 256 * KIB, u64::MAX), 1, 25, 1000);
    l.run(0, SECOND);
    assert_eq!(l.window(0), 256 * KIB);
}

#[test]
fn a_peer_cannot_send_past_a_grown_window() {
    let mut l = Link::new((256 * KIB, MIB, u64::MAX), 1, 25, 1000);
    l.run(0, SECOND);
    assert_eq!(l.window(0), MIB);
    // Let everything in flight land, then send the whole allowance and one byte more.
    l.consume_per_tick = 0;
    l.run(SECOND, SECOND / 5);
    let id = l.chans[0].id;
    let (mut ev, mut rep) = (VecDeque::new(), Vec::new());
    let mut sent = 0;
    while l.chans[0].allowance > 0 {
        let n = PACKET.min(u32::try_from(l.chans[0].allowance).unwrap());
        l.chans[0].allowance -= u64::from(n);
        sent += n;
        l.ch.on_message(&data(id, &vec![0; n as usize]), &mut ev, &mut rep)
            .unwrap();
    }
    assert!(sent <= MIB);
    let e =
        l.ch.on_message(&data(id, &[0]), &mut ev, &mut rep)
            .unwrap_err();
    assert_eq!(e, PeerMisbehaved::WindowExceeded.into());
}

#[test]
fn a_peer_that_answers_late_grows_the_window_only_to_the_cap() {
    // The peer holds each burst for a second: the round trip looks long, but the window
    // grows only while the application consumes, and never past the cap.
    let mut l = Link::new((256 * KIB, 2 * MIB, u64::MAX), 1, 500, 1000);
    l.run(0, 10 * SECOND);
    assert_eq!(l.window(0), 2 * MIB);
    assert_eq!(l.ch.committed, u64::from(2 * MIB));
}

#[test]
fn a_reader_that_batches_on_a_short_link_keeps_the_window() {
    // The reader wakes every 5 ms: it, not the 0.2 ms link, holds the sender back.
    let mut l = Link::new((2 * MIB, 16 * MIB, u64::MAX), 1, 0, 500);
    l.delay = 1;
    l.consume_every = 50;
    l.run(0, SECOND);
    assert_eq!(l.window(0), 2 * MIB);
    let rtt = l.ch.recv_window(l.chans[0].id).unwrap().1;
    assert!(rtt.is_some_and(|r| r < Duration::from_millis(1)), "{rtt:?}");
}

#[test]
fn a_refused_channel_returns_its_window_to_the_budget() {
    let mut ch = Channels::new(MIB, PACKET).with_window_limits(8 * MIB, 4 * u64::from(MIB));
    let (id, _) = ch.open(ChannelKind::Session).unwrap();
    assert_eq!(ch.committed, u64::from(MIB));
    let failure = pkt(msg::CHANNEL_OPEN_FAILURE, id.0, |p| {
        wire::put_u32(p, 1);
        wire::put_string(p, b"no");
        wire::put_string(p, b"");
    });
    ch.on_message(&failure, &mut VecDeque::new(), &mut Vec::new())
        .unwrap();
    assert_eq!(ch.committed, 0);
}
