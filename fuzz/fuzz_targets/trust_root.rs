//! Trust root parse + validate + verify.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ouk_format::fuzzing::fuzz_trust_root(data));
