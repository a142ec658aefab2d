//! # seashell-config: OpenSSH's `ssh_config`
//!
//! Reads client configuration files the way `ssh` does and gives the settings for one
//! destination as a typed [`ResolvedConfig`]:
//!
//! - the lexer ([`lexer`]): keyword and arguments separated by whitespace or `=`, quotes,
//!   escapes, comments, case-insensitive keywords;
//! - `Host` patterns (wildcards, `!` negation, several per line) and `Match` (`all`,
//!   `canonical`, `final`, `exec`, `host`, `originalhost`, `user`, `localuser`,
//!   `localnetwork`, `version`, `sessiontype`, `command`, `tagged`, negated with `!`);
//! - `Include` with globs, relative to `~/.ssh` (user files) or `/etc/ssh` (system files),
//!   nested up to 16 deep, also inside `Host` and `Match` blocks;
//! - the first value obtained wins; `IdentityFile`, `CertificateFile`, the forwards and
//!   `SendEnv` accumulate;
//! - `%` tokens and `${VAR}` where OpenSSH expands them; `CanonicalizeHostname` with its
//!   re-parse; `IgnoreUnknown`; OpenSSH's error messages with file and line;
//! - [`ResolvedConfig::dump`]: the `ssh -G` output for the supported keywords.
//!
//! All file reading, globbing, `Match exec` and name resolution go through [`ConfigEnv`]:
//! [`StdEnv`] is the real world, [`MemoryEnv`] a fake one for tests. Inputs are bounded
//! (file size, line length, include depth, number of files, expansion length).
//!
//! ```
//! use seashell_config::{MemoryEnv, Request, SshConfigFiles, resolve_with};
//! let env = MemoryEnv::default().file("/cfg", "Host web\n  HostName web.example.com\n  Port 2222\n");
//! let c = resolve_with(&env, &Request::new("web"), &SshConfigFiles::Only("/cfg".into())).unwrap();
//! assert_eq!((c.hostname.as_str(), c.port()), ("web.example.com", 2222));
//! ```
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod dump;
mod env;
mod expand;
pub mod forward;
mod glob;
mod ifaddrs;
pub mod jump;
mod keywords;
pub mod lexer;
mod matching;
mod options;
pub mod pattern;
mod resolve;
pub mod tokens;
pub mod values;

pub use dump::{DEFAULT_IDENTITY_FILES, DUMPED_KEYWORDS};
pub use env::{ConfigEnv, LocalInfo, MAX_FILE_SIZE, MemoryEnv, StdEnv};
pub use expand::{Expanded, connection_hash};
pub use keywords::{Class, Key, classify};
pub use options::ResolvedConfig;
pub use resolve::{
    CommandLine, ConfigError, MAX_FILES, MAX_INCLUDE_DEPTH, MAX_LINE, Request, SshConfigFiles,
};

/// Resolves the configuration for `host` from `files` in the real environment.
///
/// # Errors
/// OpenSSH's messages for a bad line, a missing `-F` file, too deep includes and the like.
pub fn resolve(host: &str, files: &SshConfigFiles) -> Result<ResolvedConfig, ConfigError> {
    resolve_with(&StdEnv, &Request::new(host), files)
}

/// Resolves the configuration for `req` from `files` in `env`.
///
/// # Errors
/// As [`resolve`].
pub fn resolve_with(
    env: &dyn ConfigEnv,
    req: &Request,
    files: &SshConfigFiles,
) -> Result<ResolvedConfig, ConfigError> {
    let r = resolve::Resolver::new(env, req);
    let local = r.local().clone();
    let mut c = r.run(files)?;
    c.local = local.clone();
    expand::finalize(&mut c, &local, env).map_err(|e| ConfigError {
        messages: vec![e.0],
    })?;
    for slot in [
        seashell_proto::config::AlgorithmSlot::Cipher,
        seashell_proto::config::AlgorithmSlot::Mac,
        seashell_proto::config::AlgorithmSlot::Kex,
        seashell_proto::config::AlgorithmSlot::HostKey,
        seashell_proto::config::AlgorithmSlot::PubkeyAccepted,
    ] {
        c.algorithms(slot)
            .map_err(|e| ConfigError { messages: vec![e] })?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests;
