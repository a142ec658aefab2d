use super::*;
use crate::metrics::MetricsSnapshot;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Admission with no MaxStartups drops in the way (start = full = 10_000).
fn quiet_config() -> AdmissionConfig {
    AdmissionConfig {
        max_startups: "10000".parse().unwrap(),
        ..AdmissionConfig::default()
    }
}

fn admission(config: AdmissionConfig) -> Arc<Admission> {
    Arc::new(Admission::with_seed(config, 7))
}

/// A draw that always lands on `r` in 0..100.
fn draw(r: u32) -> impl FnMut() -> u32 {
    move || ((u64::from(r) << 32) / 100 + 1) as u32
}

// ---- configuration ------------------------------------------------------------------

#[test]
fn defaults_match_sshd() {
    let c = AdmissionConfig::default();
    assert_eq!(c.max_startups.to_string(), "10:30:100");
    assert_eq!(c.per_source_max_startups, None);
    assert_eq!(
        c.per_source_net_block_size,
        NetBlockSize {
            ipv4: 32,
            ipv6: 128
        }
    );
    let p = &c.per_source_penalties;
    assert!(p.enabled);
    assert_eq!(
        (p.crash, p.authfail, p.invaliduser, p.noauth),
        (secs(90), secs(5), secs(5), secs(1))
    );
    assert_eq!((p.grace_exceeded, p.refuseconnection), (secs(10), secs(10)));
    assert_eq!((p.min, p.max), (secs(15), secs(600)));
    assert_eq!((p.max_sources4, p.max_sources6), (65536, 65536));
    assert_eq!(
        (p.overflow, p.overflow6),
        (PenaltyOverflow::Permissive, PenaltyOverflow::Permissive)
    );
    assert!(c.per_source_penalty_exempt_list.is_empty());
    assert_eq!(c.max_connections, None);
}

#[test]
fn parses_max_startups_like_sshd() {
    let m: MaxStartups = "10:30:60".parse().unwrap();
    assert_eq!((m.start, m.rate, m.full), (10, 30, 60));
    let m: MaxStartups = "20".parse().unwrap();
    assert_eq!((m.start, m.rate, m.full), (20, 30, 20));
    for bad in [
        "",
        "0",
        "10:30",
        "10:0:60",
        "10:101:60",
        "61:30:60",
        "a:b:c",
        "-1",
        "10:30:60:1",
    ] {
        assert!(
            matches!(bad.parse::<MaxStartups>(), Err(ConfigError::MaxStartups(_))),
            "{bad}"
        );
    }
}

#[test]
fn parses_net_block_size_and_limits() {
    let n: NetBlockSize = "24".parse().unwrap();
    assert_eq!((n.ipv4, n.ipv6), (24, 128));
    let n: NetBlockSize = "24:64".parse().unwrap();
    assert_eq!((n.ipv4, n.ipv6), (24, 64));
    for bad in ["33", "24:129", "", ":64", "x"] {
        assert!(bad.parse::<NetBlockSize>().is_err(), "{bad}");
    }
    let mut c = AdmissionConfig::default();
    assert!(c.set("PerSourceMaxStartups", "5").unwrap());
    assert_eq!(c.per_source_max_startups, Some(5));
    assert!(c.set("persourcemaxstartups", "none").unwrap());
    assert_eq!(c.per_source_max_startups, None);
    assert!(c.set("MaxConnections", "500").unwrap());
    assert_eq!(c.max_connections, Some(500));
    assert!(c.set("MaxConnections", "0").is_err());
    assert!(!c.set("Port", "22").unwrap());
}

