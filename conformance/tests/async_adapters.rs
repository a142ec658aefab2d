//! The async adapters (`seashell-tokio`, `seashell-smol`) against a private OpenSSH sshd and
//! against our own async server: the interop exec case, many channels streaming at once in
//! both directions with random read and write sizes (byte-exact), and a slow reader that
//! must not stall the other channels nor grow memory past its window.
//!
//! Case names are `async_adapters/<runtime>/<test>`. `SEASHELL_ASYNC_STRESS=1` raises the
//! streaming load from 8 channels × 4 MiB to 32 channels × 32 MiB.

// The shared types are the same in both bindings (both re-export seashell-async's).
use seashell_conformance::{
    KeyKind, Sshd, SshdOptions, skip_if_disabled, start_sshd, with_timeout,
};
use seashell_tokio::proto::{
    AuthAttempt, AuthDecision, PrivateKey, PublicKey, ServerConfig, SessionRequestKind,
};
use seashell_tokio::{
    ClientConfig, ExitStatus, Handler, HostKeyPolicy, Output, ServerChannel, StrictHostKeyChecking,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(120);
const MIB: usize = 1 << 20;
/// The core's default channel window: what a slow reader may hold at most.
const WINDOW: usize = 2 * MIB;
/// How much the slow channel's command writes.
const SLOW_TOTAL: usize = 8 * MIB;

/// Channels and bytes per channel for the streaming tests.
fn load() -> (usize, usize) {
    match std::env::var("SEASHELL_ASYNC_STRESS") {
        Ok(v) if v == "1" => (32, 32 * MIB),
        _ => (8, 4 * MIB),
    }
}

/// xorshift64*: deterministic sizes and payloads.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A size in `1..=max`, mostly small, sometimes large.
    fn size(&mut self, max: usize) -> usize {
        let cap = if self.next().is_multiple_of(8) {
            max
        } else {
            max / 16
        };
        1 + (self.next() as usize) % cap.max(1)
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }
}

/// The sshd login: ed25519 user key, strict known_hosts.
fn sshd_config(sshd: &Sshd) -> ClientConfig {
    let config = ClientConfig::new(sshd.login_user()).host_key_policy(HostKeyPolicy::KnownHosts {
        files: vec![sshd.known_hosts_file()],
        strict: StrictHostKeyChecking::Yes,
    });
    rekeying(config)
        .key_file(sshd.user_key(KeyKind::Ed25519))
        .unwrap_or_else(|e| panic!("loading the user key: {e}"))
}

/// Rekeys every 8 MiB, so key exchanges run while every channel streams (writes held
/// during each exchange must resume on `Writable`).
fn rekeying(config: ClientConfig) -> ClientConfig {
    config.with_core(|mut c| {
        c.rekey_bytes = 8 * MIB as u64;
        c
    })
}

/// An sshd that allows enough sessions per connection for the streaming tests.
fn sshd() -> Option<Sshd> {
    start_sshd(SshdOptions {
        extra_config: vec!["MaxSessions 64".into()],
        ..SshdOptions::default()
    })
}

/// A random short time after which an operation is abandoned.
fn cancel_after(rng: &mut Rng) -> Duration {
    Duration::from_micros(rng.next() % 300)
}

fn fixed_key(seed: u8) -> PrivateKey {
    PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap_or_else(|e| panic!("fixed key: {e}"))
}

/// Our server: host key 1, user key 2, room for the stress load.
fn own_server_config() -> ServerConfig {
    let mut config = ServerConfig::new(vec![Arc::new(fixed_key(1))]);
    config.max_sessions = 64;
    config
}

fn own_client_config() -> ClientConfig {
    let fp = fixed_key(1).public_key().fingerprint();
    rekeying(ClientConfig::new("tester"))
        .host_key_policy(HostKeyPolicy::Fingerprint(fp))
        .key(fixed_key(2))
}

