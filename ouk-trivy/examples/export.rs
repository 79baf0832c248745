//! Builds a Trivy DB from a merged `advisories.ndjson`, or from a directory of one-record OSV
//! JSON files (handy for fixtures; they are joined into NDJSON in file-name order first).
//!
//! ```text
//! cargo run --release -p ouk-trivy --example export -- INPUT OUTDIR [EPOCH]
//! ```
//! EPOCH (Unix seconds) defaults to SOURCE_DATE_EPOCH, else 1735689600 (2025-01-01).
//! Writes OUTDIR/db/trivy.db and OUTDIR/db/metadata.json and prints the summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn ndjson_from_dir(dir: &Path, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut text = String::new();
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f)?)?;
        text.push_str(&serde_json::to_string(&v)?);
        text.push('\n');
    }
    std::fs::write(out, text)?;
    Ok(())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, out) = match args.as_slice() {
        [i, o] | [i, o, _] => (PathBuf::from(i), PathBuf::from(o)),
        _ => return Err("usage: export INPUT(advisories.ndjson|osv-dir) OUTDIR [EPOCH]".into()),
    };
    let epoch: u64 = match args.get(2) {
        Some(e) => e.parse()?,
        None => std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .map(|e| e.parse())
            .transpose()?
            .unwrap_or(1_735_689_600),
    };
    std::fs::create_dir_all(&out)?;
    let ndjson = if input.is_dir() {
        let p = out.join("advisories.ndjson");
        ndjson_from_dir(&input, &p)?;
        p
    } else {
        input
    };
    let summary = ouk_trivy::export_trivy_db(&ndjson, &out, &ouk_trivy::ExportOptions::new(epoch))?;
    println!("{summary:#?}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("export: {e}");
            ExitCode::FAILURE
        }
    }
}