#[test]
fn parses_penalties_like_sshd() {
    let p: PerSourcePenalties =
        "crash:2m authfail:1m30s noauth:0.5 min:20s max:1h overflow:deny-all max-sources4:10"
            .parse()
            .unwrap();
    assert_eq!(p.crash, secs(120));
    assert_eq!(p.authfail, secs(90));
    assert_eq!(p.noauth, Duration::from_millis(500));
    assert_eq!((p.min, p.max), (secs(20), secs(3600)));
    assert_eq!(p.max_sources4, 10);
    assert_eq!(p.max_sources6, 65536);
    // overflow6 follows overflow unless given.
    assert_eq!(
        (p.overflow, p.overflow6),
        (PenaltyOverflow::DenyAll, PenaltyOverflow::DenyAll)
    );
    let p: PerSourcePenalties = "overflow:deny-all overflow6:permissive".parse().unwrap();
    assert_eq!(p.overflow6, PenaltyOverflow::Permissive);
    // First occurrence wins, as in sshd.
    let p: PerSourcePenalties = "authfail:7 authfail:9".parse().unwrap();
    assert_eq!(p.authfail, secs(7));
    assert!("yes".parse::<PerSourcePenalties>().unwrap().enabled);
    assert!(!"no".parse::<PerSourcePenalties>().unwrap().enabled);
    assert_eq!(
        "no crash:1".parse::<PerSourcePenalties>(),
        Err(ConfigError::PenaltyYesNoNotAlone)
    );
    assert_eq!(
        "".parse::<PerSourcePenalties>(),
        Err(ConfigError::NoPenaltyKeywords)
    );
    for bad in [
        "bogus:1",
        "crash",
        "overflow:maybe",
        "max-sources4:0",
        "max-sources6:x",
    ] {
        assert!(bad.parse::<PerSourcePenalties>().is_err(), "{bad}");
    }
}

#[test]
fn sshd_time_format() {
    assert_eq!(parse_sshd_time("90").unwrap(), secs(90));
    assert_eq!(parse_sshd_time("1h2m3s").unwrap(), secs(3723));
    assert_eq!(parse_sshd_time("1w").unwrap(), secs(604800));
    assert_eq!(
        parse_sshd_time("1.25s").unwrap(),
        Duration::from_millis(1250)
    );
    for bad in ["", "1.5m", "1.", "5s5s", "1x", "-1", "s", "9999999999"] {
        assert!(parse_sshd_time(bad).is_err(), "{bad}");
    }
}

// ---- MaxStartups ---------------------------------------------------------------------

#[test]
fn max_startups_probability_is_sshds_staircase() {
    let m = MaxStartups::default();
    assert_eq!(m.drop_percent(9), 0);
    assert_eq!(m.drop_percent(10), 30);
    assert_eq!(m.drop_percent(11), 30);
    assert_eq!(m.drop_percent(12), 31);
    assert_eq!(m.drop_percent(55), 65);
    assert_eq!(m.drop_percent(99), 99);
    assert_eq!(m.drop_percent(100), 100);
    let m: MaxStartups = "5:100:50".parse().unwrap();
    assert_eq!(m.drop_percent(5), 100);
}

/// Holds `n` unauthenticated connections from distinct addresses.
fn hold(adm: &Arc<Admission>, n: u32, now: Instant) -> Vec<Admitted> {
    (0..n)
        .map(|i| {
            let peer = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            adm.admit_with(peer, now, &mut draw(99)).unwrap()
        })
        .collect()
}

fn refusal_rate(adm: &Arc<Admission>, now: Instant, tries: u32) -> u32 {
    let mut refused = 0;
    for _ in 0..tries {
        match adm.admit(ip("192.0.2.1"), now) {
            Ok(conn) => drop(conn),
            Err(Refused::MaxStartups { .. }) => refused += 1,
            Err(other) => panic!("{other}"),
        }
    }
    refused
}

#[test]
fn max_startups_drops_at_start_middle_and_full() {
    let now = Instant::now();
    let adm = admission(AdmissionConfig::default());
    // Below start: never dropped, whatever the draw.
    let mut held = hold(&adm, 9, now);
    assert_eq!(refusal_rate(&adm, now, 2_000), 0);
    let c = adm.admit_with(ip("192.0.2.1"), now, &mut draw(0)).unwrap();
    held.push(c);
    // At start (10 standing): 30%.
    let r = refusal_rate(&adm, now, 10_000);
    assert!((2_800..=3_200).contains(&r), "{r}");
    // Exactly at the boundary of the draw: r < p drops, r = p admits.
    assert!(adm.admit_with(ip("192.0.2.1"), now, &mut draw(29)).is_err());
    assert!(adm.admit_with(ip("192.0.2.1"), now, &mut draw(30)).is_ok());
    // Middle (55 standing): 65%.
    held.extend(hold(&adm, 45, now));
    assert_eq!(adm.counts(), (55, 55));
    let r = refusal_rate(&adm, now, 10_000);
    assert!((6_300..=6_700).contains(&r), "{r}");
    // Full (100 standing): always.
    let mut rest = Vec::new();
    while adm.counts().1 < 100 {
        if let Ok(c) = adm.admit_with(ip("198.51.100.1"), now, &mut draw(99)) {
            rest.push(c);
        }
    }
    assert_eq!(refusal_rate(&adm, now, 1_000), 1_000);
    assert_eq!(
        adm.admit_with(ip("192.0.2.1"), now, &mut draw(99))
            .unwrap_err(),
        Refused::MaxStartups {
            unauthenticated: 100,
            percent: 100
        }
    );
    // Authenticated connections do not count: one authenticates, the lottery is back.
    rest[0].authenticated();
    assert_eq!(adm.counts(), (100, 99));
    assert!(adm.admit_with(ip("192.0.2.1"), now, &mut draw(99)).is_ok());
}

