//! Port forwarding with the blocking adapter, as `ssh -L 8080:127.0.0.1:80 -R 0:127.0.0.1:22
//! -D 1080` would set it up:
//!
//! `cargo run -p seashell-blocking --example forward -- HOST[:PORT] USER KEYFILE`
//!
//! The server's host key is checked against `~/.ssh/known_hosts`.
use seashell_blocking::{Client, ClientConfig, ForwardTarget};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, user, key] = args.as_slice() else {
        return Err("usage: forward HOST[:PORT] USER KEYFILE".into());
    };
    let session = Client::connect(host, ClientConfig::new(user.as_str()).key_file(key)?)?;

    // -L: connections to local port 8080 reach 127.0.0.1:80 as seen from the server.
    let local = session.forward_local(
        "127.0.0.1:8080",
        ForwardTarget::Tcp {
            host: "127.0.0.1".into(),
            port: 80,
        },
    )?;
    println!("-L listening on {}", local.local_addr());

    // -R 0: the server picks a port; connections to it reach our own sshd.
    let port = session.forward_remote(
        "localhost",
        0,
        ForwardTarget::Tcp {
            host: "127.0.0.1".into(),
            port: 22,
        },
    )?;
    println!("-R: the server listens on port {port}");

    // -D: a SOCKS4/5 proxy whose connections leave from the server.
    let socks = session.forward_dynamic("127.0.0.1:1080")?;
    println!("-D SOCKS proxy on {}", socks.local_addr());

    // The forwards run on their own threads until dropped or until the connection ends.
    while !session.is_closed() {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    Ok(())
}
