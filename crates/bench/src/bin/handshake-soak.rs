//! Handshake soak: many short connections against ONE seashell-tokio server, whose resident
//! memory must stay flat.
//!
//! Like `conn-scale`, the binary starts itself a second time as the server
//! (`handshake-soak --server-only ADDR`): the same in-process `echo hi` server, with an
//! explicit gate sized for the load (see `conn-scale`). The parent then runs `--parallel`
//! workers on one tokio runtime; each repeatedly connects, does the key exchange, verifies
//! the host key, logs in with the user key, runs `echo hi` and checks it, and closes the
//! connection with a DISCONNECT, until `--handshakes` connections have been made in all.
//!
//! Every `--sample-every` handshakes it reads the server's `VmRSS` from
//! `/proc/<pid>/status`, and prints the series. The sample at `--warmup` handshakes is the
//! baseline; the memory is flat if no later sample, nor one taken 1 s after the last
//! connection closed, exceeds the baseline by more than the larger of `--margin-percent`
//! and `--margin-kib` ([`seashell_bench::soak`]). It also prints handshakes per second and
//! the CPU time of both processes, then closes the server and checks its gate's counters:
//! every connection accepted and authenticated, none refused, none left open.
//!
//! `cargo run --release -p seashell-bench --bin handshake-soak -- [--handshakes 100000]`
//!
//! Exits with status 1 if the memory is not flat, if any handshake or exec failed, or if the
//! gate's counters disagree.

use clap::Parser;
use seashell_bench::conn::{
    GateArgs, ServerProcess, check_exec, client_config, cpu_seconds, format_snapshot, raise_nofile,
    server_main, total_refused,
};
use seashell_bench::soak::{Margin, Sample, judge};
use seashell_tokio::Client;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Command-line options.
#[derive(Parser, Debug)]
#[command(
    about = "Many short connections against one seashell-tokio server; its RSS must stay flat"
)]
struct Args {
    /// Handshakes (connections) in all.
    #[arg(long, default_value_t = 100_000)]
    handshakes: u64,
    /// Connections in flight at once.
    #[arg(long, default_value_t = 16)]
    parallel: usize,
    /// Read the server's VmRSS after every this many handshakes.
    #[arg(long, default_value_t = 5_000)]
    sample_every: u64,
    /// Handshakes before the baseline sample (allocator and tables warm up).
    #[arg(long, default_value_t = 5_000)]
    warmup: u64,
    /// Growth over the baseline still counted as flat, in percent of the baseline.
    #[arg(long, default_value_t = 10)]
    margin_percent: u64,
    /// Growth over the baseline still counted as flat, in KiB (the larger margin applies).
    #[arg(long, default_value_t = 4096)]
    margin_kib: u64,
    /// Stop starting handshakes after this many failures.
    #[arg(long, default_value_t = 100)]
    max_failures: u64,
    /// The server's admission gate.
    #[command(flatten)]
    gate: GateArgs,
    /// Run only the server, listening on ADDR (the soak starts itself this way).
    #[arg(long, value_name = "ADDR")]
    server_only: Option<String>,
}

/// What the workers share.
struct Progress {
    /// Handshakes handed out to workers.
    started: AtomicU64,
    /// Handshakes finished, successfully or not.
    done: AtomicU64,
    /// Handshakes that failed.
    failed: AtomicU64,
    /// The first failures, for the report.
    errors: Mutex<Vec<String>>,
    /// The RSS series.
    samples: Mutex<Vec<Sample>>,
}

