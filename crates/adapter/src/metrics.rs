//! Server counters an operator would graph: [`ServerMetrics`] (atomic, shared by every
//! connection of a server) and its plain [`MetricsSnapshot`], which prints in Prometheus'
//! text exposition format.
//!
//! [`crate::Admission`] keeps the admission counters itself when given the metrics
//! ([`crate::Admission::with_metrics`]): connections accepted and refused (except for a bad
//! PROXY header), the unauthenticated/authenticated gauges, and penalties imposed. The server
//! counts the rest: authentication outcomes, PROXY header errors, connections it drops, bytes.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::admission::Penalty;

/// Why a connection was refused before the SSH exchange started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// `MaxStartups` random early drop (or full).
    MaxStartups,
    /// `PerSourceMaxStartups`.
    PerSource,
    /// `PerSourcePenalties`: an active penalty, or a full deny-all table.
    Penalty,
    /// Seashell's `MaxConnections`.
    MaxConnections,
    /// The PROXY protocol header was missing or malformed.
    ProxyHeader,
}

impl RefusalReason {
    /// Every reason, in the order metrics list them.
    pub const ALL: [RefusalReason; 5] = [
        RefusalReason::MaxStartups,
        RefusalReason::PerSource,
        RefusalReason::Penalty,
        RefusalReason::MaxConnections,
        RefusalReason::ProxyHeader,
    ];

    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            RefusalReason::MaxStartups => "max_startups",
            RefusalReason::PerSource => "per_source",
            RefusalReason::Penalty => "penalty",
            RefusalReason::MaxConnections => "max_connections",
            RefusalReason::ProxyHeader => "proxy_header",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why the server closed a connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Still unauthenticated when `LoginGraceTime` ran out.
    GraceExceeded,
    /// The peer flooded: an output or request cap was hit.
    Flood,
    /// Idle or keepalive timeout (the peer stopped answering).
    Idle,
}

impl DropReason {
    /// Every reason, in the order metrics list them.
    pub const ALL: [DropReason; 3] = [
        DropReason::GraceExceeded,
        DropReason::Flood,
        DropReason::Idle,
    ];

    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            DropReason::GraceExceeded => "grace_exceeded",
            DropReason::Flood => "flood",
            DropReason::Idle => "idle",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A server's counters, shared (`Arc<ServerMetrics>`) by its accept loop and connections.
/// Every update is one relaxed atomic operation; [`ServerMetrics::snapshot`] reads them all
/// and its `Display` prints Prometheus' text format.
///
/// [`crate::Admission`] keeps the admission counters itself when given the metrics
/// ([`crate::Admission::with_metrics`]): connections accepted and refused (except for a bad
/// PROXY header), the unauthenticated/authenticated gauges, and penalties recorded. The
/// server counts the rest: [`ServerMetrics::auth_success`], [`ServerMetrics::auth_failure`],
/// [`ServerMetrics::connection_refused`] with [`RefusalReason::ProxyHeader`],
/// [`ServerMetrics::connection_dropped`], and the byte counters.
#[derive(Debug, Default)]
pub struct ServerMetrics {
    accepted: AtomicU64,
    refused: [AtomicU64; 5],
    unauthenticated: AtomicU64,
    authenticated: AtomicU64,
    auth_successes: AtomicU64,
    auth_failures: AtomicU64,
    penalties: [AtomicU64; 6],
    dropped: [AtomicU64; 3],
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn dec(gauge: &AtomicU64) {
    // Saturating: a gauge never wraps below zero.
    let _ = gauge.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
}

impl ServerMetrics {
    /// All counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A connection was refused. ([`crate::Admission`] counts its own refusals; the server
    /// calls this for [`RefusalReason::ProxyHeader`].)
    pub fn connection_refused(&self, reason: RefusalReason) {
        inc(&self.refused[reason.index()]);
    }

    /// An authentication attempt succeeded.
    pub fn auth_success(&self) {
        inc(&self.auth_successes);
    }

    /// An authentication attempt failed.
    pub fn auth_failure(&self) {
        inc(&self.auth_failures);
    }

    /// The server closed a connection itself.
    pub fn connection_dropped(&self, reason: DropReason) {
        inc(&self.dropped[reason.index()]);
    }