type Spawn = Arc<dyn Fn(Pin<Box<dyn Future<Output = ()> + Send>>) + Send + Sync>;

/// Our server's commands: `cat` (echo stdin with random sizes), `zeros N`, and the interop
/// case `echo out; echo err >&2; exit 3` emulated without a shell. Streams through
/// futures-io traits, which the channel types implement under both runtimes.
struct TestHandler {
    user: PublicKey,
    spawn: Spawn,
}

impl Handler for TestHandler {
    fn auth(&mut self, _: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::PublicKeyQuery { key, .. } | AuthAttempt::PublicKey { key, .. }
                if *key == self.user =>
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
        let cmd = String::from_utf8_lossy(cmd).into_owned();
        let ch = channel.clone();
        (self.spawn)(Box::pin(async move {
            let status = run_command(&ch, &cmd).await.map_or(255, |s| s);
            ch.exit(status);
        }));
        true
    }
}

async fn run_command(ch: &ServerChannel, cmd: &str) -> std::io::Result<u32> {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let (mut stdin, mut stdout) = (ch.stdin(), ch.stdout());
    if cmd == "cat" {
        let mut rng = Rng::new(cmd.len() as u64 + u64::from(ch.id().index()));
        let mut buf = vec![0; 128 * 1024];
        loop {
            let want = rng.size(buf.len());
            let n = stdin.read(&mut buf[..want]).await?;
            if n == 0 {
                return Ok(0);
            }
            stdout.write_all(&buf[..n]).await?;
        }
    } else if let Some(n) = cmd.strip_prefix("zeros ") {
        let total: usize = n.parse().unwrap_or(0);
        let buf = vec![0; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            let k = buf.len().min(total - sent);
            stdout.write_all(&buf[..k]).await?;
            sent += k;
        }
        Ok(0)
    } else if cmd == "echo out; echo err >&2; exit 3" {
        stdout.write_all(b"out\n").await?;
        ch.stderr().write_all(b"err\n").await?;
        Ok(3)
    } else {
        Ok(127)
    }
}

fn check_out_err_exit3(out: &Output) -> Result<(), String> {
    let got = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    if got.0 != "out\n" || got.1 != "err\n" || out.status != ExitStatus::Code(3) {
        return Err(format!(
            "got stdout {:?}, stderr {:?}, status {:?}; want \"out\\n\", \"err\\n\", Code(3)",
            got.0, got.1, out.status
        ));
    }
    Ok(())
}

/// After the other channels are done, the unread channel still holds exactly its window;
/// then it gives all its bytes.
async fn drain_idle(mut idle: seashell_tokio::Channel) -> Result<(), String> {
    use futures_lite::AsyncReadExt;
    let held = idle.buffered();
    if held != WINDOW {
        return Err(format!(
            "the unread channel holds {held} bytes, want its window, {WINDOW}"
        ));
    }
    let mut all = Vec::new();
    idle.read_to_end(&mut all)
        .await
        .map_err(|e| e.to_string())?;
    if all.len() != SLOW_TOTAL || all.iter().any(|&b| b != 0) {
        return Err(format!("the slow channel gave {} bytes", all.len()));
    }
    Ok(())
}

fn slow_command(own: bool) -> String {
    if own {
        format!("zeros {SLOW_TOTAL}")
    } else {
        format!("head -c {SLOW_TOTAL} /dev/zero")
    }
}

