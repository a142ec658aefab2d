//! `seashell keygen` against `ssh-keygen`: the same fingerprint lines and randomart for every
//! key type, for a public key file, a private key (through its `.pub`) and a multi-key list;
//! `-y`, `-e`, `-i` and `-p` round trips both ways; generation output; and keys we generate
//! and write (OpenSSH, PEM, PKCS#8) logging in to a private sshd.

use seashell_conformance::process::{run_limited, text};
use seashell_conformance::{SshdOptions, in_ci, seashell_bin, start_sshd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn run(program: &Path, args: &[&str], file: &Path) -> String {
    let out = Command::new(program).args(args).arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "{program:?} {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn fingerprint_listing_equals_ssh_keygen() {
    let Some(keygen) = seashell_testkit::find_program("ssh-keygen") else {
        assert!(!in_ci(), "ssh-keygen is required in CI");
        eprintln!("skipped: ssh-keygen is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut all = String::new();
    for (name, t, bits) in [
        ("ed", "ed25519", ""),
        ("ec", "ecdsa", "384"),
        ("rsa", "rsa", "2048"),
    ] {
        let path = dir.path().join(name);
        let mut cmd = Command::new(&keygen);
        cmd.args(["-q", "-N", "", "-C", &format!("{name}@test"), "-t", t]);
        if !bits.is_empty() {
            cmd.args(["-b", bits]);
        }
        assert!(cmd.arg("-f").arg(&path).status().unwrap().success());
        let public = path.with_extension("pub");
        all.push_str(&std::fs::read_to_string(&public).unwrap());
        for args in [
            &["-l", "-f"][..],
            &["-lv", "-E", "md5", "-f"],
            &["-l", "-E", "sha256", "-v", "-f"],
        ] {
            for file in [&public, &path] {
                assert_eq!(
                    run(seashell_bin(), &[&["keygen"][..], args].concat(), file),
                    run(&keygen, args, file),
                    "{name} {args:?} {}",
                    file.display()
                );
            }
        }
    }
    // A list of keys (authorized_keys without options): one line each.
    let list = dir.path().join("list");
    std::fs::write(&list, format!("# keys\n{all}")).unwrap();
    let ours = run(seashell_bin(), &["keygen", "-l", "-f"], &list);
    assert_eq!(ours, run(&keygen, &["-l", "-f"], &list));
    assert_eq!(ours.lines().count(), 3);
}

/// `ssh-keygen`, or `None` after a skip note (a failure in CI).
fn ssh_keygen() -> Option<PathBuf> {
    let found = seashell_testkit::find_program("ssh-keygen");
    if found.is_none() {
        assert!(!in_ci(), "ssh-keygen is required in CI");
        eprintln!("skipped: ssh-keygen is not installed");
    }
    found
}

/// Runs `program args`, asserts success, returns stdout.
fn run_args(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program:?} {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `seashell keygen args`.
fn ours(args: &[&str]) -> String {
    run_args(seashell_bin(), &[&["keygen"][..], args].concat())
}

/// The `type base64` part of a public key line.
fn key_part(line: &str) -> String {
    line.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn generation_output_and_keys_match_ssh_keygen() {
    let Some(keygen) = ssh_keygen() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (t, bits) in [
        ("ed25519", ""),
        ("ecdsa", "256"),
        ("ecdsa", "384"),
        ("ecdsa", "521"),
        ("rsa", "2048"),
    ] {
        let path = dir.path().join(format!("id_{t}{bits}"));
        let mut args = vec!["-t", t, "-N", "", "-C", "gen@seashell", "-f", s(&path)];
        if !bits.is_empty() {
            args.extend(["-b", bits]);
        }
        let out = ours(&args);
        let public = std::fs::read_to_string(format!("{}.pub", path.display())).unwrap();
        // The announcement, as ssh-keygen's, with its fingerprint and randomart.
        let listing = run_args(&keygen, &["-lv", "-f", s(&path)]);
        let mut listing_lines = listing.lines();
        let first = listing_lines.next().unwrap();
        let fp = first.split_whitespace().nth(1).unwrap();
        let art: Vec<&str> = listing_lines.collect();
        let expected = format!(
            "Generating public/private {t} key pair.\nYour identification has been saved in \
             {p}\nYour public key has been saved in {p}.pub\nThe key fingerprint is:\n{fp} \
             gen@seashell\nThe key's randomart image is:\n{}\n",
            art.join("\n"),
            p = path.display()
        );
        assert_eq!(out, expected, "{t}{bits}");
        // ssh-keygen reads the private key and derives the same public key.
        let derived = run_args(&keygen, &["-y", "-f", s(&path)]);
        assert_eq!(key_part(&derived), key_part(&public), "{t}{bits}");
        assert!(public.trim_end().ends_with(" gen@seashell"));
        // -q prints nothing; an existing file is not replaced without a yes.
        assert_eq!(
            ours(&[
                "-q",
                "-t",
                t,
                "-N",
                "",
                "-f",
                s(&dir.path().join(format!("q{t}{bits}")))
            ]),
            ""
        );
        let again = Command::new(seashell_bin())
            .args(["keygen", "-q", "-t", t, "-N", "", "-f", s(&path)])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(1));
        assert_eq!(
            std::fs::read_to_string(format!("{}.pub", path.display())).unwrap(),
            public
        );
    }
    // Bad sizes and types are refused with ssh-keygen's words.
    let bad = Command::new(seashell_bin())
        .args(["keygen", "-t", "ecdsa", "-b", "300", "-N", "", "-f"])
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(255));
    assert!(text(&bad.stderr).contains("Invalid ECDSA key length"));
}

#[test]
fn y_e_i_p_round_trip_with_ssh_keygen() {
    let Some(keygen) = ssh_keygen() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, t, bits) in [
        ("ed", "ed25519", ""),
        ("ec", "ecdsa", "384"),
        ("rsa", "rsa", "2048"),
    ] {
        // A key made by ssh-keygen, protected by a passphrase (-a 4 throughout: fewer bcrypt
        // rounds than the default 16 keep the test quick).
        let theirs = dir.path().join(format!("theirs_{name}"));
        let mut args = vec![
            "-q",
            "-a",
            "4",
            "-t",
            t,
            "-N",
            "old pass",
            "-C",
            "them@x",
            "-f",
            s(&theirs),
        ];
        if !bits.is_empty() {
            args.extend(["-b", bits]);
        }
        run_args(&keygen, &args);
        let pub_file = format!("{}.pub", theirs.display());
        let public = std::fs::read_to_string(&pub_file).unwrap();
        // -y: the same line (with the comment) as ssh-keygen's.
        assert_eq!(
            ours(&["-y", "-P", "old pass", "-f", s(&theirs)]),
            run_args(&keygen, &["-y", "-P", "old pass", "-f", s(&theirs)]),
            "-y {name}"
        );
        // -e: byte for byte as ssh-keygen, every format it writes for this type; -i both ways.
        let modes: &[&str] = if t == "ed25519" {
            &["RFC4716"]
        } else {
            &["RFC4716", "PKCS8", "PEM"]
        };
        for mode in modes {
            let exported = ours(&["-e", "-m", mode, "-f", &pub_file]);
            assert_eq!(
                exported,
                run_args(&keygen, &["-e", "-m", mode, "-f", &pub_file]),
                "-e -m {mode} {name}"
            );
            let file = dir.path().join(format!("{name}.{mode}"));
            std::fs::write(&file, &exported).unwrap();
            // ssh-keygen -i -m PEM reads only RSA; it writes other keys as PKCS8.
            let import_mode = if *mode == "PEM" && t != "rsa" {
                "PKCS8"
            } else {
                mode
            };
            let imported = run_args(&keygen, &["-i", "-m", import_mode, "-f", s(&file)]);
            assert_eq!(
                key_part(&imported),
                key_part(&public),
                "ssh-keygen -i {mode} {name}"
            );
            assert_eq!(
                ours(&["-i", "-m", import_mode, "-f", s(&file)]),
                imported,
                "-i {mode} {name}"
            );
        }
        // -p: we re-encrypt ssh-keygen's key (in each format); ssh-keygen reads it; and back.
        // (Ed25519 keys stay in OpenSSH's format whatever -m says, as with ssh-keygen.)
        for format in ["", "PEM", "PKCS8"] {
            let copy = dir.path().join(format!("copy_{name}_{format}"));
            std::fs::copy(&theirs, &copy).unwrap();
            let mut args = vec![
                "-p",
                "-a",
                "4",
                "-P",
                "old pass",
                "-N",
                "new pass",
                "-f",
                s(&copy),
            ];
            if !format.is_empty() {
                args.extend(["-m", format]);
            }
            let said = ours(&args);
            assert!(
                said.ends_with("Your identification has been saved with the new passphrase.\n"),
                "{said}"
            );
            let derived = run_args(&keygen, &["-y", "-P", "new pass", "-f", s(&copy)]);
            assert_eq!(
                key_part(&derived),
                key_part(&public),
                "-p -m {format} {name}"
            );
            run_args(
                &keygen,
                &[
                    "-q",
                    "-p",
                    "-a",
                    "4",
                    "-P",
                    "new pass",
                    "-N",
                    "third",
                    "-f",
                    s(&copy),
                ],
            );
            let line = ours(&["-y", "-P", "third", "-f", s(&copy)]);
            assert_eq!(
                key_part(&line),
                key_part(&public),
                "after ssh-keygen -p {format} {name}"
            );
            // -l on a private key without its .pub: from the OpenSSH header while encrypted,
            // and from the key (empty comment for PEM and PKCS#8) once unencrypted.
            if format.is_empty() {
                assert_eq!(
                    ours(&["-l", "-f", s(&copy)]),
                    run_args(&keygen, &["-l", "-f", s(&copy)]),
                    "-l encrypted {name}"
                );
            }
            let plain = dir.path().join(format!("plain_{name}_{format}"));
            std::fs::copy(&copy, &plain).unwrap();
            let mut args = vec!["-q", "-p", "-P", "third", "-N", "", "-f", s(&plain)];
            if !format.is_empty() {
                args.extend(["-m", format]);
            }
            run_args(&keygen, &args);
            assert_eq!(
                ours(&["-l", "-f", s(&plain)]),
                run_args(&keygen, &["-l", "-f", s(&plain)]),
                "-l {format} {name}"
            );
            // A wrong passphrase is refused with ssh-keygen's words.
            let wrong = Command::new(seashell_bin())
                .args(["keygen", "-y", "-P", "wrong", "-f", s(&copy)])
                .output()
                .unwrap();
            assert_eq!(wrong.status.code(), Some(255));
            assert!(
                text(&wrong.stderr).contains("incorrect passphrase"),
                "{}",
                text(&wrong.stderr)
            );
        }
        // -l on the private key (through its .pub) equals ssh-keygen's.
        assert_eq!(
            ours(&["-l", "-f", s(&theirs)]),
            run_args(&keygen, &["-l", "-f", s(&theirs)])
        );
    }
}

#[test]
fn generated_and_written_keys_log_in_to_sshd() {
    let Some(keygen) = ssh_keygen() else {
        return;
    };
    let Some(sshd) = start_sshd(SshdOptions::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    // One login per written format: OpenSSH (Ed25519), PEM (ECDSA P-384), PKCS#8 (RSA).
    let mut keys = Vec::new();
    for (name, args) in [
        ("ed-openssh", &["-t", "ed25519"][..]),
        ("ec-pem", &["-t", "ecdsa", "-b", "384", "-m", "PEM"]),
        ("rsa-pkcs8", &["-t", "rsa", "-b", "2048", "-m", "PKCS8"]),
    ] {
        let path = dir.path().join(name);
        ours(&[&["-q", "-N", "", "-C", name, "-f", s(&path)][..], args].concat());
        let head = std::fs::read_to_string(&path).unwrap();
        let label = head.lines().next().unwrap().to_string();
        keys.push((path, label));
    }
    // And the largest RSA key we sign with (8192 bits, beyond ring: crypto-bigint signs), made
    // by ssh-keygen, as PEM: sshd must accept its rsa-sha2 signatures.
    let large = dir.path().join("rsa8192-pem");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/keys/tests/data/rsa8192"),
        &large,
    )
    .unwrap();
    std::fs::set_permissions(&large, std::fs::Permissions::from_mode(0o600)).unwrap();
    run_args(
        &keygen,
        &["-q", "-p", "-P", "", "-N", "", "-m", "PEM", "-f", s(&large)],
    );
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/keys/tests/data/rsa8192.pub"),
        format!("{}.pub", large.display()),
    )
    .unwrap();
    keys.push((large, "8192-bit RSA".to_string()));
    assert_eq!(keys[0].1, "-----BEGIN OPENSSH PRIVATE KEY-----");
    assert_eq!(keys[1].1, "-----BEGIN EC PRIVATE KEY-----");
    assert_eq!(keys[2].1, "-----BEGIN PRIVATE KEY-----");
    let mut authorized = std::fs::read_to_string(sshd.dir().join("authorized_keys")).unwrap();
    for (path, _) in &keys {
        authorized.push_str(&std::fs::read_to_string(format!("{}.pub", path.display())).unwrap());
    }
    std::fs::write(sshd.dir().join("authorized_keys"), authorized).unwrap();
    for (path, label) in &keys {
        // ssh-keygen agrees on the key.
        run_args(&keygen, &["-y", "-f", s(path)]);
        let mut cmd = Command::new(seashell_bin());
        cmd.env("HOME", home.path())
            .env_remove("SSH_ASKPASS")
            .env_remove("DISPLAY")
            .args(["-p", &sshd.port().to_string(), "-i", s(path)])
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                sshd.known_hosts_file().display()
            ))
            .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"])
            .args(["-l", &sshd.login_user(), "127.0.0.1", "echo logged-in"]);
        let ran = run_limited(&mut cmd, Duration::from_secs(60)).unwrap();
        assert!(
            ran.status.success() && text(&ran.stdout) == "logged-in\n",
            "{label}: status {:?}, stderr {}\nsshd log:\n{}",
            ran.status,
            text(&ran.stderr),
            sshd.log()
        );
    }
}
