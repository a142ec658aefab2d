//! SFTP get and put side by side: OpenSSH's `sftp` against sshd (the baseline), OpenSSH's
//! `sftp` against `seashell serve`, and our client against sshd, on loopback and at longer
//! round trips through a delaying relay ([`seashell_bench::relay`]).
//!
//! Starts a private sshd (seashell-testkit, with `/usr/lib/openssh/sftp-server`) and
//! `seashell serve` with sshd's ed25519 host key and authorized keys, writes one file of
//! `--mib` MiB, then for each round trip (`--rtt-ms`, 0 = direct) and round, for get and
//! put, runs every client as a batch (`-b`) and checks the copy byte for byte. Each client is
//! a command line template (`--client`), so any client that takes a batch file can be
//! measured. The connection setup (the fastest of three batches with only `pwd`, per client
//! and round trip) is subtracted from each transfer's wall time (at most half of it, which
//! only matters for smoke runs with small files). CPU time is read from
//! `/proc`: the client's with the children it waited for (OpenSSH's `sftp` runs `ssh`), the
//! server's with its per-connection processes once they are reaped.
//!
//! Beside `seashell sftp`, two rows run `sftp-lib-client` (this crate), a batch runner on the
//! SFTP client library: with the default growing window, and held at 2 MiB.
//!
//! `just sftp-bench [MIB] [RTTS]`, or `cargo build --release -p seashell-cli -p
//! seashell-bench && cargo run --release -p seashell-bench --bin sftp-compare -- --mib 512
//! --rtt-ms "0 50"` (`seashell` and `sftp-lib-client` are taken from the same target directory
//! as this binary).

use clap::Parser;
use seashell_bench::procstat::{cpu_seconds, wait_children_reaped, wait_exited};
use seashell_bench::relay::{DEFAULT_BUFFER, Relay};
use seashell_bench::summary;
use seashell_testkit::{KeyKind, Sshd, SshdOptions};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// OpenSSH's `sftp` in batch mode; `{port}` and the rest are filled in per run.
const OPENSSH_SFTP: &str = "{sftp} -q -b {batch} -P {port} -i {key} -F /dev/null \
    -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -o HostKeyAlgorithms=ssh-ed25519 -o Ciphers={cipher} {user}@127.0.0.1";
/// Our `seashell sftp`, with OpenSSH's options.
const SEASHELL_SFTP: &str = "{seashell} sftp -q -b {batch} -P {port} -i {key} \
    -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -o Ciphers={cipher} {user}@127.0.0.1";

/// Batches with only `pwd` per client and round trip; the fastest is the setup time.
const SETUP_RUNS: usize = 3;

/// The bench's stand-in client on the SFTP library (`sftp-lib-client`), until and beside
/// `seashell sftp -b`.
const LIB_SFTP: &str = "{sftp_lib} -b {batch} -P {port} -i {key} --known-hosts {known_hosts} \
    --cipher {cipher} {user}@127.0.0.1";
/// The same with the window held at OpenSSH's fixed 2 MiB: what the growing window adds.
const LIB_SFTP_FIXED: &str = "{sftp_lib} -b {batch} -P {port} -i {key} \
    --known-hosts {known_hosts} --cipher {cipher} --max-window-mib 2 {user}@127.0.0.1";

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "SFTP get/put throughput: OpenSSH sftp and seashell, sshd and seashell serve")]
struct Args {
    /// MiB per transfer.
    #[arg(long, default_value_t = 512)]
    mib: u64,
    /// Round trips to add, in milliseconds (space or comma separated; 0 = direct).
    #[arg(long, default_value = "0 50")]
    rtt_ms: String,
    /// Rounds per round trip; each runs every client both ways.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// The cipher every client asks for.
    #[arg(long, default_value = "aes128-gcm@openssh.com")]
    cipher: String,
    /// A client: `LABEL|SERVER|TEMPLATE`, SERVER `sshd` or `serve`. Replaces the default of
    /// the same label. Placeholders: {sftp} {seashell} {sftp_lib} {batch} {port} {key}
    /// {known_hosts} {cipher} {user}.
    #[arg(long)]
    client: Vec<String>,
    /// Leave out the clients with this label.
    #[arg(long)]
    skip: Vec<String>,
    /// Extra arguments for `seashell serve`.
    #[arg(long, allow_hyphen_values = true)]
    serve_arg: Vec<String>,
    /// Where the files go (they need 2 × MIB of space).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Longest one client run may take.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
}

type BoxError = Box<dyn std::error::Error>;

/// The server a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Server {
    Sshd,
    Serve,
}

/// One measured client: a label, its server and its command line.
#[derive(Debug, Clone)]
struct Row {
    label: String,
    server: Server,
    template: String,
}

