//! Bulk channel throughput: Seashell's blocking client against OpenSSH's `ssh`, interleaved.
//!
//! Starts a private sshd (seashell-testkit), then for each round and cipher runs both
//! clients on `head -c BYTES /dev/zero` (order alternating per round):
//!
//! 1. Seashell: `Client::connect` → `channel_exec` → read stdout in 256 KiB reads → `wait`,
//!    timed from before the TCP connect to the channel's close;
//! 2. OpenSSH: `ssh -c CIPHER -i KEY ...` with stdout on a pipe read and counted here,
//!    timed from spawn to exit.
//!
//! Both therefore include connection setup. Both must deliver exactly BYTES bytes and exit
//! status 0. After each bulk run the same client also runs `true` the same way; that time is
//! the round's setup cost, and a second table gives the throughput net of it. Each round is
//! printed, then the markdown tables.
//!
//! `cargo run --release -p seashell-bench --bin stream-compare -- [--rounds 5] [--cipher C]...`
//!
//! Set `SEASHELL_TEST_USER` (as root) to log in as a user whose shell starts fast; the
//! testkit's sshd accepts its keys for any user.

use clap::Parser;
use seashell_bench::summary;
use seashell_blocking::{Client, ClientConfig, ExitStatus, HostKeyPolicy, StrictHostKeyChecking};
use seashell_testkit::{KeyKind, Sshd, SshdOptions};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "Stream throughput of Seashell's blocking client vs OpenSSH ssh")]
struct Args {
    /// Rounds; each runs every cipher with both clients.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// A cipher to measure (repeatable).
    #[arg(long = "cipher")]
    ciphers: Vec<String>,
    /// Bytes the remote command writes.
    #[arg(long, default_value_t = 536_870_912)]
    bytes: u64,
}

/// Default ciphers when none is given.
const DEFAULT_CIPHERS: [&str; 2] = ["aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"];

/// Read size of both clients' consumers.
const READ_SIZE: usize = 256 * 1024;

type BoxError = Box<dyn std::error::Error>;

/// The fixed setup both clients share.
struct Target {
    sshd: Sshd,
    user: String,
    key: std::path::PathBuf,
    ssh: std::path::PathBuf,
    command: String,
    bytes: u64,
}

