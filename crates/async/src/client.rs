//! Connecting, authenticating, and running commands.

use crate::channel::Channel;
use crate::config::ClientConfig;
use crate::driver::Driver;
use crate::error::Error;
use crate::handle::Handle;
use crate::runtime::{AsyncSocket, Runtime};
use crate::state::{ChanState, Conn, ExitStatus, Shared};
use seashell_proto::{AuthMethod, ClientConnection, Event};
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

/// Entry point: opens authenticated sessions on runtime `R`. The bindings name it
/// `seashell_tokio::Client` and `seashell_smol::Client`.
#[derive(Debug)]
pub struct Client<R>(PhantomData<R>);

/// The result of [`Session::exec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// How the command ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

impl<R: Runtime + Default> Client<R> {
    /// Connects to `addr` (`host:port`, `[v6]:port`, or a host alone for port 22), verifies
    /// the host key with the configured policy, and authenticates with the configured keys,
    /// then password. The connection runs on a task spawned on `R`.
    pub async fn connect(addr: &str, config: ClientConfig) -> Result<Session, Error> {
        let runtime: Arc<dyn Runtime> = Arc::new(R::default());
        let (host, port) = split_host_port(addr);
        let connect = runtime.connect(host.clone(), port);
        let mut timer = runtime.new_timer(runtime.now() + config.connect_timeout);
        let mut connect = pin!(connect);
        let sock = poll_fn(|cx| {
            if let Poll::Ready(r) = connect.as_mut().poll(cx) {
                return Poll::Ready(r);
            }
            timer.as_mut().poll(cx).map(|()| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connecting to {addr} timed out"),
                ))
            })
        })
        .await?;
        handshake(runtime, sock, &host, port, config).await
    }

    /// Runs the SSH handshake over an already connected byte stream (for example a proxy
    /// tunnel); `host` and `port` name the server for the host-key policy.
    pub async fn handshake(
        sock: impl AsyncSocket,
        host: &str,
        port: u16,
        config: ClientConfig,
    ) -> Result<Session, Error> {
        handshake(Arc::new(R::default()), Box::new(sock), host, port, config).await
    }
}

async fn handshake(
    runtime: Arc<dyn Runtime>,
    sock: Box<dyn AsyncSocket>,
    host: &str,
    port: u16,
    config: ClientConfig,
) -> Result<Session, Error> {
    let conn = ClientConnection::new(Arc::new(config.core.clone()), runtime.now())?;
    let session = Session {
        shared: Shared::new(Conn::Client(conn)),
    };
    let driver = Driver::new(session.shared.clone(), sock, runtime.clone(), None);
    runtime.spawn(Box::pin(async move {
        let _ = driver.await;
    }));
    let mut plan = AuthPlan::default();
    loop {
        let ev = poll_fn(|cx| {
            let mut st = session.shared.lock();
            if let Some(ev) = st.control.pop_front() {
                return Poll::Ready(Ok::<Event, Error>(ev));
            }
            st.control_waiters.register(cx.waker());
            st.check().map(|()| Poll::Pending)?
        })
        .await?;
        let mut st = session.shared.lock();
        match ev {
            Event::HostKey(check) => match config.host_key_policy.check(host, port, check.key()) {
                Ok(()) => st.client()?.accept_host_key(check)?,
                Err(e) => {
                    st.client()?.reject_host_key(check);
                    st.wake_driver();
                    return Err(e);
                }
            },
            Event::AuthMethods { methods, .. } => match plan.next(&methods, &config) {
                Some(m) => st.client()?.authenticate(m)?,
                None => {
                    st.conn.disconnect();
                    st.wake_driver();
                    return Err(Error::Auth(format!(
                        "permission denied ({})",
                        methods.join(",")
                    )));
                }
            },
            Event::Authenticated => {
                st.control_open = false;
                st.control.clear();
                drop(st);
                return Ok(session);
            }
            _ => {}
        }
        st.wake_driver();
    }
}

/// Splits `host:port`, `[v6]:port` or a bare host (port 22).
fn split_host_port(addr: &str) -> (String, u16) {
    if let Some(rest) = addr.strip_prefix('[')
        && let Some((h, p)) = rest.split_once("]:")
    {
        return (h.to_owned(), p.parse().unwrap_or(22));
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_owned(), p.parse().unwrap_or(22)),
        _ => (addr.trim_matches(['[', ']']).to_owned(), 22),
    }
}

