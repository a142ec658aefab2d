//! `ssh -G`: the resolved configuration in OpenSSH's format (lower-case keywords, defaults
//! for what is not set, OpenSSH 9.2's order), for the keywords Seashell supports.

use crate::keywords::Key;
use crate::options::{ResolvedConfig, algorithm_list};
use crate::values::*;
use seashell_proto::config::AlgorithmSlot;
use std::fmt::Write;

/// The default identity files Seashell tries, in order (as `-G` prints them).
pub const DEFAULT_IDENTITY_FILES: [&str; 3] =
    ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"];

impl ResolvedConfig {
    /// The configuration as `ssh -G` prints it, one `keyword value` per line.
    ///
    /// # Errors
    /// An algorithm list that resolves to nothing (`Ciphers -*`).
    pub fn dump(&self) -> Result<String, String> {
        let mut out = String::new();
        let mut line = |k: &str, v: &str| {
            let _ = writeln!(out, "{k} {v}");
        };
        let flag = |o: Option<bool>, d: bool| flag_name(o.unwrap_or(d));
        line("host", &self.host_arg);
        line("user", &self.user_or(&self.local.user));
        line("hostname", &self.hostname);
        line("port", &self.port().to_string());
        line("batchmode", flag(self.batch_mode, false));
        line(
            "canonicalizefallbacklocal",
            flag(self.canonicalize_fallback_local, true),
        );
        line(
            "canonicalizehostname",
            self.canonicalize_hostname
                .unwrap_or(Canonicalize::No)
                .name(),
        );
        line("checkhostip", flag(self.check_host_ip, false));
        line("compression", flag(self.compression, false));
        line(
            "clearallforwardings",
            flag(self.clear_all_forwardings, false),
        );
        line(
            "exitonforwardfailure",
            flag(self.exit_on_forward_failure, false),
        );
        line("gatewayports", flag(self.gateway_ports, false));
        line("hashknownhosts", flag(self.hash_known_hosts, false));
        line("identitiesonly", flag(self.identities_only, false));
        line(
            "passwordauthentication",
            flag(self.password_authentication, true),
        );
        line(
            "pubkeyauthentication",
            self.pubkey_authentication.unwrap_or(PubkeyAuth::Yes).name(),
        );
        line(
            "requesttty",
            self.request_tty.unwrap_or(RequestTty::Auto).name(),
        );
        line(
            "sessiontype",
            self.session_type.unwrap_or(SessionType::Default).name(),
        );
        line("stdinnull", flag(self.stdin_null, false));
        line(
            "forkafterauthentication",
            flag(self.fork_after_authentication, false),
        );
        line(
            "streamlocalbindunlink",
            flag(self.stream_local_bind_unlink, false),
        );
        line(
            "stricthostkeychecking",
            self.strict_host_key_checking.unwrap_or(Strict::Ask).name(),
        );
        line("updatehostkeys", self.update_host_keys().name());
        line(
            "canonicalizemaxdots",
            &self.canonicalize_max_dots.unwrap_or(1).to_string(),
        );
        line(
            "serveralivecountmax",
            &self.server_alive_count_max.unwrap_or(3).to_string(),
        );
        line(
            "serveraliveinterval",
            &self.server_alive_interval().to_string(),
        );
        line(
            "ciphers",
            &self.algorithms(AlgorithmSlot::Cipher)?.join(","),
        );
        line(
            "hostkeyalgorithms",
            &self.algorithms(AlgorithmSlot::HostKey)?.join(","),
        );
        if let Some(a) = &self.host_key_alias {
            line("hostkeyalias", a);
        }
        if let Some(a) = &self.expanded.identity_agent {
            line("identityagent", a);
        }
        if let Some(u) = &self.ignore_unknown {
            line("ignoreunknown", u);
        }
        line(
            "kexalgorithms",
            &self.algorithms(AlgorithmSlot::Kex)?.join(","),
        );
        line("loglevel", self.log_level.unwrap_or(LogLevel::Info).name());
        line("macs", &self.algorithms(AlgorithmSlot::Mac)?.join(","));
        line(
            "pubkeyacceptedalgorithms",
            &self.algorithms(AlgorithmSlot::PubkeyAccepted)?.join(","),
        );
        if let Some(t) = &self.tag {
            line("tag", t);
        }
        // As OpenSSH's dump: a forward without a connect host (dynamic, or to a socket
        // path) is listed as a dynamic forward.
        let no_connect_host = |f: &&crate::forward::Forward| {
            !matches!(f.connect, Some(crate::forward::Endpoint::Tcp { .. }))
        };
        for f in self.local_forwards.iter().filter(no_connect_host) {
            line("dynamicforward", &f.listen.dump());
        }
        for f in &self.local_forwards {
            if let Some(c) = &f.connect {
                line("localforward", &format!("{} {}", f.listen.dump(), c.dump()));
            }
        }
        for f in &self.remote_forwards {
            let c = f
                .connect
                .as_ref()
                .map_or_else(|| "[socks]:0".to_owned(), |c| c.dump());
            line("remoteforward", &format!("{} {c}", f.listen.dump()));
        }
        if self.identity_files.is_empty() {
            for f in DEFAULT_IDENTITY_FILES {
                line("identityfile", f);
            }
        }
        for f in &self.identity_files {
            line("identityfile", f);
        }
        line("canonicaldomains", &oneline(&self.canonical_domains));
        for f in &self.certificate_files {
            line("certificatefile", f);
        }
        let global = if self.global_known_hosts_files.is_empty() {
            "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2".to_owned()
        } else {
            self.global_known_hosts_files.join(" ")
        };
        line("globalknownhostsfile", &global);
        line(
            "userknownhostsfile",
            &oneline(&self.expanded.user_known_hosts_files),
        );
        for e in &self.send_env {
            line("sendenv", e);
        }
        for e in &self.set_env {
            line("setenv", e);
        }
        let (keys, life) = self.add_keys_to_agent.unwrap_or((AddKeys::No, 0));
        if life == 0 {
            line("addkeystoagent", keys.name());
        } else if keys == AddKeys::Confirm {
            line("addkeystoagent", &format!("confirm {life}"));
        } else {
            line("addkeystoagent", &life.to_string());
        }
        match (&self.forward_agent, &self.expanded.forward_agent_path) {
            (Some(ForwardAgent::Path(_)), Some(p)) => line("forwardagent", p),
            (Some(ForwardAgent::Yes), _) => line("forwardagent", "yes"),
            _ => line("forwardagent", "no"),
        }
        match self.connect_timeout {
            Some(Some(t)) => line("connecttimeout", &t.to_string()),
            _ => line("connecttimeout", "none"),
        }
        line(
            "escapechar",
            &self.escape_char.unwrap_or(EscapeChar::Char(b'~')).name(),
        );
        line(
            "rekeylimit",
            &format!(
                "{} {}",
                self.rekey_limit.unwrap_or(0),
                self.rekey_interval.unwrap_or(0)
            ),
        );
        match &self.proxy_jump {
            Some(Some(j)) => line("proxyjump", &j.dump()),
            _ => {
                if let Some(c) = self
                    .proxy_command
                    .as_deref()
                    .filter(|c| !c.eq_ignore_ascii_case("none"))
                {
                    line("proxycommand", c);
                }
            }
        }
        Ok(out)
    }