// ---- PerSourceMaxStartups --------------------------------------------------------------

fn per_source(limit: u32, block: &str) -> Arc<Admission> {
    let mut c = quiet_config();
    c.per_source_max_startups = Some(limit);
    c.per_source_net_block_size = block.parse().unwrap();
    admission(c)
}

#[test]
fn per_source_cap_v4_single_addresses() {
    let now = Instant::now();
    let adm = per_source(2, "32:128");
    let a = adm.admit(ip("10.0.0.1"), now).unwrap();
    let _b = adm.admit(ip("10.0.0.1"), now).unwrap();
    assert_eq!(
        adm.admit(ip("10.0.0.1"), now).unwrap_err(),
        Refused::PerSource {
            netblock: ip("10.0.0.1"),
            limit: 2
        }
    );
    // A neighbour is its own source under /32.
    let _c = adm.admit(ip("10.0.0.2"), now).unwrap();
    // IPv4-mapped IPv6 is the same source as the IPv4 address.
    assert!(matches!(
        adm.admit(ip("::ffff:10.0.0.1"), now),
        Err(Refused::PerSource { .. })
    ));
    // Releasing a slot (drop) lets one more in.
    drop(a);
    let _d = adm.admit(ip("::ffff:10.0.0.1"), now).unwrap();
}

#[test]
fn per_source_cap_v4_netblock_24() {
    let now = Instant::now();
    let adm = per_source(2, "24:128");
    let _a = adm.admit(ip("10.0.0.1"), now).unwrap();
    let _b = adm.admit(ip("10.0.0.200"), now).unwrap();
    assert_eq!(
        adm.admit(ip("10.0.0.7"), now).unwrap_err(),
        Refused::PerSource {
            netblock: ip("10.0.0.0"),
            limit: 2
        }
    );
    assert!(adm.admit(ip("10.0.1.7"), now).is_ok());
}

#[test]
fn per_source_cap_v6_128_and_64() {
    let now = Instant::now();
    let adm = per_source(1, "32:128");
    let _a = adm.admit(ip("2001:db8::1"), now).unwrap();
    assert!(adm.admit(ip("2001:db8::1"), now).is_err());
    assert!(adm.admit(ip("2001:db8::2"), now).is_ok());

    let adm = per_source(1, "32:64");
    let mut a = adm.admit(ip("2001:db8:0:1::1"), now).unwrap();
    assert_eq!(
        adm.admit(ip("2001:db8:0:1:ffff::9"), now).unwrap_err(),
        Refused::PerSource {
            netblock: ip("2001:db8:0:1::"),
            limit: 1
        }
    );
    assert!(adm.admit(ip("2001:db8:0:2::1"), now).is_ok());
    // Authenticating frees the per-source slot.
    a.authenticated();
    assert!(adm.admit(ip("2001:db8:0:1::5"), now).is_ok());
}

// ---- MaxConnections and RAII --------------------------------------------------------

#[test]
fn max_connections_counts_authenticated_too() {
    let now = Instant::now();
    let mut c = quiet_config();
    c.max_connections = Some(2);
    let adm = admission(c);
    let mut a = adm.admit(ip("10.0.0.1"), now).unwrap();
    a.authenticated();
    let b = adm.admit(ip("10.0.0.2"), now).unwrap();
    assert_eq!(
        adm.admit(ip("10.0.0.3"), now).unwrap_err(),
        Refused::MaxConnections { limit: 2 }
    );
    drop(a);
    assert_eq!(adm.counts(), (1, 1));
    let c3 = adm.admit(ip("10.0.0.3"), now).unwrap();
    drop((b, c3));
    assert_eq!(adm.counts(), (0, 0));
}

