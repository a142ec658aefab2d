//! The named interop matrix (`tests/matrix.rs`): every key exchange, cipher, MAC, host-key
//! algorithm and compression method Seashell supports, in both roles, against every peer.
//!
//! A case is named `{role}-{kind}-{algorithm}-vs-{peer}`, for example
//! `client-kex-mlkem768x25519-sha256-vs-openssh10`:
//!
//! - role `client`: Seashell's client (`seashell-blocking`) against the peer's server;
//!   `server`: the peer's client against `seashell serve` (the real binary);
//! - kind `kex`, `cipher`, `mac`, `hostkey` or `compression`;
//! - the algorithm's wire name;
//! - the peer: [`Peer::name`].
//!
//! The algorithm lists come from `seashell-proto` ([`Kind::supported`]), so a new algorithm
//! in the core gets its cases without touching the matrix. Cases a peer cannot do are listed,
//! with the reason, in `conformance/disabled.toml` (globs allowed).

pub mod clients;
pub mod keys;
pub mod run;
pub mod servers;

use seashell_proto::crypto::{CipherAlg, MacAlg};
use seashell_proto::kex::KexAlg;
use seashell_proto::transport::compress::CompressionAlg;

/// Which side is Seashell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Seashell's client against the peer's server.
    Client,
    /// The peer's client against `seashell serve`.
    Server,
}

impl Role {
    /// Both roles.
    pub const ALL: [Role; 2] = [Role::Client, Role::Server];

    /// `client` or `server`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
}

/// Which negotiated slot a case pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The key-exchange method.
    Kex,
    /// The packet cipher.
    Cipher,
    /// The MAC (with the non-AEAD cipher `aes128-ctr`).
    Mac,
    /// The host-key signature algorithm.
    HostKey,
    /// The compression method.
    Compression,
}

/// The cipher every MAC case uses: a MAC is only negotiated with a non-AEAD cipher.
pub const MAC_CIPHER: &str = "aes128-ctr";

impl Kind {
    /// Every kind, in case order.
    pub const ALL: [Kind; 5] = [
        Kind::Kex,
        Kind::Cipher,
        Kind::Mac,
        Kind::HostKey,
        Kind::Compression,
    ];

    /// `kex`, `cipher`, `mac`, `hostkey` or `compression`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kex => "kex",
            Kind::Cipher => "cipher",
            Kind::Mac => "mac",
            Kind::HostKey => "hostkey",
            Kind::Compression => "compression",
        }
    }

    /// Every algorithm of this kind that the core implements (its "every supported"
    /// lists), in the core's order.
    pub fn supported(self) -> Vec<&'static str> {
        match self {
            Kind::Kex => KexAlg::ALL.iter().map(|k| k.name()).collect(),
            Kind::Cipher => CipherAlg::ALL.iter().map(|c| c.name()).collect(),
            Kind::Mac => MacAlg::ALL.iter().map(|m| m.name()).collect(),
            Kind::HostKey => seashell_proto::config::HOST_KEY_ALGORITHMS.to_vec(),
            Kind::Compression => CompressionAlg::ALL.iter().map(|c| c.name()).collect(),
        }
    }

    /// Every algorithm of this kind the matrix is meant to cover once issue 6 is complete:
    /// `conformance/disabled.toml` may name cases of these before the core has them.
    pub fn expected(self) -> &'static [&'static str] {
        match self {
            Kind::Kex => &[
                "mlkem768x25519-sha256",
                "sntrup761x25519-sha512",
                "sntrup761x25519-sha512@openssh.com",
                "curve25519-sha256",
                "curve25519-sha256@libssh.org",
                "ecdh-sha2-nistp256",
                "ecdh-sha2-nistp384",
                "ecdh-sha2-nistp521",
                "diffie-hellman-group-exchange-sha256",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group18-sha512",
                "diffie-hellman-group14-sha256",
                "diffie-hellman-group14-sha1",
                "diffie-hellman-group-exchange-sha1",
                "diffie-hellman-group1-sha1",
            ],
            Kind::Cipher => &[
                "chacha20-poly1305@openssh.com",
                "aes128-gcm@openssh.com",
                "aes256-gcm@openssh.com",
                "aes128-ctr",
                "aes192-ctr",
                "aes256-ctr",
                "aes128-cbc",
                "aes192-cbc",
                "aes256-cbc",
                "3des-cbc",
            ],
            Kind::Mac => &[
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha2-512-etm@openssh.com",
                "hmac-sha2-256",
                "hmac-sha2-512",
                "hmac-sha1-etm@openssh.com",
                "hmac-sha1",
            ],
            Kind::HostKey => &[
                "ssh-ed25519",
                "ecdsa-sha2-nistp256",
                "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521",
                "rsa-sha2-512",
                "rsa-sha2-256",
                "ssh-rsa",
            ],
            Kind::Compression => &["none", "zlib@openssh.com", "zlib"],
        }
    }
}

/// A peer implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Peer {
    /// Debian 12's OpenSSH 9.2 (`/usr/sbin/sshd`, `/usr/bin/ssh`).
    OpenSsh9,
    /// OpenSSH 10 from bookworm-backports, extracted under `SEASHELL_OPENSSH10`.
    OpenSsh10,
    /// Dropbear (`dropbear`, `dbclient`).
    Dropbear,
    /// PuTTY (`plink`; no server).
    Putty,
    /// paramiko (Python).
    Paramiko,
    /// asyncssh (Python).
    Asyncssh,
}

