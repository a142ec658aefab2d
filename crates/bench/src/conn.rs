//! What the connection benchmarks (`conn-scale`, `handshake-soak`) share: the in-process
//! `echo hi` server with an explicit admission gate, the server child process and its
//! figures read through `/proc`, and the client side of one login.
//!
//! Both binaries start themselves a second time with `--server-only ADDR`, so the server's
//! memory and CPU are measured alone. The server prints `listening ADDR` once bound, serves
//! until its stdin closes, then prints one `gate ...` line: its gate's counters
//! ([`format_snapshot`]), which the parent reads back with [`parse_snapshot`].

use clap::Args;
use seashell_adapter::{AdmissionConfig, Gate, MetricsSnapshot};
use seashell_tokio::proto::{
    AuthAttempt, AuthDecision, PrivateKey, PublicKey, ServerConfig, SessionRequestKind,
};
use seashell_tokio::{
    Client, ClientConfig, ExitStatus, Handler, HostKeyPolicy, Server, ServerChannel, Session,
};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// The server's host key, fixed so both processes know it.
pub fn host_key() -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[1; 32]).expect("host key")
}

/// The one user key the server accepts.
pub fn user_key() -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[2; 32]).expect("user key")
}

/// Accepts [`user_key`] for any user; `echo hi` prints `hi` and exits 0 (no process is
/// started), anything else exits 127.
#[derive(Debug)]
pub struct EchoHi {
    accepted: PublicKey,
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

/// The benchmark server's admission gate, as sshd options. The benchmarks measure capacity
/// from one source (127.0.0.1) at a known parallelism, so sshd's defaults, which are right
/// for a server under attack (`MaxStartups 10:30:100` drops at random past 10 handshakes
/// in flight, `PerSourcePenalties` refuses a busy source), are replaced by limits above the
/// load: nothing may be refused, and the run fails if the gate refuses anything.
#[derive(Args, Debug, Clone)]
pub struct GateArgs {
    /// sshd `MaxStartups` for the server (`start:rate:full` or `n`). Default: `2P:30:4P` for
    /// P = --parallel, so random early drop never starts at the benchmark's load.
    #[arg(long, value_name = "START:RATE:FULL")]
    pub max_startups: Option<String>,
    /// sshd `PerSourcePenalties` for the server: `no` (default; every connection comes from
    /// 127.0.0.1), `yes`, or sshd's `keyword:value` words.
    #[arg(long, value_name = "SPEC", default_value = "no")]
    pub per_source_penalties: String,
}

impl GateArgs {
    /// The `MaxStartups` value in force: the one given, or `2P:30:4P`.
    pub fn max_startups_for(&self, parallel: usize) -> String {
        match &self.max_startups {
            Some(s) => s.clone(),
            None => {
                let p = parallel.clamp(1, 1 << 20);
                format!("{}:30:{}", 2 * p, 4 * p)
            }
        }
    }

    /// The admission configuration these options give, or the option that is invalid.
    pub fn admission(&self, parallel: usize) -> Result<AdmissionConfig, String> {
        let mut config = AdmissionConfig::default();
        let options = [
            ("MaxStartups", self.max_startups_for(parallel)),
            ("PerSourcePenalties", self.per_source_penalties.clone()),
        ];
        for (keyword, value) in options {
            config
                .set(keyword, &value)
                .map_err(|e| format!("{keyword} {value}: {e}"))?;
        }
        Ok(config)
    }

    /// The options that pass the same gate to the server process.
    pub fn server_args(&self, parallel: usize) -> Vec<String> {
        vec![
            "--max-startups".into(),
            self.max_startups_for(parallel),
            "--per-source-penalties".into(),
            self.per_source_penalties.clone(),
        ]
    }