/// The default rows: the baseline first (ratios are against it).
fn default_rows() -> Vec<Row> {
    let row = |label: &str, server, template: &str| Row {
        label: label.into(),
        server,
        template: template.into(),
    };
    vec![
        row("OpenSSH sftp → sshd", Server::Sshd, OPENSSH_SFTP),
        row("OpenSSH sftp → seashell serve", Server::Serve, OPENSSH_SFTP),
        row("seashell sftp → sshd", Server::Sshd, SEASHELL_SFTP),
        row("seashell library → sshd", Server::Sshd, LIB_SFTP),
        row(
            "seashell library, 2 MiB window → sshd",
            Server::Sshd,
            LIB_SFTP_FIXED,
        ),
    ]
}

fn rows(args: &Args) -> Result<Vec<Row>, BoxError> {
    let mut rows = default_rows();
    for spec in &args.client {
        let mut parts = spec.splitn(3, '|');
        let (Some(label), Some(server), Some(template)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("--client {spec:?}: want LABEL|SERVER|TEMPLATE").into());
        };
        let server = match server {
            "sshd" => Server::Sshd,
            "serve" => Server::Serve,
            other => return Err(format!("--client: unknown server {other:?}").into()),
        };
        let row = Row {
            label: label.into(),
            server,
            template: template.into(),
        };
        match rows.iter_mut().find(|r| r.label == label) {
            Some(r) => *r = row,
            None => rows.push(row),
        }
    }
    rows.retain(|r| !args.skip.contains(&r.label));
    Ok(rows)
}

/// A running `seashell serve`, killed when dropped.
struct Serve {
    child: Child,
    port: u16,
}

impl Serve {
    fn start(seashell: &Path, sshd: &Sshd, extra: &[String]) -> Result<Serve, BoxError> {
        let mut child = Command::new(seashell)
            .args(["serve", "--listen", "127.0.0.1:0", "-v", "--host-key"])
            .arg(sshd.dir().join("host_ed25519"))
            .arg("--authorized-keys")
            .arg(sshd.dir().join("authorized_keys"))
            // The login name the clients use against sshd too (serve runs every session as
            // itself, whatever the name).
            .args(["--user", &sshd.login_user()])
            .args(extra)
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().ok_or("no stderr")?;
        std::thread::spawn(move || {
            // Read to the end, so a verbose server never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.trim().strip_prefix("seashell serve: listening on ") {
                    let port = rest
                        .split_whitespace()
                        .next()
                        .and_then(|a| a.rsplit(':').next())
                        .and_then(|p| p.parse::<u16>().ok());
                    let _ = tx.send(port);
                }
            }
        });
        let mut serve = Serve { child, port: 0 };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(port)) => serve.port = port,
            _ => return Err("seashell serve did not say where it listens".into()),
        }
        Ok(serve)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The pid of the sshd listening with `config` (found through `/proc`).
fn sshd_pid(config: &Path) -> Result<u32, BoxError> {
    let want = config.to_string_lossy().into_owned();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        // sshd rewrites its command line into one string (`sshd: ... -f CONFIG [listener]`).
        if String::from_utf8_lossy(&cmdline).contains(want.as_str()) {
            return Ok(pid);
        }
    }
    Err("the private sshd's process was not found".into())
}

/// Where a client connects and what to count as the server's CPU.
struct Endpoint {
    port: u16,
    server_pid: u32,
}

/// What one client run took.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    secs: f64,
    client_cpu: f64,
    server_cpu: f64,
}

/// Fills the template's placeholders (per whitespace-separated word) and runs it.
fn run(
    template: &str,
    vars: &BTreeMap<&str, String>,
    at: &Endpoint,
    timeout: Duration,
    scratch: &Path,
) -> Result<Outcome, String> {
    let words: Vec<String> = template
        .split_whitespace()
        .map(|w| {
            let mut w = w.to_owned();
            for (k, v) in vars {
                w = w.replace(&format!("{{{k}}}"), v);
            }
            w.replace("{port}", &at.port.to_string())
        })
        .collect();
    let (program, rest) = words.split_first().ok_or("empty template")?;
    let err_path = scratch.join("client.err");
    let err_file = std::fs::File::create(&err_path).map_err(|e| e.to_string())?;
    let server_before = cpu_seconds(at.server_pid, true).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let exited = wait_exited(&child, timeout).map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    let client_cpu = cpu_seconds(child.id(), true).unwrap_or(f64::NAN);
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    wait_children_reaped(at.server_pid, Duration::from_secs(5));
    let server_cpu = cpu_seconds(at.server_pid, true).map_err(|e| e.to_string())? - server_before;
    if !exited || !status.success() {
        let err = std::fs::read_to_string(&err_path).unwrap_or_default();
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        let why = if exited {
            status.to_string()
        } else {
            "timed out".into()
        };
        return Err(format!("{why}: {}", tail.join(" / ")));
    }
    Ok(Outcome {
        secs,
        client_cpu,
        server_cpu,
    })
}

