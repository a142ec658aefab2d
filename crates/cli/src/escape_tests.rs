//! The escape machine against OpenSSH's rules, whole and byte by byte.

use super::*;

/// Feeds `input` in one go, handling every action by recording it; returns what was sent
/// and the actions with the number of bytes sent before each.
fn run(m: &mut EscapeMachine, input: &[u8]) -> (Vec<u8>, Vec<(usize, EscapeAction)>) {
    let mut sent = Vec::new();
    let mut actions = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let step = m.feed(rest, &mut sent);
        assert!(step.consumed > 0 && step.consumed <= rest.len());
        if let Some(a) = step.action {
            actions.push((sent.len(), a));
        }
        rest = &rest[step.consumed..];
    }
    (sent, actions)
}

fn tilde() -> EscapeMachine {
    EscapeMachine::new(EscapeChar::Char(b'~'))
}

/// Feeds `input` one byte per call, as a slow typist would.
fn run_bytewise(m: &mut EscapeMachine, input: &[u8]) -> (Vec<u8>, Vec<(usize, EscapeAction)>) {
    let mut sent = Vec::new();
    let mut actions = Vec::new();
    for b in input {
        let step = m.feed(std::slice::from_ref(b), &mut sent);
        assert_eq!(step.consumed, 1);
        if let Some(a) = step.action {
            actions.push((sent.len(), a));
        }
    }
    (sent, actions)
}

#[test]
fn disconnect_at_start_and_after_newlines() {
    let (sent, actions) = run(&mut tilde(), b"~.");
    assert_eq!(sent, b"");
    assert_eq!(actions, [(0, EscapeAction::Disconnect)]);
    let (sent, actions) = run(&mut tilde(), b"ls\r~.");
    assert_eq!(sent, b"ls\r");
    assert_eq!(actions, [(3, EscapeAction::Disconnect)]);
    let (_, actions) = run(&mut tilde(), b"ls\n~.");
    assert_eq!(actions, [(3, EscapeAction::Disconnect)]);
}

#[test]
fn not_special_in_the_middle_of_a_line() {
    let (sent, actions) = run(&mut tilde(), b"a~.b");
    assert_eq!(sent, b"a~.b");
    assert!(actions.is_empty());
    let (sent, _) = run(&mut tilde(), b"cd ~/x\r");
    assert_eq!(sent, b"cd ~/x\r");
}

#[test]
fn double_escape_sends_one() {
    let (sent, actions) = run(&mut tilde(), b"~~.");
    assert_eq!(sent, b"~.");
    assert!(actions.is_empty());
    // After `~~` the line is no longer at its start: a second `~` is plain.
    let (sent, _) = run(&mut tilde(), b"~~~.");
    assert_eq!(sent, b"~~.");
}

#[test]
fn unknown_escape_sends_both() {
    let (sent, actions) = run(&mut tilde(), b"~x\r~q");
    assert_eq!(sent, b"~x\r~q");
    assert!(actions.is_empty());
    // The escape then a newline: both go, and the next line starts fresh.
    let (sent, actions) = run(&mut tilde(), b"~\r~.");
    assert_eq!(sent, b"~\r");
    assert_eq!(actions, [(2, EscapeAction::Disconnect)]);
}

#[test]
fn every_command() {
    let cases: [(&[u8], EscapeAction); 10] = [
        (b"~.", EscapeAction::Disconnect),
        (b"~\x1a", EscapeAction::Suspend),
        (b"~#", EscapeAction::ListForwards),
        (b"~&", EscapeAction::Background),
        (b"~?", EscapeAction::Help),
        (b"~B", EscapeAction::SendBreak),
        (b"~C", EscapeAction::CommandLine),
        (b"~R", EscapeAction::Rekey),
        (b"~V", EscapeAction::LessVerbose),
        (b"~v", EscapeAction::MoreVerbose),
    ];
    for (input, want) in cases {
        let (sent, actions) = run(&mut tilde(), input);
        assert_eq!(sent, b"", "{input:?}");
        assert_eq!(actions, [(0, want)], "{input:?}");
    }
}

