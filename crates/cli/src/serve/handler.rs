//! The [`Handler`] of `seashell serve`: who may log in, and what each session request does.
//!
//! It runs on the connection's thread, so every answer is quick: commands start on threads
//! of their own ([`process::start`]), and the per-channel state (pty size, environment, the
//! running command) lives here, keyed by channel id.

use super::Log;
use super::authorized_keys::{AuthorizedKeys, KeyOptions};
use super::process::{self, PtySpec, Running, Spec};
use super::pty::Size;
use super::session_options::{Launch, Request, SessionOptions};
use seashell_adapter::ForwardingPolicy;
use seashell_blocking::{Handler, ServerChannel};
use seashell_proto::{
    AuthAttempt, AuthDecision, ChannelId, PromptRequest, PublicKey, SessionRequestKind,
};
use std::collections::HashMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Most `env` requests remembered per channel.
const MAX_ENV: usize = 64;

/// Who may log in and how commands run; shared by all connections.
#[derive(Debug)]
pub struct Policy {
    /// User names that may log in.
    pub users: Vec<String>,
    /// Keys accepted for `publickey`.
    pub authorized: AuthorizedKeys,
    /// `TrustedUserCAKeys`, `AuthorizedPrincipalsFile`, `RevokedKeys`.
    pub trust: super::cert_auth::UserTrust,
    /// The password for `password` and `keyboard-interactive`, if enabled.
    pub password: Option<Zeroizing<String>>,
    /// `publickey` is enabled.
    pub pubkey: bool,
    /// `password` is enabled (and there is a password).
    pub password_auth: bool,
    /// `keyboard-interactive` is enabled (and there is a password).
    pub kbd_interactive: bool,
    /// The shell commands run through.
    pub shell: PathBuf,
    /// The home directory: working directory of commands, `HOME`.
    pub home: Option<PathBuf>,
    /// The environment every command starts with (`HOME`, `USER`, `PATH`, ...).
    pub base_env: Vec<(String, String)>,
    /// What clients may forward (sshd's options); each connection's is narrowed by the
    /// `authorized_keys` options of the key it authenticated with.
    pub forwarding: ForwardingPolicy,
    /// `Subsystem`, `ForceCommand`, `ChrootDirectory`: what each session runs.
    pub sessions: SessionOptions,
    /// Diagnostics.
    pub log: Log,
}

impl Policy {
    /// The authentication methods to offer, in order.
    pub fn methods(&self) -> Vec<String> {
        let mut m = Vec::new();
        if self.pubkey {
            m.push("publickey".to_owned());
        }
        if self.password.is_some() && self.password_auth {
            m.push("password".to_owned());
        }
        if self.password.is_some() && self.kbd_interactive {
            m.push("keyboard-interactive".to_owned());
        }
        m
    }

    fn password_matches(&self, given: &str) -> bool {
        match &self.password {
            Some(want) => same_bytes(want.as_bytes(), given.as_bytes()),
            None => false,
        }
    }
}

/// Compares without stopping at the first difference (the length is not hidden).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// What a session channel has asked for so far.
#[derive(Debug)]
struct Session {
    channel: ServerChannel,
    pty: Option<PtySpec>,
    env: Vec<(String, String)>,
    /// A command, shell or subsystem has started (no more pty or env requests).
    started: bool,
    running: Option<Running>,
    /// The forwarded agent's socket, for `SSH_AUTH_SOCK`.
    agent: Option<std::path::PathBuf>,
}

impl Session {
    fn new(channel: &ServerChannel) -> Session {
        Session {
            channel: channel.clone(),
            pty: None,
            env: Vec::new(),
            started: false,
            running: None,
            agent: None,
        }
    }
}

/// The two ends of a connection, as the log and the commands' environment name them.
///
/// Both are unknown (`None`) when `seashell serve -i` serves a connection on pipes: then,
/// as with `sshd -i`, the client is `UNKNOWN` port 65535, and a key restricted with
/// `from="..."` cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// The client's address.
    pub peer: Option<SocketAddr>,
    /// The server's address the client reached.
    pub local: Option<SocketAddr>,
}

