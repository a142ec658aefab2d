//! OpenSSH's client configuration keywords (`man ssh_config`, OpenSSH 9.x, with the Debian
//! GSSAPI additions and the old names OpenSSH still accepts), so that a valid keyword
//! Seashell does not act on yet is named as such instead of being called unknown.

/// Every keyword `ssh -o` accepts, in OpenSSH's spelling.
const OPENSSH_KEYWORDS: &[&str] = &[
    "AddKeysToAgent",
    "AddressFamily",
    "BatchMode",
    "BindAddress",
    "BindInterface",
    "CASignatureAlgorithms",
    "CanonicalDomains",
    "CanonicalizeFallbackLocal",
    "CanonicalizeHostname",
    "CanonicalizeMaxDots",
    "CanonicalizePermittedCNAMEs",
    "CertificateFile",
    "ChallengeResponseAuthentication",
    "CheckHostIP",
    "Ciphers",
    "ClearAllForwardings",
    "Compression",
    "ConnectTimeout",
    "ConnectionAttempts",
    "ControlMaster",
    "ControlPath",
    "ControlPersist",
    "DynamicForward",
    "EnableEscapeCommandline",
    "EnableSSHKeysign",
    "EscapeChar",
    "ExitOnForwardFailure",
    "FingerprintHash",
    "ForkAfterAuthentication",
    "ForwardAgent",
    "ForwardX11",
    "ForwardX11Timeout",
    "ForwardX11Trusted",
    "GSSAPIAuthentication",
    "GSSAPIClientIdentity",
    "GSSAPIDelegateCredentials",
    "GSSAPIKexAlgorithms",
    "GSSAPIKeyExchange",
    "GSSAPIRenewalForcesRekey",
    "GSSAPIServerIdentity",
    "GSSAPITrustDns",
    "GatewayPorts",
    "GlobalKnownHostsFile",
    "HashKnownHosts",
    "HostKeyAlgorithms",
    "HostKeyAlias",
    "HostbasedAcceptedAlgorithms",
    "HostbasedAuthentication",
    "HostbasedKeyTypes",
    "Hostname",
    "IPQoS",
    "IdentitiesOnly",
    "IdentityAgent",
    "IdentityFile",
    "IgnoreUnknown",
    "KbdInteractiveAuthentication",
    "KbdInteractiveDevices",
    "KexAlgorithms",
    "KnownHostsCommand",
    "LocalCommand",
    "LocalForward",
    "LogLevel",
    "LogVerbose",
    "MACs",
    "NoHostAuthenticationForLocalhost",
    "NumberOfPasswordPrompts",
    "PKCS11Provider",
    "PasswordAuthentication",
    "PermitLocalCommand",
    "PermitRemoteOpen",
    "Port",
    "PreferredAuthentications",
    "ProxyCommand",
    "ProxyJump",
    "ProxyUseFdpass",
    "PubkeyAcceptedAlgorithms",
    "PubkeyAcceptedKeyTypes",
    "PubkeyAuthentication",
    "RekeyLimit",
    "RemoteCommand",
    "RemoteForward",
    "RequestTTY",
    "RequiredRSASize",
    "RevokedHostKeys",
    "SecurityKeyProvider",
    "SendEnv",
    "ServerAliveCountMax",
    "ServerAliveInterval",
    "SessionType",
    "SetEnv",
    "StdinNull",
    "StreamLocalBindMask",
    "StreamLocalBindUnlink",
    "StrictHostKeyChecking",
    "SyslogFacility",
    "TCPKeepAlive",
    "Tunnel",
    "TunnelDevice",
    "UpdateHostKeys",
    "User",
    "UserKnownHostsFile",
    "VerifyHostKeyDNS",
    "VisualHostKey",
    "XAuthLocation",
];

/// Keywords only a configuration file may use; ssh refuses them on the command line.
const FILE_ONLY: &[&str] = &["Host", "Match", "Include"];

/// Keywords Seashell does not act on, with the values that ask for what it does anyway
/// (so `-o ForwardAgent=no` is accepted). Lower case.
const SAME_AS_SEASHELL: &[(&str, &[&str])] = &[
    ("addkeystoagent", &["no"]),
    ("checkhostip", &["no"]),
    ("controlmaster", &["no"]),
    ("controlpath", &["none"]),
    ("enableescapecommandline", &["no"]),
    ("enablesshkeysign", &["no"]),
    ("forwardx11", &["no"]),
    ("forwardx11trusted", &["yes", "no"]),
    ("gssapiauthentication", &["no"]),
    ("hostbasedauthentication", &["no"]),
    ("permitlocalcommand", &["no"]),
    ("proxycommand", &["none"]),
    ("tunnel", &["no"]),
    ("updatehostkeys", &["no"]),
    ("verifyhostkeydns", &["no"]),
    ("visualhostkey", &["no"]),
];

/// What to make of a keyword Seashell does not handle itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unhandled {
    /// A valid OpenSSH keyword whose value asks for what Seashell does anyway: accept it.
    Harmless,
    /// A valid OpenSSH keyword: refuse it with this message.
    NotSupported(String),
    /// Not an OpenSSH client keyword at all.
    Unknown,
}

/// Classifies a keyword (any case) that Seashell has no handler for, given its value.
pub fn classify(key: &str, value: &str) -> Unhandled {
    if let Some(name) = FILE_ONLY.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        return Unhandled::NotSupported(format!(
            "{name} directive not supported as a command-line option"
        ));
    }
    let Some(name) = OPENSSH_KEYWORDS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(key))
    else {
        return Unhandled::Unknown;
    };
    let lower = key.to_ascii_lowercase();
    let value = value.to_ascii_lowercase();
    let harmless = SAME_AS_SEASHELL
        .iter()
        .any(|(k, values)| *k == lower && values.contains(&value.as_str()));
    if harmless {
        Unhandled::Harmless
    } else {
        Unhandled::NotSupported(format!("keyword {name} is not supported yet"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_supported_keywords_are_named() {
        assert_eq!(
            classify("forwardx11", "yes"),
            Unhandled::NotSupported("keyword ForwardX11 is not supported yet".into())
        );
        assert_eq!(
            classify("ControlMaster", "auto"),
            Unhandled::NotSupported("keyword ControlMaster is not supported yet".into())
        );
        assert_eq!(
            classify("SENDENV", "LANG"),
            Unhandled::NotSupported("keyword SendEnv is not supported yet".into())
        );
    }

    #[test]
    fn values_matching_what_seashell_does_are_accepted() {
        assert_eq!(classify("ForwardX11", "No"), Unhandled::Harmless);
        assert_eq!(classify("ProxyCommand", "none"), Unhandled::Harmless);
        assert!(matches!(
            classify("ForwardX11", "yes"),
            Unhandled::NotSupported(_)
        ));
    }

    #[test]
    fn file_only_and_unknown() {
        assert_eq!(
            classify("host", "x"),
            Unhandled::NotSupported("Host directive not supported as a command-line option".into())
        );
        assert_eq!(classify("Frobnicate", "1"), Unhandled::Unknown);
        assert_eq!(classify("", "1"), Unhandled::Unknown);
    }

    #[test]
    fn the_list_is_sorted_case_insensitively_and_has_no_duplicates() {
        let lower: Vec<String> = OPENSSH_KEYWORDS
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect();
        let mut sorted = lower.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), lower.len());
        for (k, _) in SAME_AS_SEASHELL {
            assert!(lower.iter().any(|l| l == k), "{k}");
        }
    }
}
