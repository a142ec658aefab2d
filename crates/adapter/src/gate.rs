//! [`Gate`]: what a server decides about a connection before and around the SSH protocol,
//! the same for every adapter: the PROXY protocol header that names the real client
//! ([`ProxyRead`]), admission control ([`Admission`]: `MaxStartups`,
//! `PerSourceMaxStartups`, `PerSourcePenalties`, `MaxConnections`), and the counters
//! ([`ServerMetrics`]). Each admitted connection carries a [`ConnectionGate`] that its
//! decisions update: authenticated (it stops counting as a startup), ended (its source is
//! penalised as sshd would).

use crate::admission::{Admission, AdmissionConfig, Admitted, Penalty, Refused};
use crate::error::Error;
use crate::metrics::{DropReason, RefusalReason, ServerMetrics};
use crate::proxy_protocol::{self, MAX_HEADER_LEN, ProxyError, ProxyHeader};
use crate::wait::WakerSet;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How long a load balancer may take to send its PROXY header.
pub const PROXY_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Most connections whose PROXY header is being read at once; more are closed at once
/// (each costs a thread or a task until its header or [`PROXY_HEADER_TIMEOUT`]).
pub const MAX_PROXY_READS: usize = 256;

/// A server's gate (one per listener, shared by its connections).
#[derive(Debug)]
pub struct Gate {
    admission: Arc<Admission>,
    metrics: Arc<ServerMetrics>,
    proxy_protocol: bool,
    /// Connections whose PROXY header is being read.
    proxy_reads: Arc<AtomicUsize>,
    /// How long a connection's output may wait for a socket that takes none of it.
    write_timeout: Option<Duration>,
}

impl Default for Gate {
    /// sshd's defaults, no PROXY protocol.
    fn default() -> Gate {
        Gate::new(AdmissionConfig::default(), false)
    }
}

impl Gate {
    /// A gate enforcing `admission`; with `proxy_protocol`, every connection must start
    /// with a PROXY protocol header (v1 or v2) naming the real client, and one without is
    /// dropped. Off, a PROXY header is an invalid SSH identification: nobody can spoof an
    /// address on a listener that does not expect one.
    pub fn new(admission: AdmissionConfig, proxy_protocol: bool) -> Gate {
        let metrics = Arc::new(ServerMetrics::new());
        Gate {
            admission: Arc::new(Admission::new(admission).with_metrics(metrics.clone())),
            metrics,
            proxy_protocol,
            proxy_reads: Arc::default(),
            write_timeout: Some(crate::write_deadline::DEFAULT_WRITE_TIMEOUT),
        }
    }

    /// How long a connection's output may wait for a socket that takes none of it before
    /// the connection is dropped (default
    /// [`DEFAULT_WRITE_TIMEOUT`](crate::DEFAULT_WRITE_TIMEOUT); `None`: no limit): what
    /// ends an authenticated client that stops reading while it keeps sending requests.
    pub fn with_write_timeout(mut self, timeout: Option<Duration>) -> Gate {
        self.write_timeout = timeout;
        self
    }

    /// A slot to read one connection's PROXY header in, or `None` when
    /// [`MAX_PROXY_READS`] are being read (the connection is then closed and counted).
    pub fn begin_proxy_read(&self) -> Option<ProxyReadSlot> {
        let n = self.proxy_reads.fetch_add(1, Ordering::AcqRel);
        let slot = ProxyReadSlot {
            reads: self.proxy_reads.clone(),
        };
        if n >= MAX_PROXY_READS {
            drop(slot);
            self.proxy_failed();
            return None;
        }
        Some(slot)
    }

    /// The counters of every connection through this gate.
    pub fn metrics(&self) -> &Arc<ServerMetrics> {
        &self.metrics
    }

    /// The admission state (for inspection: counts, penalised sources).
    pub fn admission(&self) -> &Arc<Admission> {
        &self.admission
    }

    /// Whether connections start with a PROXY protocol header.
    pub fn expects_proxy_header(&self) -> bool {
        self.proxy_protocol
    }

