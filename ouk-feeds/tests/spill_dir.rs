//! The merge's spill files live in `TMPDIR`; when that directory is unusable
//! the error says which directory it was, so the fix (a `TMPDIR` with room)
//! is obvious. Alone in its own test binary because it changes the process
//! environment.

mod common;

use ouk_feeds::{merge_sources, FeedError, MergeOptions};

#[test]
fn unusable_tmpdir_is_named() {
    let base = tempfile::tempdir().unwrap();
    let missing = base.path().join("no-such-dir");
    std::env::set_var("TMPDIR", &missing);
    let err = merge_sources(&common::testdata_specs(), &MergeOptions::default()).unwrap_err();
    std::env::remove_var("TMPDIR");
    match &err {
        FeedError::Spill { dir, .. } => assert_eq!(dir, &missing),
        other => panic!("expected a spill error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&missing.display().to_string()) && text.contains("TMPDIR"),
        "{text}"
    );
}
