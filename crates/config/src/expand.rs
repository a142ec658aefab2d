//! The values OpenSSH expands once the destination is known: `~`, the `%` tokens (`%C`,
//! `%d`, `%h`, `%i`, `%j`, `%k`, `%L`, `%l`, `%n`, `%p`, `%r`, `%u`) and `${VAR}`.

use crate::env::{ConfigEnv, LocalInfo};
use crate::forward::Endpoint;
use crate::options::ResolvedConfig;
use crate::tokens::{self, TokenError};
use crate::values::ForwardAgent;

/// Expanded forms of the path-like values (see [`ResolvedConfig::expanded`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// `UserKnownHostsFile` with the default (`~/.ssh/known_hosts ~/.ssh/known_hosts2`)
    /// applied; empty for `none`.
    pub user_known_hosts_files: Vec<String>,
    /// `GlobalKnownHostsFile` with the default applied; empty for `none`.
    pub global_known_hosts_files: Vec<String>,
    /// `IdentityAgent`, expanded (`none` and `SSH_AUTH_SOCK` kept as they are).
    pub identity_agent: Option<String>,
    /// `ForwardAgent`'s socket path, expanded.
    pub forward_agent_path: Option<String>,
    /// `IdentityFile`s, expanded (empty: none set). An error names the bad token.
    pub identity_files: Result<Vec<String>, String>,
    /// `CertificateFile`s, expanded.
    pub certificate_files: Result<Vec<String>, String>,
}

impl Default for Expanded {
    fn default() -> Self {
        Expanded {
            user_known_hosts_files: Vec::new(),
            global_known_hosts_files: Vec::new(),
            identity_agent: None,
            forward_agent_path: None,
            identity_files: Ok(Vec::new()),
            certificate_files: Ok(Vec::new()),
        }
    }
}

/// OpenSSH's connection hash (`%C`): SHA-1 of local host, host, port and user, in hex.
pub fn connection_hash(local_host: &str, host: &str, port: &str, user: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    for part in [local_host, host, port, user] {
        ctx.update(part.as_bytes());
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `%` tokens for the final configuration.
pub(crate) fn token_values(c: &ResolvedConfig, local: &LocalInfo) -> Vec<(char, String)> {
    let port = c.port().to_string();
    let user = c.user_or(&local.user);
    let short = local
        .hostname
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    let jump = match &c.proxy_jump {
        Some(Some(j)) => j.spec.clone(),
        _ => String::new(),
    };
    vec![
        (
            'C',
            connection_hash(&local.hostname, &c.hostname, &port, &user),
        ),
        ('L', short),
        ('i', local.uid.to_string()),
        (
            'k',
            c.host_key_alias
                .clone()
                .unwrap_or_else(|| c.host_arg.clone()),
        ),
        ('l', local.hostname.clone()),
        ('n', c.host_arg.clone()),
        ('p', port),
        ('d', local.home.clone()),
        ('h', c.hostname.clone()),
        ('r', user),
        ('u', local.user.clone()),
        ('j', jump),
    ]
}

/// Whether a file list is `none`.
fn is_none(list: &[String]) -> bool {
    list.first().is_some_and(|f| f.eq_ignore_ascii_case("none"))
}

/// Expands what OpenSSH expands before `-G` prints, in place (forward socket paths), and
/// fills [`Expanded`].
pub(crate) fn finalize(
    c: &mut ResolvedConfig,
    local: &LocalInfo,
    env: &dyn ConfigEnv,
) -> Result<(), TokenError> {
    let values = token_values(c, local);
    let toks: Vec<(char, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let full = |s: &str| tokens::expand(&tokens::tilde(s, &local.home), &toks, Some(env));
    let home = local.home.trim_end_matches('/');
    let user_files = if c.user_known_hosts_files.is_empty() {
        vec![
            format!("{home}/.ssh/known_hosts"),
            format!("{home}/.ssh/known_hosts2"),
        ]
    } else if is_none(&c.user_known_hosts_files) {
        Vec::new()
    } else {
        c.user_known_hosts_files
            .iter()
            .map(|f| full(f))
            .collect::<Result<_, _>>()?
    };
    let global_files = if c.global_known_hosts_files.is_empty() {
        vec![
            "/etc/ssh/ssh_known_hosts".to_owned(),
            "/etc/ssh/ssh_known_hosts2".to_owned(),
        ]
    } else if is_none(&c.global_known_hosts_files) {
        Vec::new()
    } else {
        c.global_known_hosts_files
            .iter()
            .map(|f| tokens::tilde(f, &local.home))
            .collect()
    };
    let identity_agent = c.identity_agent.as_deref().map(full).transpose()?;
    let forward_agent_path = match &c.forward_agent {
        Some(ForwardAgent::Path(p)) => Some(full(p)?),
        _ => None,
    };
    for f in c
        .local_forwards
        .iter_mut()
        .chain(c.remote_forwards.iter_mut())
    {
        for e in std::iter::once(&mut f.listen).chain(f.connect.as_mut()) {
            if let Endpoint::Path(p) = e {
                *p = tokens::expand(p, &toks, None)?;
            }
        }
    }
    let list = |files: &[String]| -> Result<Vec<String>, String> {
        files.iter().map(|f| full(f).map_err(|e| e.0)).collect()
    };
    c.expanded = Expanded {
        user_known_hosts_files: user_files,
        global_known_hosts_files: global_files,
        identity_agent,
        forward_agent_path,
        identity_files: list(&c.identity_files),
        certificate_files: list(&c.certificate_files),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_hash_is_sha1_hex() {
        // SHA-1("abc") split across the parts.
        assert_eq!(
            connection_hash("a", "b", "c", ""),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
