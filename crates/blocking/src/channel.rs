//! A client session channel as blocking `Read` (stdout) and `Write` (stdin), with its stderr.

use seashell_adapter::{ChannelHandle, ChannelStream, Error, ExitStatus, OwnedChannel, block_on};
use std::sync::Arc;

/// A running remote command. Reading gives its stdout; writing feeds its stdin.
///
/// Clones are handles on the same channel, and `&Channel` reads and writes too: one thread
/// can write stdin while another reads stdout. Each call waits only for its own stream. The
/// channel closes when the last handle, including [`Stderr`] handles, is dropped.
///
/// It dereferences to the shared [`ChannelHandle`] for what does not wait: `id()`,
/// `send_eof()`, `signal()`, `window_change()`, `close()`, `exit_status()`, `buffered()`,
/// `is_eof()`, `is_closed()`, `pty_granted()`.
#[derive(Debug, Clone)]
pub struct Channel {
    owner: Arc<OwnedChannel>,
}

/// The stderr stream of a [`Channel`] (an owned handle: it can move to another thread).
#[derive(Debug, Clone)]
pub struct Stderr {
    owner: Arc<OwnedChannel>,
}

impl std::ops::Deref for Channel {
    type Target = ChannelHandle;

    fn deref(&self) -> &ChannelHandle {
        self.owner.handle()
    }
}

impl Channel {
    pub(crate) fn new(owner: OwnedChannel) -> Channel {
        Channel {
            owner: Arc::new(owner),
        }
    }

    /// The channel's stderr stream.
    pub fn stderr(&self) -> Stderr {
        Stderr {
            owner: self.owner.clone(),
        }
    }

    /// Reads stdout and stderr to their ends at the same time (so neither can fill its
    /// window and stall the other), appending to `stdout` and `stderr`.
    pub fn read_both(&self, stdout: &mut Vec<u8>, stderr: &mut Vec<u8>) -> Result<(), Error> {
        block_on(|cx| self.poll_read_both(cx, stdout, stderr))
    }

    /// Waits for the channel to close and returns how the command ended. Output not read
    /// before this call is discarded (so the command cannot block on a full window). Once
    /// the server has sent EOF and an exit status, the channel is closed from our side.
    pub fn wait(&self) -> Result<ExitStatus, Error> {
        block_on(|cx| self.poll_wait(cx))
    }
}

impl ChannelStream for Channel {
    fn channel(&self) -> &ChannelHandle {
        self.owner.handle()
    }
    fn ext(&self) -> bool {
        false
    }
}

impl ChannelStream for Stderr {
    fn channel(&self) -> &ChannelHandle {
        self.owner.handle()
    }
    fn ext(&self) -> bool {
        true
    }
}

seashell_adapter::impl_blocking_read!(Channel);
seashell_adapter::impl_blocking_read!(&Channel);
seashell_adapter::impl_blocking_write!(Channel);
seashell_adapter::impl_blocking_write!(&Channel);
seashell_adapter::impl_blocking_read!(Stderr);
seashell_adapter::impl_blocking_read!(&Stderr);
