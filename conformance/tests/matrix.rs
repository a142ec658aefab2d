//! The named interop matrix: every key exchange, cipher, MAC, host-key algorithm and
//! compression method Seashell supports, in both roles, against OpenSSH 9.2, OpenSSH 10,
//! Dropbear, PuTTY, paramiko and asyncssh (see `seashell_conformance::matrix`).
//!
//! Every case is its own test, named `{role}-{kind}-{algorithm}-vs-{peer}`:
//!
//! ```sh
//! cargo test -p seashell-conformance --test matrix                  # everything
//! cargo test -p seashell-conformance --test matrix -- client-kex-   # a filter
//! cargo test -p seashell-conformance --test matrix -- --exact server-mac-hmac-sha1-vs-dropbear
//! cargo test -p seashell-conformance --test matrix -- --list        # the names
//! ```
//!
//! Each case makes one connection with the case's algorithm as the only one the client
//! offers in its slot (MAC cases with `aes128-ctr`), runs `echo matrix-<case>`, checks
//! stdout and exit status, checks what Seashell's side negotiated, and prints it. Cases
//! listed in `conformance/disabled.toml` are ignored (run them anyway with
//! `-- --include-ignored`); so are the cases of a peer that is not installed, except in CI
//! (`CI=true`), where they fail.

use libtest_mimic::{Arguments, Failed, Trial};
use seashell_conformance::matrix::run::{Matrix, Unavailable, availability};
use seashell_conformance::matrix::{Peer, Role, cases, expected_case_names};
use seashell_conformance::{DISABLED_TOML, disabled_reason, in_ci, parse_disabled};
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;

/// Every matrix entry of `disabled.toml` (a name without `/`) must match a case the
/// matrix has or will have once the core implements every algorithm of issue 6.
fn disabled_entries_name_real_cases() -> Result<(), Failed> {
    let list = parse_disabled(DISABLED_TOML)?;
    let names = expected_case_names();
    let mut stale = Vec::new();
    for entry in list.iter().filter(|d| !d.case.contains('/')) {
        if entry.reason.trim().len() < 10 {
            stale.push(format!("{}: the reason is too short", entry.case));
        }
        if !names
            .iter()
            .any(|n| seashell_proto::config::wildcard_match(&entry.case, n))
        {
            stale.push(format!("{}: matches no case", entry.case));
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!("conformance/disabled.toml:\n{}", stale.join("\n")).into())
    }
}

/// Case names are unique and follow `{role}-{kind}-{algorithm}-vs-{peer}`.
fn case_names_are_unique() -> Result<(), Failed> {
    let all = cases();
    let names: BTreeSet<String> = all.iter().map(|c| c.name()).collect();
    if names.len() != all.len() {
        return Err("duplicate case names".into());
    }
    if !names.contains("client-kex-curve25519-sha256-vs-openssh9") {
        return Err("client-kex-curve25519-sha256-vs-openssh9 missing".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let matrix = Arc::new(Matrix::new());
    let mut trials = vec![
        Trial::test(
            "disabled_entries_name_real_cases",
            disabled_entries_name_real_cases,
        ),
        Trial::test("case_names_are_unique", case_names_are_unique),
    ];
    let mut notes = BTreeSet::new();
    for case in cases() {
        let name = case.name();
        let disabled = disabled_reason(&name).is_some();
        let missing = match availability(case.peer, case.role) {
            Err(Unavailable::Missing(why)) if !in_ci() => {
                notes.insert(format!(
                    "skipped: {}-*-vs-{}: {why}",
                    case.role.name(),
                    case.peer.name()
                ));
                true
            }
            _ => false,
        };
        let m = Arc::clone(&matrix);
        let label = name.clone();
        let role = case.role;
        trials.push(
            Trial::test(name, move || match m.run(&case) {
                Ok(agreed) => {
                    println!("ok: {label}: {agreed}");
                    Ok(())
                }
                Err(e) => Err(format!("{label}: {e}").into()),
            })
            .with_kind(match role {
                Role::Client => "client",
                Role::Server => "server",
            })
            .with_ignored_flag(disabled || missing),
        );
    }
    if !args.list {
        for note in &notes {
            eprintln!("{note}");
        }
        let peers: Vec<&str> = Peer::ALL.iter().map(|p| p.name()).collect();
        eprintln!(
            "matrix: {} cases against {}; disabled cases (conformance/disabled.toml) and \
             missing peers are listed as ignored",
            trials.len() - 2,
            peers.join(", ")
        );
    }
    let conclusion = libtest_mimic::run(&args, trials);
    // The trials (and their handles on the servers) are gone: stop the servers now.
    drop(matrix);
    conclusion.exit_code()
}
