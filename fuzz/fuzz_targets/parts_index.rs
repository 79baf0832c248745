//! A split kit's signed part index: parse, validation, signature check, round trip.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ouk_format::fuzzing::fuzz_parts_index(data));