    /// A new connection from `peer` (the real client: after the PROXY header, if any) at
    /// `now`: admitted, or refused and counted.
    pub fn admit(&self, peer: SocketAddr, now: Instant) -> Result<ConnectionGate, Refused> {
        let admitted = match self.admission.admit(peer.ip(), now) {
            Ok(a) => a,
            Err(refused) => {
                #[cfg(feature = "tracing")]
                tracing::info!(%peer, reason = %refused, "connection refused");
                return Err(refused);
            }
        };
        Ok(ConnectionGate {
            admitted,
            metrics: self.metrics.clone(),
            peer,
            auth_attempted: false,
            write_timeout: self.write_timeout,
        })
    }

    /// A connection whose PROXY header was bad or late: counted, then dropped.
    pub fn proxy_failed(&self) {
        #[cfg(feature = "tracing")]
        tracing::info!("connection dropped: no valid PROXY protocol header");
        self.metrics.connection_refused(RefusalReason::ProxyHeader);
    }
}

/// A connection's PROXY header being read; dropping it frees the slot.
#[derive(Debug)]
pub struct ProxyReadSlot {
    reads: Arc<AtomicUsize>,
}

impl Drop for ProxyReadSlot {
    fn drop(&mut self) {
        self.reads.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Connections whose PROXY header has been read, handed from the readers (threads or tasks)
/// back to the accept loop, which admits them under their real address.
#[derive(Debug)]
pub struct Arrivals<S> {
    inner: Mutex<(VecDeque<Arrival<S>>, WakerSet)>,
}

/// A connection ready for admission: its socket, the client's real address, and the bytes
/// that followed the PROXY header (the start of its SSH identification).
#[derive(Debug)]
pub struct Arrival<S> {
    /// The connection.
    pub sock: S,
    /// The client, as the PROXY header names it (or the socket's peer for `LOCAL`).
    pub peer: SocketAddr,
    /// What came after the header: feed it to the connection first.
    pub early: Vec<u8>,
}

impl<S> Default for Arrivals<S> {
    fn default() -> Self {
        Arrivals {
            inner: Mutex::new((VecDeque::new(), WakerSet::default())),
        }
    }
}

impl<S> Arrivals<S> {
    /// An empty queue.
    pub fn new() -> Arc<Arrivals<S>> {
        Arc::new(Arrivals::default())
    }

    /// A reader hands over a connection and wakes the accept loop.
    pub fn push(&self, arrival: Arrival<S>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0.push_back(arrival);
        g.1.wake();
    }

    /// The next connection, or `Pending` with `cx` registered.
    pub fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Arrival<S>> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match g.0.pop_front() {
            Some(a) => Poll::Ready(a),
            None => {
                g.1.register(cx.waker());
                Poll::Pending
            }
        }
    }

    /// The next connection, if one is waiting (registering `w` for the next otherwise).
    pub fn take(&self, w: &Waker) -> Option<Arrival<S>> {
        match self.poll_next(&mut Context::from_waker(w)) {
            Poll::Ready(a) => Some(a),
            Poll::Pending => None,
        }
    }
}

/// One admitted connection's place at the gate, kept by its decisions.
#[derive(Debug)]
pub struct ConnectionGate {
    admitted: Admitted,
    metrics: Arc<ServerMetrics>,
    peer: SocketAddr,
    auth_attempted: bool,
    write_timeout: Option<Duration>,
}

impl ConnectionGate {
    /// The write timeout of the gate it came through.
    pub fn write_timeout(&self) -> Option<Duration> {
        self.write_timeout
    }

    /// The client's address (from the PROXY header when there was one).
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The client sent an authentication request; `real`: not the `none` method, which
    /// only asks which methods there are.
    pub(crate) fn auth_attempt(&mut self, real: bool) {
        self.auth_attempted |= real;
    }

    /// The connection carried these bytes (read, written).
    pub(crate) fn traffic(&self, bytes_in: u64, bytes_out: u64) {
        self.metrics.add_bytes_in(bytes_in);
        self.metrics.add_bytes_out(bytes_out);
    }

    /// An attempt was refused.
    pub(crate) fn auth_failed(&self) {
        self.metrics.auth_failure();
    }

    /// The client authenticated: it no longer counts as a startup.
    pub(crate) fn authenticated(&mut self) {
        self.metrics.auth_success();
        self.admitted.authenticated();
    }

