//! # seashell-adapter: what every I/O adapter shares
//!
//! The blocking, tokio and smol adapters present the same API. Everything in it that is not
//! I/O lives here once:
//!
//! - the client configuration ([`ClientConfig`]: credentials, host-key policy, keepalive,
//!   the core's algorithms), the order credentials are tried in ([`AuthPlan`]), host-key
//!   trust ([`HostKeyPolicy`]), the error type ([`Error`], which keeps its kind and source
//!   as an [`std::io::Error`]), and how a remote command ended ([`ExitStatus`], [`Output`]);
//! - the **session layer**: one connection's state ([`Shared`]: the core as a
//!   [`seashell_proto::AnyConnection`], a per-channel [`Inbox`], who waits for what), the
//!   driver's I/O-free half ([`Pump`]), and every operation as a poll function over a
//!   [`std::task::Context`]: channel reads and writes ([`ChannelHandle`]), the client
//!   handshake ([`Handshake`]), starting a session with a pty and environment
//!   ([`Starting`], [`SessionSetup`]), exit ordering ([`ChannelHandle::poll_wait`]),
//!   [`Exec`], [`Ping`];
//! - the server side: one [`Handler`] trait and one [`ServerChannel`] type; admission
//!   control with sshd's options ([`Admission`]: `MaxStartups`, `PerSourceMaxStartups`,
//!   `PerSourcePenalties`), the PROXY protocol ([`proxy_protocol`]) and counters
//!   ([`ServerMetrics`]).
//!
//! An async adapter `.await`s the poll functions; the blocking adapter waits on them with
//! [`block_on`], whose waker unparks the waiting thread. Only moving bytes between a socket
//! and the [`Pump`] is written per adapter.

mod accept;
mod admission;
mod agent;
#[cfg(unix)]
mod agent_forward;
mod auth;
mod auth_queue;
pub mod authorized_keys;
mod channel;
mod config;
mod error;
mod exit;
mod file;
mod forward;
mod forward_policy;
mod gate;
mod handshake;
mod host_keys;
mod inbox;
mod metrics;
mod ping;
pub mod proxy_protocol;
mod pump;
mod server;
mod server_channel;
pub mod sftp;
pub mod sftp_serve;
mod shared;
mod socks;
pub mod ssh_config;
mod start;
mod streams;
mod trace;
mod update_host_keys;
mod wait;
mod write_deadline;

pub use accept::{AcceptBackoff, Connections, Registered, ShutdownHandle};
pub use admission::{
    Admission, AdmissionConfig, Admitted, ConfigError as AdmissionConfigError, ExemptList,
    MaxStartups, NetBlockSize, Penalty, PenaltyOverflow, PerSourcePenalties, REFUSAL_MESSAGE,
    Refused, mask_ip, normalize_ip, parse_sshd_time,
};
#[cfg(unix)]
pub use agent::AgentConnection;
pub use agent::{AGENT_TIMEOUT, agent_from_env, call as agent_call, sign_flags};
#[cfg(unix)]
pub use agent_forward::{AgentListen, place_agent_channel, serve_agent_listener};
pub use auth::{AuthPlan, split_host_port};
pub use auth_queue::{AuthQueue, PendingAuth};
pub use channel::{ChannelHandle, ChannelState, OwnedChannel};
pub use config::{ClientConfig, PasswordPrompt};
pub use error::Error;
pub use exit::{ExitStatus, Output};
pub use forward::{
    ActiveListen, Forward, ForwardTarget, GlobalCall, Incoming, ListenRequest, ListenerStop,
    Opening, UnixListenRequest, forwarded_tcpip, listen_address,
};
pub use forward_policy::{
    Denied, ForwardAllow, ForwardingPolicy, GatewayPorts, HostPort, KeyForwardingOptions, Permits,
};
pub use gate::{
    Arrival, Arrivals, ConnectionGate, Gate, MAX_PROXY_READS, PROXY_HEADER_TIMEOUT, ProxyRead,
    ProxyReadSlot,
};
pub use handshake::Handshake;
pub use host_keys::{HostKeyPolicy, HostKeyVerifier, KnownHostsFiles, StrictHostKeyChecking};
pub use inbox::Inbox;
pub use metrics::{DropReason, MetricsSnapshot, RefusalReason, ServerMetrics};
pub use ping::Ping;
pub use pump::Pump;
pub use seashell_proto::{PtyRequest, TerminalModes};
pub use server::Handler;
pub use server_channel::{ChannelReader, ChannelWriter, ServerChannel};
pub use shared::{SEND_HIGH_WATER, SEND_LOW_WATER, SessionRef, Shared};
pub use socks::{
    SOCKS_MAX_DOMAIN, SOCKS_MAX_REQUEST, SOCKS4_MAX_USER, SocksError, SocksErrorKind, SocksFailure,
    SocksProgress, SocksRequest, SocksServer, SocksTarget, SocksVersion,
};
pub use start::{Exec, SessionSetup, Start, Starting};
pub use streams::ChannelStream;
pub use wait::{WakerSet, block_on, block_on_until, poll_now};
pub use write_deadline::{CLOSING_WRITE_TIMEOUT, DEFAULT_WRITE_TIMEOUT};

/// What the stream macros name; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use futures_io;
    #[cfg(feature = "tokio")]
    pub use tokio;
}
