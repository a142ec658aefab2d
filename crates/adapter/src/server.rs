//! The one [`Handler`] of every adapter's server, and how a server connection's decisions
//! reach it.

use crate::auth_queue::{AuthQueue, PendingAuth};
use crate::channel::ChannelHandle;
use crate::error::Error;
use crate::forward::{ForwardTarget, ListenRequest, UnixListenRequest};
use crate::forward_policy::ForwardingPolicy;
use crate::gate::ConnectionGate;
use crate::pump::Decide;
use crate::server_channel::ServerChannel;
use crate::shared::Shared;
use crate::trace;
use seashell_proto::kex::negotiate::Negotiated;
use seashell_proto::{
    AuthAttempt, AuthDecision, ChannelId, ChannelKind, Event, GlobalReply, GlobalRequestKind,
    IncomingGlobalRequest, OpenFailure, PublicKey, SessionRequestKind,
};
use std::sync::Arc;
use std::time::Instant;

/// The application's side of a server connection, in every adapter. Every method has a safe
/// default: refuse.
///
/// The handler is called on the connection's driver (its thread in seashell-blocking, its
/// task in seashell-async) and must answer quickly; anything long (a command, a shell) runs
/// on a thread or task of its own, talking to the client through a [`ServerChannel`].
pub trait Handler: Send + 'static {
    /// Decides an authentication attempt by `user`. Signatures are already verified by the
    /// core: [`AuthAttempt::PublicKey`] means the client holds that key.
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        let _ = (user, attempt);
        AuthDecision::Reject
    }

    /// The algorithms the key exchange chose, told once when the client authenticates
    /// (just before [`authenticated`](Self::authenticated)); for logging.
    fn negotiated(&mut self, algorithms: &Negotiated) {
        let _ = algorithms;
    }

    /// The client authenticated as `user` (with `key` when the last proof was a key).
    fn authenticated(&mut self, user: &str, key: Option<&PublicKey>) {
        let _ = (user, key);
    }

    /// A request on a session channel: exec, shell, pty-req, env, subsystem, window-change,
    /// signal. Return whether it is accepted. For exec, shell and subsystem, accepting means
    /// the handler now drives `channel` (typically from a thread or task it starts, holding
    /// a clone) and ends it with [`ServerChannel::exit`].
    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        let _ = (channel, request);
        false
    }

    /// The client's agent is forwarded for the session on `channel` (the request was
    /// allowed by [`ForwardingPolicy::no_agent_forwarding`] and the adapter serves agent
    /// sockets): `socket` is a listening Unix socket in a private 0700 directory, to put
    /// in the session's `SSH_AUTH_SOCK`; each connection to it reaches the client's agent.
    /// Return whether to accept. The default refuses (the socket is then removed).
    fn agent_forwarded(&mut self, channel: &ServerChannel, socket: &std::path::Path) -> bool {
        let _ = (channel, socket);
        false
    }

    /// A channel is closed in both directions; forget anything kept for it.
    fn channel_closed(&mut self, channel: ChannelId) {
        let _ = channel;
    }

    /// A queue to hand every authentication attempt to, instead of [`auth`](Self::auth):
    /// the application takes them from it on any task or thread and answers them whenever
    /// it likes. Asked once per connection. Default: none (attempts go to `auth`).
    fn auth_queue(&mut self) -> Option<AuthQueue> {
        None
    }

    /// What the authenticated client may forward (asked once, right after
    /// [`authenticated`](Self::authenticated), so it can depend on the user and the key).
    /// The default forbids all forwarding; [`ForwardingPolicy::default`] is sshd's default.
    fn forwarding(&mut self) -> ForwardingPolicy {
        ForwardingPolicy::deny_all()
    }

    /// The connection has ended, and why: the client's disconnect, a socket error, or a
    /// fatal protocol error such as [`seashell_proto::Error::KeepaliveTimeout`] (the client
    /// stopped answering keepalives). Told once, when the connection's driver stops, to a
    /// handler that has made at least one decision; for logging.
    fn ended(&mut self, reason: &Error) {
        let _ = reason;
    }
}

/// Answers a server connection's decisions through its [`Handler`], and enforces its
/// forwarding policy.
pub(crate) struct Decisions<H: Handler> {
    handler: H,
    policy: ForwardingPolicy,
    queue: Option<AuthQueue>,
    /// The connection, once a decision came (to tell the handler how it ended).
    shared: Option<Arc<Shared>>,
    /// The connection's place at its server's gate (admission, penalties, counters).
    gate: Option<ConnectionGate>,
    /// The tracing spans of the open session channels.
    channel_spans: std::collections::HashMap<ChannelId, trace::Span>,
    /// The agent listeners of the open session channels.
    agent_stops: std::collections::HashMap<ChannelId, Arc<crate::forward::ListenerStop>>,
}

