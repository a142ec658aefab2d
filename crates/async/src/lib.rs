//! # seashell-async: Seashell on any async runtime
//!
//! One driver, written once against futures-io's `AsyncRead`/`AsyncWrite` and a tiny
//! [`Runtime`] trait (timers, spawning, TCP), and bound to tokio by `seashell-tokio` and to
//! smol by `seashell-smol` in about a hundred lines each. It holds no protocol or session
//! logic: every SSH rule lives in [`seashell_proto`], every session rule (per-channel inbox,
//! handshake policy, session setup, exit ordering, the server [`Handler`]) in
//! [`seashell_adapter`], shared with the blocking adapter.
//!
//! Each connection runs as one spawned task, the *driver* (the pattern of quinn's
//! `ConnectionDriver`): it feeds socket reads to the shared [`Pump`](seashell_adapter::Pump),
//! writes what it yields and sleeps until the core's next deadline; the pump files events per
//! channel and wakes the tasks that wait on them. Handles ([`Session`], [`Channel`],
//! [`ServerChannel`]) `.await` the shared poll functions.
//!
//! - Many channels of one connection work from different tasks at once.
//! - Reads and writes are cancellation-safe: a dropped future loses no data and leaves the
//!   connection usable.
//! - Back-pressure is the core's: data not read keeps the channel's window shut, so a slow
//!   reader holds at most one window in memory and does not stall other channels.
//!
//! ```ignore
//! // With seashell-tokio (seashell-smol is the same with `smol::block_on`).
//! use seashell_tokio::{Client, ClientConfig};
//! let config = ClientConfig::new("me").key_file("/home/me/.ssh/id_ed25519")?;
//! let session = Client::connect("example.org:22", config).await?;
//! let out = session.exec("uname -a").await?;
//! print!("{}", String::from_utf8_lossy(&out.stdout));
//! ```
//!
//! With the `tokio` feature the stream types also implement tokio's `AsyncRead` and
//! `AsyncWrite` (only tokio's trait definitions are used, as quinn does).

mod channel;
mod client;
mod driver;
mod forward;
mod runtime;
mod server;
mod session;
pub mod sftp;

pub use channel::{Channel, Stderr};
pub use client::Client;
pub use runtime::{AsyncListener, AsyncSocket, AsyncTimer, BoxFuture, Runtime};
/// Serving the `sftp` subsystem from a [`Handler`] (the engine runs on its own thread).
pub use seashell_adapter::sftp_serve;
pub use seashell_adapter::{
    AuthQueue, ChannelReader, ChannelWriter, ClientConfig, Error, ExitStatus, Handler,
    HostKeyPolicy, HostKeyVerifier, KnownHostsFiles, Output, PasswordPrompt, PendingAuth,
    PtyRequest, ServerChannel, ShutdownHandle, StrictHostKeyChecking,
};
pub use seashell_adapter::{Forward, ForwardTarget};
pub use seashell_proto as proto;
pub use server::Server;
pub use session::{Session, SessionBuilder};
