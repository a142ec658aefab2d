//! The `PerSourcePenalties` table, after OpenSSH's `srclimit.c`: one entry per penalised
//! source netblock, per address family, each with an expiry, whether it is enforced yet
//! ("active"), and the last reason.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::config::{NetBlockSize, PenaltyOverflow, PerSourcePenalties};
use super::netblock::{ExemptList, netblock};

/// What a connection did to earn its source a penalty (sshd's penalty classes, decided in
/// sshd from how the pre-authentication process exited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Penalty {
    /// Handling the connection crashed (a panic in Seashell): `crash:` (default 90 s).
    Crash,
    /// The connection ended after one or more failed authentication attempts:
    /// `authfail:` (default 5 s).
    AuthFail,
    /// Authentication was attempted for a user that does not exist: `invaliduser:`
    /// (default 5 s).
    InvalidUser,
    /// The connection ended without attempting authentication: `noauth:` (default 1 s).
    NoAuth,
    /// The connection was still unauthenticated when `LoginGraceTime` ran out:
    /// `grace-exceeded:` (default 10 s).
    GraceExceeded,
    /// Configuration refused the connection (sshd's `RefuseConnection`):
    /// `refuseconnection:` (default 10 s).
    RefuseConnection,
}

impl Penalty {
    /// Every kind, in the order metrics list them.
    pub const ALL: [Penalty; 6] = [
        Penalty::Crash,
        Penalty::AuthFail,
        Penalty::InvalidUser,
        Penalty::NoAuth,
        Penalty::GraceExceeded,
        Penalty::RefuseConnection,
    ];

    /// The penalty for an unauthenticated connection's end, as sshd derives it from its
    /// pre-authentication process's exit: grace time exceeded wins, then an invalid user,
    /// then failed attempts; a connection that tried nothing gets [`Penalty::NoAuth`].
    pub fn at_preauth_end(grace_exceeded: bool, invalid_user: bool, auth_attempted: bool) -> Self {
        if grace_exceeded {
            Penalty::GraceExceeded
        } else if invalid_user {
            Penalty::InvalidUser
        } else if auth_attempted {
            Penalty::AuthFail
        } else {
            Penalty::NoAuth
        }
    }

    /// sshd's keyword for it in `PerSourcePenalties` (and the metrics label).
    pub fn keyword(self) -> &'static str {
        match self {
            Penalty::Crash => "crash",
            Penalty::AuthFail => "authfail",
            Penalty::InvalidUser => "invaliduser",
            Penalty::NoAuth => "noauth",
            Penalty::GraceExceeded => "grace-exceeded",
            Penalty::RefuseConnection => "refuseconnection",
        }
    }

    /// Its index in [`Penalty::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Penalty::Crash => 0,
            Penalty::AuthFail => 1,
            Penalty::InvalidUser => 2,
            Penalty::NoAuth => 3,
            Penalty::GraceExceeded => 4,
            Penalty::RefuseConnection => 5,
        }
    }

    fn duration(self, cfg: &PerSourcePenalties) -> Duration {
        match self {
            Penalty::Crash => cfg.crash,
            Penalty::AuthFail => cfg.authfail,
            Penalty::InvalidUser => cfg.invaliduser,
            Penalty::NoAuth => cfg.noauth,
            Penalty::GraceExceeded => cfg.grace_exceeded,
            Penalty::RefuseConnection => cfg.refuseconnection,
        }
    }
}

impl fmt::Display for Penalty {
    /// sshd's log wording, e.g. `penalty: failed authentication`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Penalty::Crash => "penalty: caused crash",
            Penalty::AuthFail => "penalty: failed authentication",
            Penalty::InvalidUser => "penalty: attempted authentication by invalid user",
            Penalty::NoAuth => "penalty: connections without attempting authentication",
            Penalty::GraceExceeded => "penalty: exceeded LoginGraceTime",
            Penalty::RefuseConnection => "penalty: connection prohibited by RefuseConnection",
        })
    }
}

/// Why the penalty table refuses a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PenaltyRefusal {
    /// The netblock has an active penalty.
    Active {
        netblock: IpAddr,
        reason: Penalty,
        remaining: Duration,
    },
    /// The family's table is full and its overflow mode is deny-all.
    TableFull,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    expiry: Instant,
    active: bool,
    reason: Penalty,
}

/// One address family's penalties, by netblock and by expiry.
#[derive(Debug, Default)]
struct Table {
    by_addr: HashMap<IpAddr, Entry>,
    by_expiry: BTreeSet<(Instant, IpAddr)>,
}

