//! The client engine, sans I/O: request ids, outstanding requests, replies matched to
//! them in any order, bounded memory ([`ClientEngine`]); typed interpretation of replies
//! (`expect_*`, [`SftpError`]); and the planners of a transfer's requests
//! ([`ReadPipeline`], [`WritePipeline`], sized by [`read_chunk`] / [`write_chunk`] from
//! `limits@openssh.com` as OpenSSH does). It knows nothing of SSH: the adapters feed it the
//! bytes of an `sftp` subsystem channel, the tests a pipe to `sftp-server`.

mod engine;
mod error;
mod output;
mod read;
mod reply;
mod sizing;
mod write;

pub use engine::{ClientConfig, ClientEngine, ServerInfo};
pub use error::{ClientError, SftpError};
pub use read::{ReadMode, ReadPipeline};
pub use reply::{
    expect_attrs, expect_data, expect_dir_entries, expect_extended, expect_handle, expect_limits,
    expect_name, expect_ok, expect_one_name, expect_statvfs, reply_kind,
};
pub use sizing::{
    FALLBACK_CHUNK, MAX_CHUNK, MIN_CHUNK, OPENSSH_MAX_IN_FLIGHT, PACKET_HEADROOM,
    chunk_from_limits, in_flight_for_window, max_in_flight, read_chunk, write_chunk,
};
pub use write::WritePipeline;
