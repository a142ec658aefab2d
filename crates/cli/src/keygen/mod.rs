//! `seashell keygen`: ssh-keygen's key operations, with its flags and messages.
//!
//! - generating keys (`-t -b -f -N -C -q -m -a`): [`generate`];
//! - fingerprints (`-l [-v] [-E hash]`): [`fingerprint`];
//! - the public key of a private key (`-y`), export (`-e -m RFC4716|PKCS8|PEM`), import
//!   (`-i`) and changing the passphrase (`-p -P old -N new [-m format]`): [`convert`];
//! - certificates (`-s -I -n -V -z -h -O`, `-L`) and known_hosts editing (`-F -R -H`):
//!   `crate::keygen_cert`, which [`main`] asks first.
//!
//! [`parse`] reads every option letter `ssh-keygen` knows (its getopt string). [`Opts`] gives
//! the flags (`has`), the last value of an option (`value`) and every value of a repeatable
//! one (`values`).

mod convert;
mod fingerprint;
mod generate;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use seashell_keys::{FingerprintHash, KeyFileError, LoadedKey, load_key_file};
use zeroize::Zeroizing;

/// The usage text, as `ssh-keygen` prints its own (the operations we have).
const USAGE: &str =
    "usage: seashell keygen [-q] [-a rounds] [-b bits] [-C comment] [-f output_keyfile]
                      [-m format] [-N new_passphrase] [-t ecdsa | ed25519 | rsa]
       seashell keygen -p [-a rounds] [-f keyfile] [-m format] [-N new_passphrase]
                      [-P old_passphrase]
       seashell keygen -i [-f input_keyfile] [-m key_format]
       seashell keygen -e [-f input_keyfile] [-m key_format]
       seashell keygen -y [-f input_keyfile]
       seashell keygen -l [-v] [-E fingerprint_hash] [-f input_keyfile]";

/// Option letters that take a value (`ssh-keygen`'s getopt string:
/// `ABHKLQUXceghiklopquvyC:D:E:F:I:M:N:O:P:R:V:Y:Z:a:b:f:g:m:n:r:s:t:w:z:`).
const VALUE_OPTIONS: &str = "CDEFIMNOPRVYZabfgmnrstwz";
/// Option letters that are plain flags.
const FLAG_OPTIONS: &str = "ABHKLQUXceghiklopquvy";

/// The parsed command line: flags, option values in order, and operands.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Opts {
    flags: Vec<char>,
    values: Vec<(char, String)>,
    operands: Vec<String>,
}

impl Opts {
    /// Whether flag (or option) `c` was given.
    pub(crate) fn has(&self, c: char) -> bool {
        self.flags.contains(&c) || self.values.iter().any(|(o, _)| *o == c)
    }

    /// The last value given to option `c`.
    pub(crate) fn value(&self, c: char) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(o, _)| *o == c)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given to option `c`, in order (for repeatable options such as `-O`).
    #[allow(dead_code)]
    pub(crate) fn values(&self, c: char) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(move |(o, _)| *o == c)
            .map(|(_, v)| v.as_str())
    }

    /// The operands after the options.
    #[allow(dead_code)]
    pub(crate) fn operands(&self) -> &[String] {
        &self.operands
    }

    /// `-f`.
    pub(crate) fn file(&self) -> Option<PathBuf> {
        self.value('f').map(PathBuf::from)
    }

    /// `-q`.
    pub(crate) fn quiet(&self) -> bool {
        self.has('q')
    }

    /// `-E`, SHA256 by default.
    pub(crate) fn hash(&self) -> Result<FingerprintHash, Failure> {
        match self.value('E') {
            None => Ok(FingerprintHash::Sha256),
            Some(v) => FingerprintHash::parse(v)
                .ok_or_else(|| Failure::new(format!("Invalid hash algorithm \"{v}\""))),
        }
    }
}

/// Parses ssh-keygen-style options: clustered flags, values attached (`-fkey`) or separate
/// (`-f key`), `--` ending the options, operands after them.
pub(crate) fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            o.operands.extend(args.iter().skip(i).cloned());
            break;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            o.operands.push(arg.clone());
            o.operands.extend(args.iter().skip(i).cloned());
            break;
        };
        for (at, c) in cluster.char_indices() {
            if VALUE_OPTIONS.contains(c) {
                let rest = cluster.get(at + c.len_utf8()..).unwrap_or_default();
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1)
                        .cloned()
                        .ok_or_else(|| format!("option requires an argument -- {c}\n{USAGE}"))?
                } else {
                    rest.to_owned()
                };
                o.values.push((c, value));
                break;
            } else if FLAG_OPTIONS.contains(c) {
                o.flags.push(c);
            } else {
                return Err(format!("unknown option -- {c}\n{USAGE}"));
            }
        }
    }
    Ok(o)
}