    /// One line describing the gate, for the benchmark's output.
    pub fn describe(&self, parallel: usize) -> String {
        format!(
            "server gate: MaxStartups {}, PerSourcePenalties {}",
            self.max_startups_for(parallel),
            self.per_source_penalties
        )
    }
}

/// Raises the soft open-file limit to at least `need` (up to the hard limit), or explains
/// why it cannot.
pub fn raise_nofile(need: u64) -> Result<(), String> {
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
             raise it (ulimit -Hn) or lower the connection count"
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

/// A `/proc/<pid>/status` field in KiB (`VmRSS:`, `VmHWM:`); `pid` may be `self`.
pub fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of process `pid` (all its threads) in seconds, from
/// `/proc/<pid>/stat` (in `USER_HZ`, 100 per second on Linux).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces:
    // index 0 is field 3 (state), so utime (field 14) is 11 and stime (15) is 12.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// The gate counters as one `key=value` line (without the `gate ` prefix).
pub fn format_snapshot(s: &MetricsSnapshot) -> String {
    let penalties: u64 = s.penalties.iter().sum();
    format!(
        "accepted={} refused_max_startups={} refused_per_source={} refused_penalty={} \
         refused_max_connections={} refused_proxy_header={} unauthenticated={} \
         authenticated={} auth_successes={} auth_failures={} penalties={} \
         dropped_grace_exceeded={} dropped_flood={} dropped_idle={}",
        s.connections_accepted,
        s.refused_max_startups,
        s.refused_per_source,
        s.refused_penalty,
        s.refused_max_connections,
        s.refused_proxy_header,
        s.unauthenticated,
        s.authenticated,
        s.auth_successes,
        s.auth_failures,
        penalties,
        s.dropped_grace_exceeded,
        s.dropped_flood,
        s.dropped_idle,
    )
}

/// Reads back a [`format_snapshot`] line. The penalty total lands in the first slot (the
/// line carries only the sum); byte counters are not carried and stay 0.
pub fn parse_snapshot(line: &str) -> Option<MetricsSnapshot> {
    let mut s = MetricsSnapshot::default();
    for word in line.split_whitespace() {
        let (key, value) = word.split_once('=')?;
        let v: u64 = value.parse().ok()?;
        let slot = match key {
            "accepted" => &mut s.connections_accepted,
            "refused_max_startups" => &mut s.refused_max_startups,
            "refused_per_source" => &mut s.refused_per_source,
            "refused_penalty" => &mut s.refused_penalty,
            "refused_max_connections" => &mut s.refused_max_connections,
            "refused_proxy_header" => &mut s.refused_proxy_header,
            "unauthenticated" => &mut s.unauthenticated,
            "authenticated" => &mut s.authenticated,
            "auth_successes" => &mut s.auth_successes,
            "auth_failures" => &mut s.auth_failures,
            "penalties" => &mut s.penalties[0],
            "dropped_grace_exceeded" => &mut s.dropped_grace_exceeded,
            "dropped_flood" => &mut s.dropped_flood,
            "dropped_idle" => &mut s.dropped_idle,
            _ => return None,
        };
        *slot = v;
    }
    Some(s)
}

/// Every refusal the gate counted, whatever the reason.
pub fn total_refused(s: &MetricsSnapshot) -> u64 {
    s.refused_max_startups
        + s.refused_per_source
        + s.refused_penalty
        + s.refused_max_connections
        + s.refused_proxy_header
}

/// The server process's main: binds `addr` with `admission` as its gate, prints
/// `listening ADDR`, serves until stdin closes, then prints `gate <counters>`.
pub fn server_main(addr: &str, nofile: u64, admission: AdmissionConfig) -> ExitCode {
    if let Err(e) = raise_nofile(nofile) {
        eprintln!("server: {e}");
        return ExitCode::FAILURE;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let server = match Server::bind(addr, ServerConfig::new(vec![Arc::new(host_key())])) {
            Ok(s) => s.with_gate(Gate::new(admission, false)),
            Err(e) => {
                eprintln!("server: bind {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let gate = server.gate().clone();
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
        println!("gate {}", format_snapshot(&gate.metrics().snapshot()));
        ExitCode::SUCCESS
    })
}

/// The server, running as a child process of the benchmark.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    stdout: BufReader<ChildStdout>,
    pid: String,
    addr: String,
}

impl ServerProcess {
    /// Starts this executable with `args` (which must include `--server-only ADDR`) and
    /// waits for its `listening` line.
    pub fn spawn(args: &[String]) -> Result<ServerProcess, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current executable: {e}"))?;
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the server process: {e}"))?;
        let pid = child.id().to_string();
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the server's stdout is not piped".into());
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let Some(addr) = line.trim().strip_prefix("listening ").map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the server did not start: {line:?}"));
        };
        Ok(ServerProcess {
            child,
            stdout,
            pid,
            addr,
        })
    }

    /// The server's process id, as `/proc` names it.
    pub fn pid(&self) -> &str {
        &self.pid
    }

    /// The address it listens on.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Its resident memory (`VmRSS`) in KiB, 0 if unreadable.
    pub fn rss_kib(&self) -> u64 {
        status_kib(&self.pid, "VmRSS:").unwrap_or(0)
    }

    /// Its peak resident memory (`VmHWM`) in KiB, 0 if unreadable.
    pub fn hwm_kib(&self) -> u64 {
        status_kib(&self.pid, "VmHWM:").unwrap_or(0)
    }

    /// Its CPU time so far in seconds, 0 if unreadable.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.pid).unwrap_or(0.0)
    }