#[test]
fn guards_release_their_slots() {
    let now = Instant::now();
    let adm = per_source(3, "32:128");
    let mut conns: Vec<_> = (0..3)
        .map(|_| adm.admit(ip("10.0.0.1"), now).unwrap())
        .collect();
    assert_eq!(adm.counts(), (3, 3));
    conns[0].authenticated();
    conns[0].authenticated(); // idempotent
    assert_eq!(adm.counts(), (3, 2));
    conns.pop().unwrap().close(now);
    assert_eq!(adm.counts(), (2, 1));
    drop(conns);
    assert_eq!(adm.counts(), (0, 0));
    // The per-source table is empty again: three more fit.
    let again: Vec<_> = (0..3)
        .map(|_| adm.admit(ip("10.0.0.1"), now).unwrap())
        .collect();
    assert_eq!(again.len(), 3);
}

// ---- PerSourcePenalties ---------------------------------------------------------------

fn authfail(adm: &Arc<Admission>, peer: &str, now: Instant) {
    let mut conn = adm.admit(ip(peer), now).unwrap();
    assert!(conn.penalise(Penalty::AuthFail, now));
    conn.close(now);
}

#[test]
fn penalties_accumulate_to_min_then_refuse_until_expiry() {
    let t0 = Instant::now();
    let adm = admission(quiet_config());
    // 5 s each; enforced only once more than 15 s is outstanding.
    authfail(&adm, "192.0.2.1", t0);
    authfail(&adm, "192.0.2.1", t0);
    authfail(&adm, "192.0.2.1", t0); // exactly 15 s: not yet (sshd wants more than min)
    assert!(adm.penalty_for(ip("192.0.2.1"), t0).is_none());
    authfail(&adm, "192.0.2.1", t0); // 20 s
    let refused = adm.admit(ip("192.0.2.1"), t0).unwrap_err();
    assert_eq!(
        refused,
        Refused::Penalty {
            netblock: ip("192.0.2.1"),
            reason: Penalty::AuthFail,
            remaining: secs(20)
        }
    );
    assert_eq!(
        refused.to_string(),
        "PerSourcePenalties: 192.0.2.1 penalty: failed authentication (20.000s remaining)"
    );
    // The mapped form of the same address is refused too; another source is not.
    assert!(adm.admit(ip("::ffff:192.0.2.1"), t0 + secs(5)).is_err());
    assert!(adm.admit(ip("192.0.2.2"), t0).is_ok());
    // Still refused at the expiry instant, admitted after it.
    assert!(adm.admit(ip("192.0.2.1"), t0 + secs(20)).is_err());
    assert!(
        adm.admit(ip("192.0.2.1"), t0 + secs(20) + Duration::from_millis(1))
            .is_ok()
    );
    assert_eq!(adm.penalised_sources(t0 + secs(21)), (0, 0));
}

#[test]
fn penalties_expire_between_connections() {
    let t0 = Instant::now();
    let adm = admission(quiet_config());
    // Failures spaced wider than their own penalty never accumulate.
    for i in 0..10 {
        authfail(&adm, "192.0.2.1", t0 + secs(6 * i));
        assert!(adm.penalty_for(ip("192.0.2.1"), t0 + secs(6 * i)).is_none());
    }
}

#[test]
fn penalties_cap_at_max_and_first_penalty_over_min_is_immediate() {
    let t0 = Instant::now();
    let adm = admission(quiet_config());
    let mut conn = adm.admit(ip("192.0.2.9"), t0).unwrap();
    assert!(conn.penalise(Penalty::Crash, t0));
    assert!(!conn.penalise(Penalty::Crash, t0)); // once per connection
    drop(conn);
    let Some(Refused::Penalty {
        remaining, reason, ..
    }) = adm.penalty_for(ip("192.0.2.9"), t0)
    else {
        panic!("not penalised")
    };
    assert_eq!((remaining, reason), (secs(90), Penalty::Crash));
    // Ten more crashes: capped at max (600 s) from now.
    for _ in 0..10 {
        assert!(adm.penalise(ip("192.0.2.9"), Penalty::Crash, t0));
    }
    let Some(Refused::Penalty { remaining, .. }) = adm.penalty_for(ip("192.0.2.9"), t0) else {
        panic!("not penalised")
    };
    assert_eq!(remaining, secs(600));
    assert!(adm.admit(ip("192.0.2.9"), t0 + secs(600)).is_err());
    assert!(adm.admit(ip("192.0.2.9"), t0 + secs(601)).is_ok());
}

