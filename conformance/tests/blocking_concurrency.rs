//! The blocking adapter under concurrency: one `seashell_blocking::Session`, many channels
//! streaming through `cat` at the same time, one thread per channel.
//!
//! Peers: a private OpenSSH sshd (its `cat`) and the in-process `seashell_blocking::Server`
//! (a handler thread that copies stdin to stdout). 8 channels of 4 MiB each; with
//! `SEASHELL_BLOCKING_STRESS=1`, 32 channels of 32 MiB.
//!
//! Each thread writes pseudo-random data in random-sized chunks and reads the echo in
//! random-sized reads, interleaving the two; the SHA-256 of every 1 MiB block of the echo
//! must equal that of the input (byte-exact, with bounded memory), then EOF, exit status 0.
//!
//! Each thread keeps at most `IN_FLIGHT` bytes written and not yet read back. The connection
//! has its own I/O thread and a blocked `read` or `write` waits only for its own stream, so
//! that rule is not needed for progress; it bounds the memory each channel holds. Two more cases use what the
//! I/O thread makes possible: a writer thread and a reader thread on the same channel
//! (`cat` of 64 MiB, byte-exact), and a channel whose reader is blocked on a silent command
//! while another channel of the session streams.

use seashell_blocking::{
    Channel, Client, ClientConfig, ExitStatus, Handler, HostKeyPolicy, Server, ServerChannel,
    Session,
};
use seashell_conformance::{KeyKind, SshdOptions, key_config, start_sshd, with_timeout};
use seashell_proto::crypto::sha256;
use seashell_proto::{AuthAttempt, AuthDecision, PrivateKey, ServerConfig, SessionRequestKind};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most bytes a thread has written and not yet read back.
const IN_FLIGHT: usize = 512 * 1024;
/// Largest single write and read.
const MAX_CHUNK: usize = 96 * 1024;
/// Hash block: the echo is compared block by block.
const BLOCK: usize = 1024 * 1024;

/// Channels and bytes per channel: 8 × 4 MiB, or 32 × 32 MiB under stress.
fn shape() -> (usize, usize) {
    if std::env::var("SEASHELL_BLOCKING_STRESS").is_ok_and(|v| v == "1") {
        (32, 32 * 1024 * 1024)
    } else {
        (8, 4 * 1024 * 1024)
    }
}

/// splitmix64: reproducible data and chunk sizes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A size in `1..=max`, skewed towards small ones half of the time.
    fn size(&mut self, max: usize) -> usize {
        let r = self.next();
        let cap = if r & 1 == 0 { max } else { max.min(4096) };
        1 + (r >> 8) as usize % cap
    }
}

/// The input of channel `seed`: byte `pos` depends only on `(seed, pos)`, so the stream is
/// the same however it is cut into writes.
fn fill(seed: u64, pos: usize, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        let p = (pos + i) as u64;
        let word = Rng(seed.wrapping_mul(0x1000_0000_01b3) ^ (p / 8)).next();
        *b = (word >> (8 * (p % 8))) as u8;
    }
}

/// SHA-256 of each `BLOCK`-sized block of a stream (the last one may be short).
#[derive(Default)]
struct BlockHashes {
    pending: Vec<u8>,
    digests: Vec<[u8; 32]>,
    total: usize,
}

impl BlockHashes {
    fn update(&mut self, mut data: &[u8]) {
        self.total += data.len();
        while !data.is_empty() {
            let k = (BLOCK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..k]);
            data = &data[k..];
            if self.pending.len() == BLOCK {
                self.digests.push(sha256(&self.pending));
                self.pending.clear();
            }
        }
    }

    fn finish(mut self) -> (usize, Vec<[u8; 32]>) {
        if !self.pending.is_empty() {
            self.digests.push(sha256(&self.pending));
        }
        (self.total, self.digests)
    }
}

