//! Parsing one `sftp` command line into a [`Command`], with OpenSSH's command names, flags
//! and error messages.

use super::words::{Word, split};

/// The flags of `get`, `put`, `reget` and `reput`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferFlags {
    /// `-a`: resume (`reget` / `reput` always).
    pub resume: bool,
    /// `-f`: fsync after each file.
    pub fsync: bool,
    /// `-p` / `-P`: keep modes and times.
    pub preserve: bool,
    /// `-r` / `-R`: directories too.
    pub recursive: bool,
}

/// The flags of `ls`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LsFlags {
    /// `-1`: one name per line.
    pub one_per_line: bool,
    /// `-a`: names starting with `.` too.
    pub all: bool,
    /// `-f`: no sorting.
    pub unsorted: bool,
    /// `-l` (also implied by `-n` and `-h`): the long format.
    pub long: bool,
    /// `-n`: numeric user and group ids.
    pub numeric: bool,
    /// `-h`: sizes with units.
    pub human: bool,
    /// `-r`: reverse the order.
    pub reverse: bool,
    /// `-S`: by size, largest first.
    pub by_size: bool,
    /// `-t`: by modification time, newest first.
    pub by_time: bool,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `get` / `reget`: remote source (a pattern), optional local destination.
    Get(TransferFlags, Word, Option<String>),
    /// `put` / `reput`: local source, optional remote destination.
    Put(TransferFlags, String, Option<Word>),
    /// `ls [flags] [path]`.
    Ls(LsFlags, Option<Word>),
    /// `cd [path]` (none: the starting directory).
    Cd(Option<Word>),
    /// `lcd [path]` (none: the local home directory).
    Lcd(Option<String>),
    /// `pwd`.
    Pwd,
    /// `lpwd`.
    Lpwd,
    /// `mkdir path`.
    Mkdir(Word),
    /// `lmkdir path`.
    Lmkdir(String),
    /// `rm path` (a pattern).
    Rm(Word),
    /// `rmdir path`.
    Rmdir(Word),
    /// `rename old new`.
    Rename(Word, Word),
    /// `copy old new` / `cp old new`: a server-side copy.
    Copy(Word, Word),
    /// `ln [-s] old new` (`true`: symbolic), `symlink old new`.
    Link(bool, Word, Word),
    /// `chmod [-h] mode path`: mode, path, follow symlinks.
    Chmod(u32, Word, bool),
    /// `chown [-h] uid path` / `chgrp [-h] gid path`.
    Chown(Owner, Word, bool),
    /// `df [-hi] [path]`: human, inodes, path.
    Df(bool, bool, Option<Word>),
    /// `lls [ls-options [path]]`: the rest of the line for the local `ls`.
    Lls(String),
    /// `!command` (`None`: an interactive shell).
    Shell(Option<String>),
    /// `lumask umask`.
    Lumask(u32),
    /// `help` / `?`.
    Help,
    /// `version`.
    Version,
    /// `progress`: toggles the meter.
    Progress,
    /// `bye` / `exit` / `quit`.
    Quit,
}

/// Which id `chown` / `chgrp` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// `chown`: the user id.
    User(u32),
    /// `chgrp`: the group id.
    Group(u32),
}

/// A command line without its prefix characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// `-`: a failure does not end a batch.
    pub ignore_errors: bool,
    /// `@`: the command is not echoed in batch mode.
    pub no_echo: bool,
    /// The command, blanks trimmed at the start.
    pub rest: &'a str,
}

/// Reads the `-` and `@` prefix characters.
pub fn prefix(line: &str) -> Line<'_> {
    let mut rest = line.trim_start();
    let (mut ignore_errors, mut no_echo) = (false, false);
    loop {
        if let Some(r) = rest.strip_prefix('-') {
            ignore_errors = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('@') {
            no_echo = true;
            rest = r;
        } else {
            break;
        }
    }
    Line {
        ignore_errors,
        no_echo,
        rest: rest.trim_start(),
    }
}

/// The help text (`help`, `?`).
pub const HELP: &str = "Available commands:
bye                                Quit sftp
cd path                            Change remote directory to 'path'
chgrp [-h] grp path                Change group of file 'path' to 'grp'
chmod [-h] mode path               Change permissions of file 'path' to 'mode'
chown [-h] own path                Change owner of file 'path' to 'own'
copy oldpath newpath               Copy remote file
cp oldpath newpath                 Copy remote file
df [-hi] [path]                    Display statistics for current directory or
                                   filesystem containing 'path'
