//! Running `sftp` commands: the remote and local working directories, path resolution as
//! OpenSSH's `sftp` does it (relative paths against the remote working directory, patterns
//! globbed), and each command with OpenSSH's messages. Errors go to stderr as they happen;
//! a command reports only whether it failed.

use super::commands::{Command, HELP, Owner};
use super::remote::{FsError, Meta, RemoteFs};
use super::words::{Word, escape_pattern};
use super::{listing, local};
use std::io::Write;

/// A command failed (its messages are already printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;

/// What a command asks of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Read the next command.
    Continue,
    /// `bye`: stop.
    Quit,
}

/// The state of an `sftp` session.
pub struct Interp<'a> {
    /// The connection.
    pub fs: &'a dyn RemoteFs,
    /// The remote working directory (absolute).
    pub pwd: String,
    /// Where the session started (`cd` without a path goes back there).
    pub start_dir: String,
    /// `-q` or batch mode: no informational messages.
    pub quiet: bool,
    /// Whether the progress meter is on.
    pub progress: bool,
    /// `-r`: every transfer recursive.
    pub global_recursive: bool,
    /// `-p`: every transfer keeps modes and times.
    pub global_preserve: bool,
    /// `-a`: every transfer resumes.
    pub global_resume: bool,
    /// `-f`: every download fsyncs.
    pub global_fsync: bool,
}

