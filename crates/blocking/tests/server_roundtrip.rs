//! The blocking client against the blocking server, in one process over loopback: exec with
//! stdin, stdout, stderr and exit status, the handler's decisions, and the close callback.

use seashell_blocking::{
    Client, ClientConfig, ExitStatus, Handler, HostKeyPolicy, Server, ServerChannel,
};
use seashell_proto::{
    AuthAttempt, AuthDecision, ChannelId, PrivateKey, ServerConfig, SessionRequestKind,
};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::mpsc;

struct Upper {
    closed: mpsc::Sender<ChannelId>,
}

impl Handler for Upper {
    fn auth(&mut self, user: &str, attempt: &AuthAttempt) -> AuthDecision {
        match attempt {
            AuthAttempt::Password(pw) if user == "alice" && pw.as_str() == "secret" => {
                AuthDecision::Accept
            }
            _ => AuthDecision::Reject,
        }
    }

    fn channel_closed(&mut self, channel: ChannelId) {
        let _ = self.closed.send(channel);
    }

    fn session_request(&mut self, channel: &ServerChannel, request: &SessionRequestKind) -> bool {
        let SessionRequestKind::Exec(cmd) = request else {
            return false;
        };
        let (ch, cmd) = (channel.clone(), cmd.clone());
        std::thread::spawn(move || {
            // Echo stdin upper-cased, report the command on stderr, exit with its length.
            let mut input = Vec::new();
            let _ = ch.stdin().read_to_end(&mut input);
            let _ = ch.stdout().write_all(&input.to_ascii_uppercase());
            let _ = ch.stderr().write_all(&cmd);
            ch.exit(cmd.len() as u32);
        });
        true
    }
}

fn start() -> (String, String, mpsc::Receiver<ChannelId>) {
    let host_key = Arc::new(PrivateKey::ed25519_generate().unwrap());
    let fingerprint = host_key.public_key().fingerprint();
    let server = Server::bind("127.0.0.1:0", ServerConfig::new(vec![host_key])).unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || server.run(move |_| Upper { closed: tx.clone() }));
    (addr, fingerprint, rx)
}

#[test]
fn exec_with_stdin_streams_and_status() {
    let (addr, fp, closed) = start();
    let config = ClientConfig::new("alice")
        .password("secret")
        .host_key_policy(HostKeyPolicy::Fingerprint(fp));
    let session = Client::connect(&addr, config).unwrap();
    let mut ch = session.channel_exec("shout").unwrap();
    let data = vec![b'x'; 3 * 1024 * 1024 + 7];
    ch.write_all(&data).unwrap();
    ch.send_eof().unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    ch.read_both(&mut out, &mut err).unwrap();
    assert_eq!(ch.wait().unwrap(), ExitStatus::Code(5));
    assert_eq!(out.len(), data.len());
    assert!(out.iter().all(|&b| b == b'X'));
    assert_eq!(err, b"shout");
    drop(ch);
    closed
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("the handler hears of the close");
    // A second command on the same connection.
    let out = session.exec("again").unwrap();
    assert_eq!(
        (out.status, out.stderr),
        (ExitStatus::Code(5), b"again".to_vec())
    );
}

#[test]
fn wrong_password_and_wrong_host_key_are_refused() {
    let (addr, fp, _) = start();
    let bad = ClientConfig::new("alice")
        .password("nope")
        .host_key_policy(HostKeyPolicy::Fingerprint(fp));
    let e = Client::connect(&addr, bad).unwrap_err();
    assert!(e.to_string().contains("permission denied"), "{e}");
    let other = ClientConfig::new("alice")
        .password("secret")
        .host_key_policy(HostKeyPolicy::Fingerprint("SHA256:AAAA".into()));
    let e = Client::connect(&addr, other).unwrap_err();
    assert!(e.to_string().contains("SHA256:"), "{e}");
}

#[test]
fn ping_round_trips_through_our_server() {
    let (addr, fp, _) = start();
    let config = ClientConfig::new("alice")
        .password("secret")
        .host_key_policy(HostKeyPolicy::Fingerprint(fp));
    let session = Client::connect(&addr, config).unwrap();
    for _ in 0..3 {
        let rtt = session
            .ping()
            .unwrap()
            .expect("our server advertises ping@openssh.com");
        assert!(rtt < std::time::Duration::from_secs(5), "{rtt:?}");
    }
    // The connection still works after pings.
    assert_eq!(session.exec("after").unwrap().stderr, b"after");
}
