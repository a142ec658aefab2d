//! Admission control for servers with sshd's options and semantics: see [`Admission`].

mod config;
mod netblock;
mod penalties;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use config::{
    AdmissionConfig, ConfigError, MaxStartups, NetBlockSize, PenaltyOverflow, PerSourcePenalties,
    parse_sshd_time,
};
pub use netblock::{ExemptList, mask_ip, normalize_ip};
pub use penalties::Penalty;

use crate::metrics::{RefusalReason, ServerMetrics};
use netblock::netblock;
use penalties::{Penalties, PenaltyRefusal};

/// What sshd writes to a refused client before closing (best effort, no SSH framing).
pub const REFUSAL_MESSAGE: &[u8] = b"Not allowed at this time\r\n";

/// Why [`Admission::admit`] refused a connection. `Display` reads like sshd's log reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The source netblock has an active `PerSourcePenalties` penalty.
    Penalty {
        /// The penalised netblock (the address masked by `PerSourceNetBlockSize`).
        netblock: IpAddr,
        /// The last penalty recorded against it.
        reason: Penalty,
        /// How long until the penalty expires.
        remaining: Duration,
    },
    /// The penalty table of the source's family is full and its overflow mode is
    /// `deny-all`.
    PenaltyTableFull,
    /// Seashell's `MaxConnections`: that many connections are open.
    MaxConnections {
        /// The configured cap.
        limit: u32,
    },
    /// `MaxStartups` random early drop.
    MaxStartups {
        /// Unauthenticated connections standing when this one arrived.
        unauthenticated: u32,
        /// The drop probability applied, in percent.
        percent: u32,
    },
    /// `PerSourceMaxStartups`: the source netblock has that many unauthenticated
    /// connections.
    PerSource {
        /// The source netblock.
        netblock: IpAddr,
        /// The configured limit.
        limit: u32,
    },
}

impl Refused {
    /// The metrics reason.
    pub fn reason(&self) -> RefusalReason {
        match self {
            Refused::Penalty { .. } | Refused::PenaltyTableFull => RefusalReason::Penalty,
            Refused::MaxConnections { .. } => RefusalReason::MaxConnections,
            Refused::MaxStartups { .. } => RefusalReason::MaxStartups,
            Refused::PerSource { .. } => RefusalReason::PerSource,
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Penalty {
                netblock,
                reason,
                remaining,
            } => write!(
                f,
                "PerSourcePenalties: {netblock} {reason} ({:.3}s remaining)",
                remaining.as_secs_f64()
            ),
            Refused::PenaltyTableFull => {
                f.write_str("PerSourcePenalties: too many penalised addresses")
            }
            Refused::MaxConnections { limit } => {
                write!(f, "MaxConnections: {limit} connections open")
            }
            Refused::MaxStartups {
                unauthenticated,
                percent,
            } => write!(
                f,
                "Maxstartups: {unauthenticated} unauthenticated connections \
                 (drop probability {percent}%)"
            ),
            Refused::PerSource { netblock, limit } => write!(
                f,
                "PerSourceMaxStartups: {limit} unauthenticated connections from {netblock}"
            ),
        }
    }
}

impl std::error::Error for Refused {}

/// SplitMix64: a small non-cryptographic generator. Only the drop lottery uses it; its
/// seed comes from the system's secure random source.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

fn system_seed() -> u64 {
    use seashell_proto::crypto::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 8];
    if SystemRandom::new().fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    // std's hasher keys are random per process: good enough for a drop lottery.
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

#[derive(Debug)]
struct State {
    open: u32,
    unauthenticated: u32,
    per_source: HashMap<IpAddr, u32>,
    penalties: Penalties,
    rng: SplitMix64,
}

/// Admission control for servers, with sshd's options, defaults and semantics and no I/O:
/// `MaxStartups` random early drop, `PerSourceMaxStartups` per source netblock
/// (`PerSourceNetBlockSize`), `PerSourcePenalties` (with `PerSourcePenaltyExemptList`), and
/// Seashell's own `MaxConnections` cap.
///
/// One [`Admission`] per server, shared as `Arc<Admission>` by the accept loop and the
/// connections. Time is always passed in (an [`Instant`], real or virtual), and the drop
/// decisions draw from a small generator seeded from the system's secure random source, or
/// from a seed or function the caller supplies, so tests are deterministic.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use seashell_adapter::{Admission, AdmissionConfig, Penalty};
/// let mut config = AdmissionConfig::default();
/// config.set("PerSourceMaxStartups", "3").unwrap();
/// let admission = Arc::new(Admission::new(config));
/// let now = Instant::now();
/// let peer = "::ffff:192.0.2.7".parse().unwrap(); // counted as 192.0.2.7
/// let mut conn = admission.admit(peer, now).expect("admitted");
/// // ... on successful user authentication:
/// conn.authenticated();
/// // ... when the connection ends (imposes `noauth` if it never authenticated):
/// conn.close(now);
/// ```
///
/// Every method takes a short internal lock.
#[derive(Debug)]
pub struct Admission {
    config: AdmissionConfig,
    metrics: Option<Arc<ServerMetrics>>,
    state: Mutex<State>,
}

