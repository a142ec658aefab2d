//! The command lines of `seashell sftp` and `seashell cp`: getopt-style flags as OpenSSH's
//! `sftp` and `scp` take them (bundled, arguments attached or separate, flags before the
//! operands), the ssh flags among them turned into `seashell`'s own.

use super::connection::{Target, parse_target};

/// `seashell sftp`'s usage.
pub const SFTP_USAGE: &str = "usage: seashell sftp [-aCfhpqrv] [-B buffer_size] [-b batchfile] [-c cipher]\n\
\x20          [-F ssh_config] [-i identity_file] [-J destination]\n\
\x20          [-o ssh_option] [-P port] [-R num_requests] destination";

/// `seashell cp`'s usage.
pub const CP_USAGE: &str = "usage: seashell cp [-ACpqrv] [-c cipher] [-F ssh_config] [-i identity_file]\n\
\x20          [-J destination] [-o ssh_option] [-P port] source ... target";

/// Flags and operands, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Getopt {
    /// Each flag with its argument.
    pub flags: Vec<(char, Option<String>)>,
    /// The words after the flags.
    pub operands: Vec<String>,
}

/// getopt: flags in `no_arg` or `with_arg` until the first other word (or `--`).
pub fn getopt(args: &[String], no_arg: &str, with_arg: &str) -> Result<Getopt, String> {
    let mut out = Getopt::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            break;
        }
        let Some(letters) = arg.strip_prefix('-').filter(|l| !l.is_empty()) else {
            i -= 1;
            break;
        };
        for (pos, c) in letters.char_indices() {
            if no_arg.contains(c) {
                out.flags.push((c, None));
            } else if with_arg.contains(c) {
                let attached = letters.get(pos + c.len_utf8()..).unwrap_or_default();
                let value = if attached.is_empty() {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("option requires an argument -- {c}"))?;
                    i += 1;
                    v.clone()
                } else {
                    attached.to_owned()
                };
                out.flags.push((c, Some(value)));
                break;
            } else {
                return Err(format!("unknown option -- {c}"));
            }
        }
    }
    out.operands = args.get(i..).unwrap_or_default().to_vec();
    Ok(out)
}

/// Turns a flag both commands share into `seashell`'s (ssh's) flags. `false`: not an ssh
/// flag.
fn ssh_flag(c: char, value: Option<&String>, ssh: &mut Vec<String>) -> bool {
    match (c, value) {
        ('A' | 'C' | 'v', None) => ssh.push(format!("-{c}")),
        ('P', Some(v)) => ssh.extend(["-p".to_owned(), v.clone()]),
        ('c' | 'i' | 'o' | 'F' | 'J', Some(v)) => ssh.extend([format!("-{c}"), v.clone()]),
        _ => return false,
    }
    true
}

/// What `seashell sftp` was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SftpArgs {
    /// ssh flags for the connection.
    pub ssh_flags: Vec<String>,
    /// `-b`: the batch file (`-`: stdin).
    pub batch: Option<String>,
    /// `-q` (or `-b`): no messages, no meter.
    pub quiet: bool,
    /// `-r`: transfers recursive.
    pub recursive: bool,
    /// `-p`: transfers keep modes and times.
    pub preserve: bool,
    /// `-a`: transfers resume.
    pub resume: bool,
    /// `-f`: downloads fsync.
    pub fsync: bool,
    /// `-R`: requests in flight.
    pub requests: Option<usize>,
    /// `-B`: bytes per request.
    pub buffer: Option<u32>,
    /// The server and the path to start in (or fetch).
    pub target: Target,
    /// A second operand: where to fetch `target.path` to.
    pub local: Option<String>,
}

