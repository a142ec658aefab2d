//! The verdict of `handshake-soak`: is the server's resident memory flat over many
//! handshakes?
//!
//! The series is a list of [`Sample`]s, the server's `VmRSS` after every so many
//! handshakes. The first sample at or past the warm-up count is the **baseline**: by then
//! the allocator's arenas, the runtime's worker threads and the server's tables have reached
//! their working size. The memory is **flat** when no later sample exceeds the baseline by
//! more than the margin: the larger of a percentage of the baseline and a fixed number of
//! KiB (a few connections in flight and allocator noise move RSS by a few hundred KiB).

/// The server's resident memory after some number of handshakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Handshakes completed when the sample was taken.
    pub handshakes: u64,
    /// The server's `VmRSS` then, in KiB.
    pub rss_kib: u64,
}

/// How much growth after warm-up still counts as flat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Margin {
    /// Allowed growth in percent of the baseline.
    pub percent: u64,
    /// Allowed growth in KiB; the larger of the two applies.
    pub kib: u64,
}

/// The summary of a series after warm-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flatness {
    /// The first sample at or after the warm-up count.
    pub baseline: Sample,
    /// The last sample.
    pub last: Sample,
    /// The highest sample after the baseline (the baseline itself if none is higher).
    pub peak: Sample,
    /// The highest RSS that still counts as flat: baseline + margin.
    pub limit_kib: u64,
    /// Least-squares slope of RSS over handshakes from the baseline on, in KiB per
    /// 10,000 handshakes (0 with fewer than two samples).
    pub slope_kib_per_10k: f64,
}

impl Flatness {
    /// Whether every sample from the baseline on stayed within the limit.
    pub fn is_flat(&self) -> bool {
        self.peak.rss_kib <= self.limit_kib
    }
}

/// Judges `samples` (in handshake order): the baseline is the first sample with at least
/// `warmup` handshakes. `None` if there is no such sample.
pub fn judge(samples: &[Sample], warmup: u64, margin: Margin) -> Option<Flatness> {
    let start = samples.iter().position(|s| s.handshakes >= warmup)?;
    let after = &samples[start..];
    let baseline = after[0];
    let last = *after.last()?;
    let peak = *after.iter().max_by_key(|s| s.rss_kib)?;
    let allowed = (baseline.rss_kib.saturating_mul(margin.percent) / 100).max(margin.kib);
    Some(Flatness {
        baseline,
        last,
        peak,
        limit_kib: baseline.rss_kib.saturating_add(allowed),
        slope_kib_per_10k: slope(after) * 10_000.0,
    })
}

/// Least-squares slope of `rss_kib` over `handshakes`, in KiB per handshake.
fn slope(samples: &[Sample]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mean_x = samples.iter().map(|s| s.handshakes as f64).sum::<f64>() / n;
    let mean_y = samples.iter().map(|s| s.rss_kib as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for s in samples {
        let dx = s.handshakes as f64 - mean_x;
        num += dx * (s.rss_kib as f64 - mean_y);
        den += dx * dx;
    }
    if den == 0.0 { 0.0 } else { num / den }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARGIN: Margin = Margin {
        percent: 10,
        kib: 4096,
    };

    fn series(points: &[(u64, u64)]) -> Vec<Sample> {
        points
            .iter()
            .map(|&(handshakes, rss_kib)| Sample {
                handshakes,
                rss_kib,
            })
            .collect()
    }

    #[test]
    fn growth_during_warm_up_does_not_count() {
        // 4 MiB at start, 20 MiB once warm, then within noise.
        let s = series(&[
            (0, 4_000),
            (5_000, 20_000),
            (10_000, 20_300),
            (15_000, 19_900),
        ]);
        let f = judge(&s, 5_000, MARGIN).expect("a baseline");
        assert_eq!(f.baseline.rss_kib, 20_000);
        assert_eq!(f.peak.rss_kib, 20_300);
        assert_eq!(f.last.rss_kib, 19_900);
        // 10 % of 20,000 KiB is less than 4 MiB, so the fixed margin applies.
        assert_eq!(f.limit_kib, 20_000 + 4_096);
        assert!(f.is_flat());
        assert!(f.slope_kib_per_10k.abs() < 200.0);
    }

    #[test]
    fn steady_growth_is_not_flat() {
        // A leak of 1 KiB per handshake: +5 MiB every 5,000.
        let s: Vec<Sample> = (1..=20)
            .map(|i| Sample {
                handshakes: i * 5_000,
                rss_kib: 20_000 + i * 5_000,
            })
            .collect();
        let f = judge(&s, 5_000, MARGIN).expect("a baseline");
        assert!(!f.is_flat());
        assert!((f.slope_kib_per_10k - 10_000.0).abs() < 1.0);
        assert_eq!(f.peak, *s.last().expect("samples"));
    }

    #[test]
    fn percentage_margin_applies_to_large_baselines() {
        let s = series(&[(5_000, 100_000), (10_000, 109_000)]);
        let f = judge(&s, 5_000, MARGIN).expect("a baseline");
        assert_eq!(f.limit_kib, 110_000);
        assert!(f.is_flat());
        let s = series(&[(5_000, 100_000), (10_000, 110_001)]);
        assert!(!judge(&s, 5_000, MARGIN).expect("a baseline").is_flat());
    }

    #[test]
    fn no_sample_past_warm_up_gives_no_verdict() {
        let s = series(&[(0, 4_000), (1_000, 5_000)]);
        assert_eq!(judge(&s, 5_000, MARGIN), None);
        assert_eq!(judge(&[], 0, MARGIN), None);
    }
}