#[test]
fn penalties_apply_to_the_netblock() {
    let t0 = Instant::now();
    let mut c = quiet_config();
    c.per_source_net_block_size = "24:64".parse().unwrap();
    let adm = admission(c);
    adm.penalise(ip("10.0.0.1"), Penalty::Crash, t0);
    adm.penalise(ip("2001:db8:0:1::1"), Penalty::Crash, t0);
    assert!(adm.admit(ip("10.0.0.77"), t0).is_err());
    assert!(adm.admit(ip("10.0.1.1"), t0).is_ok());
    assert!(adm.admit(ip("2001:db8:0:1:abcd::1"), t0).is_err());
    assert!(adm.admit(ip("2001:db8:0:2::1"), t0).is_ok());
}

#[test]
fn close_without_auth_is_noauth_and_authenticated_is_free() {
    let t0 = Instant::now();
    let mut c = quiet_config();
    c.per_source_penalties = "noauth:20s".parse().unwrap();
    let adm = admission(c);
    let mut ok = adm.admit(ip("192.0.2.3"), t0).unwrap();
    ok.authenticated();
    ok.close(t0);
    assert!(adm.penalty_for(ip("192.0.2.3"), t0).is_none());
    adm.admit(ip("192.0.2.3"), t0).unwrap().close(t0);
    assert!(matches!(
        adm.penalty_for(ip("192.0.2.3"), t0),
        Some(Refused::Penalty {
            reason: Penalty::NoAuth,
            ..
        })
    ));
    // Dropping without close records nothing (no clock).
    drop(adm.admit(ip("192.0.2.4"), t0).unwrap());
    assert_eq!(adm.penalised_sources(t0), (1, 0));
}

#[test]
fn preauth_outcome_mapping() {
    assert_eq!(
        Penalty::at_preauth_end(true, true, true),
        Penalty::GraceExceeded
    );
    assert_eq!(
        Penalty::at_preauth_end(false, true, true),
        Penalty::InvalidUser
    );
    assert_eq!(
        Penalty::at_preauth_end(false, false, true),
        Penalty::AuthFail
    );
    assert_eq!(
        Penalty::at_preauth_end(false, false, false),
        Penalty::NoAuth
    );
}

#[test]
fn exempt_sources_are_never_penalised() {
    let t0 = Instant::now();
    let mut c = quiet_config();
    c.per_source_penalty_exempt_list = "192.0.2.0/24,2001:db8::/32".parse().unwrap();
    let adm = admission(c);
    assert!(!adm.penalise(ip("192.0.2.1"), Penalty::Crash, t0));
    assert!(!adm.penalise(ip("::ffff:192.0.2.1"), Penalty::Crash, t0));
    assert!(!adm.penalise(ip("2001:db8::5"), Penalty::Crash, t0));
    assert!(adm.admit(ip("192.0.2.1"), t0).is_ok());
    assert!(adm.penalise(ip("198.51.100.1"), Penalty::Crash, t0));
    assert!(adm.admit(ip("198.51.100.1"), t0).is_err());
}

#[test]
fn penalties_off_and_zero_durations() {
    let t0 = Instant::now();
    let mut c = quiet_config();
    c.per_source_penalties = PerSourcePenalties::disabled();
    let adm = admission(c);
    assert!(!adm.penalise(ip("192.0.2.1"), Penalty::Crash, t0));
    let mut c = quiet_config();
    c.per_source_penalties = "authfail:0".parse().unwrap();
    let adm = admission(c);
    assert!(!adm.penalise(ip("192.0.2.1"), Penalty::AuthFail, t0));
    assert!(adm.penalise(ip("192.0.2.1"), Penalty::Crash, t0));
}

fn small_table(overflow: &str) -> Arc<Admission> {
    let mut c = quiet_config();
    c.per_source_penalties = format!("max-sources4:2 max-sources6:2 overflow:{overflow}")
        .parse()
        .unwrap();
    c.per_source_penalty_exempt_list = "203.0.113.1".parse().unwrap();
    admission(c)
}