#[test]
fn commands_keep_the_line_start() {
    let (sent, actions) = run(&mut tilde(), b"~?~#~.");
    assert_eq!(sent, b"");
    assert_eq!(
        actions,
        [
            (0, EscapeAction::Help),
            (0, EscapeAction::ListForwards),
            (0, EscapeAction::Disconnect)
        ]
    );
    // But typing after a command does not.
    let (sent, actions) = run(&mut tilde(), b"~?a~.");
    assert_eq!(sent, b"a~.");
    assert_eq!(actions, [(0, EscapeAction::Help)]);
}

#[test]
fn bytes_after_an_action_are_left_for_the_caller() {
    let mut m = tilde();
    let mut sent = Vec::new();
    let step = m.feed(b"x\n~.rest", &mut sent);
    assert_eq!(
        step,
        Step {
            consumed: 4,
            action: Some(EscapeAction::Disconnect)
        }
    );
    assert_eq!(sent, b"x\n");
}

#[test]
fn byte_by_byte_equals_whole() {
    let inputs: [&[u8]; 7] = [
        b"echo hi\r~.",
        b"~~\r~?ls\n~#\r~x~~",
        b"a~b\r\r~\r~v~V",
        b"~",
        b"\n\n~~~~\n~&",
        b"~\x1afg\r",
        b"",
    ];
    for input in inputs {
        let whole = run(&mut tilde(), input);
        let bytewise = run_bytewise(&mut tilde(), input);
        assert_eq!(whole, bytewise, "{input:?}");
    }
}

#[test]
fn pending_escape_waits_for_the_next_byte() {
    let mut m = tilde();
    let mut sent = Vec::new();
    assert_eq!(m.feed(b"~", &mut sent).action, None);
    assert!(m.is_pending());
    assert_eq!(sent, b"");
    assert_eq!(
        m.feed(b".", &mut sent).action,
        Some(EscapeAction::Disconnect)
    );
    assert!(!m.is_pending());
}

#[test]
fn other_escape_characters_and_none() {
    let mut m = EscapeMachine::new(EscapeChar::Char(0x1d)); // -e '^]'
    let (sent, actions) = run(&mut m, b"~.\r\x1d.");
    assert_eq!(sent, b"~.\r");
    assert_eq!(actions, [(3, EscapeAction::Disconnect)]);
    let mut m = EscapeMachine::new(EscapeChar::None);
    assert_eq!(m.escape_char(), None);
    let (sent, actions) = run(&mut m, b"~.\r~.~~");
    assert_eq!(sent, b"~.\r~.~~");
    assert!(actions.is_empty());
}

#[test]
fn texts() {
    assert_eq!(
        echo(b'~', EscapeAction::Disconnect).as_deref(),
        Some("~.\r\n")
    );
    assert_eq!(
        echo(b'~', EscapeAction::Suspend).as_deref(),
        Some("~^Z [suspend ssh]\r\n")
    );
    assert_eq!(echo(b'~', EscapeAction::CommandLine), None);
    assert_eq!(
        verbosity_message(b'~', EscapeAction::MoreVerbose, "DEBUG1"),
        "~v [LogLevel DEBUG1]\r\n"
    );
    assert_eq!(show_char(0x1d), "^]");
    assert_eq!(show_char(b'%'), "%");
    let help = help_text(b'~');
    assert!(help.starts_with("~?\r\nSupported escape sequences:\r\n"));
    assert!(help.contains(" ~.   - terminate connection (and any multiplexed sessions)\r\n"));
    assert!(help.contains(" ~V/v - decrease/increase verbosity (LogLevel)\r\n"));
    assert!(help.contains(" ~^Z  - suspend ssh\r\n"));
    assert!(help.contains(" ~~   - send the escape character by typing it twice\r\n"));
    assert!(
        help.ends_with("(Note that escapes are only recognized immediately after newline.)\r\n")
    );
    assert_eq!(help.matches("\r\n").count(), 13);
}
