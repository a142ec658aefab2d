//! The session keywords and flags, through the command-line parser.

use super::*;
use crate::args::{Parsed, Settings, parse};
use crate::forward::{BindAddress, Forward, Listen};

fn run(args: &[&str]) -> Settings {
    match parse(args) {
        Ok(Parsed::Run(s)) => *s,
        other => panic!("{args:?} gave {other:?}"),
    }
}

fn session(args: &[&str]) -> SessionOptions {
    let mut all = args.to_vec();
    all.push("h");
    run(&all).session
}

fn err(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("h");
    match parse(&all) {
        Err(e) => e.message,
        other => panic!("{args:?} should fail, gave {other:?}"),
    }
}

fn tcp_fwd(port: u16, host: &str, hostport: u16) -> Forward {
    Forward {
        listen: Listen::Tcp {
            bind: BindAddress::Default,
            port,
        },
        target: Target::Tcp {
            host: host.to_owned(),
            port: hostport,
        },
    }
}

#[test]
fn forwarding_flags_and_keywords_accumulate_in_order() {
    let s = session(&[
        "-L",
        "8080:a:80",
        "-R0:b:22",
        "-D",
        "1080",
        "-o",
        "LocalForward 9090 c:90",
        "-oRemoteForward=2222",
        "-o",
        "DynamicForward=*:1081",
    ]);
    assert_eq!(s.forwards.len(), 6);
    assert_eq!(s.forwards[0], ForwardSpec::Local(tcp_fwd(8080, "a", 80)));
    assert_eq!(s.forwards[1], ForwardSpec::Remote(tcp_fwd(0, "b", 22)));
    assert_eq!(
        s.forwards[2],
        ForwardSpec::Local(Forward {
            listen: Listen::Tcp {
                bind: BindAddress::Default,
                port: 1080
            },
            target: Target::Dynamic
        })
    );
    assert_eq!(s.forwards[3], ForwardSpec::Local(tcp_fwd(9090, "c", 90)));
    assert!(matches!(
        &s.forwards[4],
        ForwardSpec::Remote(Forward {
            target: Target::Dynamic,
            ..
        })
    ));
    assert!(matches!(
        &s.forwards[5],
        ForwardSpec::Local(Forward {
            listen: Listen::Tcp {
                bind: BindAddress::Any,
                port: 1081
            },
            target: Target::Dynamic
        })
    ));
}

#[test]
fn forwarding_errors_are_sshs() {
    assert_eq!(
        err(&["-L", "80"]),
        "Bad local forwarding specification '80'"
    );
    assert_eq!(
        err(&["-R", "foo"]),
        "Bad remote forwarding specification 'foo'"
    );
    assert_eq!(
        err(&["-D", "x:y:z"]),
        "Bad dynamic forwarding specification 'x:y:z'"
    );
    assert_eq!(
        err(&["-W", "foo"]),
        "Bad stdio forwarding specification 'foo'"
    );
    assert_eq!(
        err(&["-W", "a:1", "-W", "b:2"]),
        "stdio forward already specified"
    );
    assert_eq!(
        err(&["-o", "LocalForward=1:h:2"]),
        "bad value \"1:h:2\" for option \"LocalForward\": Missing target argument"
    );
    assert_eq!(
        err(&["-o", "DynamicForward=0"]),
        "bad value \"0\" for option \"DynamicForward\": Bad forwarding specification"
    );
    assert!(parse(&["-L", "80", "h"]).is_err_and(|e| !e.show_usage));
    assert!(parse(&["-L"]).is_err_and(|e| e.show_usage));
}

#[test]
fn stdio_forward_turns_off_tty_and_session() {
    let s = session(&["-W", "[::1]:22"]);
    assert_eq!(
        s.stdio_forward,
        Some(Target::Tcp {
            host: "::1".into(),
            port: 22
        })
    );
    assert_eq!(s.request_tty, Some(RequestTty::No));
    assert_eq!(s.session_type, Some(SessionType::None));
}

#[test]
fn jump_hosts() {
    let s = session(&["-J", "u@a:2200,b", "-o", "ProxyJump=c"]);
    let hops = s.jump_hosts.unwrap();
    assert_eq!(hops.len(), 2);
    assert_eq!(hops[0].user.as_deref(), Some("u"));
    assert_eq!((hops[0].host.as_str(), hops[0].port), ("a", Some(2200)));
    assert_eq!((hops[1].host.as_str(), hops[1].port), ("b", None));
    let s = session(&["-o", "ProxyJump=c", "-J", "d"]);
    assert_eq!(s.jump_hosts.unwrap()[0].host, "c");
    assert_eq!(session(&["-o", "ProxyJump=none"]).jump_hosts, Some(vec![]));
    assert_eq!(err(&["-J", "a,,b"]), "Invalid -J argument");
    assert_eq!(err(&["-J", "a:0"]), "Invalid -J argument");
    assert_eq!(
        err(&["-J", "a", "-J", "b"]),
        "Only a single -J option is permitted"
    );
    assert_eq!(
        err(&["-o", "ProxyJump=a@:x"]),
        "bad value \"a@:x\" for option \"ProxyJump\": Invalid ProxyJump \"a@:x\""
    );
}

