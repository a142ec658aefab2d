//! Resolution tests against an in-memory environment: Host and Match blocks, Include (globs,
//! nesting, inside blocks, depth limit), first value wins, tokens, canonicalization and the
//! final pass, errors with file and line.

use crate::values::*;
use crate::*;
use std::path::PathBuf;

fn env(files: &[(&str, &str)]) -> MemoryEnv {
    let mut e = MemoryEnv::default();
    for (p, t) in files {
        e.files.insert(PathBuf::from(p), (*t).to_owned());
    }
    e
}

fn resolve_in(e: &MemoryEnv, host: &str, text: &str) -> Result<ResolvedConfig, ConfigError> {
    let mut e = e.clone();
    e.files.insert(PathBuf::from("/cfg"), text.to_owned());
    resolve_with(
        &e,
        &Request::new(host),
        &SshConfigFiles::Only("/cfg".into()),
    )
}

fn ok(host: &str, text: &str) -> ResolvedConfig {
    resolve_in(&MemoryEnv::default(), host, text).unwrap()
}

fn err(host: &str, text: &str) -> Vec<String> {
    resolve_in(&MemoryEnv::default(), host, text)
        .unwrap_err()
        .messages
}

#[test]
fn host_blocks_and_first_value_wins() {
    let text = "Host web*\n  User w\n  Port 2\nHost web1 !web2\n  User never\n  Port 3\nHost *\n  User all\n  ServerAliveInterval 5\n";
    let c = ok("web1", text);
    assert_eq!((c.user.as_deref(), c.port), (Some("w"), Some(2)));
    assert_eq!(c.server_alive_interval, Some(5));
    let c = ok("db", text);
    assert_eq!((c.user.as_deref(), c.port), (Some("all"), None));
    // A negated pattern excludes the host even after a positive one.
    let c = ok("web2", "Host web* !web2\n  User w\n");
    assert_eq!(c.user, None);
    // Lines before any Host apply to every host.
    assert_eq!(
        ok("x", "User top\nHost y\n  User y\n").user.as_deref(),
        Some("top")
    );
}

#[test]
fn lists_accumulate_and_deduplicate() {
    let c = ok(
        "h",
        "IdentityFile ~/a\nIdentityFile ~/b\nIdentityFile ~/a\nLocalForward 1 h:2\nLocalForward 1 h:2\nDynamicForward 3\nSendEnv A B\nSendEnv -A\nSendEnv C\nSetEnv X=1\nSetEnv Y=2\nUserKnownHostsFile /k1 /k2\nUserKnownHostsFile /k3\n",
    );
    assert_eq!(c.identity_files, ["~/a", "~/b"]);
    assert_eq!(c.local_forwards.len(), 2);
    assert_eq!(c.send_env, ["B", "C"]);
    assert_eq!(c.set_env, ["X=1"]);
    assert_eq!(c.user_known_hosts_files, ["/k1", "/k2"]);
}

#[test]
fn command_line_comes_first() {
    let e = env(&[("/cfg", "User file\nPort 7\nIdentityFile /f\n")]);
    let mut req = Request::new("h");
    req.command_line = vec![
        CommandLine::Option("User=cmd".into()),
        CommandLine::Set("IdentityFile".into(), vec!["/c".into()]),
        CommandLine::Forward('L', "1:h:2".into()),
    ];
    let c = resolve_with(&e, &req, &SshConfigFiles::Only("/cfg".into())).unwrap();
    assert_eq!(c.user.as_deref(), Some("cmd"));
    assert_eq!(c.port, Some(7));
    assert_eq!(c.identity_files, ["/c", "/f"]);
    assert_eq!(c.local_forwards.len(), 1);
    req.command_line = vec![CommandLine::Option("Host x".into())];
    let e2 = resolve_with(&e, &req, &SshConfigFiles::None).unwrap_err();
    assert_eq!(
        e2.messages,
        ["Host directive not supported as a command-line option"]
    );
}