impl Peer {
    /// Every peer.
    pub const ALL: [Peer; 6] = [
        Peer::OpenSsh9,
        Peer::OpenSsh10,
        Peer::Dropbear,
        Peer::Putty,
        Peer::Paramiko,
        Peer::Asyncssh,
    ];

    /// The position in [`Peer::ALL`], for per-peer tables.
    pub fn index(self) -> usize {
        match self {
            Peer::OpenSsh9 => 0,
            Peer::OpenSsh10 => 1,
            Peer::Dropbear => 2,
            Peer::Putty => 3,
            Peer::Paramiko => 4,
            Peer::Asyncssh => 5,
        }
    }

    /// The Python module of a Python peer.
    pub fn python_module(self) -> Option<&'static str> {
        match self {
            Peer::Paramiko => Some("paramiko"),
            Peer::Asyncssh => Some("asyncssh"),
            _ => None,
        }
    }

    /// The name in case names.
    pub fn name(self) -> &'static str {
        match self {
            Peer::OpenSsh9 => "openssh9",
            Peer::OpenSsh10 => "openssh10",
            Peer::Dropbear => "dropbear",
            Peer::Putty => "putty",
            Peer::Paramiko => "paramiko",
            Peer::Asyncssh => "asyncssh",
        }
    }
}

/// One case of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Which side is Seashell.
    pub role: Role,
    /// Which slot is pinned.
    pub kind: Kind,
    /// The algorithm pinned in that slot.
    pub alg: String,
    /// The other side.
    pub peer: Peer,
}

impl Case {
    /// `{role}-{kind}-{algorithm}-vs-{peer}`.
    pub fn name(&self) -> String {
        case_name(self.role, self.kind, &self.alg, self.peer)
    }
}

fn case_name(role: Role, kind: Kind, alg: &str, peer: Peer) -> String {
    format!("{}-{}-{alg}-vs-{}", role.name(), kind.name(), peer.name())
}

/// Every case for the algorithms the core supports today.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for role in Role::ALL {
        for kind in Kind::ALL {
            for alg in kind.supported() {
                for peer in Peer::ALL {
                    out.push(Case {
                        role,
                        kind,
                        alg: alg.to_owned(),
                        peer,
                    });
                }
            }
        }
    }
    out
}

/// The names of every case the matrix will have once the core implements every algorithm
/// of [`Kind::expected`] (and those it supports today).
pub fn expected_case_names() -> Vec<String> {
    let mut out = Vec::new();
    for role in Role::ALL {
        for kind in Kind::ALL {
            let mut algs: Vec<&str> = kind.expected().to_vec();
            for alg in kind.supported() {
                if !algs.contains(&alg) {
                    algs.push(alg);
                }
            }
            for alg in algs {
                for peer in Peer::ALL {
                    out.push(case_name(role, kind, alg, peer));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::run::serve_agreement;
    use super::*;

    #[test]
    fn peer_index_is_the_position_in_all() {
        for (i, p) in Peer::ALL.iter().enumerate() {
            assert_eq!(p.index(), i);
        }
    }

    #[test]
    fn case_names() {
        let c = Case {
            role: Role::Client,
            kind: Kind::Kex,
            alg: "mlkem768x25519-sha256".into(),
            peer: Peer::OpenSsh10,
        };
        assert_eq!(c.name(), "client-kex-mlkem768x25519-sha256-vs-openssh10");
        let names = expected_case_names();
        assert!(names.contains(&"server-compression-zlib-vs-putty".to_owned()));
        assert!(cases().iter().all(|c| names.contains(&c.name())));
    }

    #[test]
    fn serve_log_agreement() {
        let log = "\
seashell serve: 127.0.0.1:5000: negotiated kex=old hostkey=x cipher=a,a mac=m,m compression=none,none
seashell serve: 127.0.0.1:5000 channel 0: exec \"echo matrix-other\"
seashell serve: 127.0.0.1:5000: negotiated kex=curve25519-sha256 hostkey=ssh-ed25519 cipher=aes128-ctr,aes128-ctr mac=hmac-sha1,hmac-sha1 compression=zlib,zlib
seashell serve: 127.0.0.1:5000: authenticated \"me\" by publickey
seashell serve: 127.0.0.1:5000 channel 0: exec \"echo matrix-x\"
";
        let a = serve_agreement(log, "matrix-x").unwrap();
        assert_eq!(a.kex, "curve25519-sha256");
        assert_eq!(a.mac, ("hmac-sha1".to_owned(), "hmac-sha1".to_owned()));
        let case = Case {
            role: Role::Server,
            kind: Kind::Mac,
            alg: "hmac-sha1".into(),
            peer: Peer::Dropbear,
        };
        a.check(&case).unwrap();
        let wrong = Case {
            kind: Kind::Compression,
            alg: "none".into(),
            ..case
        };
        assert!(a.check(&wrong).is_err());
        assert!(serve_agreement(log, "matrix-missing").is_err());
    }
}
