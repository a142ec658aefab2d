//! `CheckHostIP=yes`: once the host key is trusted for the host name, it is also looked up
//! under the server's IP address, as `ssh` does: an unknown address is recorded (with a
//! warning), a different key recorded for the address is warned about, and with
//! `StrictHostKeyChecking=yes` the connection is then refused. Host certificates, and
//! destinations given as an address, are not checked this way.

use crate::log::Log;
use seashell_blocking::{HostKeyPolicy, KnownHostsFiles, StrictHostKeyChecking};
use seashell_keys::{HostKeyStatus, KnownHosts, append_known_host_names, host_pattern, key_label};
use seashell_proto::PublicKey;
use std::net::IpAddr;
use std::sync::Arc;

/// Wraps `inner` (the host-name check) with the address check against `known`.
pub fn wrap(inner: HostKeyPolicy, known: KnownHostsFiles, ip: IpAddr, log: Log) -> HostKeyPolicy {
    HostKeyPolicy::Custom(Arc::new(move |host: &str, port: u16, key: &PublicKey| {
        inner.check(host, port, key).map_err(|e| e.to_string())?;
        let ip_name = ip.to_canonical().to_string();
        if key.certificate().is_some() || ip_name.eq_ignore_ascii_case(host) {
            return Ok(());
        }
        let all = KnownHosts::load_files(&known.all_files()).map_err(|e| e.to_string())?;
        let label = key_label(key);
        match all.check(&ip_name, port, key) {
            HostKeyStatus::Unknown => {
                if let Some(file) = known.user_files.first()
                    && append_known_host_names(file, &[&ip_name], port, key, known.hash_new).is_ok()
                {
                    log.warn(&format!(
                        "Warning: Permanently added the {label} host key for IP address '{}' to the list of known hosts.",
                        host_pattern(&ip_name, port)
                    ));
                }
                Ok(())
            }
            HostKeyStatus::Mismatch { known: lines } => {
                let at: Vec<String> = lines.iter().map(|(_, l)| l.to_string()).collect();
                log.warn(&format!(
                    "Warning: the {label} host key for '{host}' differs from the key for the IP address '{}'\n\
                     Offending key for IP in known_hosts line {}",
                    host_pattern(&ip_name, port),
                    at.join(",")
                ));
                if known.strict == StrictHostKeyChecking::Yes {
                    return Err("Exiting, you have requested strict checking.".into());
                }
                Ok(())
            }
            HostKeyStatus::Revoked => Err(format!(
                "host key verification failed: the {label} key of IP address '{ip_name}' is revoked"
            )),
            _ => Ok(()),
        }
    }))
}
