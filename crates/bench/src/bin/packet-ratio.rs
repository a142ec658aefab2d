//! Seashell's packet layer against the bare ring AEAD, timed interleaved, as a markdown table.
//!
//! For each cipher and round it times [`OursLoop`] (PacketWriter → BytesMut → PacketReader)
//! and [`RawLoop`] (ring seal + open in place) for `--millis` each, alternating which goes
//! first ([`interleaved`]), and reports the medians and the median of the per-round ratios
//! ours/raw. `algo-ratio` does the same for every cipher, MAC and key exchange.
//!
//! `cargo run --release -p seashell-bench --bin packet-ratio -- [--rounds 9] [--millis 300]`

use clap::Parser;
use seashell_bench::{OursLoop, PAYLOAD_LEN, RawLoop, Suite, interleaved, summary};
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
        let mut ours = OursLoop::new(Suite::aead(alg));
        let mut raw = RawLoop::new(Suite::aead(alg)).expect("ring has every AEAD");
        let mb = |rate: f64| rate / 1e6;
        let mut rates = interleaved(
            rounds,
            budget,
            &mut [&mut || ours.round_trip(), &mut || raw.round_trip()],
            |round, r| {
                eprintln!(
                    "  {:<30} round {}: ours {:>7.0} MB/s, raw {:>7.0} MB/s, ratio {:.3}",
                    alg.name(),
                    round + 1,
                    mb(r[0]),
                    mb(r[1]),
                    r[0] / r[1]
                );
            },
        );
        let raw_mb: Vec<f64> = rates
            .pop()
            .unwrap_or_default()
            .into_iter()
            .map(mb)
            .collect();
        let ours_mb: Vec<f64> = rates
            .pop()
            .unwrap_or_default()
            .into_iter()
            .map(mb)
            .collect();
        let row = Row {
            alg,
            ratios: seashell_bench::timing::per_round(&ours_mb, &raw_mb, |o, r| o / r),
            ours: ours_mb,
            raw: raw_mb,
        };
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
