//! The forwards of the command line (`-L`, `-R`, `-D` and their keywords), set up after
//! authentication the way ssh does: the local listeners first, then the remote requests, with
//! ssh's messages and its `ExitOnForwardFailure` rules.
//!
//! Local forwards listen here and open a `direct-tcpip` (or `direct-streamlocal`) channel for
//! each connection; dynamic forwards are the blocking adapter's SOCKS listener; remote forwards
//! are `tcpip-forward` (or `streamlocal-forward`) requests whose connections the adapter
//! connects to the target.

use crate::forward::{BindAddress, Forward, ForwardSpec, Listen, Target};
use crate::log::Log;
use crate::relay::{self, LocalStream};
use crate::run::clean;
use crate::session_options::SessionOptions;
use seashell_blocking::{Channel, Error, ForwardTarget, Session};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The number ssh would give the next channel (listeners, the session and each forwarded
/// connection take one), for `channel N: open failed` messages.
static NEXT_CHANNEL: AtomicU32 = AtomicU32::new(0);

/// Takes the next channel number.
pub fn next_channel() -> u32 {
    NEXT_CHANNEL.fetch_add(1, Ordering::SeqCst)
}

/// The running forwards; dropping it stops the dynamic ones from accepting.
#[derive(Debug, Default)]
pub struct Tunnels {
    _dynamic: Vec<seashell_blocking::Forward>,
}

/// What an unsupported forward is called in the refusal (checked before connecting).
pub fn unsupported(spec: &ForwardSpec) -> Option<&'static str> {
    match spec {
        ForwardSpec::Remote(Forward {
            target: Target::Dynamic,
            ..
        }) => Some("remote dynamic forwarding (-R [bind_address:]port) is"),
        ForwardSpec::Local(Forward {
            listen: Listen::Unix(_),
            target: Target::Dynamic,
        }) => Some("dynamic forwarding on a Unix-domain socket is"),
        _ => None,
    }
}

/// Sets up every forward. `Err` is the fatal message (`ExitOnForwardFailure`).
pub fn start(session: &Session, o: &SessionOptions, log: Log) -> Result<Tunnels, String> {
    let gateway = o.gateway_ports == Some(true);
    let exit_on_failure = o.exit_on_forward_failure == Some(true);
    let mut tunnels = Tunnels::default();
    if o.clear_all_forwardings == Some(true) {
        log.debug("ClearAllForwardings: no forwards");
        return Ok(tunnels);
    }
    let unlink = o.stream_local_bind_unlink == Some(true);
    let (mut tried, mut done) = (0, 0);
    for spec in &o.forwards {
        if let ForwardSpec::Local(f) = spec {
            log.debug(&format!(
                "Local connections to {} forwarded to remote address {}",
                f.listen.describe(gateway),
                f.target
            ));
            tried += 1;
            let how = LocalSetup {
                gateway,
                unlink,
                log,
            };
            done += usize::from(start_local(session, f, how, &mut tunnels));
        }
    }
    if tried > 0 && done != tried && exit_on_failure {
        return Err("Could not request local forwarding.".to_owned());
    }
    if tried > 0 && done == 0 {
        log.error("Could not request local forwarding.");
    }
    for spec in &o.forwards {
        if let ForwardSpec::Remote(f) = spec {
            log.debug(&format!(
                "Remote connections from {} forwarded to local address {}",
                f.listen.describe(false),
                f.target
            ));
            if let Err(listen) = start_remote(session, f, log) {
                let what = format!("remote port forwarding failed for {listen}");
                if exit_on_failure {
                    return Err(format!("Error: {what}"));
                }
                log.warn(&format!("Warning: {what}"));
            }
        }
    }
    Ok(tunnels)
}

