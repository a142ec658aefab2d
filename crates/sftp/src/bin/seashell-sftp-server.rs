//! `seashell-sftp-server`: an SFTP server on standard input and output, like OpenSSH's
//! `sftp-server`, over [`ServerEngine`] and [`LocalFs`].
//!
//! ```text
//! seashell-sftp-server [-R] [-r root] [-d start_directory]
//! ```
//!
//! - `-R`: read-only (every request that would change the filesystem is refused);
//! - `-r root`: confine the session to `root`, which the client sees as `/` (default `/`);
//! - `-d dir`: the start directory, a path as the client sees it (default: the current
//!   directory when the root is `/`, otherwise `/`).
//!
//! Use it with `sftp -D seashell-sftp-server`, or as an sshd `Subsystem`.

use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use seashell_sftp::server::{LocalFs, ServerConfig, ServerEngine};

struct Args {
    read_only: bool,
    root: Option<PathBuf>,
    start: Option<Vec<u8>>,
}

const USAGE: &str = "usage: seashell-sftp-server [-R] [-r root] [-d start_directory]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        read_only: false,
        root: None,
        start: None,
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(a) = it.next() {
        match a.as_bytes() {
            b"-R" => args.read_only = true,
            b"-r" => args.root = Some(PathBuf::from(it.next().ok_or("-r needs a directory")?)),
            b"-d" => {
                args.start = Some(it.next().ok_or("-d needs a directory")?.as_bytes().to_vec())
            }
            b"-h" | b"--help" => return Err(String::new()),
            // sftp-server's logging options take a value; accepted and ignored.
            b"-e" => {}
            b"-f" | b"-l" | b"-u" | b"-P" | b"-p" => {
                it.next();
            }
            other => return Err(format!("unknown option {}", String::from_utf8_lossy(other))),
        }
    }
    Ok(args)
}

fn serve(args: Args) -> io::Result<()> {
    let confined = args.root.is_some();
    let root = args.root.unwrap_or_else(|| PathBuf::from("/"));
    let mut fs = LocalFs::confined(&root)?.read_only(args.read_only);
    let start = match args.start {
        Some(s) => Some(s),
        None if !confined => Some(std::env::current_dir()?.as_os_str().as_bytes().to_vec()),
        None => None,
    };
    if let Some(s) = start {
        fs = fs.start_dir(s)?;
    }
    let config = ServerConfig {
        read_only: args.read_only,
        ..ServerConfig::default()
    };
    let mut engine = ServerEngine::new(fs, config);
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    let mut buf = vec![0u8; 256 * 1024];
    let mut out = Vec::new();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut input = buf.get(..n).unwrap_or_default();
        while !input.is_empty() {
            let used = engine
                .feed(input)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            input = input.get(used..).unwrap_or_default();
            engine.take_output(&mut out);
            stdout.write_all(&out)?;
            out.clear();
        }
        stdout.flush()?;
    }
    engine.close_all();
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("seashell-sftp-server: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seashell-sftp-server: {e}");
            ExitCode::FAILURE
        }
    }
}
