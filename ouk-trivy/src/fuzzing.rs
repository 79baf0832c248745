//! Entry points for `cargo fuzz` targets (`fuzz/`), compiled with every build so they never rot.
//! Not for use by the CLIs.

use std::io::Write;

use crate::{validate_bolt, DbLimits, REQUIRED_BUCKETS};

/// Validate arbitrary bytes as a Bolt file. The validator reads a file (that is how the importer
/// calls it), so the input goes to one scratch file per process first; any verdict is fine, a
/// panic, hang or unbounded allocation is the bug being looked for.
pub fn fuzz_bolt(data: &[u8]) {
    let path = std::env::temp_dir().join(format!("ouk-fuzz-bolt-{}.db", std::process::id()));
    let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(data));
    if written.is_ok() {
        let _ = validate_bolt(&path, &REQUIRED_BUCKETS, &DbLimits::default());
    }
}