#[test]
fn include_globs_nesting_and_blocks() {
    let e = env(&[
        ("/home/me/.ssh/conf.d/20-b.conf", "Host b\n  Port 2\n"),
        (
            "/home/me/.ssh/conf.d/10-a.conf",
            "Host a b\n  Port 1\n  User from-a\n",
        ),
        (
            "/etc/ssh/inc/one.conf",
            "Include /etc/ssh/inc/two.conf\nUser one\n",
        ),
        ("/etc/ssh/inc/two.conf", "Port 22022\n"),
    ]);
    // Relative to ~/.ssh in a user file; sorted; later files cannot override.
    let c = resolve_in(&e, "b", "Include conf.d/*.conf\n").unwrap();
    assert_eq!((c.port, c.user.as_deref()), (Some(1), Some("from-a")));
    // Inside a Host block: only for that host; the block's state is restored after it.
    let text = "Host inc\n  Include /etc/ssh/inc/one.conf\n  HostName after-include\nHost other\n  User other\n";
    let c = resolve_in(&e, "inc", text).unwrap();
    assert_eq!((c.port, c.user.as_deref()), (Some(22022), Some("one")));
    assert_eq!(c.hostname, "after-include");
    let c = resolve_in(&e, "other", text).unwrap();
    assert_eq!((c.port, c.user.as_deref()), (None, Some("other")));
    // No match is fine.
    assert!(resolve_in(&e, "x", "Include /nowhere/*.conf\n").is_ok());
    // A system file's relative Include is under /etc/ssh; `~` is refused there.
    let mut e2 = e.clone();
    e2.files
        .insert("/sys".into(), "Include inc/one.conf\n".into());
    let files = SshConfigFiles::Custom {
        user: None,
        system: Some("/sys".into()),
    };
    let c = resolve_with(&e2, &Request::new("h"), &files).unwrap();
    assert_eq!(c.user.as_deref(), Some("one"));
    e2.files.insert("/sys".into(), "Include ~/x\n".into());
    let m = resolve_with(&e2, &Request::new("h"), &files).unwrap_err();
    assert_eq!(m.messages[0], "/sys line 1: bad include path ~/x.");
}

#[test]
fn include_depth_is_limited() {
    let e = env(&[("/loop", "Include /loop\n")]);
    let m = resolve_in(&e, "h", "Include /loop\n").unwrap_err();
    assert!(
        m.messages
            .iter()
            .any(|l| l == "Too many recursive configuration includes"),
        "{m:?}"
    );
}

#[test]
fn match_criteria() {
    let mut e = MemoryEnv::default();
    e.commands.insert("test h = h".into(), 0);
    e.addresses = vec!["10.1.2.3".parse().unwrap()];
    let text = "Match host h user me\n  Port 1\nMatch exec \"test %h = %n\"\n  User exec\nMatch localnetwork 10.0.0.0/8\n  BatchMode yes\nMatch !localuser me\n  Compression yes\nMatch originalhost=h version Seashell_*\n  CheckHostIP yes\nMatch all\n  GatewayPorts yes\n";
    let c = resolve_in(&e, "h", text).unwrap();
    assert_eq!(c.port, Some(1));
    assert_eq!(c.user.as_deref(), Some("exec"));
    assert_eq!(c.batch_mode, Some(true));
    assert_eq!(c.compression, None);
    assert_eq!(c.check_host_ip, Some(true));
    assert_eq!(c.gateway_ports, Some(true));
    // exec is not run once an earlier criterion failed.
    let c = resolve_in(&e, "h", "Match host nope exec \"test h = h\"\n  User x\n").unwrap();
    assert_eq!(c.user, None);
    // tagged and command, with empty arguments matching empty values.
    let c = ok(
        "h",
        "Tag t1\nMatch tagged t*\n  User tagged\nMatch command \"\"\n  Port 9\n",
    );
    assert_eq!((c.user.as_deref(), c.port), (Some("tagged"), Some(9)));
    let mut req = Request::new("h");
    req.remote_command = Some("uptime".into());
    let mut e2 = MemoryEnv::default();
    e2.files.insert(
        "/cfg".into(),
        "Match sessiontype exec command up*\n  Port 4\n".into(),
    );
    let c = resolve_with(&e2, &req, &SshConfigFiles::Only("/cfg".into())).unwrap();
    assert_eq!(c.port, Some(4));
}

