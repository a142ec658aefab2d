//! Connection scale: N concurrent authenticated connections on one seashell-tokio server.
//!
//! The binary runs twice:
//!
//! - `conn-scale --server-only ADDR` is the server: a seashell-tokio `Server` whose handler
//!   accepts one fixed user key and answers `exec "echo hi"` in-process with `hi\n` and exit
//!   status 0 (no process is started). It prints `listening ADDR` on stdout and serves until
//!   its stdin closes.
//! - `conn-scale [--connections N]` (the default mode) starts the server as a child process,
//!   so the server's resident memory is measured alone through `/proc/<pid>/status`, then
//!   opens N connections from this process on one tokio runtime. Each connection logs in
//!   with the key, runs `echo hi` and checks the output and status; the session stays open.
//!   With all N open and idle it reads the server's `VmRSS` again, runs `echo hi` once more on
//!   every connection (they must all still work), and prints the figures: time to open all,
//!   failures, server RSS before and after, and RSS per idle connection in KiB.
//!
//! `cargo run --release -p seashell-bench --bin conn-scale -- [--connections 2000]`
//!
//! Any failure (a connection, an exec, an output) makes the run exit with status 1.

use clap::Parser;
use seashell_tokio::proto::{
    AuthAttempt, AuthDecision, PrivateKey, ServerConfig, SessionRequestKind,
};
use seashell_tokio::{
    Client, ClientConfig, ExitStatus, Handler, HostKeyPolicy, Server, ServerChannel, Session,
};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "N concurrent authenticated connections on one seashell-tokio server")]
struct Args {
    /// Connections to hold open at the same time.
    #[arg(long, default_value_t = 2000)]
    connections: usize,
    /// Handshakes in flight at once while opening (the listen backlog is finite).
    #[arg(long, default_value_t = 64)]
    parallel: usize,
    /// Run only the server, listening on ADDR (the benchmark starts itself this way).
    #[arg(long, value_name = "ADDR")]
    server_only: Option<String>,
}

/// The server's host key and the one accepted user key, fixed so both processes know them.
fn host_key() -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[1; 32]).expect("host key")
}

fn user_key() -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[2; 32]).expect("user key")
}

/// Accepts `user_key()` for any user; `echo hi` prints `hi` and exits 0, anything else
/// exits 127.
struct EchoHi {
    accepted: seashell_tokio::proto::PublicKey,
}

impl Handler for EchoHi {
    fn auth(&mut self, _user: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::PublicKeyQuery { key, .. } | AuthAttempt::PublicKey { key, .. }
                if *key == self.accepted =>
            {
                AuthDecision::Accept
            }
            _ => AuthDecision::Reject,
        }
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        let SessionRequestKind::Exec(cmd) = request else {
            return false;
        };
        let ch = channel.clone();
        let known = cmd.as_slice() == b"echo hi";
        tokio::spawn(async move {
            if known {
                let _ = ch.stdout().write_all(b"hi\n").await;
                ch.exit(0);
            } else {
                ch.exit(127);
            }
        });
        true
    }
}

/// Raises the soft open-file limit to at least `need` (up to the hard limit), or explains
/// why it cannot.
fn raise_nofile(need: u64) -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    let current = lim.current.unwrap_or(u64::MAX);
    if current >= need {
        return Ok(());
    }
    let hard = lim.maximum.unwrap_or(u64::MAX);
    if hard < need {
        return Err(format!(
            "RLIMIT_NOFILE hard limit is {hard}, {need} file descriptors are needed: \
             raise it (ulimit -Hn) or lower --connections"
        ));
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(need.max(current)),
            maximum: lim.maximum,
        },
    )
    .map_err(|e| format!("raising RLIMIT_NOFILE to {need}: {e}"))
}

/// `VmRSS` (or another `/proc/<pid>/status` field) in KiB.
fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn server_main(addr: &str, connections: usize) -> ExitCode {
    if let Err(e) = raise_nofile(connections as u64 + 256) {
        eprintln!("server: {e}");
        return ExitCode::FAILURE;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let server = match Server::bind(addr, ServerConfig::new(vec![Arc::new(host_key())])) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("server: bind {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let local = server.local_addr().expect("local address");
        println!("listening {local}");
        let accepted = user_key().public_key();
        tokio::spawn(async move {
            let r = server
                .run(move |_| EchoHi {
                    accepted: accepted.clone(),
                })
                .await;
            eprintln!("server: accept loop ended: {r:?}");
        });
        // Serve until the parent closes our stdin (or exits).
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
        ExitCode::SUCCESS
    })
}

/// Connects, logs in, runs `echo hi` and checks it; returns the open session.
async fn open_one(addr: &str) -> Result<Session, String> {
    let config = ClientConfig::new("bench")
        .host_key_policy(HostKeyPolicy::Fingerprint(
            host_key().public_key().fingerprint(),
        ))
        .key(user_key());
    let session = Client::connect(addr, config)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    check_exec(&session).await?;
    Ok(session)
}

