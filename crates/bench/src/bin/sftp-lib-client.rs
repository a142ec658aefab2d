//! A bench stand-in for `seashell sftp -b`: runs a batch of `get`, `put` and `pwd` lines with
//! the blocking SFTP client library (`seashell_blocking::sftp`), so `sftp-compare` can measure
//! our client before (and beside) the command line one. It takes the few OpenSSH-style options
//! the bench passes, and `--max-window-mib` to set the channel window cap (2 = OpenSSH's fixed
//! window, no growth).
//!
//! `sftp-lib-client -b BATCH -P PORT -i KEY --known-hosts FILE [--cipher C]
//! [--max-window-mib N] USER@HOST`

use clap::Parser;
use seashell_blocking::sftp::TransferOptions;
use seashell_blocking::{Client, ClientConfig, HostKeyPolicy, StrictHostKeyChecking};
use std::path::PathBuf;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "Run an SFTP batch (get, put, pwd) with Seashell's client library")]
struct Args {
    /// The batch file: one `get REMOTE LOCAL`, `put LOCAL REMOTE` or `pwd` per line.
    #[arg(short = 'b')]
    batch: PathBuf,
    /// The server's port.
    #[arg(short = 'P', default_value_t = 22)]
    port: u16,
    /// The private key to log in with.
    #[arg(short = 'i')]
    key: PathBuf,
    /// The known_hosts file the host key must be in.
    #[arg(long)]
    known_hosts: PathBuf,
    /// The cipher to ask for.
    #[arg(long, default_value = "aes128-gcm@openssh.com")]
    cipher: String,
    /// The largest each channel window grows to, in MiB (default: the library's).
    #[arg(long)]
    max_window_mib: Option<u32>,
    /// `USER@HOST`.
    destination: String,
}

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let (user, host) = args
        .destination
        .split_once('@')
        .ok_or("destination must be USER@HOST")?;
    let cipher = args.cipher.clone();
    let max_window = args.max_window_mib.map(|m| m.saturating_mul(1 << 20));
    let config = ClientConfig::new(user.to_owned())
        .key_file(&args.key)?
        .host_key_policy(HostKeyPolicy::KnownHosts {
            files: vec![args.known_hosts.clone()],
            strict: StrictHostKeyChecking::Yes,
        })
        .with_core(|mut c| {
            if let Some(max) = max_window {
                c.max_window_size = max;
            }
            c.ciphers(&[cipher]).host_key_algorithms(&["ssh-ed25519"])
        });
    let session = Client::connect(&format!("{host}:{}", args.port), config)?;
    let sftp = session.sftp()?;
    let options = TransferOptions::default();
    for line in std::fs::read_to_string(&args.batch)?.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            [] => {}
            ["pwd"] => {
                sftp.canonicalize(".")?;
            }
            ["get", remote, local] => {
                sftp.get(remote, local, &options)?;
            }
            ["put", local, remote] => {
                sftp.put(local, remote, &options)?;
            }
            _ => return Err(format!("unsupported batch line {line:?}").into()),
        }
    }
    Ok(())
}
