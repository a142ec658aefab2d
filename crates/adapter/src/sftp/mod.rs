//! # The SFTP client, written once for every adapter
//!
//! [`Sftp`] is one SFTP session over an `sftp` subsystem channel: the sans-I/O
//! [`ClientEngine`](seashell_sftp::client::ClientEngine) and the channel behind one mutex
//! (`conn`), and every operation as an async function or poll function over it. The async
//! adapters re-export these types as they are; the blocking adapter runs the same futures
//! on the calling thread with [`block_on`](crate::block_on) (see [`wait`]).
//!
//! - `std::fs`-like calls ([`Sftp::metadata`], [`Sftp::read_dir`], [`Sftp::rename`], …),
//!   one request each;
//! - [`File`]: poll functions for reading (read-ahead: up to `in_flight` READs of one chunk
//!   each, ramping up from one as OpenSSH does), writing (write-behind: WRITEs acknowledged
//!   later, errors reported at the latest by flush/close/`sync_all`) and seeking;
//! - [`Sftp::get`] / [`Sftp::put`]: whole files and trees, pipelined;
//! - [`Sftp::glob`]: remote wildcards, per path component.
//!
//! Several threads or tasks may use one `Sftp` at once: any of them moves the channel's
//! bytes into the engine and wakes the waiters whose replies came. Dropping a future
//! abandons its request (the reply is discarded when it comes).

// Peer input never panics the client.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod aliases;
mod conn;
mod dir;
mod error;
mod file;
mod glob;
mod link;
mod ops;
mod pattern;
mod transfer;
mod types;

pub use dir::{MAX_LIST_ENTRIES, ReadDir};
pub use error::{StatusError, status_kind};
pub use file::File;
pub use seashell_sftp::client::ServerInfo;
pub use seashell_sftp::{FileAttributes, Limits, StatVfs, StatusCode};
pub use transfer::{Progress, TransferOptions, TransferStats};
pub use types::{DirEntry, FileType, Metadata, OpenOptions};

use crate::channel::OwnedChannel;
use crate::shared::Shared;
use crate::start::{SessionSetup, Start, Starting};
use conn::Conn;
use link::Link;
use seashell_sftp::client as sizing;
use seashell_sftp::client::ClientConfig;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::sync::Arc;

/// One SFTP session (SFTP version 3 over an `sftp` subsystem channel). Cheap to clone:
/// clones share the session, and may be used from many threads or tasks at once. The channel
/// closes when the last clone, [`File`] and [`ReadDir`] is dropped.
///
/// Paramiko's `SFTPClient` names map as follows: `stat` → [`metadata`](Self::metadata),
/// `lstat` → [`symlink_metadata`](Self::symlink_metadata), `listdir` →
/// [`list_names`](Self::list_names), `listdir_attr` → [`list_dir`](Self::list_dir),
/// `open` → [`open_with`](Self::open_with) (or [`open`](Self::open) /
/// [`create`](Self::create)), `get` / `put` → [`get`](Self::get) / [`put`](Self::put),
/// `mkdir` → [`create_dir`](Self::create_dir), `rmdir` → [`remove_dir`](Self::remove_dir),
/// `remove`/`unlink` → [`remove_file`](Self::remove_file), `rename` /
/// `posix_rename` → [`rename`](Self::rename), `chmod` →
/// [`set_permissions`](Self::set_permissions), `chown` → [`set_owner`](Self::set_owner),
/// `utime` → [`set_times`](Self::set_times), `truncate` → [`set_len`](Self::set_len),
/// `symlink` → [`symlink`](Self::symlink), `readlink` → [`read_link`](Self::read_link),
/// `normalize` → [`canonicalize`](Self::canonicalize).
#[derive(Debug, Clone)]
pub struct Sftp {
    pub(crate) conn: Arc<Conn>,
}

impl Sftp {
    /// Opens a session channel on the client connection `shared`, starts the `sftp`
    /// subsystem and negotiates (version 3; `limits@openssh.com` when offered).
    pub async fn connect(shared: &Arc<Shared>) -> io::Result<Sftp> {
        let mut starting = Starting::new(
            shared,
            SessionSetup::default(),
            Start::Subsystem("sftp".into()),
        )?;
        let owner = poll_fn(|cx| starting.poll(cx)).await?;
        Sftp::start(owner).await
    }

    /// Runs SFTP on a channel whose `sftp` subsystem has started.
    pub async fn start(channel: OwnedChannel) -> io::Result<Sftp> {
        Sftp::over(Link::Channel(channel)).await
    }