async fn check_exec(session: &Session) -> Result<(), String> {
    let out = session
        .exec("echo hi")
        .await
        .map_err(|e| format!("exec: {e}"))?;
    if out.stdout != b"hi\n" || out.status != ExitStatus::Code(0) {
        return Err(format!(
            "exec: got {:?} with {:?}",
            String::from_utf8_lossy(&out.stdout),
            out.status
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(addr) = &args.server_only {
        return server_main(addr, args.connections);
    }
    let n = args.connections;
    if let Err(e) = raise_nofile(n as u64 + 256) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }

    // The server, alone in a child process.
    let exe = std::env::current_exe().expect("current executable");
    let mut child = Command::new(exe)
        .args([
            "--server-only",
            "127.0.0.1:0",
            "--connections",
            &n.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the server process");
    let pid = child.id().to_string();
    let mut line = String::new();
    let stdout = child.stdout.take().expect("server stdout");
    let _ = BufReader::new(stdout).read_line(&mut line);
    let Some(addr) = line.trim().strip_prefix("listening ").map(str::to_owned) else {
        eprintln!("the server did not start: {line:?}");
        let _ = child.kill();
        let _ = child.wait();
        return ExitCode::FAILURE;
    };
    std::thread::sleep(Duration::from_millis(300));
    let rss_before = status_kib(&pid, "VmRSS:").unwrap_or(0);
    let client_before = status_kib("self", "VmRSS:").unwrap_or(0);
    println!("server pid {pid} on {addr}; server VmRSS before: {rss_before} KiB");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = rt.block_on(async {
        let addr: Arc<str> = addr.into();
        let gate = Arc::new(Semaphore::new(args.parallel.max(1)));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let (addr, gate) = (addr.clone(), gate.clone());
            tasks.spawn(async move {
                let _permit = gate.acquire_owned().await.expect("semaphore");
                (i, open_one(&addr).await)
            });
        }
        let mut sessions = Vec::with_capacity(n);
        let mut failures = Vec::new();
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok((_, Ok(s))) => sessions.push(s),
                Ok((i, Err(e))) => failures.push(format!("connection {i}: {e}")),
                Err(e) => failures.push(format!("task: {e}")),
            }
        }
        let open_time = started.elapsed();
        println!(
            "opened {} of {n} connections (login + exec \"echo hi\" each) in {:.2} s, {} failures",
            sessions.len(),
            open_time.as_secs_f64(),
            failures.len()
        );
        for f in failures.iter().take(10) {
            eprintln!("  {f}");
        }

        if let Some(n) = sessions.first().and_then(|s| s.negotiated()) {
            println!(
                "negotiated: {} / {} / {}",
                n.kex.name(),
                n.host_key,
                n.cipher_c2s.name()
            );
        }

        // All open and idle: let the server settle, then measure.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_after = status_kib(&pid, "VmRSS:").unwrap_or(0);
        let hwm = status_kib(&pid, "VmHWM:").unwrap_or(0);
        let client_after = status_kib("self", "VmRSS:").unwrap_or(0);
        let open = sessions.len().max(1) as f64;
        let per_conn = rss_after.saturating_sub(rss_before) as f64 / open;
        let client_per_conn = client_after.saturating_sub(client_before) as f64 / open;
        println!(
            "server VmRSS with {} idle connections: {rss_after} KiB (peak VmHWM {hwm} KiB)",
            sessions.len()
        );
        println!(
            "server RSS per idle connection: {per_conn:.1} KiB ({} KiB - {} KiB) / {}",
            rss_after,
            rss_before,
            sessions.len()
        );
        println!(
            "client process (all {} sessions on one runtime): {client_before} -> {client_after} KiB, \
             {client_per_conn:.1} KiB per connection",
            sessions.len()
        );

        // Every idle connection must still work.
        let started = Instant::now();
        let mut again = tokio::task::JoinSet::new();
        let sessions: Vec<Arc<Session>> = sessions.into_iter().map(Arc::new).collect();
        for (i, s) in sessions.iter().enumerate() {
            let (s, gate) = (s.clone(), gate.clone());
            again.spawn(async move {
                let _permit = gate.acquire_owned().await.expect("semaphore");
                (i, check_exec(&s).await)
            });
        }
        let mut late = 0usize;
        while let Some(r) = again.join_next().await {
            match r {
                Ok((_, Ok(()))) => {}
                Ok((i, Err(e))) => {
                    late += 1;
                    eprintln!("  second exec on connection {i}: {e}");
                }
                Err(e) => {
                    late += 1;
                    eprintln!("  task: {e}");
                }
            }
        }
        println!(
            "second exec on all {} idle connections: {} failures, {:.2} s",
            sessions.len(),
            late,
            started.elapsed().as_secs_f64()
        );
        drop(sessions);
        if failures.is_empty() && late == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    });
    drop(child.stdin.take());
    let _ = child.wait();
    code
}