impl Table {
    /// Drops entries that expired before `now` (an entry expiring exactly now still holds,
    /// as in sshd).
    fn expire(&mut self, now: Instant) {
        while let Some(&(expiry, addr)) = self.by_expiry.first() {
            if expiry >= now {
                break;
            }
            self.by_expiry.pop_first();
            self.by_addr.remove(&addr);
        }
    }

    /// Drops the soonest-to-expire entries until at most `max` remain.
    fn evict_to(&mut self, max: usize) {
        while self.by_addr.len() > max {
            let Some((_, addr)) = self.by_expiry.pop_first() else {
                break;
            };
            self.by_addr.remove(&addr);
        }
    }
}

/// The penalty state of an [`super::Admission`].
#[derive(Debug)]
pub(crate) struct Penalties {
    cfg: PerSourcePenalties,
    size: NetBlockSize,
    exempt: ExemptList,
    v4: Table,
    v6: Table,
}

impl Penalties {
    pub(crate) fn new(cfg: PerSourcePenalties, size: NetBlockSize, exempt: ExemptList) -> Self {
        Penalties {
            cfg,
            size,
            exempt,
            v4: Table::default(),
            v6: Table::default(),
        }
    }

    fn family(&mut self, ip: IpAddr) -> (&mut Table, usize, PenaltyOverflow) {
        if ip.is_ipv4() {
            (&mut self.v4, self.cfg.max_sources4, self.cfg.overflow)
        } else {
            (&mut self.v6, self.cfg.max_sources6, self.cfg.overflow6)
        }
    }

    /// sshd's `srclimit_penalty_check_allow` for a normalised address.
    pub(crate) fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), PenaltyRefusal> {
        if !self.cfg.enabled || self.exempt.matches(ip) {
            return Ok(());
        }
        let block = netblock(ip, self.size);
        let (table, max, overflow) = self.family(ip);
        table.expire(now);
        if table.by_addr.len() >= max && overflow == PenaltyOverflow::DenyAll {
            return Err(PenaltyRefusal::TableFull);
        }
        match table.by_addr.get(&block) {
            Some(entry) if entry.active && entry.expiry >= now => Err(PenaltyRefusal::Active {
                netblock: block,
                reason: entry.reason,
                remaining: entry.expiry.saturating_duration_since(now),
            }),
            _ => Ok(()),
        }
    }

    /// sshd's `srclimit_penalise` for a normalised address. Returns whether the penalty was
    /// recorded (not when penalties are off, the source is exempt, the kind's duration is
    /// zero, or a deny-all table is full).
    pub(crate) fn penalise(&mut self, ip: IpAddr, kind: Penalty, now: Instant) -> bool {
        if !self.cfg.enabled || self.exempt.matches(ip) {
            return false;
        }
        let secs = kind.duration(&self.cfg);
        if secs.is_zero() {
            return false;
        }
        let (min, max_penalty) = (self.cfg.min, self.cfg.max);
        let block = netblock(ip, self.size);
        let (table, max_sources, overflow) = self.family(ip);
        table.expire(now);
        if table.by_addr.len() >= max_sources && overflow == PenaltyOverflow::DenyAll {
            return false;
        }
        let cap = now.checked_add(max_penalty).unwrap_or(now);
        if let Some(entry) = table.by_addr.get_mut(&block) {
            // Accumulate onto what is outstanding, up to max.
            table.by_expiry.remove(&(entry.expiry, block));
            entry.expiry = entry.expiry.checked_add(secs).unwrap_or(cap).min(cap);
            if entry.expiry.saturating_duration_since(now) > min {
                entry.active = true;
            }
            entry.reason = kind;
            table.by_expiry.insert((entry.expiry, block));
            return true;
        }
        // A first penalty is capped at max too (sshd leaves a first one uncapped; its
        // documentation says max is the longest a source is refused for, so we hold to that).
        let expiry = now.checked_add(secs).unwrap_or(cap).min(cap);
        let entry = Entry {
            expiry,
            active: expiry.saturating_duration_since(now) > min,
            reason: kind,
        };
        table.by_addr.insert(block, entry);
        table.by_expiry.insert((expiry, block));
        // Permissive overflow: make room by forgetting the penalties closest to expiry.
        table.evict_to(max_sources);
        true
    }

    /// How many netblocks are tracked (active or not) for IPv4 and IPv6, after expiring.
    pub(crate) fn tracked(&mut self, now: Instant) -> (usize, usize) {
        self.v4.expire(now);
        self.v6.expire(now);
        (self.v4.by_addr.len(), self.v6.by_addr.len())
    }
}