    /// Closes the server's stdin, reads its final `gate` line and waits for it to exit.
    pub fn finish(mut self) -> Result<MetricsSnapshot, String> {
        drop(self.child.stdin.take());
        let mut found = None;
        let mut line = String::new();
        loop {
            line.clear();
            match self.stdout.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Some(rest) = line.trim().strip_prefix("gate ") {
                        found = parse_snapshot(rest);
                    }
                }
            }
        }
        let status = self.child.wait().map_err(|e| format!("server: {e}"))?;
        if !status.success() {
            return Err(format!("the server exited with {status}"));
        }
        found.ok_or_else(|| "the server printed no gate counters".to_owned())
    }
}

/// The client configuration: the fixed user key, the host key pinned by fingerprint.
pub fn client_config() -> ClientConfig {
    ClientConfig::new("bench")
        .host_key_policy(HostKeyPolicy::Fingerprint(
            host_key().public_key().fingerprint(),
        ))
        .key(user_key())
}

/// Connects, logs in, runs `echo hi` and checks it; returns the open session.
pub async fn open_one(addr: &str) -> Result<Session, String> {
    let session = Client::connect(addr, client_config())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    check_exec(&session).await?;
    Ok(session)
}

/// Runs `echo hi` on `session` and checks for `hi\n` and exit status 0.
pub async fn check_exec(session: &Session) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_startups: Option<&str>, penalties: &str) -> GateArgs {
        GateArgs {
            max_startups: max_startups.map(str::to_owned),
            per_source_penalties: penalties.to_owned(),
        }
    }

    #[test]
    fn default_gate_is_above_the_parallelism_with_penalties_off() {
        let args = gate(None, "no");
        assert_eq!(args.max_startups_for(64), "128:30:256");
        let config = args.admission(64).expect("valid");
        assert_eq!(config.max_startups.start, 128);
        assert_eq!(config.max_startups.full, 256);
        // Below `start`, nothing is ever dropped.
        assert_eq!(config.max_startups.drop_percent(64), 0);
        assert!(!config.per_source_penalties.enabled);
        assert_eq!(
            args.server_args(64),
            [
                "--max-startups",
                "128:30:256",
                "--per-source-penalties",
                "no"
            ]
        );
    }

    #[test]
    fn explicit_gate_options_are_parsed_with_sshd_syntax() {
        let config = gate(Some("5:50:20"), "yes").admission(64).expect("valid");
        assert_eq!(config.max_startups.start, 5);
        assert_eq!(config.max_startups.rate, 50);
        assert!(config.per_source_penalties.enabled);
        let err = gate(Some("banana"), "no").admission(1).unwrap_err();
        assert!(err.starts_with("MaxStartups banana"), "{err}");
        assert!(gate(None, "sometimes").admission(1).is_err());
    }

    #[test]
    fn snapshot_line_round_trips() {
        let mut s = MetricsSnapshot {
            connections_accepted: 100_000,
            refused_max_startups: 1,
            refused_per_source: 2,
            refused_penalty: 3,
            refused_max_connections: 4,
            refused_proxy_header: 5,
            unauthenticated: 6,
            authenticated: 7,
            auth_successes: 8,
            auth_failures: 9,
            dropped_grace_exceeded: 10,
            dropped_flood: 11,
            dropped_idle: 12,
            ..MetricsSnapshot::default()
        };
        s.penalties[0] = 13;
        let line = format_snapshot(&s);
        assert_eq!(parse_snapshot(&line), Some(s));
        assert_eq!(total_refused(&s), 15);
        assert_eq!(parse_snapshot("accepted=x"), None);
        assert_eq!(parse_snapshot("unknown=1"), None);
    }

    #[test]
    fn cpu_seconds_reads_this_process() {
        // This process has run at least its own startup; the figure must parse.
        assert!(cpu_seconds("self").is_some_and(|s| s >= 0.0));
        assert!(status_kib("self", "VmRSS:").is_some_and(|k| k > 0));
    }
}