/// Reads `r` to the end and returns how many bytes it gave.
fn drain(r: &mut impl Read) -> std::io::Result<u64> {
    let mut buf = vec![0u8; READ_SIZE];
    let mut total = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// One Seashell run of `command`, which must print `expect` bytes; returns the seconds from
/// before connect to channel close.
fn run_ours(t: &Target, cipher: &str, command: &str, expect: u64) -> Result<f64, BoxError> {
    let config = ClientConfig::new(t.user.clone())
        .key_file(&t.key)?
        .host_key_policy(HostKeyPolicy::KnownHosts {
            files: vec![t.sshd.known_hosts_file()],
            strict: StrictHostKeyChecking::Yes,
        })
        .with_core(|c| c.ciphers(&[cipher]).host_key_algorithms(&["ssh-ed25519"]));
    let start = Instant::now();
    let session = Client::connect(&t.sshd.addr(), config)?;
    let mut ch = session.channel_exec(command)?;
    let total = drain(&mut ch)?;
    let status = ch.wait()?;
    let secs = start.elapsed().as_secs_f64();
    if total != expect || status != ExitStatus::Code(0) {
        return Err(format!("seashell got {total} bytes, status {status:?}").into());
    }
    Ok(secs)
}

/// One OpenSSH `ssh` run of `command`, which must print `expect` bytes; returns the seconds
/// from spawn to exit.
fn run_ssh(t: &Target, cipher: &str, command: &str, expect: u64) -> Result<f64, BoxError> {
    let known = format!("UserKnownHostsFile={}", t.sshd.known_hosts_file().display());
    let start = Instant::now();
    let mut child = Command::new(&t.ssh)
        .args(["-F", "/dev/null", "-T", "-c", cipher, "-i"])
        .arg(&t.key)
        .args(["-o", &known, "-o", "BatchMode=yes"])
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        // The same key exchange and host key as ours: sntrup761 (OpenSSH's default) would
        // add about 100 ms of setup that Seashell does not pay.
        .args(["-o", "KexAlgorithms=curve25519-sha256"])
        .args(["-o", "HostKeyAlgorithms=ssh-ed25519"])
        .args(["-p", &t.sshd.port().to_string(), "-l", &t.user, "127.0.0.1"])
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let total = drain(&mut stdout)?;
    let out = child.wait_with_output()?;
    let secs = start.elapsed().as_secs_f64();
    if total != expect || !out.status.success() {
        return Err(format!(
            "ssh got {total} bytes, {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(secs)
}

/// One client's measurements for one cipher, per round.
#[derive(Default)]
struct Runs {
    /// Seconds for the bulk command, setup included.
    bulk: Vec<f64>,
    /// Seconds for `true` (connect, auth, exec, close): the setup cost of that round.
    setup: Vec<f64>,
}

impl Runs {
    /// MB/s per round, setup included.
    fn rates(&self, bytes: u64) -> Vec<f64> {
        self.bulk.iter().map(|s| bytes as f64 / s / 1e6).collect()
    }

    /// MB/s per round with that round's setup time taken off.
    fn net_rates(&self, bytes: u64) -> Vec<f64> {
        self.bulk
            .iter()
            .zip(&self.setup)
            .map(|(b, s)| bytes as f64 / (b - s).max(1e-3) / 1e6)
            .collect()
    }
}

/// Per-cipher results.
struct Row {
    cipher: String,
    ours: Runs,
    ssh: Runs,
}

/// Runs one client once: bulk, then `true` for its setup time.
fn measure(
    t: &Target,
    cipher: &str,
    runs: &mut Runs,
    run: fn(&Target, &str, &str, u64) -> Result<f64, BoxError>,
) -> Result<(), BoxError> {
    runs.bulk.push(run(t, cipher, &t.command, t.bytes)?);
    runs.setup.push(run(t, cipher, "true", 0)?);
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let ciphers: Vec<String> = if args.ciphers.is_empty() {
        DEFAULT_CIPHERS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.ciphers.clone()
    };
    let sshd = Sshd::start(SshdOptions::default())?;
    let target = Target {
        user: sshd.login_user(),
        key: sshd.user_key(KeyKind::Ed25519),
        ssh: seashell_testkit::ssh_client()?,
        command: format!("head -c {} /dev/zero", args.bytes),
        bytes: args.bytes,
        sshd,
    };
    eprintln!(
        "stream-compare: {} bytes per run, user {}, sshd on {}, {} round(s)",
        args.bytes,
        target.user,
        target.sshd.addr(),
        args.rounds
    );
    let mut rows: Vec<Row> = ciphers
        .iter()
        .map(|c| Row {
            cipher: c.clone(),
            ours: Runs::default(),
            ssh: Runs::default(),
        })
        .collect();
    for round in 1..=args.rounds.max(1) {
        for row in &mut rows {
            if round % 2 == 1 {
                measure(&target, &row.cipher, &mut row.ours, run_ours)?;
                measure(&target, &row.cipher, &mut row.ssh, run_ssh)?;
            } else {
                measure(&target, &row.cipher, &mut row.ssh, run_ssh)?;
                measure(&target, &row.cipher, &mut row.ours, run_ours)?;
            }
            let last = |r: &Runs| {
                let (b, s) = (r.bulk[r.bulk.len() - 1], r.setup[r.setup.len() - 1]);
                (target.bytes as f64 / b / 1e6, s * 1e3)
            };
            let ((o, o_setup), (h, h_setup)) = (last(&row.ours), last(&row.ssh));
            eprintln!(
                "round {round} {:<30} seashell {o:>5.0} MB/s (setup {o_setup:>5.1} ms)   \
                 ssh {h:>5.0} MB/s (setup {h_setup:>5.1} ms)   ratio {:.3}",
                row.cipher,
                o / h
            );
        }
    }
    print_tables(&rows, target.bytes);
    Ok(())
}

/// Formats `median (min–max)` with `digits` decimals.
fn cell(values: &[f64], digits: usize) -> String {
    let (m, lo, hi) = summary(values);
    format!("{m:.digits$} ({lo:.digits$}–{hi:.digits$})")
}

fn print_tables(rows: &[Row], bytes: u64) {
    println!(
        "| cipher | Seashell, median MB/s (min–max) | OpenSSH ssh, median MB/s (min–max) | median ratio ours/ssh (min–max) |"
    );
    println!("|---|---|---|---|");
    for row in rows {
        let (o, h) = (row.ours.rates(bytes), row.ssh.rates(bytes));
        let ratios: Vec<f64> = o.iter().zip(&h).map(|(o, h)| o / h).collect();
        println!(
            "| {} | {} | {} | {} |",
            row.cipher,
            cell(&o, 0),
            cell(&h, 0),
            cell(&ratios, 2)
        );
    }
    println!();
    println!(
        "| cipher | Seashell setup, median ms | ssh setup, median ms | Seashell net of setup, median MB/s | ssh net of setup, median MB/s | median net ratio ours/ssh (min–max) |"
    );
    println!("|---|---|---|---|---|---|");
    for row in rows {
        let (o, h) = (row.ours.net_rates(bytes), row.ssh.net_rates(bytes));
        let ratios: Vec<f64> = o.iter().zip(&h).map(|(o, h)| o / h).collect();
        let ms = |r: &Runs| r.setup.iter().map(|s| s * 1e3).collect::<Vec<_>>();
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.cipher,
            cell(&ms(&row.ours), 1),
            cell(&ms(&row.ssh), 1),
            cell(&o, 0),
            cell(&h, 0),
            cell(&ratios, 2)
        );
    }
}
