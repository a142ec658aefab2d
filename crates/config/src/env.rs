//! Everything the resolver needs from the world, behind [`ConfigEnv`]: files and
//! directories (for `Include`), commands (for `Match exec`), environment variables, the local
//! user and host, local addresses (`Match localnetwork`), name resolution
//! (`CanonicalizeHostname`) and service names (`Port ssh`). [`StdEnv`] is the real one;
//! [`MemoryEnv`] is an in-memory one for tests and fuzzing.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The largest configuration file read, in bytes (OpenSSH has no limit; 4 MiB is far above
/// any real one).
pub const MAX_FILE_SIZE: u64 = 4 << 20;

/// Facts about the local side, as OpenSSH takes them from `getpwuid(getuid())` and
/// `gethostname`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalInfo {
    /// The local user name (`%u`, `Match localuser`, the default remote user).
    pub user: String,
    /// The local user's uid (`%i`).
    pub uid: u32,
    /// The local user's home directory (`~`, `%d`): `$HOME` in [`StdEnv`], else the
    /// password database's.
    pub home: String,
    /// The local host name, fully as `gethostname` gives it (`%l`; `%L` is up to the first dot).
    pub hostname: String,
}

/// The outside world, as the resolver sees it.
pub trait ConfigEnv {
    /// Reads a whole configuration file (at most [`MAX_FILE_SIZE`] bytes). A missing file is
    /// [`io::ErrorKind::NotFound`].
    fn read_file(&self, path: &Path) -> io::Result<String>;
    /// The names in a directory (without `.` and `..`), for `Include` globs.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// Runs `command` with the user's shell (`$SHELL -c`, stdin and stdout on /dev/null) and
    /// returns its exit status; `None` when it did not exit normally (`Match exec`).
    fn exec(&self, command: &str) -> Option<i32>;
    /// An environment variable (`${NAME}`).
    fn env_var(&self, name: &str) -> Option<String>;
    /// The local user and host.
    fn local(&self) -> LocalInfo;
    /// The addresses of the local interfaces (`Match localnetwork`).
    fn local_addresses(&self) -> Vec<IpAddr>;
    /// Whether `name` resolves (`CanonicalizeHostname`; `name` ends with a dot).
    fn resolves(&self, name: &str) -> bool;
    /// The port of a TCP service name (`Port ssh`), as `getservbyname`.
    fn service_port(&self, name: &str) -> Option<u16>;
    /// Whether a user configuration file is safe to read: owned by root or the user, not
    /// writable by group or others. OpenSSH refuses others ("Bad owner or permissions").
    fn safe_permissions(&self, _path: &Path) -> bool {
        true
    }
}

/// The real environment: the file system, `/etc/passwd`, the shell, DNS.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdEnv;

impl ConfigEnv for StdEnv {
    fn safe_permissions(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Ok(m) = std::fs::metadata(path) else {
            return true;
        };
        let uid = rustix::process::getuid().as_raw();
        (m.uid() == 0 || m.uid() == uid) && m.mode() & 0o022 == 0
    }

    fn read_file(&self, path: &Path) -> io::Result<String> {
        use std::io::Read;
        let f = std::fs::File::open(path)?;
        let mut buf = Vec::new();
        f.take(MAX_FILE_SIZE + 1).read_to_end(&mut buf)?;
        if buf.len() as u64 > MAX_FILE_SIZE {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "file too large"));
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for e in std::fs::read_dir(path)? {
            names.push(e?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }

    fn exec(&self, command: &str) -> Option<i32> {
        let shell = std::env::var("SHELL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/bin/sh".to_owned());
        std::process::Command::new(shell)
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?
            .code()
    }

    fn env_var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn local(&self) -> LocalInfo {
        let uid = rustix::process::getuid().as_raw();
        let entry = std::fs::read_to_string("/etc/passwd").ok().and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                let (name, id, home) = (f.first()?, f.get(2)?, f.get(5)?);
                (id.parse::<u32>().ok()? == uid).then(|| (name.to_string(), home.to_string()))
            })
        });
        let (user, pw_home) =
            entry.unwrap_or_else(|| (std::env::var("USER").unwrap_or_default(), String::new()));
        // `~` is $HOME, as everywhere else in Seashell (ssh takes the password database's
        // directory; they agree unless HOME was changed).
        let home = std::env::var("HOME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or(pw_home);
        let uname = rustix::system::uname();
        LocalInfo {
            user,
            uid,
            home,
            hostname: uname.nodename().to_string_lossy().into_owned(),
        }
    }

    fn local_addresses(&self) -> Vec<IpAddr> {
        crate::ifaddrs::local_addresses()
    }

    fn resolves(&self, name: &str) -> bool {
        use std::net::ToSocketAddrs;
        (name, 0u16)
            .to_socket_addrs()
            .is_ok_and(|mut a| a.next().is_some())
    }

    fn service_port(&self, name: &str) -> Option<u16> {
        let services = std::fs::read_to_string("/etc/services").ok()?;
        services.lines().find_map(|l| {
            let l = l.split('#').next().unwrap_or_default();
            let mut words = l.split_whitespace();
            let service = words.next()?;
            let (port, proto) = words.next()?.split_once('/')?;
            let aliases: Vec<&str> = words.collect();
            (proto == "tcp" && (service == name || aliases.contains(&name)))
                .then(|| port.parse().ok())
                .flatten()
        })
    }
}

/// An in-memory environment: files and directories from a map, `Match exec` answers from a
/// map (unknown commands fail with status 1), fixed local facts.
#[derive(Debug, Clone)]
pub struct MemoryEnv {
    /// File contents by absolute path.
    pub files: BTreeMap<PathBuf, String>,
    /// Exit statuses of `Match exec` commands (after token expansion).
    pub commands: BTreeMap<String, i32>,
    /// Environment variables.
    pub vars: BTreeMap<String, String>,
    /// The local user and host.
    pub local: LocalInfo,
    /// Local interface addresses.
    pub addresses: Vec<IpAddr>,
    /// Names that resolve (with their trailing dot).
    pub resolvable: Vec<String>,
}

impl Default for MemoryEnv {
    fn default() -> Self {
        MemoryEnv {
            files: BTreeMap::new(),
            commands: BTreeMap::new(),
            vars: BTreeMap::new(),
            local: LocalInfo {
                user: "me".into(),
                uid: 1000,
                home: "/home/me".into(),
                hostname: "box.example.org".into(),
            },
            addresses: Vec::new(),
            resolvable: Vec::new(),
        }
    }
}

impl MemoryEnv {
    /// Adds a file.
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(PathBuf::from(path), text.to_owned());
        self
    }
}

impl ConfigEnv for MemoryEnv {
    fn read_file(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|p| {
                let rest = p.strip_prefix(path).ok()?;
                let first = rest.components().next()?;
                Some(first.as_os_str().to_string_lossy().into_owned())
            })
            .collect();
        names.dedup();
        if names.is_empty() {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(names)
    }

    fn exec(&self, command: &str) -> Option<i32> {
        Some(self.commands.get(command).copied().unwrap_or(1))
    }

    fn env_var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn local(&self) -> LocalInfo {
        self.local.clone()
    }

    fn local_addresses(&self) -> Vec<IpAddr> {
        self.addresses.clone()
    }

    fn resolves(&self, name: &str) -> bool {
        self.resolvable.iter().any(|n| n == name)
    }

    fn service_port(&self, name: &str) -> Option<u16> {
        (name == "ssh").then_some(22)
    }
}