/// The order methods are tried in: each key, then the password (or the prompt).
#[derive(Debug, Default)]
struct AuthPlan {
    next_key: usize,
    password_tried: bool,
}

impl AuthPlan {
    fn next(&mut self, methods: &[String], config: &ClientConfig) -> Option<AuthMethod> {
        let offers = |m: &str| methods.iter().any(|x| x == m);
        if offers("publickey")
            && let Some(k) = config.keys.get(self.next_key)
        {
            self.next_key += 1;
            return Some(AuthMethod::PublicKey(k.clone()));
        }
        if offers("password") && !self.password_tried {
            self.password_tried = true;
            if let Some(pw) = &config.password {
                return Some(AuthMethod::Password(pw.clone()));
            }
            if let Some(prompt) = &config.password_prompt
                && let Some(pw) = prompt(&config.core.user)
            {
                return Some(AuthMethod::Password(pw));
            }
        }
        None
    }
}

/// An authenticated SSH connection. Clones are handles on the same connection, for use from
/// many tasks at once; the connection ends when the last session and channel handle is
/// dropped (or on [`close`](Self::close)).
pub struct Session {
    shared: Arc<Shared>,
}

impl Clone for Session {
    fn clone(&self) -> Self {
        Session {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for Session {
    /// Lets the driver notice when the last handle is gone.
    fn drop(&mut self) {
        self.shared.lock().wake_driver();
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session { .. }")
    }
}

impl Session {
    /// Opens a session channel and starts `command` on it, for streaming: read stdout from
    /// the channel, stderr from [`Channel::stderr`], write stdin to it. Cancelling this
    /// future closes the channel.
    pub async fn channel_exec(&self, command: &str) -> Result<Channel, Error> {
        let channel = {
            let mut st = self.shared.lock();
            st.check()?;
            let id = st.client()?.open_session()?;
            st.channels.insert(id, ChanState::default());
            st.wake_driver();
            Channel::new(Handle {
                shared: self.shared.clone(),
                id,
            })
        };
        let h = Handle {
            shared: self.shared.clone(),
            id: channel.id(),
        };
        if let Err(m) = h.until(|c| c.opened.clone()).await? {
            return Err(Error::Refused(m));
        }
        h.command(|c| c.exec(command.as_bytes()))?;
        let reply = h
            .until(|c| c.replies.pop_front().or(c.closed.then_some(false)))
            .await?;
        if !reply {
            return Err(Error::Refused(format!(
                "the server refused to run {command:?}"
            )));
        }
        Ok(channel)
    }

    /// Runs `command` with empty stdin and collects its output and exit status.
    pub async fn exec(&self, command: &str) -> Result<Output, Error> {
        let ch = self.channel_exec(command).await?;
        ch.send_eof()?;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        ch.read_both(&mut stdout, &mut stderr).await?;
        let status = ch.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// How many key exchanges have completed on this connection (the first and every rekey).
    pub fn key_exchanges(&self) -> u64 {
        self.shared.lock().conn.key_exchanges()
    }

    /// The algorithms the last key exchange chose.
    pub fn negotiated(&self) -> Option<seashell_proto::kex::negotiate::Negotiated> {
        self.shared.lock().conn.negotiated().cloned()
    }

    /// The server's identification line (`SSH-2.0-...`).
    pub fn server_ident(&self) -> Option<String> {
        let mut st = self.shared.lock();
        st.client().ok()?.server_ident().map(str::to_owned)
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        let st = self.shared.lock();
        st.done || st.conn.is_closed()
    }

    /// Closes the connection with a DISCONNECT and waits until it is sent.
    pub async fn close(self) -> Result<(), Error> {
        self.shared.lock().conn.disconnect();
        poll_fn(|cx| {
            let mut st = self.shared.lock();
            if st.done {
                return Poll::Ready(());
            }
            st.wake_driver();
            st.control_waiters.register(cx.waker());
            Poll::Pending
        })
        .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port("h:2222"), ("h".into(), 2222));
        assert_eq!(split_host_port("h"), ("h".into(), 22));
        assert_eq!(split_host_port("[::1]:22"), ("::1".into(), 22));
        assert_eq!(split_host_port("::1"), ("::1".into(), 22));
    }
}
