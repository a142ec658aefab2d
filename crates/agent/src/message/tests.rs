use super::*;
use seashell_proto::error::InvalidMessage;

fn round_trip(req: Request) {
    let bytes = req.encode();
    assert_eq!(Request::decode(&bytes).unwrap(), req);
}

#[test]
fn requests_round_trip() {
    round_trip(Request::RequestIdentities);
    round_trip(Request::Sign {
        key: vec![1, 2],
        data: vec![3],
        flags: RSA_SHA2_512,
    });
    round_trip(Request::Remove(vec![9]));
    round_trip(Request::RemoveAll);
    round_trip(Request::Lock(Zeroizing::new(b"pw".to_vec())));
    round_trip(Request::Unlock(Zeroizing::new(b"pw".to_vec())));
    round_trip(Request::Extension(Extension::Query));
    round_trip(Request::Extension(Extension::SessionBind(SessionBind {
        host_key: vec![1],
        session_id: vec![2; 32],
        signature: vec![3],
        forwarding: true,
    })));
    let mut b = Vec::new();
    wire::put_string(&mut b, b"ssh-ed25519");
    wire::put_string(&mut b, &[0; 32]);
    wire::put_string(&mut b, &[0; 64]);
    round_trip(Request::Add {
        key: KeyBlob::from_bytes(&b).unwrap(),
        comment: "me@host".into(),
        constraints: vec![
            Constraint::Lifetime(60),
            Constraint::Confirm,
            Constraint::Extension {
                name: "x@example.com".into(),
                data: vec![1, 2, 3],
            },
        ],
    });
}

#[test]
fn responses_round_trip() {
    for r in [
        Response::Success,
        Response::Failure,
        Response::ExtensionFailure,
        Response::Identities(vec![Identity {
            key: vec![1, 2],
            comment: "c".into(),
        }]),
        Response::Signature(vec![5; 10]),
        Response::ExtensionResponse {
            name: "query".into(),
            data: query_data(&["a", "b"]),
        },
    ] {
        assert_eq!(Response::decode(&r.encode()).unwrap(), r);
    }
}

#[test]
fn hostile_input_gives_typed_errors() {
    assert_eq!(Request::decode(&[]), Err(AgentError::Empty));
    assert_eq!(Response::decode(&[]), Err(AgentError::Empty));
    // A huge identity count in a tiny message is refused before any allocation.
    let mut p = vec![num::IDENTITIES_ANSWER];
    wire::put_u32(&mut p, u32::MAX);
    assert_eq!(
        Response::decode(&p),
        Err(AgentError::Malformed(InvalidMessage::BadValue(
            "identity count"
        )))
    );
    // Trailing bytes after a complete request.
    assert!(matches!(
        Request::decode(&[num::REQUEST_IDENTITIES, 0]),
        Err(AgentError::Malformed(InvalidMessage::TrailingBytes(_)))
    ));
    // A string longer than the message.
    assert!(matches!(
        Request::decode(&[num::REMOVE_IDENTITY, 0, 0, 0, 9, 1]),
        Err(AgentError::Malformed(InvalidMessage::Truncated(_)))
    ));
    assert_eq!(Request::decode(&[99, 1, 2]), Ok(Request::Unsupported(99)));
    assert_eq!(
        Response::decode(&[99]),
        Err(AgentError::UnexpectedMessage(99))
    );
    // An over-long session identifier.
    let mut s = vec![num::EXTENSION];
    wire::put_string(&mut s, EXT_SESSION_BIND.as_bytes());
    wire::put_string(&mut s, b"k");
    wire::put_string(&mut s, &[0; MAX_SESSION_ID + 1]);
    wire::put_string(&mut s, b"s");
    wire::put_bool(&mut s, false);
    assert!(Request::decode(&s).is_err());
}
