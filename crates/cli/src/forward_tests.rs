//! Every form of forwarding specification OpenSSH accepts, and the ones it refuses.

use super::*;

fn tcp(bind: BindAddress, port: u16) -> Listen {
    Listen::Tcp { bind, port }
}

fn to(host: &str, port: u16) -> Target {
    Target::Tcp {
        host: host.to_owned(),
        port,
    }
}

fn host(h: &str) -> BindAddress {
    BindAddress::Host(h.to_owned())
}

fn local(spec: &str) -> Forward {
    match parse_forward(spec, ForwardKind::Local) {
        Ok(ForwardSpec::Local(f)) => f,
        other => panic!("-L {spec}: {other:?}"),
    }
}

fn remote(spec: &str) -> Forward {
    match parse_forward(spec, ForwardKind::Remote) {
        Ok(ForwardSpec::Remote(f)) => f,
        other => panic!("-R {spec}: {other:?}"),
    }
}

fn dynamic_fwd(spec: &str) -> Listen {
    match parse_forward(spec, ForwardKind::Dynamic) {
        Ok(ForwardSpec::Local(Forward {
            listen,
            target: Target::Dynamic,
        })) => listen,
        other => panic!("-D {spec}: {other:?}"),
    }
}

fn fwd(listen: Listen, target: Target) -> Forward {
    Forward { listen, target }
}

fn err(spec: &str, kind: ForwardKind) -> String {
    match parse_forward(spec, kind) {
        Err(e) => e.to_string(),
        Ok(f) => panic!("{spec} should fail, gave {f:?}"),
    }
}

#[test]
fn local_tcp_forms() {
    assert_eq!(
        local("8080:h:80"),
        fwd(tcp(BindAddress::Default, 8080), to("h", 80))
    );
    assert_eq!(
        local("127.0.0.1:8080:h:80"),
        fwd(tcp(host("127.0.0.1"), 8080), to("h", 80))
    );
    assert_eq!(
        local("localhost:8080:h:80"),
        fwd(tcp(host("localhost"), 8080), to("h", 80))
    );
    assert_eq!(
        local("*:8080:h:80"),
        fwd(tcp(BindAddress::Any, 8080), to("h", 80))
    );
    assert_eq!(
        local(":8080:h:80"),
        fwd(tcp(BindAddress::Any, 8080), to("h", 80))
    );
    assert_eq!(
        local(" 8080:h:80"),
        fwd(tcp(BindAddress::Default, 8080), to("h", 80))
    );
    // A trailing colon ends the last field, as in ssh.
    assert_eq!(
        local("8080:h:80:"),
        fwd(tcp(BindAddress::Default, 8080), to("h", 80))
    );
}

#[test]
fn ipv6_in_brackets() {
    assert_eq!(
        local("[::1]:8080:[::2]:80"),
        fwd(tcp(host("::1"), 8080), to("::2", 80))
    );
    assert_eq!(
        local("8080:[fe80::1%eth0]:22"),
        fwd(tcp(BindAddress::Default, 8080), to("fe80::1%eth0", 22))
    );
    assert_eq!(
        remote("[::]:0:localhost:22"),
        fwd(tcp(host("::"), 0), to("localhost", 22))
    );
    assert_eq!(dynamic_fwd("[::1]:1080"), tcp(host("::1"), 1080));
}

