//! A private tmux server for interactive-terminal tests: a command in a detached pane, keys
//! sent the way a person types them (send-keys), the screen read back (capture-pane).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a pane may take to show what is expected.
pub const WAIT: Duration = Duration::from_secs(20);

/// Whether tmux can be run here.
pub fn available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok()
}

/// A tmux server of our own (its socket at a path the test chooses), killed when dropped.
pub struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// A server on the socket `socket` (started by the first [`start`](Self::start)).
    pub fn new(socket: impl Into<PathBuf>) -> Tmux {
        Tmux {
            socket: socket.into(),
        }
    }

    /// Runs one tmux command against this server.
    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    /// Starts `shell_command` in a detached 100×30 pane named `name`.
    pub fn start(&self, name: &str, shell_command: &str) {
        let o = self.cmd(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "100",
            "-y",
            "30",
            shell_command,
        ]);
        assert!(o.status.success(), "tmux new-session: {o:?}");
    }

    /// Sends keys (tmux key names, or text after `-l`) to pane `name`.
    pub fn keys(&self, name: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", name];
        args.extend_from_slice(keys);
        let o = self.cmd(&args);
        assert!(o.status.success(), "tmux send-keys: {o:?}");
    }

    /// Types `text` literally (no key names).
    pub fn type_text(&self, name: &str, text: &str) {
        self.keys(name, &["-l", text]);
    }

    /// Types `line` and presses Enter.
    pub fn type_line(&self, name: &str, line: &str) {
        self.type_text(name, line);
        self.keys(name, &["Enter"]);
    }

    /// The pane's screen and up to 200 lines of its history.
    pub fn capture(&self, name: &str) -> String {
        let o = self.cmd(&["capture-pane", "-p", "-J", "-t", name, "-S", "-200"]);
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Waits (up to [`WAIT`]) until the pane shows `want`; returns the pane.
    pub fn wait_for(&self, name: &str, want: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let pane = self.capture(name);
            if pane.contains(want) {
                return pane;
            }
            assert!(
                Instant::now() < deadline,
                "pane {name} never showed {want:?}; it shows:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}
