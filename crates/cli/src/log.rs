//! Diagnostics on stderr: `-v` debug lines and warnings that `-q` silences.

/// How chatty to be. Copy it into closures freely.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Log {
    /// How many `-v` were given.
    pub verbose: u8,
    /// `-q`: no warnings or notes.
    pub quiet: bool,
}

impl Log {
    /// Prints `debug1: <msg>` with `-v`.
    pub fn debug(self, msg: &str) {
        if self.verbose > 0 {
            eprintln!("debug1: {msg}");
        }
    }

    /// Prints a warning or note unless `-q`.
    pub fn warn(self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }
}
