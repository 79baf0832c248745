//! Manifest payload parser + validator, with a parse → serialise → parse round-trip check.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ouk_format::fuzzing::fuzz_manifest(data));
