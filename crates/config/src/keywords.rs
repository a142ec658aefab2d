//! The client keywords OpenSSH knows (9.2 with Debian's GSSAPI additions, plus the ones
//! 10.x added), and what Seashell makes of each.

/// A keyword Seashell resolves (and prints with `-G`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Key {
    Host,
    Match,
    Include,
    AddKeysToAgent,
    BatchMode,
    CanonicalDomains,
    CanonicalizeFallbackLocal,
    CanonicalizeHostname,
    CanonicalizeMaxDots,
    CertificateFile,
    CheckHostIp,
    Ciphers,
    ClearAllForwardings,
    Compression,
    ConnectTimeout,
    DynamicForward,
    EscapeChar,
    ExitOnForwardFailure,
    ForkAfterAuthentication,
    ForwardAgent,
    GatewayPorts,
    GlobalKnownHostsFile,
    HashKnownHosts,
    HostKeyAlgorithms,
    HostKeyAlias,
    Hostname,
    IdentitiesOnly,
    IdentityAgent,
    IdentityFile,
    IgnoreUnknown,
    KexAlgorithms,
    LocalForward,
    LogLevel,
    Macs,
    PasswordAuthentication,
    Port,
    ProxyCommand,
    ProxyJump,
    PubkeyAcceptedAlgorithms,
    PubkeyAuthentication,
    RekeyLimit,
    RemoteForward,
    RequestTty,
    SendEnv,
    ServerAliveCountMax,
    ServerAliveInterval,
    SessionType,
    SetEnv,
    StdinNull,
    StreamLocalBindUnlink,
    StrictHostKeyChecking,
    Tag,
    UpdateHostKeys,
    User,
    UserKnownHostsFile,
}

/// What a keyword is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Resolved by Seashell.
    Supported(Key),
    /// A valid OpenSSH keyword Seashell does not act on: checked for nothing, not printed.
    Known(&'static str),
    /// An old keyword OpenSSH accepts and ignores (debug message only).
    Deprecated,
    /// A keyword OpenSSH names as unsupported (an error message, but not fatal).
    Unsupported,
    /// `Protocol`: silently ignored.
    Ignore,
}