/// `a/b` with one slash between them.
pub fn path_append(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The last component of a path (trailing slashes ignored).
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// `path` without the leading `strip/` (OpenSSH's `path_strip`).
pub fn path_strip(path: &str, strip: Option<&str>) -> String {
    let Some(strip) = strip.filter(|s| !s.is_empty()) else {
        return path.to_owned();
    };
    match path.strip_prefix(strip) {
        Some(rest) if strip.ends_with('/') => rest.to_owned(),
        Some(rest) => rest.strip_prefix('/').unwrap_or(rest).to_owned(),
        None => path.to_owned(),
    }
}

/// A path shown with a `/` after it when it is a directory (glob's `GLOB_MARK`).
pub fn marked(path: &str, is_dir: bool) -> String {
    if is_dir && !path.ends_with('/') {
        format!("{path}/")
    } else {
        path.to_owned()
    }
}

impl Interp<'_> {
    /// `path` made absolute against the remote working directory.
    pub fn absolute(&self, path: &str) -> String {
        if path.starts_with('/') {
            path.to_owned()
        } else if path.is_empty() {
            self.pwd.clone()
        } else {
            path_append(&self.pwd, path)
        }
    }

    /// The remote paths a word names: the matches of a pattern (none: `Ok(empty)`), or the
    /// path itself, each with its attributes (`None` if it could not be read).
    pub fn remote_matches(&self, word: &Word) -> Result<Vec<(String, Option<Meta>)>, FsError> {
        let abs = self.absolute(&word.text);
        if !word.pattern {
            return Ok(vec![(abs.clone(), self.fs.stat(&abs).ok())]);
        }
        let prefix = if word.text.starts_with('/') {
            String::new()
        } else {
            escape_pattern(&path_append(&self.pwd, ""))
        };
        let found = self.fs.glob(&format!("{prefix}{}", word.text))?;
        Ok(found
            .into_iter()
            .map(|p| {
                let meta = self.fs.stat(&p).ok();
                (p, meta)
            })
            .collect())
    }

    /// Runs one command.
    pub fn run(&mut self, cmd: Command) -> Result<Next, Failed> {
        match cmd {
            Command::Quit => return Ok(Next::Quit),
            Command::Get(flags, src, dst) => self.get(flags, &src, dst.as_deref())?,
            Command::Put(flags, src, dst) => self.put(flags, &src, dst.as_ref())?,
            Command::Ls(flags, path) => self.ls(flags, path.as_ref())?,
            Command::Cd(path) => self.cd(path.as_ref())?,
            Command::Pwd => println!("Remote working directory: {}", self.pwd),
            Command::Mkdir(path) => {
                let abs = self.absolute(&path.text);
                self.fs
                    .mkdir(&abs)
                    .map_err(|e| fail(format!("remote mkdir \"{abs}\": {}", e.reason)))?;
            }
            Command::Rmdir(path) => {
                let abs = self.absolute(&path.text);
                self.fs
                    .rmdir(&abs)
                    .map_err(|e| fail(format!("remote rmdir \"{abs}\": {}", e.reason)))?;
            }
            Command::Rm(path) => self.each(&path, |me, p| {
                if !me.quiet {
                    println!("Removing {p}");
                }
                me.fs
                    .remove(p)
                    .map_err(|e| fail(format!("remote delete {p}: {}", e.reason)))
            })?,
            Command::Rename(from, to) => {
                let (a, b) = (self.absolute(&from.text), self.absolute(&to.text));
                self.fs
                    .rename(&a, &b)
                    .map_err(|e| fail(format!("remote rename \"{a}\" to \"{b}\": {}", e.reason)))?;
            }
            Command::Copy(from, to) => {
                let (a, b) = (self.absolute(&from.text), self.absolute(&to.text));
                if !self.quiet {
                    println!("Copy {a} to {b}");
                }
                self.fs
                    .copy(&a, &b)
                    .map_err(|e| fail(format!("remote copy \"{a}\" to \"{b}\": {}", e.reason)))?;
            }
            Command::Link(symbolic, from, to) => {
                let b = self.absolute(&to.text);
                if symbolic {
                    let a = from.text;
                    self.fs.symlink(&a, &b).map_err(|e| {
                        fail(format!(
                            "remote symlink file \"{a}\" to \"{b}\": {}",
                            e.reason
                        ))
                    })?;
                } else {
                    let a = self.absolute(&from.text);
                    self.fs.hard_link(&a, &b).map_err(|e| {
                        fail(format!("remote link \"{a}\" to \"{b}\": {}", e.reason))
                    })?;
                }
            }
            Command::Chmod(mode, path, follow) => self.each(&path, |me, p| {
                if !me.quiet {
                    println!("Changing mode on {p}");
                }
                me.fs
                    .set_mode(p, mode, follow)
                    .map_err(|e| fail(format!("remote setstat \"{p}\": {}", e.reason)))
            })?,
            Command::Chown(owner, path, follow) => self.each(&path, |me, p| {
                let meta = if follow {
                    me.fs.stat(p)
                } else {
                    me.fs.lstat(p)
                };
                let meta = meta.map_err(|e| fail(format!("stat remote: {}", e.reason)))?;
                let Some((uid, gid)) = meta.uid_gid else {
                    return Err(fail(format!("{p}: no owner returned by server")));
                };
                let (uid, gid, what) = match owner {
                    Owner::User(u) => (u, gid, "owner"),
                    Owner::Group(g) => (uid, g, "group"),
                };
                if !me.quiet {
                    println!("Changing {what} on {p}");
                }
                me.fs
                    .set_owner(p, uid, gid, follow)
                    .map_err(|e| fail(format!("remote setstat \"{p}\": {}", e.reason)))
            })?,
            Command::Df(human, inodes, path) => {
                let abs = path.map_or_else(|| self.pwd.clone(), |p| self.absolute(&p.text));
                let st = self
                    .fs
                    .statvfs(&abs)
                    .map_err(|e| fail(format!("remote statvfs \"{abs}\": {}", e.reason)))?;
                print!("{}", listing::df(&st, human, inodes));
            }
            Command::Version => println!("SFTP protocol version {}", self.fs.version()),
            Command::Progress => {
                self.progress = !self.progress;
                let state = if self.progress { "enabled" } else { "disabled" };
                println!("Progress meter {state}");
            }
            Command::Help => println!("{HELP}"),
            Command::Lcd(path) => local::lcd(path.as_deref())?,
            Command::Lpwd => local::lpwd()?,
            Command::Lmkdir(path) => local::lmkdir(&path)?,
            Command::Lls(args) => local::lls(&args),
            Command::Shell(cmd) => local::shell(cmd.as_deref()),
            Command::Lumask(mask) => local::lumask(mask),
        }
        let _ = std::io::stdout().flush();
        Ok(Next::Continue)
    }

    /// Runs `op` on every path a word names (a pattern's matches, or the path itself);
    /// fails if any failed.
    fn each(
        &mut self,
        word: &Word,
        mut op: impl FnMut(&mut Self, &str) -> Result<(), Failed>,
    ) -> Result<(), Failed> {
        let paths = self
            .remote_matches(word)
            .map_err(|e| fail(format!("{}: {}", word.text, e.reason)))?;
        if paths.is_empty() {
            return Err(fail(format!(
                "File \"{}\" not found.",
                self.absolute(&word.text)
            )));
        }
        let mut result = Ok(());
        for (p, _) in paths {
            if op(self, &p).is_err() {
                result = Err(Failed);
            }
        }
        result
    }

    /// `cd [path]`.
    fn cd(&mut self, path: Option<&Word>) -> Result<(), Failed> {
        let abs = match path {
            Some(p) => self.absolute(&p.text),
            None => self.start_dir.clone(),
        };
        let real = self
            .fs
            .canonicalize(&abs)
            .map_err(|e| fail(format!("realpath {abs}: {}", e.reason)))?;
        let meta = self
            .fs
            .stat(&real)
            .map_err(|e| fail(format!("stat remote: {}", e.reason)))?;
        if meta.mode.is_some() && !meta.is_dir() {
            return Err(fail(format!(
                "Can't change directory: \"{real}\" is not a directory"
            )));
        }
        self.pwd = real;
        Ok(())
    }
}

/// Prints an error message; returns [`Failed`].
pub fn fail(message: impl AsRef<str>) -> Failed {
    let _ = std::io::stdout().flush();
    eprintln!("{}", message.as_ref());
    Failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(path_append("/a", "b"), "/a/b");
        assert_eq!(path_append("/", "b"), "/b");
        assert_eq!(path_append("", "b"), "b");
        assert_eq!(basename("/a/b/"), "b");
        assert_eq!(basename("b"), "b");
        assert_eq!(basename("/"), "/");
        assert_eq!(path_strip("/home/u/a", Some("/home/u")), "a");
        assert_eq!(path_strip("/home/u/a", Some("/")), "home/u/a");
        assert_eq!(path_strip("/x/a", Some("/home/u")), "/x/a");
        assert_eq!(path_strip("/x/a", None), "/x/a");
        assert_eq!(marked("/a", true), "/a/");
        assert_eq!(marked("/a", false), "/a");
    }
}
