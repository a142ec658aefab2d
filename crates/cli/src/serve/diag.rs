//! Where the server's diagnostics go: stderr, or the file named by `-E` (as `sshd -E`).
//! Never stdout, which carries the SSH stream in inetd mode (`-i`).
//!
//! Writes are best effort: a closed stderr (an inetd or socket-activated server may have
//! none) loses the message instead of ending the server.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// The destination, shared by every thread of the process.
#[derive(Debug)]
struct Sink {
    /// `-E`: append here instead of stderr.
    file: Option<File>,
    /// Put before every line: `seashell serve: `, or `seashell serve[PID]: ` in inetd mode,
    /// where several processes may share one log.
    prefix: String,
}

static SINK: Mutex<Option<Sink>> = Mutex::new(None);

fn sink() -> MutexGuard<'static, Option<Sink>> {
    SINK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sends every later line to `path` (created if missing, appended to, mode 0600).
pub fn log_to_file(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("log file {}: {e}", path.display()))?;
    let mut s = sink();
    let prefix = s.as_ref().map_or_else(default_prefix, |s| s.prefix.clone());
    *s = Some(Sink {
        file: Some(file),
        prefix,
    });
    Ok(())
}

/// Prefixes every later line with the process id (inetd mode: one process per connection).
pub fn tag_with_pid() {
    let mut s = sink();
    let prefix = format!("seashell serve[{}]: ", std::process::id());
    match s.as_mut() {
        Some(s) => s.prefix = prefix,
        None => *s = Some(Sink { file: None, prefix }),
    }
}

fn default_prefix() -> String {
    "seashell serve: ".to_owned()
}

/// Writes one line.
pub fn emit(msg: &str) {
    let mut s = sink();
    let line = format!(
        "{}{msg}\n",
        s.as_ref().map_or_else(default_prefix, |s| s.prefix.clone())
    );
    let _ = match s.as_mut().and_then(|s| s.file.as_mut()) {
        Some(f) => f.write_all(line.as_bytes()),
        None => io::stderr().lock().write_all(line.as_bytes()),
    };
}

/// Sends the library's tracing events (per connection and per channel: peer, user,
/// algorithms, authentication outcomes, refusals, byte counts) to the log with `-v` (info)
/// or `-vv` (debug), one line each, after the usual prefix.
pub fn trace_to_log(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .with_level(false)
        .with_writer(|| TraceLine(Vec::new()))
        .try_init();
}

/// One formatted tracing event, emitted as a log line when dropped.
struct TraceLine(Vec<u8>);

impl Write for TraceLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for TraceLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let line = text.trim_end();
        if !line.is_empty() {
            emit(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_go_to_the_log_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve.log");
        log_to_file(&path).unwrap();
        emit("one");
        tag_with_pid();
        emit("two");
        *sink() = None;
        emit("to stderr again");
        let text = std::fs::read_to_string(&path).unwrap();
        let pid = std::process::id();
        // Other tests of this process may log meanwhile: look for ours, in order.
        let ours: Vec<&str> = text
            .lines()
            .filter(|l| l.ends_with(": one") || l.ends_with(": two"))
            .collect();
        let two = format!("seashell serve[{pid}]: two");
        assert_eq!(ours, ["seashell serve: one", two.as_str()]);
        assert!(!text.contains("to stderr again"));
        assert!(log_to_file(&dir.path().join("no/such/dir/log")).is_err());
    }
}
