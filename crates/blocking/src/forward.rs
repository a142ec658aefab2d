//! Port forwarding on threads: local (`-L`), remote (`-R`) and dynamic (`-D`, SOCKS)
//! forwards, direct-tcpip streams, and the server's side of forwarding. What is not I/O
//! (opening channels, global requests, the forwarding tables, the policy, the SOCKS codec)
//! is in seashell-adapter; here are the listeners, the connections and the copying threads.

use crate::channel::Channel;
use crate::session::Session;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use seashell_adapter::{
    ActiveListen, Error, Forward, ForwardTarget, GlobalCall, Incoming, ListenRequest, ListenerStop,
    Opening, Shared, SocksFailure, SocksServer, block_on, forwarded_tcpip, listen_address,
};
use seashell_proto::{ChannelKind, GlobalRequestKind, IncomingGlobalRequest, OpenFailure};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// How long a connect to a forward's target may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often an accept loop looks at its stop signal.
const STOP_CHECK: Duration = Duration::from_millis(200);
/// Copy buffer size per direction.
const COPY_BUF: usize = 64 * 1024;

/// Binds a listen specification.
fn bind(spec: &str) -> io::Result<TcpListener> {
    TcpListener::bind(listen_address(spec))
}

/// Connects to a TCP target, trying each address.
fn connect(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address"));
    for a in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn open(shared: &Arc<Shared>, kind: ChannelKind) -> Result<Channel, Error> {
    let mut opening = Opening::new(shared, kind)?;
    Ok(Channel::new(block_on(|cx| opening.poll(cx))?))
}

fn direct_tcpip(host: &str, port: u16, from: Option<SocketAddr>) -> ChannelKind {
    ChannelKind::DirectTcpip {
        host: host.to_owned(),
        port: u32::from(port),
        originator: from.map_or_else(|| "127.0.0.1".to_owned(), |a| a.ip().to_string()),
        originator_port: from.map_or(0, |a| u32::from(a.port())),
    }
}

/// Runs `f` on a thread of its own.
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    let _ = std::thread::Builder::new().name(name.to_owned()).spawn(f);
}

impl Session {
    /// Opens a `direct-tcpip` channel: the server connects to `host:port`, and the channel
    /// is the byte stream to it (`Read` + `Write`; [`send_eof`](seashell_adapter::ChannelHandle::send_eof) ends our side).
    pub fn open_direct_tcpip(&self, host: &str, port: u16) -> Result<Channel, Error> {
        open(self.shared(), direct_tcpip(host, port, None))
    }

    /// Opens a `direct-streamlocal@openssh.com` channel to the Unix socket `path` on the
    /// server.
    pub fn open_direct_streamlocal(&self, path: &str) -> Result<Channel, Error> {
        let kind = ChannelKind::DirectStreamlocal {
            path: path.to_owned(),
        };
        open(self.shared(), kind)
    }

    /// Local forward (ssh `-L`): listens on `bind` and forwards each connection through the
    /// server to `target`.
    pub fn forward_local(&self, bind_addr: &str, target: ForwardTarget) -> Result<Forward, Error> {
        let session = self.clone();
        self.serve_listener(bind(bind_addr)?, move |sock, peer| {
            let kind = match &target {
                ForwardTarget::Tcp { host, port } => direct_tcpip(host, *port, Some(peer)),
                ForwardTarget::Unix(path) => ChannelKind::DirectStreamlocal {
                    path: path.display().to_string(),
                },
            };
            if let Ok(channel) = open(session.shared(), kind) {
                copy_both(sock, channel);
            }
        })
    }

    /// Dynamic forward (ssh `-D`): a SOCKS4, 4a and 5 server on `bind`; each connection is
    /// forwarded through the server to the target it names.
    pub fn forward_dynamic(&self, bind_addr: &str) -> Result<Forward, Error> {
        let session = self.clone();
        self.serve_listener(bind(bind_addr)?, move |sock, peer| {
            let _ = socks(session.shared(), sock, peer);
        })
    }

    /// Remote forward (ssh `-R`): asks the server to listen on `address:port` (port 0: any)
    /// and forwards each connection it accepts to `target` from here. Returns the port the
    /// server bound.
    pub fn forward_remote(
        &self,
        address: &str,
        port: u32,
        target: ForwardTarget,
    ) -> Result<u32, Error> {
        spawn_incoming_loop(self.shared());
        let mut call: GlobalCall = self.shared().request_remote_forward(address, port)?;
        let bound = block_on(|cx| call.poll(cx))?.unwrap_or(port);
        self.shared().add_remote_forward(bound, target);
        Ok(bound)
    }

