//! Diagnostics in OpenSSH's manner: a [`LogLevel`] (`-o LogLevel`, `-v`, `-q`) decides which
//! messages are printed, and they go to stderr or, with `-E logfile`, appended to a file.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

/// OpenSSH's log levels, least to most verbose (`LogLevel`; `DEBUG` is `DEBUG1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Nothing at all (`-q`).
    Quiet,
    /// Only fatal errors.
    Fatal,
    /// Errors.
    Error,
    /// Errors, warnings and notes: the default.
    #[default]
    Info,
    /// Info and a few more notes.
    Verbose,
    /// `debug1:` lines (`-v`).
    Debug1,
    /// `debug2:` lines too (`-vv`).
    Debug2,
    /// `debug3:` lines too (`-vvv`).
    Debug3,
}

impl LogLevel {
    /// Parses a `LogLevel` value (case-insensitive), as OpenSSH spells them.
    pub fn parse(text: &str) -> Option<LogLevel> {
        Some(match text.to_ascii_uppercase().as_str() {
            "QUIET" => LogLevel::Quiet,
            "FATAL" => LogLevel::Fatal,
            "ERROR" => LogLevel::Error,
            "INFO" => LogLevel::Info,
            "VERBOSE" => LogLevel::Verbose,
            "DEBUG" | "DEBUG1" => LogLevel::Debug1,
            "DEBUG2" => LogLevel::Debug2,
            "DEBUG3" => LogLevel::Debug3,
            _ => return None,
        })
    }

    /// One step up the scale (`~v`), up to DEBUG3.
    pub fn up(self) -> LogLevel {
        match self {
            LogLevel::Quiet => LogLevel::Fatal,
            LogLevel::Fatal => LogLevel::Error,
            LogLevel::Error => LogLevel::Info,
            LogLevel::Info => LogLevel::Verbose,
            LogLevel::Verbose => LogLevel::Debug1,
            LogLevel::Debug1 => LogLevel::Debug2,
            LogLevel::Debug2 | LogLevel::Debug3 => LogLevel::Debug3,
        }
    }

    /// One step down the scale (`~V`), down to QUIET.
    pub fn down(self) -> LogLevel {
        match self {
            LogLevel::Quiet | LogLevel::Fatal => LogLevel::Quiet,
            LogLevel::Error => LogLevel::Fatal,
            LogLevel::Info => LogLevel::Error,
            LogLevel::Verbose => LogLevel::Info,
            LogLevel::Debug1 => LogLevel::Verbose,
            LogLevel::Debug2 => LogLevel::Debug1,
            LogLevel::Debug3 => LogLevel::Debug2,
        }
    }

    fn from_u8(v: u8) -> LogLevel {
        [
            LogLevel::Quiet,
            LogLevel::Fatal,
            LogLevel::Error,
            LogLevel::Info,
            LogLevel::Verbose,
            LogLevel::Debug1,
            LogLevel::Debug2,
            LogLevel::Debug3,
        ]
        .get(usize::from(v))
        .copied()
        .unwrap_or_default()
    }

    /// The level one `-v` more verbose than `self` (`-v` from a non-debug level is DEBUG1;
    /// DEBUG3 is the most).
    pub fn more_verbose(self) -> LogLevel {
        match self {
            LogLevel::Debug1 => LogLevel::Debug2,
            LogLevel::Debug2 | LogLevel::Debug3 => LogLevel::Debug3,
            _ => LogLevel::Debug1,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Quiet => "QUIET",
            LogLevel::Fatal => "FATAL",
            LogLevel::Error => "ERROR",
            LogLevel::Info => "INFO",
            LogLevel::Verbose => "VERBOSE",
            LogLevel::Debug1 => "DEBUG1",
            LogLevel::Debug2 => "DEBUG2",
            LogLevel::Debug3 => "DEBUG3",
        })
    }
}

