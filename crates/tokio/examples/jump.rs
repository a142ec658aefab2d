//! SSH through one or more jump hosts on tokio, as `ssh -J HOP1,HOP2 TARGET CMD`:
//!
//! `cargo run -p seashell-tokio --example jump -- USER KEYFILE CMD HOP1 [HOP2 ...] TARGET`
use seashell_tokio::{Client, ClientConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [user, key, cmd, first, rest @ ..] = args.as_slice() else {
        return Err("usage: jump USER KEYFILE CMD HOP1 [HOP2 ...] TARGET".into());
    };
    // Each hop gets its own configuration (and so its own host-key policy).
    let config = || ClientConfig::new(user.as_str()).key_file(key);
    let mut session = Client::connect(first, config()?).await?;
    for next in rest {
        session = Client::connect_via(&session, next, config()?).await?;
    }
    let out = session.exec(cmd).await?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    std::process::exit(out.status.code().map_or(255, |c| c as i32));
}
