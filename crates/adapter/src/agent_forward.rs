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

/// How often an idle agent accept loop checks whether its session closed.
const STOP_CHECK: std::time::Duration = std::time::Duration::from_millis(200);

/// Serves an agent listener on the calling thread until its session closes or the
/// connection ends: each connection gets an agent channel to the client and two threads
/// copying between them; then the socket and its directory are removed. Written once for
/// every adapter: the blocking adapter runs it on its listen thread, the async adapters on a
/// thread of its own (agent connections are few and short).
pub fn serve_agent_listener(shared: &Arc<Shared>, listen: AgentListen) {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let timeout = Timespec::try_from(STOP_CHECK).ok();
    while !listen.stop.is_set() && !shared.is_closed() {
        let mut fds = [PollFd::new(&listen.listener, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) | Err(_) => continue,
            Ok(_) => {}
        }
        let Ok((sock, _)) = listen.listener.accept() else {
            continue;
        };
        let (shared, kind) = (shared.clone(), listen.kind.clone());
        let _ = std::thread::Builder::new()
            .name("seashell-agent".into())
            .spawn(move || {
                let Ok(mut opening) = crate::forward::Opening::new(&shared, kind) else {
                    return;
                };
                if let Ok(channel) = crate::block_on(|cx| opening.poll(cx)) {
                    splice(sock, channel);
                }
            });
    }
    listen.remove();
}

/// Client: connects an agent channel the server opened to the local agent at `path`, first
/// binding the agent connection to this session for forwarding
/// (`session-bind@openssh.com`, as OpenSSH's ssh does: the agent can then apply keys'
/// destination constraints), then copies until both ends finished. Blocking: adapters run
/// it on a thread (written once for the blocking and async adapters).
pub fn place_agent_channel(
    shared: &Arc<Shared>,
    request: seashell_proto::IncomingChannel,
    path: &Path,
) {
    let binding = shared
        .lock()
        .conn
        .as_client()
        .and_then(|c| c.session_binding());
    let mut agent = match crate::agent::AgentConnection::connect(path) {
        Ok(a) => a,
        Err(e) => {
            let _ = shared.reject_incoming(
                request,
                seashell_proto::OpenFailure::ConnectFailed,
                &e.to_string(),
            );
            return;
        }
    };
    if let Some(b) = &binding {
        let _ = agent.bind(b, true);
    }
    if let Ok(channel) = shared.accept_incoming(request) {
        splice(agent.into_stream(), channel);
    }
}

/// Copies both ways between an agent connection and its channel until both ends finished.
fn splice(sock: std::os::unix::net::UnixStream, channel: crate::channel::OwnedChannel) {
    use std::io::{Read, Write};
    let Ok(mut up_src) = sock.try_clone() else {
        return;
    };
    let channel = Arc::new(channel);
    let up_channel = channel.clone();
    let up = std::thread::Builder::new()
        .name("seashell-agent-up".into())
        .spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let n = match up_src.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let mut data = buf.get(..n).unwrap_or_default();
                while !data.is_empty() {
                    match crate::block_on(|cx| up_channel.poll_write(cx, false, data)) {
                        Ok(0) | Err(_) => return,
                        Ok(w) => data = data.get(w..).unwrap_or_default(),
                    }
                }
            }
            let _ = up_channel.send_eof();
        });
    let mut down = sock;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match crate::block_on(|cx| channel.poll_read_buf(cx, false, &mut buf)) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if down.write_all(buf.get(..n).unwrap_or_default()).is_err() {
            break;
        }
    }
    let _ = down.shutdown(std::net::Shutdown::Write);
    if let Ok(t) = up {
        let _ = t.join();
    }
}
