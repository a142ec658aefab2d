use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn string_round_trip(v in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut out = Vec::new();
        put_string(&mut out, &v);
        let mut r = Reader::new(&out);
        prop_assert_eq!(r.string("s").unwrap(), &v[..]);
        prop_assert!(r.end("s").is_ok());
    }

    #[test]
    fn mpint_round_trip(v in proptest::collection::vec(any::<u8>(), 0..80)) {
        let mut out = Vec::new();
        put_mpint(&mut out, &v);
        let mut r = Reader::new(&out);
        let got = r.mpint_positive("m").unwrap();
        let start = v.iter().position(|&x| x != 0).unwrap_or(v.len());
        prop_assert_eq!(got, &v[start..]);
    }

    #[test]
    fn u32_u64_round_trip(a in any::<u32>(), b in any::<u64>(), c in any::<bool>()) {
        let mut out = Vec::new();
        put_u32(&mut out, a);
        put_u64(&mut out, b);
        put_bool(&mut out, c);
        let mut r = Reader::new(&out);
        prop_assert_eq!(r.u32("a").unwrap(), a);
        prop_assert_eq!(r.u64("b").unwrap(), b);
        prop_assert_eq!(r.bool("c").unwrap(), c);
        prop_assert!(r.end("x").is_ok());
    }

    #[test]
    fn name_list_round_trip(v in proptest::collection::vec("[a-z0-9@.-]{1,20}", 0..10)) {
        let mut out = Vec::new();
        put_name_list(&mut out, &v);
        let mut r = Reader::new(&out);
        let got: Vec<&str> = names(r.name_list("n").unwrap()).collect();
        prop_assert_eq!(got, v.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn reader_never_panics(v in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut r = Reader::new(&v);
        let _ = r.string("a");
        let _ = r.name_list("b");
        let _ = r.mpint_positive("c");
        let _ = r.u64("d");
    }
}

#[test]
fn rfc4251_mpint_examples() {
    let mut out = Vec::new();
    put_mpint(&mut out, &[]);
    assert_eq!(out, [0, 0, 0, 0]);
    out.clear();
    put_mpint(&mut out, &[0x80]);
    assert_eq!(out, [0, 0, 0, 2, 0, 0x80]);
    out.clear();
    put_mpint(&mut out, &hex::decode("09a378f9b2e332a7").unwrap());
    assert_eq!(out, hex::decode("0000000809a378f9b2e332a7").unwrap());
}

#[test]
fn oversized_string_length_is_truncation_not_allocation() {
    let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 1, 2]);
    assert_eq!(r.string("s"), Err(InvalidMessage::Truncated("s")));
}

#[test]
fn bad_name_lists() {
    for bad in [&b"a,,b"[..], b",a", b"a b", b"a\x00"] {
        let mut out = Vec::new();
        put_string(&mut out, bad);
        assert!(Reader::new(&out).name_list("n").is_err(), "{bad:?}");
    }
}