/// Whether two files hold the same bytes.
fn same_file(a: &Path, b: &Path) -> std::io::Result<bool> {
    let (mut fa, mut fb) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

/// The direction of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dir {
    Get,
    Put,
}

/// Results per (round trip, direction, row): outcomes, or the first failure.
type Results = BTreeMap<(u64, Dir, usize), Result<Vec<Outcome>, String>>;

struct Bench {
    args: Args,
    rows: Vec<Row>,
    vars: BTreeMap<&'static str, String>,
    scratch: PathBuf,
    src: PathBuf,
    bytes: u64,
}

impl Bench {
    /// One get or put by row `r` at `at`, checked; the copy is removed after.
    fn transfer(&self, r: usize, dir: Dir, at: &Endpoint) -> Result<Outcome, String> {
        let dst = self.scratch.join(match dir {
            Dir::Get => "got.bin",
            Dir::Put => "put.bin",
        });
        let _ = std::fs::remove_file(&dst);
        let line = match dir {
            Dir::Get => format!("get {} {}\n", self.src.display(), dst.display()),
            Dir::Put => format!("put {} {}\n", self.src.display(), dst.display()),
        };
        let timeout = Duration::from_secs(self.args.timeout_secs);
        let out = self.batch(r, &line, at, timeout)?;
        let same = same_file(&self.src, &dst).map_err(|e| format!("checking the copy: {e}"));
        let _ = std::fs::remove_file(&dst);
        if !same? {
            return Err("the copy differs".into());
        }
        Ok(out)
    }

    fn batch(&self, r: usize, text: &str, at: &Endpoint, t: Duration) -> Result<Outcome, String> {
        let batch = self.scratch.join("batch");
        std::fs::write(&batch, text).map_err(|e| e.to_string())?;
        let mut vars = self.vars.clone();
        vars.insert("batch", batch.display().to_string());
        run(&self.rows[r].template, &vars, at, t, &self.scratch)
    }

    /// Every row both ways at one round trip, `rounds` times, the first row rotating.
    fn at_rtt(&self, rtt: u64, ends: &BTreeMap<Server, Endpoint>, results: &mut Results) {
        let n = self.rows.len();
        let mut setup = vec![f64::INFINITY; n];
        for (r, row) in self.rows.iter().enumerate() {
            for _ in 0..SETUP_RUNS {
                match self.batch(r, "pwd\n", &ends[&row.server], Duration::from_secs(60)) {
                    Ok(o) => setup[r] = setup[r].min(o.secs),
                    Err(e) => {
                        eprintln!("{} at {rtt} ms: {e}", row.label);
                        for dir in [Dir::Get, Dir::Put] {
                            results.insert((rtt, dir, r), Err(e.clone()));
                        }
                        break;
                    }
                }
            }
        }
        for round in 0..self.args.rounds {
            for dir in [Dir::Get, Dir::Put] {
                for k in 0..n {
                    let r = (k + round) % n;
                    let slot = results.entry((rtt, dir, r)).or_insert(Ok(Vec::new()));
                    let Ok(list) = slot else { continue };
                    let label = &self.rows[r].label;
                    match self.transfer(r, dir, &ends[&self.rows[r].server]) {
                        Ok(mut o) => {
                            // A transfer too short to dwarf the setup keeps half its time.
                            o.secs = (o.secs - setup[r]).max(o.secs / 2.0);
                            eprintln!(
                                "rtt {rtt} ms, round {round}, {dir:?}: {label:<32} {:8.1} MB/s",
                                self.bytes as f64 / o.secs / 1e6
                            );
                            list.push(o);
                        }
                        Err(e) => {
                            eprintln!("rtt {rtt} ms, {dir:?}: {label}: {e}");
                            *slot = Err(e);
                        }
                    }
                }
            }
        }
    }