/// Streams `len` bytes through `cat` on a fresh channel of `session`, interleaving writes
/// and reads on this thread as the module documentation describes. Returns the SHA-256 of
/// the list of block digests (equal on both sides).
fn stream_through_cat(session: &Session, seed: u64, len: usize) -> [u8; 32] {
    let mut ch: Channel = session.channel_exec("cat").expect("exec cat");
    let mut sizes = Rng(seed ^ 0x5555_5555);
    let (mut sent_hash, mut got_hash) = (BlockHashes::default(), BlockHashes::default());
    let (mut sent, mut got, mut eof_sent) = (0usize, 0usize, false);
    // Generated input not yet accepted by a (possibly partial) write.
    let mut unsent: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; MAX_CHUNK];
    while got < len {
        let in_flight = sent - got;
        let may_write = sent < len && in_flight < IN_FLIGHT;
        // Write while allowed (and half the time even when a read would also do), read
        // otherwise: reads happen only with bytes in flight.
        if may_write && (in_flight == 0 || sizes.next() & 1 == 0) {
            if unsent.is_empty() {
                let k = sizes.size(MAX_CHUNK).min(len - sent);
                unsent.resize(k, 0);
                fill(seed, sent, &mut unsent);
            }
            let room = IN_FLIGHT - in_flight;
            let k = unsent.len().min(room);
            let n = ch.write(&unsent[..k]).expect("write stdin");
            assert!(n > 0, "write accepted nothing");
            sent_hash.update(&unsent[..n]);
            unsent.drain(..n);
            sent += n;
            if sent == len && !eof_sent {
                ch.send_eof().expect("send eof");
                eof_sent = true;
            }
        } else {
            let k = sizes.size(MAX_CHUNK).min(in_flight);
            let n = ch.read(&mut buf[..k]).expect("read stdout");
            assert!(n > 0, "EOF after {got} of {len} bytes (sent {sent})");
            got_hash.update(&buf[..n]);
            got += n;
        }
    }
    assert!(eof_sent);
    let n = ch.read(&mut buf).expect("read to EOF");
    assert_eq!(n, 0, "more output than input");
    assert_eq!(ch.wait().expect("wait"), ExitStatus::Code(0));
    let (sent_total, sent_digests) = sent_hash.finish();
    let (got_total, got_digests) = got_hash.finish();
    assert_eq!((sent_total, got_total), (len, len));
    for (i, (a, b)) in sent_digests.iter().zip(&got_digests).enumerate() {
        assert_eq!(a, b, "channel {seed}: block {i} of the echo differs");
    }
    assert_eq!(sent_digests.len(), got_digests.len());
    sha256(&got_digests.concat())
}

/// Runs every channel of `shape()` on its own thread over `session`, concurrently.
fn run_all(session: Session, what: &'static str) {
    let (channels, len) = shape();
    let started = Instant::now();
    let digests: Vec<[u8; 32]> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..channels)
            .map(|i| {
                let session = &session;
                std::thread::Builder::new()
                    .name(format!("{what}-{i}"))
                    .spawn_scoped(s, move || stream_through_cat(session, i as u64 + 1, len))
                    .expect("thread")
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{what}: {channels} channels x {} MiB byte-exact in {secs:.2} s ({:.0} MiB/s each way); \
         channel 1 digest {}",
        len >> 20,
        (channels * len) as f64 / 1048576.0 / secs,
        digests.first().map(hex).unwrap_or_default()
    );
    println!(
        "{what}: {} key exchange(s) on the connection",
        session.key_exchanges()
    );
    // The session is still usable after the storm.
    stream_through_cat(&session, 0, 1000);
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn limit() -> Duration {
    let (channels, len) = shape();
    // 120 s for the default shape; generous under stress (1 GiB each way).
    Duration::from_secs(120).max(Duration::from_secs((channels * len / (4 << 20)) as u64 * 2))
}

#[test]
fn many_channels_through_sshd_cat() {
    let opts = SshdOptions {
        // OpenSSH allows 10 sessions per connection by default.
        extra_config: vec!["MaxSessions 64".into()],
        ..SshdOptions::default()
    };
    let Some(sshd) = start_sshd(opts) else { return };
    let config = key_config(&sshd, KeyKind::Ed25519);
    let addr = sshd.addr();
    with_timeout(limit(), "blocking channels through sshd", move || {
        let session = Client::connect(&addr, config).expect("login");
        run_all(session, "sshd");
        drop(sshd);
    });
}

/// Copies stdin to stdout in chunks as they come, then exits 0 on EOF.
struct Cat;

impl Handler for Cat {
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::Password(pw) if user == "me" && pw.as_str() == "pw" => {
                AuthDecision::Accept
            }
            _ => AuthDecision::Reject,
        }
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        if !matches!(request, SessionRequestKind::Exec(_)) {
            return false;
        }
        let ch = channel.clone();
        std::thread::spawn(move || {
            let (mut stdin, mut stdout) = (ch.stdin(), ch.stdout());
            let mut buf = vec![0u8; 64 * 1024];
            let ok = loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break true,
                    Ok(n) => {
                        if stdout.write_all(&buf[..n]).is_err() {
                            break false;
                        }
                    }
                    Err(_) => break false,
                }
            };
            ch.eof();
            ch.exit(if ok { 0 } else { 1 });
        });
        true
    }
}