#[test]
fn unix_socket_forms() {
    assert_eq!(
        local("/tmp/l.sock:h:80"),
        fwd(Listen::Unix("/tmp/l.sock".into()), to("h", 80))
    );
    assert_eq!(
        local("/tmp/l.sock:/run/r.sock"),
        fwd(
            Listen::Unix("/tmp/l.sock".into()),
            Target::Unix("/run/r.sock".into())
        )
    );
    assert_eq!(
        local("8080:/run/r.sock"),
        fwd(
            tcp(BindAddress::Default, 8080),
            Target::Unix("/run/r.sock".into())
        )
    );
    assert_eq!(
        local("127.0.0.1:8080:/run/r.sock"),
        fwd(
            tcp(host("127.0.0.1"), 8080),
            Target::Unix("/run/r.sock".into())
        )
    );
    assert_eq!(
        remote("/tmp/remote.sock:/tmp/local.sock"),
        fwd(
            Listen::Unix("/tmp/remote.sock".into()),
            Target::Unix("/tmp/local.sock".into())
        )
    );
    assert_eq!(
        remote("/tmp/remote.sock:localhost:5432"),
        fwd(
            Listen::Unix("/tmp/remote.sock".into()),
            to("localhost", 5432)
        )
    );
    // A bracketed field with a slash is a path; brackets allow colons in it.
    assert_eq!(
        local("[/tmp/a:b]:h:80"),
        fwd(Listen::Unix("/tmp/a:b".into()), to("h", 80))
    );
    assert_eq!(
        dynamic_fwd("/tmp/socks.sock"),
        Listen::Unix("/tmp/socks.sock".into())
    );
}

#[test]
fn backslash_escapes() {
    assert_eq!(
        local("8080:h\\:x:80"),
        fwd(tcp(BindAddress::Default, 8080), to("h:x", 80))
    );
    // An escaped slash does not make a path, as in ssh.
    assert_eq!(
        local("a\\/b:8080:h:80"),
        fwd(tcp(host("a/b"), 8080), to("h", 80))
    );
    assert!(parse_forward("a\\/b:h:80", ForwardKind::Local).is_err());
    assert!(parse_forward("8080:h:80\\", ForwardKind::Local).is_err());
}

#[test]
fn remote_forms() {
    assert_eq!(
        remote("8080:localhost:80"),
        fwd(tcp(BindAddress::Default, 8080), to("localhost", 80))
    );
    assert_eq!(
        remote("0:localhost:80"),
        fwd(tcp(BindAddress::Default, 0), to("localhost", 80))
    );
    assert_eq!(
        remote("*:0:localhost:80"),
        fwd(tcp(BindAddress::Any, 0), to("localhost", 80))
    );
    // Dynamic remote forwards: port alone, bind:port, socket.
    assert_eq!(
        remote("1080"),
        fwd(tcp(BindAddress::Default, 1080), Target::Dynamic)
    );
    assert_eq!(
        remote("0"),
        fwd(tcp(BindAddress::Default, 0), Target::Dynamic)
    );
    assert_eq!(
        remote("*:1080"),
        fwd(tcp(BindAddress::Any, 1080), Target::Dynamic)
    );
    assert_eq!(
        remote("[::1]:1080"),
        fwd(tcp(host("::1"), 1080), Target::Dynamic)
    );
    assert_eq!(
        remote("/tmp/s"),
        fwd(Listen::Unix("/tmp/s".into()), Target::Dynamic)
    );
}

#[test]
fn dynamic_forms() {
    assert_eq!(dynamic_fwd("1080"), tcp(BindAddress::Default, 1080));
    assert_eq!(dynamic_fwd("*:1080"), tcp(BindAddress::Any, 1080));
    assert_eq!(dynamic_fwd(":1080"), tcp(BindAddress::Any, 1080));
    assert_eq!(dynamic_fwd("localhost:1080"), tcp(host("localhost"), 1080));
}

#[test]
fn service_names_as_ports() {
    if !std::fs::read_to_string("/etc/services").is_ok_and(|s| s.contains("\nssh\t")) {
        return; // No services database here.
    }
    assert_eq!(
        local("8080:h:ssh"),
        fwd(tcp(BindAddress::Default, 8080), to("h", 22))
    );
    assert!(parse_forward("8080:h:no-such-service", ForwardKind::Local).is_err());
}

