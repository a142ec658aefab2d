//! An interactive shell on a pseudo-terminal on smol (no local raw mode):
//!
//! `cargo run -p seashell-smol --example interactive -- HOST[:PORT] USER KEYFILE`
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use seashell_smol::{Client, ClientConfig, PtyRequest};
use std::io::{Read, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, user, key] = args.as_slice() else {
        return Err("usage: interactive HOST[:PORT] USER KEYFILE".into());
    };
    let code = smol::block_on(async {
        let config = ClientConfig::new(user.as_str()).key_file(key)?;
        let session = Client::connect(host, config).await?;
        let shell = session
            .open_session()
            .pty(PtyRequest::new("xterm", 80, 24))
            .shell()
            .await?;
        // Blocking stdin on a thread of smol's blocking pool.
        let mut input = shell.clone();
        smol::spawn(async move {
            let mut buf = vec![0u8; 1024];
            loop {
                let (n, back) = smol::unblock(move || {
                    let mut b = buf;
                    let n = std::io::stdin().read(&mut b).unwrap_or(0);
                    (n, b)
                })
                .await;
                buf = back;
                if n == 0 || input.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = input.send_eof();
        })
        .detach();
        let mut output = shell.clone();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = output.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            std::io::stdout().write_all(&buf[..n])?;
            std::io::stdout().flush()?;
        }
        Ok::<_, Box<dyn std::error::Error>>(shell.wait().await?.code().map_or(255, |c| c as i32))
    })?;
    std::process::exit(code);
}
