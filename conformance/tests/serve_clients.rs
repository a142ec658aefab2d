//! Interop tests of real SSH clients against `seashell serve`: paramiko (`SSHClient`),
//! asyncssh, PuTTY `plink` and Dropbear `dbclient`.
//!
//! Each test starts three servers, one per host key type (ssh-ed25519, ecdsa-sha2-nistp256,
//! RSA-3072), all generated with `ssh-keygen`, and runs `echo out; echo err >&2; exit 3`
//! through the client once per cell: host-key algorithm × cipher, as far as the client can
//! choose them. Each cell must give stdout `out\n`, stderr `err\n` and exit status 3, and,
//! where the client can tell, the host-key algorithm and cipher asked for. The server's
//! host key is always pinned (known_hosts or fingerprint); no client skips the check.
//!
//! Peers: the Python drivers in `conformance/peers/` run under `SEASHELL_PEERS_PYTHON`
//! (else `/opt/seashell-peers/bin/python`, else `python3`); `plink`/`puttygen` come from
//! Debian's `putty-tools`, `dbclient`/`dropbearconvert` from `dropbear-bin`. A missing
//! peer skips its test locally and fails it with `CI=true`. Cases can be disabled in
//! `conformance/disabled.toml` as `serve_clients/<client>/<host-key alg>/<cipher>`.

mod serve_common;

use seashell_conformance::process::{
    Ran, current_user, peer_python, program, run_limited, tail, text,
};
use seashell_conformance::skip_if_disabled;
use seashell_testkit::{find_program, require_peer};
use serve_common::{HostKey, Keys, Serve, start_serve};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const COMMAND: &str = "echo out; echo err >&2; exit 3";
/// A hung client fails its cell after this long.
const CLIENT_LIMIT: Duration = Duration::from_secs(30);
const CHACHA: &str = "chacha20-poly1305@openssh.com";
const AES128_GCM: &str = "aes128-gcm@openssh.com";
const AES256_GCM: &str = "aes256-gcm@openssh.com";

/// One server per host key type.
struct Servers {
    keys: Keys,
    servers: Vec<(HostKey, Serve)>,
}

impl Servers {
    fn start() -> Servers {
        let keys = Keys::new();
        let servers = HostKey::ALL
            .iter()
            .map(|&kind| match start_serve(&keys, &[kind], &[]) {
                Ok(s) => (kind, s),
                Err(e) => panic!("seashell serve with a {} host key: {e}", kind.key_type()),
            })
            .collect();
        Servers { keys, servers }
    }

    fn get(&self, kind: HostKey) -> &Serve {
        &self
            .servers
            .iter()
            .find(|(k, _)| *k == kind)
            .expect("a server per kind")
            .1
    }
}

/// One run: the server's host key type, the host-key algorithm and the cipher that the
/// client is limited to (or a description, when the client chooses by itself).
struct Cell {
    host: HostKey,
    alg: &'static str,
    cipher: &'static str,
    /// Pin a key the server does not have (the user key): the client must refuse.
    wrong_pin: bool,
}

impl Cell {
    fn new(host: HostKey, alg: &'static str, cipher: &'static str) -> Cell {
        Cell {
            host,
            alg,
            cipher,
            wrong_pin: false,
        }
    }

    /// The ed25519 server with another ed25519 key pinned.
    fn wrong_pin(cipher: &'static str) -> Cell {
        Cell {
            wrong_pin: true,
            ..Cell::new(HostKey::Ed25519, "ssh-ed25519", cipher)
        }
    }

    fn case(&self, client: &str) -> String {
        if self.wrong_pin {
            format!("serve_clients/{client}/wrong-host-key")
        } else {
            format!("serve_clients/{client}/{}/{}", self.alg, self.cipher)
        }
    }
}

/// What a client reported to have negotiated ("" where it cannot tell).
#[derive(Default, Debug)]
struct Negotiated {
    kex: String,
    host_key: String,
    cipher: String,
    mac: String,
}

enum Client {
    Paramiko(PathBuf),
    Asyncssh(PathBuf),
    Plink { plink: PathBuf, ppk: PathBuf },
    Dbclient { dbclient: PathBuf, key: PathBuf },
}