impl Endpoints {
    /// Address and port as `SSH_CLIENT` and `SSH_CONNECTION` give them.
    fn parts(addr: Option<SocketAddr>) -> (String, u16) {
        addr.map_or_else(
            || ("UNKNOWN".to_owned(), 65535),
            |a| (a.ip().to_string(), a.port()),
        )
    }

    /// `SSH_CLIENT`: client address, client port, server port.
    pub fn ssh_client(&self) -> String {
        let ((ip, port), (_, local_port)) = (Self::parts(self.peer), Self::parts(self.local));
        format!("{ip} {port} {local_port}")
    }

    /// `SSH_CONNECTION`: client address and port, server address and port.
    pub fn ssh_connection(&self) -> String {
        let ((ip, port), (lip, lport)) = (Self::parts(self.peer), Self::parts(self.local));
        format!("{ip} {port} {lip} {lport}")
    }

    /// How the log names the client.
    pub fn label(&self) -> String {
        self.peer
            .map_or_else(|| "UNKNOWN port 65535".to_owned(), |p| p.to_string())
    }

    /// The client as sshd's log lines end: `ADDRESS port PORT`.
    fn sshd_label(&self) -> String {
        let (ip, port) = Self::parts(self.peer);
        format!("{ip} port {port}")
    }
}

/// One connection's handler.
#[derive(Debug)]
pub struct ServeHandler {
    policy: Arc<Policy>,
    ends: Endpoints,
    /// [`Endpoints::label`], computed once.
    peer: String,
    /// The method of the attempt being accepted, for the log.
    method: &'static str,
    /// Restrictions from the `authorized_keys` line that authenticated the client.
    key_options: KeyOptions,
    sessions: HashMap<ChannelId, Session>,
    /// The authenticated user, for the log.
    user: Option<String>,
}

impl ServeHandler {
    /// A handler for a connection from `peer` to `local`.
    pub fn new(policy: Arc<Policy>, peer: SocketAddr, local: SocketAddr) -> ServeHandler {
        let ends = Endpoints {
            peer: Some(peer),
            local: Some(local),
        };
        ServeHandler::with_endpoints(policy, ends)
    }

    /// A handler for a connection between `ends`, either of which may be unknown.
    pub fn with_endpoints(policy: Arc<Policy>, ends: Endpoints) -> ServeHandler {
        let peer = ends.label();
        policy.log.debug(&format!("{peer}: connection accepted"));
        ServeHandler {
            policy,
            ends,
            peer,
            method: "none",
            key_options: KeyOptions::default(),
            sessions: HashMap::new(),
            user: None,
        }
    }

    fn log_attempt(&self, user: &str, method: &str, decision: &AuthDecision) {
        let verdict = match decision {
            AuthDecision::Accept => "accepted",
            AuthDecision::Prompt(_) => "prompting",
            _ => "failed",
        };
        self.policy
            .log
            .debug(&format!("{}: {method} for {user:?}: {verdict}", self.peer));
    }

    /// The options a login as `user` with `key` (a plain key or a certificate) gets, if it
    /// is accepted from the client's address now ([`super::cert_auth`]).
    fn key_options_for(&self, user: &str, key: &PublicKey) -> Option<KeyOptions> {
        let request = super::cert_auth::Request {
            trust: &self.policy.trust,
            authorized: &self.policy.authorized,
            user,
            home: self.policy.home.as_deref(),
            client: self.ends.peer.map(|p| p.ip()),
            now: super::cert_auth::unix_now(),
        };
        match request.authorize(key) {
            Ok(o) => Some(o),
            Err(why) => {
                self.policy
                    .log
                    .debug(&format!("{}: key refused for {user:?}: {why}", self.peer));
                None
            }
        }
    }

