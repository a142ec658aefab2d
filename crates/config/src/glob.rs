//! `glob(3)` for `Include`: `*` and `?` in any path component (not matching a leading
//! `.`), results sorted; a path without wildcards matches if it exists.

use crate::env::ConfigEnv;
use crate::pattern::match_pattern;
use std::path::{Path, PathBuf};

/// The most paths one pattern expands to.
pub const MAX_MATCHES: usize = 256;

/// Expands `pattern` (an absolute path) against the environment's directories.
pub fn glob(env: &dyn ConfigEnv, pattern: &str) -> Vec<PathBuf> {
    if !pattern.starts_with('/') {
        return Vec::new();
    }
    let mut current = vec![PathBuf::from("/")];
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    for part in parts {
        let mut next = Vec::new();
        for dir in &current {
            let Ok(names) = env.list_dir(dir) else {
                continue;
            };
            let wild = part.contains(['*', '?']);
            for name in names {
                let hit = if wild {
                    (!name.starts_with('.') || part.starts_with('.')) && match_pattern(&name, part)
                } else {
                    name == part
                };
                if hit && next.len() < MAX_MATCHES {
                    next.push(dir.join(&name));
                }
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current.sort();
    current.dedup();
    current.retain(|p| p != Path::new("/"));
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MemoryEnv;

    #[test]
    fn globs() {
        let env = MemoryEnv::default()
            .file("/etc/ssh/ssh_config.d/50-b.conf", "")
            .file("/etc/ssh/ssh_config.d/10-a.conf", "")
            .file("/etc/ssh/ssh_config.d/.hidden.conf", "")
            .file("/etc/ssh/ssh_config.d/x.txt", "");
        let g = glob(&env, "/etc/ssh/ssh_config.d/*.conf");
        assert_eq!(
            g,
            [
                PathBuf::from("/etc/ssh/ssh_config.d/10-a.conf"),
                PathBuf::from("/etc/ssh/ssh_config.d/50-b.conf")
            ]
        );
        assert_eq!(glob(&env, "/etc/ssh/ssh_config.d/x.txt").len(), 1);
        assert!(glob(&env, "/etc/ssh/nope/*").is_empty());
        assert_eq!(glob(&env, "/etc/*/ssh_config.d/1?-a.conf").len(), 1);
    }
}
