//! Reads a remote command's stdout to the end and reports the rate:
//! `cargo run --release -p seashell-blocking --example stream -- ADDR USER KEY CIPHER CMD`.
use seashell_blocking::{Client, ClientConfig, HostKeyPolicy};
use std::io::Read;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let cfg = ClientConfig::new(a[2].clone())
        .key_file(&a[3])?
        .host_key_policy(HostKeyPolicy::AcceptAnyInsecure)
        .with_core(|c| {
            let c = c.ciphers(&[a[4].as_str()]);
            // Optional key-exchange method (SEASHELL_KEX), for trying one against a server.
            let c = match std::env::var("SEASHELL_KEX") {
                Ok(k) => c.kex_algorithms(&[k]),
                Err(_) => c,
            };
            // Optional MAC (SEASHELL_MAC), for the non-AEAD ciphers.
            match std::env::var("SEASHELL_MAC") {
                Ok(m) => c.macs(&[m]),
                Err(_) => c,
            }
        });
    let t = std::time::Instant::now();
    let s = Client::connect(&a[1], cfg)?;
    let mut ch = s.channel_exec(&a[5])?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = ch.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let st = ch.wait()?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{total} bytes in {secs:.3}s = {:.0} MB/s, status {st:?}",
        total as f64 / secs / 1e6
    );
    Ok(())
}
