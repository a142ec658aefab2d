//! Arbitrary text as an authorized_keys file: every line's options parsed, and the result
//! queried (address restrictions, expiry, CA lines).
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_adapter::authorized_keys::AuthorizedKeys;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ak = AuthorizedKeys::parse(&text);
    for k in &ak.keys {
        let _ = k.options.allows_from(Some([10, 0, 0, 1].into()));
        let _ = k.options.allows_from(Some("::1".parse().expect("address")));
        let _ = k.options.allows_from(None);
        let _ = k.options.expired(1_700_000_000);
        let _ = ak.find(&k.key);
        let _ = ak.cert_authorities(&k.key).count();
    }
});