#[test]
fn match_final_reparses_with_the_final_host() {
    let text = "Host alias\n  HostName real.example\nMatch final host real.example\n  User final\nMatch canonical\n  IdentityFile ~/final_only\nHost *\n  SendEnv A\n";
    let c = ok("alias", text);
    assert_eq!(c.user.as_deref(), Some("final"));
    assert_eq!(c.identity_files, ["~/final_only"]);
    // The final pass reads everything again: accumulating lists see their lines twice.
    assert_eq!(c.send_env, ["A", "A"]);
    // Without `final` anywhere, no second pass.
    assert_eq!(ok("alias", "Match canonical\n  User c\n").user, None);
}

#[test]
fn canonicalization() {
    let e = MemoryEnv {
        resolvable: vec!["web.corp.example.".into()],
        ..MemoryEnv::default()
    };
    let text = "CanonicalizeHostname yes\nCanonicalDomains nope.example corp.example\nHost web.corp.example\n  User canon\n";
    let c = resolve_in(&e, "web", text).unwrap();
    assert_eq!(c.hostname, "web.corp.example");
    assert_eq!(c.user.as_deref(), Some("canon"));
    // Too many dots: left alone; not found without fallback: an error.
    let c = resolve_in(&e, "a.b.c", text).unwrap();
    assert_eq!(c.hostname, "a.b.c");
    let m = resolve_in(&e, "db", &format!("CanonicalizeFallbackLocal no\n{text}")).unwrap_err();
    assert_eq!(m.messages, ["ssh: Could not resolve host \"db\""]);
    // Proxied connections are not canonicalized unless `always`.
    let c = resolve_in(&e, "web", &format!("ProxyJump j\n{text}")).unwrap();
    assert_eq!(c.hostname, "web");
}

#[test]
fn tokens_hostname_and_paths() {
    let c = ok(
        "Short",
        "Host Short\n  HostName %h.Example.ORG\n  User bob\n  Port 2200\n  UserKnownHostsFile ~/kh/%h_%p_%r %d/%u %%\n  IdentityFile ~/.ssh/%h\n  LocalForward /tmp/%h.sock h:1\n",
    );
    assert_eq!(c.hostname, "short.example.org");
    assert_eq!(
        c.expanded.user_known_hosts_files,
        ["/home/me/kh/short.example.org_2200_bob", "/home/me/me", "%"]
    );
    assert_eq!(c.identity_files, ["~/.ssh/%h"]);
    assert_eq!(
        c.expanded.identity_files,
        Ok(vec!["/home/me/.ssh/short.example.org".to_owned()])
    );
    assert_eq!(
        c.local_forwards[0].listen,
        crate::forward::Endpoint::Path("/tmp/short.example.org.sock".into())
    );
    let m = err("h", "HostName %z\n");
    assert_eq!(m, ["percent_expand: unknown key %z"]);
    let mut e = MemoryEnv::default();
    e.vars.insert("SOCK".into(), "/run/agent".into());
    let c = resolve_in(&e, "h", "IdentityAgent ${SOCK}/%u\n").unwrap();
    assert_eq!(c.expanded.identity_agent.as_deref(), Some("/run/agent/me"));
}

