//! OpenSSH's `UpdateHostKeys=yes` on the client: after authentication the server announces
//! every host key it holds (`hostkeys-00@openssh.com`); keys the user's known_hosts lacks are
//! asked to be proven (`hostkeys-prove-00@openssh.com`) and, once proven, recorded; recorded
//! keys the server no longer announces are removed. Only lines naming this host alone are
//! changed (never patterns, lists shared with other hosts, markers or the global files), and
//! only when the host key of the connection was trusted through a plain known_hosts entry.

use crate::host_keys::KnownHostsFiles;
use crate::shared::State;
use seashell_keys::known_hosts_edit::append_known_host_names;
use seashell_keys::{KnownHosts, PublicKey};
use std::path::Path;

/// What the update needs, set when the handshake ends.
#[derive(Debug, Clone)]
pub(crate) struct HostKeyUpdate {
    /// The host as the known_hosts lookup names it.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The known_hosts settings; keys are written to the first user file.
    pub files: KnownHostsFiles,
    /// The keys the server announced (kept for the removal after the proof).
    pub announced: Vec<PublicKey>,
}

impl HostKeyUpdate {
    /// The first user file, unless it is `/dev/null`.
    fn user_file(&self) -> Option<&Path> {
        self.files
            .user_files
            .first()
            .map(|p| p.as_path())
            .filter(|p| p.as_os_str() != "/dev/null")
    }

    /// The keys recorded for the host in every file.
    fn known(&self) -> Vec<PublicKey> {
        KnownHosts::load_files(&self.files.all_files())
            .map(|k| k.host_keys(&self.host, self.port))
            .unwrap_or_default()
    }

    /// Removes from the user file the lines naming only this host whose key was not
    /// announced.
    fn remove_stale(&self) {
        let Some(path) = self.user_file() else { return };
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let announced = &self.announced;
        let (new, removed) = seashell_keys::known_hosts_edit::remove_host_keys_only(
            &text,
            &self.host,
            self.port,
            |k| !announced.contains(k),
        );
        if removed > 0 {
            let _ = replace_file(path, &new);
        }
    }
}

/// Writes `text` to `path` through a temporary file renamed over it.
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".seashell-tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

impl State {
    /// The server announced its host keys: ask it to prove the ones we do not know.
    pub(crate) fn host_keys_announced(&mut self, keys: Vec<PublicKey>) {
        let Some(update) = self.host_key_update.as_mut() else {
            return;
        };
        let plain: Vec<PublicKey> = keys
            .into_iter()
            .filter(|k| k.certificate().is_none())
            .collect();
        let known = update.known();
        let new: Vec<PublicKey> = plain
            .iter()
            .filter(|k| !known.contains(k))
            .cloned()
            .collect();
        update.announced = plain;
        if new.is_empty() {
            update.remove_stale();
            return;
        }
        if let Some(client) = self.conn.as_client() {
            let _ = client.prove_host_keys(new);
            self.wake_driver();
        }
    }

    /// The server proved it holds `keys`: record them, then drop stale entries.
    pub(crate) fn host_keys_proven(&mut self, keys: Vec<PublicKey>) {
        let Some(update) = self.host_key_update.as_ref() else {
            return;
        };
        if let Some(path) = update.user_file() {
            for key in &keys {
                let _ = append_known_host_names(
                    path,
                    &[&update.host],
                    update.port,
                    key,
                    update.files.hash_new,
                );
            }
        }
        update.remove_stale();
    }
}