/// The `-E` file, once opened; diagnostics go to stderr otherwise.
static LOG_FILE: OnceLock<Mutex<std::fs::File>> = OnceLock::new();

/// Sends all diagnostics to `path` from now on (appended, created with mode 0600), as
/// `ssh -E`. On failure the message OpenSSH prints is returned and stderr stays in use.
pub fn redirect_to_file(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            format!(
                "Couldn't open logfile {}: {}",
                path.display(),
                crate::run::clean(&e.to_string())
            )
        })?;
    // A second -E cannot happen (the last one given is used); ignore it if it did.
    let _ = LOG_FILE.set(Mutex::new(file));
    Ok(())
}

/// Writes one diagnostic line to the log file or stderr.
fn emit(line: &str) {
    if let Some(file) = LOG_FILE.get() {
        if let Ok(mut f) = file.lock() {
            let _ = writeln!(f, "{line}");
        }
        return;
    }
    // A terminal in raw mode does not turn `\n` into `\r\n`.
    let end = if RAW_STDERR.load(Ordering::Relaxed) {
        "\r\n"
    } else {
        "\n"
    };
    let _ = write!(std::io::stderr().lock(), "{line}{end}");
}

/// Whether stderr is a terminal in raw mode (lines then end in `\r\n`).
static RAW_STDERR: AtomicBool = AtomicBool::new(false);

/// Tells the log that stderr is (or no longer is) a terminal in raw mode.
pub fn set_raw_stderr(raw: bool) {
    RAW_STDERR.store(raw, Ordering::Relaxed);
}

/// The process's level, for [`Log::global`] (set once from the command line, changed by
/// `~v`/`~V`).
static LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

/// Sets the level every [`Log::global`] follows.
pub fn set_level(level: LogLevel) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The level every [`Log::global`] follows.
pub fn level() -> LogLevel {
    LogLevel::from_u8(LEVEL.load(Ordering::Relaxed))
}

/// How chatty to be. Copy it into closures freely.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Log {
    /// A fixed level; `None`: the process's level ([`set_level`]).
    fixed: Option<LogLevel>,
}

impl Log {
    /// A log at a fixed `level`.
    #[cfg(test)]
    pub fn new(level: LogLevel) -> Log {
        Log { fixed: Some(level) }
    }

    /// A log at the process's level, which `~v` and `~V` change.
    pub fn global() -> Log {
        Log { fixed: None }
    }

    /// The level in effect.
    pub fn level(self) -> LogLevel {
        self.fixed.unwrap_or_else(level)
    }

    /// Whether messages of `level` are printed.
    pub fn enabled(self, level: LogLevel) -> bool {
        level != LogLevel::Quiet && self.level() >= level
    }

    /// Prints `debug1: <msg>` at DEBUG1 and above (`-v`).
    pub fn debug(self, msg: &str) {
        if self.enabled(LogLevel::Debug1) {
            emit(&format!("debug1: {msg}"));
        }
    }

    /// Prints `debug2: <msg>` at DEBUG2 and above (`-vv`).
    #[allow(dead_code, reason = "for the forwarding and session messages to come")]
    pub fn debug2(self, msg: &str) {
        if self.enabled(LogLevel::Debug2) {
            emit(&format!("debug2: {msg}"));
        }
    }

    /// Prints `debug3: <msg>` at DEBUG3 (`-vvv`).
    #[allow(dead_code, reason = "for the forwarding and session messages to come")]
    pub fn debug3(self, msg: &str) {
        if self.enabled(LogLevel::Debug3) {
            emit(&format!("debug3: {msg}"));
        }
    }

    /// Prints a note at VERBOSE and above.
    pub fn verbose(self, msg: &str) {
        if self.enabled(LogLevel::Verbose) {
            emit(msg);
        }
    }

    /// Prints a warning or note at INFO and above (`-q` and `LogLevel=ERROR` silence it).
    pub fn warn(self, msg: &str) {
        if self.enabled(LogLevel::Info) {
            emit(msg);
        }
    }