impl Client {
    fn name(&self) -> &'static str {
        match self {
            Client::Paramiko(_) => "paramiko",
            Client::Asyncssh(_) => "asyncssh",
            Client::Plink { .. } => "plink",
            Client::Dbclient { .. } => "dbclient",
        }
    }

    /// What the client prints when the server's host key is not the pinned one.
    fn refusal(&self) -> &'static str {
        match self {
            Client::Paramiko(_) => "BadHostKeyException",
            Client::Asyncssh(_) => "HostKeyNotVerifiable",
            Client::Plink { .. } => "Host key not in manually configured list",
            Client::Dbclient { .. } => "host key mismatch",
        }
    }

    /// Runs the command for `cell`; returns the output, what was negotiated, and the
    /// client's own log (for failure messages).
    fn run(
        &self,
        cell: &Cell,
        s: &Servers,
        dir: &Path,
    ) -> Result<(Ran, Negotiated, String), String> {
        let serve = s.get(cell.host);
        let port = serve.port().to_string();
        let mut cmd;
        let log = dir.join("client.log");
        let (public, fingerprint) = if cell.wrong_pin {
            (s.keys.user_public(), s.keys.user_fingerprint())
        } else {
            (
                s.keys.host_public(cell.host),
                s.keys.host_fingerprint(cell.host),
            )
        };
        match self {
            Client::Paramiko(py) | Client::Asyncssh(py) => {
                let script = match self {
                    Client::Paramiko(_) => "paramiko_client.py",
                    _ => "asyncssh_client.py",
                };
                let known = dir.join("known_hosts");
                let line = format!("[127.0.0.1]:{port} {public}\n");
                std::fs::write(&known, line).map_err(|e| format!("writing known_hosts: {e}"))?;
                cmd = Command::new(py);
                // A deprecation warning on stderr is no interop failure.
                cmd.env("PYTHONWARNINGS", "ignore")
                    .arg(
                        Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("peers")
                            .join(script),
                    )
                    .args(["--port", &port, "--user", &current_user()])
                    .arg("--key")
                    .arg(s.keys.user_key())
                    .arg("--known-hosts")
                    .arg(&known)
                    .args(["--host-key-alg", cell.alg, "--cipher", cell.cipher])
                    .arg("--info")
                    .arg(dir.join("info.json"))
                    .arg("--log")
                    .arg(&log)
                    .arg(COMMAND);
            }
            Client::Plink { plink, ppk } => {
                // A saved session limits the ciphers: everything but the one asked for is
                // below PuTTY's warning line, which -batch turns into a refusal.
                let first = if cell.cipher == CHACHA {
                    "chacha20"
                } else {
                    "aesgcm"
                };
                let sessions = dir.join(".putty").join("sessions");
                std::fs::create_dir_all(&sessions).map_err(|e| format!("mkdir: {e}"))?;
                let others = [
                    "aes", "aesgcm", "chacha20", "3des", "blowfish", "des", "arcfour",
                ];
                let rest: Vec<&str> = others.into_iter().filter(|c| *c != first).collect();
                let session = format!("Cipher={first},WARN,{}\n", rest.join(","));
                std::fs::write(sessions.join("seashell"), session)
                    .map_err(|e| format!("writing the PuTTY session: {e}"))?;
                cmd = Command::new(plink);
                cmd.args([
                    "-load", "seashell", "-batch", "-ssh", "-noagent", "-P", &port,
                ])
                .arg("-i")
                .arg(ppk)
                .args(["-hostkey", &fingerprint])
                .arg("-sshlog")
                .arg(&log)
                .arg("-logoverwrite")
                .arg(format!("{}@127.0.0.1", current_user()))
                .arg(COMMAND);
            }
            Client::Dbclient { dbclient, key } => {
                // dbclient checks ~/.ssh/known_hosts, where it looks the host up by name
                // only (no `[host]:port` form), and asks on /dev/tty about unknown keys;
                // `setsid` takes the terminal away so a mismatch fails instead of asking.
                let ssh_dir = dir.join(".ssh");
                std::fs::create_dir_all(&ssh_dir).map_err(|e| format!("mkdir: {e}"))?;
                let line = format!("127.0.0.1 {public}\n");
                std::fs::write(ssh_dir.join("known_hosts"), line)
                    .map_err(|e| format!("writing known_hosts: {e}"))?;
                cmd = match find_program("setsid") {
                    Some(setsid) => {
                        let mut c = Command::new(setsid);
                        c.arg(dbclient);
                        c
                    }
                    None => Command::new(dbclient),
                };
                cmd.arg("-i")
                    .arg(key)
                    .args(["-c", CHACHA, "-p", &port])
                    .arg(format!("{}@127.0.0.1", current_user()))
                    .arg(COMMAND);
            }
        }
        cmd.env("HOME", dir)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("SSH_ASKPASS")
            .env_remove("DISPLAY");
        let ran = run_limited(&mut cmd, CLIENT_LIMIT)?;
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        let negotiated = match self {
            Client::Paramiko(_) | Client::Asyncssh(_) => {
                let info = std::fs::read_to_string(dir.join("info.json")).unwrap_or_default();
                Negotiated {
                    kex: json_field(&info, "kex"),
                    host_key: json_field(&info, "hostkey"),
                    cipher: json_field(&info, "cipher"),
                    mac: json_field(&info, "mac"),
                }
            }
            Client::Plink { .. } => plink_negotiated(&log_text),
            Client::Dbclient { .. } => Negotiated::default(),
        };
        Ok((ran, negotiated, log_text))
    }

    /// What the client must have negotiated in `cell`; `Err` says what differed.
    fn check(&self, cell: &Cell, n: &Negotiated, keys: &Keys) -> Result<(), String> {
        match self {
            Client::Paramiko(_) | Client::Asyncssh(_) => {
                if n.host_key != cell.alg || n.cipher != cell.cipher {
                    return Err(format!(
                        "negotiated host key {:?} and cipher {:?}, want {:?} and {:?}",
                        n.host_key, n.cipher, cell.alg, cell.cipher
                    ));
                }
            }
            Client::Plink { .. } => {
                let fp = keys.host_fingerprint(cell.host);
                if !n.host_key.starts_with(cell.alg) || !n.host_key.contains(&fp) {
                    return Err(format!(
                        "PuTTY saw host key {:?}, want {} with the key {fp}",
                        n.host_key, cell.alg
                    ));
                }
                let gcm = [AES128_GCM, AES256_GCM].contains(&n.cipher.as_str());
                let ok = if cell.cipher == CHACHA {
                    n.cipher == CHACHA
                } else {
                    gcm
                };
                if !ok {
                    return Err(format!(
                        "negotiated cipher {:?}, want {}",
                        n.cipher, cell.cipher
                    ));
                }
            }
            Client::Dbclient { .. } => {}
        }
        Ok(())
    }
}

