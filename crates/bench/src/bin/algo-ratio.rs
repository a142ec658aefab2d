//! Every key exchange and every cipher (with every MAC) against the raw primitives it is made
//! of, timed interleaved, as markdown tables of ours/raw ratios.
//!
//! The loops are the ones `benches/kex.rs` and `benches/cipher.rs` run under criterion
//! ([`seashell_bench::kex`], [`seashell_bench::cipher`]). For each algorithm and round it
//! times every contender for `--millis` ([`interleaved`]: the starting contender rotates per
//! round), and reports medians (min–max) over the rounds and the median of the per-round
//! ratios. Ratios below 0.85 are flagged.
//!
//! `cargo run --release -p seashell-bench --bin algo-ratio -- [--rounds 7] [--millis 200]
//! [--only kex|cipher] [--filter SUBSTRING]`; `--rounds 1 --millis 20` is a smoke run.

use clap::{Parser, ValueEnum};
use seashell_bench::kex::{OursKex, RawKex};
use seashell_bench::timing::per_round;
use seashell_bench::{OursLoop, PAYLOAD_LEN, RawLoop, SealerLoop, Suite, interleaved, summary};
use seashell_proto::kex::KexAlg;
use std::time::Duration;

/// Ratios ours/raw below this are flagged.
const FLAG: f64 = 0.85;

/// Which tables to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Only {
    /// Key exchanges only.
    Kex,
    /// Ciphers and MACs only.
    Cipher,
}

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "Seashell's key exchanges and ciphers against their raw primitives")]
struct Args {
    /// Timed rounds per algorithm (each times every contender).
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// Milliseconds each contender runs per round (at least one operation).
    #[arg(long, default_value_t = 200)]
    millis: u64,
    /// Only the key exchanges, or only the ciphers.
    #[arg(long)]
    only: Option<Only>,
    /// Only algorithms whose name contains this (repeatable; any may match).
    #[arg(long)]
    filter: Vec<String>,
}

impl Args {
    fn wants(&self, name: &str) -> bool {
        self.filter.is_empty() || self.filter.iter().any(|f| name.contains(f.as_str()))
    }
}

/// Median (min–max) of a series, with `digits` decimals.
fn spread(values: &[f64], digits: usize) -> String {
    let (m, lo, hi) = summary(values);
    format!("{m:.digits$} ({lo:.digits$}–{hi:.digits$})")
}

/// The median ratio and its flag.
fn ratio_cell(ratios: &[f64]) -> (String, &'static str) {
    let (m, _, _) = summary(ratios);
    let flag = if m < FLAG { "**below**" } else { "ok" };
    (spread(ratios, 3), flag)
}

fn kex_table(args: &Args, rounds: usize, budget: Duration) {
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for alg in KexAlg::ALL {
        let name = alg.name();
        if !args.wants(name) {
            continue;
        }
        let mut ours = match OursKex::new(alg) {
            Ok(ours) => ours,
            Err(e) => {
                notes.push(format!(
                    "- `{name}`: skipped, the one-shot method API cannot run it ({e})."
                ));
                continue;
            }
        };
        let mut hashes = match OursKex::new(alg) {
            Ok(h) => h,
            Err(_) => continue,
        };
        let Some(mut raw) = RawKex::for_alg(alg) else {
            notes.push(format!(
                "- `{name}`: no raw-primitive mapping, not measured."
            ));
            continue;
        };
        let rates = interleaved(
            rounds,
            budget,
            &mut [&mut || ours.exchange(), &mut || raw.exchange(), &mut || {
                hashes.hashes()
            }],
            |round, r| {
                eprintln!(
                    "  {name:<38} round {}: ours {:>8.1}/s, raw {:>8.1}/s, ratio {:.3}, hash x2 {:.1} µs",
                    round + 1,
                    r[0],
                    r[1],
                    r[0] / r[1],
                    1e6 / r[2]
                );
            },
        );
        let (o, r, h) = (&rates[0], &rates[1], &rates[2]);
        let ratios = per_round(o, r, |o, r| o / r);
        let overhead = per_round(o, r, |o, r| 1e6 / o - 1e6 / r);
        let (ratio, flag) = ratio_cell(&ratios);
        let (over, _, _) = summary(&overhead);
        let (raw_rate, _, _) = summary(r);
        let (hash_rate, _, _) = summary(h);
        lines.push(format!(
            "| {name} | {} | {} | {} | {ratio} | {over:.1} of {:.1} | {:.1} | {flag} |",
            spread(o, 0),
            raw.describe(),
            spread(r, 0),
            1e6 / raw_rate,
            1e6 / hash_rate,
        ));
    }
    print_table(
        &format!(
            "| method | Seashell exchanges/s, median (min–max) | raw primitive | raw exchanges/s, median (min–max) | ratio ours/raw, median (min–max) | protocol overhead µs/exchange, of raw µs | of which exchange hash ×2, µs | ≥ {FLAG} |"
        ),
        &lines,
        &notes,
    );
}

