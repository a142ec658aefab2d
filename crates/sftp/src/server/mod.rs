//! The SFTP server: a sans-I/O [`ServerEngine`] whose every request is a protocol decision,
//! a [`Policy`] decision or a call on a [`Filesystem`]; [`LocalFs`], the local filesystem
//! confined to a root; [`MemoryFs`], a small in-memory filesystem for tests and fuzzing.
//!
//! ```
//! use seashell_sftp::server::{MemoryFs, ServerConfig, ServerEngine};
//! use seashell_sftp::{Framer, Request, Response};
//!
//! let mut engine = ServerEngine::new(MemoryFs::new(), ServerConfig::default());
//! let init = Request::Init { version: 3, extensions: vec![] }.encode_framed().unwrap();
//! assert_eq!(engine.feed(&init).unwrap(), init.len());
//! let mut out = Vec::new();
//! engine.take_output(&mut out);
//! let payload = Framer::new().feed(&mut &out[..]).unwrap().unwrap();
//! assert!(matches!(Response::decode(&payload).unwrap(), Response::Version { version: 3, .. }));
//! ```

mod engine;
mod fs;
mod handles;
#[cfg(feature = "local-fs")]
mod local;
mod longname;
mod memory;
mod policy;

pub use engine::{SERVER_EXTENSIONS, ServerConfig, ServerEngine, ServerError};
pub use fs::{DirEntry, Filesystem, FsError, FsResult};
#[cfg(feature = "local-fs")]
pub use local::{LocalDir, LocalFile, LocalFs, MAX_DEPTH, MAX_SYMLINKS};
pub use memory::{MemDir, MemFile, MemoryFs};
pub use policy::{Policy, is_write};
