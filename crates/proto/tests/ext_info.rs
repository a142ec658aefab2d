//! EXT_INFO (RFC 8308) from a hostile or unusual server: unknown extensions, binary values,
//! duplicates and odd names are ignored; a lying count or too many extensions is a typed error.
#![allow(clippy::disallowed_methods)] // tests may read the clock; the core may not

mod common;

use common::{Script, run_session};
use seashell_proto::Error;
use seashell_proto::error::{InvalidMessage, PeerMisbehaved};

fn with_ext_info(count: u32, entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<String> {
    let script = Script {
        ext_info: Some((count, entries)),
        ..Default::default()
    };
    run_session(script, |n| n)
}

fn completed(log: &[String]) -> bool {
    log.iter().any(|l| l == "Authenticated") && log.last().is_some_and(|l| l.starts_with("Closed"))
}

#[test]
fn unknown_binary_and_duplicate_extensions_are_ignored() {
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = (0..40)
        .map(|i| {
            (
                format!("x-unknown-{i}@example.com").into_bytes(),
                vec![i; i as usize],
            )
        })
        .collect();
    entries.push((Vec::new(), Vec::new()));
    entries.push((b"server-sig-algs".to_vec(), vec![0xff, 0x00, b',', 0xc3]));
    entries.push((
        b"server-sig-algs".to_vec(),
        b"ssh-ed25519,,rsa-sha2-256,".to_vec(),
    ));
    entries.push((b"ping@openssh.com".to_vec(), b"99".to_vec()));
    entries.push((b"no-flow-control".to_vec(), b"p".to_vec()));
    entries.push((vec![0xfe; 300], vec![0xab; 70_000]));
    let n = entries.len() as u32;
    let log = with_ext_info(n, entries);
    assert!(completed(&log), "{log:#?}");
}

#[test]
fn empty_ext_info_is_fine() {
    let log = with_ext_info(0, Vec::new());
    assert!(completed(&log), "{log:#?}");
}

#[test]
fn too_many_extensions_is_refused() {
    let log = with_ext_info(1025, Vec::new());
    assert_eq!(
        log.last().map(String::as_str),
        Some(
            format!(
                "lost {:?}",
                Error::PeerMisbehaved(PeerMisbehaved::TooManyExtensions)
            )
            .as_str()
        ),
        "{log:#?}"
    );
}

#[test]
fn a_count_larger_than_the_entries_is_a_typed_error() {
    let log = with_ext_info(
        3,
        vec![(b"server-sig-algs".to_vec(), b"ssh-ed25519".to_vec())],
    );
    let last = log.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("lost InvalidMessage(Truncated"),
        "{last} / {:?}",
        InvalidMessage::Truncated("extension name")
    );
}

#[test]
fn trailing_bytes_after_the_entries_are_a_typed_error() {
    // Declares zero entries but carries one: the reader must reject the leftover bytes.
    let log = with_ext_info(0, vec![(b"a".to_vec(), b"b".to_vec())]);
    let last = log.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("lost InvalidMessage(TrailingBytes"),
        "{last}"
    );
}
