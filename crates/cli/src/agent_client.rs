//! The client's use of an agent, with ssh's rules: which socket (`IdentityAgent`,
//! `SSH_AUTH_SOCK`), which of its keys (`IdentitiesOnly`), and identity files whose key the
//! agent already holds (used through the agent, so an encrypted file asks no passphrase).

use crate::args::Settings;
use crate::log::Log;
use crate::run::expand_tilde;
use seashell_keys::parse_public_key_line;
use seashell_proto::PublicKey;
use std::path::{Path, PathBuf};

/// The agent socket: `IdentityAgent` (a path, `$VAR`, `SSH_AUTH_SOCK`, or `none`), else
/// `SSH_AUTH_SOCK`; none with `PubkeyAuthentication no`.
pub fn agent_socket(s: &Settings, home: &Path, log: Log) -> Option<PathBuf> {
    let o = &s.options;
    if o.pubkey_authentication == Some(false) {
        return None;
    }
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let path = match o.identity_agent.as_deref() {
        Some("none") => return None,
        None | Some("SSH_AUTH_SOCK") => env("SSH_AUTH_SOCK")?,
        Some(p) if p.starts_with('$') => env(p.trim_start_matches('$').trim_matches(['{', '}']))?,
        Some(p) => expand_tilde(p, home),
    };
    log.debug(&format!("Using the agent at {}", path.display()));
    Some(path)
}

/// The keys the agent at `path` holds; none if it cannot be reached.
pub fn agent_keys(path: &Path, log: Log) -> Vec<PublicKey> {
    match seashell_adapter::AgentConnection::connect(path).and_then(|mut a| a.identities()) {
        Ok(ids) => ids.into_iter().map(|(k, _)| k).collect(),
        Err(e) => {
            log.debug(&format!("agent at {}: {e}", path.display()));
            Vec::new()
        }
    }
}

/// The public key beside a private key file (`FILE.pub`), if readable.
pub fn public_key_file(path: &Path) -> Option<PublicKey> {
    let mut p = path.as_os_str().to_owned();
    p.push(".pub");
    let text = std::fs::read_to_string(PathBuf::from(p)).ok()?;
    parse_public_key_line(text.lines().next()?)
        .ok()
        .map(|(k, _)| k)
}

/// The identity file's key when the agent holds it (then the file need not be read).
pub fn held_by_agent(path: &Path, agent_keys: &[PublicKey]) -> Option<PublicKey> {
    public_key_file(path).filter(|k| agent_keys.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pub_file_beside_the_key_decides() {
        let dir =
            std::env::temp_dir().join(format!("seashell-agent-client-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = seashell_proto::PrivateKey::ed25519_from_seed(&[9; 32])
            .unwrap()
            .public_key();
        let line = seashell_keys::openssh::format_public_key_line(&key, "c");
        std::fs::write(dir.join("id.pub"), format!("{line}\n")).unwrap();
        assert_eq!(public_key_file(&dir.join("id")), Some(key.clone()));
        assert_eq!(
            held_by_agent(&dir.join("id"), std::slice::from_ref(&key)),
            Some(key)
        );
        assert_eq!(held_by_agent(&dir.join("id"), &[]), None);
        assert_eq!(public_key_file(&dir.join("other")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
