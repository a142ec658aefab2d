//! `seashell keygen`: ssh-keygen's key-file operations. So far `-l` (fingerprints of a public
//! key file, an `authorized_keys`-style list, or a private key's `.pub`), with `-v`
//! (randomart) and `-E sha256|md5`, printed as `ssh-keygen` prints them.

use seashell_keys::{FingerprintHash, fingerprint, key_bits, key_label, parse_public_key_line};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The usage line, as `ssh-keygen` prints its own.
const USAGE: &str = "usage: seashell keygen -l [-v] [-E fingerprint_hash] -f input_keyfile";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct KeygenArgs {
    list: bool,
    visual: bool,
    hash: FingerprintHash,
    file: Option<PathBuf>,
}

/// Parses ssh-keygen-style flags (clustered short flags, values attached or separate).
fn parse(args: &[String]) -> Result<KeygenArgs, String> {
    let mut a = KeygenArgs::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Err(format!("unexpected argument \"{arg}\"\n{USAGE}"));
        };
        for (at, c) in flags.char_indices() {
            match c {
                'l' => a.list = true,
                'v' => a.visual = true,
                'E' | 'f' => {
                    let rest = flags.get(at + 1..).unwrap_or_default();
                    let value = if rest.is_empty() {
                        i += 1;
                        args.get(i - 1)
                            .cloned()
                            .ok_or_else(|| format!("option -{c} needs a value\n{USAGE}"))?
                    } else {
                        rest.to_owned()
                    };
                    if c == 'E' {
                        a.hash = FingerprintHash::parse(&value)
                            .ok_or_else(|| format!("Invalid hash algorithm \"{value}\""))?;
                    } else {
                        a.file = Some(PathBuf::from(value));
                    }
                    break;
                }
                _ => return Err(format!("unknown option -- {c}\n{USAGE}")),
            }
        }
    }
    Ok(a)
}

/// Runs `seashell keygen ARGS`.
pub fn main(args: &[String]) -> ExitCode {
    if let Some(code) = crate::keygen_cert::main(args) {
        return code;
    }
    let a = match parse(args) {
        Ok(a) if a.list => a,
        Ok(_) => {
            eprintln!("{USAGE}");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let Some(file) = a.file.as_deref() else {
        eprintln!("{USAGE}");
        return ExitCode::from(1);
    };
    match list(file, a.hash, a.visual) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(255)
        }
    }
}

/// The fingerprint lines (and pictures) of every key in `file`, or in its `.pub` when `file`
/// is a private key.
fn list(file: &Path, hash: FingerprintHash, visual: bool) -> Result<String, String> {
    let text = read_public(file)?;
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, comment) = parse_public_key_line(line)
            .map_err(|e| format!("{}:{}: {e}", file.display(), n + 1))?;
        let comment = if comment.is_empty() {
            "no comment"
        } else {
            comment.as_str()
        };
        out.push_str(&format!(
            "{} {} {comment} ({})\n",
            key_bits(&key),
            fingerprint(&key, hash),
            key_label(&key)
        ));
        if visual {
            out.push_str(&seashell_keys::randomart(&key, hash));
            out.push('\n');
        }
    }
    if out.is_empty() {
        return Err(format!("{} is not a public key file.", file.display()));
    }
    Ok(out)
}

/// The public key text of `file`: itself, or `file.pub` next to a private key.
fn read_public(file: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if !text.contains("PRIVATE KEY-----") {
        return Ok(text);
    }
    let mut public = file.as_os_str().to_owned();
    public.push(".pub");
    std::fs::read_to_string(&public)
        .map_err(|_| format!("{} is a private key without its .pub file", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_cluster_and_take_values_like_ssh_keygen() {
        let a = parse(&args(&["-lvE", "md5", "-f", "k.pub"])).unwrap();
        assert!(a.list && a.visual);
        assert_eq!(a.hash, FingerprintHash::Md5);
        assert_eq!(a.file.as_deref(), Some(Path::new("k.pub")));
        let a = parse(&args(&["-l", "-fk.pub", "-Esha256"])).unwrap();
        assert_eq!(a.file.as_deref(), Some(Path::new("k.pub")));
        assert!(parse(&args(&["-E", "sha1"])).is_err());
        assert!(parse(&args(&["-x"])).is_err());
        assert!(parse(&args(&["-f"])).is_err());
    }
}
