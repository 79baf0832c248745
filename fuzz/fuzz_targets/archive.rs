//! The whole streaming kit verifier over arbitrary bytes, against the hostile fixture's trust root
//! (the seed kits are signed by its kit key, so mutations reach every stage of the reader).
#![no_main]
use std::sync::OnceLock;

use ouk_format::trust_root::{verify_trust_root, TrustRoot};
use ouk_format::verified::Verified;

fn trust() -> &'static Verified<TrustRoot> {
    static TRUST: OnceLock<Verified<TrustRoot>> = OnceLock::new();
    TRUST.get_or_init(|| {
        let bytes = ouk_hostile::fixture::trust_root();
        verify_trust_root(&bytes, ouk_hostile::fixture::now(), 0, &Default::default())
            .expect("fixture trust root verifies")
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| ouk_format::fuzzing::fuzz_archive(trust(), data));