/// Asks the server for one remote forward; `Err` names the listener as ssh's message does.
fn start_remote(session: &Session, f: &Forward, log: Log) -> Result<(), String> {
    let target = match &f.target {
        Target::Tcp { host, port } => ForwardTarget::Tcp {
            host: host.clone(),
            port: *port,
        },
        Target::Unix(path) => ForwardTarget::Unix(PathBuf::from(path)),
        Target::Dynamic => return Err(f.listen.describe(false)),
    };
    match &f.listen {
        Listen::Tcp { bind, port } => {
            let asked = u32::from(*port);
            let bound = session
                .forward_remote(bind.remote_request(), asked, target)
                .map_err(|e| {
                    log.debug(&format!("remote forward failure: {e}"));
                    format!("listen port {port}")
                })?;
            log.debug(&format!(
                "remote forward success for: listen {}, connect {}",
                f.listen.describe(false),
                f.target
            ));
            if asked == 0 {
                log.warn(&format!(
                    "Allocated port {bound} for remote forward to {}",
                    f.target
                ));
            }
            Ok(())
        }
        Listen::Unix(path) => session
            .forward_remote_streamlocal(path, target)
            .map_err(|e| {
                log.debug(&format!("remote forward failure: {e}"));
                format!("listen path {path}")
            }),
    }
}

/// How local listeners are set up.
#[derive(Debug, Clone, Copy)]
struct LocalSetup {
    /// `-g`/`GatewayPorts`.
    gateway: bool,
    /// `StreamLocalBindUnlink`.
    unlink: bool,
    log: Log,
}

/// Starts one local or dynamic forward; `false` (after ssh's messages) if it could not listen.
fn start_local(session: &Session, f: &Forward, how: LocalSetup, tunnels: &mut Tunnels) -> bool {
    let log = how.log;
    let (bind, port) = match &f.listen {
        Listen::Unix(path) => return listen_unix(session, path, &f.target, how),
        Listen::Tcp { bind, port } => (bind, *port),
    };
    let (addrs, one_is_enough) = match bind_addresses(bind, how.gateway, port) {
        Ok(a) => a,
        Err(msg) => {
            log.error(&msg);
            return false;
        }
    };
    let mut bound = 0;
    for (i, addr) in addrs.iter().enumerate() {
        let r = match &f.target {
            Target::Dynamic => session
                .forward_dynamic(&addr.to_string())
                .map(|fwd| tunnels._dynamic.push(fwd)),
            target => TcpListener::bind(addr)
                .map(|l| serve(session, Listener::Tcp(l), target.clone(), log))
                .map_err(Error::Io),
        };
        match r {
            Ok(()) => {
                log.debug(&format!(
                    "Local forwarding listening on {} port {port}.",
                    addr.ip()
                ));
                next_channel();
                bound += 1;
                if one_is_enough {
                    break;
                }
            }
            Err(e) => {
                let msg = format!("bind [{}]:{port}: {}", addr.ip(), error_text(&e));
                if i + 1 == addrs.len() {
                    log.error(&msg);
                } else {
                    log.verbose(&msg);
                }
            }
        }
    }
    if bound == 0 {
        log.error(&format!("cannot listen to port: {port}"));
    }
    bound > 0
}

/// The addresses a local forward binds, as ssh chooses them: the loopback addresses by
/// default, every address with `-g` or `*`, else the host's addresses. With `true`, the
/// first that binds is enough (the IPv6 wildcard also takes IPv4 connections).
fn bind_addresses(
    bind: &BindAddress,
    gateway: bool,
    port: u16,
) -> Result<(Vec<SocketAddr>, bool), String> {
    let at = |ip: IpAddr| SocketAddr::new(ip, port);
    match bind.local_bind(gateway) {
        None => Ok((
            vec![
                at(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
                at(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            ],
            true,
        )),
        Some("localhost") => Ok((
            vec![
                at(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                at(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ],
            false,
        )),
        Some(host) => {
            let addrs = (host, port)
                .to_socket_addrs()
                .map_err(|e| format!("getaddrinfo({host}): {}", clean(&e.to_string())))?;
            Ok((addrs.collect(), false))
        }
    }
}

/// Listens on a Unix-domain socket for a local forward (removing a file already there with
/// `StreamLocalBindUnlink=yes`).
fn listen_unix(session: &Session, path: &str, target: &Target, how: LocalSetup) -> bool {
    let log = how.log;
    if how.unlink
        && let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log.error(&format!("unlink({path}): {}", clean(&e.to_string())));
    }
    match UnixListener::bind(path) {
        Ok(l) => {
            log.debug(&format!("Local forwarding listening on path {path}."));
            next_channel();
            serve(session, Listener::Unix(l), target.clone(), log);
            true
        }
        Err(e) => {
            log.error(&format!(
                "cannot bind to path {path}: {}",
                clean(&e.to_string())
            ));
            false
        }
    }
}

/// A local forward's listening socket.
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    fn accept(&self) -> std::io::Result<LocalStream> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                LocalStream::Tcp(s)
            }),
            Listener::Unix(l) => l.accept().map(|(s, _)| LocalStream::Unix(s)),
        }
    }
}