/// (lower-case name, class). Aliases map to the same key.
const TABLE: &[(&str, Class)] = {
    use Class::{Deprecated as D, Ignore as I, Known as K, Supported as S, Unsupported as U};
    use Key::*;
    &[
        ("protocol", I),
        ("cipher", D),
        ("fallbacktorsh", D),
        ("globalknownhostsfile2", D),
        ("rhostsauthentication", D),
        ("userknownhostsfile2", D),
        ("useroaming", D),
        ("usersh", D),
        ("useprivilegedport", D),
        ("afstokenpassing", U),
        ("kerberosauthentication", U),
        ("kerberostgtpassing", U),
        ("rsaauthentication", U),
        ("rhostsrsaauthentication", U),
        ("compressionlevel", U),
        ("gssapiauthentication", K("GSSAPIAuthentication")),
        ("gssapidelegatecredentials", K("GSSAPIDelegateCredentials")),
        ("gssapikeyexchange", K("GSSAPIKeyExchange")),
        ("gssapiclientidentity", K("GSSAPIClientIdentity")),
        ("gssapiserveridentity", K("GSSAPIServerIdentity")),
        ("gssapirenewalforcesrekey", K("GSSAPIRenewalForcesRekey")),
        ("gssapitrustdns", K("GSSAPITrustDns")),
        ("gssapikexalgorithms", K("GSSAPIKexAlgorithms")),
        ("pkcs11provider", K("PKCS11Provider")),
        ("smartcarddevice", K("PKCS11Provider")),
        ("forwardagent", S(ForwardAgent)),
        ("forwardx11", K("ForwardX11")),
        ("forwardx11trusted", K("ForwardX11Trusted")),
        ("forwardx11timeout", K("ForwardX11Timeout")),
        ("exitonforwardfailure", S(ExitOnForwardFailure)),
        ("xauthlocation", K("XAuthLocation")),
        ("gatewayports", S(GatewayPorts)),
        ("passwordauthentication", S(PasswordAuthentication)),
        (
            "kbdinteractiveauthentication",
            K("KbdInteractiveAuthentication"),
        ),
        ("kbdinteractivedevices", K("KbdInteractiveDevices")),
        (
            "challengeresponseauthentication",
            K("KbdInteractiveAuthentication"),
        ),
        ("skeyauthentication", K("KbdInteractiveAuthentication")),
        ("tisauthentication", K("KbdInteractiveAuthentication")),
        ("pubkeyauthentication", S(PubkeyAuthentication)),
        ("dsaauthentication", S(PubkeyAuthentication)),
        ("hostbasedauthentication", K("HostbasedAuthentication")),
        ("identityfile", S(IdentityFile)),
        ("identityfile2", S(IdentityFile)),
        ("identitiesonly", S(IdentitiesOnly)),
        ("certificatefile", S(CertificateFile)),
        ("addkeystoagent", S(AddKeysToAgent)),
        ("identityagent", S(IdentityAgent)),
        ("hostname", S(Hostname)),
        ("hostkeyalias", S(HostKeyAlias)),
        ("proxycommand", S(ProxyCommand)),
        ("port", S(Port)),
        ("ciphers", S(Ciphers)),
        ("macs", S(Macs)),
        ("remoteforward", S(RemoteForward)),
        ("localforward", S(LocalForward)),
        ("permitremoteopen", K("PermitRemoteOpen")),
        ("user", S(User)),
        ("host", S(Host)),
        ("match", S(Match)),
        ("tag", S(Tag)),
        ("escapechar", S(EscapeChar)),
        ("globalknownhostsfile", S(GlobalKnownHostsFile)),
        ("userknownhostsfile", S(UserKnownHostsFile)),
        ("connectionattempts", K("ConnectionAttempts")),
        ("batchmode", S(BatchMode)),
        ("checkhostip", S(CheckHostIp)),
        ("stricthostkeychecking", S(StrictHostKeyChecking)),
        ("compression", S(Compression)),
        ("tcpkeepalive", K("TCPKeepAlive")),
        ("keepalive", K("TCPKeepAlive")),
        ("numberofpasswordprompts", K("NumberOfPasswordPrompts")),
        ("syslogfacility", K("SyslogFacility")),
        ("loglevel", S(LogLevel)),
        ("logverbose", K("LogVerbose")),
        ("dynamicforward", S(DynamicForward)),
        ("preferredauthentications", K("PreferredAuthentications")),
        ("hostkeyalgorithms", S(HostKeyAlgorithms)),
        ("casignaturealgorithms", K("CASignatureAlgorithms")),
        ("bindaddress", K("BindAddress")),
        ("bindinterface", K("BindInterface")),
        ("clearallforwardings", S(ClearAllForwardings)),
        ("enablesshkeysign", K("EnableSSHKeysign")),
        ("verifyhostkeydns", K("VerifyHostKeyDNS")),
        (
            "nohostauthenticationforlocalhost",
            K("NoHostAuthenticationForLocalhost"),
        ),
        ("rekeylimit", S(RekeyLimit)),
        ("connecttimeout", S(ConnectTimeout)),
        ("addressfamily", K("AddressFamily")),
        ("serveraliveinterval", S(ServerAliveInterval)),
        ("serveralivecountmax", S(ServerAliveCountMax)),
        ("sendenv", S(SendEnv)),
        ("setenv", S(SetEnv)),
        ("controlpath", K("ControlPath")),
        ("controlmaster", K("ControlMaster")),
        ("controlpersist", K("ControlPersist")),
        ("hashknownhosts", S(HashKnownHosts)),
        ("include", S(Include)),
        ("tunnel", K("Tunnel")),
        ("tunneldevice", K("TunnelDevice")),
        ("localcommand", K("LocalCommand")),
        ("permitlocalcommand", K("PermitLocalCommand")),
        ("remotecommand", K("RemoteCommand")),
        ("visualhostkey", K("VisualHostKey")),
        ("kexalgorithms", S(KexAlgorithms)),
        ("ipqos", K("IPQoS")),
        ("requesttty", S(RequestTty)),
        ("sessiontype", S(SessionType)),
        ("stdinnull", S(StdinNull)),
        ("forkafterauthentication", S(ForkAfterAuthentication)),
        ("proxyusefdpass", K("ProxyUseFdpass")),
        ("canonicaldomains", S(CanonicalDomains)),
        ("canonicalizefallbacklocal", S(CanonicalizeFallbackLocal)),
        ("canonicalizehostname", S(CanonicalizeHostname)),
        ("canonicalizemaxdots", S(CanonicalizeMaxDots)),
        (
            "canonicalizepermittedcnames",
            K("CanonicalizePermittedCNAMEs"),
        ),
        ("streamlocalbindmask", K("StreamLocalBindMask")),
        ("streamlocalbindunlink", S(StreamLocalBindUnlink)),
        ("revokedhostkeys", K("RevokedHostKeys")),
        ("fingerprinthash", K("FingerprintHash")),
        ("updatehostkeys", S(UpdateHostKeys)),
        (
            "hostbasedacceptedalgorithms",
            K("HostbasedAcceptedAlgorithms"),
        ),
        ("hostbasedkeytypes", K("HostbasedAcceptedAlgorithms")),
        ("pubkeyacceptedalgorithms", S(PubkeyAcceptedAlgorithms)),
        ("pubkeyacceptedkeytypes", S(PubkeyAcceptedAlgorithms)),
        ("ignoreunknown", S(IgnoreUnknown)),
        ("proxyjump", S(ProxyJump)),
        ("securitykeyprovider", K("SecurityKeyProvider")),
        ("knownhostscommand", K("KnownHostsCommand")),
        ("requiredrsasize", K("RequiredRSASize")),
        ("enableescapecommandline", K("EnableEscapeCommandline")),
        ("obscurekeystroketiming", K("ObscureKeystrokeTiming")),
        ("channeltimeout", K("ChannelTimeout")),
        ("refuseconnection", K("RefuseConnection")),
        ("warnweakcrypto", K("WarnWeakCrypto")),
        ("versionaddendum", K("VersionAddendum")),
        ("pubkeyauthoptions", K("PubkeyAuthOptions")),
    ]
};

/// Looks a lower-case keyword up.
pub fn classify(lower: &str) -> Option<Class> {
    TABLE.iter().find(|(n, _)| *n == lower).map(|(_, c)| *c)
}

impl Key {
    /// The keyword as `ssh -G` prints it (lower case).
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(_, c)| *c == Class::Supported(self))
            .map_or("unknown", |(n, _)| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(classify("port"), Some(Class::Supported(Key::Port)));
        assert_eq!(
            classify("pubkeyacceptedkeytypes"),
            Some(Class::Supported(Key::PubkeyAcceptedAlgorithms))
        );
        assert_eq!(classify("cipher"), Some(Class::Deprecated));
        assert_eq!(classify("forwardx11"), Some(Class::Known("ForwardX11")));
        assert_eq!(classify("frobnicate"), None);
        assert_eq!(Key::IdentityFile.name(), "identityfile");
        assert_eq!(Key::PubkeyAuthentication.name(), "pubkeyauthentication");
        assert_eq!(Key::Macs.name(), "macs");
    }

    #[test]
    fn no_duplicate_names() {
        let mut names: Vec<&str> = TABLE.iter().map(|(n, _)| *n).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(TABLE.iter().all(|(n, _)| {
            n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        }));
    }
}
