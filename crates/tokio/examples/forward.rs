//! Port forwarding on tokio: a local forward (`-L`), a remote forward on a port the server
//! picks (`-R 0`), a SOCKS proxy (`-D`), and one `direct-tcpip` stream used directly.
//!
//! `cargo run -p seashell-tokio --example forward -- HOST[:PORT] USER KEYFILE`
use seashell_tokio::{Client, ClientConfig, ForwardTarget};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, user, key] = args.as_slice() else {
        return Err("usage: forward HOST[:PORT] USER KEYFILE".into());
    };
    let session = Client::connect(host, ClientConfig::new(user.as_str()).key_file(key)?).await?;
    let web = ForwardTarget::Tcp {
        host: "127.0.0.1".into(),
        port: 80,
    };
    let local = session.forward_local("127.0.0.1:8080", web.clone()).await?;
    let port = session.forward_remote("localhost", 0, web).await?;
    let socks = session.forward_dynamic("127.0.0.1:1080").await?;
    println!(
        "-L {} / -R port {port} on the server / -D {}",
        local.local_addr(),
        socks.local_addr()
    );

    // A direct-tcpip channel is an AsyncRead + AsyncWrite stream to the target.
    let mut http = session.open_direct_tcpip("127.0.0.1", 80).await?;
    http.write_all(b"HEAD / HTTP/1.0\r\n\r\n").await?;
    http.shutdown().await?;
    let mut answer = String::new();
    http.read_to_string(&mut answer).await?;
    println!("{}", answer.lines().next().unwrap_or_default());

    tokio::signal::ctrl_c().await?;
    Ok(())
}