    /// Whether a FIDO signature's flags satisfy the key's options, as sshd: user presence
    /// unless `no-touch-required`, user verification with `verify-required`.
    fn sk_allowed(
        &self,
        user: &str,
        o: &KeyOptions,
        sk: Option<&seashell_proto::keys::SkSignatureInfo>,
    ) -> bool {
        let Some(info) = sk else {
            return true;
        };
        let why = if !info.user_present() && !o.no_touch_required {
            "security key signature without user presence (touch)"
        } else if !info.user_verified() && o.verify_required {
            "security key signature without user verification (verify-required)"
        } else {
            return true;
        };
        self.policy
            .log
            .debug(&format!("{}: key refused for {user:?}: {why}", self.peer));
        false
    }

    /// The environment for a command on `s`.
    fn environment(&self, s: &Session, original: Option<&str>) -> Vec<(String, String)> {
        let mut env = self.policy.base_env.clone();
        env.push(("SSH_CLIENT".into(), self.ends.ssh_client()));
        env.push(("SSH_CONNECTION".into(), self.ends.ssh_connection()));
        for (k, v) in &s.env {
            env.retain(|(name, _)| name != k);
            env.push((k.clone(), v.clone()));
        }
        if let Some(cmd) = original {
            env.push(("SSH_ORIGINAL_COMMAND".into(), cmd.to_owned()));
        }
        if let Some(sock) = &s.agent {
            env.retain(|(name, _)| name != "SSH_AUTH_SOCK");
            env.push(("SSH_AUTH_SOCK".into(), sock.display().to_string()));
        }
        env
    }

    /// Starts what `request` runs on channel `id` ([`SessionOptions::launch`]).
    fn start(&mut self, id: ChannelId, request: Request<'_>) -> bool {
        let Some(s) = self.sessions.get(&id) else {
            return false;
        };
        if s.started {
            return false;
        }
        let user = self.user.clone().unwrap_or_default();
        let key_command = self.key_options.command.as_deref();
        let label = format!("{} channel {}", self.peer, id.index());
        let log = self.policy.log;
        let (command, original) = match self.policy.sessions.launch(request, key_command, &user) {
            Launch::Command { command, original } => (command.map(OsString::from_vec), original),
            Launch::Sftp(flags) => {
                let login = super::sftp::Login {
                    user: &user,
                    home: self.policy.home.as_deref(),
                    options: &self.policy.sessions,
                };
                let ok = super::sftp::start(&s.channel, &flags, &login, &label, log);
                return ok && self.mark_started(id, None);
            }
            Launch::SftpOnly => {
                log.info(&format!(
                    "Connection from {}: refusing non-sftp session",
                    self.ends.sshd_label()
                ));
                super::sftp::refuse_non_sftp(&s.channel);
                return self.mark_started(id, None);
            }
            Launch::Refused(why) => {
                log.info(&format!("{label}: {why}"));
                return false;
            }
        };
        let original = original.as_deref();
        let what = match (&command, &s.pty) {
            (Some(c), _) => format!("exec {:?}", c.to_string_lossy()),
            (None, Some(_)) => "shell with pty".to_owned(),
            (None, None) => "shell".to_owned(),
        };
        let spec = Spec {
            shell: self.policy.shell.clone(),
            command,
            env: self.environment(s, original),
            cwd: self.policy.home.clone().filter(|h| h.is_dir()),
            pty: s.pty.clone(),
        };
        match process::start(&s.channel, spec, log, label.clone()) {
            Ok(running) => {
                log.debug(&format!("{label}: {what}"));
                self.mark_started(id, Some(running))
            }
            Err(e) => {
                log.info(&format!("{label}: cannot start {what}: {e}"));
                false
            }
        }
    }

