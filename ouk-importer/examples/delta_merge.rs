//! The importer's delta merge-join alone (no kit, no store, no Trivy export), for bench/delta.sh
//! to measure its peak RSS apart from the Trivy DB export that follows it in an import:
//!
//!   delta_merge BASE.ndjson UPSERTS.ndjson REMOVED.ndjson OUT.ndjson RESULT_SHA256 RESULT_SIZE

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use ouk_importer::delta::{merge, DeltaAnnotation, MergeError};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 6 {
        eprintln!("usage: delta_merge BASE UPSERTS REMOVED OUT RESULT_SHA256 RESULT_SIZE");
        std::process::exit(2);
    }
    let open = |p: &str| BufReader::with_capacity(1 << 16, File::open(p).expect(p));
    let spec: DeltaAnnotation = serde_json::from_value(serde_json::json!({
        "base_kit_sha256": "00".repeat(32),
        "base_sequence": 0,
        "result_advisories_sha256": a[4],
        "result_advisories_size": a[5].parse::<u64>().expect("RESULT_SIZE"),
        "trivy_db": false,
        "upserts": 0,
        "removed": 0,
    }))
    .expect("spec");
    let mut out = BufWriter::with_capacity(1 << 16, File::create(&a[3]).expect("OUT"));
    let r = merge(
        open(&a[0]),
        Path::new(&a[0]),
        open(&a[1]),
        open(&a[2]),
        &spec,
        &mut out,
    );
    match r {
        Ok(()) => out.flush().expect("flush"),
        Err(MergeError::Delta(e)) => {
            eprintln!("refused: {} ({})", e, e.kind());
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("failed: {e:?}");
            std::process::exit(1);
        }
    }
}
