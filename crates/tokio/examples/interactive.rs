//! An interactive shell on a pseudo-terminal on tokio (no local raw mode; see the
//! `seashell` binary for that):
//!
//! `cargo run -p seashell-tokio --example interactive -- HOST[:PORT] USER KEYFILE`
use seashell_tokio::{Client, ClientConfig, PtyRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, user, key] = args.as_slice() else {
        return Err("usage: interactive HOST[:PORT] USER KEYFILE".into());
    };
    let session = Client::connect(host, ClientConfig::new(user.as_str()).key_file(key)?).await?;
    let shell = session
        .open_session()
        .pty(PtyRequest::new("xterm", 80, 24))
        .shell()
        .await?;
    let mut input = shell.clone();
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut input).await;
        let _ = input.send_eof();
    });
    let mut output = shell.clone();
    tokio::io::copy(&mut output, &mut tokio::io::stdout()).await?;
    let status = shell.wait().await?;
    std::process::exit(status.code().map_or(255, |c| c as i32));
}