    /// Notes that channel `id` runs something (`running`: a command).
    fn mark_started(&mut self, id: ChannelId, running: Option<Running>) -> bool {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.started = true;
            s.running = running;
        }
        true
    }

    /// Handles one request on channel `id`.
    fn request(&mut self, id: ChannelId, request: &SessionRequestKind) -> bool {
        let no_pty = self.key_options.no_pty;
        let Some(s) = self.sessions.get_mut(&id) else {
            return false;
        };
        match request {
            SessionRequestKind::Pty {
                term,
                cols,
                rows,
                width_px,
                height_px,
                modes,
            } => {
                if no_pty || s.started || s.pty.is_some() {
                    return false;
                }
                s.pty = Some(PtySpec {
                    term: term.clone(),
                    size: Size {
                        cols: *cols,
                        rows: *rows,
                        width_px: *width_px,
                        height_px: *height_px,
                    },
                    modes: modes.clone(),
                });
                true
            }
            SessionRequestKind::Env { name, value } => {
                let ok = accept_env(name, value) && !s.started && s.env.len() < MAX_ENV;
                if ok {
                    s.env.push((name.clone(), value.clone()));
                }
                ok
            }
            SessionRequestKind::WindowChange {
                cols,
                rows,
                width_px,
                height_px,
            } => {
                let size = Size {
                    cols: *cols,
                    rows: *rows,
                    width_px: *width_px,
                    height_px: *height_px,
                };
                match (&s.running, &mut s.pty) {
                    (Some(r), _) => r.resize(size),
                    (None, Some(p)) => {
                        p.size = size;
                        true
                    }
                    (None, None) => false,
                }
            }
            SessionRequestKind::Signal(name) => s.running.as_ref().is_some_and(|r| r.signal(name)),
            SessionRequestKind::Exec(command) => {
                let command = command.clone();
                self.start(id, Request::Exec(&command))
            }
            SessionRequestKind::Shell => self.start(id, Request::Shell),
            SessionRequestKind::Subsystem(name) => {
                let name = name.clone();
                self.start(id, Request::Subsystem(&name))
            }
            _ => false,
        }
    }
}

/// The `env` requests accepted, like OpenSSH's usual `AcceptEnv LANG LC_*` (plus `TERM`).
fn accept_env(name: &str, value: &str) -> bool {
    let name_ok = name == "LANG" || name == "TERM" || name.starts_with("LC_");
    name_ok && !name.contains(['=', '\0']) && !value.contains('\0')
}