/// The tokio side: channels used through tokio's `AsyncRead`/`AsyncWrite`.
mod on_tokio {
    use super::*;
    use seashell_tokio::{Client, Server, Session};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
    }

    /// Starts our server on a free port; returns its address.
    pub fn own_server() -> String {
        let server = Server::bind("127.0.0.1:0", own_server_config())
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = server
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let spawn: Spawn = Arc::new(|f| {
            tokio::spawn(f);
        });
        tokio::spawn(async move {
            let user = fixed_key(2).public_key();
            let _ = server
                .run(move |_| TestHandler {
                    user: user.clone(),
                    spawn: spawn.clone(),
                })
                .await;
        });
        addr
    }

    /// Streams `total` bytes through `cat` on a new channel: one task writes, this one
    /// reads, both with random sizes; the echo must be byte-exact.
    pub async fn echo(session: Session, seed: u64, total: usize) -> Result<(), String> {
        let ch = session
            .channel_exec("cat")
            .await
            .map_err(|e| e.to_string())?;
        let mut w = ch.clone();
        let writer = tokio::spawn(async move {
            let (mut sizes, mut data) = (Rng::new(seed ^ 0x5a5a), Rng::new(seed));
            let mut buf = vec![0; 256 * 1024];
            let mut sent = 0;
            while sent < total {
                let n = sizes.size(buf.len()).min(total - sent);
                data.fill(&mut buf[..n]);
                let mut at = 0;
                while at < n {
                    // Some writes are cancelled by a short timeout: nothing may be lost.
                    let write = w.write(&buf[at..n]);
                    let r = match sizes.next() % 4 {
                        0 => tokio::time::timeout(cancel_after(&mut sizes), write)
                            .await
                            .ok(),
                        _ => Some(write.await),
                    };
                    match r {
                        Some(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                        Some(Ok(k)) => at += k,
                        Some(Err(e)) => return Err(e),
                        None => {}
                    }
                }
                sent += n;
            }
            w.shutdown().await
        });
        let (mut sizes, mut data) = (Rng::new(seed ^ 0xa5a5), Rng::new(seed));
        let (mut buf, mut want) = (vec![0; 256 * 1024], vec![0; 256 * 1024]);
        let mut got = 0;
        let mut r = &ch;
        loop {
            let n = sizes.size(buf.len());
            // Some reads are cancelled by a short timeout: nothing may be lost.
            let read = r.read(&mut buf[..n]);
            let k = match sizes.next() % 4 {
                0 => match tokio::time::timeout(cancel_after(&mut sizes), read).await {
                    Ok(k) => k,
                    Err(_) => continue,
                },
                _ => read.await,
            };
            let k = k.map_err(|e| e.to_string())?;
            if k == 0 {
                break;
            }
            data.fill(&mut want[..k]);
            if buf[..k] != want[..k] {
                return Err(format!("channel {seed}: bytes differ after offset {got}"));
            }
            got += k;
        }
        match writer.await {
            Ok(Ok(())) => {}
            other => return Err(format!("channel {seed}: writer: {other:?}")),
        }
        if got != total {
            return Err(format!("channel {seed}: got {got} bytes, want {total}"));
        }
        match ch.wait().await {
            Ok(ExitStatus::Code(0)) => Ok(()),
            other => Err(format!("channel {seed}: status {other:?}")),
        }
    }

    /// Many channels at once, while a channel running `slow` is not read until they are
    /// done: it must hold no more than its window and not stall them.
    pub async fn streams(session: Session, slow: &str) -> Result<(), String> {
        let (channels, total) = load();
        let idle = session
            .channel_exec(slow)
            .await
            .map_err(|e| e.to_string())?;
        // The unread channel first fills its window; then the others must still stream.
        let deadline = Instant::now() + Duration::from_secs(10);
        while idle.buffered() < WINDOW && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let tasks: Vec<_> = (0..channels as u64)
            .map(|i| tokio::spawn(echo(session.clone(), i + 1, total)))
            .collect();
        for t in tasks {
            t.await.map_err(|e| e.to_string())??;
        }
        if session.key_exchanges() < 2 {
            return Err("no key re-exchange ran during the streams".into());
        }
        drain_idle(idle).await
    }

    pub fn run<F: Future<Output = Result<(), String>> + Send + 'static>(
        case: &'static str,
        f: impl FnOnce() -> F + Send + 'static,
    ) {
        if skip_if_disabled(case) {
            return;
        }
        let r = with_timeout(LIMIT, case, move || {
            runtime().block_on(async move { f().await })
        });
        if let Err(e) = r {
            panic!("{case}: {e}");
        }
    }

    pub async fn login(addr: String, config: ClientConfig) -> Result<Session, String> {
        Client::connect(&addr, config)
            .await
            .map_err(|e| format!("login: {e}"))
    }

    /// The interop exec case, then again after channel opens cancelled at random points.
    pub async fn exec_checks(session: &Session) -> Result<(), String> {
        let case = "echo out; echo err >&2; exit 3";
        check_out_err_exit3(&session.exec(case).await.map_err(|e| e.to_string())?)?;
        for micros in [0, 50, 200, 1000, 3000] {
            let open = session.channel_exec("cat");
            let _ = tokio::time::timeout(Duration::from_micros(micros), open).await;
        }
        check_out_err_exit3(&session.exec(case).await.map_err(|e| e.to_string())?)
    }
}

