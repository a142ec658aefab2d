//! Remote globbing, as OpenSSH's `sftp` does it (`remote_glob`): the pattern is split at
//! `/`, components without wildcards are taken as they are, a component with `*`, `?` or
//! `[..]` is matched against a listing of each directory reached so far.

use super::Sftp;
use super::pattern::{has_wildcard, matches, unescape};
use seashell_sftp::{bytes_path, path_bytes};
use std::io;
use std::path::{Path, PathBuf};

/// Most paths one glob returns (a bound on memory for a hostile or huge tree).
pub const MAX_GLOB_RESULTS: usize = 100_000;

impl Sftp {
    /// The remote paths matching `pattern`, sorted: `*`, `?` and `[..]` match within one
    /// component, a leading `.` only explicitly, `\` escapes. A pattern without wildcards
    /// gives itself if it exists. Directories that cannot be listed are skipped; nothing
    /// matching is an empty list.
    pub async fn glob(&self, pattern: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
        let pattern = path_bytes(pattern.as_ref());
        let absolute = pattern.first() == Some(&b'/');
        let comps: Vec<&[u8]> = pattern
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        let root = if absolute {
            PathBuf::from("/")
        } else {
            PathBuf::new()
        };
        let mut found = vec![root];
        let mut unchecked = false;
        for comp in comps {
            let mut next = Vec::new();
            if has_wildcard(comp) {
                for dir in &found {
                    let listing = if dir.as_os_str().is_empty() {
                        self.list_dir(".").await
                    } else {
                        self.list_dir(dir).await
                    };
                    let Ok(entries) = listing else { continue };
                    let mut names: Vec<Vec<u8>> = entries
                        .into_iter()
                        .map(|e| e.name)
                        .filter(|n| matches(comp, n))
                        .collect();
                    names.sort();
                    for n in names {
                        next.push(dir.join(bytes_path(&n)));
                        if next.len() > MAX_GLOB_RESULTS {
                            return Err(io::Error::new(
                                io::ErrorKind::OutOfMemory,
                                format!("the pattern matches more than {MAX_GLOB_RESULTS} paths"),
                            ));
                        }
                    }
                }
                unchecked = false;
            } else {
                let lit = bytes_path(&unescape(comp));
                next = found.iter().map(|d| d.join(&lit)).collect();
                unchecked = true;
            }
            found = next;
            if found.is_empty() {
                break;
            }
        }
        if unchecked {
            let mut kept = Vec::with_capacity(found.len());
            for p in found {
                if self.symlink_metadata(&p).await.is_ok() {
                    kept.push(p);
                }
            }
            found = kept;
        }
        found.retain(|p| !p.as_os_str().is_empty());
        Ok(found)
    }
}