/// Parses `seashell sftp`'s arguments; `Ok(None)` for `-h`.
pub fn parse_sftp(args: &[String]) -> Result<Option<SftpArgs>, String> {
    let g = getopt(args, "AaCfhpqrv", "BbcFiJoPRl")?;
    let mut s = SftpArgs::default();
    for (c, v) in &g.flags {
        if ssh_flag(*c, v.as_ref(), &mut s.ssh_flags) {
            continue;
        }
        let value = v.clone().unwrap_or_default();
        match c {
            'h' => return Ok(None),
            'a' => s.resume = true,
            'f' => s.fsync = true,
            'p' => s.preserve = true,
            'r' => s.recursive = true,
            'q' => {
                s.quiet = true;
                s.ssh_flags.push("-q".to_owned());
            }
            'b' => {
                if s.batch.is_some() {
                    return Err("Batch file already specified.".to_owned());
                }
                s.batch = Some(value);
                s.quiet = true;
                s.ssh_flags
                    .extend(["-o".to_owned(), "BatchMode=yes".to_owned()]);
            }
            'R' => {
                s.requests = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("Invalid number of requests \"{value}\""))?,
                );
            }
            'B' => {
                s.buffer = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("Invalid buffer size \"{value}\""))?,
                );
            }
            _ => return Err(format!("option -{c} is not supported")),
        }
    }
    let mut ops = g.operands.into_iter();
    let dest = ops
        .next()
        .ok_or_else(|| "no destination given".to_owned())?;
    s.target =
        parse_target(&dest, "sftp").ok_or_else(|| format!("invalid destination \"{dest}\""))?;
    s.local = ops.next();
    if ops.next().is_some() {
        return Err("too many arguments".to_owned());
    }
    Ok(Some(s))
}

/// What `seashell cp` was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpArgs {
    /// ssh flags for the connections.
    pub ssh_flags: Vec<String>,
    /// `-r`: directories too.
    pub recursive: bool,
    /// `-p`: keep modes and times.
    pub preserve: bool,
    /// `-q`: no meter.
    pub quiet: bool,
    /// The sources.
    pub sources: Vec<String>,
    /// The target.
    pub target: String,
}

/// Parses `seashell cp`'s arguments; `Ok(None)` for `-h`.
pub fn parse_cp(args: &[String]) -> Result<Option<CpArgs>, String> {
    let g = getopt(args, "ACBhpqrvT", "cFiJoPl")?;
    let mut s = CpArgs::default();
    for (c, v) in &g.flags {
        if ssh_flag(*c, v.as_ref(), &mut s.ssh_flags) {
            continue;
        }
        match c {
            'h' => return Ok(None),
            'p' => s.preserve = true,
            'r' => s.recursive = true,
            'q' => {
                s.quiet = true;
                s.ssh_flags.push("-q".to_owned());
            }
            'B' => s
                .ssh_flags
                .extend(["-o".to_owned(), "BatchMode=yes".to_owned()]),
            'T' => {}
            _ => return Err(format!("option -{c} is not supported")),
        }
    }
    let mut ops = g.operands;
    if ops.len() < 2 {
        return Err(String::new());
    }
    s.target = ops.pop().unwrap_or_default();
    s.sources = ops;
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn sftp_flags() {
        let s = parse_sftp(&v(&[
            "-P2222", "-b", "-", "-rpi", "k", "-o", "X=y", "u@h:/d", "loc",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            s.ssh_flags,
            v(&["-p", "2222", "-o", "BatchMode=yes", "-i", "k", "-o", "X=y"])
        );
        assert_eq!(s.batch.as_deref(), Some("-"));
        assert!(s.quiet && s.recursive && s.preserve && !s.resume);
        assert_eq!(s.target.path.as_deref(), Some("/d"));
        assert_eq!(s.local.as_deref(), Some("loc"));
        assert_eq!(parse_sftp(&v(&["-h"])), Ok(None));
        assert_eq!(
            parse_sftp(&v(&["-Z", "h"])),
            Err("unknown option -- Z".into())
        );
        assert_eq!(parse_sftp(&v(&[])), Err("no destination given".into()));
        assert_eq!(
            parse_sftp(&v(&["-P"])),
            Err("option requires an argument -- P".into())
        );
        assert!(parse_sftp(&v(&["-R", "0", "h"])).is_err());
    }

    #[test]
    fn cp_flags() {
        let s = parse_cp(&v(&["-rp", "-P", "22", "a", "b", "h:c"]))
            .unwrap()
            .unwrap();
        assert!(s.recursive && s.preserve);
        assert_eq!(s.ssh_flags, v(&["-p", "22"]));
        assert_eq!(s.sources, v(&["a", "b"]));
        assert_eq!(s.target, "h:c");
        assert_eq!(parse_cp(&v(&["a"])), Err(String::new()));
    }
}
