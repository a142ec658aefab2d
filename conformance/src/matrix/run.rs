//! Running one matrix case: the shared peer servers and `seashell serve`s (one per peer,
//! started on first use), the connection, the exec, and the check of what was negotiated.

use super::clients::{self, PeerClient, client_pins};
use super::keys::{KeyType, Keys};
use super::servers::{self, Login, PeerServer};
use super::{Case, Kind, MAC_CIPHER, Peer, Role};
use crate::process::{peer_python, program, run_limited, tail, text};
use crate::serve::Serve;
use crate::with_timeout;
use seashell_blocking::{Client, ClientConfig, HostKeyPolicy, StrictHostKeyChecking};
use seashell_testkit::{PeerError, find_program};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// How long one case may take (connect, exec, close): DH group 18 in a debug build is slow.
const CASE_LIMIT: Duration = Duration::from_secs(120);

/// The host keys of the Dropbear server shared by the non-host-key cases.
const DROPBEAR_SHARED_KEYS: [KeyType; 3] = [KeyType::Ed25519, KeyType::P256, KeyType::Rsa];

/// The environment variable naming the extracted OpenSSH 10 tree (`.ci/run` sets it).
pub const OPENSSH10_ENV: &str = "SEASHELL_OPENSSH10";

/// What both sides agreed on, as wire names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agreed {
    /// The key exchange.
    pub kex: String,
    /// The host-key signature algorithm.
    pub hostkey: String,
    /// Ciphers, client to server then server to client.
    pub cipher: (String, String),
    /// MACs (`implicit` for AEAD ciphers), client to server then server to client.
    pub mac: (String, String),
    /// Compression, client to server then server to client.
    pub compression: (String, String),
}

impl std::fmt::Display for Agreed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kex={} hostkey={} cipher={},{} mac={},{} compression={},{}",
            self.kex,
            self.hostkey,
            self.cipher.0,
            self.cipher.1,
            self.mac.0,
            self.mac.1,
            self.compression.0,
            self.compression.1
        )
    }
}

impl Agreed {
    fn from_core(n: &seashell_proto::kex::negotiate::Negotiated) -> Agreed {
        let mac = |m: Option<seashell_proto::crypto::MacAlg>| {
            m.map_or("implicit".to_owned(), |m| m.name().to_owned())
        };
        Agreed {
            kex: n.kex.name().to_owned(),
            hostkey: n.host_key.clone(),
            cipher: (
                n.cipher_c2s.name().to_owned(),
                n.cipher_s2c.name().to_owned(),
            ),
            mac: (mac(n.mac_c2s), mac(n.mac_s2c)),
            compression: (n.comp_c2s.name().to_owned(), n.comp_s2c.name().to_owned()),
        }
    }

    /// Parses the `key=value` fields of `seashell serve -v`'s `negotiated` line.
    pub fn parse(fields: &str) -> Agreed {
        let mut a = Agreed::default();
        let pair = |v: &str| {
            let (x, y) = v.split_once(',').unwrap_or((v, v));
            (x.to_owned(), y.to_owned())
        };
        for field in fields.split_whitespace() {
            match field.split_once('=') {
                Some(("kex", v)) => a.kex = v.to_owned(),
                Some(("hostkey", v)) => a.hostkey = v.to_owned(),
                Some(("cipher", v)) => a.cipher = pair(v),
                Some(("mac", v)) => a.mac = pair(v),
                Some(("compression", v)) => a.compression = pair(v),
                _ => {}
            }
        }
        a
    }

    /// `Err` says how the agreement differs from what `case` pins.
    pub fn check(&self, case: &Case) -> Result<(), String> {
        let alg = case.alg.as_str();
        let both = |(a, b): &(String, String)| a == alg && b == alg;
        let ok = match case.kind {
            Kind::Kex => self.kex == alg,
            Kind::Cipher => both(&self.cipher),
            Kind::Mac => {
                both(&self.mac) && self.cipher.0 == MAC_CIPHER && self.cipher.1 == MAC_CIPHER
            }
            Kind::HostKey => self.hostkey == alg,
            Kind::Compression => both(&self.compression),
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "negotiated {self}, but the case pins {} {alg}",
                case.kind.name()
            ))
        }
    }
}

/// Why a case cannot run here.
#[derive(Debug, Clone)]
pub enum Unavailable {
    /// A peer program is not installed (a skip locally, a failure in CI).
    Missing(String),
}

/// The peers and servers of one test run, started on first use and stopped when dropped.
#[derive(Debug, Default)]
pub struct Matrix {
    keys: OnceLock<Result<Keys, String>>,
    peer_servers: [OnceLock<Result<(PeerServer, PathBuf), String>>; 6],
    peer_clients: [OnceLock<Result<PeerClient, String>>; 6],
    serves: [OnceLock<Result<Serve, String>>; 6],
}