    /// The connection ended with `reason` (`panicking`: its handling panicked). Penalises
    /// the source as sshd does and counts the drop.
    pub(crate) fn ended(mut self, reason: &Error, panicking: bool, now: Instant) {
        let grace = matches!(reason, Error::Ssh(seashell_proto::Error::Timeout));
        if let Some(drop) = drop_reason(reason) {
            self.metrics.connection_dropped(drop);
        }
        if panicking {
            self.admitted.penalise(Penalty::Crash, now);
        } else if !self.admitted.is_authenticated() {
            let kind = Penalty::at_preauth_end(grace, false, self.auth_attempted);
            self.admitted.penalise(kind, now);
        }
        self.admitted.close(now);
    }
}

/// How a connection's end counts among the drops.
fn drop_reason(reason: &Error) -> Option<DropReason> {
    use seashell_proto::Error as P;
    use seashell_proto::error::PeerMisbehaved;
    match reason {
        Error::Ssh(P::Timeout) => Some(DropReason::GraceExceeded),
        Error::Ssh(P::KeepaliveTimeout { .. } | P::IdleTimeout) => Some(DropReason::Idle),
        Error::Ssh(P::PeerMisbehaved(PeerMisbehaved::KexStalled)) => Some(DropReason::Flood),
        _ => None,
    }
}

/// Reads a PROXY protocol header off the start of a connection, bounded to
/// [`MAX_HEADER_LEN`] bytes. Feed it what the socket gives; once it has the header, the
/// bytes after it (the client's SSH identification, often in the same segment) go to the
/// connection first.
#[derive(Debug, Default)]
pub struct ProxyRead {
    buf: Vec<u8>,
}

impl ProxyRead {
    /// A reader with nothing yet.
    pub fn new() -> ProxyRead {
        ProxyRead::default()
    }

    /// How many bytes to read next at most (never past the longest header).
    pub fn want(&self) -> usize {
        MAX_HEADER_LEN.saturating_sub(self.buf.len()).max(1)
    }

    /// Adds `data` read from the socket (empty: the peer closed it). `Ok(None)`: more is
    /// needed; `Ok(Some((header, rest)))`: the header and the bytes after it.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<(ProxyHeader, Vec<u8>)>, ProxyError> {
        if data.is_empty() {
            return Err(ProxyError::Truncated);
        }
        self.buf.extend_from_slice(data);
        match proxy_protocol::parse(&self.buf)? {
            None => Ok(None),
            Some((header, used)) => {
                let rest = self.buf.split_off(used.min(self.buf.len()));
                Ok(Some((header, rest)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_header_and_the_identification_after_it() {
        let mut r = ProxyRead::new();
        let wire = b"PROXY TCP4 192.0.2.7 198.51.100.1 40000 22\r\nSSH-2.0-x\r\n";
        assert!(r.feed(&wire[..10]).unwrap().is_none());
        let (header, rest) = r.feed(&wire[10..]).unwrap().unwrap();
        let socket_peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(
            header.peer_or(socket_peer),
            "192.0.2.7:40000".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(rest, b"SSH-2.0-x\r\n");
    }

    #[test]
    fn an_ssh_client_on_a_proxy_listener_is_refused() {
        let mut r = ProxyRead::new();
        assert!(r.feed(b"SSH-2.0-OpenSSH_10.0\r\n").is_err());
        assert!(ProxyRead::new().feed(b"").is_err());
    }

    #[test]
    fn admitted_connections_count_and_penalise_at_the_end() {
        let gate = Gate::default();
        let peer: SocketAddr = "192.0.2.9:5000".parse().unwrap();
        let now = Instant::now();
        let mut c = gate.admit(peer, now).unwrap();
        c.auth_attempt(false);
        c.auth_attempt(true);
        c.auth_failed();
        c.ended(
            &Error::Ssh(seashell_proto::Error::ConnectionClosed),
            false,
            now,
        );
        let m = gate.metrics().snapshot();
        assert_eq!(m.auth_failures, 1);
        assert_eq!(m.penalties_of(Penalty::AuthFail), 1);
    }
}
