//! An authenticated connection: opening sessions, running commands, pings.

use crate::channel::Channel;
use seashell_adapter::{
    Error, Exec, Output, Ping, PtyRequest, SessionRef, SessionSetup, Start, Starting, block_on,
};
use std::time::Duration;

/// An authenticated SSH connection, driven by its own I/O thread. Clones are handles on the
/// same connection: channels work from many threads at once, and a thread blocked on one
/// channel never stalls another. The connection ends when the last session and channel
/// handle is dropped (or on [`close`](Self::close)).
///
/// It dereferences to the shared [`SessionRef`] for what does not wait:
/// `key_exchanges()`, `negotiated()`, `server_ident()`, `is_closed()`, `rekey()`.
#[derive(Debug, Clone)]
pub struct Session {
    conn: SessionRef,
}

impl std::ops::Deref for Session {
    type Target = SessionRef;

    fn deref(&self) -> &SessionRef {
        &self.conn
    }
}

impl Session {
    pub(crate) fn new(conn: SessionRef) -> Session {
        Session { conn }
    }

    /// Starts building a session channel: add a pty and environment variables, then start a
    /// command, a shell or a subsystem.
    pub fn open_session(&self) -> SessionBuilder {
        SessionBuilder {
            session: self.conn.clone(),
            setup: SessionSetup::default(),
        }
    }

    /// Opens a session channel and starts `command` on it, for streaming: read stdout from
    /// the channel, stderr from [`Channel::stderr`], write stdin to it.
    pub fn channel_exec(&self, command: &str) -> Result<Channel, Error> {
        self.open_session().exec(command)
    }

    /// Runs `command` with empty stdin and collects its output and exit status.
    pub fn exec(&self, command: &str) -> Result<Output, Error> {
        let mut exec = Exec::new(self.conn.shared(), command)?;
        block_on(|cx| exec.poll(cx))
    }

    /// Measures one round trip through the server's transport with `ping@openssh.com`.
    /// Returns `Ok(None)` if the server does not advertise it (OpenSSH before 9.5, most
    /// other servers). Several threads may ping at once.
    pub fn ping(&self) -> Result<Option<Duration>, Error> {
        let Some(ping) = Ping::send(&self.conn)? else {
            return Ok(None);
        };
        block_on(|cx| ping.poll(&self.conn, cx)).map(Some)
    }

    /// Opens a session channel, starts the `sftp` subsystem on it and returns the SFTP
    /// client (see [`crate::sftp`]).
    pub fn sftp(&self) -> Result<crate::sftp::Sftp, Error> {
        let sftp = seashell_adapter::sftp::wait(seashell_adapter::sftp::Sftp::connect(
            self.conn.shared(),
        ))?;
        Ok(crate::sftp::Sftp::new(sftp))
    }

    /// Closes the connection with a DISCONNECT and waits until it is sent.
    pub fn close(self) -> Result<(), Error> {
        self.conn.disconnect();
        block_on(|cx| self.conn.poll_done(cx));
        Ok(())
    }
}

/// A session channel being set up: [`pty`](Self::pty) and [`env`](Self::env), then
/// [`exec`](Self::exec), [`shell`](Self::shell) or [`subsystem`](Self::subsystem), which
/// open the channel and return it once the server has accepted. Get one with
/// [`Session::open_session`].
#[derive(Debug)]
pub struct SessionBuilder {
    session: SessionRef,
    setup: SessionSetup,
}

impl SessionBuilder {
    /// Asks for a pseudo-terminal first.
    pub fn pty(mut self, pty: PtyRequest) -> Self {
        self.setup.pty(pty);
        self
    }

    /// Sets an environment variable (servers accept only some names).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.setup.env(name, value);
        self
    }

    /// Runs `command`.
    pub fn exec(self, command: &str) -> Result<Channel, Error> {
        self.start(Start::Exec(command.to_owned()))
    }

    /// Starts the user's login shell.
    pub fn shell(self) -> Result<Channel, Error> {
        self.start(Start::Shell)
    }

    /// Starts the subsystem `name` (for example `sftp`).
    pub fn subsystem(self, name: &str) -> Result<Channel, Error> {
        self.start(Start::Subsystem(name.to_owned()))
    }

    fn start(self, start: Start) -> Result<Channel, Error> {
        let mut starting = Starting::new(self.session.shared(), self.setup, start)?;
        block_on(|cx| starting.poll(cx)).map(Channel::new)
    }
}