#[test]
fn overflow_permissive_forgets_soonest_expiring() {
    let t0 = Instant::now();
    let adm = small_table("permissive");
    adm.penalise(ip("10.0.0.1"), Penalty::Crash, t0); // expires t0+90
    adm.penalise(ip("10.0.0.2"), Penalty::GraceExceeded, t0); // t0+10, soonest
    adm.penalise(ip("10.0.0.3"), Penalty::Crash, t0 + secs(1)); // third: evicts .2
    assert_eq!(adm.penalised_sources(t0 + secs(1)), (2, 0));
    assert!(adm.admit(ip("10.0.0.1"), t0 + secs(1)).is_err());
    assert!(adm.admit(ip("10.0.0.3"), t0 + secs(1)).is_err());
    // Everyone else is still admitted; IPv6 is tracked separately.
    assert!(adm.admit(ip("10.0.0.9"), t0 + secs(1)).is_ok());
    assert!(adm.admit(ip("2001:db8::1"), t0 + secs(1)).is_ok());
}

#[test]
fn overflow_deny_all_refuses_everyone_until_expiry() {
    let t0 = Instant::now();
    let adm = small_table("deny-all");
    assert!(adm.penalise(ip("10.0.0.1"), Penalty::AuthFail, t0)); // deferred, still tracked
    assert!(adm.penalise(ip("10.0.0.2"), Penalty::AuthFail, t0));
    // Full: nobody of that family gets in, and no new penalty is recorded.
    assert_eq!(
        adm.admit(ip("10.9.9.9"), t0).unwrap_err(),
        Refused::PenaltyTableFull
    );
    assert!(!adm.penalise(ip("10.0.0.3"), Penalty::Crash, t0));
    // Except exempt sources, and the other family.
    assert!(adm.admit(ip("203.0.113.1"), t0).is_ok());
    assert!(adm.admit(ip("2001:db8::1"), t0).is_ok());
    // Once the penalties expire, admission resumes.
    assert!(adm.admit(ip("10.9.9.9"), t0 + secs(6)).is_ok());
}

// ---- metrics ---------------------------------------------------------------------------

#[test]
fn admission_keeps_its_metrics() {
    let t0 = Instant::now();
    let metrics = Arc::new(ServerMetrics::new());
    let mut c = quiet_config();
    c.per_source_max_startups = Some(1);
    c.max_connections = Some(3);
    let adm = Arc::new(Admission::with_seed(c, 1).with_metrics(Arc::clone(&metrics)));
    let mut a = adm.admit(ip("10.0.0.1"), t0).unwrap();
    let b = adm.admit(ip("10.0.0.2"), t0).unwrap();
    assert!(adm.admit(ip("10.0.0.2"), t0).is_err()); // per source
    a.authenticated();
    let snap: MetricsSnapshot = metrics.snapshot();
    assert_eq!(
        (
            snap.connections_accepted,
            snap.unauthenticated,
            snap.authenticated
        ),
        (2, 1, 1)
    );
    assert_eq!(snap.refused(RefusalReason::PerSource), 1);
    let _c = adm.admit(ip("10.0.0.3"), t0).unwrap();
    assert!(adm.admit(ip("10.0.0.4"), t0).is_err()); // total cap
    b.close(t0); // noauth, 1 s: recorded, not enforced
    drop(a);
    adm.penalise(ip("10.0.0.5"), Penalty::Crash, t0);
    assert!(adm.admit(ip("10.0.0.5"), t0).is_err()); // penalty
    let snap = metrics.snapshot();
    assert_eq!(snap.refused(RefusalReason::MaxConnections), 1);
    assert_eq!(snap.refused(RefusalReason::Penalty), 1);
    assert_eq!(snap.penalties_of(Penalty::NoAuth), 1);
    assert_eq!(snap.penalties_of(Penalty::Crash), 1);
    assert_eq!((snap.unauthenticated, snap.authenticated), (1, 0));
}

#[test]
fn refusal_messages_read_like_sshd() {
    let r = Refused::MaxStartups {
        unauthenticated: 12,
        percent: 31,
    };
    assert_eq!(
        r.to_string(),
        "Maxstartups: 12 unauthenticated connections (drop probability 31%)"
    );
    assert_eq!(r.reason(), RefusalReason::MaxStartups);
    assert_eq!(REFUSAL_MESSAGE, b"Not allowed at this time\r\n");
}

#[test]
fn shareable_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Admission>();
    send_sync::<Admitted>();
    send_sync::<ServerMetrics>();
    let adm = admission(quiet_config());
    let now = Instant::now();
    let handles: Vec<_> = (0..4u8)
        .map(|i| {
            let adm = Arc::clone(&adm);
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let mut c = adm.admit(IpAddr::from([10, 0, 0, i]), now).unwrap();
                    c.authenticated();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(adm.counts(), (0, 0));
}
