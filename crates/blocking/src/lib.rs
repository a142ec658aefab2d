//! # seashell-blocking: Seashell on std blocking sockets
//!
//! A thin adapter: it moves bytes between a [`std::net::TcpStream`] and the sans-I/O core
//! ([`seashell_proto::ClientConnection`]), sleeps until the core's next timeout, and turns
//! events into blocking calls and [`std::io::Read`]/[`std::io::Write`]. It holds no protocol
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
//! A session is shared by its channels behind a mutex; one thread at a time drives the
//! connection, so use a channel from one thread at a time.

mod channel;
mod driver;
mod server;
mod session;
pub mod stream;

pub use channel::{Channel, Stderr};
pub use seashell_adapter::{
    ClientConfig, Error, ExitStatus, HostKeyPolicy, HostKeyVerifier, Output, PasswordPrompt,
    StrictHostKeyChecking,
};
pub use seashell_proto as proto;
pub use server::{ChannelReader, ChannelWriter, Handler, Server, ServerChannel, serve_connection};
pub use session::{Client, Session};