/// The smol side: channels used through futures-io's `AsyncRead`/`AsyncWrite`.
mod on_smol {
    use super::*;
    use futures_lite::future::or;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use seashell_smol::{Client, Server, Session};

    /// Resolves to `None` after `d`.
    async fn expire<T>(d: Duration) -> Option<T> {
        smol::Timer::after(d).await;
        None
    }

    pub fn own_server() -> String {
        let server = Server::bind("127.0.0.1:0", own_server_config())
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = server
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let spawn: Spawn = Arc::new(|f| smol::spawn(f).detach());
        smol::spawn(async move {
            let user = fixed_key(2).public_key();
            let _ = server
                .run(move |_| TestHandler {
                    user: user.clone(),
                    spawn: spawn.clone(),
                })
                .await;
        })
        .detach();
        addr
    }

    pub async fn echo(session: Session, seed: u64, total: usize) -> Result<(), String> {
        let ch = session
            .channel_exec("cat")
            .await
            .map_err(|e| e.to_string())?;
        let mut w = ch.clone();
        let writer = smol::spawn(async move {
            let (mut sizes, mut data) = (Rng::new(seed ^ 0x5a5a), Rng::new(seed));
            let mut buf = vec![0; 256 * 1024];
            let mut sent = 0;
            while sent < total {
                let n = sizes.size(buf.len()).min(total - sent);
                data.fill(&mut buf[..n]);
                let mut at = 0;
                while at < n {
                    // Some writes are cancelled by a short timer: nothing may be lost.
                    let write = async { Some(w.write(&buf[at..n]).await) };
                    let r = match sizes.next() % 4 {
                        0 => or(write, expire(cancel_after(&mut sizes))).await,
                        _ => write.await,
                    };
                    match r {
                        Some(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                        Some(Ok(k)) => at += k,
                        Some(Err(e)) => return Err(e),
                        None => {}
                    }
                }
                sent += n;
            }
            AsyncWriteExt::close(&mut w).await
        });
        let (mut sizes, mut data) = (Rng::new(seed ^ 0xa5a5), Rng::new(seed));
        let (mut buf, mut want) = (vec![0; 256 * 1024], vec![0; 256 * 1024]);
        let mut got = 0;
        let mut r = &ch;
        loop {
            let n = sizes.size(buf.len());
            // Some reads are cancelled by a short timer: nothing may be lost.
            let read = async { Some(r.read(&mut buf[..n]).await) };
            let k = match sizes.next() % 4 {
                0 => match or(read, expire(cancel_after(&mut sizes))).await {
                    Some(k) => k,
                    None => continue,
                },
                _ => read.await.unwrap_or(Ok(0)),
            };
            let k = k.map_err(|e| e.to_string())?;
            if k == 0 {
                break;
            }
            data.fill(&mut want[..k]);
            if buf[..k] != want[..k] {
                return Err(format!("channel {seed}: bytes differ after offset {got}"));
            }
            got += k;
        }
        writer
            .await
            .map_err(|e| format!("channel {seed}: writer: {e}"))?;
        if got != total {
            return Err(format!("channel {seed}: got {got} bytes, want {total}"));
        }
        match ch.wait().await {
            Ok(ExitStatus::Code(0)) => Ok(()),
            other => Err(format!("channel {seed}: status {other:?}")),
        }
    }

    pub async fn streams(session: Session, slow: &str) -> Result<(), String> {
        let (channels, total) = load();
        let idle = session
            .channel_exec(slow)
            .await
            .map_err(|e| e.to_string())?;
        // The unread channel first fills its window; then the others must still stream.
        let deadline = Instant::now() + Duration::from_secs(10);
        while idle.buffered() < WINDOW && Instant::now() < deadline {
            smol::Timer::after(Duration::from_millis(10)).await;
        }
        let tasks: Vec<_> = (0..channels as u64)
            .map(|i| smol::spawn(echo(session.clone(), i + 1, total)))
            .collect();
        for t in tasks {
            t.await?;
        }
        if session.key_exchanges() < 2 {
            return Err("no key re-exchange ran during the streams".into());
        }
        drain_idle(idle).await
    }

    pub fn run<F: Future<Output = Result<(), String>> + Send + 'static>(
        case: &'static str,
        f: impl FnOnce() -> F + Send + 'static,
    ) {
        if skip_if_disabled(case) {
            return;
        }
        if let Err(e) = with_timeout(LIMIT, case, move || smol::block_on(f())) {
            panic!("{case}: {e}");
        }
    }

