//! Connection scale: N concurrent authenticated connections on one seashell-tokio server.
//!
//! The binary runs twice:
//!
//! - `conn-scale --server-only ADDR` is the server: a seashell-tokio `Server` whose handler
//!   accepts one fixed user key and answers `exec "echo hi"` in-process with `hi\n` and exit
//!   status 0 (no process is started). It admits connections through an explicit gate
//!   sized for the load (`--max-startups`, default `2P:30:4P` for P = `--parallel`;
//!   `--per-source-penalties no` by default), since sshd's defaults would rightly drop a
//!   64-way flood from one address. It prints `listening ADDR` on stdout, serves until its
//!   stdin closes, then prints its gate's counters.
//! - `conn-scale [--connections N]` (the default mode) starts the server as a child process,
//!   so the server's resident memory is measured alone through `/proc/<pid>/status`, then
//!   opens N connections from this process on one tokio runtime. Each connection logs in
//!   with the key, runs `echo hi` and checks the output and status; the session stays open.
//!   With all N open and idle it reads the server's `VmRSS` again, runs `echo hi` once more on
//!   every connection (they must all still work), and prints the figures: time to open all,
//!   failures, server RSS before and after, and RSS per idle connection in KiB. Last, it
//!   closes the server and prints the gate's counters: any refusal fails the run.
//!
//! `cargo run --release -p seashell-bench --bin conn-scale -- [--connections 2000] [--parallel 64]`
//!
//! Any failure (a connection, an exec, an output) makes the run exit with status 1.

use clap::Parser;
use seashell_bench::conn::{
    GateArgs, ServerProcess, check_exec, format_snapshot, open_one, raise_nofile, server_main,
    status_kib, total_refused,
};
use seashell_tokio::Session;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "N concurrent authenticated connections on one seashell-tokio server")]
struct Args {
    /// Connections to hold open at the same time.
    #[arg(long, default_value_t = 2000)]
    connections: usize,
    /// Handshakes in flight at once while opening (the listen backlog is finite).
    #[arg(long, default_value_t = 64)]
    parallel: usize,
    /// The server's admission gate.
    #[command(flatten)]
    gate: GateArgs,
    /// Run only the server, listening on ADDR (the benchmark starts itself this way).
    #[arg(long, value_name = "ADDR")]
    server_only: Option<String>,
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
    if let Some(addr) = &args.server_only {
        return server_main(addr, args.connections as u64 + 256, admission);
    }
    let n = args.connections;
    if let Err(e) = raise_nofile(n as u64 + 256) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }

    // The server, alone in a child process.
    let mut server_args = vec![
        "--server-only".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--connections".to_owned(),
        n.to_string(),
    ];
    server_args.extend(args.gate.server_args(args.parallel));
    let server = match ServerProcess::spawn(&server_args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let (pid, addr) = (server.pid().to_owned(), server.addr().to_owned());
    std::thread::sleep(Duration::from_millis(300));
    let rss_before = server.rss_kib();
    let client_before = status_kib("self", "VmRSS:").unwrap_or(0);
    println!("server pid {pid} on {addr}; server VmRSS before: {rss_before} KiB");
    println!("{}", args.gate.describe(args.parallel));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ok = rt.block_on(async {
        let addr: Arc<str> = addr.into();
        let slots = Arc::new(Semaphore::new(args.parallel.max(1)));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let (addr, slots) = (addr.clone(), slots.clone());
            tasks.spawn(async move {
                let _permit = slots.acquire_owned().await.expect("semaphore");
                (i, open_one(&addr).await)
            });
        }
        let mut sessions = Vec::with_capacity(n);
        let mut failures = Vec::new();
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok((_, Ok(s))) => sessions.push(s),
                Ok((i, Err(e))) => failures.push(format!("connection {i}: {e}")),
                Err(e) => failures.push(format!("task: {e}")),
            }
        }
        let open_time = started.elapsed();
        println!(
            "opened {} of {n} connections (login + exec \"echo hi\" each) in {:.2} s, {} failures",
            sessions.len(),
            open_time.as_secs_f64(),
            failures.len()
        );
        for f in failures.iter().take(10) {
            eprintln!("  {f}");
        }

        if let Some(n) = sessions.first().and_then(|s| s.negotiated()) {
            println!(
                "negotiated: {} / {} / {}",
                n.kex.name(),
                n.host_key,
                n.cipher_c2s.name()
            );
        }

        // All open and idle: let the server settle, then measure.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_after = server.rss_kib();
        let hwm = server.hwm_kib();
        let client_after = status_kib("self", "VmRSS:").unwrap_or(0);
        let open = sessions.len().max(1) as f64;
        let per_conn = rss_after.saturating_sub(rss_before) as f64 / open;
        let client_per_conn = client_after.saturating_sub(client_before) as f64 / open;
        println!(
            "server VmRSS with {} idle connections: {rss_after} KiB (peak VmHWM {hwm} KiB)",
            sessions.len()
        );
        println!(
            "server RSS per idle connection: {per_conn:.1} KiB ({} KiB - {} KiB) / {}",
            rss_after,
            rss_before,
            sessions.len()
        );
        println!(
            "client process (all {} sessions on one runtime): {client_before} -> {client_after} KiB, \
             {client_per_conn:.1} KiB per connection",
            sessions.len()
        );

        // Every idle connection must still work.
        let started = Instant::now();
        let mut again = tokio::task::JoinSet::new();
        let sessions: Vec<Arc<Session>> = sessions.into_iter().map(Arc::new).collect();
        for (i, s) in sessions.iter().enumerate() {
            let (s, slots) = (s.clone(), slots.clone());
            again.spawn(async move {
                let _permit = slots.acquire_owned().await.expect("semaphore");
                (i, check_exec(&s).await)
            });
        }
        let mut late = 0usize;
        while let Some(r) = again.join_next().await {
            match r {
                Ok((_, Ok(()))) => {}
                Ok((i, Err(e))) => {
                    late += 1;
                    eprintln!("  second exec on connection {i}: {e}");
                }
                Err(e) => {
                    late += 1;
                    eprintln!("  task: {e}");
                }
            }
        }
        println!(
            "second exec on all {} idle connections: {} failures, {:.2} s",
            sessions.len(),
            late,
            started.elapsed().as_secs_f64()
        );
        drop(sessions);
        failures.is_empty() && late == 0
    });
    drop(rt);
    let gate_ok = match server.finish() {
        Ok(snapshot) => {
            println!("server gate counters: {}", format_snapshot(&snapshot));
            let refused = total_refused(&snapshot);
            if refused > 0 {
                eprintln!("the server's gate refused {refused} connections");
            }
            refused == 0
        }
        Err(e) => {
            eprintln!("{e}");
            false
        }
    };
    if ok && gate_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