    /// Stops a remote forward (`cancel-tcpip-forward`).
    pub fn cancel_remote_forward(&self, address: &str, port: u32) -> Result<(), Error> {
        let mut call = GlobalCall::new(
            self.shared(),
            GlobalRequestKind::CancelTcpipForward {
                address: address.to_owned(),
                port,
            },
        )?;
        block_on(|cx| call.poll(cx))?;
        self.shared().remove_remote_forward(port);
        Ok(())
    }

    /// Remote Unix-socket forward: the server listens on `path` and each connection is
    /// forwarded to `target` from here.
    pub fn forward_remote_streamlocal(
        &self,
        path: &str,
        target: ForwardTarget,
    ) -> Result<(), Error> {
        spawn_incoming_loop(self.shared());
        self.shared().add_remote_unix_forward(path, target);
        let mut call = GlobalCall::new(
            self.shared(),
            GlobalRequestKind::StreamlocalForward {
                path: path.to_owned(),
            },
        )?;
        block_on(|cx| call.poll(cx)).map(drop)
    }

    /// Runs the accept loop of `listener` on a thread; `serve` handles each connection on a
    /// thread of its own.
    fn serve_listener(
        &self,
        listener: TcpListener,
        serve: impl Fn(TcpStream, SocketAddr) + Send + Sync + 'static,
    ) -> Result<Forward, Error> {
        let (forward, loop_stop) = Forward::new(listener.local_addr()?);
        let serve = Arc::new(serve);
        // The session handle keeps the connection up while the forward runs.
        let keep = self.clone();
        spawn("seashell-forward", move || {
            accept_loop(
                &listener,
                accept_tcp,
                &loop_stop,
                || keep.is_closed(),
                |(sock, peer)| {
                    let serve = serve.clone();
                    spawn("seashell-forwarded", move || serve(sock, peer));
                },
            );
        });
        Ok(forward)
    }
}

/// Accepts with `accept` until `stop` is set or `gone()` says the connection ended.
fn accept_loop<L: AsFd, S>(
    listener: &L,
    accept: impl Fn(&L) -> io::Result<S>,
    stop: &ListenerStop,
    gone: impl Fn() -> bool,
    mut each: impl FnMut(S),
) {
    let timeout = Timespec::try_from(STOP_CHECK).ok();
    while !stop.is_set() && !gone() {
        let mut fds = [PollFd::new(listener, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) | Err(_) => continue,
            Ok(_) => {}
        }
        if let Ok(accepted) = accept(listener) {
            each(accepted);
        }
    }
}

/// Accepts a TCP connection, with Nagle off.
fn accept_tcp(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let (sock, peer) = listener.accept()?;
    let _ = sock.set_nodelay(true);
    Ok((sock, peer))
}

/// Starts (once per connection) the thread that places the channels the peer opens towards
/// us: each goes to its target (connected first), the rest are refused.
pub(crate) fn spawn_incoming_loop(shared: &Arc<Shared>) {
    if !shared.claim_incoming_loop() {
        return;
    }
    let shared = shared.clone();
    spawn("seashell-incoming", move || {
        while let Some(incoming) = block_on(|cx| shared.poll_incoming(cx).map(Ok::<_, Error>))
            .ok()
            .flatten()
        {
            let shared = shared.clone();
            spawn("seashell-forwarded", move || place(&shared, incoming));
        }
    });
}

/// A listener a client asked the server for.
enum Listen {
    /// `tcpip-forward`.
    Tcp(ListenRequest),
    /// `streamlocal-forward@openssh.com`.
    Unix {
        request: IncomingGlobalRequest,
        path: String,
        stop: Arc<ListenerStop>,
    },
    /// A forwarded agent's socket for one session.
    Agent(seashell_adapter::AgentListen),
}

/// Server: the thread that binds the listeners clients ask for (`tcpip-forward` and
/// `streamlocal-forward@openssh.com`, allowed by the policy), each served on a thread of
/// its own.
pub(crate) fn spawn_listen_loop(shared: &Arc<Shared>) {
    shared.serve_unix_listens();
    shared.serve_agent_listens();
    let shared = shared.clone();
    spawn("seashell-listen", move || {
        while let Some(listen) = next_listen(&shared) {
            let shared = shared.clone();
            spawn("seashell-listener", move || match listen {
                Listen::Tcp(l) => serve_remote_listener(&shared, l),
                Listen::Unix {
                    request,
                    path,
                    stop,
                } => serve_unix_listener(&shared, request, &path, stop),
                Listen::Agent(agent) => seashell_adapter::serve_agent_listener(&shared, agent),
            });
        }
    });
}

