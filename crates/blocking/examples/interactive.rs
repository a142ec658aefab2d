//! An interactive shell on a pseudo-terminal, without local raw mode (the `seashell` binary
//! adds raw mode, resizes and the escape character on top of the same calls):
//!
//! `cargo run -p seashell-blocking --example interactive -- HOST[:PORT] USER KEYFILE`
use seashell_blocking::{Client, ClientConfig, PtyRequest};
use std::io::{Read, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, user, key] = args.as_slice() else {
        return Err("usage: interactive HOST[:PORT] USER KEYFILE".into());
    };
    let session = Client::connect(host, ClientConfig::new(user.as_str()).key_file(key)?)?;
    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm".into());
    let shell = session
        .open_session()
        .pty(PtyRequest::new(term, 80, 24))
        .env("LANG", "C.UTF-8")
        .shell()?;

    // Keyboard to the shell on a thread; the shell's output to the terminal here.
    let input = shell.clone();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || (&input).write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = input.send_eof();
    });
    let mut out = std::io::stdout();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = (&shell).read(&mut buf)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        out.flush()?;
    }
    let status = shell.wait()?;
    std::process::exit(status.code().map_or(255, |c| c as i32));
}
