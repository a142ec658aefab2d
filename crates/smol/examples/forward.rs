//! Port forwarding on smol: `-L`, `-R 0` and `-D` on one connection, until it ends.
//!
//! `cargo run -p seashell-smol --example forward -- HOST[:PORT] USER KEYFILE`
use seashell_smol::{Client, ClientConfig, ForwardTarget};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, user, key] = args.as_slice() else {
        return Err("usage: forward HOST[:PORT] USER KEYFILE".into());
    };
    smol::block_on(async {
        let config = ClientConfig::new(user.as_str()).key_file(key)?;
        let session = Client::connect(host, config).await?;
        let ssh = ForwardTarget::Tcp {
            host: "127.0.0.1".into(),
            port: 22,
        };
        let local = session.forward_local("127.0.0.1:2222", ssh.clone()).await?;
        let remote_port = session.forward_remote("localhost", 0, ssh).await?;
        let socks = session.forward_dynamic("127.0.0.1:1080").await?;
        println!("-L {}", local.local_addr());
        println!("-R port {remote_port} on the server");
        println!("-D {}", socks.local_addr());
        while !session.is_closed() {
            smol::Timer::after(std::time::Duration::from_secs(1)).await;
        }
        Ok(())
    })
}
