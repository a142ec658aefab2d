//! An authenticated connection: opening sessions, running commands, pings.

use crate::channel::Channel;
use crate::runtime::Runtime;
use seashell_adapter::{
    Error, Exec, Output, Ping, PtyRequest, SessionRef, SessionSetup, Start, Starting,
};
use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

/// An authenticated SSH connection. Clones are handles on the same connection, for use from
/// many tasks at once; the connection ends when the last session and channel handle is
/// dropped (or on [`close`](Self::close)).
///
/// It dereferences to the shared [`SessionRef`] for what does not wait:
/// `key_exchanges()`, `negotiated()`, `server_ident()`, `is_closed()`, `rekey()`.
#[derive(Debug, Clone)]
pub struct Session {
    conn: SessionRef,
    runtime: Arc<dyn Runtime>,
}

impl std::ops::Deref for Session {
    type Target = SessionRef;

    fn deref(&self) -> &SessionRef {
        &self.conn
    }
}

impl Session {
    pub(crate) fn new(conn: SessionRef, runtime: Arc<dyn Runtime>) -> Session {
        Session { conn, runtime }
    }

    /// The runtime the connection runs on.
    pub(crate) fn runtime(&self) -> &Arc<dyn Runtime> {
        &self.runtime
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
    /// the channel, stderr from [`Channel::stderr`], write stdin to it. Cancelling this
    /// future closes the channel.
    pub async fn channel_exec(&self, command: &str) -> Result<Channel, Error> {
        self.open_session().exec(command).await
    }

    /// Runs `command` with empty stdin and collects its output and exit status.
    pub async fn exec(&self, command: &str) -> Result<Output, Error> {
        let mut exec = Exec::new(self.conn.shared(), command)?;
        poll_fn(|cx| exec.poll(cx)).await
    }

    /// Measures one round trip through the server's transport with `ping@openssh.com`.
    /// Returns `Ok(None)` if the server does not advertise it (OpenSSH before 9.5, most
    /// other servers). Several tasks may ping at once; cancelling the future is safe.
    pub async fn ping(&self) -> Result<Option<Duration>, Error> {
        let Some(ping) = Ping::send(&self.conn)? else {
            return Ok(None);
        };
        poll_fn(|cx| ping.poll(&self.conn, cx)).await.map(Some)
    }

    /// Opens a session channel, starts the `sftp` subsystem on it and returns the SFTP
    /// client (see [`crate::sftp`]).
    pub async fn sftp(&self) -> Result<crate::sftp::Sftp, Error> {
        Ok(seashell_adapter::sftp::Sftp::connect(self.conn.shared()).await?)
    }

    /// Closes the connection with a DISCONNECT and waits until it is sent.
    pub async fn close(self) -> Result<(), Error> {
        self.conn.disconnect();
        poll_fn(|cx| self.conn.poll_done(cx)).await;
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
    pub async fn exec(self, command: &str) -> Result<Channel, Error> {
        self.start(Start::Exec(command.to_owned())).await
    }

    /// Starts the user's login shell.
    pub async fn shell(self) -> Result<Channel, Error> {
        self.start(Start::Shell).await
    }

    /// Starts the subsystem `name` (for example `sftp`).
    pub async fn subsystem(self, name: &str) -> Result<Channel, Error> {
        self.start(Start::Subsystem(name.to_owned())).await
    }

    async fn start(self, start: Start) -> Result<Channel, Error> {
        let mut starting = Starting::new(self.session.shared(), self.setup, start)?;
        let owner = poll_fn(|cx| starting.poll(cx)).await?;
        Ok(Channel::new(owner))
    }
}