exit                               Quit sftp
get [-afpR] remote [local]         Download file
help                               Display this help text
lcd path                           Change local directory to 'path'
lls [ls-options [path]]            Display local directory listing
lmkdir path                        Create local directory
ln [-s] oldpath newpath            Link remote file (-s for symlink)
lpwd                               Print local working directory
ls [-1afhlnrSt] [path]             Display remote directory listing
lumask umask                       Set local umask to 'umask'
mkdir path                         Create remote directory
progress                           Toggle display of progress meter
put [-afpR] local [remote]         Upload file
pwd                                Display remote working directory
quit                               Quit sftp
reget [-fpR] remote [local]        Resume download file
rename oldpath newpath             Rename remote file
reput [-fpR] local [remote]        Resume upload file
rm path                            Delete remote file
rmdir path                         Remove remote directory
symlink oldpath newpath            Symlink remote file
version                            Show SFTP version
!command                           Execute 'command' in local shell
!                                  Escape to local shell
?                                  Synonym for help";

/// Parses a command (after [`prefix`]); `Ok(None)` for a blank line or a comment. The
/// error is the message to print.
pub fn parse(rest: &str) -> Result<Option<Command>, String> {
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    if let Some(cmd) = rest.strip_prefix('!') {
        let cmd = cmd.trim();
        return Ok(Some(Command::Shell(
            (!cmd.is_empty()).then(|| cmd.to_owned()),
        )));
    }
    let words = split(rest).map_err(|e| e.to_string())?;
    let Some((name, args)) = words.split_first() else {
        return Ok(None);
    };
    let name = name.text.as_str();
    let cmd = match name {
        "get" | "reget" | "put" | "reput" => transfer(name, args)?,
        "ls" | "dir" => {
            let (flags, args) = ls_flags(name, args)?;
            Command::Ls(flags, args.first().cloned())
        }
        "cd" | "chdir" => Command::Cd(args.first().cloned()),
        "lcd" | "lchdir" => Command::Lcd(args.first().map(|w| w.text.clone())),
        "pwd" => Command::Pwd,
        "lpwd" => Command::Lpwd,
        "mkdir" => Command::Mkdir(one(name, args)?),
        "lmkdir" => Command::Lmkdir(one(name, args)?.text),
        "rm" => Command::Rm(one(name, args)?),
        "rmdir" => Command::Rmdir(one(name, args)?),
        "rename" => {
            let (_, args) = flags(name, args, "l")?;
            let (a, b) = two(name, args)?;
            Command::Rename(a, b)
        }
        "copy" | "cp" => {
            let (a, b) = two(name, args)?;
            Command::Copy(a, b)
        }
        "ln" | "symlink" => {
            let (f, args) = flags(name, args, "s")?;
            let (a, b) = two(name, args)?;
            Command::Link(name == "symlink" || f.contains('s'), a, b)
        }
        "chmod" | "chown" | "chgrp" => {
            let (f, args) = flags(name, args, "h")?;
            let (id, path) = two(name, args)?;
            let numeric = || format!("You must supply a numeric argument to the {name} command.");
            let follow = !f.contains('h');
            if name == "chmod" {
                let mode = u32::from_str_radix(&id.text, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(numeric)?;
                Command::Chmod(mode, path, follow)
            } else {
                let id: u32 = id.text.parse().map_err(|_| numeric())?;
                let owner = if name == "chown" {
                    Owner::User(id)
                } else {
                    Owner::Group(id)
                };
                Command::Chown(owner, path, follow)
            }
        }
        "df" => {
            let (f, args) = flags(name, args, "hi")?;
            Command::Df(f.contains('h'), f.contains('i'), args.first().cloned())
        }
        "lls" | "lls-l" | "lls-la" => {
            let after = rest.get(3..).unwrap_or_default();
            Command::Lls(after.trim().to_owned())
        }
        "lumask" => {
            let w = one(name, args)?;
            let mask = u32::from_str_radix(&w.text, 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .ok_or_else(|| {
                    format!("You must supply a numeric argument to the {name} command.")
                })?;
            Command::Lumask(mask)
        }
        "help" | "?" => Command::Help,
        "version" => Command::Version,
        "progress" => Command::Progress,
        "bye" | "exit" | "quit" => Command::Quit,
        _ => return Err("Invalid command.".to_owned()),
    };
    Ok(Some(cmd))
}

/// `get`/`reget`/`put`/`reput` with their flags.
fn transfer(name: &str, args: &[Word]) -> Result<Command, String> {
    let (f, args) = flags(name, args, "afpPrR")?;
    let mut t = TransferFlags {
        resume: f.contains('a') || name.starts_with("re"),
        fsync: f.contains('f'),
        preserve: f.contains('p') || f.contains('P'),
        recursive: f.contains('r') || f.contains('R'),
    };
    let Some((src, rest)) = args.split_first() else {
        return Err(format!(
            "You must specify at least one path after a {name} command."
        ));
    };
    let dst = rest.first().cloned();
    if name.ends_with("get") {
        Ok(Command::Get(t, src.clone(), dst.map(|w| w.text)))
    } else {
        t.resume |= name == "reput";
        Ok(Command::Put(t, src.text.clone(), dst))
    }
}

/// `ls` flags.
fn ls_flags<'a>(name: &str, args: &'a [Word]) -> Result<(LsFlags, &'a [Word]), String> {
    let (f, args) = flags(name, args, "1Safhlnrt")?;
    let has = |c| f.contains(c);
    let flags = LsFlags {
        one_per_line: has('1'),
        all: has('a') || has('f'),
        unsorted: has('f'),
        long: has('l') || has('n') || has('h'),
        numeric: has('n'),
        human: has('h'),
        reverse: has('r'),
        by_size: has('S'),
        by_time: has('t'),
    };
    Ok((flags, args))
}

/// getopt-style flags from the front of `args`: the flag letters seen and the words after
/// them. `--` ends the flags.
fn flags<'a>(name: &str, args: &'a [Word], allowed: &str) -> Result<(String, &'a [Word]), String> {
    let mut seen = String::new();
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let Some(letters) = w.text.strip_prefix('-').filter(|l| !l.is_empty()) else {
            break;
        };
        i += 1;
        if letters == "-" {
            break;
        }
        for c in letters.chars() {
            if !allowed.contains(c) {
                return Err(format!("{name}: Invalid flag -{c}"));
            }
            seen.push(c);
        }
    }
    Ok((seen, args.get(i..).unwrap_or_default()))
}