    /// `n` bytes were read from a peer.
    pub fn add_bytes_in(&self, n: u64) {
        self.bytes_in.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` bytes were written to a peer.
    pub fn add_bytes_out(&self, n: u64) {
        self.bytes_out.fetch_add(n, Ordering::Relaxed);
    }

    /// A penalty was recorded against a source.
    pub(crate) fn penalty_imposed(&self, kind: Penalty) {
        inc(&self.penalties[kind.index()]);
    }

    /// A connection was admitted (it starts unauthenticated).
    pub(crate) fn admitted(&self) {
        inc(&self.accepted);
        inc(&self.unauthenticated);
    }

    /// An admitted connection authenticated.
    pub(crate) fn became_authenticated(&self) {
        dec(&self.unauthenticated);
        inc(&self.authenticated);
    }

    /// An admitted connection ended.
    pub(crate) fn closed(&self, authenticated: bool) {
        dec(if authenticated {
            &self.authenticated
        } else {
            &self.unauthenticated
        });
    }

    /// The counters now (each read on its own; not one atomic cut).
    pub fn snapshot(&self) -> MetricsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            connections_accepted: load(&self.accepted),
            refused_max_startups: load(&self.refused[0]),
            refused_per_source: load(&self.refused[1]),
            refused_penalty: load(&self.refused[2]),
            refused_max_connections: load(&self.refused[3]),
            refused_proxy_header: load(&self.refused[4]),
            unauthenticated: load(&self.unauthenticated),
            authenticated: load(&self.authenticated),
            auth_successes: load(&self.auth_successes),
            auth_failures: load(&self.auth_failures),
            penalties: Penalty::ALL.map(|k| load(&self.penalties[k.index()])),
            dropped_grace_exceeded: load(&self.dropped[0]),
            dropped_flood: load(&self.dropped[1]),
            dropped_idle: load(&self.dropped[2]),
            bytes_in: load(&self.bytes_in),
            bytes_out: load(&self.bytes_out),
        }
    }
}

/// The counters of a [`ServerMetrics`] at one moment. `Display` writes them in
/// Prometheus' text format (`seashell_<name>{label="..."} <value>` lines with `# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricsSnapshot {
    /// Connections admitted (counter).
    pub connections_accepted: u64,
    /// Refused by `MaxStartups` (counter).
    pub refused_max_startups: u64,
    /// Refused by `PerSourceMaxStartups` (counter).
    pub refused_per_source: u64,
    /// Refused by `PerSourcePenalties` (counter).
    pub refused_penalty: u64,
    /// Refused by `MaxConnections` (counter).
    pub refused_max_connections: u64,
    /// Refused for a bad PROXY protocol header (counter).
    pub refused_proxy_header: u64,
    /// Connections open and not yet authenticated (gauge).
    pub unauthenticated: u64,
    /// Connections open and authenticated (gauge).
    pub authenticated: u64,
    /// Successful authentications (counter).
    pub auth_successes: u64,
    /// Failed authentication attempts (counter).
    pub auth_failures: u64,
    /// Penalties recorded, indexed like [`Penalty::ALL`] (counters).
    pub penalties: [u64; 6],
    /// Closed for exceeding `LoginGraceTime` (counter).
    pub dropped_grace_exceeded: u64,
    /// Closed for flooding (counter).
    pub dropped_flood: u64,
    /// Closed as idle or unresponsive (counter).
    pub dropped_idle: u64,
    /// Bytes read from peers (counter).
    pub bytes_in: u64,
    /// Bytes written to peers (counter).
    pub bytes_out: u64,
}

impl MetricsSnapshot {
    /// Refusals for `reason`.
    pub fn refused(&self, reason: RefusalReason) -> u64 {
        match reason {
            RefusalReason::MaxStartups => self.refused_max_startups,
            RefusalReason::PerSource => self.refused_per_source,
            RefusalReason::Penalty => self.refused_penalty,
            RefusalReason::MaxConnections => self.refused_max_connections,
            RefusalReason::ProxyHeader => self.refused_proxy_header,
        }
    }

    /// Penalties of `kind` recorded.
    pub fn penalties_of(&self, kind: Penalty) -> u64 {
        self.penalties[kind.index()]
    }

