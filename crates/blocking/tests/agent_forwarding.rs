//! Agent forwarding through the blocking client and server, in one process: the client
//! forwards an in-memory agent (a `seashell_agent::KeyStore` on a Unix socket), the server
//! binds a private socket for the session and the command reaches the agent through it.
//! Both name sets: the server advertising EXT_INFO `agent-forward` (RFC 9987's `agent-req`
//! and `agent-connect`) and not (OpenSSH's `auth-agent-req@openssh.com`).

use seashell_adapter::{AgentConnection, ForwardingPolicy};
use seashell_agent::{ConnectionState, KeyStore, StoreConfig};
use seashell_blocking::{Client, ClientConfig, Handler, HostKeyPolicy, Server, ServerChannel};
use seashell_proto::{AuthAttempt, AuthDecision, PrivateKey, ServerConfig, SessionRequestKind};
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Serves an in-memory agent holding one key on `path`, on a thread.
fn memory_agent(path: &Path) -> seashell_proto::PublicKey {
    let listener = UnixListener::bind(path).unwrap();
    let key = PrivateKey::ed25519_from_seed(&[42; 32]).unwrap();
    let public = key.public_key();
    let store = Arc::new(Mutex::new(KeyStore::new(StoreConfig::default())));
    store
        .lock()
        .unwrap()
        .add(key, "forwarded key".into(), None, Instant::now())
        .unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { return };
            let store = store.clone();
            std::thread::spawn(move || {
                let mut state = ConnectionState::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    let mut out = Vec::new();
                    let r =
                        store
                            .lock()
                            .unwrap()
                            .feed(&mut state, &buf[..n], Instant::now(), &mut out);
                    if s.write_all(&out).is_err() || r.is_err() {
                        return;
                    }
                }
            });
        }
    });
    public
}

/// Accepts alice's password and agent forwarding; `exec` lists the forwarded agent's keys.
struct AgentUser {
    socket: Arc<Mutex<Option<PathBuf>>>,
    policy: ForwardingPolicy,
}

impl Handler for AgentUser {
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::Password(pw) if user == "alice" && pw.as_str() == "secret" => {
                AuthDecision::Accept
            }
            _ => AuthDecision::Reject,
        }
    }

    fn forwarding(&mut self) -> ForwardingPolicy {
        self.policy.clone()
    }

    fn agent_forwarded(&mut self, _: &ServerChannel, socket: &Path) -> bool {
        // The socket is private: its directory is 0700.
        use std::os::unix::fs::PermissionsExt;
        let dir = socket.parent().unwrap();
        assert_eq!(
            std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        *self.socket.lock().unwrap() = Some(socket.to_owned());
        true
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        let SessionRequestKind::Exec(_) = request else {
            return false;
        };
        let (ch, socket) = (channel.clone(), self.socket.lock().unwrap().clone());
        std::thread::spawn(move || {
            let listed = socket
                .and_then(|s| AgentConnection::connect(&s).ok())
                .and_then(|mut a| a.identities().ok())
                .map(|ids| {
                    ids.iter()
                        .map(|(k, c)| format!("{} {c}\n", k.fingerprint()))
                        .collect::<String>()
                })
                .unwrap_or_else(|| "no agent\n".into());
            let _ = ch.stdout().write_all(listed.as_bytes());
            ch.exit(0);
        });
        true
    }
}

fn run(advertise: bool, policy: ForwardingPolicy) -> (String, Option<PathBuf>, String) {
    let host_key = Arc::new(PrivateKey::ed25519_generate().unwrap());
    let fp = host_key.public_key().fingerprint();
    let mut config = ServerConfig::new(vec![host_key]);
    config.advertise_agent_forward = advertise;
    let server = Server::bind("127.0.0.1:0", config).unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let socket = Arc::new(Mutex::new(None));
    let seen = socket.clone();
    std::thread::spawn(move || {
        server.run(move |_| AgentUser {
            socket: seen.clone(),
            policy: policy.clone(),
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let agent_path = dir.path().join("agent");
    let public = memory_agent(&agent_path);
    let client = ClientConfig::new("alice")
        .password("secret")
        .no_agent()
        .forward_agent(&agent_path)
        .host_key_policy(HostKeyPolicy::Fingerprint(fp));
    let session = Client::connect(&addr, client).unwrap();
    let out = session.exec("list").unwrap();
    let path = socket.lock().unwrap().clone();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        path,
        format!("{} forwarded key\n", public.fingerprint()),
    )
}

#[test]
fn forwarded_agent_under_rfc_9987_names() {
    let (out, socket, want) = run(true, ForwardingPolicy::default());
    assert_eq!(out, want);
    // The socket and its directory go when the session's channel closes.
    let socket = socket.unwrap();
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    while socket.parent().unwrap().exists() {
        assert!(Instant::now() < deadline, "agent socket left behind");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn forwarded_agent_under_openssh_names() {
    let (out, _, want) = run(false, ForwardingPolicy::default());
    assert_eq!(out, want);
}

#[test]
fn policy_refuses_agent_forwarding() {
    let policy = ForwardingPolicy {
        no_agent_forwarding: true,
        ..ForwardingPolicy::default()
    };
    let (out, socket, _) = run(true, policy);
    assert_eq!(out, "no agent\n");
    assert!(socket.is_none());
}
