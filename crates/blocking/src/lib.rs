//! # seashell-blocking: Seashell on std blocking sockets
//!
//! A thin adapter: each connection owns one I/O thread that moves bytes between its
//! [`std::net::TcpStream`] and the shared session layer of [`seashell_adapter`] (which holds
//! the sans-I/O core, [`seashell_proto`]), sleeping in `poll(2)` until the socket, the
//! core's next deadline or a handle needs it. Handles wait on the same poll functions as the
//! async adapters, with a waker that unparks the waiting thread, and present them as
//! blocking calls and [`std::io::Read`]/[`std::io::Write`]. It holds no protocol or session
//! logic.
//!
//! ```no_run
//! use seashell_blocking::{Client, ClientConfig};
//! let config = ClientConfig::new("me").key_file("/home/me/.ssh/id_ed25519")?;
//! let session = Client::connect("example.org:22", config)?;
//! let out = session.exec("uname -a")?;
//! print!("{}", String::from_utf8_lossy(&out.stdout));
//! # Ok::<(), seashell_blocking::Error>(())
//! ```
//!
//! Sessions and channels are cheap to clone and work from many threads at once: a thread
//! blocked reading one channel never stalls another.

mod channel;
mod client;
mod forward;
mod io_loop;
mod server;
mod session;
pub mod sftp;
pub mod stream;

pub use channel::{Channel, Stderr};
pub use client::Client;
/// Serving the `sftp` subsystem from a [`Handler`] (the engine runs on its own thread).
pub use seashell_adapter::sftp_serve;
pub use seashell_adapter::{
    AuthQueue, ChannelReader, ChannelWriter, ClientConfig, Error, ExitStatus, Handler,
    HostKeyPolicy, HostKeyVerifier, KnownHostsFiles, Output, PasswordPrompt, PendingAuth,
    PtyRequest, ServerChannel, ShutdownHandle, StrictHostKeyChecking,
};
pub use seashell_adapter::{Forward, ForwardTarget};
pub use seashell_proto as proto;
pub use server::{Server, serve_connection};
pub use session::{Session, SessionBuilder};