#[test]
fn tty_flags_and_request_tty() {
    assert_eq!(session(&["-t"]).request_tty, Some(RequestTty::Yes));
    assert_eq!(session(&["-tt"]).request_tty, Some(RequestTty::Force));
    assert_eq!(session(&["-t", "-t"]).request_tty, Some(RequestTty::Force));
    assert_eq!(session(&["-T"]).request_tty, Some(RequestTty::No));
    assert_eq!(session(&["-tT"]).request_tty, Some(RequestTty::No));
    assert_eq!(session(&["-Tt"]).request_tty, Some(RequestTty::Yes));
    // Flags override the keyword; the keyword's first value wins over later ones.
    let s = session(&["-o", "RequestTTY=no", "-t"]);
    assert_eq!(s.request_tty, Some(RequestTty::Yes));
    let s = session(&["-t", "-o", "RequestTTY=no"]);
    assert_eq!(s.request_tty, Some(RequestTty::Yes));
    for (v, want) in [
        ("no", RequestTty::No),
        ("YES", RequestTty::Yes),
        ("force", RequestTty::Force),
        ("auto", RequestTty::Auto),
        ("false", RequestTty::No),
    ] {
        let s = session(&["-o", &format!("RequestTTY={v}")]);
        assert_eq!(s.request_tty, Some(want), "{v}");
    }
    assert!(err(&["-o", "RequestTTY=x"]).contains("expected no, yes, force or auto"));
}

#[test]
fn session_type_and_background() {
    assert_eq!(session(&["-N"]).session_type, Some(SessionType::None));
    assert_eq!(session(&["-s"]).session_type, Some(SessionType::Subsystem));
    for (v, want) in [
        ("none", SessionType::None),
        ("subsystem", SessionType::Subsystem),
        ("Default", SessionType::Default),
    ] {
        let s = session(&["-o", &format!("SessionType={v}")]);
        assert_eq!(s.session_type, Some(want));
    }
    assert!(err(&["-o", "SessionType=x"]).contains("expected none, subsystem or default"));
    let s = session(&["-f"]);
    assert_eq!(
        (s.fork_after_authentication, s.stdin_null),
        (Some(true), Some(true))
    );
    let s = session(&["-o", "ForkAfterAuthentication=yes", "-o", "StdinNull=no"]);
    assert_eq!(
        (s.fork_after_authentication, s.stdin_null),
        (Some(true), Some(false))
    );
    assert_eq!(session(&["-n"]).stdin_null, Some(true));
    assert_eq!(
        session(&["-o", "StdinNull=no", "-n"]).stdin_null,
        Some(true)
    );
    assert_eq!(
        session(&["-o", "StdinNull=yes", "-o", "StdinNull=no"]).stdin_null,
        Some(true)
    );
}

#[test]
fn gateway_ports_and_exit_on_failure() {
    assert_eq!(session(&["-g"]).gateway_ports, Some(true));
    assert_eq!(
        session(&["-o", "GatewayPorts=no", "-g"]).gateway_ports,
        Some(true)
    );
    assert_eq!(
        session(&["-o", "GatewayPorts=yes"]).gateway_ports,
        Some(true)
    );
    assert!(err(&["-o", "GatewayPorts=maybe"]).contains("expected yes or no"));
    let s = session(&["-o", "ExitOnForwardFailure=yes"]);
    assert_eq!(s.exit_on_forward_failure, Some(true));
    assert!(err(&["-o", "ExitOnForwardFailure=x"]).contains("expected yes or no"));
    let s = session(&[
        "-o",
        "StreamLocalBindUnlink=yes",
        "-o",
        "ClearAllForwardings=yes",
        "-o",
        "ClearAllForwardings=no",
    ]);
    assert_eq!(s.stream_local_bind_unlink, Some(true));
    assert_eq!(s.clear_all_forwardings, Some(true));
    assert!(err(&["-o", "StreamLocalBindUnlink=1"]).contains("expected yes or no"));
}

