//! Seashell's packet layer against the bare ring AEAD, timed interleaved, as a markdown table.
//!
//! For each cipher and round it times [`OursLoop`] (PacketWriter → BytesMut → PacketReader)
//! and then [`RawLoop`] (ring seal + open in place) for `--millis` each, alternating which
//! goes first, and reports the medians and the median of the per-round ratios ours/raw.
//!
//! `cargo run --release -p seashell-bench --bin packet-ratio -- [--rounds 9] [--millis 300]`

use clap::Parser;
use seashell_bench::{OursLoop, PAYLOAD_LEN, RawLoop, measure, summary};
use seashell_proto::crypto::CipherAlg;
use std::time::Duration;

/// The ratio ours/raw the packet layer should reach.
const GOAL: f64 = 0.85;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "Seashell packet framing vs raw ring AEAD (32 KiB payload, seal + open)")]
struct Args {
    /// Timed rounds per cipher (each times both loops).
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Milliseconds each loop runs per round.
    #[arg(long, default_value_t = 300)]
    millis: u64,
}

/// One cipher's results: MB/s per round for each loop, and the per-round ratios.
struct Row {
    alg: CipherAlg,
    ours: Vec<f64>,
    raw: Vec<f64>,
    ratios: Vec<f64>,
}

fn main() {
    let args = Args::parse();
    let rounds = args.rounds.max(1);
    let budget = Duration::from_millis(args.millis.max(10));
    eprintln!(
        "packet-ratio: {PAYLOAD_LEN}-byte payload, seal + open, {rounds} rounds x {budget:?} per loop"
    );
    let mut rows = Vec::new();
    for alg in seashell_bench::AEAD_CIPHERS {
        let mut ours = OursLoop::new(alg);
        let mut raw = RawLoop::new(alg);
        // Warm up caches, the padding pool and the CPU clock.
        measure(budget / 2, || ours.round_trip());
        measure(budget / 2, || raw.round_trip());
        let mut row = Row {
            alg,
            ours: Vec::new(),
            raw: Vec::new(),
            ratios: Vec::new(),
        };
        for round in 0..rounds {
            let (o, r) = if round % 2 == 0 {
                let o = measure(budget, || ours.round_trip());
                (o, measure(budget, || raw.round_trip()))
            } else {
                let r = measure(budget, || raw.round_trip());
                (measure(budget, || ours.round_trip()), r)
            };
            eprintln!(
                "  {:<30} round {}: ours {o:>7.0} MB/s, raw {r:>7.0} MB/s, ratio {:.3}",
                alg.name(),
                round + 1,
                o / r
            );
            row.ours.push(o);
            row.raw.push(r);
            row.ratios.push(o / r);
        }
        rows.push(row);
    }
    print_table(&rows);
}

fn print_table(rows: &[Row]) {
    println!(
        "| cipher | Seashell packet layer, median MB/s (min–max) | raw ring AEAD, median MB/s (min–max) | ratio ours/raw, median (min–max) | goal ≥ {GOAL} |"
    );
    println!("|---|---|---|---|---|");
    for row in rows {
        let (o, o_min, o_max) = summary(&row.ours);
        let (r, r_min, r_max) = summary(&row.raw);
        let (q, q_min, q_max) = summary(&row.ratios);
        let verdict = if q >= GOAL { "met" } else { "**not met**" };
        println!(
            "| {} | {o:.0} ({o_min:.0}–{o_max:.0}) | {r:.0} ({r_min:.0}–{r_max:.0}) | {q:.3} ({q_min:.3}–{q_max:.3}) | {verdict} |",
            row.alg.name()
        );
    }
}
