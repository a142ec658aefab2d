//! `seashell demo`: Seashell talking to itself, with no setup. It starts the `serve` handler
//! in-process on `127.0.0.1:0` with generated host and user keys, connects Seashell's own
//! blocking client once per cipher, runs a real command through `sh -c`, streams a
//! verified byte pattern through a channel, and prints what was negotiated and how fast
//! it went.
//!
//! ```text
//! seashell demo [--bytes N]
//! ```

use crate::serve::authorized_keys::{AuthorizedKey, AuthorizedKeys};
use crate::serve::handler::ServeHandler;
use crate::serve::{Log, local_policy};
use crate::units::parse_bytes;
use seashell_blocking::{
    Client, ClientConfig, ExitStatus, Handler, HostKeyPolicy, Server, ServerChannel, Session,
};
use seashell_proto::{
    AuthAttempt, AuthDecision, PrivateKey, PublicKey, ServerConfig, SessionRequestKind,
};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The usage text of `seashell demo`.
pub const USAGE: &str = "usage: seashell demo [--bytes N]   (N may end in K, M or G: binary units)";

/// The ciphers compared: the AEAD ciphers, and AES-CTR with its (encrypt-then-MAC) MAC.
const CIPHERS: [&str; 4] = [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
];

/// The command the demo runs through the server's shell.
const COMMAND: &str = "echo hello from $(uname -sr); echo this line went to stderr >&2";

/// The exec request the demo handler answers in-process with `N` pattern bytes.
const STREAM: &str = "seashell-demo-stream";

/// The default amount streamed per cipher: 256 MiB.
const DEFAULT_BYTES: u64 = 256 << 20;

/// The pattern repeats every `PERIOD` bytes (a prime, so it never lines up with chunks).
const PERIOD: usize = 251;

/// Largest read or write of the stream.
const CHUNK: usize = 64 * 1024;

/// `CHUNK + PERIOD` bytes of the pattern: any chunk at any offset is a slice of it.
fn pattern() -> Vec<u8> {
    (0..CHUNK + PERIOD).map(|i| (i % PERIOD) as u8).collect()
}

/// The serve handler, plus the in-process stream generator.
struct DemoHandler {
    inner: ServeHandler,
}

impl Handler for DemoHandler {
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        self.inner.auth(user, attempt)
    }

    fn authenticated(&mut self, user: &str, key: Option<&PublicKey>) {
        self.inner.authenticated(user, key);
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        if let SessionRequestKind::Exec(cmd) = request
            && let Some(n) = std::str::from_utf8(cmd)
                .ok()
                .and_then(|c| c.strip_prefix(STREAM))
                .and_then(|n| n.trim().parse::<u64>().ok())
        {
            let channel = channel.clone();
            return std::thread::Builder::new()
                .name("demo-stream".into())
                .spawn(move || generate(&channel, n))
                .is_ok();
        }
        self.inner.session_request(channel, request)
    }
}

/// Writes `n` pattern bytes to the channel (the writer blocks on the client's window).
fn generate(channel: &ServerChannel, n: u64) {
    let pattern = pattern();
    let mut out = channel.stdout();
    let mut sent: u64 = 0;
    while sent < n {
        let at = (sent % PERIOD as u64) as usize;
        let len = usize::try_from(n - sent).unwrap_or(CHUNK).min(CHUNK);
        let Some(chunk) = pattern.get(at..at + len) else {
            break;
        };
        if out.write_all(chunk).is_err() {
            return;
        }
        sent += len as u64;
    }
    channel.exit(0);
}

/// Runs `seashell demo` with the arguments after `demo`.
pub fn main(args: &[String]) -> ExitCode {
    let mut bytes = DEFAULT_BYTES;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, attached) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (a.as_str(), None),
        };
        match flag {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--bytes" => match attached
                .or_else(|| it.next().cloned())
                .as_deref()
                .and_then(parse_bytes)
            {
                Some(n) => bytes = n,
                None => {
                    eprintln!("seashell demo: --bytes needs a number (e.g. 64M)\n{USAGE}");
                    return ExitCode::from(255);
                }
            },
            _ => {
                eprintln!("seashell demo: unknown argument \"{a}\"\n{USAGE}");
                return ExitCode::from(255);
            }
        }
    }
    match run(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seashell demo: {e}");
            ExitCode::from(255)
        }
    }
}

