//! Merge feeds into an output directory (CI and demo helper; the real CLI is
//! `ouk-builder merge`).
//!
//! Usage: merge [--allow-partial] [--parse-only] --out DIR KIND=PATH...

use std::path::PathBuf;
use std::process::ExitCode;

use ouk_feeds::{merge_sources, parse_sources, MergeOptions, SourceSpec};

fn main() -> ExitCode {
    let mut opts = MergeOptions::default();
    let mut out: Option<PathBuf> = None;
    let mut specs = Vec::new();
    let mut parse_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--allow-partial" => opts.allow_partial = true,
            "--parse-only" => parse_only = true,
            "--include-unreviewed" => opts.include_unreviewed = true,
            "--out" => out = args.next().map(PathBuf::from),
            _ => match a.parse::<SourceSpec>() {
                Ok(s) => specs.push(s),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            },
        }
    }
    if parse_only {
        return match parse_sources(&specs, &opts) {
            Ok(s) => {
                println!("{}", serde_json::to_string(&s).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        };
    }
    let Some(out) = out else {
        eprintln!("usage: merge [--allow-partial] [--parse-only] --out DIR KIND=PATH...");
        return ExitCode::from(2);
    };
    match merge_sources(&specs, &opts).and_then(|m| m.write_to(&out).map(|w| (m, w))) {
        Ok((m, w)) => {
            let c = &m.report().counts;
            eprintln!(
                "merged {} input records into {} ({} multi-record clusters, {} rejected, partial={}) -> {}",
                c.input_records,
                c.output_records,
                c.multi_record_clusters,
                c.rejected,
                m.is_partial(),
                w.advisories.path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
