//! The Seashell demo: starts a private OpenSSH server on 127.0.0.1 (from this machine's
//! `openssh-server` package, in a temp dir with its own keys and config), then uses Seashell's
//! client to log in, run commands and stream data with each cipher.
//!
//! Run it with `cargo run --release -p seashell-blocking --example demo`.

use seashell_blocking::{Client, ClientConfig, HostKeyPolicy, StrictHostKeyChecking};
use seashell_testkit::{KeyKind, PeerError, Sshd, SshdOptions};
use std::io::Read;
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("demo: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let sshd = match Sshd::start(SshdOptions::default()) {
        Ok(s) => s,
        Err(PeerError::Missing { peer, install }) => {
            return Err(format!("the demo needs {peer}; install it with: {install}").into());
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "private OpenSSH server on {} (user {})",
        sshd.addr(),
        sshd.login_user()
    );
    let strict = HostKeyPolicy::KnownHosts {
        files: vec![sshd.known_hosts_file()],
        strict: StrictHostKeyChecking::Yes,
    };
    for cipher in [
        "chacha20-poly1305@openssh.com",
        "aes128-gcm@openssh.com",
        "aes256-gcm@openssh.com",
    ] {
        let config = ClientConfig::new(sshd.login_user())
            .key_file(sshd.user_key(KeyKind::Ed25519))?
            .host_key_policy(strict.clone())
            .with_core(|c| c.ciphers(&[cipher]));
        let started = Instant::now();
        let session = Client::connect(&sshd.addr(), config)?;
        let login = started.elapsed();
        let out =
            session.exec("echo \"hello from $(uname -sr)\"; echo 'and stderr' >&2; exit 3")?;
        println!(
            "\n[{cipher}] logged in in {:.1} ms",
            login.as_secs_f64() * 1e3
        );
        print!("  stdout: {}", String::from_utf8_lossy(&out.stdout));
        print!("  stderr: {}", String::from_utf8_lossy(&out.stderr));
        println!("  status: {:?}", out.status);
        let mut ch = session.channel_exec("head -c 268435456 /dev/zero")?;
        let (mut total, mut buf) = (0usize, vec![0u8; 256 * 1024]);
        let t = Instant::now();
        loop {
            let n = ch.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "  streamed {total} bytes in {secs:.2} s ({:.0} MB/s)",
            total as f64 / secs / 1e6
        );
        session.close()?;
    }
    Ok(())
}
