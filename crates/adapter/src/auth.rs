//! The order a client tries credentials in, and how an address is split.

use crate::config::ClientConfig;
use seashell_proto::AuthMethod;

/// The order methods are tried in: each key, then the password (or the prompt). Feed it the
/// methods of each `Event::AuthMethods`; `None` means nothing is left to try.
#[derive(Debug, Default)]
pub struct AuthPlan {
    next_key: usize,
    password_tried: bool,
}

impl AuthPlan {
    /// The next method to try among `methods` (what the server would accept).
    pub fn next(&mut self, methods: &[String], config: &ClientConfig) -> Option<AuthMethod> {
        let offers = |m: &str| methods.iter().any(|x| x == m);
        if offers("publickey")
            && let Some(k) = config.keys.get(self.next_key)
        {
            self.next_key += 1;
            return Some(AuthMethod::PublicKey(k.clone()));
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
}
