//! Connecting, authenticating, and running commands.

use crate::ClientConfig;
use crate::Output;
use crate::channel::Channel;
use crate::driver::Driver;
use crate::error::Error;
use crate::handle::Handle;
use crate::runtime::{AsyncSocket, Runtime};
use crate::state::{ChanState, Conn, Shared};
use seashell_adapter::{AuthPlan, split_host_port};
use seashell_proto::{ClientConnection, Event};
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

/// Entry point: opens authenticated sessions on runtime `R`. The bindings name it
/// `seashell_tokio::Client` and `seashell_smol::Client`.
#[derive(Debug)]
pub struct Client<R>(PhantomData<R>);

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

    /// Measures one round trip through the server's transport with `ping@openssh.com`.
    /// Returns `Ok(None)` if the server does not advertise it (OpenSSH before 9.5, most
    /// other servers). Several tasks may ping at once; cancelling the future is safe.
    pub async fn ping(&self) -> Result<Option<std::time::Duration>, Error> {
        let (data, start) = {
            let mut st = self.shared.lock();
            st.check()?;
            if !st.client()?.can_ping() {
                return Ok(None);
            }
            st.ping_serial += 1;
            let data = st.ping_serial.to_be_bytes();
            st.client()?.ping(&data)?;
            st.wake_driver();
            (data, std::time::Instant::now())
        };
        poll_fn(|cx| {
            let mut st = self.shared.lock();
            if let Some(i) = st.pongs.iter().position(|p| p.as_ref() == data) {
                st.pongs.remove(i);
                return Poll::Ready(Ok(Some(start.elapsed())));
            }
            st.check()?;
            st.control_waiters.register(cx.waker());
            Poll::Pending
        })
        .await
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