/// Accepts connections on a thread and forwards each on a thread of its own, for as long as
/// the process runs.
fn serve(session: &Session, listener: Listener, target: Target, log: Log) {
    let session = session.clone();
    let _ = std::thread::Builder::new()
        .name("seashell-listen".into())
        .spawn(move || {
            while !session.is_closed() {
                let Ok(stream) = listener.accept() else {
                    // Out of descriptors, say: try again a little later.
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    continue;
                };
                let (session, target) = (session.clone(), target.clone());
                let _ = std::thread::Builder::new()
                    .name("seashell-forward".into())
                    .spawn(move || {
                        if let Some(channel) = open(&session, &target, log) {
                            relay::relay(stream, channel);
                        }
                    });
            }
        });
}

/// Opens the channel for one forwarded connection, with ssh's message if the server refuses.
pub fn open(session: &Session, target: &Target, log: Log) -> Option<Channel> {
    let number = next_channel();
    let r = match target {
        Target::Tcp { host, port } => session.open_direct_tcpip(host, *port),
        Target::Unix(path) => session.open_direct_streamlocal(path),
        Target::Dynamic => return None,
    };
    match r {
        Ok(c) => Some(c),
        Err(e) => {
            log.error(&format!(
                "channel {number}: open failed: {}",
                open_failure(&e)
            ));
            None
        }
    }
}

/// An open failure as ssh words it: `connect failed: Connection refused`.
pub fn open_failure(e: &Error) -> String {
    match e {
        Error::OpenFailed {
            reason,
            description,
        } => {
            let why = match reason {
                1 => "administratively prohibited",
                2 => "connect failed",
                3 => "unknown channel type",
                4 => "resource shortage",
                _ => "unknown reason",
            };
            if description.is_empty() {
                why.to_owned()
            } else {
                format!("{why}: {description}")
            }
        }
        other => error_text(other),
    }
}

/// An error's text without Rust's `(os error N)`.
fn error_text(e: &Error) -> String {
    clean(&e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses_follow_ssh() {
        let (a, one) = bind_addresses(&BindAddress::Default, false, 80).unwrap();
        assert_eq!(
            a,
            ["[::1]:80", "127.0.0.1:80"].map(|s| s.parse::<SocketAddr>().unwrap())
        );
        assert!(!one);
        let (a, one) = bind_addresses(&BindAddress::Default, true, 80).unwrap();
        assert_eq!(
            a,
            ["[::]:80", "0.0.0.0:80"].map(|s| s.parse::<SocketAddr>().unwrap())
        );
        assert!(one);
        let any = bind_addresses(&BindAddress::Any, false, 80).unwrap();
        assert_eq!(any.0.len(), 2);
        let host = bind_addresses(&BindAddress::Host("localhost".into()), true, 80).unwrap();
        assert_eq!(host.0.len(), 2, "localhost is the loopback addresses");
        let v4 = bind_addresses(&BindAddress::Host("127.0.0.1".into()), false, 80).unwrap();
        assert_eq!(v4.0, vec!["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
        let bad = bind_addresses(&BindAddress::Host("no.such.host.invalid".into()), false, 80);
        assert!(
            bad.unwrap_err()
                .starts_with("getaddrinfo(no.such.host.invalid): ")
        );
    }

    #[test]
    fn open_failures_are_worded_as_ssh() {
        let e = Error::OpenFailed {
            reason: 2,
            description: "Connection refused".into(),
        };
        assert_eq!(open_failure(&e), "connect failed: Connection refused");
        let e = Error::OpenFailed {
            reason: 1,
            description: String::new(),
        };
        assert_eq!(open_failure(&e), "administratively prohibited");
    }

    #[test]
    fn remote_dynamic_is_named_as_unsupported() {
        let mut o = SessionOptions::default();
        o.forward_flag("8080", crate::forward::ForwardKind::Remote)
            .unwrap();
        assert!(unsupported(&o.forwards[0]).is_some());
        o.forward_flag("8081:h:80", crate::forward::ForwardKind::Remote)
            .unwrap();
        assert!(unsupported(&o.forwards[1]).is_none());
    }
}