/// One cipher's measurements.
struct Row {
    cipher: &'static str,
    connect: Duration,
    command: Duration,
    mb_per_s: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run(bytes: u64) -> Result<(), String> {
    let host_key = PrivateKey::ed25519_generate().map_err(|e| format!("host key: {e}"))?;
    let user_key = Arc::new(PrivateKey::ed25519_generate().map_err(|e| format!("user key: {e}"))?);
    let host_fp = host_key.public_key().fingerprint();
    let user = crate::serve::current_user().unwrap_or_else(|| "demo".to_owned());

    let mut policy = local_policy(
        vec![user.clone()],
        Log {
            verbose: 0,
            quiet: true,
        },
    );
    // Always `sh -c`: the user's own shell may read start-up files that take longer than
    // the command (bash does when it sees SSH_CLIENT).
    policy.shell = "/bin/sh".into();
    for (name, value) in &mut policy.base_env {
        if name == "SHELL" {
            *value = "/bin/sh".into();
        }
    }
    policy.authorized = AuthorizedKeys {
        keys: vec![AuthorizedKey {
            key: user_key.public_key(),
            options: Default::default(),
            comment: "seashell demo".into(),
        }],
        skipped: Vec::new(),
    };
    let policy = Arc::new(policy);
    let mut config = ServerConfig::new(vec![Arc::new(host_key)]);
    config.auth_methods = policy.methods();
    let server = Server::bind("127.0.0.1:0", config).map_err(|e| format!("cannot listen: {e}"))?;
    let addr = server.local_addr().map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("demo-server".into())
        .spawn(move || {
            let _ = server.run(|peer| DemoHandler {
                inner: ServeHandler::new(policy.clone(), peer, addr),
            });
        })
        .map_err(|e| format!("cannot start the server thread: {e}"))?;

    println!("Seashell demo: its own server and client, in one process, over TCP.");
    println!("  server     {addr}, host key ssh-ed25519 {host_fp} (generated)");
    println!(
        "  client     user {user:?}, key ssh-ed25519 {} (generated), host key pinned by fingerprint",
        user_key.public_key().fingerprint()
    );
    println!(
        "  stream     {bytes} bytes per cipher ({:.1} MiB), checked byte by byte",
        bytes as f64 / 1048576.0
    );
    let mut rows = Vec::new();
    for name in CIPHERS {
        println!("\n== {name} ==");
        let config = ClientConfig::new(user.clone())
            .host_key_policy(HostKeyPolicy::Fingerprint(host_fp.clone()))
            .with_core(|c| c.ciphers(&[name]));
        let mut config = config;
        config.keys.push(user_key.clone());
        let t = Instant::now();
        let session = Client::connect(&addr.to_string(), config)
            .map_err(|e| format!("{name}: connect: {e}"))?;
        let connect = t.elapsed();
        if let Some(n) = session.negotiated() {
            println!(
                "  negotiated   kex {}, host key {}, cipher {} / {}",
                n.kex.name(),
                n.host_key,
                n.cipher_c2s.name(),
                n.cipher_s2c.name()
            );
        }
        println!(
            "  server says  {}",
            session.server_ident().unwrap_or_default()
        );
        println!("  connect+auth {:.1} ms", ms(connect));
        let t = Instant::now();
        let out = session
            .exec(COMMAND)
            .map_err(|e| format!("{name}: exec: {e}"))?;
        let command = t.elapsed();
        println!("  $ {COMMAND}");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            println!("    stdout: {line}");
        }
        for line in String::from_utf8_lossy(&out.stderr).lines() {
            println!("    stderr: {line}");
        }
        println!(
            "    status: {}   ({:.1} ms)",
            describe(&out.status),
            ms(command)
        );
        let (secs, mb_per_s) =
            stream(&session, bytes).map_err(|e| format!("{name}: stream: {e}"))?;
        println!(
            "  stream       {bytes} bytes in {:.2} s = {mb_per_s:.1} MB/s (verified)",
            secs
        );
        let _ = session.close();
        rows.push(Row {
            cipher: name,
            connect,
            command,
            mb_per_s,
        });
    }
    println!(
        "\n{:<32} {:>13} {:>10} {:>12}",
        "cipher", "connect+auth", "command", "throughput"
    );
    for r in &rows {
        println!(
            "{:<32} {:>10.1} ms {:>7.1} ms {:>7.1} MB/s",
            r.cipher,
            ms(r.connect),
            ms(r.command),
            r.mb_per_s
        );
    }
    println!("\nseashell demo: ok");
    Ok(())
}

fn describe(s: &ExitStatus) -> String {
    match s {
        ExitStatus::Code(c) => format!("exit {c}"),
        ExitStatus::Signal(sig) => format!("killed by SIG{sig}"),
        ExitStatus::Unknown => "unknown".to_owned(),
    }
}

/// Streams `bytes` pattern bytes from the server and checks every one. Returns the seconds
/// taken and MB/s (10^6 bytes per second).
fn stream(session: &Session, bytes: u64) -> Result<(f64, f64), String> {
    let pattern = pattern();
    let t = Instant::now();
    let mut ch = session
        .channel_exec(&format!("{STREAM} {bytes}"))
        .map_err(|e| e.to_string())?;
    ch.send_eof().map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; CHUNK];
    let mut got: u64 = 0;
    loop {
        let n = ch.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        let at = (got % PERIOD as u64) as usize;
        if buf.get(..n) != pattern.get(at..at + n) {
            return Err(format!("wrong data at or after byte {got}"));
        }
        got += n as u64;
    }
    let status = ch.wait().map_err(|e| e.to_string())?;
    let secs = t.elapsed().as_secs_f64();
    if got != bytes {
        return Err(format!("received {got} bytes, expected {bytes}"));
    }
    if status != ExitStatus::Code(0) {
        return Err(format!("stream ended with {}", describe(&status)));
    }
    Ok((secs, bytes as f64 / 1e6 / secs.max(1e-9)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_runs() {
        run(1 << 20).unwrap();
    }
}