    /// Runs SFTP over a pipe to a local server process, with no SSH (OpenSSH's `sftp -D`):
    /// `from` is the server's stdout, `to` its stdin (for example a child's
    /// `ChildStdout` and `ChildStdin` running `/usr/lib/openssh/sftp-server`). Two threads
    /// move the bytes; the server's stdin is closed when the last handle goes.
    pub async fn over_pipe(
        from: impl std::io::Read + Send + 'static,
        to: impl std::io::Write + Send + 'static,
    ) -> io::Result<Sftp> {
        Sftp::over(Link::Pipe(link::Pipe::start(from, to)?)).await
    }

    async fn over(link: Link) -> io::Result<Sftp> {
        let conn = Arc::new(Conn::new(link, ClientConfig::default()));
        conn.handshake().await?;
        Ok(Sftp { conn })
    }

    /// What the server said in `SSH_FXP_VERSION` (its extensions).
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.conn.server()
    }

    /// Whether the server advertised extension `name` (for example
    /// `"posix-rename@openssh.com"`).
    pub fn has_extension(&self, name: &str) -> bool {
        self.conn.has_extension(name)
    }

    /// The server's `limits@openssh.com` reply, if it offers the extension.
    pub fn limits(&self) -> Option<Limits> {
        self.conn.limits().copied()
    }

    /// The READ size: the server's `max_read_length` (261,120 bytes against OpenSSH's
    /// sftp-server), 32 KiB without `limits@openssh.com`.
    pub fn read_chunk(&self) -> u32 {
        sizing::read_chunk(self.conn.limits(), ClientConfig::default().max_packet)
    }

    /// The WRITE size, from the server's limits as for reads.
    pub fn write_chunk(&self) -> u32 {
        sizing::write_chunk(self.conn.limits())
    }

    /// Requests in flight per transfer with `chunk`-sized requests: enough to keep
    /// [`IN_FLIGHT_WINDOW`] bytes in flight (so the channel window, not the request count,
    /// is the limit), at most [`MAX_IN_FLIGHT`], or `wanted`.
    /// When the server last sent bytes (or the session started): what an inactivity timeout
    /// ([`wait_idle`]) measures from.
    pub fn last_input(&self) -> std::time::Instant {
        self.conn.last_input()
    }

    pub(crate) fn in_flight_for(&self, chunk: u32, wanted: Option<usize>) -> usize {
        let n = wanted.unwrap_or_else(|| {
            sizing::in_flight_for_window(IN_FLIGHT_WINDOW, chunk, MAX_IN_FLIGHT)
        });
        sizing::max_in_flight(self.conn.limits(), Some(n.clamp(1, MAX_IN_FLIGHT)))
    }
}

/// The bytes a transfer keeps in flight by default: 16 MiB, more than a channel window
/// (2 MiB by default, as OpenSSH), so the window is what limits a transfer. With
/// sftp-server's 261,120-byte requests that is 65 requests (OpenSSH's `sftp` keeps 64).
pub const IN_FLIGHT_WINDOW: u64 = 16 * 1024 * 1024;

/// The most requests one transfer keeps in flight.
pub const MAX_IN_FLIGHT: usize = 256;

/// Runs a future of this module to completion on the calling thread (the blocking
/// adapter's way to call it): the waker unparks the thread, the connection's driver makes
/// progress meanwhile.
pub fn wait<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    crate::block_on(|cx| future.as_mut().poll(cx))
}

/// Like [`wait`], with an inactivity limit: fails with [`io::ErrorKind::TimedOut`] once the
/// server of `sftp` has sent nothing for `limit` while the call waits (`None`: no limit).
/// The future is dropped then, which abandons its requests (their late replies are
/// discarded). A long transfer whose replies keep coming never times out.
pub fn wait_idle<T>(
    sftp: &Sftp,
    limit: Option<std::time::Duration>,
    future: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    let mut future = pin!(future);
    block_idle(sftp, limit, |cx| future.as_mut().poll(cx))
}

/// [`wait_idle`] for a poll function (the blocking `File`'s reads and writes).
pub fn block_idle<T>(
    sftp: &Sftp,
    limit: Option<std::time::Duration>,
    mut poll: impl FnMut(&mut std::task::Context<'_>) -> std::task::Poll<io::Result<T>>,
) -> io::Result<T> {
    let Some(limit) = limit else {
        return crate::block_on(poll);
    };
    let start = std::time::Instant::now();
    loop {
        let deadline = sftp.last_input().max(start) + limit;
        if let Some(r) = crate::block_on_until(Some(deadline), &mut poll) {
            return r;
        }
        if sftp.last_input().max(start) + limit <= std::time::Instant::now() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("sftp: the server sent nothing for {limit:?}"),
            ));
        }
    }
}
