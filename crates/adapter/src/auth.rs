//! The order a client tries credentials in, and how an address is split.

use crate::config::ClientConfig;
use seashell_proto::{AuthMethod, PublicKey};

/// The order methods are tried in: each key, then each agent key not among them, then the
/// password (or the prompt). Feed it the methods of each `Event::AuthMethods`; `None` means
/// nothing is left to try.
#[derive(Debug, Default)]
pub struct AuthPlan {
    next_key: usize,
    password_tried: bool,
    /// The agent's keys, once listed.
    agent_keys: Option<Vec<PublicKey>>,
    next_agent_key: usize,
}

impl AuthPlan {
    /// Whether the agent's keys are still to be listed (they are needed once the local
    /// keys are tried and the server accepts `publickey`).
    pub fn wants_agent_keys(&self, methods: &[String], config: &ClientConfig) -> bool {
        self.agent_keys.is_none()
            && config.agent.is_some()
            && self.next_key >= config.keys.len()
            && methods.iter().any(|m| m == "publickey")
    }

    /// Gives the plan the agent's keys (an empty list if the agent cannot be reached).
    pub fn set_agent_keys(&mut self, keys: Vec<PublicKey>) {
        self.agent_keys = Some(keys);
    }

    /// The next method to try among `methods` (what the server would accept).
    pub fn next(&mut self, methods: &[String], config: &ClientConfig) -> Option<AuthMethod> {
        let offers = |m: &str| methods.iter().any(|x| x == m);
        if offers("publickey")
            && let Some(k) = config.keys.get(self.next_key)
        {
            self.next_key += 1;
            return Some(AuthMethod::PublicKey(k.clone()));
        }
        if offers("publickey")
            && let Some(agent) = &self.agent_keys
        {
            while let Some(k) = agent.get(self.next_agent_key) {
                self.next_agent_key += 1;
                let wanted = config
                    .agent_keys_only
                    .as_ref()
                    .is_none_or(|only| only.contains(k));
                if wanted && !config.keys.iter().any(|own| own.public_key() == *k) {
                    return Some(AuthMethod::ExternalKey(k.clone()));
                }
            }
        }
        if offers("password") && !self.password_tried {
            self.password_tried = true;
            if let Some(pw) = &config.password {
                return Some(AuthMethod::Password(pw.clone()));
            }
            if let Some(prompt) = &config.password_prompt
                && let Some(pw) = prompt(&config.core.user)
            {
                return Some(AuthMethod::Password(pw));
            }
        }
        None
    }
}

/// Splits `host:port`, `[v6]:port` or a bare host (port 22).
pub fn split_host_port(addr: &str) -> (String, u16) {
    if let Some(rest) = addr.strip_prefix('[')
        && let Some((h, p)) = rest.split_once("]:")
    {
        return (h.to_owned(), p.parse().unwrap_or(22));
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_owned(), p.parse().unwrap_or(22)),
        _ => (addr.trim_matches(['[', ']']).to_owned(), 22),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port("h:2222"), ("h".into(), 2222));
        assert_eq!(split_host_port("h"), ("h".into(), 22));
        assert_eq!(split_host_port("[::1]:22"), ("::1".into(), 22));
        assert_eq!(split_host_port("::1"), ("::1".into(), 22));
    }

    #[test]
    fn keys_then_password_once() {
        let key = seashell_proto::PrivateKey::ed25519_from_seed(&[1; 32]).unwrap();
        let config = ClientConfig::new("me").key(key).password("pw");
        let mut plan = AuthPlan::default();
        let both = ["publickey".to_owned(), "password".to_owned()];
        assert!(matches!(
            plan.next(&both, &config),
            Some(AuthMethod::PublicKey(_))
        ));
        assert!(matches!(
            plan.next(&both, &config),
            Some(AuthMethod::Password(_))
        ));
        assert!(plan.next(&both, &config).is_none());
    }

    #[test]
    fn agent_keys_after_own_keys_without_duplicates() {
        let own = seashell_proto::PrivateKey::ed25519_from_seed(&[1; 32]).unwrap();
        let other = seashell_proto::PrivateKey::ed25519_from_seed(&[2; 32])
            .unwrap()
            .public_key();
        let mut config = ClientConfig::new("me").key(own);
        config.agent = Some("/nonexistent".into());
        let mut plan = AuthPlan::default();
        let pk = ["publickey".to_owned()];
        assert!(!plan.wants_agent_keys(&pk, &config));
        assert!(matches!(
            plan.next(&pk, &config),
            Some(AuthMethod::PublicKey(_))
        ));
        assert!(plan.wants_agent_keys(&pk, &config));
        let dup = config.keys[0].public_key();
        plan.set_agent_keys(vec![dup, other.clone()]);
        assert!(!plan.wants_agent_keys(&pk, &config));
        assert!(matches!(plan.next(&pk, &config), Some(AuthMethod::ExternalKey(k)) if k == other));
        assert!(plan.next(&pk, &config).is_none());
        // IdentitiesOnly: agent keys outside the list are not offered.
        let third = seashell_proto::PrivateKey::ed25519_from_seed(&[3; 32])
            .unwrap()
            .public_key();
        config.agent_keys_only = Some(vec![third.clone()]);
        let mut plan = AuthPlan::default();
        plan.next(&pk, &config);
        plan.set_agent_keys(vec![other, third.clone()]);
        assert!(matches!(plan.next(&pk, &config), Some(AuthMethod::ExternalKey(k)) if k == third));
        assert!(plan.next(&pk, &config).is_none());
    }
}
