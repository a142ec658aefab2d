//! The async server: a listener, a task per connection, and a [`Handler`] that makes the
//! decisions, as in seashell-blocking. The handler is called on the connection's task and
//! must answer quickly; anything long (a command, a shell) runs on a task it spawns, talking
//! to the client through a [`ServerChannel`].

use crate::driver::{Decide, Driver};
use crate::error::Error;
use crate::handle::{Handle, Stream, impl_async_read, impl_async_write};
use crate::runtime::{AsyncListener, AsyncSocket, Runtime};
use crate::state::{ChanState, Conn, Shared};
use seashell_proto::{
    AuthAttempt, AuthDecision, ChannelId, Event, PublicKey, ServerConnection, SessionRequestKind,
};
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

/// The application's side of a server connection. Every method has a safe default: refuse.
pub trait Handler: Send + 'static {
    /// Decides an authentication attempt by `user`. Signatures are already verified by the
    /// core: [`AuthAttempt::PublicKey`] means the client holds that key.
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        let _ = (user, attempt);
        AuthDecision::Reject
    }

    /// The client authenticated as `user` (with `key` when the last proof was a key).
    fn authenticated(&mut self, user: &str, key: Option<&PublicKey>) {
        let _ = (user, key);
    }

    /// A request on a session channel: exec, shell, pty-req, env, subsystem, window-change,
    /// signal. Return whether it is accepted. For exec, shell and subsystem, accepting means
    /// the handler now drives `channel` (typically from a task it spawns, holding a clone)
    /// and ends it with [`ServerChannel::exit`].
    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        let _ = (channel, request);
        false
    }
}

/// A listening SSH server on runtime `R`. The bindings name it `seashell_tokio::Server` and
/// `seashell_smol::Server`.
pub struct Server<R> {
    listener: Box<dyn AsyncListener>,
    config: Arc<seashell_proto::ServerConfig>,
    runtime: Arc<dyn Runtime>,
    _runtime: PhantomData<R>,
}

