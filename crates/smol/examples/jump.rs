//! A command through a jump host on smol (`ssh -J JUMP TARGET CMD`), with a stricter host-key
//! policy on the inner hop: a pinned fingerprint.
//!
//! `cargo run -p seashell-smol --example jump -- JUMP[:PORT] TARGET[:PORT] SHA256:FP USER KEYFILE CMD`
use seashell_smol::{Client, ClientConfig, HostKeyPolicy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [jump, target, fingerprint, user, key, cmd] = args.as_slice() else {
        return Err("usage: jump JUMP TARGET SHA256:FP USER KEYFILE CMD".into());
    };
    smol::block_on(async {
        let hop = Client::connect(jump, ClientConfig::new(user.as_str()).key_file(key)?).await?;
        let inner_config = ClientConfig::new(user.as_str())
            .key_file(key)?
            .host_key_policy(HostKeyPolicy::Fingerprint(fingerprint.clone()));
        let inner = Client::connect_via(&hop, target, inner_config).await?;
        let out = inner.exec(cmd).await?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        Ok(())
    })
}
