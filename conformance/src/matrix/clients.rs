//! The peers' clients for the `server-*` cases, run against `seashell serve`: OpenSSH
//! `ssh` (9 and 10), Dropbear `dbclient`, PuTTY `plink`, and the paramiko and asyncssh
//! drivers in `conformance/peers/`.

use super::keys::{KeyType, Keys};
use super::{Case, Kind, MAC_CIPHER, Peer};
use crate::process::{current_user, peer_script};
use seashell_testkit::find_program;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A peer's client program, ready to run.
#[derive(Debug, Clone)]
pub enum PeerClient {
    /// OpenSSH `ssh` (absolute path).
    OpenSsh(PathBuf),
    /// Dropbear `dbclient`.
    Dbclient(PathBuf),
    /// PuTTY `plink`, with the user key converted to `.ppk`.
    Plink {
        /// `plink`.
        plink: PathBuf,
        /// The user key as a PuTTY key file.
        ppk: PathBuf,
    },
    /// A Python driver (`paramiko_client.py`, `asyncssh_client.py`).
    Python {
        /// The interpreter.
        python: PathBuf,
        /// The driver script.
        script: PathBuf,
    },
}

/// Whether `peer`'s client can offer only one algorithm in `kind`'s slot. When it
/// cannot, the case's `seashell serve` offers only that algorithm instead (see
/// [`server_options`]).
pub fn client_pins(peer: Peer, kind: Kind) -> bool {
    match peer {
        // ssh has no option that offers one compression method only (`Compression yes`
        // still offers `none`).
        Peer::OpenSsh9 | Peer::OpenSsh10 => kind != Kind::Compression,
        // dbclient chooses only ciphers (-c) and MACs (-m).
        Peer::Dropbear => matches!(kind, Kind::Cipher | Kind::Mac),
        // PuTTY's preference lists group algorithms (`ecdh` is every curve, `aes` every
        // key size and mode) and it has no MAC or compression list.
        Peer::Putty => false,
        Peer::Paramiko | Peer::Asyncssh => true,
    }
}

/// `seashell serve` options that enable every algorithm the core supports, then (unless
/// the client pins it) offer only `case`'s algorithm in its slot.
pub fn server_options(case: Option<&Case>) -> Vec<String> {
    let all = |kind: Kind| kind.supported().join(",");
    let mut out = vec![
        format!("KexAlgorithms={}", all(Kind::Kex)),
        format!("Ciphers={}", all(Kind::Cipher)),
        format!("MACs={}", all(Kind::Mac)),
        format!("HostKeyAlgorithms={}", all(Kind::HostKey)),
        format!("Compression={}", all(Kind::Compression)),
    ];
    if let Some(case) = case {
        let alg = &case.alg;
        match case.kind {
            Kind::Kex => out.push(format!("KexAlgorithms={alg}")),
            Kind::Cipher => out.push(format!("Ciphers={alg}")),
            Kind::Mac => out.extend([format!("Ciphers={MAC_CIPHER}"), format!("MACs={alg}")]),
            Kind::HostKey => out.push(format!("HostKeyAlgorithms={alg}")),
            Kind::Compression => out.push(format!("Compression={alg}")),
        }
    }
    out.into_iter().flat_map(|o| ["-o".to_owned(), o]).collect()
}