impl Handler for ServeHandler {
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        let p = self.policy.clone();
        let user_ok = p.users.iter().any(|u| u == user);
        let (method, decision) = match attempt {
            AuthAttempt::PublicKeyQuery { key, .. } => {
                let ok = p.pubkey && user_ok && self.key_options_for(user, key).is_some();
                // A query proves nothing: not logged, no state kept.
                return if ok {
                    AuthDecision::Accept
                } else {
                    AuthDecision::Reject
                };
            }
            AuthAttempt::PublicKey { key, sk, .. } => {
                let found = self
                    .key_options_for(user, key)
                    .filter(|_| p.pubkey && user_ok)
                    .filter(|o| self.sk_allowed(user, o, sk.as_ref()));
                let d = match found {
                    Some(options) => {
                        self.key_options = options;
                        AuthDecision::Accept
                    }
                    None => AuthDecision::Reject,
                };
                ("publickey", d)
            }
            AuthAttempt::Password(pw) => {
                let ok = p.password_auth && user_ok && p.password_matches(pw);
                ("password", decide(ok))
            }
            AuthAttempt::KeyboardInteractive { .. }
                if p.kbd_interactive && p.password.is_some() =>
            {
                // Prompt whether or not the user exists, so the answer reveals nothing.
                let prompt = PromptRequest {
                    name: String::new(),
                    instruction: String::new(),
                    prompts: vec![("Password: ".to_owned(), false)],
                };
                ("keyboard-interactive", AuthDecision::Prompt(prompt))
            }
            AuthAttempt::KeyboardInteractiveResponses(answers) => {
                let ok = p.kbd_interactive
                    && user_ok
                    && matches!(answers.as_slice(), [a] if p.password_matches(a));
                ("keyboard-interactive", decide(ok))
            }
            AuthAttempt::None => return AuthDecision::Reject,
            _ => ("other", AuthDecision::Reject),
        };
        self.log_attempt(user, method, &decision);
        if decision == AuthDecision::Accept {
            self.method = method;
        }
        decision
    }

    fn negotiated(&mut self, n: &seashell_proto::kex::negotiate::Negotiated) {
        let mac = |m: Option<seashell_proto::crypto::MacAlg>| m.map_or("implicit", |m| m.name());
        self.policy.log.debug(&format!(
            "{}: negotiated kex={} hostkey={} cipher={},{} mac={},{} compression={},{}",
            self.peer,
            n.kex.name(),
            n.host_key,
            n.cipher_c2s.name(),
            n.cipher_s2c.name(),
            mac(n.mac_c2s),
            mac(n.mac_s2c),
            n.comp_c2s.name(),
            n.comp_s2c.name(),
        ));
    }

    fn authenticated(&mut self, user: &str, key: Option<&PublicKey>) {
        let with = key.map_or(String::new(), |k| {
            format!(" ({} {})", k.key_type(), k.fingerprint())
        });
        self.policy.log.debug(&format!(
            "{}: authenticated {user:?} by {}{with}",
            self.peer, self.method
        ));
        self.user = Some(user.to_owned());
    }

    /// How the connection ended: sshd's `Timeout, client not responding from user NAME
    /// ADDRESS port PORT` when the client stopped answering keepalives
    /// (`ClientAliveInterval` × `ClientAliveCountMax`), anything else with `-v`.
    fn ended(&mut self, reason: &seashell_blocking::Error) {
        let who = match &self.user {
            Some(user) => format!("user {user} {}", self.ends.sshd_label()),
            None => self.ends.sshd_label(),
        };
        match reason {
            seashell_blocking::Error::Ssh(seashell_proto::Error::KeepaliveTimeout { .. }) => {
                self.policy
                    .log
                    .info(&format!("Timeout, client not responding from {who}"));
            }
            other => self
                .policy
                .log
                .debug(&format!("{}: connection ended: {other}", self.peer)),
        }
    }

    /// sshd's options narrowed by the key's `no-port-forwarding`, `permitopen`,
    /// `permitlisten` (and `restrict`); a password login keeps the server's policy.
    fn forwarding(&mut self) -> ForwardingPolicy {
        self.policy
            .forwarding
            .restricted_by(&self.key_options.forwarding)
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        // Forget channels that are gone (there is no close callback).
        self.sessions.retain(|_, s| !s.channel.is_closed());
        let id = channel.id();
        self.sessions
            .entry(id)
            .or_insert_with(|| Session::new(channel));
        self.request(id, request)
    }

    /// The client's agent for this session (allowed by `AllowAgentForwarding` and the key's
    /// options): its socket goes into the command's `SSH_AUTH_SOCK`. Once per session, and
    /// only before the command starts.
    fn agent_forwarded(&mut self, channel: &ServerChannel, socket: &std::path::Path) -> bool {
        self.sessions.retain(|_, s| !s.channel.is_closed());
        let s = self
            .sessions
            .entry(channel.id())
            .or_insert_with(|| Session::new(channel));
        if s.agent.is_some() || s.started {
            return false;
        }
        self.policy.log.debug(&format!(
            "{}: channel {}: agent forwarded at {}",
            self.peer,
            channel.id().index(),
            socket.display()
        ));
        s.agent = Some(socket.to_owned());
        true
    }
}

impl Drop for ServeHandler {
    fn drop(&mut self) {
        self.policy
            .log
            .debug(&format!("{}: connection closed", self.peer));
    }
}

