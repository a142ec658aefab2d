//! Port forwarding on any runtime: local (`-L`), remote (`-R`) and dynamic (`-D`, SOCKS)
//! forwards, direct-tcpip streams, and SSH over an SSH channel (jump hosts). What is not
//! I/O (opening channels, global requests, the remote-forward table, the SOCKS codec) is in
//! seashell-adapter; here are the listeners, the connections and the byte copying.

use crate::channel::Channel;
use crate::runtime::{AsyncListener, AsyncSocket, Runtime};
use crate::session::Session;
use futures_io::{AsyncRead, AsyncWrite};
use seashell_adapter::{
    ActiveListen, Error, Forward, ForwardTarget, GlobalCall, Incoming, ListenRequest, Opening,
    Shared, SocksFailure, SocksServer, forwarded_tcpip, listen_address,
};
use seashell_proto::{ChannelKind, GlobalRequestKind, OpenFailure};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Copy buffer size per direction.
const COPY_BUF: usize = 64 * 1024;

/// Binds a listen specification as a non-blocking std listener.
fn bind(spec: &str) -> io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(listen_address(spec))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

impl Session {
    /// Opens a `direct-tcpip` channel: the server connects to `host:port`, and the channel
    /// is the byte stream to it (`AsyncRead` + `AsyncWrite`; closing the write side sends
    /// EOF).
    pub async fn open_direct_tcpip(&self, host: &str, port: u16) -> Result<Channel, Error> {
        open_direct(self.shared(), host, port, "127.0.0.1", 0).await
    }

    /// Opens a `direct-streamlocal@openssh.com` channel to the Unix socket `path` on the
    /// server.
    pub async fn open_direct_streamlocal(&self, path: &str) -> Result<Channel, Error> {
        let kind = ChannelKind::DirectStreamlocal {
            path: path.to_owned(),
        };
        let mut opening = Opening::new(self.shared(), kind)?;
        Ok(Channel::new(poll_fn(|cx| opening.poll(cx)).await?))
    }

    /// Local forward (ssh `-L`): listens on `bind` and forwards each connection through the
    /// server to `target`.
    pub async fn forward_local(
        &self,
        bind_addr: &str,
        target: ForwardTarget,
    ) -> Result<Forward, Error> {
        let listener = self.runtime().listen(bind(bind_addr)?)?;
        let shared = self.shared().clone();
        self.serve_listener(listener, move |sock, peer, rt| {
            let shared = shared.clone();
            let target = target.clone();
            Box::pin(async move {
                let opened = match &target {
                    ForwardTarget::Tcp { host, port } => {
                        open_direct(&shared, host, *port, &peer.ip().to_string(), peer.port()).await
                    }
                    ForwardTarget::Unix(path) => {
                        let kind = ChannelKind::DirectStreamlocal {
                            path: path.display().to_string(),
                        };
                        match Opening::new(&shared, kind) {
                            Ok(mut o) => poll_fn(|cx| o.poll(cx)).await.map(Channel::new),
                            Err(e) => Err(e),
                        }
                    }
                };
                if let Ok(channel) = opened {
                    let _ = copy_both(sock, channel).await;
                }
                drop(rt);
            })
        })
    }

    /// Dynamic forward (ssh `-D`): a SOCKS4, 4a and 5 server on `bind`; each connection is
    /// forwarded through the server to the target it names.
    pub async fn forward_dynamic(&self, bind_addr: &str) -> Result<Forward, Error> {
        let listener = self.runtime().listen(bind(bind_addr)?)?;
        let shared = self.shared().clone();
        self.serve_listener(listener, move |sock, peer, rt| {
            let shared = shared.clone();
            Box::pin(async move {
                let _ = socks(shared, sock, peer).await;
                drop(rt);
            })
        })
    }

    /// Remote forward (ssh `-R`): asks the server to listen on `address:port` (port 0: any)
    /// and forwards each connection it accepts to `target` from here. Returns the port the
    /// server bound.
    pub async fn forward_remote(
        &self,
        address: &str,
        port: u32,
        target: ForwardTarget,
    ) -> Result<u32, Error> {
        self.start_incoming_loop();
        let mut call: GlobalCall = self.shared().request_remote_forward(address, port)?;
        let bound = poll_fn(|cx| call.poll(cx)).await?.unwrap_or(port);
        self.shared().add_remote_forward(bound, target);
        Ok(bound)
    }

