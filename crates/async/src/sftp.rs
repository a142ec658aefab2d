//! SFTP over an async session: [`Sftp`] (from [`Session::sftp`](crate::Session::sftp)), a
//! `std::fs`-like API of async functions, [`File`] with futures-io's `AsyncRead`,
//! `AsyncWrite` and `AsyncSeek` (and tokio's, with the `tokio` feature), [`ReadDir`], and
//! pipelined [`get`](Sftp::get) / [`put`](Sftp::put) of files and trees.
//!
//! These are the shared client's types ([`seashell_adapter::sftp`]), the same code the
//! blocking adapter runs. Every future is cancellation-safe: dropping it abandons its
//! requests, and the session stays usable. `get`/`put` do their local file I/O with
//! `std::fs` in the task that polls them.
//!
//! ```ignore
//! // With seashell-tokio (seashell-smol is the same).
//! use seashell_tokio::sftp::TransferOptions;
//! let sftp = session.sftp().await?;
//! sftp.put("report.pdf", "uploads/report.pdf", &TransferOptions::new()).await?;
//! sftp.get("logs", "/tmp/logs", &TransferOptions::new().recursive(true)).await?;
//! let mut dir = sftp.read_dir("uploads").await?;
//! while let Some(entry) = dir.next_entry().await? {
//!     println!("{} {}", entry.path().display(), entry.metadata().len());
//! }
//! ```

pub use seashell_adapter::sftp::{
    DirEntry, File, FileAttributes, FileType, IN_FLIGHT_WINDOW, Limits, MAX_IN_FLIGHT, Metadata,
    OpenOptions, Progress, ReadDir, ServerInfo, Sftp, StatVfs, StatusCode, StatusError,
    TransferOptions, TransferStats, status_kind,
};