impl Admission {
    /// Admission under `config`, its drop lottery seeded from the system random source.
    pub fn new(config: AdmissionConfig) -> Self {
        Self::with_seed(config, system_seed())
    }

    /// Admission under `config` with a fixed lottery seed (tests, reproducible runs).
    pub fn with_seed(config: AdmissionConfig, seed: u64) -> Self {
        let penalties = Penalties::new(
            config.per_source_penalties.clone(),
            config.per_source_net_block_size,
            config.per_source_penalty_exempt_list.clone(),
        );
        Admission {
            config,
            metrics: None,
            state: Mutex::new(State {
                open: 0,
                unauthenticated: 0,
                per_source: HashMap::new(),
                penalties,
                rng: SplitMix64(seed),
            }),
        }
    }

    /// Also keep the admission counters of `metrics`: accepted, refused (by reason), the
    /// unauthenticated/authenticated gauges, penalties imposed.
    pub fn with_metrics(mut self, metrics: Arc<ServerMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &AdmissionConfig {
        &self.config
    }

    /// The metrics given to [`Admission::with_metrics`].
    pub fn metrics(&self) -> Option<&Arc<ServerMetrics>> {
        self.metrics.as_ref()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decides on a new connection from `peer` (the socket peer, or the PROXY header's
    /// source) at `now`, drawing the `MaxStartups` lottery from the internal generator.
    /// Checks, in sshd's order: penalties, then (Seashell's) `MaxConnections`, then
    /// `MaxStartups`, then `PerSourceMaxStartups`. On refusal, write
    /// [`REFUSAL_MESSAGE`] (best effort) and close.
    pub fn admit(self: &Arc<Self>, peer: IpAddr, now: Instant) -> Result<Admitted, Refused> {
        self.decide(peer, now, None)
    }

    /// [`Admission::admit`] with the lottery drawing from `random` (uniform `u32`s).
    pub fn admit_with(
        self: &Arc<Self>,
        peer: IpAddr,
        now: Instant,
        random: &mut dyn FnMut() -> u32,
    ) -> Result<Admitted, Refused> {
        self.decide(peer, now, Some(random))
    }

    fn decide(
        self: &Arc<Self>,
        peer: IpAddr,
        now: Instant,
        random: Option<&mut dyn FnMut() -> u32>,
    ) -> Result<Admitted, Refused> {
        let peer = normalize_ip(peer);
        let block = netblock(peer, self.config.per_source_net_block_size);
        let result = self.decide_locked(peer, block, now, random);
        if let Some(m) = &self.metrics {
            match &result {
                Ok(_) => m.admitted(),
                Err(refused) => m.connection_refused(refused.reason()),
            }
        }
        result.map(|()| Admitted {
            admission: Arc::clone(self),
            peer,
            netblock: block,
            authenticated: false,
            penalised: false,
        })
    }

    fn decide_locked(
        &self,
        peer: IpAddr,
        block: IpAddr,
        now: Instant,
        random: Option<&mut dyn FnMut() -> u32>,
    ) -> Result<(), Refused> {
        let mut state = self.lock();
        let state = &mut *state;
        state.penalties.check(peer, now).map_err(|r| match r {
            PenaltyRefusal::Active {
                netblock,
                reason,
                remaining,
            } => Refused::Penalty {
                netblock,
                reason,
                remaining,
            },
            PenaltyRefusal::TableFull => Refused::PenaltyTableFull,
        })?;
        if let Some(limit) = self.config.max_connections
            && state.open >= limit
        {
            return Err(Refused::MaxConnections { limit });
        }
        let percent = self.config.max_startups.drop_percent(state.unauthenticated);
        if percent > 0 {
            let draw = match random {
                Some(f) => f(),
                None => state.rng.next_u32(),
            };
            // A uniform draw in 0..100 (bias below 1e-7), as sshd's arc4random_uniform(100).
            let r = ((u64::from(draw) * 100) >> 32) as u32;
            if r < percent {
                return Err(Refused::MaxStartups {
                    unauthenticated: state.unauthenticated,
                    percent,
                });
            }
        }
        if let Some(limit) = self.config.per_source_max_startups {
            let count = state.per_source.get(&block).copied().unwrap_or(0);
            if count >= limit {
                return Err(Refused::PerSource {
                    netblock: block,
                    limit,
                });
            }
            state.per_source.insert(block, count + 1);
        }
        state.open += 1;
        state.unauthenticated += 1;
        Ok(())
    }

    /// Records `kind` against `peer`'s netblock at `now` without a connection guard (e.g.
    /// a connection refused by configuration before it was admitted). Returns whether it
    /// was recorded (not when penalties are off, the source is exempt, the kind's duration
    /// is zero, or a deny-all table is full).
    pub fn penalise(&self, peer: IpAddr, kind: Penalty, now: Instant) -> bool {
        let recorded = self
            .lock()
            .penalties
            .penalise(normalize_ip(peer), kind, now);
        if recorded && let Some(m) = &self.metrics {
            m.penalty_imposed(kind);
        }
        recorded
    }

    /// Whether a connection from `peer` would be refused by a penalty at `now`, and why.
    pub fn penalty_for(&self, peer: IpAddr, now: Instant) -> Option<Refused> {
        let mut state = self.lock();
        match state.penalties.check(normalize_ip(peer), now) {
            Ok(()) => None,
            Err(PenaltyRefusal::TableFull) => Some(Refused::PenaltyTableFull),
            Err(PenaltyRefusal::Active {
                netblock,
                reason,
                remaining,
            }) => Some(Refused::Penalty {
                netblock,
                reason,
                remaining,
            }),
        }
    }

    /// Connections open now, and how many of them are unauthenticated.
    pub fn counts(&self) -> (u32, u32) {
        let state = self.lock();
        (state.open, state.unauthenticated)
    }

    /// Penalised netblocks tracked at `now` (IPv4, IPv6), counting those not yet enforced.
    pub fn penalised_sources(&self, now: Instant) -> (usize, usize) {
        self.lock().penalties.tracked(now)
    }

    fn release(&self, block: IpAddr, authenticated_before: bool, to_authenticated: bool) {
        let mut state = self.lock();
        if !authenticated_before {
            state.unauthenticated = state.unauthenticated.saturating_sub(1);
            if self.config.per_source_max_startups.is_some()
                && let Some(count) = state.per_source.get_mut(&block)
            {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    state.per_source.remove(&block);
                }
            }
        }
        if !to_authenticated {
            state.open = state.open.saturating_sub(1);
        }
    }
}

/// An admitted connection's hold on its admission slots, kept for the connection's life.
/// Dropping it frees them; [`Admitted::close`] also imposes `noauth` when due.
#[derive(Debug)]
pub struct Admitted {
    admission: Arc<Admission>,
    peer: IpAddr,
    netblock: IpAddr,
    authenticated: bool,
    penalised: bool,
}

impl Admitted {
    /// The peer address as admitted (IPv4-mapped IPv6 unwrapped).
    pub fn peer(&self) -> IpAddr {
        self.peer
    }

    /// Whether [`Admitted::authenticated`] was called.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// User authentication succeeded: the connection stops counting against
    /// `MaxStartups` and `PerSourceMaxStartups` (it still counts against
    /// `MaxConnections`). Idempotent.
    pub fn authenticated(&mut self) {
        if self.authenticated {
            return;
        }
        self.authenticated = true;
        self.admission.release(self.netblock, false, true);
        if let Some(m) = &self.admission.metrics {
            m.became_authenticated();
        }
    }

    /// Records the connection's outcome `kind` against its source netblock at `now`, as
    /// sshd does once per connection when its pre-authentication process exits. Only the
    /// first call per connection records; returns whether this one did. Call it once, when
    /// the connection ends, with its outcome ([`Penalty::at_preauth_end`]), or with
    /// [`Penalty::Crash`] when its handling panicked.
    pub fn penalise(&mut self, kind: Penalty, now: Instant) -> bool {
        if self.penalised {
            return false;
        }
        self.penalised = true;
        self.admission.penalise(self.peer, kind, now)
    }

    /// Ends the connection at `now`: if it never authenticated and no penalty was
    /// recorded, records [`Penalty::NoAuth`] (sshd's penalty for a client that leaves
    /// without attempting authentication); then frees its slots.
    pub fn close(mut self, now: Instant) {
        if !self.authenticated && !self.penalised {
            self.penalise(Penalty::NoAuth, now);
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.admission
            .release(self.netblock, self.authenticated, false);
        if let Some(m) = &self.admission.metrics {
            m.closed(self.authenticated);
        }
    }
}