#[test]
fn errors_name_file_and_line() {
    assert_eq!(
        err("h", "Port 22\nBogus yes\nPort x\n"),
        [
            "/cfg: line 2: Bad configuration option: bogus",
            "/cfg line 3: Bad port 'x'.",
            "/cfg: terminating, 2 bad configuration options"
        ]
    );
    assert_eq!(
        err("h", "User\n"),
        [
            "/cfg line 1: no argument after keyword \"user\"",
            "/cfg: terminating, 1 bad configuration options"
        ]
    );
    assert_eq!(
        err("h", "Port 1 2\n")[0],
        "/cfg line 1: keyword port extra arguments at end of line"
    );
    assert_eq!(err("h", "User \"a\n")[0], "/cfg line 1: invalid quotes");
    assert_eq!(
        err("h", "Match nope x\n")[..2],
        [
            "Unsupported Match attribute nope".to_owned(),
            "/cfg line 1: Bad Match condition".to_owned()
        ]
    );
    assert_eq!(
        err("h", "RSAAuthentication yes\n")[0],
        "/cfg line 1: Unsupported option \"rsaauthentication\""
    );
    let c = ok(
        "h",
        "ForwardX11 yes\nCipher des\nHost other\n  ControlMaster auto\n",
    );
    assert_eq!(
        c.ignored,
        [
            "/cfg line 1: ForwardX11 is not supported by Seashell yet; ignored",
            "/cfg line 2: Deprecated option \"cipher\""
        ]
    );
    // Deprecated and known-but-unused keywords are fine; IgnoreUnknown hides unknown ones.
    assert!(
        resolve_in(
            &MemoryEnv::default(),
            "h",
            "Cipher x\nForwardX11 yes\nIgnoreUnknown Use*\nUseKeychain yes\n"
        )
        .is_ok()
    );
    let missing = resolve_with(
        &MemoryEnv::default(),
        &Request::new("h"),
        &SshConfigFiles::Only("/none".into()),
    )
    .unwrap_err();
    assert_eq!(
        missing.messages,
        ["Can't open user config file /none: No such file or directory"]
    );
}

#[test]
fn values_and_defaults() {
    let c = ok(
        "h",
        "StrictHostKeyChecking accept-new\nConnectTimeout 1m\nRekeyLimit 1G 1h\nAddKeysToAgent confirm 5m\nForwardAgent ~/fwd.sock\nEscapeChar ^]\nProxyJump me@j1:2,j2\nMACs hmac-sha2-256,umac-64@openssh.com\n",
    );
    assert_eq!(c.strict_host_key_checking, Some(Strict::AcceptNew));
    assert_eq!(c.connect_timeout, Some(Some(60)));
    assert_eq!(
        (c.rekey_limit, c.rekey_interval),
        (Some(1 << 30), Some(3600))
    );
    assert_eq!(c.add_keys_to_agent, Some((AddKeys::Confirm, 300)));
    assert_eq!(
        c.forward_agent,
        Some(ForwardAgent::Path("~/fwd.sock".into()))
    );
    assert_eq!(c.escape_char, Some(EscapeChar::Char(0x1d)));
    let j = c.proxy_jump.clone().flatten().unwrap();
    assert_eq!(
        (j.host.as_str(), j.extra.as_deref()),
        ("j2", Some("me@j1:2"))
    );
    // Names OpenSSH knows but Seashell lacks are accepted and left out.
    assert_eq!(
        c.algorithms(seashell_proto::config::AlgorithmSlot::Mac),
        Ok(vec!["hmac-sha2-256".to_owned()])
    );
    assert!(err("h", "Ciphers nosuch\n")[0].contains("Bad SSH2 cipher spec 'nosuch'."));
    let d = ok("h", "BatchMode yes\n");
    assert_eq!(d.server_alive_interval(), 300);
    assert_eq!(d.update_host_keys(), YesNoAsk::Yes);
    assert_eq!(d.remote_user(), "me");
    let out = d.dump().unwrap();
    assert!(out.starts_with("host h\nuser me\nhostname h\nport 22\nbatchmode yes\n"));
    assert!(out.contains("\nidentityfile ~/.ssh/id_ed25519\n"));
    assert!(
        out.contains("\nuserknownhostsfile /home/me/.ssh/known_hosts /home/me/.ssh/known_hosts2\n")
    );
}

#[test]
fn limits() {
    // Many lines are read in linear time; too many files or bytes are refused.
    let blank = "\n".repeat(1 << 20);
    assert!(resolve_in(&MemoryEnv::default(), "h", &blank).is_ok());
    let wide = "Include /leaf\n".repeat(MAX_FILES + 1);
    let e = env(&[("/leaf", "")]);
    let m = resolve_in(&e, "h", &wide).unwrap_err();
    assert!(
        m.messages
            .iter()
            .any(|l| l == "Too many configuration files"),
        "{m:?}"
    );
    let long = format!("User {}\n", "u".repeat(MAX_LINE));
    assert!(err("h", &long)[0].ends_with("line too long"));
    let many: String = (0..200).map(|i| format!("IdentityFile /k{i}\n")).collect();
    assert!(err("h", &many)[0].contains("Too many identity files"));
}
