//! Arbitrary bytes as an OpenSSH certificate blob: parsed (as a certificate and as any public
//! key), and when it parses, its CA signature verified and every check run; a certificate
//! line (`type base64`) built from the bytes goes through the key-line parser too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seashell_proto::keys::{CertType, Certificate, PublicKey};

fuzz_target!(|data: &[u8]| {
    let _ = PublicKey::from_blob(data);
    let Ok(cert) = Certificate::from_blob(data) else {
        return;
    };
    assert_eq!(cert.to_blob(), data);
    let _ = cert.verify_signature();
    for kind in [CertType::User, CertType::Host] {
        let _ = cert.check(kind, Some("fuzz"), 1_700_000_000);
    }
    let _ = cert.check_critical_options(Some([127, 0, 0, 1].into()));
    let _ = cert.check_critical_options(None);
    let _ = cert.force_command();
    let _ = seashell_keys::certificate::describe_certificate(&cert, "fuzz");
});
