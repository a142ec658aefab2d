//! Server side of agent forwarding, once for every adapter: on an allowed agent request,
//! a listening Unix socket in a fresh private (0700) directory, whose path goes into the
//! session's `SSH_AUTH_SOCK`; the adapter's loop accepts on it and opens an agent channel
//! to the client (`auth-agent@openssh.com`, or `agent-connect` after RFC 9987's
//! `agent-req`) for each connection. The socket and its directory are removed when the
//! session channel closes or the connection ends.

use crate::forward::ListenerStop;
use crate::shared::{Shared, State};
use seashell_proto::ChannelKind;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Most agent listeners one connection holds (one per session, as sshd).
const MAX_AGENT_LISTENERS: usize = 16;

/// A bound agent socket for one session, for the adapter's loop to serve.
#[derive(Debug)]
pub struct AgentListen {
    /// The listening socket.
    pub listener: UnixListener,
    /// Its path (what `SSH_AUTH_SOCK` holds).
    pub path: PathBuf,
    /// The channel type to open for each connection.
    pub kind: ChannelKind,
    /// Set when the session closes or the connection ends.
    pub stop: Arc<ListenerStop>,
}

impl AgentListen {
    /// Removes the socket and its private directory (after the loop stopped).
    pub fn remove(&self) {
        remove_socket(&self.path);
    }
}

fn remove_socket(path: &Path) {
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Binds `agent.<n>` in a fresh 0700 directory under the temporary directory.
pub(crate) fn bind_private() -> std::io::Result<(UnixListener, PathBuf)> {
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let base = std::env::temp_dir();
    let pid = std::process::id();
    for _ in 0..100 {
        let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!("seashell-agent-{pid}-{n}-{nanos:08x}"));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        let path = dir.join(format!("agent.{pid}"));
        let bound = UnixListener::bind(&path).and_then(|l| {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            Ok(l)
        });
        return match bound {
            Ok(l) => Ok((l, path)),
            Err(e) => {
                remove_socket(&path);
                Err(e)
            }
        };
    }
    Err(std::io::ErrorKind::AlreadyExists.into())
}

impl State {
    /// Queues an agent listener for the adapter's loop; false (nothing queued) when no
    /// loop serves them or too many are open.
    pub(crate) fn push_agent_listen(&mut self, listen: AgentListen) -> bool {
        let f = &mut self.forwards;
        if !f.agent_listening || f.agent_listens.len() + f.agent_stops.len() >= MAX_AGENT_LISTENERS
        {
            return false;
        }
        f.agent_stops.push(listen.stop.clone());
        f.agent_listens.push_back(listen);
        self.control_waiters.wake();
        true
    }

    /// Whether an adapter loop serves agent listeners.
    pub(crate) fn serves_agent_listens(&self) -> bool {
        self.forwards.agent_listening
    }
}

impl Shared {
    /// Server: tells the connection that this adapter serves agent listeners (until then,
    /// agent forwarding requests are refused).
    pub fn serve_agent_listens(&self) {
        self.lock().forwards.agent_listening = true;
    }

    /// Server: takes the next agent listener to serve. `Ready(None)` once the connection
    /// has ended (every agent listener is then stopped).
    pub fn poll_agent_listen(&self, cx: &mut Context<'_>) -> Poll<Option<AgentListen>> {
        let mut st = self.lock();
        if let Some(l) = st.forwards.agent_listens.pop_front() {
            return Poll::Ready(Some(l));
        }
        if st.check().is_err() {
            for stop in &st.forwards.agent_stops {
                stop.set();
            }
            return Poll::Ready(None);
        }
        st.control_waiters.register(cx.waker());
        Poll::Pending
    }
}
