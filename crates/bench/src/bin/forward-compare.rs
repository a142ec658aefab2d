//! Throughput through a local forward (`-L`): Seashell's `seashell -L` against OpenSSH's
//! `ssh -L`, same private sshd, interleaved rounds.
//!
//! Starts a private sshd (seashell-testkit) and a local TCP *sink* (reads to EOF, answers the
//! SHA-256 of what it read). For each round and client, starts the client with
//! `-N -L 127.0.0.1:PORT:127.0.0.1:SINK`, waits until PORT accepts, then streams BYTES
//! pattern bytes through the tunnel and checks the sink's digest: the transfer is timed from
//! the first byte written to the digest read, so connection setup is not included. The
//! client's own CPU time (user + system, from `/proc`) is read before it is stopped.
//!
//! `cargo build --release -p seashell-cli && cargo run --release -p seashell-bench --bin
//! forward-compare -- [--rounds 3] [--bytes N] [--cipher C]` (the `seashell` binary is taken
//! from the same target directory as this one).

use clap::Parser;
use seashell_bench::summary;
use seashell_testkit::tcp_service::{Behaviour, TcpService, check_sink};
use seashell_testkit::{KeyKind, Sshd, SshdOptions};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "Local-forward throughput: seashell -L vs ssh -L")]
struct Args {
    /// Rounds; each runs both clients.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Bytes streamed through the tunnel per run.
    #[arg(long, default_value_t = 268_435_456)]
    bytes: u64,
    /// The cipher both clients use.
    #[arg(long, default_value = "aes128-gcm@openssh.com")]
    cipher: String,
}

type BoxError = Box<dyn std::error::Error>;

/// `/proc` reports CPU times in USER_HZ, 100 per second on Linux.
const USER_HZ: f64 = 100.0;

/// One client's command line, up to the forward.
struct Client {
    name: &'static str,
    program: PathBuf,
    /// Options only this client takes (`-F /dev/null` for ssh).
    extra: Vec<String>,
}

/// A free local port (bound and released; the client binds it next).
fn free_port() -> Result<u16, BoxError> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The CPU seconds (user + system) the process has used so far.
fn cpu_seconds(pid: u32) -> Result<f64, BoxError> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').ok_or("bad /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11).ok_or("no utime")?.parse()?;
    let stime: f64 = fields.get(12).ok_or("no stime")?.parse()?;
    Ok((utime + stime) / USER_HZ)
}

fn start_tunnel(
    c: &Client,
    sshd: &Sshd,
    cipher: &str,
    port: u16,
    sink: u16,
) -> Result<Child, BoxError> {
    let known = format!("UserKnownHostsFile={}", sshd.known_hosts_file().display());
    let child = Command::new(&c.program)
        .args(&c.extra)
        .args(["-N", "-c", cipher, "-i"])
        .arg(sshd.user_key(KeyKind::Ed25519))
        .args([
            "-o",
            &known,
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .args([
            "-o",
            "KexAlgorithms=curve25519-sha256",
            "-o",
            "HostKeyAlgorithms=ssh-ed25519",
        ])
        .args(["-L", &format!("127.0.0.1:{port}:127.0.0.1:{sink}")])
        .args([
            "-p",
            &sshd.port().to_string(),
            "-l",
            &sshd.login_user(),
            "127.0.0.1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("{} did not listen on {port}", c.name).into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(child)
}

/// One run: (seconds for the transfer, client CPU seconds during it).
fn run(c: &Client, sshd: &Sshd, args: &Args, sink: u16, seed: u64) -> Result<(f64, f64), BoxError> {
    let port = free_port()?;
    let mut child = start_tunnel(c, sshd, &args.cipher, port, sink)?;
    let cpu_before = cpu_seconds(child.id())?;
    let start = Instant::now();
    let r = check_sink(&format!("127.0.0.1:{port}"), seed, args.bytes);
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(child.id())? - cpu_before;
    let _ = child.kill();
    let _ = child.wait();
    r.map_err(|e| format!("{}: {e}", c.name))?;
    Ok((secs, cpu))
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let here = std::env::current_exe()?;
    let dir = here.parent().ok_or("no target directory")?;
    let ours = dir.join("seashell");
    if !ours.exists() {
        return Err(format!(
            "{} not found: cargo build --release -p seashell-cli",
            ours.display()
        )
        .into());
    }
    let clients = [
        Client {
            name: "seashell -L",
            program: ours,
            extra: Vec::new(),
        },
        Client {
            name: "ssh -L",
            program: seashell_testkit::ssh_client()?,
            extra: vec!["-F".into(), "/dev/null".into()],
        },
    ];
    let sshd = Sshd::start(SshdOptions::default())?;
    let sink = TcpService::start(Behaviour::Sink)?;
    let mut results: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); clients.len()];
    for round in 0..args.rounds {
        for k in 0..clients.len() {
            // Alternate who goes first.
            let i = (k + round) % clients.len();
            let (secs, cpu) = run(&clients[i], &sshd, &args, sink.port(), round as u64 + 1)?;
            eprintln!(
                "round {round}: {:<12} {:8.1} MB/s  {:6.2} s  client CPU {:5.2} s",
                clients[i].name,
                args.bytes as f64 / secs / 1e6,
                secs,
                cpu
            );
            results[i].0.push(args.bytes as f64 / secs / 1e6);
            results[i]
                .1
                .push(cpu / (args.bytes as f64 / 1_048_576.0) * 1e3);
        }
    }
    println!(
        "\n{} MiB per run through a local forward, {}, {} rounds, one private sshd:\n",
        args.bytes >> 20,
        args.cipher,
        args.rounds
    );
    println!("| client | MB/s (median) | min | max | client CPU ms per MiB (median) |");
    println!("|---|---|---|---|---|");
    let mut medians = Vec::new();
    for (c, (rates, cpu)) in clients.iter().zip(&results) {
        let (med, min, max) = summary(rates);
        let (cpu_med, _, _) = summary(cpu);
        medians.push((med, cpu_med));
        println!(
            "| {} | {med:.1} | {min:.1} | {max:.1} | {cpu_med:.2} |",
            c.name
        );
    }
    if let [(ours, ours_cpu), (theirs, theirs_cpu)] = medians[..] {
        println!(
            "\nthroughput ratio ours/ssh: {:.2}; client CPU per byte ours/ssh: {:.2}",
            ours / theirs,
            ours_cpu / theirs_cpu
        );
    }
    Ok(())
}