/// A string field of the drivers' one-line JSON (`{"kex": "...", ...}`).
fn json_field(json: &str, key: &str) -> String {
    let pat = format!("\"{key}\": \"");
    json.split_once(&pat)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| v.to_owned())
        .unwrap_or_default()
}

/// Reads the negotiation from the `Event Log:` lines of a PuTTY `-sshlog` file.
fn plink_negotiated(log: &str) -> Negotiated {
    let events: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("Event Log: "))
        .collect();
    let mut n = Negotiated::default();
    for (i, e) in events.iter().enumerate() {
        if e.starts_with("Doing ") && e.contains("key exchange") {
            n.kex = (*e).to_owned();
        } else if *e == "Host key fingerprint is:" {
            let line = events.get(i + 1).copied().unwrap_or_default();
            // The log names the key type (`ssh-rsa`); the KEX reply's signature names
            // the algorithm.
            n.host_key = match reply_signature_alg(log) {
                Some(alg) if line.starts_with("ssh-rsa ") => format!("{alg} {line}"),
                _ => line.to_owned(),
            };
        } else if let Some(c) = e
            .strip_prefix("Initialised ")
            .filter(|c| c.ends_with(" outbound encryption") && n.cipher.is_empty())
        {
            n.cipher = if c.starts_with("ChaCha20") {
                CHACHA.to_owned()
            } else if c.starts_with("AES-128 GCM") {
                AES128_GCM.to_owned()
            } else if c.starts_with("AES-256 GCM") {
                AES256_GCM.to_owned()
            } else {
                c.to_owned()
            };
        }
    }
    n
}

