//! Writes the change report between two merged OSV snapshots, the way the importer does at
//! every import (bench/diff.sh times it):
//!
//!     diff_snapshots OLD.ndjson NEW.ndjson [--out FILE]
//!
//! The document goes to FILE (default `/dev/null`); the totals are printed to stderr. The
//! generation references are made up from the file names, the SBOM delta is empty. Exits 1 when
//! the snapshots could not be compared (the report then says `"complete": false`).

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ouk_changes::change_report::{write_change_report, GenerationRef};
use ouk_changes::sbom_diff::SbomDelta;

/// The importer's per-line cap (`ouk-importer/src/changes.rs`).
const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;
const BUF: usize = 64 * 1024;

fn reference(path: &Path, sequence: u64) -> GenerationRef {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    GenerationRef {
        generation: format!("{sequence}-{name}"),
        kit_id: name,
        sequence,
    }
}

fn open(path: &Path) -> Result<BufReader<File>, String> {
    File::open(path)
        .map(|f| BufReader::with_capacity(BUF, f))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn run(old: &Path, new: &Path, out: &Path) -> Result<(), String> {
    let before = open(old)?;
    let after = open(new)?;
    let file = File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut w = BufWriter::with_capacity(BUF, file);
    let summary = write_change_report(
        Some(&reference(old, 1)),
        &reference(new, 2),
        Some(before),
        Some(after),
        &SbomDelta::default(),
        MAX_LINE_BYTES,
        &mut w,
    )
    .map_err(|e| e.to_string())?
    .summary;
    w.flush().map_err(|e| format!("{}: {e}", out.display()))?;
    let t = &summary.totals;
    eprintln!(
        "records_before={} records_after={} added={} changed={} withdrawn={} removed={} unchanged={}",
        summary.records_before,
        summary.records_after,
        t.added,
        t.changed,
        t.withdrawn,
        t.removed,
        summary.unchanged
    );
    // An incomplete report carries an empty summary (the reason is in the document).
    if summary.records_after == 0 {
        return Err("no records compared (incomplete report, or an empty NEW snapshot)".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut files = Vec::new();
    let mut out = PathBuf::from("/dev/null");
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--out" {
            match args.next() {
                Some(v) => out = PathBuf::from(v),
                None => files.clear(),
            }
        } else {
            files.push(PathBuf::from(a));
        }
    }
    let [old, new] = files.as_slice() else {
        eprintln!("usage: diff_snapshots OLD.ndjson NEW.ndjson [--out FILE]");
        return ExitCode::from(2);
    };
    match run(old, new, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