    fn report(&self, rtts: &[u64], results: &Results) {
        let gib = self.bytes as f64 / f64::from(1u32 << 30);
        println!(
            "\n{} MiB per transfer, {}, {} round(s); connection setup subtracted:\n",
            self.args.mib, self.args.cipher, self.args.rounds
        );
        println!(
            "| transfer | RTT | client → server | MB/s (median) | vs {} | client CPU s/GiB | server CPU s/GiB |",
            self.rows[0].label
        );
        println!("|---|---|---|---|---|---|---|");
        let median =
            |v: &[Outcome], f: fn(&Outcome) -> f64| summary(&v.iter().map(f).collect::<Vec<_>>()).0;
        for &rtt in rtts {
            for dir in [Dir::Get, Dir::Put] {
                let base = match results.get(&(rtt, dir, 0)) {
                    Some(Ok(v)) if !v.is_empty() => Some(median(v, |o| o.secs)),
                    _ => None,
                };
                for (r, row) in self.rows.iter().enumerate() {
                    let name = format!("{dir:?}").to_lowercase();
                    let cells = match results.get(&(rtt, dir, r)) {
                        Some(Ok(v)) if !v.is_empty() => {
                            let secs = median(v, |o| o.secs);
                            let ratio = base.map_or("–".into(), |b| format!("{:.2}×", b / secs));
                            format!(
                                "{:.1} | {ratio} | {:.2} | {:.2}",
                                self.bytes as f64 / secs / 1e6,
                                median(v, |o| o.client_cpu) / gib,
                                median(v, |o| o.server_cpu) / gib
                            )
                        }
                        Some(Err(e)) => format!("failed: {} | | |", e.replace('|', "/")),
                        _ => "not run | | |".into(),
                    };
                    println!("| {name} | {rtt} ms | {} | {cells} |", row.label);
                }
            }
        }
    }
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let rtts: Vec<u64> = args
        .rtt_ms
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let rows = rows(&args)?;
    if rows.is_empty() {
        return Err("no client left to run".into());
    }
    let here = std::env::current_exe()?;
    let seashell = here.parent().ok_or("no target directory")?.join("seashell");
    if !seashell.exists() {
        return Err(format!(
            "{} missing: cargo build --release -p seashell-cli",
            seashell.display()
        )
        .into());
    }
    let sshd = Sshd::start(SshdOptions {
        extra_config: vec!["Subsystem sftp /usr/lib/openssh/sftp-server".into()],
        ..SshdOptions::default()
    })?;
    let serve = Serve::start(&seashell, &sshd, &args.serve_arg)?;
    let scratch = tempfile::Builder::new()
        .prefix("seashell-sftp-bench-")
        .tempdir_in(args.dir.clone().unwrap_or_else(std::env::temp_dir))?;
    // The login user may not be us (SEASHELL_TEST_USER): it reads and writes here too.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o777))?;
    let src = scratch.path().join("source.bin");
    let bytes = args.mib << 20;
    write_source(&src, bytes)?;

    let mut relays = Vec::new();
    let mut known = String::new();
    let mut endpoints: BTreeMap<u64, BTreeMap<Server, Endpoint>> = BTreeMap::new();
    let pids = [
        (Server::Sshd, sshd.port(), sshd_pid(&sshd.config_path())?),
        (Server::Serve, serve.port, serve.child.id()),
    ];
    for &rtt in &rtts {
        let mut ends = BTreeMap::new();
        for &(server, port, server_pid) in &pids {
            let port = if rtt == 0 {
                port
            } else {
                let target = SocketAddr::from(([127, 0, 0, 1], port));
                let relay = Relay::start(target, Duration::from_micros(rtt * 500), DEFAULT_BUFFER)?;
                let p = relay.addr().port();
                relays.push(relay);
                p
            };
            known += &format!(
                "[127.0.0.1]:{port} {}\n",
                sshd.host_public_key(KeyKind::Ed25519)
            );
            ends.insert(server, Endpoint { port, server_pid });
        }
        endpoints.insert(rtt, ends);
    }
    let known_hosts = scratch.path().join("known_hosts");
    std::fs::write(&known_hosts, known)?;

    let mut vars = BTreeMap::new();
    vars.insert("sftp", "sftp".to_owned());
    vars.insert("seashell", seashell.display().to_string());
    let lib = seashell.with_file_name("sftp-lib-client");
    vars.insert("sftp_lib", lib.display().to_string());
    vars.insert("key", sshd.user_key(KeyKind::Ed25519).display().to_string());
    vars.insert("known_hosts", known_hosts.display().to_string());
    vars.insert("cipher", args.cipher.clone());
    vars.insert("user", sshd.login_user());
    let bench = Bench {
        rows,
        vars,
        scratch: scratch.path().to_owned(),
        src,
        bytes,
        args,
    };
    let mut results = Results::new();
    for (&rtt, ends) in &endpoints {
        bench.at_rtt(rtt, ends, &mut results);
    }
    bench.report(&rtts, &results);
    Ok(())
}

/// Writes `bytes` of incompressible pattern to `path`, readable by everyone.
fn write_source(path: &Path, bytes: u64) -> Result<(), BoxError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut seed = 0x5eed_u64;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        seashell_testkit::tcp_service::pattern_chunk(&mut seed, &mut chunk);
        let n = usize::try_from(left.min(chunk.len() as u64))?;
        f.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    f.flush()?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    Ok(())
}
