//! Packet seal + open of a 32 KiB payload: Seashell's `PacketWriter`/`PacketReader` next to
//! the bare ring AEAD on the same buffer size, per cipher. Throughput counts payload bytes.
//!
//! `cargo bench -p seashell-bench --bench packet`; for the ratio table run
//! `cargo run --release -p seashell-bench --bin packet-ratio`.

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seashell_bench::{OursLoop, PAYLOAD_LEN, RawLoop, Suite};
use std::time::Duration;

fn packet(c: &mut Criterion) {
    for alg in seashell_bench::AEAD_CIPHERS {
        let mut group = c.benchmark_group(format!("packet/{}", alg.name()));
        group.throughput(Throughput::Bytes(PAYLOAD_LEN as u64));
        let mut ours = OursLoop::new(Suite::aead(alg));
        group.bench_function("seashell", |b| b.iter(|| ours.round_trip()));
        let mut raw = RawLoop::new(Suite::aead(alg)).expect("ring has every AEAD");
        group.bench_function("ring-raw", |b| b.iter(|| raw.round_trip()));
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = packet
}
criterion_main!(benches);
