//! The agent client every adapter uses: a [`seashell_agent::Client`] driven over a Unix
//! stream to `SSH_AUTH_SOCK` (or any `Read + Write` stream). Agent requests are short local
//! round trips, so they are made as blocking calls with a timeout, from the handshake's
//! policy code (as the password prompt is): the same code serves the blocking and the async
//! adapters.

use seashell_agent::{Client, Reply, Request};
use seashell_proto::PublicKey;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one agent round trip may take. An agent that asks the user to confirm a key
/// use may take a while.
pub const AGENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The agent socket named by `SSH_AUTH_SOCK`, if set and not empty.
pub fn agent_from_env() -> Option<PathBuf> {
    std::env::var_os("SSH_AUTH_SOCK")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The `SSH_AGENTC_SIGN_REQUEST` flags for a signature algorithm (RSA SHA-2 variants).
pub fn sign_flags(algorithm: &str) -> u32 {
    match algorithm {
        "rsa-sha2-256" => seashell_agent::message::RSA_SHA2_256,
        "rsa-sha2-512" => seashell_agent::message::RSA_SHA2_512,
        _ => 0,
    }
}

/// Sends one request over `stream` and waits for its reply.
///
/// # Errors
/// The stream's errors; [`io::ErrorKind::InvalidData`] for a malformed or unexpected reply;
/// [`io::ErrorKind::UnexpectedEof`] if the agent closed the stream first.
pub fn call<S: Read + Write>(stream: &mut S, req: &Request) -> io::Result<Reply> {
    let mut client = Client::new();
    client.request(req).map_err(invalid)?;
    let mut out = Vec::new();
    client.poll_transmit(&mut out);
    stream.write_all(&out)?;
    stream.flush()?;
    let mut buf = [0u8; 8192];
    loop {
        if let Some(r) = client.poll_reply() {
            return r.map_err(invalid);
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        client
            .feed(buf.get(..n).unwrap_or_default())
            .map_err(invalid)?;
    }
}

fn invalid(e: seashell_agent::AgentError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// A connection to an agent over a Unix socket.
#[cfg(unix)]
#[derive(Debug)]
pub struct AgentConnection {
    stream: std::os::unix::net::UnixStream,
}

#[cfg(unix)]
impl AgentConnection {
    /// Connects to the agent socket at `path`.
    ///
    /// # Errors
    /// The socket's connect error.
    pub fn connect(path: &Path) -> io::Result<AgentConnection> {
        let stream = std::os::unix::net::UnixStream::connect(path)?;
        stream.set_read_timeout(Some(AGENT_TIMEOUT))?;
        stream.set_write_timeout(Some(AGENT_TIMEOUT))?;
        Ok(AgentConnection { stream })
    }

    /// One request and its reply.
    ///
    /// # Errors
    /// As [`call`].
    pub fn call(&mut self, req: &Request) -> io::Result<Reply> {
        call(&mut self.stream, req)
    }

    /// The keys the agent holds that this crate can use, with their comments.
    ///
    /// # Errors
    /// As [`call`]; [`io::ErrorKind::PermissionDenied`] if the agent refuses.
    pub fn identities(&mut self) -> io::Result<Vec<(PublicKey, String)>> {
        match self.call(&Request::RequestIdentities)? {
            Reply::Identities(ids) => Ok(seashell_agent::usable_identities(&ids)),
            _ => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the agent refused to list its keys",
            )),
        }
    }

    /// Asks the agent to sign `data` with `key` using `algorithm`; `None` if it refuses.
    ///
    /// # Errors
    /// As [`call`].
    pub fn sign(
        &mut self,
        key: &PublicKey,
        algorithm: &str,
        data: &[u8],
    ) -> io::Result<Option<Vec<u8>>> {
        let req = Request::Sign {
            key: key.to_blob(),
            data: data.to_vec(),
            flags: sign_flags(algorithm),
        };
        match self.call(&req)? {
            Reply::Signature(sig) => Ok(Some(sig)),
            _ => Ok(None),
        }
    }

    /// Binds this agent connection to the SSH session (`session-bind@openssh.com`), as
    /// OpenSSH's ssh does before it uses the agent for authentication (`forwarding` false)
    /// or forwards a connection to it (`forwarding` true), so that the agent can apply
    /// keys' destination constraints. Whether the agent accepted it (agents without the
    /// extension refuse; that is not an error).
    ///
    /// # Errors
    /// As [`call`].
    pub fn bind(
        &mut self,
        binding: &seashell_proto::client::SessionBinding,
        forwarding: bool,
    ) -> io::Result<bool> {
        let req = Request::Extension(seashell_agent::Extension::SessionBind(
            seashell_agent::SessionBind {
                host_key: binding.host_key.to_blob(),
                session_id: binding.session_id.clone(),
                signature: binding.signature.clone(),
                forwarding,
            },
        ));
        Ok(self.call(&req)? == Reply::Success)
    }

    /// The stream, for callers that splice it (agent forwarding).
    pub fn into_stream(self) -> std::os::unix::net::UnixStream {
        self.stream
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use seashell_agent::{ConnectionState, KeyStore, StoreConfig};
    use std::time::Instant;

    #[test]
    fn identities_and_sign_against_a_key_store() {
        let dir = std::env::temp_dir().join(format!("seashell-agent-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("sock");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let key = seashell_proto::PrivateKey::ed25519_from_seed(&[3; 32]).unwrap();
        let public = key.public_key();
        let mut store = KeyStore::new(StoreConfig::default());
        store.add(key, "k".into(), None, Instant::now()).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut conn = ConnectionState::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    return;
                }
                let mut out = Vec::new();
                store
                    .feed(&mut conn, &buf[..n], Instant::now(), &mut out)
                    .unwrap();
                s.write_all(&out).unwrap();
            }
        });
        let mut agent = AgentConnection::connect(&path).unwrap();
        let ids = agent.identities().unwrap();
        assert_eq!(ids, vec![(public.clone(), "k".to_owned())]);
        let sig = agent.sign(&public, "ssh-ed25519", b"x").unwrap().unwrap();
        public.verify("ssh-ed25519", b"x", &sig).unwrap();
        let other = seashell_proto::PrivateKey::ed25519_from_seed(&[4; 32])
            .unwrap()
            .public_key();
        assert_eq!(agent.sign(&other, "ssh-ed25519", b"x").unwrap(), None);
        drop(agent);
        server.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(sign_flags("rsa-sha2-512"), 4);
        assert_eq!(sign_flags("rsa-sha2-256"), 2);
        assert_eq!(sign_flags("ssh-ed25519"), 0);
    }
}