impl<H: Handler> Decisions<H> {
    pub fn new(mut handler: H, gate: Option<ConnectionGate>) -> Self {
        Decisions {
            queue: handler.auth_queue(),
            handler,
            policy: ForwardingPolicy::deny_all(),
            shared: None,
            gate,
            channel_spans: Default::default(),
            agent_stops: Default::default(),
        }
    }
}

impl<H: Handler> Drop for Decisions<H> {
    fn drop(&mut self) {
        let reason = || match self.shared.as_ref().map(|s| s.check()) {
            Some(Err(e)) => e,
            _ => Error::Ssh(seashell_proto::Error::ConnectionClosed),
        };
        if let Some(gate) = self.gate.take() {
            gate.ended(&reason(), std::thread::panicking(), Instant::now());
        }
        if self.shared.is_some() {
            self.handler.ended(&reason());
        }
    }
}

/// An agent forwarding request: refused unless the policy allows it and the adapter serves
/// agent sockets; then a private socket is bound, offered to the handler, and queued for
/// the adapter's loop (which opens the channel type matching the request's name).
#[cfg(unix)]
fn agent_request<H: Handler>(
    policy: &ForwardingPolicy,
    shared: &Arc<Shared>,
    handler: &mut H,
    channel: &ServerChannel,
    kind: &SessionRequestKind,
) -> Option<Arc<crate::forward::ListenerStop>> {
    if policy.no_agent_forwarding || !shared.lock().serves_agent_listens() {
        return None;
    }
    let (listener, path) = crate::agent_forward::bind_private().ok()?;
    let listen = crate::agent_forward::AgentListen {
        listener,
        path,
        kind: if *kind == SessionRequestKind::AgentReq {
            ChannelKind::AgentConnect
        } else {
            ChannelKind::AuthAgent
        },
        stop: Arc::default(),
    };
    if !handler.agent_forwarded(channel, &listen.path) {
        listen.remove();
        return None;
    }
    let stop = listen.stop.clone();
    let path = listen.path.clone();
    if shared.lock().push_agent_listen(listen) {
        Some(stop)
    } else {
        stop.set();
        let _ = std::fs::remove_file(&path);
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir(dir);
        }
        None
    }
}

/// Without Unix sockets there is no agent forwarding.
#[cfg(not(unix))]
fn agent_request<H: Handler>(
    _: &ForwardingPolicy,
    _: &Arc<Shared>,
    _: &mut H,
    _: &ServerChannel,
    _: &SessionRequestKind,
) -> Option<Arc<crate::forward::ListenerStop>> {
    None
}

/// Where a client's `direct-*` channel goes under `policy`, or why not.
fn direct_target(policy: &ForwardingPolicy, kind: &ChannelKind) -> Result<ForwardTarget, String> {
    match kind {
        ChannelKind::DirectTcpip { host, port, .. } => {
            policy
                .check_direct_tcpip(host, *port)
                .map_err(|d| d.to_string())?;
            let port = u16::try_from(*port).map_err(|_| "bad port".to_owned())?;
            Ok(ForwardTarget::Tcp {
                host: host.clone(),
                port,
            })
        }
        ChannelKind::DirectStreamlocal { path } => {
            policy
                .check_direct_streamlocal(path)
                .map_err(|d| d.to_string())?;
            Ok(ForwardTarget::Unix(path.into()))
        }
        _ => Err("channel type not served".to_owned()),
    }
}

impl<H: Handler> Decide for Decisions<H> {
    fn traffic(&mut self, bytes_in: u64, bytes_out: u64) {
        if let Some(g) = &self.gate {
            g.traffic(bytes_in, bytes_out);
        }
    }

