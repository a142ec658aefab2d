//! `-W host:port` (or `-W socket`): stdin and stdout relayed over one `direct-tcpip` (or
//! `direct-streamlocal`) channel, with no session channel, as ssh does; the usual use is as
//! another ssh's `ProxyCommand`.
//!
//! The end of stdin becomes an EOF on the channel; the channel's EOF closes stdout (the
//! reader sees its end). The command ends when the server closes the channel, even if stdin
//! is still open. A channel the server refuses ends the command with ssh's `stdio forwarding
//! failed` and status 255.

use crate::forward::Target;
use crate::log::Log;
use crate::relay::{copy_until_end, spawn_upload};
use crate::tunnels;
use seashell_blocking::Session;
use std::io::{self, Read, Write};

/// How the relay ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The channel closed.
    Closed,
    /// The server refused the channel (the message is printed).
    Refused,
    /// The connection failed.
    Lost(String),
}

/// Relays stdin and stdout through `target` until the channel closes.
pub fn run(session: &Session, target: &Target, log: Log) -> Ended {
    let Some(channel) = tunnels::open(session, target, log) else {
        return Ended::Refused;
    };
    log.debug(&format!(
        "channel {}: stdio forward to {target}",
        channel.id().index()
    ));
    spawn_upload(Stdin, &channel);
    let down = copy_until_end(&mut &channel, &mut Stdout);
    // Closing our stdout is how its reader learns of the EOF.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
    }
    match down {
        // Nobody reads our stdout any more: the channel has no use.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            let _ = channel.close();
        }
        Err(e) => return Ended::Lost(e.to_string()),
        Ok(()) => {}
    }
    match channel.wait() {
        Ok(_) => Ended::Closed,
        Err(e) => Ended::Lost(e.to_string()),
    }
}

/// Our stdin, read without buffering.
struct Stdin;

impl Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(rustix::io::read(rustix::stdio::stdin(), buf)?)
    }
}

/// Our stdout, written without buffering.
struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(rustix::io::write(rustix::stdio::stdout(), buf)?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
