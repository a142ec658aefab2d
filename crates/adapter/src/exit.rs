//! How a remote command ended, and what `exec` collects.

/// How a remote command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this status.
    Code(u32),
    /// It was killed by this signal (name without "SIG").
    Signal(String),
    /// The server closed the channel without saying.
    Unknown,
}

impl ExitStatus {
    /// The exit code, if it exited normally.
    pub fn code(&self) -> Option<u32> {
        match self {
            ExitStatus::Code(c) => Some(*c),
            _ => None,
        }
    }
}

/// The result of `Session::exec`: the status and everything the command wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// How the command ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}
