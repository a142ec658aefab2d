//! `seashell keygen` certificate and known_hosts operations, as `ssh-keygen`:
//!
//! ```text
//! seashell keygen -s ca_key -I key_id [-h] [-n principals] [-V validity] [-z serial]
//!                 [-O option]... file.pub...                 sign: writes file-cert.pub
//! seashell keygen -L -f cert_file                               show a certificate
//! seashell keygen -F host [-f known_hosts]                      find a host
//! seashell keygen -R host [-f known_hosts]                      remove a host
//! seashell keygen -H [-f known_hosts]                           hash host names
//! ```

use crate::keygen::Opts;
use seashell_keys::certificate::{describe_certificate, format_validity, parse_validity};
use seashell_keys::known_hosts_edit::{find_host_lines, hash_known_hosts, remove_host_lines};
use seashell_keys::openssh::format_public_key_line;
use seashell_keys::{CertFields, CertType, Certificate, PublicKey, parse_public_key_line};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The usage of these operations.
pub const USAGE: &str = "usage: seashell keygen -s ca_key -I certificate_identity [-h] [-n principals]\n\
    \x20                      [-O option] [-V validity_interval] [-z serial_number] file ...\n\
    \x20      seashell keygen -L [-f input_keyfile]\n\
    \x20      seashell keygen -F hostname [-f known_hosts_file]\n\
    \x20      seashell keygen -R hostname [-f known_hosts_file]\n\
    \x20      seashell keygen -H [-f known_hosts_file]";

/// The parsed command line.
#[derive(Debug, Default, PartialEq, Eq)]
struct CertArgs {
    ca: Option<PathBuf>,
    identity: Option<String>,
    host: bool,
    principals: Option<String>,
    validity: Option<String>,
    serial: Option<u64>,
    options: Vec<String>,
    show: bool,
    find: Option<String>,
    remove: Option<String>,
    hash: bool,
    file: Option<PathBuf>,
    files: Vec<PathBuf>,
}

/// Whether `opts` ask for one of these operations (`-s`, `-L`, `-F`, `-R`, `-H`).
pub fn wanted(opts: &Opts) -> bool {
    "sLFRH".chars().any(|c| opts.has(c))
}

/// Runs the operation `opts` ask for ([`wanted`]).
pub fn main(opts: &Opts) -> ExitCode {
    match from_opts(opts).and_then(|a| run(&a)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(255)
        }
    }
}

/// The operation's settings from the command line `keygen::parse` read.
fn from_opts(o: &Opts) -> Result<CertArgs, String> {
    let serial = match o.value('z') {
        Some(v) => Some(
            v.parse()
                .map_err(|_| format!("Invalid serial number \"{v}\""))?,
        ),
        None => None,
    };
    Ok(CertArgs {
        ca: o.value('s').map(PathBuf::from),
        identity: o.value('I').map(str::to_owned),
        host: o.has('h'),
        principals: o.value('n').map(str::to_owned),
        validity: o.value('V').map(str::to_owned),
        serial,
        options: o.values('O').map(str::to_owned).collect(),
        show: o.has('L'),
        find: o.value('F').map(str::to_owned),
        remove: o.value('R').map(str::to_owned),
        hash: o.has('H'),
        file: o.value('f').map(PathBuf::from),
        files: o.operands().iter().map(PathBuf::from).collect(),
    })
}

fn run(a: &CertArgs) -> Result<ExitCode, String> {
    if let Some(ca) = &a.ca {
        return sign_all(a, ca);
    }
    if a.show {
        let file = a.file.as_deref().ok_or_else(|| USAGE.to_owned())?;
        let cert = seashell_keys::load_certificate(file)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        print!(
            "{}",
            describe_certificate(&cert, &file.display().to_string())
        );
        return Ok(ExitCode::SUCCESS);
    }
    let file = match &a.file {
        Some(f) => f.clone(),
        None => std::env::home_dir()
            .unwrap_or_default()
            .join(".ssh")
            .join("known_hosts"),
    };
    if let Some(host) = &a.find {
        return find(&file, host);
    }
    if let Some(host) = &a.remove {
        return remove(&file, host);
    }
    if a.hash {
        return hash(&file);
    }
    Err(USAGE.to_owned())
}

/// Splits `host` or `[host]:port`.
fn host_port(spec: &str) -> (String, u16) {
    if let Some(inner) = spec.strip_prefix('[')
        && let Some((h, p)) = inner.split_once("]:")
        && let Ok(port) = p.parse::<u16>()
    {
        return (h.to_owned(), port);
    }
    (spec.to_owned(), 22)
}