fn decide(ok: bool) -> AuthDecision {
    if ok {
        AuthDecision::Accept
    } else {
        AuthDecision::Reject
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_filter() {
        assert!(accept_env("LANG", "C.UTF-8"));
        assert!(accept_env("LC_ALL", "C"));
        assert!(accept_env("TERM", "xterm"));
        assert!(!accept_env("PATH", "/tmp"));
        assert!(!accept_env("LD_PRELOAD", "x.so"));
        assert!(!accept_env("LC_X=Y", "z"));
        assert!(!accept_env("LANG", "a\0b"));
    }

    #[test]
    fn endpoints_in_the_environment() {
        let known = Endpoints {
            peer: Some("10.0.0.2:50000".parse().unwrap()),
            local: Some("10.0.0.1:22".parse().unwrap()),
        };
        assert_eq!(known.ssh_client(), "10.0.0.2 50000 22");
        assert_eq!(known.ssh_connection(), "10.0.0.2 50000 10.0.0.1 22");
        assert_eq!(known.label(), "10.0.0.2:50000");
        let unknown = Endpoints {
            peer: None,
            local: None,
        };
        assert_eq!(unknown.ssh_client(), "UNKNOWN 65535 65535");
        assert_eq!(unknown.ssh_connection(), "UNKNOWN 65535 UNKNOWN 65535");
        assert_eq!(unknown.label(), "UNKNOWN port 65535");
    }

    #[test]
    fn forwarding_is_the_servers_narrowed_by_the_key() {
        use seashell_adapter::{HostPort, Permits};
        let mut policy =
            crate::serve::local_policy(vec!["me".into()], super::super::Log::default());
        policy.forwarding = ForwardingPolicy {
            permit_open: Permits::Only(vec![
                HostPort::parse_open("a:1").unwrap(),
                HostPort::parse_open("b:2").unwrap(),
            ]),
            ..ForwardingPolicy::default()
        };
        let peer = "127.0.0.1:5000".parse().unwrap();
        let mut h = ServeHandler::new(Arc::new(policy), peer, "127.0.0.1:22".parse().unwrap());
        // A password login (no key): the server's policy.
        let p = h.forwarding();
        assert!(p.check_direct_tcpip("a", 1).is_ok() && p.check_direct_tcpip("b", 2).is_ok());
        h.key_options.forwarding.permit_open = vec![HostPort::parse_open("b:2").unwrap()];
        let p = h.forwarding();
        assert!(p.check_direct_tcpip("a", 1).is_err());
        assert!(p.check_direct_tcpip("b", 2).is_ok());
        h.key_options.forwarding.no_port_forwarding = true;
        assert!(h.forwarding().check_direct_tcpip("b", 2).is_err());
        assert!(h.forwarding().check_streamlocal_listen("/tmp/s").is_err());
    }

    #[test]
    fn security_key_flags_against_key_options() {
        use seashell_proto::keys::SkSignatureInfo;
        let policy = crate::serve::local_policy(vec!["me".into()], super::super::Log::default());
        let peer = "127.0.0.1:5000".parse().unwrap();
        let h = ServeHandler::new(Arc::new(policy), peer, "127.0.0.1:22".parse().unwrap());
        let info = |flags| SkSignatureInfo { flags, counter: 1 };
        let plain = KeyOptions::default();
        let no_touch = KeyOptions {
            no_touch_required: true,
            ..KeyOptions::default()
        };
        let verify = KeyOptions {
            verify_required: true,
            ..KeyOptions::default()
        };
        // Not a security key: nothing to check.
        assert!(h.sk_allowed("me", &plain, None));
        assert!(h.sk_allowed("me", &plain, Some(&info(0x01))));
        assert!(!h.sk_allowed("me", &plain, Some(&info(0x00))));
        assert!(h.sk_allowed("me", &no_touch, Some(&info(0x00))));
        assert!(!h.sk_allowed("me", &verify, Some(&info(0x01))));
        assert!(h.sk_allowed("me", &verify, Some(&info(0x05))));
    }

    #[test]
    fn byte_comparison() {
        assert!(same_bytes(b"secret", b"secret"));
        assert!(!same_bytes(b"secret", b"secreT"));
        assert!(!same_bytes(b"secret", b"secret!"));
        assert!(same_bytes(b"", b""));
    }
}