/// An operation's failure: the message for stderr and the exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// A failure with exit status 255, as `ssh-keygen`'s `fatal()`.
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 255,
        }
    }

    /// A failure with exit status 1.
    pub(crate) fn status1(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

/// What an operation returns: its standard output, or a failure.
pub(crate) type Outcome = Result<String, Failure>;

/// Runs `seashell keygen ARGS`.
pub fn main(args: &[String]) -> ExitCode {
    let opts = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    // Certificates (-s, -L) and known_hosts editing (-F, -R, -H).
    if crate::keygen_cert::wanted(&opts) {
        return crate::keygen_cert::main(&opts);
    }
    let not_yet = |what: &str| -> Outcome {
        Err(Failure::status1(format!(
            "seashell keygen: {what} is not supported yet"
        )))
    };
    let outcome = if opts.has('l') {
        fingerprint::run(&opts)
    } else if opts.has('p') {
        convert::change_passphrase(&opts)
    } else if opts.has('e') {
        convert::export(&opts)
    } else if opts.has('i') {
        convert::import(&opts)
    } else if opts.has('y') {
        convert::print_public(&opts)
    } else if let Some(c) = "ABKMQUXYDcgkruwz".chars().find(|&c| opts.has(c)) {
        // Operations we do not have. (-o is accepted and ignored, as by ssh-keygen: the new
        // format is the default.)
        not_yet(&format!("-{c}"))
    } else {
        generate::run(&opts)
    };
    match outcome {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
            ExitCode::SUCCESS
        }
        Err(f) => {
            let _ = std::io::stdout().flush();
            if !f.message.is_empty() {
                eprintln!("{}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

/// Asks for a passphrase with `prompt`: askpass or the terminal as `ssh` does, otherwise a
/// line of standard input (as `ssh-keygen`'s `RP_ALLOW_STDIN`).
pub(crate) fn ask(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    if let Some(p) = crate::askpass::read_password(prompt, crate::log::Log::global()) {
        return Ok(p);
    }
    read_stdin_line("")
}

/// Prints `prompt` on standard output (as `ssh-keygen` asks for file names and
/// confirmations) and reads a line of standard input (without its line end).
pub(crate) fn read_stdin_line(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    if !prompt.is_empty() {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("reading standard input: {e}")))?;
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(line)
}

/// Asks for a new passphrase twice (`ssh-keygen`'s prompts) until both agree (3 tries).
pub(crate) fn ask_new_passphrase(first_prompt: &str) -> Result<Zeroizing<String>, Failure> {
    for _ in 0..3 {
        let first = ask(first_prompt)?;
        let second = ask("Enter same passphrase again: ")?;
        if *first == *second {
            return Ok(first);
        }
        eprintln!("Passphrases do not match.  Try again.");
    }
    Err(Failure::status1("Passphrases do not match."))
}

/// Loads a private key as `ssh-keygen` does: without a passphrase first, then with `-P` or
/// one asked for with `prompt`.
pub(crate) fn load_private(
    path: &Path,
    given: Option<&str>,
    prompt: &str,
) -> Result<LoadedKey, Failure> {
    let shown = path.display();
    let err = |e: KeyFileError| match e {
        KeyFileError::BadPassphrase => Failure::new(format!(
            "Load key \"{shown}\": incorrect passphrase supplied to decrypt private key"
        )),
        KeyFileError::Io(io) => Failure::new(format!("{shown}: {io}")),
        other => Failure::new(format!("Load key \"{shown}\": {other}")),
    };
    match load_key_file(path, None) {
        Ok(k) => Ok(k),
        Err(e) if matches!(e.error, KeyFileError::Encrypted) => {
            let pass = match given {
                Some(p) => Zeroizing::new(p.to_string()),
                None => ask(prompt)?,
            };
            load_key_file(path, Some(pass.as_bytes())).map_err(|e| err(e.error))
        }
        Err(e) => Err(err(e.error)),
    }
}

/// `~/.ssh/NAME`.
pub(crate) fn default_key_path(name: &str) -> PathBuf {
    std::env::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".ssh")
        .join(name)
}

/// `-f`, or a path asked for with `prompt` (`ssh-keygen`'s "Enter file in which …"), the
/// default `~/.ssh/<default_name>` when the answer is empty.
pub(crate) fn file_or_ask(
    opts: &Opts,
    prompt: &str,
    default_name: &str,
) -> Result<PathBuf, Failure> {
    if let Some(f) = opts.file() {
        return Ok(f);
    }
    let default = default_key_path(default_name);
    let answer = read_stdin_line(&format!("{prompt} ({}): ", default.display()))?;
    Ok(if answer.is_empty() {
        default
    } else {
        PathBuf::from(answer.as_str())
    })
}

/// `path.pub`.
pub(crate) fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_cluster_and_take_values_like_ssh_keygen() {
        let o = parse(&args(&["-lvE", "md5", "-f", "k.pub"])).unwrap();
        assert!(o.has('l') && o.has('v'));
        assert_eq!(o.hash().unwrap(), FingerprintHash::Md5);
        assert_eq!(o.file().as_deref(), Some(Path::new("k.pub")));
        let o = parse(&args(&["-l", "-fk.pub", "-Esha256"])).unwrap();
        assert_eq!(o.file().as_deref(), Some(Path::new("k.pub")));
        assert!(parse(&args(&["-E", "sha1"])).unwrap().hash().is_err());
        assert!(parse(&args(&["-x"])).is_err());
        assert!(parse(&args(&["-f"])).is_err());
        // Empty values and repeated options, as getopt.
        let o = parse(&args(&[
            "-qN", "", "-O", "a", "-Ob", "-t", "rsa", "--", "x",
        ]))
        .unwrap();
        assert_eq!(o.value('N'), Some(""));
        assert_eq!(o.values('O').collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(o.operands(), ["x"]);
        assert!(o.quiet());
    }
}
