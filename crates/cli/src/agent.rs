//! `seashell agent`: an ssh-agent holding keys in memory (a `seashell_agent::KeyStore`)
//! behind a Unix socket, with `ssh-agent`'s options:
//!
//! ```text
//! seashell agent [-c | -s] [-Dd] [-a bind_address] [-t life]
//! seashell agent [-c | -s] -k
//! ```
//!
//! Without `-D`/`-d` it starts itself in the background and prints the shell commands that
//! set `SSH_AUTH_SOCK` and `SSH_AGENT_PID`. Only the agent's own user (or root) may use the
//! socket: it lives in a 0700 directory, and each connection's peer is checked.

use crate::units::parse_time;
use seashell_agent::{ConnectionState, KeyStore, StoreConfig};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: seashell agent [-c | -s] [-Dd] [-a bind_address] [-t life]\n       seashell agent [-c | -s] -k";

#[derive(Debug, Default)]
struct Args {
    csh: Option<bool>,
    foreground: bool,
    debug: bool,
    kill: bool,
    bind: Option<PathBuf>,
    life: Option<Duration>,
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut i = 0;
    while let Some(arg) = argv.get(i) {
        i += 1;
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Err(format!("unexpected argument {arg}"));
        };
        for (pos, c) in flags.char_indices() {
            match c {
                'c' => a.csh = Some(true),
                's' => a.csh = Some(false),
                'D' => a.foreground = true,
                'd' => a.debug = true,
                'k' => a.kill = true,
                'a' | 't' => {
                    let rest = flags.get(pos + 1..).unwrap_or_default();
                    let value = if rest.is_empty() {
                        i += 1;
                        argv.get(i - 1)
                            .cloned()
                            .ok_or_else(|| format!("option requires an argument -- {c}"))?
                    } else {
                        rest.to_owned()
                    };
                    if c == 'a' {
                        a.bind = Some(PathBuf::from(value));
                    } else {
                        a.life = Some(
                            parse_time(&value)
                                .ok_or_else(|| format!("Invalid lifetime {value}"))?,
                        );
                    }
                    break;
                }
                _ => return Err(format!("unknown option -- {c}")),
            }
        }
    }
    Ok(a)
}

/// Runs `seashell agent`.
pub fn main(argv: &[String]) -> ExitCode {
    let args = match parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("seashell agent: {e}\n{USAGE}");
            return ExitCode::from(1);
        }
    };
    let csh = args
        .csh
        .unwrap_or_else(|| std::env::var("SHELL").is_ok_and(|s| s.ends_with("csh")));
    if args.kill {
        return kill(csh);
    }
    let path = match args.bind.clone() {
        Some(p) => p,
        None => match private_dir() {
            Ok(dir) => dir.join(format!("agent.{}", std::process::id())),
            Err(e) => {
                eprintln!("seashell agent: cannot create a private directory: {e}");
                return ExitCode::from(1);
            }
        },
    };
    if args.foreground || args.debug {
        let listener = match bind(&path) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("seashell agent: bind {}: {e}", path.display());
                return ExitCode::from(1);
            }
        };
        print!("{}", env_lines(&path, std::process::id(), csh, false));
        let _ = std::io::stdout().flush();
        serve(listener, &path, args.life, args.debug);
        return ExitCode::SUCCESS;
    }
    background(&path, &args, csh)
}

/// The shell commands that set (or, after `-k`, unset) the agent's variables.
fn env_lines(path: &Path, pid: u32, csh: bool, with_echo: bool) -> String {
    let sock = path.display();
    let mut out = if csh {
        format!("setenv SSH_AUTH_SOCK {sock};\nsetenv SSH_AGENT_PID {pid};\n")
    } else {
        format!(
            "SSH_AUTH_SOCK={sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID={pid}; export SSH_AGENT_PID;\n"
        )
    };
    if with_echo {
        out.push_str(&format!("echo Agent pid {pid};\n"));
    }
    out
}