/// Exactly one path.
fn one(name: &str, args: &[Word]) -> Result<Word, String> {
    args.first()
        .cloned()
        .ok_or_else(|| format!("You must specify a path after a {name} command."))
}

/// Two paths.
fn two(name: &str, args: &[Word]) -> Result<(Word, Word), String> {
    match args {
        [a, b, ..] => Ok((a.clone(), b.clone())),
        _ => Err(format!(
            "You must specify two paths after a {name} command."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(line: &str) -> Command {
        parse(line).unwrap().unwrap()
    }

    fn word(t: &str) -> Word {
        Word {
            text: t.to_owned(),
            pattern: false,
        }
    }

    #[test]
    fn prefixes() {
        let l = prefix("  -@ rm x");
        assert!(l.ignore_errors && l.no_echo);
        assert_eq!(l.rest, "rm x");
        let l = prefix("ls");
        assert!(!l.ignore_errors && !l.no_echo);
    }

    #[test]
    fn transfers() {
        let Command::Get(f, src, dst) = cmd("get -rp a b") else {
            panic!()
        };
        assert!(f.recursive && f.preserve && !f.resume);
        assert_eq!((src.text.as_str(), dst.as_deref()), ("a", Some("b")));
        let Command::Get(f, _, None) = cmd("reget x") else {
            panic!()
        };
        assert!(f.resume);
        let Command::Put(f, src, Some(dst)) = cmd("reput -R -P a b") else {
            panic!()
        };
        assert!(f.resume && f.recursive && f.preserve);
        assert_eq!((src.as_str(), dst.text.as_str()), ("a", "b"));
        assert_eq!(
            parse("get"),
            Err("You must specify at least one path after a get command.".into())
        );
        assert_eq!(parse("get -z a"), Err("get: Invalid flag -z".into()));
    }

    #[test]
    fn others() {
        assert_eq!(parse("# c"), Ok(None));
        assert_eq!(parse(""), Ok(None));
        assert_eq!(cmd("!ls -l"), Command::Shell(Some("ls -l".into())));
        assert_eq!(cmd("!"), Command::Shell(None));
        assert_eq!(cmd("chmod 755 a"), Command::Chmod(0o755, word("a"), true));
        assert_eq!(
            parse("chmod x f"),
            Err("You must supply a numeric argument to the chmod command.".into())
        );
        assert_eq!(
            cmd("chown -h 0 f"),
            Command::Chown(Owner::User(0), word("f"), false)
        );
        assert_eq!(cmd("ln -s a b"), Command::Link(true, word("a"), word("b")));
        assert_eq!(cmd("ln a b"), Command::Link(false, word("a"), word("b")));
        assert_eq!(cmd("cp a b"), Command::Copy(word("a"), word("b")));
        assert_eq!(
            parse("rename a"),
            Err("You must specify two paths after a rename command.".into())
        );
        assert_eq!(
            parse("mkdir"),
            Err("You must specify a path after a mkdir command.".into())
        );
        assert_eq!(parse("bogus"), Err("Invalid command.".into()));
        assert_eq!(cmd("lls -la /tmp"), Command::Lls("-la /tmp".into()));
        assert_eq!(cmd("df -h"), Command::Df(true, false, None));
        let Command::Ls(f, None) = cmd("ls -lrt") else {
            panic!()
        };
        assert!(f.long && f.reverse && f.by_time && !f.all);
        let Command::Ls(f, Some(_)) = cmd("ls -n x") else {
            panic!()
        };
        assert!(f.long && f.numeric);
    }
}
