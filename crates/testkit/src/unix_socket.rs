//! Unix-domain socket fixtures for the streamlocal forwarding tests.
//!
//! An interop sshd runs its sessions as the login user (`SEASHELL_TEST_USER` in CI), who is
//! usually not the user running the tests: the socket directory and the sockets in it must be
//! open to every user, or sshd's `connect`/`bind` fails with "open failed".

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

/// A temporary directory every user may create sockets in (mode 0777).
pub fn shared_socket_dir() -> io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))?;
    Ok(dir)
}

/// Starts an echo service on a Unix socket at `path` (mode 0666), one thread per connection;
/// each connection echoes until the client half-closes, then half-closes in turn.
pub fn unix_echo(path: &Path) -> io::Result<()> {
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let Ok(mut back) = conn.try_clone() else {
                    return;
                };
                let _ = io::copy(&mut conn, &mut back);
                let _ = back.shutdown(Shutdown::Write);
            });
        }
    });
    Ok(())
}

/// Sends `msg` on the Unix socket at `path`, half-closes, and returns what comes back.
pub fn exchange_unix(path: &Path, msg: &[u8]) -> io::Result<Vec<u8>> {
    let mut s = UnixStream::connect(path)?;
    s.write_all(msg)?;
    s.shutdown(Shutdown::Write)?;
    let mut back = Vec::new();
    s.read_to_end(&mut back)?;
    Ok(back)
}