    pub async fn login(addr: String, config: ClientConfig) -> Result<Session, String> {
        Client::connect(&addr, config)
            .await
            .map_err(|e| format!("login: {e}"))
    }

    /// The interop exec case, then again after channel opens cancelled at random points.
    pub async fn exec_checks(session: &Session) -> Result<(), String> {
        let case = "echo out; echo err >&2; exit 3";
        check_out_err_exit3(&session.exec(case).await.map_err(|e| e.to_string())?)?;
        for micros in [0, 50, 200, 1000, 3000] {
            let open = async { Some(session.channel_exec("cat").await) };
            let _ = or(open, expire(Duration::from_micros(micros))).await;
        }
        check_out_err_exit3(&session.exec(case).await.map_err(|e| e.to_string())?)
    }
}

#[test]
fn tokio_sshd_exec_and_streams() {
    let Some(sshd) = sshd() else { return };
    let (addr, config) = (sshd.addr(), sshd_config(&sshd));
    on_tokio::run("async_adapters/tokio/sshd", move || async move {
        let session = on_tokio::login(addr, config).await?;
        on_tokio::exec_checks(&session).await?;
        on_tokio::streams(session, &slow_command(false)).await
    });
    drop(sshd);
}

#[test]
fn smol_sshd_exec_and_streams() {
    let Some(sshd) = sshd() else { return };
    let (addr, config) = (sshd.addr(), sshd_config(&sshd));
    on_smol::run("async_adapters/smol/sshd", move || async move {
        let session = on_smol::login(addr, config).await?;
        on_smol::exec_checks(&session).await?;
        on_smol::streams(session, &slow_command(false)).await
    });
    drop(sshd);
}

#[test]
fn tokio_own_server_exec_and_streams() {
    on_tokio::run("async_adapters/tokio/own_server", || async {
        let addr = on_tokio::own_server();
        let session = on_tokio::login(addr, own_client_config()).await?;
        on_tokio::exec_checks(&session).await?;
        on_tokio::streams(session, &slow_command(true)).await
    });
}

#[test]
fn smol_own_server_exec_and_streams() {
    on_smol::run("async_adapters/smol/own_server", || async {
        let addr = on_smol::own_server();
        let session = on_smol::login(addr, own_client_config()).await?;
        on_smol::exec_checks(&session).await?;
        on_smol::streams(session, &slow_command(true)).await
    });
}
