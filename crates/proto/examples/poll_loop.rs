//! The sans-I/O core in a hand-written `poll(2)` loop: no async runtime, no threads, no
//! adapter crate. It shows everything an embedding has to do.
//!
//! ```text
//! cargo run -p seashell-proto --example poll_loop -- HOST:PORT USER KEY_FILE 'uname -a'
//! ```
//!
//! The host key must be in `~/.ssh/known_hosts` (or in the file named by `KNOWN_HOSTS`).
//! The remote command's stdout and stderr are copied to ours, and its exit status becomes
//! ours.
//!
//! The loop is the core's contract: after any input (`feed`, `feed_eof`, `handle_timeout`)
//! or command, drain `poll_transmit`, then read `poll_timeout`, then drain `poll_event`;
//! then sleep in `poll(2)` until the socket is readable (or writable, while output waits)
//! or the core's deadline passes.
// The core never reads a clock; its embedder does, and this is the embedder.
#![allow(clippy::disallowed_methods)]

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use seashell_keys::{HostKeyStatus, KnownHosts};
use seashell_proto::{AuthMethod, ChannelId, ClientConfig, ClientConnection, Event};
use std::error::Error;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// What the application (this example) wants next, and what it learned.
struct App {
    key: Arc<seashell_proto::PrivateKey>,
    command: String,
    host: String,
    port: u16,
    known_hosts: PathBuf,
    key_tried: bool,
    status: Option<i32>,
    eof: bool,
    done: bool,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, user, key_file, rest @ ..] = args.as_slice() else {
        return Err("usage: poll_loop HOST:PORT USER KEY_FILE [COMMAND]".into());
    };
    let (host, port) = match addr.rsplit_once(':') {
        Some((h, p)) => (h.trim_matches(['[', ']']).to_owned(), p.parse()?),
        None => (addr.clone(), 22),
    };
    let known_hosts = std::env::var_os("KNOWN_HOSTS").map_or_else(
        || {
            std::env::home_dir()
                .unwrap_or_default()
                .join(".ssh/known_hosts")
        },
        PathBuf::from,
    );
    let mut app = App {
        key: Arc::new(seashell_keys::load_private_key(key_file.as_ref())?),
        command: rest.first().cloned().unwrap_or_else(|| "uname -a".into()),
        host,
        port,
        known_hosts,
        key_tried: false,
        status: None,
        eof: false,
        done: false,
    };

    let mut sock = TcpStream::connect((app.host.as_str(), app.port))?;
    sock.set_nodelay(true)?;
    sock.set_nonblocking(true)?;
    let mut conn =
        ClientConnection::new(Arc::new(ClientConfig::new(user.as_str())), Instant::now())?;
    let mut out: Vec<u8> = Vec::new(); // wire bytes the socket has not taken yet
    let mut buf = vec![0u8; 64 * 1024];

    loop {
        // 1. Output: everything the core queued, as far as the socket takes it.
        conn.poll_transmit(&mut out);
        while !out.is_empty() {
            match sock.write(&out) {
                Ok(n) => drop(out.drain(..n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
        // 2. Events. Commands issued here queue more output: go round again first.
        let mut acted = false;
        while let Some(ev) = conn.poll_event() {
            acted = true;
            on_event(&mut conn, &mut app, ev)?;
        }
        if acted {
            continue;
        }
        if app.done && out.is_empty() {
            break;
        }
        // 3. Sleep until the socket is ready or the core's next deadline.
        let deadline = conn.poll_timeout();
        let timeout = deadline
            .map(|d| Timespec::try_from(d.saturating_duration_since(Instant::now())))
            .transpose()?;
        let mut flags = PollFlags::IN;
        if !out.is_empty() {
            flags |= PollFlags::OUT;
        }
        let mut fds = [PollFd::new(&sock, flags)];
        poll(&mut fds, timeout.as_ref())?;
        let ready = fds[0].revents();
        // 4. Input: read until the socket is empty, feeding the core.
        if ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            loop {
                match sock.read(&mut buf) {
                    Ok(0) => {
                        let _ = conn.feed_eof(Instant::now());
                        break;
                    }
                    Ok(n) => {
                        // A protocol error also arrives as `Event::ConnectionLost`.
                        let _ = conn.feed(Instant::now(), &buf[..n]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = conn.handle_timeout(Instant::now());
        }
    }
    std::process::exit(app.status.unwrap_or(255));
}

/// The application's side: every decision and every byte of output passes through here.
fn on_event(conn: &mut ClientConnection, app: &mut App, ev: Event) -> Result<(), Box<dyn Error>> {
    match ev {
        Event::HostKey(check) => {
            let known = KnownHosts::load(&app.known_hosts)?;
            match known.check(&app.host, app.port, check.key()) {
                HostKeyStatus::Trusted => conn.accept_host_key(check)?,
                _ => {
                    let fp = check.fingerprint();
                    let _ = conn.reject_host_key(check);
                    eprintln!("host key {fp} is not in {}", app.known_hosts.display());
                }
            }
        }
        Event::Banner(text) => eprint!("{text}"),
        Event::AuthMethods {
            methods, choice, ..
        } => {
            if app.key_tried || !methods.iter().any(|m| m == "publickey") {
                conn.disconnect();
                return Err(format!("permission denied ({})", methods.join(",")).into());
            }
            app.key_tried = true;
            conn.authenticate(choice, AuthMethod::PublicKey(app.key.clone()))?;
        }
        Event::Authenticated => {
            conn.open_session()?;
        }
        Event::ChannelOpened(id) => {
            if let Some(mut ch) = conn.channel(id) {
                ch.exec(app.command.as_bytes())?;
            }
        }
        Event::ChannelOpenFailed { description, .. } => return Err(description.into()),
        // Nothing to send on stdin.
        Event::RequestSucceeded(id) => {
            if let Some(mut ch) = conn.channel(id) {
                ch.eof()?;
            }
        }
        Event::RequestFailed(_) => return Err("the server refused the command".into()),
        Event::Data { id, data } => {
            io::stdout().write_all(&data)?;
            consume(conn, id, data.len())?;
        }
        Event::ExtendedData { id, data, .. } => {
            io::stderr().write_all(&data)?;
            consume(conn, id, data.len())?;
        }
        // Close once the output has ended and the status is known (servers send them in
        // either order).
        Event::ExitStatus { id, status } => {
            app.status = Some(i32::try_from(status).unwrap_or(255));
            close_if_finished(conn, app, id)?;
        }
        Event::ExitSignal { id, signal, .. } => {
            eprintln!("remote command killed by SIG{signal}");
            app.status = Some(128);
            close_if_finished(conn, app, id)?;
        }
        Event::Eof(id) => {
            app.eof = true;
            close_if_finished(conn, app, id)?;
        }
        Event::Closed(_) => {
            conn.disconnect();
            app.done = true;
        }
        Event::ConnectionLost(e) if !app.done => return Err(e.into()),
        _ => {}
    }
    Ok(())
}

/// Output written: the core may now reopen the server's window.
fn consume(conn: &mut ClientConnection, id: ChannelId, n: usize) -> Result<(), Box<dyn Error>> {
    if let Some(mut ch) = conn.channel(id) {
        ch.consume(n)?;
    }
    Ok(())
}

fn close_if_finished(
    conn: &mut ClientConnection,
    app: &App,
    id: ChannelId,
) -> Result<(), Box<dyn Error>> {
    if app.eof
        && app.status.is_some()
        && let Some(mut ch) = conn.channel(id)
    {
        ch.close()?;
    }
    Ok(())
}
