//! `seashell add`: `ssh-add` for any agent speaking the protocol (OpenSSH's `ssh-agent` or
//! `seashell agent`), at `SSH_AUTH_SOCK`.
//!
//! ```text
//! seashell add [-cDdLlqXx] [-t life] [file ...]
//! ```
//!
//! Without files it adds the default identities (`~/.ssh/id_ed25519`, `id_ecdsa`,
//! `id_rsa`) that exist. Exit status: 0 on success, 1 on failure, 2 if no agent can be
//! reached, as `ssh-add`.

use crate::askpass;
use crate::log::Log;
use crate::units::parse_time;
use seashell_adapter::AgentConnection;
use seashell_agent::message::Constraint;
use seashell_agent::{KeyBlob, Reply, Request};
use seashell_keys::agent_blob::load_agent_key;
use seashell_keys::openssh::format_public_key_line;
use seashell_keys::{KeyFileError, fingerprint, key_bits, key_label, parse_public_key_line};
use seashell_proto::PublicKey;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

const USAGE: &str = "usage: seashell add [-cDdLlqXx] [-t life] [file ...]";

/// The identities added when no file is named, in `ssh-add`'s order.
const DEFAULT_IDENTITIES: [&str; 3] = ["id_rsa", "id_ecdsa", "id_ed25519"];

#[derive(Debug, Default, PartialEq, Eq)]
enum Action {
    #[default]
    Add,
    List,
    ListPublic,
    Delete,
    DeleteAll,
    Lock,
    Unlock,
}

#[derive(Debug, Default)]
struct Args {
    action: Action,
    confirm: bool,
    quiet: bool,
    life: Option<u32>,
    files: Vec<PathBuf>,
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut i = 0;
    let set = |a: &mut Args, act: Action| a.action = act;
    while let Some(arg) = argv.get(i) {
        i += 1;
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            a.files.push(PathBuf::from(arg));
            continue;
        };
        for (pos, c) in flags.char_indices() {
            match c {
                'l' => set(&mut a, Action::List),
                'L' => set(&mut a, Action::ListPublic),
                'd' => set(&mut a, Action::Delete),
                'D' => set(&mut a, Action::DeleteAll),
                'x' => set(&mut a, Action::Lock),
                'X' => set(&mut a, Action::Unlock),
                'c' => a.confirm = true,
                'q' => a.quiet = true,
                't' => {
                    let rest = flags.get(pos + 1..).unwrap_or_default();
                    let value = if rest.is_empty() {
                        i += 1;
                        argv.get(i - 1)
                            .cloned()
                            .ok_or_else(|| "option requires an argument -- t".to_owned())?
                    } else {
                        rest.to_owned()
                    };
                    let secs = parse_time(&value)
                        .and_then(|d| u32::try_from(d.as_secs()).ok())
                        .ok_or_else(|| format!("Invalid lifetime {value}"))?;
                    a.life = Some(secs);
                    break;
                }
                _ => return Err(format!("unknown option -- {c}")),
            }
        }
    }
    Ok(a)
}

