//! Timing without criterion: rates over a time budget, interleaved rounds, medians.

use std::time::{Duration, Instant};

/// Runs `step` repeatedly for at least `budget` (and at least once) and returns the units
/// `step` reports per second. Steps run in batches that grow while they are short, so the
/// clock is read rarely for fast steps and a slow step (an 8192-bit Diffie-Hellman) is not
/// repeated far past the budget.
pub fn rate(budget: Duration, mut step: impl FnMut() -> usize) -> f64 {
    const MAX_BATCH: usize = 1024;
    let start = Instant::now();
    let mut units = 0usize;
    let mut batch = 1usize;
    loop {
        let batch_start = Instant::now();
        for _ in 0..batch {
            units += step();
        }
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return units as f64 / elapsed.as_secs_f64();
        }
        if batch_start.elapsed() < budget / 64 {
            batch = (batch * 2).min(MAX_BATCH);
        }
    }
}

/// Runs `step` repeatedly for about `budget` and returns the payload throughput in MB/s
/// (10^6 bytes per second); `step` returns the payload bytes it handled.
pub fn measure(budget: Duration, step: impl FnMut() -> usize) -> f64 {
    rate(budget, step) / 1e6
}

/// Times every contender for `budget` per round, `rounds` times, after a warm-up of
/// `budget / 2` each. Within a round every contender runs once before the next round starts,
/// and the starting contender rotates from round to round, so slow drifts of the machine
/// (frequency, other load) fall on all of them alike. Returns, per contender, its rate
/// (units per second, as [`rate`]) in each round; `on_round` sees each round's rates as it
/// ends.
pub fn interleaved(
    rounds: usize,
    budget: Duration,
    contenders: &mut [&mut dyn FnMut() -> usize],
    mut on_round: impl FnMut(usize, &[f64]),
) -> Vec<Vec<f64>> {
    let n = contenders.len();
    for step in contenders.iter_mut() {
        rate(budget / 2, step);
    }
    let mut rates = vec![Vec::with_capacity(rounds); n];
    let mut this_round = vec![0.0; n];
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            this_round[i] = rate(budget, &mut contenders[i]);
        }
        for (all, &r) in rates.iter_mut().zip(&this_round) {
            all.push(r);
        }
        on_round(round, &this_round);
    }
    rates
}

/// Median, minimum and maximum of `values` (which must not be empty).
pub fn summary(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    let median = if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

/// Element-wise `f(a, b)` of two per-round series (per-round ratios, differences).
pub fn per_round(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        assert_eq!(summary(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(summary(&[4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
    }

    #[test]
    fn interleaved_rotates_and_counts() {
        let order = std::cell::RefCell::new(Vec::new());
        let mut a = || {
            order.borrow_mut().push('a');
            1
        };
        let mut b = || {
            order.borrow_mut().push('b');
            1
        };
        let budget = Duration::from_millis(2);
        let rates = interleaved(3, budget, &mut [&mut a, &mut b], |_, r| {
            assert_eq!(r.len(), 2)
        });
        assert_eq!(rates.len(), 2);
        assert!(
            rates
                .iter()
                .all(|r| r.len() == 3 && r.iter().all(|&x| x > 0.0))
        );
        // Warm-up a, warm-up b, then a-b, b-a, a-b: the order rotates per round.
        let mut runs: Vec<char> = order.borrow().clone();
        runs.dedup();
        // Without rotation this would be a b a b a b a b.
        assert_eq!(runs, ['a', 'b', 'a', 'b', 'a', 'b']);
    }

    #[test]
    fn rate_runs_a_slow_step_at_least_once() {
        let mut n = 0;
        let r = rate(Duration::from_millis(1), || {
            n += 1;
            std::thread::sleep(Duration::from_millis(3));
            1
        });
        assert_eq!(n, 1);
        assert!(r > 0.0 && r < 1000.0);
    }
}