fn find(file: &Path, spec: &str) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (host, port) = host_port(spec);
    let lines = find_host_lines(&text, &host, port);
    for (n, line) in &lines {
        println!("# Host {spec} found: line {n}");
        println!("{line}");
    }
    Ok(if lines.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Replaces `file` with `text`, keeping the original as `file.old`.
fn replace(file: &Path, text: &str) -> Result<(), String> {
    let mut old = file.as_os_str().to_owned();
    old.push(".old");
    let old = PathBuf::from(old);
    let err = |e: std::io::Error| format!("{}: {e}", file.display());
    std::fs::copy(file, &old).map_err(err)?;
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, file).map_err(err)?;
    println!("{} updated.", file.display());
    println!("Original contents retained as {}", old.display());
    Ok(())
}

fn remove(file: &Path, spec: &str) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (host, port) = host_port(spec);
    for (n, _) in find_host_lines(&text, &host, port) {
        println!("# Host {spec} found: line {n}");
    }
    let (new, removed) = remove_host_lines(&text, &host, port);
    if removed == 0 {
        eprintln!("Host {spec} not found in {}", file.display());
        return Ok(ExitCode::SUCCESS);
    }
    replace(file, &new)?;
    Ok(ExitCode::SUCCESS)
}

fn hash(file: &Path) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (new, hashed) = hash_known_hosts(&text).map_err(|e| e.to_string())?;
    if hashed > 0 {
        replace(file, &new)?;
        let mut old = file.as_os_str().to_owned();
        old.push(".old");
        println!(
            "WARNING: {} contains unhashed entries",
            Path::new(&old).display()
        );
        println!("Delete this file to ensure privacy of hostnames");
    }
    Ok(ExitCode::SUCCESS)
}

/// The signature algorithm a CA key signs certificates with (ssh-keygen's defaults:
/// `rsa-sha2-512` for RSA).
fn ca_algorithm(ca: &PublicKey) -> &'static str {
    ca.signature_algorithms()
        .first()
        .copied()
        .unwrap_or_default()
}

/// Applies one `-O` option to the certificate fields.
fn apply_option(f: &mut CertFields, opt: &str) -> Result<(), String> {
    let bad = || format!("Unsupported certificate option \"{opt}\"");
    let lower = opt.to_ascii_lowercase();
    let flag_ext = |name: &str| -> Option<&'static str> {
        Some(match name {
            "x11-forwarding" => "permit-X11-forwarding",
            "agent-forwarding" => "permit-agent-forwarding",
            "port-forwarding" => "permit-port-forwarding",
            "pty" => "permit-pty",
            "user-rc" => "permit-user-rc",
            _ => return None,
        })
    };
    if lower == "clear" {
        f.critical_options.clear();
        f.extensions.clear();
    } else if let Some(name) = lower.strip_prefix("no-").and_then(flag_ext) {
        f.clear_extension(name);
    } else if let Some(name) = lower.strip_prefix("permit-").and_then(flag_ext) {
        f.set_extension(name);
    } else if lower == "no-touch-required" {
        f.set_extension("no-touch-required");
    } else if lower == "verify-required" {
        set_critical_flag(f, "verify-required");
    } else if let Some(v) = opt.strip_prefix("force-command=") {
        f.set_critical_string("force-command", v);
    } else if let Some(v) = opt.strip_prefix("source-address=") {
        let ok = v.split(',').all(|e| {
            seashell_proto::keys::cert_check::cidr_contains(e, [0u8, 0, 0, 0].into()).is_some()
        });
        if !ok {
            return Err(format!("Invalid source-address list \"{v}\""));
        }
        f.set_critical_string("source-address", v);
    } else if let Some(rest) = opt.strip_prefix("critical:") {
        match rest.split_once('=') {
            Some((n, v)) => f.set_critical_string(n, v),
            None => set_critical_flag(f, rest),
        }
    } else if let Some(rest) = opt.strip_prefix("extension:") {
        match rest.split_once('=') {
            Some((n, v)) => {
                let mut data = Vec::new();
                seashell_proto::wire::put_string(&mut data, v.as_bytes());
                f.clear_extension(n);
                f.extensions.push((n.to_owned(), data));
                f.extensions.sort();
            }
            None => f.set_extension(rest),
        }
    } else {
        return Err(bad());
    }
    Ok(())
}

/// Sets a critical option with empty data.
fn set_critical_flag(f: &mut CertFields, name: &str) {
    f.critical_options.retain(|(n, _)| n != name);
    f.critical_options.push((name.to_owned(), Vec::new()));
    f.critical_options.sort();
}

