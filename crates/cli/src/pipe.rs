//! Streaming a remote command: local stdin to its stdin, its stdout and stderr to ours, all
//! at once and without polling.
//!
//! One thread drives the connection, in small steps
//! ([`ExecStream`]): input is written only as far as
//! the window allows, and the socket is read only when it has bytes. It waits on a single
//! event channel fed by two helper threads:
//!
//! - the *stdin reader* sends chunks of local stdin, at most [`QUEUE`] ahead of what has
//!   been written (it waits for a credit per chunk), then EOF;
//! - the *socket watcher* `peek`s a clone of the socket and reports when bytes are waiting,
//!   then waits until the driver has read them before it looks again. So a reported socket
//!   is never stale and the driver's read never blocks.
//!
//! A full window in one direction therefore never stops the other, and output is written
//! (and flushed) as it arrives.

use seashell_blocking::stream::ExecStream;
use seashell_blocking::{Error, ExitStatus, Session};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{Receiver, Sender, channel};

/// Local stdin is read in chunks of up to this size.
const CHUNK: usize = 64 * 1024;
/// Chunks read ahead of the connection (bounds memory to `CHUNK * QUEUE`).
const QUEUE: usize = 32;

/// What the driving thread waits for.
enum Event {
    /// A chunk of local stdin.
    Stdin(Vec<u8>),
    /// Local stdin ended (or failed, already reported).
    StdinEnd,
    /// The socket has bytes (or EOF, or an error) to read.
    Socket,
}

/// Runs `command`, streaming. `sock` is a clone of the connection's socket, used only to
/// learn when it has bytes. With `read_stdin` false the command's stdin is empty.
pub fn run_command(
    session: &Session,
    command: &str,
    sock: &TcpStream,
    read_stdin: bool,
) -> Result<ExitStatus, Error> {
    let mut stream = session.exec_stream(command)?;
    let (events_tx, events) = channel();
    let (ack_tx, ack_rx) = channel();
    spawn_socket_watcher(sock.try_clone()?, events_tx.clone(), ack_rx);
    let credits = if read_stdin {
        Some(spawn_stdin_reader(events_tx))
    } else {
        drop(events_tx);
        stream.send_eof()?;
        None
    };
    let mut chunks: VecDeque<Vec<u8>> = VecDeque::new();
    let mut off = 0;
    let mut stdin_open = read_stdin;
    let mut eof_sent = !read_stdin;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdout_open = true;
    loop {
        // Write what the window takes now.
        while let Some(front) = chunks.front() {
            let n = match stream.try_write(front.get(off..).unwrap_or_default()) {
                Ok(n) => n,
                // The command is gone: the rest of stdin has nowhere to go.
                Err(Error::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                    chunks.clear();
                    stdin_open = false;
                    eof_sent = true;
                    break;
                }
                Err(e) => return Err(e),
            };
            off += n;
            if off >= front.len() {
                chunks.pop_front();
                off = 0;
                if let Some(c) = &credits {
                    let _ = c.send(());
                }
            } else if n == 0 {
                break; // Window full: the server's adjust comes as a socket event.
            }
        }
        if !stdin_open && chunks.is_empty() && !eof_sent {
            eof_sent = true;
            if !stream.is_closed() {
                stream.send_eof()?;
            }
        }
        // Output may also have come in with the exec reply, before any socket event.
        forward_output(&mut stream, &mut out, &mut err, &mut stdout_open)?;
        if stream.is_closed() || (stream.is_eof() && stream.exit_status().is_some()) {
            break;
        }
        let Ok(event) = events.recv() else {
            // Both helpers are gone (cannot happen while the watcher runs); read directly.
            stream.pump()?;
            continue;
        };
        match event {
            Event::Stdin(chunk) => chunks.push_back(chunk),
            Event::StdinEnd => stdin_open = false,
            Event::Socket => {
                let pumped = stream.pump();
                let _ = ack_tx.send(());
                pumped?;
            }
        }
    }
    // The watcher may still be waiting for an acknowledgement: it ends with the process.
    drop(ack_tx);
    stream.finish(false)
}

/// Starts the stdin reader; returns the sender of its credits (one per chunk it may read
/// ahead), with [`QUEUE`] credits already given.
fn spawn_stdin_reader(events: Sender<Event>) -> Sender<()> {
    let (credit_tx, credit_rx) = channel();
    for _ in 0..QUEUE {
        let _ = credit_tx.send(());
    }
    std::thread::spawn(move || read_stdin(&events, &credit_rx));
    credit_tx
}

fn read_stdin(events: &Sender<Event>, credits: &Receiver<()>) {
    let mut stdin = io::stdin().lock();
    while credits.recv().is_ok() {
        let mut buf = vec![0; CHUNK];
        let n = loop {
            match stdin.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    eprintln!("seashell: reading stdin: {e}");
                    break 0;
                }
                Ok(n) => break n,
            }
        };
        if n == 0 {
            break;
        }
        buf.truncate(n);
        if events.send(Event::Stdin(buf)).is_err() {
            return;
        }
    }
    let _ = events.send(Event::StdinEnd);
}

/// Starts the socket watcher: it reports [`Event::Socket`] when `sock` is readable, then
/// waits for an acknowledgement (the bytes were read) before looking again.
fn spawn_socket_watcher(sock: TcpStream, events: Sender<Event>, acks: Receiver<()>) {
    std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        loop {
            match sock.peek(&mut byte) {
                Ok(_) => {}
                // A read timeout the driver set for its own read: look again.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                // Let the driver's read report the error.
                Err(_) => {}
            }
            if events.send(Event::Socket).is_err() || acks.recv().is_err() {
                return;
            }
        }
    });
}

/// Writes the output received so far to our stdout and stderr. If our stdout is closed,
/// the command is stopped (its channel closed) and its output dropped.
fn forward_output(
    stream: &mut ExecStream<'_>,
    out: &mut Vec<u8>,
    err: &mut Vec<u8>,
    stdout_open: &mut bool,
) -> Result<(), Error> {
    if stream.take_output(out, err)? == 0 {
        return Ok(());
    }
    if *stdout_open && !out.is_empty() && write_flush(&mut io::stdout().lock(), out).is_err() {
        *stdout_open = false;
        stream.close()?;
    }
    if !err.is_empty() {
        let _ = write_flush(&mut io::stderr().lock(), err);
    }
    out.clear();
    err.clear();
    Ok(())
}

fn write_flush(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    w.write_all(data)?;
    w.flush()
}
