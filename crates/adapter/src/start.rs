//! Starting a session channel, once for every adapter: open it, ask for a pty and
//! environment variables, then start a command, a shell or a subsystem, and wait for the
//! server's answers. Each adapter's session builder wraps a [`SessionSetup`].

use crate::channel::{ChannelHandle, OwnedChannel};
use crate::error::Error;
use crate::exit::Output;
use crate::shared::Shared;
use seashell_proto::PtyRequest;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// What a session channel runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A command (`exec`).
    Exec(String),
    /// The user's login shell (`shell`).
    Shell,
    /// A subsystem such as `sftp` (`subsystem`).
    Subsystem(String),
}

impl Start {
    fn refused(&self) -> String {
        match self {
            Start::Exec(cmd) => format!("the server refused to run {cmd:?}"),
            Start::Shell => "the server refused to start a shell".to_owned(),
            Start::Subsystem(name) => format!("the server refused the subsystem {name:?}"),
        }
    }
}

/// What is asked before a session starts: a pty, environment variables. The adapters'
/// `SessionBuilder`s fill one in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionSetup {
    /// A pseudo-terminal to allocate first.
    pub pty: Option<PtyRequest>,
    /// Environment variables to set (servers accept only some names, OpenSSH's `AcceptEnv`).
    pub env: Vec<(String, String)>,
    /// Ask for agent forwarding first (set from the connection when it forwards the agent;
    /// a refusal is not an error, as in ssh).
    pub agent: bool,
}

impl SessionSetup {
    /// Asks for a pseudo-terminal.
    pub fn pty(&mut self, pty: PtyRequest) {
        self.pty = Some(pty);
    }

    /// Sets an environment variable.
    pub fn env(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.env.push((name.into(), value.into()));
    }
}

#[derive(Debug)]
enum Stage {
    Opening,
    Answering,
}

/// A session channel being opened and started: poll until the server has accepted the
/// command (then the channel is returned) or refused something. Dropping it closes the
/// channel.
#[derive(Debug)]
pub struct Starting {
    owner: Option<OwnedChannel>,
    setup: SessionSetup,
    start: Start,
    stage: Stage,
    /// The answer to the agent request, once it came.
    agent_reply: Option<bool>,
}

impl Starting {
    /// Opens a session channel on the client connection `shared`.
    pub fn new(shared: &Arc<Shared>, mut setup: SessionSetup, start: Start) -> Result<Self, Error> {
        let id = {
            let mut st = shared.lock();
            st.check()?;
            let id = st.client()?.open_session()?;
            st.channels.insert(id, Default::default());
            if st.forwards.agent.is_some() {
                setup.agent = true;
            }
            st.wake_driver();
            id
        };
        Ok(Starting {
            owner: Some(OwnedChannel::new(ChannelHandle::new(shared.clone(), id))),
            setup,
            start,
            stage: Stage::Opening,
            agent_reply: None,
        })
    }

    /// Ready with the started channel, or the reason it could not start.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<OwnedChannel, Error>> {
        let Some(h) = self.owner.as_ref().map(OwnedChannel::handle) else {
            return Poll::Ready(Err(Error::Refused("the session already started".into())));
        };
        if let Stage::Opening = self.stage {
            let opened = ready!(h.poll_until(cx, |c| c.opened.clone().ok_or(0)))?;
            if let Err((reason, description)) = opened {
                return Poll::Ready(Err(Error::OpenFailed {
                    reason,
                    description,
                }));
            }
            let (setup, start) = (&self.setup, &self.start);
            h.command(|c| {
                if setup.agent {
                    c.request_agent_forwarding()?;
                }
                if let Some(p) = &setup.pty {
                    c.pty(p)?;
                }
                for (name, value) in &setup.env {
                    c.env(name, value)?;
                }
                match start {
                    Start::Exec(cmd) => c.exec(cmd.as_bytes()),
                    Start::Shell => c.shell(),
                    Start::Subsystem(name) => c.subsystem(name),
                }
            })?;
            self.stage = Stage::Answering;
        }
        // Replies come in request order: the agent's first (its answer only tells whether
        // the server will open agent channels), then the pty's, if asked for.
        let want_pty = self.setup.pty.is_some();
        let agent_reply = &mut self.agent_reply;
        let want_agent = self.setup.agent;
        let accepted = ready!(h.poll_until(cx, |c| {
            if want_agent && agent_reply.is_none() {
                match c.replies.pop_front() {
                    Some(ok) => *agent_reply = Some(ok),
                    None if c.closed => return Ok(None),
                    None => return Err(0),
                }
            }
            if want_pty && c.pty.is_none() {
                match c.replies.pop_front() {
                    Some(ok) => c.pty = Some(ok),
                    None if c.closed => return Ok(None),
                    None => return Err(0),
                }
            }
            match c.replies.pop_front() {
                Some(ok) => Ok(Some(ok)),
                None if c.closed => Ok(None),
                None => Err(0),
            }
        }))?;
        match accepted {
            Some(true) => Poll::Ready(
                self.owner
                    .take()
                    .ok_or_else(|| Error::Refused("the session already started".into())),
            ),
            Some(false) => Poll::Ready(Err(Error::Refused(self.start.refused()))),
            None => Poll::Ready(Err(Error::Refused(format!(
                "the channel closed before the server answered ({})",
                self.start.refused()
            )))),
        }
    }
}

#[derive(Debug)]
enum ExecStage {
    Starting(Starting),
    Reading(OwnedChannel),
    Waiting(OwnedChannel),
    Done,
}

/// `Session::exec` in every adapter: runs a command with empty stdin and collects its output
/// and exit status.
#[derive(Debug)]
pub struct Exec {
    stage: ExecStage,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Exec {
    /// Starts `command` on the client connection `shared`.
    pub fn new(shared: &Arc<Shared>, command: &str) -> Result<Exec, Error> {
        let starting = Starting::new(
            shared,
            SessionSetup::default(),
            Start::Exec(command.to_owned()),
        )?;
        Ok(Exec {
            stage: ExecStage::Starting(starting),
            stdout: Vec::new(),
            stderr: Vec::new(),
        })
    }

    /// Ready with the command's output and status.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Output, Error>> {
        loop {
            self.stage = match std::mem::replace(&mut self.stage, ExecStage::Done) {
                ExecStage::Starting(mut s) => match s.poll(cx)? {
                    Poll::Pending => {
                        self.stage = ExecStage::Starting(s);
                        return Poll::Pending;
                    }
                    Poll::Ready(ch) => {
                        ch.send_eof()?;
                        ExecStage::Reading(ch)
                    }
                },
                ExecStage::Reading(ch) => {
                    let r = ch
                        .handle()
                        .poll_read_both(cx, &mut self.stdout, &mut self.stderr)?;
                    if r.is_pending() {
                        self.stage = ExecStage::Reading(ch);
                        return Poll::Pending;
                    }
                    ExecStage::Waiting(ch)
                }
                ExecStage::Waiting(ch) => {
                    let Poll::Ready(status) = ch.handle().poll_wait(cx)? else {
                        self.stage = ExecStage::Waiting(ch);
                        return Poll::Pending;
                    };
                    return Poll::Ready(Ok(Output {
                        status,
                        stdout: std::mem::take(&mut self.stdout),
                        stderr: std::mem::take(&mut self.stderr),
                    }));
                }
                ExecStage::Done => {
                    return Poll::Ready(Err(Error::Refused("the command already ended".into())));
                }
            }
        }
    }
}