/// The extracted OpenSSH 10 tree, from [`OPENSSH10_ENV`].
fn openssh10_root() -> Result<PathBuf, Unavailable> {
    match std::env::var_os(OPENSSH10_ENV) {
        Some(root) if Path::new(&root).join("usr/sbin/sshd").exists() => Ok(PathBuf::from(root)),
        Some(root) => Err(Unavailable::Missing(format!(
            "{OPENSSH10_ENV}={} has no usr/sbin/sshd (.ci/run extracts the bookworm-backports \
             openssh-server and openssh-client there)",
            Path::new(&root).display()
        ))),
        None => Err(Unavailable::Missing(format!(
            "{OPENSSH10_ENV} is not set: .ci/run extracts OpenSSH 10 from bookworm-backports \
             to /opt/openssh10 and sets it"
        ))),
    }
}

fn missing(e: PeerError) -> Unavailable {
    Unavailable::Missing(e.to_string())
}

/// Whether every program `peer` needs in `role` is installed: a cheap check, so that the
/// harness can list locally missing peers as ignored.
pub fn availability(peer: Peer, role: Role) -> Result<(), Unavailable> {
    let ssh9 = || program("/usr/bin/ssh", "apt-get install openssh-client").map_err(missing);
    match (role, peer) {
        (Role::Client, Peer::OpenSsh9) => {
            program("/usr/sbin/sshd", "apt-get install openssh-server").map_err(missing)?;
            ssh9().map(drop)
        }
        (_, Peer::OpenSsh10) => openssh10_root().map(drop),
        (Role::Client, Peer::Dropbear) => {
            program("dropbear", "apt-get install dropbear-bin").map_err(missing)?;
            program("dropbearconvert", "apt-get install dropbear-bin").map_err(missing)?;
            seashell_testkit::test_password().map(drop).ok_or_else(|| {
                Unavailable::Missing(
                    "dropbear reads only the login user's ~/.ssh/authorized_keys, so its cases \
                     log in with SEASHELL_TEST_USER / SEASHELL_TEST_PASSWORD, which are not set"
                        .to_owned(),
                )
            })
        }
        // PuTTY has no server; its client cases are disabled in disabled.toml.
        (Role::Client, Peer::Putty) => Ok(()),
        (Role::Server, Peer::OpenSsh9) => ssh9().map(drop),
        (Role::Server, Peer::Dropbear) => {
            program("dbclient", "apt-get install dropbear-bin").map_err(missing)?;
            program("dropbearconvert", "apt-get install dropbear-bin")
                .map(drop)
                .map_err(missing)
        }
        (Role::Server, Peer::Putty) => {
            program("plink", "apt-get install putty-tools").map_err(missing)?;
            program("puttygen", "apt-get install putty-tools")
                .map(drop)
                .map_err(missing)
        }
        (_, Peer::Paramiko) => peer_python("paramiko").map(drop).map_err(missing),
        (_, Peer::Asyncssh) => peer_python("asyncssh").map(drop).map_err(missing),
    }
}

/// The host key types `seashell serve` gets: one per type the core can sign with.
fn serve_key_types() -> Vec<KeyType> {
    KeyType::for_algorithms(&Kind::HostKey.supported())
}

impl Matrix {
    /// A run with nothing started yet.
    pub fn new() -> Matrix {
        Matrix::default()
    }

    /// Runs `case`; `Ok` describes what was negotiated.
    pub fn run(&self, case: &Case) -> Result<String, String> {
        if let Err(Unavailable::Missing(why)) = availability(case.peer, case.role) {
            return Err(format!("peer missing: {why}"));
        }
        match case.role {
            Role::Client => self.client_case(case),
            Role::Server => self.server_case(case),
        }
    }

