//! Asking for a password the way OpenSSH's `read_passphrase` does: `SSH_ASKPASS` when
//! `SSH_ASKPASS_REQUIRE` says so (or when there is no terminal but a display), otherwise the
//! terminal.

use crate::log::Log;
use std::io::Read;
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// OpenSSH's default askpass program.
const DEFAULT_ASKPASS: &str = "/usr/bin/ssh-askpass";
/// The most we read from an askpass program.
const MAX_ANSWER: u64 = 64 * 1024;

/// Where a password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Run this askpass program.
    Askpass(String),
    /// Prompt on the terminal (`/dev/tty`).
    Terminal,
    /// Nowhere: don't ask.
    None,
}

/// Decides the source as OpenSSH does, from the environment variables (`get`) and whether
/// `/dev/tty` can be opened.
pub fn choose_source(get: impl Fn(&str) -> Option<String>, have_tty: bool) -> Source {
    let set = |name: &str| get(name).filter(|v| !v.is_empty());
    let mut allow_askpass = set("DISPLAY").is_some() || set("WAYLAND_DISPLAY").is_some();
    let mut use_askpass = false;
    match set("SSH_ASKPASS_REQUIRE")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        Some("force") => {
            use_askpass = true;
            allow_askpass = true;
        }
        Some("prefer") => use_askpass = allow_askpass,
        Some("never") => allow_askpass = false,
        _ => {}
    }
    if !use_askpass && !have_tty {
        use_askpass = true;
    }
    match (use_askpass, allow_askpass) {
        (true, true) => {
            Source::Askpass(set("SSH_ASKPASS").unwrap_or_else(|| DEFAULT_ASKPASS.to_owned()))
        }
        (true, false) => Source::None,
        _ => Source::Terminal,
    }
}

/// Asks for a password with `prompt`. `None` if there is no way to ask or the user gave none.
pub fn read_password(prompt: &str, log: Log) -> Option<Zeroizing<String>> {
    let have_tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok();
    match choose_source(|n| std::env::var(n).ok(), have_tty) {
        Source::Askpass(program) => {
            log.debug(&format!("asking for the password with {program}"));
            match run_askpass(&program, prompt) {
                Ok(pw) => Some(pw),
                Err(e) => {
                    log.warn(&format!("{program}: {e}"));
                    None
                }
            }
        }
        Source::Terminal => match rpassword::prompt_password(prompt) {
            Ok(pw) => Some(Zeroizing::new(pw)),
            Err(e) => {
                log.debug(&format!("reading the password from the terminal: {e}"));
                None
            }
        },
        Source::None => {
            log.debug("no terminal and no askpass: not asking for a password");
            None
        }
    }
}

/// Runs `program prompt` and returns the first line of its output.
fn run_askpass(program: &str, prompt: &str) -> Result<Zeroizing<String>, String> {
    let mut child = Command::new(program)
        .arg(prompt)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run: {e}"))?;
    let mut answer = Zeroizing::new(Vec::new());
    let read = match child.stdout.take() {
        Some(out) => out.take(MAX_ANSWER).read_to_end(&mut answer).map(|_| ()),
        None => Ok(()),
    };
    let status = child.wait().map_err(|e| format!("waiting for it: {e}"))?;
    read.map_err(|e| format!("reading its answer: {e}"))?;
    if !status.success() {
        return Err(format!("exited with {status}"));
    }
    let end = answer
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(answer.len());
    let line = answer.get(..end).unwrap_or_default();
    let text = std::str::from_utf8(line).map_err(|_| "its answer is not UTF-8".to_owned())?;
    Ok(Zeroizing::new(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn source_follows_openssh() {
        let force = [("SSH_ASKPASS_REQUIRE", "force"), ("SSH_ASKPASS", "/x")];
        assert_eq!(
            choose_source(env(&force), true),
            Source::Askpass("/x".into())
        );
        assert_eq!(
            choose_source(env(&[("SSH_ASKPASS_REQUIRE", "force")]), true),
            Source::Askpass(DEFAULT_ASKPASS.into())
        );
        assert_eq!(
            choose_source(env(&[("SSH_ASKPASS", "/x")]), true),
            Source::Terminal
        );
        assert_eq!(
            choose_source(env(&[("SSH_ASKPASS", "/x")]), false),
            Source::None
        );
        let display = [("SSH_ASKPASS", "/x"), ("DISPLAY", ":0")];
        assert_eq!(
            choose_source(env(&display), false),
            Source::Askpass("/x".into())
        );
        assert_eq!(choose_source(env(&display), true), Source::Terminal);
        let prefer = [
            ("SSH_ASKPASS", "/x"),
            ("DISPLAY", ":0"),
            ("SSH_ASKPASS_REQUIRE", "prefer"),
        ];
        assert_eq!(
            choose_source(env(&prefer), true),
            Source::Askpass("/x".into())
        );
        let never = [
            ("SSH_ASKPASS", "/x"),
            ("DISPLAY", ":0"),
            ("SSH_ASKPASS_REQUIRE", "never"),
        ];
        assert_eq!(choose_source(env(&never), false), Source::None);
        assert_eq!(choose_source(env(&never), true), Source::Terminal);
    }

    #[test]
    fn askpass_first_line_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("ask");
        std::fs::write(&script, "#!/bin/sh\nprintf 'pw %s\\nsecond\\n' \"$1\"\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let pw = run_askpass(script.to_str().unwrap(), "p?").unwrap();
        assert_eq!(pw.as_str(), "pw p?");
        let failing = dir.path().join("fail");
        std::fs::write(&failing, "#!/bin/sh\necho x\nexit 1\n").unwrap();
        std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(
            run_askpass(failing.to_str().unwrap(), "p")
                .unwrap_err()
                .contains("exited")
        );
        assert!(
            run_askpass("/nonexistent/askpass", "p")
                .unwrap_err()
                .contains("cannot run")
        );
    }
}
