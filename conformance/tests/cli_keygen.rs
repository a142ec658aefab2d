//! `seashell keygen` against `ssh-keygen`: the same fingerprint lines and randomart for every
//! key type, for a public key file, a private key (through its `.pub`) and a multi-key list.

use seashell_conformance::process::text;
use seashell_conformance::{in_ci, seashell_bin};
use std::path::Path;
use std::process::Command;

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