/// A fresh 0700 directory under the temporary directory.
fn private_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let seed = Instant::now().elapsed().subsec_nanos() ^ std::process::id().rotate_left(16);
    for n in 0..100u32 {
        let dir = base.join(format!(
            "seashell-{:08x}",
            seed.wrapping_add(n.wrapping_mul(7919))
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::ErrorKind::AlreadyExists.into())
}

fn bind(path: &Path) -> std::io::Result<UnixListener> {
    let l = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(l)
}

/// Starts `seashell agent -D` in the background and prints its variables once its socket
/// is there.
fn background(path: &Path, args: &Args, csh: bool) -> ExitCode {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("seashell agent: cannot find my own executable");
        return ExitCode::from(1);
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("agent").arg("-D").arg("-a").arg(path);
    if let Some(life) = args.life {
        cmd.arg("-t").arg(life.as_secs().to_string());
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("seashell agent: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(path).is_err() {
        if Instant::now() > deadline {
            eprintln!("seashell agent: the agent did not start");
            return ExitCode::from(1);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    print!("{}", env_lines(path, child.id(), csh, true));
    ExitCode::SUCCESS
}

/// `-k`: ends the agent named by `SSH_AGENT_PID`.
fn kill(csh: bool) -> ExitCode {
    let pid = std::env::var("SSH_AGENT_PID")
        .ok()
        .and_then(|p| p.parse::<i32>().ok())
        .and_then(rustix::process::Pid::from_raw);
    let Some(pid) = pid else {
        eprintln!("SSH_AGENT_PID not set, cannot kill agent");
        return ExitCode::from(1);
    };
    if let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::TERM) {
        eprintln!("kill: {e}");
        return ExitCode::from(1);
    }
    if let Ok(sock) = std::env::var("SSH_AUTH_SOCK") {
        let sock = PathBuf::from(sock);
        let _ = std::fs::remove_file(&sock);
        if let Some(dir) = sock.parent()
            && dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seashell-"))
        {
            let _ = std::fs::remove_dir(dir);
        }
    }
    if csh {
        println!("unsetenv SSH_AUTH_SOCK;\nunsetenv SSH_AGENT_PID;");
    } else {
        println!("unset SSH_AUTH_SOCK;\nunset SSH_AGENT_PID;");
    }
    println!("echo Agent pid {} killed;", pid.as_raw_nonzero());
    ExitCode::SUCCESS
}

/// Accepts connections until `SIGTERM`, `SIGINT` or `SIGHUP` (then the socket and its
/// private directory are removed); one thread per connection, one store.
fn serve(listener: UnixListener, path: &Path, life: Option<Duration>, debug: bool) {
    use rustix::event::{PollFd, PollFlags, poll};
    use rustix::process::Signal;
    let store = Arc::new(Mutex::new(KeyStore::new(StoreConfig {
        default_lifetime: life,
        allow_confirm: false,
    })));
    let me = rustix::process::getuid();
    let signals =
        crate::signals::SignalPipe::install(&[Signal::TERM, Signal::INT, Signal::HUP]).ok();
    loop {
        let stop = match &signals {
            Some(sig) => {
                let sig_fd = sig.fd();
                let mut fds = [
                    PollFd::new(&listener, PollFlags::IN),
                    PollFd::new(&sig_fd, PollFlags::IN),
                ];
                if poll(&mut fds, None).is_err() {
                    continue;
                }
                fds.get(1).is_some_and(|f| !f.revents().is_empty())
            }
            None => false,
        };
        if stop {
            if debug {
                eprintln!("seashell agent: exiting on a signal");
            }
            break;
        }
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        match rustix::net::sockopt::socket_peercred(&stream) {
            Ok(cred) if cred.uid == me || cred.uid.is_root() => {}
            _ => {
                if debug {
                    eprintln!("seashell agent: refused a connection from another user");
                }
                continue;
            }
        }
        let store = store.clone();
        std::thread::spawn(move || connection(stream, &store, debug));
    }
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent()
        && dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("seashell-"))
    {
        let _ = std::fs::remove_dir(dir);
    }
}

fn connection(mut stream: UnixStream, store: &Mutex<KeyStore>, debug: bool) {
    let mut state = ConnectionState::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut out = Vec::new();
        let r = {
            let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
            s.feed(
                &mut state,
                buf.get(..n).unwrap_or_default(),
                Instant::now(),
                &mut out,
            )
        };
        if !out.is_empty() && stream.write_all(&out).is_err() {
            return;
        }
        if let Err(e) = r {
            if debug {
                eprintln!("seashell agent: closing a connection: {e}");
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Args, String> {
        parse(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn options_as_ssh_agent() {
        let a = args(&["-D", "-a", "/tmp/x", "-t", "1m"]).unwrap();
        assert!(a.foreground);
        assert_eq!(a.bind, Some(PathBuf::from("/tmp/x")));
        assert_eq!(a.life, Some(Duration::from_secs(60)));
        let b = args(&["-sk"]).unwrap();
        assert_eq!(b.csh, Some(false));
        assert!(b.kill);
        assert!(args(&["-t", "nope"]).is_err());
        assert!(args(&["-Z"]).is_err());
        assert!(args(&["-a"]).is_err());
    }

    #[test]
    fn variables_in_both_shells() {
        let p = Path::new("/tmp/s/agent.1");
        assert_eq!(
            env_lines(p, 7, false, true),
            "SSH_AUTH_SOCK=/tmp/s/agent.1; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=7; export SSH_AGENT_PID;\necho Agent pid 7;\n"
        );
        assert_eq!(
            env_lines(p, 7, true, false),
            "setenv SSH_AUTH_SOCK /tmp/s/agent.1;\nsetenv SSH_AGENT_PID 7;\n"
        );
    }
}
