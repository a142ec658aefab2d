//! SSH through a jump host, as `ssh -J JUMP TARGET CMD`:
//!
//! `cargo run -p seashell-blocking --example jump -- JUMP[:PORT] TARGET[:PORT] USER KEYFILE CMD`
//!
//! Each hop has its own configuration and host-key check (both against
//! `~/.ssh/known_hosts` here); more hops chain the same way.
use seashell_blocking::{Client, ClientConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [jump, target, user, key, cmd] = args.as_slice() else {
        return Err("usage: jump JUMP[:PORT] TARGET[:PORT] USER KEYFILE CMD".into());
    };
    let config = || ClientConfig::new(user.as_str()).key_file(key);
    let hop = Client::connect(jump, config()?)?;
    let inner = Client::connect_via(&hop, target, config()?)?;
    let out = inner.exec(cmd)?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    std::process::exit(out.status.code().map_or(255, |c| c as i32));
}
