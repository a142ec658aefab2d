//! A small SSH server: accepts one user key (or the password "demo") and answers every
//! command by running it through `sh -c`, streaming stdin, stdout and stderr.
//!
//! `cargo run -p seashell-blocking --example echo_server -- 127.0.0.1:2222 ~/.ssh/id_ed25519.pub`
//! then `ssh -p 2222 -o StrictHostKeyChecking=no localhost 'echo hi; exit 3'`.

use seashell_blocking::{Handler, Server, ServerChannel};
use seashell_proto::{
    AuthAttempt, AuthDecision, PrivateKey, PublicKey, ServerConfig, SessionRequestKind,
};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

struct Demo {
    allowed: PublicKey,
}

impl Handler for Demo {
    fn auth(&mut self, _user: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::PublicKeyQuery { key, .. } | AuthAttempt::PublicKey { key, .. }
                if *key == self.allowed =>
            {
                AuthDecision::Accept
            }
            AuthAttempt::Password(pw) if pw.as_str() == "demo" => AuthDecision::Accept,
            _ => AuthDecision::Reject,
        }
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        let SessionRequestKind::Exec(command) = request else {
            return false;
        };
        let command = String::from_utf8_lossy(command).into_owned();
        let channel = channel.clone();
        std::thread::spawn(move || run(&channel, &command));
        true
    }
}

fn run(channel: &ServerChannel, command: &str) {
    let Ok(mut child) = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        channel.exit(127);
        return;
    };
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return;
    };
    let mut input = channel.stdin();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut input, &mut stdin);
    });
    let mut err_out = channel.stderr();
    let errors = std::thread::spawn(move || {
        let _ = std::io::copy(&mut stderr, &mut err_out);
    });
    let mut out = channel.stdout();
    let mut buf = vec![0u8; 32 * 1024];
    while let Ok(n) = stdout.read(&mut buf) {
        if n == 0 || out.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = errors.join();
    let status = child.wait().ok().and_then(|s| s.code()).unwrap_or(255);
    channel.exit(status as u32);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:2222".into());
    let key_line = std::fs::read_to_string(
        args.get(2)
            .ok_or("usage: echo_server ADDR AUTHORIZED_KEY.pub")?,
    )?;
    let (allowed, _) = seashell_keys::parse_public_key_line(key_line.trim())?;
    let host_key = Arc::new(PrivateKey::ed25519_generate()?);
    let mut config = ServerConfig::new(vec![host_key]);
    if std::env::var("ECHO_ALL_KEX").is_ok() {
        config.kex_algorithms = seashell_proto::kex::KexAlg::ALL
            .iter()
            .map(|k| k.name().to_owned())
            .collect();
    }
    let server = Server::bind(&addr, config)?;
    eprintln!("listening on {}", server.local_addr()?);
    server.run(|_| Demo {
        allowed: allowed.clone(),
    })?;
    Ok(())
}