    fn decide(&mut self, shared: &Arc<Shared>, ev: Event) {
        if self.shared.is_none() {
            self.shared = Some(shared.clone());
        }
        let handler = &mut self.handler;
        match ev {
            Event::AuthRequest(req) if self.queue.is_some() => {
                if let Some(g) = &mut self.gate {
                    g.auth_attempt(!matches!(req.attempt(), AuthAttempt::None));
                }
                if let Some(q) = &self.queue {
                    q.push(PendingAuth::new(req, shared.clone(), None));
                }
            }
            Event::AuthRequest(req) => {
                let decision = handler.auth(req.user(), req.attempt());
                trace::event!(
                    info,
                    shared.span(),
                    user = req.user(),
                    method = trace::method(req.attempt()),
                    accepted = !matches!(decision, AuthDecision::Reject),
                    "authentication attempt"
                );
                if let Some(g) = &mut self.gate {
                    let real = !matches!(req.attempt(), AuthAttempt::None);
                    g.auth_attempt(real);
                    // The `none` probe only asks for the methods: not a failed login.
                    if real && matches!(decision, AuthDecision::Reject) {
                        g.auth_failed();
                    }
                }
                let mut st = shared.lock();
                if let Some(s) = st.conn.as_server() {
                    let _ = s.answer_auth(req, decision);
                }
                st.wake_driver();
            }
            Event::ClientAuthenticated(who) => {
                if let Some(n) = shared.negotiated() {
                    trace::negotiated(&shared.span(), &n);
                }
                trace::event!(
                    info,
                    shared.span(),
                    user = %who.user,
                    key = who.key.as_ref().map(|k| k.fingerprint()).unwrap_or_default(),
                    "authenticated"
                );
                if let Some(g) = &mut self.gate {
                    g.authenticated();
                }
                if let Some(n) = shared.negotiated() {
                    handler.negotiated(&n);
                }
                handler.authenticated(&who.user, who.key.as_ref());
                self.policy = handler.forwarding();
            }
            // Forwarded connections go to the adapter's forwarding loop, which connects
            // before it accepts.
            Event::ChannelOpenRequest(incoming) if *incoming.kind() != ChannelKind::Session => {
                match direct_target(&self.policy, incoming.kind()) {
                    Ok(target) => shared.lock().push_target(incoming, target),
                    Err(why) => {
                        let _ = shared.reject_incoming(
                            incoming,
                            OpenFailure::AdministrativelyProhibited,
                            &why,
                        );
                    }
                }
            }
            Event::GlobalRequest(req) => self.global_request(shared, req),
            Event::ChannelOpenRequest(incoming) => {
                let mut st = shared.lock();
                if let Some(Ok(id)) = st.conn.as_server().map(|s| s.accept_channel(incoming)) {
                    st.channels.insert(id, Default::default());
                    let span = trace::channel(&st.span, id.index());
                    trace::event!(debug, span, "session channel open");
                    self.channel_spans.insert(id, span);
                }
            }
            Event::ChannelRequest(req) => {
                let id = req.channel();
                let open = shared.lock().channels.contains_key(&id);
                let ok = open && {
                    let channel = ServerChannel::new(ChannelHandle::new(shared.clone(), id));
                    match req.kind() {
                        SessionRequestKind::AuthAgent | SessionRequestKind::AgentReq => {
                            match agent_request(&self.policy, shared, handler, &channel, req.kind())
                            {
                                Some(stop) => {
                                    if let Some(old) = self.agent_stops.insert(id, stop) {
                                        old.set();
                                    }
                                    true
                                }
                                None => false,
                            }
                        }
                        kind => handler.session_request(&channel, kind),
                    }
                };
                if let Some(span) = self.channel_spans.get(&id) {
                    trace::event!(
                        debug,
                        span,
                        request = trace::request(req.kind()),
                        accepted = ok,
                        "request"
                    );
                }
                let mut st = shared.lock();
                if let Some(s) = st.conn.as_server() {
                    let _ = s.reply_request(req, ok);
                }
            }
            Event::Closed(id) => {
                if let Some(stop) = self.agent_stops.remove(&id) {
                    stop.set();
                }
                if let Some(span) = self.channel_spans.remove(&id) {
                    trace::event!(debug, span, "channel closed");
                }
                handler.channel_closed(id)
            }
            _ => {}
        }
    }
}

impl<H: Handler> Decisions<H> {
    /// `tcpip-forward`, `streamlocal-forward@openssh.com` and their cancels under the
    /// policy (the adapter binds); other requests are refused.
    fn global_request(&mut self, shared: &Arc<Shared>, req: IncomingGlobalRequest) {
        let mut st = shared.lock();
        let reply = match req.kind().clone() {
            // As sshd: port 0 without want-reply could never tell the client its port.
            GlobalRequestKind::TcpipForward { port: 0, .. } if !req.want_reply() => {
                GlobalReply::Failure
            }
            GlobalRequestKind::TcpipForward { address, port } => {
                match self.policy.listen_address(&address, port) {
                    Ok(bind) => {
                        st.push_listen(ListenRequest {
                            request: req,
                            address,
                            bind,
                            port,
                            stop: Arc::default(),
                        });
                        return;
                    }
                    Err(_) => GlobalReply::Failure,
                }
            }
            GlobalRequestKind::CancelTcpipForward { address, port } => {
                match st.forwards.listeners.remove(&(address, port)) {
                    Some(stop) => {
                        stop.set();
                        GlobalReply::Success
                    }
                    None => GlobalReply::Failure,
                }
            }
            GlobalRequestKind::StreamlocalForward { path } => {
                match self.policy.check_streamlocal_listen(&path) {
                    Ok(()) => {
                        st.push_unix_listen(UnixListenRequest {
                            request: req,
                            path,
                            stop: Arc::default(),
                        });
                        return;
                    }
                    Err(_) => GlobalReply::Failure,
                }
            }
            GlobalRequestKind::CancelStreamlocalForward { path } => {
                if st.cancel_unix_listen(&path) {
                    GlobalReply::Success
                } else {
                    GlobalReply::Failure
                }
            }
            _ => GlobalReply::Failure,
        };
        let _ = st.conn.reply_global(req, reply);
        st.wake_driver();
    }
}
