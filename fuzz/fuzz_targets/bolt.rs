//! The bounds-checked Bolt validator the importer runs on every Trivy DB before anything opens it.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ouk_trivy::fuzzing::fuzz_bolt(data));
