//! How the async driver remembers why a connection ended. The error type itself is the one
//! every adapter shares ([`seashell_adapter::Error`]).

pub use seashell_adapter::Error;
use std::io;

/// Why the connection ended, kept so every later call can report it.
#[derive(Debug, Clone)]
pub(crate) enum Lost {
    Ssh(seashell_proto::Error),
    Io(io::ErrorKind, String),
}

impl Lost {
    pub fn error(&self) -> Error {
        match self {
            Lost::Ssh(e) => Error::Ssh(e.clone()),
            Lost::Io(kind, msg) => Error::Io(io::Error::new(*kind, msg.clone())),
        }
    }

    pub fn io_error(&self) -> io::Error {
        self.error().into()
    }
}

/// The error a stream reports once its channel is closed.
pub(crate) fn broken_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "channel closed")
}