fn sign_all(a: &CertArgs, ca_path: &Path) -> Result<ExitCode, String> {
    let identity = a
        .identity
        .clone()
        .ok_or_else(|| format!("Must specify key id (-I) when certifying\n{USAGE}"))?;
    if a.files.is_empty() {
        return Err(USAGE.to_owned());
    }
    let ca = seashell_keys::load_private_key(ca_path)
        .map_err(|e| format!("Load CA key \"{}\": {e}", ca_path.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (after, before) = match &a.validity {
        Some(v) => parse_validity(v, now).map_err(|e| e.to_string())?,
        None => (0, u64::MAX),
    };
    let principals: Vec<String> = a
        .principals
        .as_deref()
        .map(|p| p.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    for file in &a.files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let (key, comment) = parse_public_key_line(text.lines().next().unwrap_or_default())
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let nonce = Certificate::random_nonce().map_err(|e| e.to_string())?;
        let mut fields = CertFields {
            nonce,
            key: key.plain().clone(),
            serial: a.serial.unwrap_or(0),
            cert_type: if a.host {
                CertType::Host
            } else {
                CertType::User
            },
            key_id: identity.clone(),
            principals: principals.clone(),
            valid_after: after,
            valid_before: before,
            critical_options: Vec::new(),
            extensions: Vec::new(),
        };
        if !a.host {
            for e in CertFields::DEFAULT_USER_EXTENSIONS {
                fields.set_extension(e);
            }
            for o in &a.options {
                apply_option(&mut fields, o)?;
            }
        } else if !a.options.is_empty() {
            return Err("Options are not supported for host certificates".into());
        }
        let cert = Certificate::issue(&fields, &ca, ca_algorithm(&ca.public_key()))
            .map_err(|e| format!("Couldn't certify key {}: {e}", file.display()))?;
        let out = cert_path(file);
        let line = format_public_key_line(&PublicKey::Certificate(Box::new(cert)), &comment);
        std::fs::write(&out, line + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
        let names = if principals.is_empty() {
            String::new()
        } else {
            format!(" for {}", principals.join(","))
        };
        eprintln!(
            "Signed {} key {}: id \"{identity}\" serial {}{names} valid {}",
            fields.cert_type.name(),
            out.display(),
            fields.serial,
            format_validity(after, before)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `key.pub` → `key-cert.pub` (any other name gets `-cert.pub` appended).
fn cert_path(public: &Path) -> PathBuf {
    let s = public.to_string_lossy();
    let base = s.strip_suffix(".pub").unwrap_or(&s);
    PathBuf::from(format!("{base}-cert.pub"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_signing_flags() {
        let opts = crate::keygen::parse(&args(&[
            "-s", "ca", "-I", "id", "-hn", "a,b", "-V+1d", "-O", "no-pty", "-z", "9", "k.pub",
        ]))
        .unwrap();
        assert!(wanted(&opts));
        let a = from_opts(&opts).unwrap();
        assert_eq!(a.ca, Some(PathBuf::from("ca")));
        assert!(a.host);
        assert_eq!(a.principals.as_deref(), Some("a,b"));
        assert_eq!(a.validity.as_deref(), Some("+1d"));
        assert_eq!(a.serial, Some(9));
        assert_eq!(a.files, [PathBuf::from("k.pub")]);
        assert_eq!(a.options, ["no-pty"]);
        assert!(!wanted(
            &crate::keygen::parse(&args(&["-l", "-f", "x"])).unwrap()
        ));
        assert_eq!(
            cert_path(Path::new("/a/id.pub")),
            PathBuf::from("/a/id-cert.pub")
        );
        assert_eq!(host_port("[h]:2222"), ("h".into(), 2222));
        assert_eq!(host_port("h"), ("h".into(), 22));
    }

    #[test]
    fn certificate_options() {
        let mut f = CertFields {
            nonce: Vec::new(),
            key: seashell_proto::PrivateKey::ed25519_from_seed(&[1; 32])
                .unwrap()
                .public_key(),
            serial: 0,
            cert_type: CertType::User,
            key_id: String::new(),
            principals: Vec::new(),
            valid_after: 0,
            valid_before: u64::MAX,
            critical_options: Vec::new(),
            extensions: Vec::new(),
        };
        for e in CertFields::DEFAULT_USER_EXTENSIONS {
            f.set_extension(e);
        }
        apply_option(&mut f, "no-pty").unwrap();
        apply_option(&mut f, "force-command=ls -l").unwrap();
        apply_option(&mut f, "source-address=10.0.0.0/8").unwrap();
        apply_option(&mut f, "verify-required").unwrap();
        assert!(!f.has_extension("permit-pty"));
        assert_eq!(f.critical_string("force-command").as_deref(), Some("ls -l"));
        assert!(apply_option(&mut f, "source-address=nonsense").is_err());
        assert!(apply_option(&mut f, "bogus").is_err());
        apply_option(&mut f, "clear").unwrap();
        assert!(f.extensions.is_empty() && f.critical_options.is_empty());
        apply_option(&mut f, "permit-pty").unwrap();
        assert!(f.has_extension("permit-pty"));
    }
}