    /// Prints an error at ERROR and above.
    pub fn error(self, msg: &str) {
        if self.enabled(LogLevel::Error) {
            emit(msg);
        }
    }

    /// Prints a fatal error at FATAL and above.
    #[allow(dead_code, reason = "for the forwarding and session messages to come")]
    pub fn fatal(self, msg: &str) {
        if self.enabled(LogLevel::Fatal) {
            emit(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_in_any_case() {
        assert_eq!(LogLevel::parse("quiet"), Some(LogLevel::Quiet));
        assert_eq!(LogLevel::parse("Fatal"), Some(LogLevel::Fatal));
        assert_eq!(LogLevel::parse("ERROR"), Some(LogLevel::Error));
        assert_eq!(LogLevel::parse("info"), Some(LogLevel::Info));
        assert_eq!(LogLevel::parse("verbose"), Some(LogLevel::Verbose));
        assert_eq!(LogLevel::parse("debug"), Some(LogLevel::Debug1));
        assert_eq!(LogLevel::parse("DEBUG1"), Some(LogLevel::Debug1));
        assert_eq!(LogLevel::parse("debug2"), Some(LogLevel::Debug2));
        assert_eq!(LogLevel::parse("Debug3"), Some(LogLevel::Debug3));
        assert_eq!(LogLevel::parse("debug4"), None);
        assert_eq!(LogLevel::parse(""), None);
    }

    #[test]
    fn what_each_level_prints() {
        let at = |l| Log::new(l);
        assert!(!at(LogLevel::Quiet).enabled(LogLevel::Fatal));
        assert!(at(LogLevel::Fatal).enabled(LogLevel::Fatal));
        assert!(!at(LogLevel::Fatal).enabled(LogLevel::Error));
        assert!(at(LogLevel::Error).enabled(LogLevel::Error));
        assert!(!at(LogLevel::Error).enabled(LogLevel::Info));
        assert!(at(LogLevel::Info).enabled(LogLevel::Info));
        assert!(!at(LogLevel::Info).enabled(LogLevel::Verbose));
        assert!(at(LogLevel::Debug1).enabled(LogLevel::Verbose));
        assert!(!at(LogLevel::Debug1).enabled(LogLevel::Debug2));
        assert!(at(LogLevel::Debug3).enabled(LogLevel::Debug3));
        assert!(!at(LogLevel::Debug3).enabled(LogLevel::Quiet));
    }

    #[test]
    fn more_verbose_steps_to_debug3() {
        assert_eq!(LogLevel::Info.more_verbose(), LogLevel::Debug1);
        assert_eq!(LogLevel::Quiet.more_verbose(), LogLevel::Debug1);
        assert_eq!(LogLevel::Debug1.more_verbose(), LogLevel::Debug2);
        assert_eq!(LogLevel::Debug2.more_verbose(), LogLevel::Debug3);
        assert_eq!(LogLevel::Debug3.more_verbose(), LogLevel::Debug3);
        assert_eq!(LogLevel::Debug2.to_string(), "DEBUG2");
    }

    #[test]
    fn steps_up_and_down_the_scale() {
        let mut l = LogLevel::Quiet;
        let mut seen = vec![l];
        while l != LogLevel::Debug3 {
            l = l.up();
            seen.push(l);
        }
        assert_eq!(seen.len(), 8);
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        for w in seen.windows(2) {
            assert_eq!(w[1].down(), w[0]);
            assert_eq!(LogLevel::from_u8(w[1] as u8), w[1]);
        }
        assert_eq!(LogLevel::Quiet.down(), LogLevel::Quiet);
        assert_eq!(LogLevel::Debug3.up(), LogLevel::Debug3);
        assert_eq!(LogLevel::from_u8(200), LogLevel::Info);
    }
}