/// The command that runs `remote` through `client` on `seashell serve` at `port`, offering
/// only `case`'s algorithm where the client can ([`client_pins`]). `dir` is the case's
/// scratch directory (the client's `HOME`); `host_keys` are the server's key types.
pub fn command(
    client: &PeerClient,
    case: &Case,
    port: u16,
    keys: &Keys,
    host_keys: &[KeyType],
    dir: &Path,
    remote: &str,
) -> Result<Command, String> {
    let pins = client_pins(case.peer, case.kind);
    let alg = case.alg.as_str();
    let user = current_user();
    let port_s = port.to_string();
    let write = |path: &Path, text: &str| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("mkdir: {e}"))?;
        }
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
    };
    let mut cmd = match client {
        PeerClient::OpenSsh(ssh) => {
            let known = dir.join("known_hosts");
            write(
                &known,
                &keys.known_hosts(&format!("[127.0.0.1]:{port}"), host_keys)?,
            )?;
            let mut cmd = Command::new(ssh);
            cmd.args(["-v", "-F", "/dev/null", "-p", &port_s, "-l", &user])
                .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
                .arg("-o")
                .arg(format!("UserKnownHostsFile={}", known.display()))
                .args([
                    "-o",
                    "GlobalKnownHostsFile=/dev/null",
                    "-o",
                    "IdentitiesOnly=yes",
                ])
                .arg("-i")
                .arg(keys.user_key());
            let pin: Vec<String> = match case.kind {
                Kind::Kex => vec![format!("KexAlgorithms={alg}")],
                Kind::Cipher => vec![format!("Ciphers={alg}")],
                Kind::Mac => vec![format!("Ciphers={MAC_CIPHER}"), format!("MACs={alg}")],
                Kind::HostKey => vec![format!("HostKeyAlgorithms={alg}")],
                Kind::Compression => {
                    vec![format!(
                        "Compression={}",
                        if alg == "none" { "no" } else { "yes" }
                    )]
                }
            };
            for p in pin {
                cmd.arg("-o").arg(p);
            }
            cmd.arg("127.0.0.1").arg(remote);
            cmd
        }
        PeerClient::Dbclient(dbclient) => {
            // dbclient reads ~/.ssh/known_hosts, by host name only (no `[host]:port`),
            // and asks on /dev/tty about unknown keys: `setsid` takes the terminal away so
            // a mismatch fails instead of asking.
            write(
                &dir.join(".ssh").join("known_hosts"),
                &keys.known_hosts("127.0.0.1", host_keys)?,
            )?;
            let mut cmd = match find_program("setsid") {
                Some(setsid) => {
                    let mut c = Command::new(setsid);
                    c.arg(dbclient);
                    c
                }
                None => Command::new(dbclient),
            };
            cmd.arg("-i")
                .arg(keys.dropbear_user_key())
                .args(["-p", &port_s]);
            match case.kind {
                Kind::Cipher => {
                    cmd.args(["-c", alg]);
                }
                Kind::Mac => {
                    cmd.args(["-c", MAC_CIPHER, "-m", alg]);
                }
                _ => {}
            }
            cmd.arg(format!("{user}@127.0.0.1")).arg(remote);
            cmd
        }
        PeerClient::Plink { plink, ppk } => {
            // Every algorithm above the WARN line: -batch refuses the ones below it, and
            // the case's `seashell serve` offers only the one under test.
            let session = "Cipher=aesgcm,chacha20,aes,3des,WARN,blowfish,des,arcfour\n\
                 KEX=ntru-curve25519,ecdh,dh-gex-sha1,dh-group18-sha512,dh-group17-sha512,\
                 dh-group16-sha512,dh-group15-sha512,dh-group14-sha1,dh-group1-sha1,rsa,WARN\n\
                 HostKey=ed25519,ed448,ecdsa,rsa,dsa,WARN\n";
            write(
                &dir.join(".putty").join("sessions").join("seashell"),
                session,
            )?;
            let mut cmd = Command::new(plink);
            cmd.args([
                "-load", "seashell", "-batch", "-ssh", "-noagent", "-P", &port_s,
            ])
            .arg("-i")
            .arg(ppk);
            for t in host_keys {
                cmd.arg("-hostkey").arg(keys.host_fingerprint(*t)?);
            }
            if case.kind == Kind::Compression && alg != "none" {
                cmd.arg("-C");
            }
            cmd.arg("-sshlog")
                .arg(dir.join("client.log"))
                .arg("-logoverwrite")
                .arg(format!("{user}@127.0.0.1"))
                .arg(remote);
            cmd
        }
        PeerClient::Python { python, script } => {
            let known = dir.join("known_hosts");
            write(
                &known,
                &keys.known_hosts(&format!("[127.0.0.1]:{port}"), host_keys)?,
            )?;
            let mut cmd = Command::new(python);
            cmd.env("PYTHONWARNINGS", "ignore")
                .arg(script)
                .args(["--port", &port_s, "--user", &user])
                .arg("--key")
                .arg(keys.user_key())
                .arg("--known-hosts")
                .arg(&known);
            if pins {
                match case.kind {
                    Kind::Kex => cmd.args(["--kex", alg]),
                    Kind::Cipher => cmd.args(["--cipher", alg]),
                    Kind::Mac => cmd.args(["--cipher", MAC_CIPHER, "--mac", alg]),
                    Kind::HostKey => cmd.args(["--host-key-alg", alg]),
                    Kind::Compression => cmd.args(["--compression", alg]),
                };
            }
            cmd.arg("--info")
                .arg(dir.join("info.json"))
                .arg("--log")
                .arg(dir.join("client.log"))
                .arg(remote);
            cmd
        }
    };
    cmd.env("HOME", dir)
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("SSH_ASKPASS")
        .env_remove("DISPLAY");
    Ok(cmd)
}

/// The Python driver script of `peer` (paramiko or asyncssh), client or server.
pub fn python_script(peer: Peer, server: bool) -> PathBuf {
    let name = match (peer, server) {
        (Peer::Paramiko, false) => "paramiko_client.py",
        (Peer::Paramiko, true) => "paramiko_server.py",
        (_, false) => "asyncssh_client.py",
        (_, true) => "asyncssh_server.py",
    };
    peer_script(name)
}