    /// Stops a remote forward (`cancel-tcpip-forward`).
    pub async fn cancel_remote_forward(&self, address: &str, port: u32) -> Result<(), Error> {
        let mut call = GlobalCall::new(
            self.shared(),
            GlobalRequestKind::CancelTcpipForward {
                address: address.to_owned(),
                port,
            },
        )?;
        poll_fn(|cx| call.poll(cx)).await?;
        self.shared().remove_remote_forward(port);
        Ok(())
    }

    /// Remote Unix-socket forward: the server listens on `path` and each connection is
    /// forwarded to `target` from here.
    pub async fn forward_remote_streamlocal(
        &self,
        path: &str,
        target: ForwardTarget,
    ) -> Result<(), Error> {
        self.start_incoming_loop();
        self.shared().add_remote_unix_forward(path, target);
        let mut call = GlobalCall::new(
            self.shared(),
            GlobalRequestKind::StreamlocalForward {
                path: path.to_owned(),
            },
        )?;
        poll_fn(|cx| call.poll(cx)).await.map(drop)
    }

    /// Runs the accept loop of `listener` on a task; `serve` handles each connection.
    fn serve_listener(
        &self,
        listener: Box<dyn AsyncListener>,
        serve: impl Fn(
            Box<dyn AsyncSocket>,
            SocketAddr,
            Arc<dyn Runtime>,
        ) -> crate::BoxFuture<'static, ()>
        + Send
        + 'static,
    ) -> Result<Forward, Error> {
        let (forward, stop) = Forward::new(listener.local_addr()?);
        let rt = self.runtime().clone();
        let loop_stop = stop.clone();
        // The session handle keeps the connection up while the forward runs.
        let keep = self.clone();
        self.runtime().spawn(Box::pin(async move {
            loop {
                let mut accept = listener.accept();
                let next = poll_fn(|cx| {
                    if loop_stop.poll(cx).is_ready() || keep.is_closed() {
                        return Poll::Ready(None);
                    }
                    accept.as_mut().poll(cx).map(Some)
                })
                .await;
                match next {
                    Some(Ok((sock, peer))) => rt.spawn(serve(sock, peer, rt.clone())),
                    Some(Err(_)) => continue,
                    None => break,
                }
            }
        }));
        Ok(forward)
    }

    /// Starts (once per connection) the task that places the channels the server opens
    /// towards us: each forwarded connection goes to its target, the rest are refused.
    fn start_incoming_loop(&self) {
        spawn_incoming_loop(self.shared(), self.runtime());
    }
}

/// Starts (once per connection) the task that places the channels the peer opens towards
/// us: each goes to its target, the rest are refused. Ends with the connection.
pub(crate) fn spawn_incoming_loop(shared: &Arc<Shared>, rt: &Arc<dyn Runtime>) {
    if !shared.claim_incoming_loop() {
        return;
    }
    let (shared, rt) = (shared.clone(), rt.clone());
    rt.clone().spawn(Box::pin(async move {
        while let Some(incoming) = poll_fn(|cx| shared.poll_incoming(cx)).await {
            let shared = shared.clone();
            let rt2 = rt.clone();
            rt.spawn(Box::pin(async move { place(shared, rt2, incoming).await }));
        }
    }));
}

/// Server: the task that binds the listeners clients ask for (`tcpip-forward`, allowed by
/// the policy) and forwards what they accept. Ends with the connection.
pub(crate) fn spawn_listen_loop(shared: &Arc<Shared>, rt: &Arc<dyn Runtime>) {
    spawn_agent_loop(shared, rt);
    let (shared, rt) = (shared.clone(), rt.clone());
    rt.clone().spawn(Box::pin(async move {
        while let Some(listen) = poll_fn(|cx| shared.poll_listen(cx)).await {
            let shared = shared.clone();
            let rt2 = rt.clone();
            rt.spawn(Box::pin(async move {
                serve_remote_listener(shared, rt2, listen).await
            }));
        }
    }));
}