#[test]
fn refusals_with_ssh_messages() {
    use ForwardKind::*;
    for bad in [
        "80",
        "1:h",
        "0:h:1",
        "1:h:0",
        "65536:h:1",
        "1:h:65536",
        "x:1:h:2:3",
        "1:2:3:4:5",
        "8080:[h:80",
        "[a]x:1:h:2",
        "",
        "  ",
        "/tmp/s",
        "a:b:c",
        "-1:h:2",
    ] {
        assert_eq!(
            err(bad, Local),
            format!("Bad local forwarding specification '{bad}'"),
            "-L {bad}"
        );
    }
    for bad in ["foo", "0:h:0", "1:2:3:4:5", "a:b:c", "x:y"] {
        assert_eq!(
            err(bad, Remote),
            format!("Bad remote forwarding specification '{bad}'")
        );
    }
    for bad in ["0", "x:y:z", "1080:h:80", "65536", "*:0", ""] {
        assert_eq!(
            err(bad, Dynamic),
            format!("Bad dynamic forwarding specification '{bad}'")
        );
    }
    let long_host = format!("8080:{}:80", "h".repeat(MAX_HOST));
    assert!(parse_forward(&long_host, Local).is_err());
    let long_path = format!("/{}:h:80", "p".repeat(MAX_SOCKET_PATH));
    assert!(parse_forward(&long_path, Local).is_err());
}

#[test]
fn keyword_forms() {
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        parse_forward_keyword(&words(&["8080", "h:80"]), ForwardKind::Local),
        Ok(ForwardSpec::Local(fwd(
            tcp(BindAddress::Default, 8080),
            to("h", 80)
        )))
    );
    assert_eq!(
        parse_forward_keyword(&words(&["[::1]:8080", "[::2]:80"]), ForwardKind::Local),
        Ok(ForwardSpec::Local(fwd(
            tcp(host("::1"), 8080),
            to("::2", 80)
        )))
    );
    assert_eq!(
        parse_forward_keyword(&words(&["8080"]), ForwardKind::Remote),
        Ok(ForwardSpec::Remote(fwd(
            tcp(BindAddress::Default, 8080),
            Target::Dynamic
        )))
    );
    assert_eq!(
        parse_forward_keyword(&words(&["1080"]), ForwardKind::Dynamic),
        Ok(ForwardSpec::Local(fwd(
            tcp(BindAddress::Default, 1080),
            Target::Dynamic
        )))
    );
    assert_eq!(
        parse_forward_keyword(&words(&["8080:h:80"]), ForwardKind::Local),
        Err("Missing target argument".to_owned())
    );
    assert_eq!(
        parse_forward_keyword(&words(&["8080", "h"]), ForwardKind::Local),
        Err("Bad forwarding specification".to_owned())
    );
    assert_eq!(
        parse_forward_keyword(&words(&["1080", "x"]), ForwardKind::Dynamic),
        Err("Bad forwarding specification".to_owned())
    );
}

#[test]
fn stdio_forward() {
    assert_eq!(parse_stdio_forward("h:80"), Ok(to("h", 80)));
    assert_eq!(parse_stdio_forward("[::1]:22"), Ok(to("::1", 22)));
    assert_eq!(
        parse_stdio_forward("/run/x.sock"),
        Ok(Target::Unix("/run/x.sock".into()))
    );
    for bad in ["h", "h:0", "h:x", "a:b:c", "", "h:65536"] {
        assert_eq!(
            parse_stdio_forward(bad).map_err(|e| e.to_string()),
            Err(format!("Bad stdio forwarding specification '{bad}'"))
        );
    }
}

#[test]
fn bind_addresses() {
    assert_eq!(BindAddress::Default.local_bind(false), Some("localhost"));
    assert_eq!(BindAddress::Default.local_bind(true), None);
    assert_eq!(BindAddress::Any.local_bind(false), None);
    assert_eq!(host("10.0.0.1").local_bind(true), Some("10.0.0.1"));
    assert_eq!(BindAddress::Default.remote_request(), "localhost");
    assert_eq!(BindAddress::Any.remote_request(), "");
    assert_eq!(host("0.0.0.0").remote_request(), "0.0.0.0");
}