#[test]
fn keepalive() {
    let s = session(&[
        "-o",
        "ServerAliveInterval=5",
        "-o",
        "ServerAliveCountMax 2",
        "-o",
        "ServerAliveInterval=9",
    ]);
    assert_eq!(s.server_alive_interval, Some(Duration::from_secs(5)));
    assert_eq!(s.server_alive_count_max, Some(2));
    let s = session(&["-o", "ServerAliveInterval=1m"]);
    assert_eq!(s.server_alive_interval, Some(Duration::from_secs(60)));
    assert!(err(&["-o", "ServerAliveInterval=x"]).contains("invalid time value"));
    assert!(err(&["-o", "ServerAliveCountMax=x"]).contains("integer value invalid"));
    assert!(err(&["-o", "ServerAliveCountMax=-1"]).contains("integer value invalid"));
}

#[test]
fn log_level_flags_and_keyword() {
    assert_eq!(session(&[]).log_level(), LogLevel::Info);
    assert_eq!(
        session(&["-o", "LogLevel=ERROR"]).log_level(),
        LogLevel::Error
    );
    assert_eq!(
        session(&["-o", "LogLevel=debug2", "-o", "LogLevel=quiet"]).log_level(),
        LogLevel::Debug2
    );
    // -v and -q win over the keyword in either order; the last of them counts.
    assert_eq!(
        session(&["-v", "-o", "LogLevel=error"]).log_level(),
        LogLevel::Debug1
    );
    assert_eq!(
        session(&["-o", "LogLevel=error", "-vv"]).log_level(),
        LogLevel::Debug2
    );
    assert_eq!(session(&["-vvvv"]).log_level(), LogLevel::Debug3);
    assert_eq!(
        session(&["-q", "-o", "LogLevel=debug"]).log_level(),
        LogLevel::Quiet
    );
    assert_eq!(session(&["-vq"]).log_level(), LogLevel::Quiet);
    assert_eq!(session(&["-qv"]).log_level(), LogLevel::Debug1);
    assert!(err(&["-o", "LogLevel=bogus"]).contains("unsupported log level"));
    assert_eq!(
        session(&["-E", "/tmp/x.log"]).log_file.as_deref(),
        Some("/tmp/x.log")
    );
}

#[test]
fn escape_characters() {
    assert_eq!(session(&[]).escape_char, None);
    assert_eq!(
        session(&["-e", "~"]).escape_char,
        Some(EscapeChar::Char(b'~'))
    );
    assert_eq!(
        session(&["-e", "^]"]).escape_char,
        Some(EscapeChar::Char(0x1d))
    );
    assert_eq!(session(&["-e^A"]).escape_char, Some(EscapeChar::Char(1)));
    assert_eq!(session(&["-e", "none"]).escape_char, Some(EscapeChar::None));
    assert_eq!(
        session(&["-e", "^"]).escape_char,
        Some(EscapeChar::Char(b'^'))
    );
    assert_eq!(
        session(&["-o", "EscapeChar=%", "-o", "EscapeChar=!"]).escape_char,
        Some(EscapeChar::Char(b'%'))
    );
    assert_eq!(
        session(&["-o", "EscapeChar=none", "-e", "!"]).escape_char,
        Some(EscapeChar::Char(b'!'))
    );
    assert_eq!(err(&["-e", "xx"]), "Bad escape character 'xx'.");
    assert_eq!(err(&["-e", "^1"]), "Bad escape character '^1'.");
    assert!(err(&["-o", "EscapeChar=xx"]).contains("Bad escape character"));
    assert_eq!(EscapeChar::default(), EscapeChar::Char(b'~'));
}

#[test]
fn not_supported_keywords_and_flags() {
    // Valid OpenSSH keywords are refused when connecting (`-G` shows them).
    let deferred = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("h");
        run(&all).deferred_errors
    };
    assert_eq!(
        deferred(&["-o", "ForwardX11=yes"]),
        ["keyword ForwardX11 is not supported yet"]
    );
    assert_eq!(
        deferred(&["-o", "controlpath=/tmp/%C"]),
        ["keyword ControlPath is not supported yet"]
    );
    assert_eq!(
        err(&["-o", "Match=all"]),
        "Match directive not supported as a command-line option"
    );
    assert_eq!(
        err(&["-o", "Frobnicate=1"]),
        "unsupported option \"Frobnicate\""
    );
    assert_eq!(session(&["-o", "ForwardAgent=no"]), session(&[]));
    assert_eq!(err(&["-X"]), "option -X is not supported yet");
    assert_eq!(err(&["-Z"]), "unknown option -- Z");
}