/// Server: serves forwarded agents' sockets. The runtime has no Unix listener, so each one
/// is served by the adapter layer's blocking loop on a thread of its own (agent
/// connections are few and short); the channels it opens are driven by this connection's
/// driver as any other.
#[cfg(unix)]
fn spawn_agent_loop(shared: &Arc<Shared>, rt: &Arc<dyn Runtime>) {
    shared.serve_agent_listens();
    let shared = shared.clone();
    rt.spawn(Box::pin(async move {
        while let Some(listen) = poll_fn(|cx| shared.poll_agent_listen(cx)).await {
            let shared = shared.clone();
            let _ = std::thread::Builder::new()
                .name("seashell-agent-listen".into())
                .spawn(move || seashell_adapter::serve_agent_listener(&shared, listen));
        }
    }));
}

#[cfg(not(unix))]
fn spawn_agent_loop(_: &Arc<Shared>, _: &Arc<dyn Runtime>) {}

/// Server: binds one client's listener, answers its request, and opens a
/// `forwarded-tcpip` channel for each connection until cancelled.
async fn serve_remote_listener(shared: Arc<Shared>, rt: Arc<dyn Runtime>, listen: ListenRequest) {
    let listener = listen
        .bind_address()
        .and_then(std::net::TcpListener::bind)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(|l| rt.listen(l));
    let bound = listener
        .as_ref()
        .ok()
        .and_then(|l| l.local_addr().ok())
        .map(|a| u32::from(a.port()));
    let (Ok(listener), Some(active)) = (listener, shared.answer_listen(listen, bound)) else {
        return;
    };
    let ActiveListen {
        address,
        port: bound,
        stop,
    } = active;
    loop {
        let mut accept = listener.accept();
        let next = poll_fn(|cx| {
            if stop.poll(cx).is_ready() || shared.is_closed() {
                return Poll::Ready(None);
            }
            accept.as_mut().poll(cx).map(Some)
        })
        .await;
        let (sock, peer) = match next {
            Some(Ok(c)) => c,
            Some(Err(_)) => continue,
            None => break,
        };
        let kind = forwarded_tcpip(&address, bound, peer);
        let shared = shared.clone();
        rt.spawn(Box::pin(async move {
            if let Ok(mut opening) = Opening::new(&shared, kind)
                && let Ok(owner) = poll_fn(|cx| opening.poll(cx)).await
            {
                let _ = copy_both(sock, Channel::new(owner)).await;
            }
        }));
    }
}

/// Connects a forwarded channel to its target and copies; refuses it if it has none or the
/// target cannot be reached.
async fn place(shared: Arc<Shared>, rt: Arc<dyn Runtime>, incoming: Incoming) {
    // Agent channels: bound to the session first, on a thread, written once in the
    // adapter layer (agent connections are few and short).
    #[cfg(unix)]
    if matches!(
        incoming.request.kind(),
        ChannelKind::AuthAgent | ChannelKind::AgentConnect
    ) && let Some(ForwardTarget::Unix(path)) = incoming.target.clone()
    {
        let _ = std::thread::Builder::new()
            .name("seashell-agent".into())
            .spawn(move || seashell_adapter::place_agent_channel(&shared, incoming.request, &path));
        return;
    }
    let connect = match incoming.target.clone() {
        Some(ForwardTarget::Tcp { host, port }) => rt.connect(host, port),
        Some(ForwardTarget::Unix(path)) => rt.connect_unix(path),
        None => {
            let _ = shared.reject_incoming(
                incoming.request,
                OpenFailure::AdministrativelyProhibited,
                "no forward for this listener",
            );
            return;
        }
    };
    match connect.await {
        Ok(sock) => {
            if let Ok(owner) = shared.accept_incoming(incoming.request) {
                let _ = copy_both(sock, Channel::new(owner)).await;
            }
        }
        Err(e) => {
            let _ = shared.reject_incoming(
                incoming.request,
                OpenFailure::ConnectFailed,
                &e.to_string(),
            );
        }
    }
}

