//! # seashell-bench: Seashell measured side by side with its baselines
//!
//! - `benches/packet.rs` (criterion): one packet seal + open through Seashell's
//!   `PacketWriter`/`PacketReader`, next to the bare ring AEAD on the same sizes.
//! - `src/bin/packet-ratio.rs`: the same two loops timed interleaved, printing the ratio
//!   ours/raw per cipher as a markdown table.
//! - `benches/kex.rs` and `benches/cipher.rs` (criterion): every key exchange in
//!   `KexAlg::ALL`, and every cipher (with every MAC) in `CipherAlg::ALL`, next to the raw
//!   primitives they are made of ([`kex`], [`cipher`]).
//! - `src/bin/algo-ratio.rs`: the same per-algorithm loops timed interleaved, as markdown
//!   tables of ours/raw ratios.
//! - `src/bin/stream-compare.rs`: bulk channel throughput of the blocking client against
//!   OpenSSH's `ssh`, both reading from one private sshd.
//! - `src/bin/conn-scale.rs`: N concurrent authenticated connections on one seashell-tokio
//!   server, and its resident memory per idle connection ([`conn`]).
//! - `src/bin/handshake-soak.rs`: many sequential handshakes against one server, with its
//!   resident memory sampled along the way and judged flat or not ([`soak`]).
//! - `src/bin/sftp-compare.rs`: 512 MiB SFTP get and put, OpenSSH's `sftp` and ours against
//!   sshd and `seashell serve`, directly and through a delaying relay ([`relay`]) for a
//!   long round trip.
//!
//! This library holds the loops the criterion benches and the ratio binaries run, so they
//! measure exactly the same work, and the timing helpers of the binaries ([`timing`]).

pub mod cipher;
pub mod conn;
pub mod kex;
pub mod procstat;
pub mod relay;
pub mod soak;
pub mod timing;

pub use cipher::{AEAD_CIPHERS, OursLoop, PAYLOAD_LEN, RawLoop, SealerLoop, Suite, packet_len};
pub use timing::{interleaved, measure, rate, summary};