impl<R> std::fmt::Debug for Server<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime + Default> Server<R> {
    /// Binds `addr` (`127.0.0.1:0` picks a free port). Call it inside the runtime.
    pub fn bind(addr: &str, config: seashell_proto::ServerConfig) -> Result<Server<R>, Error> {
        config.validate()?;
        let runtime: Arc<dyn Runtime> = Arc::new(R::default());
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        Ok(Server {
            listener: runtime.listen(std_listener)?,
            config: Arc::new(config),
            runtime,
            _runtime: PhantomData,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr()?)
    }

    /// Accepts connections until accepting fails, each on its own task with a handler from
    /// `make`.
    pub async fn run<H: Handler>(
        &self,
        mut make: impl FnMut(SocketAddr) -> H,
    ) -> Result<(), Error> {
        loop {
            let (sock, peer) = self.listener.accept().await?;
            let handler = make(peer);
            let fut = serve(self.runtime.clone(), sock, self.config.clone(), handler);
            self.runtime.spawn(Box::pin(async move {
                let _ = fut.await;
            }));
        }
    }

    /// Accepts one connection and serves it on this task (tests, examples).
    pub async fn serve_one<H: Handler>(&self, handler: H) -> Result<(), Error> {
        let (sock, _) = self.listener.accept().await?;
        serve(self.runtime.clone(), sock, self.config.clone(), handler).await
    }

    /// Serves one accepted connection (any byte stream) on this task until it ends.
    pub async fn serve_connection<H: Handler>(
        sock: impl AsyncSocket,
        config: Arc<seashell_proto::ServerConfig>,
        handler: H,
    ) -> Result<(), Error> {
        serve(Arc::new(R::default()), Box::new(sock), config, handler).await
    }
}

async fn serve<H: Handler>(
    runtime: Arc<dyn Runtime>,
    sock: Box<dyn AsyncSocket>,
    config: Arc<seashell_proto::ServerConfig>,
    handler: H,
) -> Result<(), Error> {
    let core = ServerConnection::new(config, runtime.now())?;
    let shared = Shared::new(Conn::Server(core));
    Driver::new(shared, sock, runtime, Some(Box::new(Decisions(handler)))).await
}

/// Answers a server connection's decisions through the [`Handler`].
struct Decisions<H>(H);

impl<H: Handler> Decide for Decisions<H> {
    fn decide(&mut self, shared: &Arc<Shared>, ev: Event) {
        let handler = &mut self.0;
        match ev {
            Event::AuthRequest(req) => {
                let decision = handler.auth(req.user(), req.attempt());
                if let Some(s) = shared.lock().server() {
                    let _ = s.answer_auth(req, decision);
                }
            }
            Event::ClientAuthenticated(who) => handler.authenticated(&who.user, who.key.as_ref()),
            Event::ChannelOpenRequest(incoming) => {
                let mut st = shared.lock();
                if let Some(Ok(id)) = st.server().map(|s| s.accept_channel(incoming)) {
                    st.channels.insert(id, ChanState::default());
                }
            }
            Event::ChannelRequest(req) => {
                let id = req.channel();
                let open = shared.lock().channels.contains_key(&id);
                let ok = open && {
                    let channel = ServerChannel {
                        handle: Handle {
                            shared: shared.clone(),
                            id,
                        },
                    };
                    handler.session_request(&channel, req.kind())
                };
                if let Some(s) = shared.lock().server() {
                    let _ = s.reply_request(req, ok);
                }
            }
            _ => {}
        }
    }
}

/// A session channel as the handler sees it: cloneable, usable from any task.
#[derive(Debug, Clone)]
pub struct ServerChannel {
    handle: Handle,
}

/// stdout or stderr of a [`ServerChannel`] (`AsyncWrite`). A write waits while the
/// client's window is shut: back-pressure reaches the writer. Closing it sends EOF.
#[derive(Debug, Clone)]
pub struct ChannelWriter {
    handle: Handle,
    stderr: bool,
}

/// What the client sends on a [`ServerChannel`], the command's stdin (`AsyncRead`). Reading
/// returns the client's window to it, so an unread channel stops the client.
#[derive(Debug, Clone)]
pub struct ChannelReader {
    handle: Handle,
}

impl ServerChannel {
    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.handle.id
    }

    /// A writer for the command's stdout.
    pub fn stdout(&self) -> ChannelWriter {
        ChannelWriter {
            handle: self.handle.clone(),
            stderr: false,
        }
    }

    /// A writer for the command's stderr.
    pub fn stderr(&self) -> ChannelWriter {
        ChannelWriter {
            handle: self.handle.clone(),
            stderr: true,
        }
    }

    /// A reader of what the client sends (the command's stdin).
    pub fn stdin(&self) -> ChannelReader {
        ChannelReader {
            handle: self.handle.clone(),
        }
    }

    /// Sends EOF on stdout/stderr: no more output.
    pub fn eof(&self) {
        let _ = self.handle.eof();
    }

    /// Reports the exit status and closes the channel. Everything written before is sent
    /// first (writes complete only once the core has taken them).
    pub fn exit(&self, status: u32) {
        let _ = self.handle.command(|c| {
            c.exit_status(status)?;
            c.eof()?;
            c.close()
        });
    }

    /// Reports death by `signal` (name without "SIG") and closes the channel.
    pub fn exit_signal(&self, signal: &str) {
        let _ = self.handle.command(|c| {
            c.exit_signal(signal, false, "")?;
            c.eof()?;
            c.close()
        });
    }

    /// Whether the channel is closed (the client went away or the command exited).
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

impl Stream for ChannelWriter {
    fn handle(&self) -> &Handle {
        &self.handle
    }
    fn ext(&self) -> bool {
        self.stderr
    }
}

impl Stream for ChannelReader {
    fn handle(&self) -> &Handle {
        &self.handle
    }
    fn ext(&self) -> bool {
        false
    }
}

impl_async_write!(ChannelWriter);
impl_async_write!(&ChannelWriter);
impl_async_read!(ChannelReader);
impl_async_read!(&ChannelReader);
