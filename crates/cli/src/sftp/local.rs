//! The local side of `sftp`: `lcd`, `lpwd`, `lmkdir`, `lls`, `!`, `lumask`, and local
//! patterns for `put` (expanded by `/bin/sh`, the system's glob).

use super::interp::{Failed, fail};
use crate::run::io_text;
use std::process::{Command, Stdio};

/// `lcd [path]` (none: the home directory).
pub fn lcd(path: Option<&str>) -> Result<(), Failed> {
    let target = match path {
        Some(p) => std::path::PathBuf::from(p),
        None => std::env::home_dir().unwrap_or_else(|| "/".into()),
    };
    std::env::set_current_dir(&target).map_err(|e| {
        fail(format!(
            "Couldn't change local directory to \"{}\": {}",
            target.display(),
            io_text(&e)
        ))
    })
}

/// `lpwd`.
pub fn lpwd() -> Result<(), Failed> {
    let cwd = std::env::current_dir().map_err(|e| fail(format!("getcwd: {}", io_text(&e))))?;
    println!("Local working directory: {}", cwd.display());
    Ok(())
}

/// `lmkdir path` (mode 0777 less the umask).
pub fn lmkdir(path: &str) -> Result<(), Failed> {
    std::fs::create_dir(path).map_err(|e| {
        fail(format!(
            "Couldn't create local directory \"{path}\": {}",
            io_text(&e)
        ))
    })
}

/// Runs `/bin/sh -c command` with our terminal; its exit status is reported, not failed on.
fn run_shell(command: Option<&str>, what: &str) {
    let mut cmd = match command {
        Some(c) => {
            let mut cmd = Command::new("/bin/sh");
            cmd.arg("-c").arg(c);
            cmd
        }
        None => Command::new(std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into())),
    };
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => match s.code() {
            Some(code) => {
                let _ = fail(format!("{what} exited with status {code}"));
            }
            None => {
                let _ = fail(format!("{what} terminated abnormally"));
            }
        },
        Err(e) => {
            let _ = fail(format!(
                "Couldn't execute \"{}\": {}",
                command.unwrap_or("shell"),
                io_text(&e)
            ));
        }
    }
}

/// `lls [ls-options [path]]`: the local `ls`.
pub fn lls(args: &str) {
    let line = if args.is_empty() {
        "ls".to_owned()
    } else {
        format!("ls {args}")
    };
    run_shell(Some(&line), "Command");
}

/// `!command`, or `!` alone for an interactive shell.
pub fn shell(command: Option<&str>) {
    run_shell(command, "Shell");
}

/// `lumask mask`.
pub fn lumask(mask: u32) {
    let mode = rustix::fs::Mode::from_bits_truncate(mask);
    rustix::process::umask(mode);
    println!("Local umask: {mask:03o}");
}

/// The local paths a `put` source names: a pattern's matches (sorted by the shell), or the
/// path itself. `Err` only when the shell cannot run.
pub fn glob(pattern: &str) -> Result<Vec<String>, String> {
    if !pattern.contains(['*', '?', '[']) {
        return Ok(vec![pattern.to_owned()]);
    }
    // Everything but the wildcards is quoted, so the shell expands only those.
    let mut word = String::new();
    for c in pattern.chars() {
        match c {
            '*' | '?' | '[' | ']' => word.push(c),
            '\'' => word.push_str("\"'\""),
            c => {
                word.push('\'');
                word.push(c);
                word.push('\'');
            }
        }
    }
    let script = format!(
        "for f in {word}; do [ -e \"$f\" ] || [ -L \"$f\" ] && printf '%s\\0' \"$f\"; done; true"
    );
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| io_text(&e))?;
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_patterns() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.txt", "b.txt", "it's.txt", "c.dat"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let d = dir.path().display().to_string();
        let got = glob(&format!("{d}/*.txt")).unwrap();
        let want: Vec<String> = ["a.txt", "b.txt", "it's.txt"]
            .iter()
            .map(|n| format!("{d}/{n}"))
            .collect();
        assert_eq!(got, want);
        assert_eq!(glob(&format!("{d}/*.none")).unwrap(), Vec::<String>::new());
        assert_eq!(glob("plain name").unwrap(), ["plain name"]);
    }
}
