//! The `seashell` binary's option surface as a user meets it: ssh's messages for bad
//! forwarding specifications, keywords named as not supported yet, `LogLevel` and `-E`
//! deciding where diagnostics go, ssh's pseudo-terminal note. No server is needed: each
//! case stops before connecting or fails to connect to a closed port.

use seashell_conformance::seashell_bin;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `seashell args` with an empty HOME and no stdin.
fn seashell(home: &Path, args: &[&str]) -> Output {
    Command::new(seashell_bin())
        .args(args)
        .env("HOME", home)
        .env_remove("SSH_ASKPASS")
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .output()
        .expect("running seashell")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A port nothing listens on (free a moment ago).
fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("free port");
    l.local_addr().expect("address").port().to_string()
}

#[test]
fn bad_forwarding_specifications_get_sshs_messages() {
    let home = tempfile::tempdir().expect("temp HOME");
    for (args, want) in [
        (
            ["-L", "80"],
            "seashell: Bad local forwarding specification '80'\n",
        ),
        (
            ["-R", "foo"],
            "seashell: Bad remote forwarding specification 'foo'\n",
        ),
        (
            ["-D", "x:y:z"],
            "seashell: Bad dynamic forwarding specification 'x:y:z'\n",
        ),
        (
            ["-W", "h"],
            "seashell: Bad stdio forwarding specification 'h'\n",
        ),
        (["-J", "a,,b"], "seashell: Invalid -J argument\n"),
        (["-e", "xx"], "seashell: Bad escape character 'xx'.\n"),
    ] {
        let o = seashell(home.path(), &[args[0], args[1], "host", "true"]);
        assert_eq!(o.status.code(), Some(255), "{args:?}");
        assert_eq!(stderr(&o), want, "{args:?}");
    }
}

#[test]
fn valid_openssh_keywords_are_named_not_unknown() {
    let home = tempfile::tempdir().expect("temp HOME");
    let o = seashell(home.path(), &["-o", "ForwardX11=yes", "host", "true"]);
    assert_eq!(o.status.code(), Some(255));
    assert_eq!(
        stderr(&o),
        "seashell: keyword ForwardX11 is not supported yet\n"
    );
    let o = seashell(home.path(), &["-X", "host", "true"]);
    assert_eq!(stderr(&o), "seashell: option -X is not supported yet\n");
    let o = seashell(home.path(), &["-o", "Frobnicate=1", "host", "true"]);
    assert_eq!(stderr(&o), "seashell: unsupported option \"Frobnicate\"\n");
}

#[test]
fn log_level_and_log_file_decide_where_errors_go() {
    let home = tempfile::tempdir().expect("temp HOME");
    let port = closed_port();
    let base = ["-p", port.as_str(), "-oBatchMode=yes"];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args.extend(["127.0.0.1", "true"]);
        seashell(home.path(), &args)
    };
    for level in ["QUIET", "FATAL"] {
        let o = run(&["-o", &format!("LogLevel={level}")]);
        assert_eq!(o.status.code(), Some(255));
        assert_eq!(stderr(&o), "", "LogLevel={level}");
    }
    for level in ["ERROR", "INFO", "debug"] {
        let o = run(&["-o", &format!("LogLevel={level}")]);
        assert_eq!(o.status.code(), Some(255));
        assert!(
            stderr(&o).contains("seashell: connect to host 127.0.0.1 port"),
            "LogLevel={level}: {}",
            stderr(&o)
        );
    }
    let o = run(&["-q"]);
    assert_eq!(stderr(&o), "");

    let log = home.path().join("client.log");
    let o = run(&["-E", log.to_str().expect("UTF-8 path"), "-v"]);
    assert_eq!(o.status.code(), Some(255));
    assert_eq!(stderr(&o), "", "with -E nothing goes to stderr");
    let written = std::fs::read_to_string(&log).expect("the log file");
    assert!(
        written.contains("debug1: Connecting to 127.0.0.1"),
        "{written}"
    );
    assert!(
        written.contains("seashell: connect to host 127.0.0.1 port"),
        "{written}"
    );
}

#[test]
fn pseudo_terminal_note_when_stdin_is_not_a_terminal() {
    let home = tempfile::tempdir().expect("temp HOME");
    let port = closed_port();
    let o = seashell(home.path(), &["-t", "-p", &port, "127.0.0.1", "true"]);
    assert_eq!(o.status.code(), Some(255));
    let err = stderr(&o);
    assert!(
        err.starts_with("Pseudo-terminal will not be allocated because stdin is not a terminal.\n"),
        "{err}"
    );
    // -T, or a command without -t: no note.
    let o = seashell(home.path(), &["-T", "-p", &port, "127.0.0.1"]);
    assert!(!stderr(&o).contains("Pseudo-terminal"), "{}", stderr(&o));
    let o = seashell(home.path(), &["-p", &port, "127.0.0.1", "true"]);
    assert!(!stderr(&o).contains("Pseudo-terminal"), "{}", stderr(&o));
}