/// Runs `seashell add`.
pub fn main(argv: &[String]) -> ExitCode {
    let args = match parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("seashell add: {e}\n{USAGE}");
            return ExitCode::from(1);
        }
    };
    let Some(sock) = std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty()) else {
        eprintln!("Could not open a connection to your authentication agent.");
        return ExitCode::from(2);
    };
    let mut agent = match AgentConnection::connect(Path::new(&sock)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("Error connecting to agent: {e}");
            return ExitCode::from(2);
        }
    };
    let ok = match args.action {
        Action::List | Action::ListPublic => list(&mut agent, args.action == Action::List),
        Action::DeleteAll => status(
            &mut agent,
            &Request::RemoveAll,
            "All identities removed.",
            "Failed to remove all identities.",
            args.quiet,
        ),
        Action::Lock | Action::Unlock => lock(&mut agent, args.action == Action::Lock),
        Action::Delete => files(&args)
            .iter()
            .map(|f| delete(&mut agent, f, args.quiet))
            .collect::<Vec<_>>()
            .iter()
            .all(|ok| *ok),
        Action::Add => {
            let list = files(&args);
            if list.is_empty() {
                eprintln!("No identities found.");
                false
            } else {
                list.iter()
                    .map(|f| add(&mut agent, f, &args))
                    .collect::<Vec<_>>()
                    .iter()
                    .all(|ok| *ok)
            }
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The files named, or the default identities that exist.
fn files(args: &Args) -> Vec<PathBuf> {
    if !args.files.is_empty() {
        return args.files.clone();
    }
    let home = std::env::home_dir().unwrap_or_default();
    DEFAULT_IDENTITIES
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .filter(|p| p.exists())
        .collect()
}

fn list(agent: &mut AgentConnection, fingerprints: bool) -> bool {
    let ids = match agent.call(&Request::RequestIdentities) {
        Ok(Reply::Identities(ids)) => ids,
        _ => {
            eprintln!("error fetching identities");
            return false;
        }
    };
    if ids.is_empty() {
        println!("The agent has no identities.");
        return false;
    }
    for id in ids {
        let Ok(key) = PublicKey::from_blob(&id.key) else {
            continue;
        };
        if fingerprints {
            println!(
                "{} {} {} ({})",
                key_bits(&key),
                fingerprint(&key, Default::default()),
                id.comment,
                key_label(&key)
            );
        } else {
            println!("{}", format_public_key_line(&key, &id.comment));
        }
    }
    true
}

fn status(agent: &mut AgentConnection, req: &Request, yes: &str, no: &str, quiet: bool) -> bool {
    match agent.call(req) {
        Ok(Reply::Success) => {
            if !quiet {
                eprintln!("{yes}");
            }
            true
        }
        _ => {
            eprintln!("{no}");
            false
        }
    }
}

fn lock(agent: &mut AgentConnection, lock: bool) -> bool {
    let log = Log::global();
    let Some(pass) = askpass::read_password("Enter lock password: ", log) else {
        return false;
    };
    if lock {
        let Some(again) = askpass::read_password("Again: ", log) else {
            return false;
        };
        if *again != *pass {
            eprintln!("Passwords do not match.");
            return false;
        }
    }
    let bytes = Zeroizing::new(pass.as_bytes().to_vec());
    let (req, yes, no) = if lock {
        (
            Request::Lock(bytes),
            "Agent locked.",
            "Failed to lock agent.",
        )
    } else {
        (
            Request::Unlock(bytes),
            "Agent unlocked.",
            "Failed to unlock agent.",
        )
    };
    status(agent, &req, yes, no, false)
}

/// The public key of a key file: its `.pub` beside it, or the file itself as a public key
/// line, or the (unencrypted) private key.
fn public_of(path: &Path) -> Option<PublicKey> {
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    for p in [PathBuf::from(pub_path), path.to_owned()] {
        if let Ok(text) = std::fs::read_to_string(&p)
            && let Some(line) = text.lines().next()
            && let Ok((key, _)) = parse_public_key_line(line)
        {
            return Some(key);
        }
    }
    seashell_keys::load_private_key(path)
        .ok()
        .map(|k| k.public_key())
}

fn delete(agent: &mut AgentConnection, path: &Path, quiet: bool) -> bool {
    let Some(key) = public_of(path) else {
        eprintln!("Bad key file {}", path.display());
        return false;
    };
    status(
        agent,
        &Request::Remove(key.to_blob()),
        &format!("Identity removed: {}", path.display()),
        &format!(
            "Could not remove identity \"{}\": agent refused operation",
            path.display()
        ),
        quiet,
    )
}

/// Reads a key file, asking for its passphrase if it is encrypted (up to three times, an
/// empty answer gives up).
fn read_key(path: &Path) -> Result<seashell_keys::agent_blob::AgentKey, KeyFileError> {
    let mut err = match load_agent_key(path, None) {
        Err(KeyFileError::Encrypted) => KeyFileError::Encrypted,
        other => return other,
    };
    let prompt = format!("Enter passphrase for {}: ", path.display());
    for _ in 0..3 {
        let Some(pass) = askpass::read_password(&prompt, Log::global()) else {
            break;
        };
        if pass.is_empty() {
            break;
        }
        match load_agent_key(path, Some(pass.as_bytes())) {
            Err(KeyFileError::BadPassphrase) => {
                eprintln!("Bad passphrase, try again for {}: ", path.display());
                err = KeyFileError::BadPassphrase;
            }
            other => return other,
        }
    }
    Err(err)
}

fn add(agent: &mut AgentConnection, path: &Path, args: &Args) -> bool {
    let key = match read_key(path) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("Error loading key \"{}\": {e}", path.display());
            return false;
        }
    };
    let blob = match KeyBlob::from_bytes(&key.blob) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("Error loading key \"{}\": {e}", path.display());
            return false;
        }
    };
    let mut constraints = Vec::new();
    if let Some(life) = args.life {
        constraints.push(Constraint::Lifetime(life));
    }
    if args.confirm {
        constraints.push(Constraint::Confirm);
    }
    let comment = if key.comment.is_empty() {
        path.display().to_string()
    } else {
        key.comment.clone()
    };
    let req = Request::Add {
        key: blob,
        comment: comment.clone(),
        constraints,
    };
    match agent.call(&req) {
        Ok(Reply::Success) => {
            if !args.quiet {
                eprintln!("Identity added: {} ({comment})", path.display());
                if let Some(life) = args.life {
                    eprintln!("Lifetime set to {life} seconds");
                }
                if args.confirm {
                    eprintln!("The user must confirm each use of the key");
                }
            }
            true
        }
        _ => {
            let why = if args.confirm {
                " (the agent may not support confirmation)"
            } else {
                ""
            };
            eprintln!(
                "Could not add identity \"{}\": agent refused operation{why}",
                path.display()
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Args, String> {
        parse(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn options_as_ssh_add() {
        assert_eq!(args(&["-l"]).unwrap().action, Action::List);
        assert_eq!(args(&["-L"]).unwrap().action, Action::ListPublic);
        assert_eq!(args(&["-D"]).unwrap().action, Action::DeleteAll);
        let a = args(&["-c", "-t", "5m", "k1", "k2"]).unwrap();
        assert!(a.confirm);
        assert_eq!(a.life, Some(300));
        assert_eq!(a.files, [PathBuf::from("k1"), PathBuf::from("k2")]);
        let d = args(&["-qd", "k"]).unwrap();
        assert!(d.quiet);
        assert_eq!(d.action, Action::Delete);
        assert_eq!(args(&["-t60"]).unwrap().life, Some(60));
        assert!(args(&["-t", "x"]).is_err());
        assert!(args(&["-Z"]).is_err());
    }
}
