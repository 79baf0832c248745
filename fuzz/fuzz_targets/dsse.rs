//! DSSE envelope parse + verify against a fixed key, with a round-trip check.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ouk_format::fuzzing::fuzz_dsse(data));
