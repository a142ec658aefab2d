//! Runs one command: `cargo run -p seashell-blocking --example exec -- ADDR USER KEY CMD`.
use seashell_blocking::{Client, ClientConfig, HostKeyPolicy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let cfg = ClientConfig::new(a[2].clone())
        .key_file(&a[3])?
        .host_key_policy(HostKeyPolicy::AcceptAnyInsecure);
    let s = Client::connect(&a[1], cfg)?;
    let out = s.exec(&a[4])?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    println!("status: {:?}", out.status);
    Ok(())
}