#[test]
fn many_channels_through_our_server() {
    let host_key = Arc::new(PrivateKey::ed25519_generate().expect("host key"));
    let fingerprint = host_key.public_key().fingerprint();
    let mut server_config = ServerConfig::new(vec![host_key]);
    // Like OpenSSH, the server allows 10 sessions per connection by default.
    server_config.max_sessions = 64;
    let server = Server::bind("127.0.0.1:0", server_config).expect("bind");
    let addr = server.local_addr().expect("address").to_string();
    std::thread::spawn(move || server.run(|_| Cat));
    let config = ClientConfig::new("me")
        .password("pw")
        .host_key_policy(HostKeyPolicy::Fingerprint(fingerprint));
    with_timeout(limit(), "blocking channels through our server", move || {
        let session = Client::connect(&addr, config).expect("login");
        run_all(session, "seashell-server");
    });
}

/// One thread writes `len` bytes into `cat` while another reads the echo: the writer blocks
/// on the window and the reader on its data, independently.
fn writer_and_reader_threads(session: &Session, len: usize) {
    let ch: Channel = session.channel_exec("cat").expect("exec cat");
    let writer = ch.clone();
    let sent = std::thread::spawn(move || {
        let mut hashes = BlockHashes::default();
        let mut buf = vec![0u8; MAX_CHUNK];
        let mut pos = 0;
        let mut w = &writer;
        while pos < len {
            let k = MAX_CHUNK.min(len - pos);
            fill(7, pos, &mut buf[..k]);
            w.write_all(&buf[..k]).expect("write stdin");
            hashes.update(&buf[..k]);
            pos += k;
        }
        writer.send_eof().expect("send eof");
        hashes.finish()
    });
    let mut got = BlockHashes::default();
    let mut buf = vec![0u8; MAX_CHUNK];
    let mut r = &ch;
    loop {
        let n = r.read(&mut buf).expect("read stdout");
        if n == 0 {
            break;
        }
        got.update(&buf[..n]);
    }
    let sent = sent.join().expect("writer thread");
    assert_eq!(got.finish(), sent, "the echo differs from the input");
    assert_eq!(ch.wait().expect("wait"), ExitStatus::Code(0));
}

#[test]
fn writer_and_reader_threads_on_one_channel_and_a_blocked_reader_stalls_nobody() {
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let config = key_config(&sshd, KeyKind::Ed25519);
    let addr = sshd.addr();
    with_timeout(Duration::from_secs(120), "blocking threads", move || {
        let session = Client::connect(&addr, config).expect("login");
        // A reader blocked on a command that prints only when told to (after the stream).
        let mut silent: Channel = session
            .channel_exec("read line; echo late")
            .expect("exec silent");
        let blocked = silent.clone();
        let waiter = std::thread::spawn(move || {
            let mut out = String::new();
            let mut r = &blocked;
            r.read_to_string(&mut out).expect("read silent");
            out
        });
        let started = Instant::now();
        writer_and_reader_threads(&session, 64 << 20);
        println!(
            "64 MiB through cat with a writer and a reader thread in {:.2} s, \
             while another thread was blocked reading a silent channel",
            started.elapsed().as_secs_f64()
        );
        assert!(!waiter.is_finished(), "the silent channel printed early");
        silent.write_all(b"go\n").expect("write silent");
        assert_eq!(waiter.join().expect("waiter"), "late\n");
        assert_eq!(silent.wait().expect("wait"), ExitStatus::Code(0));
        drop(sshd);
    });
}
