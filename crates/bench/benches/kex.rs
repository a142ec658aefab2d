//! One whole key exchange per method in `KexAlg::ALL` (client start → server respond →
//! client finish, exchange hash on both sides) next to the raw primitives the method is made
//! of, in the same run, and the part of ours that is the exchange hash (computed twice, client
//! and server). Reports exchanges per second (criterion "elements").
//!
//! `cargo bench -p seashell-bench --bench kex` (add `-- --quick` for a short run); for the
//! interleaved ratio table run `cargo run --release -p seashell-bench --bin algo-ratio`.

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seashell_bench::kex::{OursKex, RawKex};
use seashell_proto::kex::KexAlg;
use std::time::Duration;

fn kex(c: &mut Criterion) {
    for alg in KexAlg::ALL {
        let mut ours = match OursKex::new(alg) {
            Ok(ours) => ours,
            Err(e) => {
                eprintln!(
                    "kex/{}: skipped, the one-shot method API cannot run it ({e})",
                    alg.name()
                );
                continue;
            }
        };
        let mut group = c.benchmark_group(format!("kex/{}", alg.name()));
        group.throughput(Throughput::Elements(1));
        // The big finite-field groups take tens of milliseconds per exchange.
        group.sample_size(10);
        group.bench_function("seashell", |b| b.iter(|| ours.exchange()));
        group.bench_function("exchange-hash-x2", |b| b.iter(|| ours.hashes()));
        match RawKex::for_alg(alg) {
            Some(mut raw) => {
                group.bench_function("raw", |b| b.iter(|| raw.exchange()));
            }
            None => eprintln!("kex/{}: no raw-primitive mapping", alg.name()),
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = kex
}
criterion_main!(benches);