/// The RSA signature algorithm named in the first incoming KEX reply (message 31) of a
/// PuTTY `-sshlog` file, read back from its hex dump.
fn reply_signature_alg(log: &str) -> Option<&'static str> {
    let mut lines = log
        .lines()
        .skip_while(|l| !(l.starts_with("Incoming packet") && l.contains(", type 31 ")));
    lines.next()?;
    // Dump lines: two spaces, 8-digit offset, two spaces, 16 × "xx ", then ASCII.
    let bytes: Vec<u8> = lines
        .take_while(|l| l.starts_with("  ") && l.len() > 12)
        .flat_map(|l| {
            let hex = l.get(12..(12 + 48).min(l.len())).unwrap_or_default();
            hex.split_whitespace()
                .filter_map(|b| u8::from_str_radix(b, 16).ok())
                .collect::<Vec<u8>>()
        })
        .collect();
    ["rsa-sha2-512", "rsa-sha2-256"]
        .into_iter()
        .find(|alg| bytes.windows(alg.len()).any(|w| w == alg.as_bytes()))
}

/// The output check shared by all clients; `Err` says what differed.
fn check_output(ran: &Ran) -> Result<(), String> {
    if ran.stdout == b"out\n" && ran.stderr == b"err\n" && ran.status.code() == Some(3) {
        return Ok(());
    }
    Err(format!(
        "stdout {:?}, stderr {:?}, exit status {:?}; want \"out\\n\", \"err\\n\", 3",
        text(&ran.stdout),
        text(&ran.stderr),
        ran.status.code()
    ))
}

/// The check for a wrong pinned key: the command must not have run, and the client must
/// say why (`marker`).
fn check_refused(ran: &Ran, marker: &str) -> Result<(), String> {
    let refused = ran.stdout.is_empty() && !matches!(ran.status.code(), Some(0 | 3));
    if refused && text(&ran.stderr).contains(marker) {
        return Ok(());
    }
    Err(format!(
        "with a wrong host key pinned, want a refusal saying {marker:?}; got stdout {:?}, \
         stderr {:?}, exit status {:?}",
        text(&ran.stdout),
        text(&ran.stderr),
        ran.status.code()
    ))
}

