//! One server connection on its own thread: a socket reader thread and handler threads feed
//! one queue; this thread owns the core, answers events through the [`Handler`], and writes
//! to the socket. No protocol logic lives here.

use super::Handler;
use super::channel::{Command, Exit, ServerChannel, SharedCell};
use crate::Error;
use seashell_proto::{ChannelId, Event, ServerConnection};
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Output queued by handler threads for one channel, and what to do once it is sent.
#[derive(Debug, Default)]
struct Outgoing {
    shared: Arc<SharedCell>,
    queue: VecDeque<(bool, Vec<u8>, usize)>,
    eof: bool,
    exit: Option<Exit>,
    finished: bool,
}

pub(crate) struct Connection<H: Handler> {
    core: ServerConnection,
    sock: TcpStream,
    rx: Receiver<Command>,
    tx: Sender<Command>,
    handler: H,
    channels: HashMap<ChannelId, Outgoing>,
    wbuf: Vec<u8>,
}

impl<H: Handler> Connection<H> {
    pub fn new(
        sock: TcpStream,
        config: Arc<seashell_proto::ServerConfig>,
        handler: H,
    ) -> Result<Self, Error> {
        sock.set_nodelay(true)?;
        let core = ServerConnection::new(config, Instant::now())?;
        let (tx, rx) = mpsc::channel();
        let mut reader = sock.try_clone()?;
        let net_tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = net_tx.send(Command::NetEnd);
                        return;
                    }
                    Ok(n) => {
                        if net_tx
                            .send(Command::Net(buf.get(..n).unwrap_or_default().to_vec()))
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
        Ok(Connection {
            core,
            sock,
            rx,
            tx,
            handler,
            channels: HashMap::new(),
            wbuf: Vec::new(),
        })
    }

    fn flush(&mut self) -> Result<(), Error> {
        self.wbuf.clear();
        if self.core.poll_transmit(&mut self.wbuf) > 0 {
            self.sock.write_all(&self.wbuf)?;
        }
        Ok(())
    }

    pub fn run(mut self) -> Result<(), Error> {
        let result = self.serve();
        let _ = self.flush();
        for out in self.channels.values() {
            let mut s = out.shared.lock();
            s.closed = true;
            out.shared.changed.notify_all();
        }
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
        result
    }

    fn serve(&mut self) -> Result<(), Error> {
        loop {
            self.flush()?;
            if self.core.is_closed() {
                return Ok(());
            }
            let wait = self
                .core
                .poll_timeout()
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(3600));
            let r = match self.rx.recv_timeout(wait) {
                Ok(cmd) => self.command(cmd),
                Err(RecvTimeoutError::Timeout) => self.core.handle_timeout(Instant::now()),
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            self.events();
            if r.is_err() {
                let _ = self.flush();
                return Ok(());
            }
        }
    }

    fn command(&mut self, cmd: Command) -> Result<(), seashell_proto::Error> {
        match cmd {
            Command::Net(data) => self.core.feed(Instant::now(), &data),
            Command::NetEnd => self.core.feed_eof(Instant::now()),
            Command::Write { id, stderr, data } => {
                if let Some(out) = self.channels.get_mut(&id) {
                    out.queue.push_back((stderr, data, 0));
                }
                self.push_output(id)
            }
            Command::Consume { id, n } => match self.core.channel(id) {
                Some(mut ch) => ch.consume(n),
                None => Ok(()),
            },
            Command::Eof { id } => {
                if let Some(out) = self.channels.get_mut(&id) {
                    out.eof = true;
                }
                self.push_output(id)
            }
            Command::Exit { id, status } => {
                if let Some(out) = self.channels.get_mut(&id) {
                    out.exit = Some(status);
                }
                self.push_output(id)
            }
        }
    }

    /// Writes queued output as far as the window allows, then EOF and exit once drained.
    fn push_output(&mut self, id: ChannelId) -> Result<(), seashell_proto::Error> {
        let Some(out) = self.channels.get_mut(&id) else {
            return Ok(());
        };
        let Some(mut ch) = self.core.channel(id) else {
            return Ok(());
        };
        while let Some((stderr, data, at)) = out.queue.front_mut() {
            let rest = data.get(*at..).unwrap_or_default();
            let n = if *stderr {
                ch.write_extended(1, rest)?
            } else {
                ch.write(rest)?
            };
            *at += n;
            {
                let mut s = out.shared.lock();
                s.queued = s.queued.saturating_sub(n);
                out.shared.changed.notify_all();
            }
            if *at < data.len() {
                return Ok(());
            }
            out.queue.pop_front();
        }
        if out.finished {
            return Ok(());
        }
        if let Some(exit) = out.exit.take() {
            match exit {
                Exit::Status(code) => ch.exit_status(code)?,
                Exit::Signal(sig) => ch.exit_signal(&sig, false, "")?,
            }
            ch.eof()?;
            ch.close()?;
            out.finished = true;
        } else if out.eof {
            ch.eof()?;
        }
        Ok(())
    }

    fn events(&mut self) {
        while let Some(ev) = self.core.poll_event() {
            let r = match ev {
                Event::AuthRequest(req) => {
                    let decision = self.handler.auth(req.user(), req.attempt());
                    self.core.answer_auth(req, decision)
                }
                Event::ClientAuthenticated(who) => {
                    if let Some(n) = self.core.negotiated() {
                        self.handler.negotiated(n);
                    }
                    self.handler.authenticated(&who.user, who.key.as_ref());
                    Ok(())
                }
                Event::ChannelOpenRequest(incoming) => {
                    self.core.accept_channel(incoming).map(|id| {
                        self.channels.insert(id, Outgoing::default());
                    })
                }
                Event::ChannelRequest(req) => {
                    let id = req.channel();
                    let ok = match self.channels.get(&id) {
                        Some(out) => {
                            let ch = ServerChannel {
                                id,
                                tx: self.tx.clone(),
                                shared: out.shared.clone(),
                            };
                            self.handler.session_request(&ch, req.kind())
                        }
                        None => false,
                    };
                    self.core.reply_request(req, ok)
                }
                Event::Data { id, data } => {
                    if let Some(out) = self.channels.get(&id) {
                        let mut s = out.shared.lock();
                        s.stdin.push_back(data);
                        out.shared.changed.notify_all();
                    }
                    Ok(())
                }
                Event::ExtendedData { id, data, .. } => match self.core.channel(id) {
                    Some(mut ch) => ch.consume(data.len()),
                    None => Ok(()),
                },
                Event::Eof(id) => {
                    if let Some(out) = self.channels.get(&id) {
                        out.shared.lock().stdin_eof = true;
                        out.shared.changed.notify_all();
                    }
                    Ok(())
                }
                Event::Closed(id) => {
                    if let Some(out) = self.channels.remove(&id) {
                        out.shared.lock().closed = true;
                        out.shared.changed.notify_all();
                    }
                    self.handler.channel_closed(id);
                    Ok(())
                }
                Event::Writable(id) => self.push_output(id),
                _ => Ok(()),
            };
            if r.is_err() {
                return;
            }
        }
    }
}