    /// The resolved algorithm list of a slot: the setting applied to Seashell's defaults.
    ///
    /// # Errors
    /// A spec that leaves nothing.
    pub fn algorithms(&self, slot: AlgorithmSlot) -> Result<Vec<String>, String> {
        let spec = match slot {
            AlgorithmSlot::Cipher => &self.ciphers,
            AlgorithmSlot::Mac => &self.macs,
            AlgorithmSlot::Kex => &self.kex_algorithms,
            AlgorithmSlot::HostKey => &self.host_key_algorithms,
            AlgorithmSlot::PubkeyAccepted => &self.pubkey_accepted_algorithms,
            AlgorithmSlot::Compression => &None,
        };
        algorithm_list(spec.as_deref(), slot)
    }
}

/// A list on one line, `none` when empty.
fn oneline(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(" ")
    }
}

/// The keywords [`ResolvedConfig::dump`] prints (those `ssh -G` output is compared on).
pub const DUMPED_KEYWORDS: &[Key] = &[
    Key::User,
    Key::Hostname,
    Key::Port,
    Key::BatchMode,
    Key::CanonicalizeFallbackLocal,
    Key::CanonicalizeHostname,
    Key::CheckHostIp,
    Key::Compression,
    Key::ClearAllForwardings,
    Key::ExitOnForwardFailure,
    Key::GatewayPorts,
    Key::HashKnownHosts,
    Key::IdentitiesOnly,
    Key::PasswordAuthentication,
    Key::PubkeyAuthentication,
    Key::RequestTty,
    Key::SessionType,
    Key::StdinNull,
    Key::ForkAfterAuthentication,
    Key::StreamLocalBindUnlink,
    Key::StrictHostKeyChecking,
    Key::UpdateHostKeys,
    Key::CanonicalizeMaxDots,
    Key::ServerAliveCountMax,
    Key::ServerAliveInterval,
    Key::Ciphers,
    Key::HostKeyAlgorithms,
    Key::HostKeyAlias,
    Key::IdentityAgent,
    Key::IgnoreUnknown,
    Key::KexAlgorithms,
    Key::LogLevel,
    Key::Macs,
    Key::PubkeyAcceptedAlgorithms,
    Key::Tag,
    Key::DynamicForward,
    Key::LocalForward,
    Key::RemoteForward,
    Key::IdentityFile,
    Key::CanonicalDomains,
    Key::CertificateFile,
    Key::GlobalKnownHostsFile,
    Key::UserKnownHostsFile,
    Key::SendEnv,
    Key::SetEnv,
    Key::AddKeysToAgent,
    Key::ForwardAgent,
    Key::ConnectTimeout,
    Key::EscapeChar,
    Key::RekeyLimit,
    Key::ProxyCommand,
    Key::ProxyJump,
];
