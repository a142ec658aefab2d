//! # seashell-async: Seashell on any async runtime
//!
//! One driver, written once against futures-io's `AsyncRead`/`AsyncWrite` and a tiny
//! [`Runtime`] trait (timers, spawning, TCP), and bound to tokio by `seashell-tokio` and to
//! smol by `seashell-smol` in about a hundred lines each. It holds no protocol logic: every
//! SSH rule lives in [`seashell_proto`].
//!
//! Each connection runs as one spawned task, the *driver* (the pattern of quinn's
//! `ConnectionDriver`): it feeds socket reads to the core, writes what `poll_transmit`
//! yields, sleeps until `poll_timeout`, files events per channel and wakes the tasks that
//! wait on them: a reader when data arrives, a writer when the window reopens
//! (`Event::Writable`). Handles ([`Session`], [`Channel`], [`ServerChannel`]) are thin: they
//! lock the shared state, call the core, register a waker when they must wait, and wake the
//! driver.
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
mod error;
mod handle;
mod runtime;
mod server;
mod state;

pub use channel::{Channel, Stderr};
pub use client::{Client, Session};
pub use runtime::{AsyncListener, AsyncSocket, AsyncTimer, BoxFuture, Runtime};
pub use seashell_adapter::{
    ClientConfig, Error, ExitStatus, HostKeyPolicy, HostKeyVerifier, Output, PasswordPrompt,
    StrictHostKeyChecking,
};
pub use seashell_proto as proto;
pub use server::{ChannelReader, ChannelWriter, Handler, Server, ServerChannel};