/// The next listen request of either kind; `None` once the connection has ended.
fn next_listen(shared: &Shared) -> Option<Listen> {
    block_on(|cx| {
        if let Poll::Ready(Some(l)) = shared.poll_listen(cx) {
            return Poll::Ready(Some(Listen::Tcp(l)));
        }
        if let Poll::Ready(Some(a)) = shared.poll_agent_listen(cx) {
            return Poll::Ready(Some(Listen::Agent(a)));
        }
        shared.poll_unix_listen(cx).map(|u| {
            u.map(|u| Listen::Unix {
                request: u.request,
                path: u.path,
                stop: u.stop,
            })
        })
    })
}

/// Connects a forwarded channel to its target and copies; refuses it when it has none or the
/// target cannot be reached.
fn place(shared: &Arc<Shared>, incoming: Incoming) {
    // Agent channels: bound to the session first, written once in the adapter layer.
    if matches!(
        incoming.request.kind(),
        ChannelKind::AuthAgent | ChannelKind::AgentConnect
    ) && let Some(ForwardTarget::Unix(path)) = &incoming.target
    {
        let path = path.clone();
        return seashell_adapter::place_agent_channel(shared, incoming.request, &path);
    }
    let sock = match &incoming.target {
        Some(ForwardTarget::Tcp { host, port }) => connect(host, *port).map(Sock::Tcp),
        Some(ForwardTarget::Unix(path)) => UnixStream::connect(path).map(Sock::Unix),
        None => {
            let _ = shared.reject_incoming(
                incoming.request,
                OpenFailure::AdministrativelyProhibited,
                "no forward for this listener",
            );
            return;
        }
    };
    match sock {
        Ok(sock) => {
            if let Ok(owner) = shared.accept_incoming(incoming.request) {
                copy_both(sock, Channel::new(owner));
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

/// Server: binds one client's listener, answers its request, and opens a `forwarded-tcpip`
/// channel for each connection until cancelled.
fn serve_remote_listener(shared: &Arc<Shared>, listen: ListenRequest) {
    let listener = listen.bind_address().and_then(TcpListener::bind);
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
    accept_loop(
        &listener,
        accept_tcp,
        &stop,
        || shared.is_closed(),
        |(sock, peer)| {
            let kind = forwarded_tcpip(&address, bound, peer);
            let shared = shared.clone();
            spawn("seashell-forwarded", move || {
                if let Ok(channel) = open(&shared, kind) {
                    copy_both(sock, channel);
                }
            });
        },
    );
}

/// Server: binds a client's Unix-socket listener at `path` (failing if anything exists
/// there, as sshd with `StreamLocalBindUnlink no`; the socket is the user's only, as with
/// sshd's `StreamLocalBindMask 0177`), answers its request, and opens a
/// `forwarded-streamlocal@openssh.com` channel for each connection until cancelled. The
/// socket file is removed when the listener stops.
fn serve_unix_listener(
    shared: &Arc<Shared>,
    request: IncomingGlobalRequest,
    path: &str,
    stop: Arc<ListenerStop>,
) {
    let (listener, identity) = match bind_unix(path) {
        Ok(bound) => bound,
        Err(_) => return shared.answer_unix_listen(request, path, false, &stop),
    };
    shared.answer_unix_listen(request, path, true, &stop);
    accept_loop(
        &listener,
        |l: &UnixListener| l.accept().map(|(sock, _)| sock),
        &stop,
        || shared.is_closed(),
        |sock| {
            let kind = ChannelKind::ForwardedStreamlocal {
                path: path.to_owned(),
            };
            let shared = shared.clone();
            spawn("seashell-forwarded", move || {
                if let Ok(channel) = open(&shared, kind) {
                    copy_both(Sock::Unix(sock), channel);
                }
            });
        },
    );
    // Remove the socket only if it is still the one bound here.
    if file_identity(path).is_some_and(|now| now == identity) {
        let _ = std::fs::remove_file(path);
    }
}

/// A file's device and inode.
fn file_identity(path: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Binds and listens on a Unix socket at `path`, mode 0600 (set on the socket before
/// `bind`, so the file never exists with a wider mode on Linux), with the file's identity.
fn bind_unix(path: &str) -> io::Result<(UnixListener, (u64, u64))> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    use std::os::unix::fs::PermissionsExt;
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    let file = std::fs::File::from(fd);
    // Not every system takes a mode on an unbound socket; the chmod below covers them.
    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
    let fd = std::os::fd::OwnedFd::from(file);
    rustix::net::bind(&fd, &SocketAddrUnix::new(path)?)?;
    let identity = file_identity(path).ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    rustix::net::listen(&fd, 128)?;
    Ok((UnixListener::from(fd), identity))
}

/// One SOCKS client: reads its request, opens the channel it names, answers, copies.
fn socks(shared: &Arc<Shared>, mut sock: TcpStream, peer: SocketAddr) -> io::Result<()> {
    let mut server = SocksServer::new();
    let mut buf = vec![0u8; 1024];
    let (request, early) = loop {
        let n = sock.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let input = buf.get(..n).unwrap_or_default();
        match server.feed(input) {
            Ok(p) => {
                sock.write_all(&p.send)?;
                if let Some(r) = p.request {
                    break (r, input.get(p.consumed..).unwrap_or_default().to_vec());
                }
            }
            Err(e) => return sock.write_all(e.reply()),
        }
    };
    let kind = direct_tcpip(&request.target.to_string(), request.port, Some(peer));
    let channel = match open(shared, kind) {
        Ok(c) => c,
        Err(_) => return sock.write_all(&request.reply_failure(SocksFailure::HostUnreachable)),
    };
    sock.write_all(&request.reply_success())?;
    if !early.is_empty() {
        (&channel).write_all(&early)?;
    }
    copy_both(sock, channel);
    Ok(())
}

/// A local end of a forward: TCP or a Unix socket.
enum Sock {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl From<TcpStream> for Sock {
    fn from(s: TcpStream) -> Sock {
        Sock::Tcp(s)
    }
}

impl Sock {
    fn try_clone(&self) -> io::Result<Sock> {
        Ok(match self {
            Sock::Tcp(s) => Sock::Tcp(s.try_clone()?),
            Sock::Unix(s) => Sock::Unix(s.try_clone()?),
        })
    }

    fn shutdown_write(&self) {
        let _ = match self {
            Sock::Tcp(s) => s.shutdown(Shutdown::Write),
            Sock::Unix(s) => s.shutdown(Shutdown::Write),
        };
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(buf),
            Sock::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(buf),
            Sock::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Copies `r` to `w` with plain reads and writes (not `io::copy`, which may splice between
/// fds); returns at the end of `r` or on an error.
fn pump(r: &mut impl Read, w: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_BUF];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(buf.get(..n).unwrap_or_default())?;
    }
}

/// Copies both ways between a socket and a channel until both directions have ended (the
/// end of one side's data closes the other's writing side), on this thread and one more.
fn copy_both(sock: impl Into<Sock>, channel: Channel) {
    let sock = sock.into();
    let Ok(mut up_src) = sock.try_clone() else {
        return;
    };
    let up_channel = channel.clone();
    let up = std::thread::Builder::new()
        .name("seashell-copy".into())
        .spawn(move || {
            let _ = pump(&mut up_src, &mut &up_channel);
            let _ = up_channel.send_eof();
        });
    let mut down_dst = sock;
    let _ = pump(&mut &channel, &mut down_dst);
    down_dst.shutdown_write();
    if let Ok(t) = up {
        let _ = t.join();
    }
}

impl crate::Client {
    /// Connects to `addr` (`host:port`) through `via`: SSH over a `direct-tcpip` channel of
    /// an authenticated session (a jump host, ssh's `-J`). The new connection has its own
    /// configuration and host-key policy; hops chain by passing the previous session.
    ///
    /// The connection's I/O thread polls a socket, so the channel reaches it through a
    /// private loopback TCP pair that only accepts its own connection, with two copying
    /// threads between the pair and the channel.
    pub fn connect_via(
        via: &Session,
        addr: &str,
        config: seashell_adapter::ClientConfig,
    ) -> Result<Session, Error> {
        let (host, port) = seashell_adapter::split_host_port(addr);
        let channel = via.open_direct_tcpip(&host, port)?;
        let (ours, theirs) = loopback_pair()?;
        spawn("seashell-jump", move || copy_both(theirs, channel));
        crate::Client::handshake(ours, &host, port, config)
    }
}

/// A connected pair of loopback TCP sockets, the listener accepting only the other end.
fn loopback_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let ours = TcpStream::connect(listener.local_addr()?)?;
    let want = ours.local_addr()?;
    loop {
        let (theirs, from) = listener.accept()?;
        if from == want {
            return Ok((ours, theirs));
        }
    }
}
