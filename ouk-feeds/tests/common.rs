//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ouk_feeds::{SourceKind, SourceSpec};

/// `../shared/feeds` beside the workspace root (read in place, never copied).
pub fn shared_feeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/feeds")
}

/// The repo's constructed fixtures.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/feeds")
}

/// Every source in `../shared/feeds`.
pub fn shared_specs() -> Vec<SourceSpec> {
    let f = shared_feeds();
    let r = f.join("regional");
    vec![
        SourceSpec::new(SourceKind::Ghsa, f.join("ghsa")),
        SourceSpec::new(SourceKind::Osv, f.join("go")),
        SourceSpec::new(SourceKind::Osv, f.join("pysec")),
        SourceSpec::new(SourceKind::Osv, f.join("rustsec")),
        SourceSpec::new(SourceKind::Osv, f.join("osv-schema-testdata")),
        SourceSpec::new(SourceKind::Nvd, f.join("nvd")),
        SourceSpec::new(SourceKind::Cnnvd, r.join("cnnvd")),
        SourceSpec::new(SourceKind::Cnvd, r.join("cnvd")),
        SourceSpec::new(SourceKind::Enisa, r.join("euvd")),
        SourceSpec::new(SourceKind::Jvn, r.join("jvn")),
    ]
}

/// Every source in `testdata/feeds`.
pub fn testdata_specs() -> Vec<SourceSpec> {
    let t = testdata();
    vec![
        SourceSpec::new(SourceKind::Osv, t.join("osv")),
        SourceSpec::new(SourceKind::Osv, t.join("osv-zip/all.zip")),
        SourceSpec::new(SourceKind::Osv, t.join("pypa")),
        SourceSpec::new(SourceKind::Ghsa, t.join("ghsa")),
        SourceSpec::new(SourceKind::Nvd, t.join("nvd")),
        SourceSpec::new(SourceKind::Cnnvd, t.join("cnnvd")),
        SourceSpec::new(SourceKind::Cnvd, t.join("cnvd")),
        SourceSpec::new(SourceKind::Enisa, t.join("enisa")),
        SourceSpec::new(SourceKind::Jvn, t.join("jvn")),
        SourceSpec::new(SourceKind::Bdu, t.join("bdu")),
    ]
}

/// Every output record as `(id, line)`, read back from the spill file.
pub fn lines(out: &ouk_feeds::MergeOutput) -> Vec<(String, String)> {
    out.records()
        .map(|r| {
            let (id, l) = r.expect("merged line reads back");
            (id.to_string(), l)
        })
        .collect()
}

/// Parse every output line.
pub fn records(out: &ouk_feeds::MergeOutput) -> Vec<serde_json::Value> {
    lines(out)
        .iter()
        .map(|(_, l)| serde_json::from_str(l).expect("output line is JSON"))
        .collect()
}