/// One connection: connect, log in, `echo hi`, DISCONNECT.
async fn one_handshake(addr: &str) -> Result<(), String> {
    let session = Client::connect(addr, client_config())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    check_exec(&session).await?;
    session.close().await.map_err(|e| format!("close: {e}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let admission = match args.gate.admission(args.parallel) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let nofile = args.parallel as u64 * 2 + 256;
    if let Some(addr) = &args.server_only {
        return server_main(addr, nofile, admission);
    }
    if let Err(e) = raise_nofile(nofile) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let sample_every = args.sample_every.max(1);
    let mut server_args = vec!["--server-only".to_owned(), "127.0.0.1:0".to_owned()];
    server_args.extend(["--parallel".to_owned(), args.parallel.to_string()]);
    server_args.extend(args.gate.server_args(args.parallel));
    let server = match ServerProcess::spawn(&server_args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    std::thread::sleep(Duration::from_millis(300));
    let rss_start = server.rss_kib();
    println!(
        "server pid {} on {}; VmRSS at start: {rss_start} KiB",
        server.pid(),
        server.addr()
    );
    println!("{}", args.gate.describe(args.parallel));
    println!(
        "{} handshakes (connect, key exchange, publickey login, exec \"echo hi\", disconnect), \
         {} in flight, VmRSS every {sample_every}",
        args.handshakes, args.parallel
    );

    let progress = Arc::new(Progress {
        started: AtomicU64::new(0),
        done: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        errors: Mutex::new(Vec::new()),
        samples: Mutex::new(vec![Sample {
            handshakes: 0,
            rss_kib: rss_start,
        }]),
    });
    let server_cpu_start = server.cpu_seconds();
    let client_cpu_start = cpu_seconds("self").unwrap_or(0.0);
    let started = Instant::now();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let addr: Arc<str> = server.addr().into();
        let pid: Arc<str> = server.pid().into();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..args.parallel.max(1) {
            let (addr, pid, progress) = (addr.clone(), pid.clone(), progress.clone());
            let (total, max_failures) = (args.handshakes, args.max_failures);
            workers.spawn(async move {
                loop {
                    if progress.failed.load(Ordering::Relaxed) >= max_failures {
                        break;
                    }
                    let i = progress.started.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    if let Err(e) = one_handshake(&addr).await {
                        progress.failed.fetch_add(1, Ordering::Relaxed);
                        let mut errors = progress.errors.lock().expect("errors");
                        if errors.len() < 10 {
                            errors.push(format!("handshake {i}: {e}"));
                        }
                    }
                    let done = progress.done.fetch_add(1, Ordering::Relaxed) + 1;
                    if done % sample_every == 0 {
                        let rss_kib =
                            seashell_bench::conn::status_kib(&pid, "VmRSS:").unwrap_or(0);
                        let secs = started.elapsed().as_secs_f64();
                        println!(
                            "  {done:>8} handshakes  {secs:>7.1} s  {:>6.0}/s  server VmRSS {rss_kib} KiB",
                            done as f64 / secs
                        );
                        progress.samples.lock().expect("samples").push(Sample {
                            handshakes: done,
                            rss_kib,
                        });
                    }
                }
            });
        }
        while workers.join_next().await.is_some() {}
    });
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = server.cpu_seconds() - server_cpu_start;
    let client_cpu = cpu_seconds("self").unwrap_or(0.0) - client_cpu_start;
    drop(rt);

    // Every connection is closed: let the server finish them, then sample once more.
    std::thread::sleep(Duration::from_secs(1));
    let done = progress.done.load(Ordering::Relaxed);
    let failed = progress.failed.load(Ordering::Relaxed);
    let rss_settled = server.rss_kib();
    let hwm = server.hwm_kib();
    let mut samples = progress.samples.lock().expect("samples").clone();
    samples.sort_by_key(|s| s.handshakes);
    samples.push(Sample {
        handshakes: done,
        rss_kib: rss_settled,
    });

    println!(
        "{done} handshakes in {elapsed:.1} s: {:.0} handshakes/s, {failed} failed",
        done as f64 / elapsed
    );
    for e in progress.errors.lock().expect("errors").iter() {
        eprintln!("  {e}");
    }
    println!(
        "CPU: server {server_cpu:.1} s ({:.2} ms/handshake), client {client_cpu:.1} s \
         ({:.2} ms/handshake), {:.2} of 2 cores busy on average",
        server_cpu * 1000.0 / done.max(1) as f64,
        client_cpu * 1000.0 / done.max(1) as f64,
        (server_cpu + client_cpu) / elapsed
    );
    println!(
        "server VmRSS: {rss_start} KiB at start, {rss_settled} KiB 1 s after the last \
         connection, peak VmHWM {hwm} KiB"
    );

    let margin = Margin {
        percent: args.margin_percent,
        kib: args.margin_kib,
    };
    let flat = match judge(&samples, args.warmup, margin) {
        Some(f) => {
            println!(
                "baseline {} KiB at {} handshakes; last {} KiB; highest after warm-up {} KiB \
                 at {}; limit {} KiB; slope {:+.1} KiB per 10,000 handshakes",
                f.baseline.rss_kib,
                f.baseline.handshakes,
                f.last.rss_kib,
                f.peak.rss_kib,
                f.peak.handshakes,
                f.limit_kib,
                f.slope_kib_per_10k
            );
            println!(
                "verdict: server RSS {}",
                if f.is_flat() { "FLAT" } else { "NOT FLAT" }
            );
            f.is_flat()
        }
        None => {
            eprintln!(
                "verdict: no sample at or past the warm-up ({} handshakes)",
                args.warmup
            );
            false
        }
    };

    let gate_ok = match server.finish() {
        Ok(s) => {
            println!("server gate counters: {}", format_snapshot(&s));
            let mut ok = true;
            if total_refused(&s) > 0 {
                eprintln!("the gate refused {} connections", total_refused(&s));
                ok = false;
            }
            if s.connections_accepted != done || s.auth_successes != done - failed {
                eprintln!(
                    "the gate admitted {} and authenticated {}, {done} connections were made",
                    s.connections_accepted, s.auth_successes
                );
                ok = false;
            }
            if s.unauthenticated + s.authenticated > 0 {
                eprintln!(
                    "{} connections still open on the server after the soak",
                    s.unauthenticated + s.authenticated
                );
                ok = false;
            }
            ok
        }
        Err(e) => {
            eprintln!("{e}");
            false
        }
    };
    if flat && failed == 0 && done == args.handshakes && gate_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
