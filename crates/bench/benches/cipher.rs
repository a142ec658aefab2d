//! Seal + open of a 32 KiB payload for every cipher in `CipherAlg::ALL` (AEADs alone, the
//! others with every MAC in `MacAlg::ALL`), three ways in the same run: Seashell's
//! `Sealer`/`Opener` alone, the whole packet layer (`PacketWriter`/`PacketReader`), and the
//! raw primitive (ring AEAD; AES-CTR/CBC from the RustCrypto crates with ring HMAC).
//! Throughput counts payload bytes.
//!
//! `cargo bench -p seashell-bench --bench cipher` (add `-- --quick`, or a filter such as
//! `-- aes128-ctr`); for the interleaved ratio table run
//! `cargo run --release -p seashell-bench --bin algo-ratio`.

#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seashell_bench::{OursLoop, PAYLOAD_LEN, RawLoop, SealerLoop, Suite};
use std::time::Duration;

fn cipher(c: &mut Criterion) {
    for suite in Suite::all() {
        let mut group = c.benchmark_group(format!("cipher/{}", suite.name()));
        group.throughput(Throughput::Bytes(PAYLOAD_LEN as u64));
        let mut sealer = SealerLoop::new(suite);
        group.bench_function("sealer-opener", |b| b.iter(|| sealer.round_trip()));
        let mut ours = OursLoop::new(suite);
        group.bench_function("packet-layer", |b| b.iter(|| ours.round_trip()));
        match RawLoop::new(suite) {
            Some(mut raw) => {
                group.bench_function("raw", |b| b.iter(|| raw.round_trip()));
            }
            None => eprintln!("cipher/{}: no raw-primitive mapping", suite.name()),
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = cipher
}
criterion_main!(benches);