    /// Drops for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::GraceExceeded => self.dropped_grace_exceeded,
            DropReason::Flood => self.dropped_flood,
            DropReason::Idle => self.dropped_idle,
        }
    }
}

impl fmt::Display for MetricsSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let simple = |f: &mut fmt::Formatter<'_>, name: &str, kind: &str, v: u64| {
            writeln!(f, "# TYPE seashell_{name} {kind}")?;
            writeln!(f, "seashell_{name} {v}")
        };
        simple(
            f,
            "connections_accepted_total",
            "counter",
            self.connections_accepted,
        )?;
        writeln!(f, "# TYPE seashell_connections_refused_total counter")?;
        for r in RefusalReason::ALL {
            let v = self.refused(r);
            writeln!(
                f,
                "seashell_connections_refused_total{{reason=\"{}\"}} {v}",
                r.label()
            )?;
        }
        simple(
            f,
            "connections_unauthenticated",
            "gauge",
            self.unauthenticated,
        )?;
        simple(f, "connections_authenticated", "gauge", self.authenticated)?;
        simple(f, "auth_successes_total", "counter", self.auth_successes)?;
        simple(f, "auth_failures_total", "counter", self.auth_failures)?;
        writeln!(f, "# TYPE seashell_penalties_total counter")?;
        for k in Penalty::ALL {
            let v = self.penalties_of(k);
            writeln!(
                f,
                "seashell_penalties_total{{kind=\"{}\"}} {v}",
                k.keyword()
            )?;
        }
        writeln!(f, "# TYPE seashell_connections_dropped_total counter")?;
        for r in DropReason::ALL {
            let v = self.dropped(r);
            writeln!(
                f,
                "seashell_connections_dropped_total{{reason=\"{}\"}} {v}",
                r.label()
            )?;
        }
        simple(f, "bytes_in_total", "counter", self.bytes_in)?;
        simple(f, "bytes_out_total", "counter", self.bytes_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_snapshot() {
        let m = ServerMetrics::new();
        m.admitted();
        m.admitted();
        m.became_authenticated();
        m.closed(false);
        m.closed(false); // one too many: the gauge saturates at zero
        m.connection_refused(RefusalReason::ProxyHeader);
        m.connection_refused(RefusalReason::MaxStartups);
        m.connection_refused(RefusalReason::MaxStartups);
        m.auth_success();
        m.auth_failure();
        m.auth_failure();
        m.penalty_imposed(Penalty::GraceExceeded);
        m.connection_dropped(DropReason::Idle);
        m.add_bytes_in(100);
        m.add_bytes_out(7);
        let s = m.snapshot();
        assert_eq!(s.connections_accepted, 2);
        assert_eq!(s.unauthenticated, 0);
        assert_eq!(s.authenticated, 1);
        assert_eq!(s.refused(RefusalReason::ProxyHeader), 1);
        assert_eq!(s.refused(RefusalReason::MaxStartups), 2);
        assert_eq!(s.refused(RefusalReason::Penalty), 0);
        assert_eq!((s.auth_successes, s.auth_failures), (1, 2));
        assert_eq!(s.penalties_of(Penalty::GraceExceeded), 1);
        assert_eq!(s.penalties_of(Penalty::AuthFail), 0);
        assert_eq!(s.dropped(DropReason::Idle), 1);
        assert_eq!((s.bytes_in, s.bytes_out), (100, 7));
    }

    #[test]
    fn prometheus_text() {
        let m = ServerMetrics::new();
        m.admitted();
        m.connection_refused(RefusalReason::Penalty);
        m.penalty_imposed(Penalty::AuthFail);
        let text = m.snapshot().to_string();
        assert!(text.contains("seashell_connections_accepted_total 1\n"));
        assert!(text.contains("seashell_connections_refused_total{reason=\"penalty\"} 1\n"));
        assert!(text.contains("seashell_connections_refused_total{reason=\"per_source\"} 0\n"));
        assert!(text.contains("seashell_connections_unauthenticated 1\n"));
        assert!(text.contains("seashell_penalties_total{kind=\"authfail\"} 1\n"));
        assert!(text.contains("# TYPE seashell_connections_authenticated gauge\n"));
        // Every sample line is `name[{labels}] value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("seashell_"), "{line}");
            value.parse::<u64>().unwrap();
        }
    }
}