    fn keys(&self) -> Result<&Keys, String> {
        self.keys
            .get_or_init(Keys::generate)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The peer's server, with a `known_hosts` file for it.
    fn peer_server(&self, peer: Peer) -> Result<&(PeerServer, PathBuf), String> {
        let slot = self.peer_servers.get(peer.index()).ok_or("no slot")?;
        slot.get_or_init(|| {
            let keys = self.keys()?;
            let login_user = || match seashell_testkit::test_password() {
                Some((user, _)) => user,
                None => crate::process::current_user(),
            };
            let server = match peer {
                Peer::OpenSsh9 => servers::start_sshd(
                    Path::new("/usr/sbin/sshd"),
                    Path::new("/usr/bin/ssh"),
                    &[],
                    keys,
                    &login_user(),
                ),
                Peer::OpenSsh10 => {
                    let root = openssh10_root().map_err(|Unavailable::Missing(m)| m)?;
                    let lib = root.join("usr/lib/openssh");
                    servers::start_sshd(
                        &root.join("usr/sbin/sshd"),
                        &root.join("usr/bin/ssh"),
                        &[
                            format!("SshdSessionPath {}", lib.join("sshd-session").display()),
                            format!("SshdAuthPath {}", lib.join("sshd-auth").display()),
                        ],
                        keys,
                        &login_user(),
                    )
                }
                Peer::Dropbear => self.start_dropbear(&DROPBEAR_SHARED_KEYS),
                Peer::Putty => Err("PuTTY has no SSH server".to_owned()),
                Peer::Paramiko | Peer::Asyncssh => {
                    let module = peer.python_module().ok_or("not a Python peer")?;
                    let python = peer_python(module).map_err(|e| e.to_string())?;
                    servers::start_python(&python, &clients::python_script(peer, true), keys)
                }
            }
            .map_err(|e| format!("starting the {} server: {e}", peer.name()))?;
            let known = server.known_hosts(keys)?;
            Ok((server, known))
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Starts a Dropbear server with the host keys `host_keys`.
    fn start_dropbear(&self, host_keys: &[KeyType]) -> Result<PeerServer, String> {
        let (user, password) = seashell_testkit::test_password().ok_or("no test password")?;
        servers::start_dropbear(
            &find_program("dropbear").ok_or("dropbear missing")?,
            &find_program("dropbearconvert").ok_or("dropbearconvert missing")?,
            self.keys()?,
            host_keys,
            &user,
            &password,
        )
    }

    /// The peer's client program.
    fn peer_client(&self, peer: Peer) -> Result<&PeerClient, String> {
        let slot = self.peer_clients.get(peer.index()).ok_or("no slot")?;
        slot.get_or_init(|| {
            let keys = self.keys()?;
            let find = |name: &str| find_program(name).ok_or(format!("{name} missing"));
            Ok(match peer {
                Peer::OpenSsh9 => PeerClient::OpenSsh(PathBuf::from("/usr/bin/ssh")),
                Peer::OpenSsh10 => {
                    let root = openssh10_root().map_err(|Unavailable::Missing(m)| m)?;
                    PeerClient::OpenSsh(root.join("usr/bin/ssh"))
                }
                Peer::Dropbear => {
                    keys.convert_for_dropbear(&find("dropbearconvert")?)?;
                    PeerClient::Dbclient(find("dbclient")?)
                }
                Peer::Putty => PeerClient::Plink {
                    plink: find("plink")?,
                    ppk: keys.user_ppk(&find("puttygen")?)?,
                },
                Peer::Paramiko | Peer::Asyncssh => {
                    let module = peer.python_module().ok_or("not a Python peer")?;
                    PeerClient::Python {
                        python: peer_python(module).map_err(|e| e.to_string())?,
                        script: clients::python_script(peer, false),
                    }
                }
            })
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// `seashell serve` with every algorithm enabled, shared by `peer`'s cases.
    fn shared_serve(&self, peer: Peer) -> Result<&Serve, String> {
        let slot = self.serves.get(peer.index()).ok_or("no slot")?;
        slot.get_or_init(|| self.start_serve(None))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A new `seashell serve` ([`clients::server_options`] for `case`).
    fn start_serve(&self, case: Option<&Case>) -> Result<Serve, String> {
        let keys = self.keys()?;
        let host_keys: Vec<PathBuf> = serve_key_types()
            .into_iter()
            .map(|t| keys.host_key(t))
            .collect();
        Serve::start(
            &host_keys,
            &keys.authorized_keys(),
            &clients::server_options(case),
        )
    }

    /// Seashell's client against the peer's server.
    fn client_case(&self, case: &Case) -> Result<String, String> {
        let keys = self.keys()?;
        // Dropbear takes at most four host keys (one per type): a host-key case gets its
        // own server with the case's key only.
        let dedicated;
        let (server, known) = match (case.peer, KeyType::for_algorithm(&case.alg)) {
            (Peer::Dropbear, Some(t)) if case.kind == Kind::HostKey => {
                let server = self.start_dropbear(&[t])?;
                let known = server.known_hosts(keys)?;
                dedicated = (server, known);
                (&dedicated.0, &dedicated.1)
            }
            _ => {
                let (server, known) = self.peer_server(case.peer)?;
                (server, known)
            }
        };
        let mut config =
            ClientConfig::new(server.user.clone()).host_key_policy(HostKeyPolicy::KnownHosts {
                files: vec![known.clone()],
                strict: StrictHostKeyChecking::Yes,
            });
        config = match &server.login {
            Login::Key => config
                .key_file(keys.user_key())
                .map_err(|e| format!("loading the user key: {e}"))?,
            Login::Password(p) => config.password(p.clone()),
        };
        let (kind, alg) = (case.kind, case.alg.clone());
        config = config.with_core(move |c| match kind {
            Kind::Kex => c.kex_algorithms(&[alg]),
            Kind::Cipher => c.ciphers(&[alg]),
            Kind::Mac => c.ciphers(&[MAC_CIPHER]).macs(&[alg]),
            Kind::HostKey => c.host_key_algorithms(&[alg]),
            Kind::Compression => c.compression(&[alg]),
        });
        let addr = format!("127.0.0.1:{}", server.port());
        let marker = format!("matrix-{}", case.name());
        let result = with_timeout(CASE_LIMIT, &case.name(), move || {
            let session = Client::connect(&addr, config).map_err(|e| format!("connect: {e}"))?;
            let out = session
                .exec(&format!("echo {marker}"))
                .map_err(|e| format!("exec: {e}"))?;
            let agreed = session.negotiated().map(|n| Agreed::from_core(&n));
            let _ = session.close();
            let code = out.status.code().and_then(|c| i32::try_from(c).ok());
            check_output(&out.stdout, code, &marker)?;
            agreed.ok_or_else(|| "the session reports no negotiated algorithms".to_owned())
        });
        let fail = |e: String| {
            format!(
                "{e}\n--- {} server log (tail):\n{}",
                case.peer.name(),
                tail(&server.log(), 25)
            )
        };
        let agreed = result.map_err(fail)?;
        agreed.check(case).map_err(fail)?;
        Ok(agreed.to_string())
    }

    /// The peer's client against `seashell serve`.
    fn server_case(&self, case: &Case) -> Result<String, String> {
        let keys = self.keys()?;
        let client = self.peer_client(case.peer)?;
        let dedicated;
        let serve = if client_pins(case.peer, case.kind) {
            self.shared_serve(case.peer)?
        } else {
            dedicated = self.start_serve(Some(case))?;
            &dedicated
        };
        let dir = tempfile::Builder::new()
            .prefix("seashell-matrix-case-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let marker = format!("matrix-{}", case.name());
        let mut cmd = clients::command(
            client,
            case,
            serve.port(),
            keys,
            &serve_key_types(),
            dir.path(),
            &format!("echo {marker}"),
        )?;
        let ran = run_limited(&mut cmd, CASE_LIMIT);
        let fail = |e: String| {
            let client_log = std::fs::read_to_string(dir.path().join("client.log"))
                .map(|l| format!("\n--- client log (tail):\n{}", tail(&l, 30)))
                .unwrap_or_default();
            format!(
                "{e}{client_log}\n--- seashell serve log (tail):\n{}",
                tail(&serve.log(), 25)
            )
        };
        let ran = ran.map_err(fail)?;
        check_output(&ran.stdout, ran.status.code(), &marker).map_err(|e| {
            fail(format!(
                "{e}\n--- client stderr (tail):\n{}",
                tail(&text(&ran.stderr), 40)
            ))
        })?;
        // The server logs the exec after starting the command, and its stderr is read on
        // another thread: the line may arrive a moment after the client is done.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let agreed = loop {
            match serve_agreement(&serve.log(), &marker) {
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.map_err(fail)?,
            }
        };
        agreed.check(case).map_err(fail)?;
        Ok(agreed.to_string())
    }
}

/// The command printed `marker` and exited 0; `Err` says what it did instead.
fn check_output(stdout: &[u8], status: Option<i32>, marker: &str) -> Result<(), String> {
    let want = format!("{marker}\n");
    if stdout == want.as_bytes() && status == Some(0) {
        return Ok(());
    }
    Err(format!(
        "exec: stdout {:?}, exit status {status:?}; want {want:?}, 0",
        text(stdout)
    ))
}

/// What `seashell serve -v` logged as negotiated for the connection that ran the command
/// with `marker`: `ADDR channel N: exec "echo MARKER"` names the client address, and
/// `ADDR: negotiated kex=... hostkey=...` the algorithms.
pub fn serve_agreement(log: &str, marker: &str) -> Result<Agreed, String> {
    let exec = format!(": exec \"echo {marker}\"");
    let lines: Vec<&str> = log.lines().collect();
    let (at, addr) = lines
        .iter()
        .enumerate()
        .find_map(|(i, l)| {
            l.strip_prefix("seashell serve: ")
                .filter(|l| l.ends_with(&exec))
                .and_then(|l| l.split_once(" channel "))
                .map(|(addr, _)| (i, addr.to_owned()))
        })
        .ok_or_else(|| format!("seashell serve logged no `{exec}` line"))?;
    // The last such line before the exec: a later connection may reuse the client port.
    let prefix = format!("seashell serve: {addr}: negotiated ");
    lines
        .get(..at)
        .unwrap_or_default()
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(Agreed::parse)
        .ok_or_else(|| format!("seashell serve logged no `{addr}: negotiated` line"))
}