/// Runs every cell; panics listing every failing one, with the client's and server's logs.
fn run_matrix(client: &Client, servers: &Servers, cells: &[Cell]) {
    let mut failures = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let case = cell.case(client.name());
        if skip_if_disabled(&case) {
            continue;
        }
        let dir = servers.keys.path().join(format!("cell{i}"));
        std::fs::create_dir_all(&dir).expect("creating a cell directory");
        let outcome = client.run(cell, servers, &dir).and_then(|(ran, n, log)| {
            if cell.wrong_pin {
                return check_refused(&ran, client.refusal()).map(|()| Negotiated {
                    host_key: format!("refused: {}", text(&ran.stderr).trim()),
                    ..n
                });
            }
            check_output(&ran)
                .and_then(|()| client.check(cell, &n, &servers.keys))
                .map(|()| n)
                .map_err(|e| format!("{e}\n--- {} log (tail):\n{}", client.name(), tail(&log, 40)))
        });
        match outcome {
            Ok(n) => eprintln!(
                "ok: {case}: kex {:?}, host key {:?}, cipher {:?}, mac {:?}",
                n.kex, n.host_key, n.cipher, n.mac
            ),
            Err(e) => {
                let server_log = tail(&servers.get(cell.host).log(), 30);
                failures.push(format!(
                    "{case} (host key {}): {e}\n--- server log (tail):\n{server_log}",
                    cell.host.key_type()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cell(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Every cell for a client that picks host-key algorithm and cipher itself, and a wrong
/// pinned key.
fn full_cells(ciphers: &[&'static str]) -> Vec<Cell> {
    let algs = [
        (HostKey::Ed25519, "ssh-ed25519"),
        (HostKey::EcdsaP256, "ecdsa-sha2-nistp256"),
        (HostKey::Rsa, "rsa-sha2-512"),
        (HostKey::Rsa, "rsa-sha2-256"),
    ];
    algs.iter()
        .flat_map(|&(host, alg)| {
            ciphers
                .iter()
                .map(move |&cipher| Cell::new(host, alg, cipher))
        })
        .chain([Cell::wrong_pin(ciphers[0])])
        .collect()
}

/// Runs a key converter; panics naming it on failure.
fn convert(cmd: &mut Command, what: &str) {
    let ran = run_limited(cmd, CLIENT_LIMIT).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        ran.status.success(),
        "{what} failed ({}): {}",
        ran.status,
        text(&ran.stderr)
    );
}

#[test]
fn paramiko_sshclient() {
    let Some(py) = require_peer(peer_python("paramiko")) else {
        return;
    };
    let servers = Servers::start();
    // paramiko has no chacha20-poly1305.
    run_matrix(
        &Client::Paramiko(py),
        &servers,
        &full_cells(&[AES128_GCM, AES256_GCM]),
    );
}

#[test]
fn asyncssh_client() {
    let Some(py) = require_peer(peer_python("asyncssh")) else {
        return;
    };
    let servers = Servers::start();
    run_matrix(
        &Client::Asyncssh(py),
        &servers,
        &full_cells(&[CHACHA, AES128_GCM, AES256_GCM]),
    );
}

#[test]
fn putty_plink() {
    let Some(plink) = require_peer(program("plink", "apt-get install putty-tools")) else {
        return;
    };
    let Some(puttygen) = require_peer(program("puttygen", "apt-get install putty-tools")) else {
        return;
    };
    let servers = Servers::start();
    let ppk = servers.keys.path().join("user.ppk");
    convert(
        Command::new(puttygen)
            .arg(servers.keys.user_key())
            .args(["-O", "private", "-o"])
            .arg(&ppk),
        "puttygen",
    );
    // PuTTY picks the host-key algorithm from the one key each server has (for RSA,
    // rsa-sha2-512 first), and the AES-GCM key size itself.
    let cells: Vec<Cell> = HostKey::ALL
        .iter()
        .flat_map(|&host| {
            let alg = match host {
                HostKey::Rsa => "rsa-sha2-512",
                other => other.key_type(),
            };
            [CHACHA, "aes-gcm"].map(|cipher| Cell::new(host, alg, cipher))
        })
        .chain([Cell::wrong_pin(CHACHA)])
        .collect();
    run_matrix(&Client::Plink { plink, ppk }, &servers, &cells);
}

#[test]
fn dropbear_dbclient() {
    let Some(dbclient) = require_peer(program("dbclient", "apt-get install dropbear-bin")) else {
        return;
    };
    let Some(convert_bin) =
        require_peer(program("dropbearconvert", "apt-get install dropbear-bin"))
    else {
        return;
    };
    let servers = Servers::start();
    let key = servers.keys.path().join("user.db");
    convert(
        Command::new(convert_bin)
            .args(["openssh", "dropbear"])
            .arg(servers.keys.user_key())
            .arg(&key),
        "dropbearconvert",
    );
    // dbclient has no GCM (chacha20-poly1305 is the only cipher in common) and no option
    // to choose the host-key algorithm: with RSA it uses rsa-sha2-256, its only SHA-2 one.
    let cells: Vec<Cell> = HostKey::ALL
        .iter()
        .map(|&host| {
            let alg = match host {
                HostKey::Rsa => "rsa-sha2-256",
                other => other.key_type(),
            };
            Cell::new(host, alg, CHACHA)
        })
        .chain([Cell::wrong_pin(CHACHA)])
        .collect();
    run_matrix(&Client::Dbclient { dbclient, key }, &servers, &cells);
}