fn cipher_table(args: &Args, rounds: usize, budget: Duration) {
    let mb = |rates: &[f64]| rates.iter().map(|r| r / 1e6).collect::<Vec<_>>();
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for suite in Suite::all() {
        let name = suite.name();
        if !args.wants(&name) {
            continue;
        }
        let (Some(mut raw), Some(raw_name)) =
            (RawLoop::new(suite), seashell_bench::cipher::raw_name(suite))
        else {
            notes.push(format!(
                "- `{name}`: no raw-primitive mapping, not measured."
            ));
            continue;
        };
        let mut sealer = SealerLoop::new(suite);
        let mut ours = OursLoop::new(suite);
        let rates = interleaved(
            rounds,
            budget,
            &mut [
                &mut || sealer.round_trip(),
                &mut || ours.round_trip(),
                &mut || raw.round_trip(),
            ],
            |round, r| {
                eprintln!(
                    "  {name:<48} round {}: sealer {:>6.0}, packet {:>6.0}, raw {:>6.0} MB/s; packet/raw {:.3}",
                    round + 1,
                    r[0] / 1e6,
                    r[1] / 1e6,
                    r[2] / 1e6,
                    r[1] / r[2]
                );
            },
        );
        let (s, p, r) = (mb(&rates[0]), mb(&rates[1]), mb(&rates[2]));
        let (sealer_ratio, _) = ratio_cell(&per_round(&s, &r, |a, b| a / b));
        let (packet_ratio, flag) = ratio_cell(&per_round(&p, &r, |a, b| a / b));
        lines.push(format!(
            "| {name} | {} | {} | {raw_name} | {} | {sealer_ratio} | {packet_ratio} | {flag} |",
            spread(&s, 0),
            spread(&p, 0),
            spread(&r, 0),
        ));
    }
    print_table(
        &format!(
            "| cipher (+ MAC) | Sealer/Opener MB/s, median (min–max) | packet layer MB/s | raw primitive | raw MB/s | ratio Sealer/raw, median (min–max) | ratio packet layer/raw | ≥ {FLAG} (packet layer) |"
        ),
        &lines,
        &notes,
    );
}

/// Prints one markdown table (an 8-column `header`, then `lines`) and its notes, unless both
/// are empty.
fn print_table(header: &str, lines: &[String], notes: &[String]) {
    if lines.is_empty() && notes.is_empty() {
        return;
    }
    println!("{header}");
    println!("|---|---|---|---|---|---|---|---|");
    for l in lines {
        println!("{l}");
    }
    if !notes.is_empty() {
        println!();
        for n in notes {
            println!("{n}");
        }
    }
    println!();
}

fn main() {
    let args = Args::parse();
    let rounds = args.rounds.max(1);
    let budget = Duration::from_millis(args.millis.max(1));
    eprintln!(
        "algo-ratio: {rounds} rounds x {budget:?} per contender; ciphers on a {PAYLOAD_LEN}-byte payload, seal + open"
    );
    if args.only != Some(Only::Cipher) {
        kex_table(&args, rounds, budget);
    }
    if args.only != Some(Only::Kex) {
        cipher_table(&args, rounds, budget);
    }
}