async fn open_direct(
    shared: &Arc<Shared>,
    host: &str,
    port: u16,
    originator: &str,
    originator_port: u16,
) -> Result<Channel, Error> {
    let kind = ChannelKind::DirectTcpip {
        host: host.to_owned(),
        port: u32::from(port),
        originator: originator.to_owned(),
        originator_port: u32::from(originator_port),
    };
    let mut opening = Opening::new(shared, kind)?;
    Ok(Channel::new(poll_fn(|cx| opening.poll(cx)).await?))
}

/// One SOCKS client: reads its request, opens the channel it names, answers, copies.
async fn socks(
    shared: Arc<Shared>,
    mut sock: Box<dyn AsyncSocket>,
    peer: SocketAddr,
) -> Result<(), Error> {
    let mut server = SocksServer::new();
    let mut buf = vec![0u8; 1024];
    let (request, early) = loop {
        let n = poll_fn(|cx| Pin::new(&mut sock).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            return Ok(());
        }
        let input = buf.get(..n).unwrap_or_default();
        match server.feed(input) {
            Ok(p) => {
                write_all(&mut sock, &p.send).await?;
                if let Some(r) = p.request {
                    break (r, input.get(p.consumed..).unwrap_or_default().to_vec());
                }
            }
            Err(e) => {
                let _ = write_all(&mut sock, e.reply()).await;
                return Ok(());
            }
        }
    };
    let opened = open_direct(
        &shared,
        &request.target.to_string(),
        request.port,
        &peer.ip().to_string(),
        peer.port(),
    )
    .await;
    let channel = match opened {
        Ok(c) => c,
        Err(_) => {
            let _ = write_all(
                &mut sock,
                &request.reply_failure(SocksFailure::HostUnreachable),
            )
            .await;
            return Ok(());
        }
    };
    write_all(&mut sock, &request.reply_success()).await?;
    if !early.is_empty() {
        let mut c = &channel;
        write_all(&mut c, &early).await?;
    }
    copy_both(sock, channel).await
}

async fn write_all(w: &mut (impl AsyncWrite + Unpin), mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, data)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = data.get(n..).unwrap_or_default();
    }
    Ok(())
}

/// One direction of a copy: a buffer, how much of it is filled and written, and whether
/// the source ended.
struct Half {
    buf: Vec<u8>,
    filled: usize,
    written: usize,
    done: bool,
}

impl Half {
    fn new() -> Half {
        Half {
            buf: vec![0; COPY_BUF],
            filled: 0,
            written: 0,
            done: false,
        }
    }

    /// Moves bytes from `r` to `w` until one of them is pending; at the end of `r`, closes
    /// `w`'s writing side. Ready once done.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        mut r: Pin<&mut (impl AsyncRead + ?Sized)>,
        mut w: Pin<&mut (impl AsyncWrite + ?Sized)>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.done {
                return Poll::Ready(Ok(()));
            }
            if self.written < self.filled {
                let chunk = self.buf.get(self.written..self.filled).unwrap_or_default();
                let n = std::task::ready!(w.as_mut().poll_write(cx, chunk))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.written += n;
                continue;
            }
            let n = std::task::ready!(r.as_mut().poll_read(cx, &mut self.buf))?;
            if n == 0 {
                std::task::ready!(w.as_mut().poll_close(cx))?;
                self.done = true;
                continue;
            }
            self.filled = n;
            self.written = 0;
        }
    }
}

/// Copies both ways between a socket and a channel until both directions have ended: the
/// end of one side's data closes the other's writing side (a TCP half-close, a channel EOF).
pub(crate) async fn copy_both(
    mut sock: Box<dyn AsyncSocket>,
    channel: Channel,
) -> Result<(), Error> {
    let mut up = Half::new();
    let mut down = Half::new();
    let mut chan_r = &channel;
    let mut chan_w = &channel;
    poll_fn(|cx| {
        let a = up.poll(cx, Pin::new(&mut sock), Pin::new(&mut chan_w));
        let b = down.poll(cx, Pin::new(&mut chan_r), Pin::new(&mut sock));
        match (a, b) {
            (Poll::Ready(Err(e)), _) | (_, Poll::Ready(Err(e))) => Poll::Ready(Err(e)),
            (Poll::Ready(Ok(())), Poll::Ready(Ok(()))) => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    })
    .await?;
    Ok(())
}
