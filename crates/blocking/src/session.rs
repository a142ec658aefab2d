//! Connecting, authenticating, and running commands.

use crate::ClientConfig;
use crate::Error;
use crate::Output;
use crate::channel::Channel;
use crate::driver::Driver;
use seashell_adapter::{AuthPlan, split_host_port};
use seashell_proto::{ChannelId, ClientConnection, Event};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Entry point: opens authenticated sessions.
#[derive(Debug)]
pub struct Client;

/// An authenticated SSH connection. Clone-free; channels borrow it through a shared handle.
pub struct Session {
    driver: Arc<Mutex<Driver>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session { .. }")
    }
}

impl Client {
    /// Connects to `addr` (`host:port`), verifies the host key with the configured policy,
    /// and authenticates with the configured keys, then password.
    pub fn connect(addr: &str, config: ClientConfig) -> Result<Session, Error> {
        let (host, port) = split_host_port(addr);
        let mut last_err = None;
        let mut sock = None;
        for a in (host.as_str(), port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&a, config.connect_timeout) {
                Ok(s) => {
                    sock = Some(s);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let sock = match (sock, last_err) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(e.into()),
            (None, None) => {
                return Err(Error::Io(std::io::Error::other(format!(
                    "{host}: no address"
                ))));
            }
        };
        Client::handshake(sock, &host, port, config)
    }

    /// Runs the SSH handshake over an already connected socket.
    pub fn handshake(
        sock: TcpStream,
        host: &str,
        port: u16,
        config: ClientConfig,
    ) -> Result<Session, Error> {
        sock.set_nodelay(true)?;
        let conn = ClientConnection::new(Arc::new(config.core.clone()), Instant::now())?;
        let mut d = Driver::new(conn, sock);
        let mut auth = AuthPlan::default();
        loop {
            d.pump()?;
            while let Some(ev) = d.other.pop_front() {
                match ev {
                    Event::HostKey(check) => {
                        match config.host_key_policy.check(host, port, check.key()) {
                            Ok(()) => d.conn.accept_host_key(check)?,
                            Err(e) => {
                                let _ = d.conn.reject_host_key(check);
                                let _ = d.flush();
                                return Err(e);
                            }
                        }
                    }
                    Event::AuthMethods {
                        methods, choice, ..
                    } => match auth.next(&methods, &config) {
                        Some(m) => d.conn.authenticate(choice, m)?,
                        None => {
                            let _ = d.conn.give_up_auth(choice, methods.clone());
                            let _ = d.flush();
                            return Err(Error::Auth(format!(
                                "permission denied ({})",
                                methods.join(",")
                            )));
                        }
                    },
                    Event::Authenticated => {
                        d.flush()?;
                        return Ok(Session {
                            driver: Arc::new(Mutex::new(d)),
                        });
                    }
                    _ => {}
                }
            }
        }
    }
}

impl Session {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Driver> {
        self.driver.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a session channel and starts `command` on it, for streaming: read stdout from
    /// the channel, stderr from [`Channel::stderr`], write stdin to it.
    pub fn channel_exec(&self, command: &str) -> Result<Channel, Error> {
        let id = self.open_exec(command)?;
        Ok(Channel::new(self.driver.clone(), id))
    }

    /// Opens a session channel, runs `command` on it, and waits until the server accepts.
    pub(crate) fn open_exec(&self, command: &str) -> Result<ChannelId, Error> {
        let mut d = self.lock();
        let id = d.conn.open_session()?;
        loop {
            d.pump()?;
            match d.channels.get(&id).and_then(|b| b.opened.clone()) {
                Some(Ok(())) => break,
                Some(Err(m)) => return Err(Error::Refused(m)),
                None => {}
            }
        }
        if let Some(mut ch) = d.conn.channel(id) {
            ch.exec(command.as_bytes())?;
        }
        loop {
            d.pump()?;
            if let Some(ok) = d.channels.get_mut(&id).and_then(|b| b.replies.pop_front()) {
                if !ok {
                    return Err(Error::Refused(format!(
                        "the server refused to run {command:?}"
                    )));
                }
                return Ok(id);
            }
            if d.channels.get(&id).is_some_and(|b| b.closed) {
                return Err(Error::Refused(
                    "the channel closed before exec was answered".into(),
                ));
            }
        }
    }

    /// Runs `command` with empty stdin and collects its output and exit status.
    pub fn exec(&self, command: &str) -> Result<Output, Error> {
        let mut ch = self.channel_exec(command)?;
        ch.send_eof()?;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        ch.read_both(&mut stdout, &mut stderr)?;
        let status = ch.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// How many key exchanges have completed on this connection (the first and every rekey).
    pub fn key_exchanges(&self) -> u64 {
        self.lock().conn.key_exchanges()
    }

    /// Measures one round trip through the server's transport with `ping@openssh.com`.
    /// Returns `Ok(None)` if the server does not advertise it (OpenSSH before 9.5, most
    /// other servers). Useful as a keepalive that, unlike a global request, needs no reply
    /// from the server's connection layer.
    pub fn ping(&self) -> Result<Option<std::time::Duration>, Error> {
        let mut d = self.lock();
        if !d.conn.can_ping() {
            return Ok(None);
        }
        d.ping_serial += 1;
        let data = d.ping_serial.to_be_bytes();
        let start = Instant::now();
        d.conn.ping(&data)?;
        loop {
            d.pump()?;
            while let Some(pong) = d.pongs.pop_front() {
                if pong.as_ref() == data {
                    return Ok(Some(start.elapsed()));
                }
            }
        }
    }

    /// Closes the connection with a DISCONNECT.
    pub fn close(self) -> Result<(), Error> {
        let mut d = self.lock();
        d.conn.disconnect();
        d.flush()
    }
}
