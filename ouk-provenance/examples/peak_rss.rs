//! Measures the peak resident set of the SBOM and statement validators on generated hostile inputs
//! (issue 11, item 4). Run one case per process so each peak is its own, in release:
//!
//! ```text
//! cargo run --release -p ouk-provenance --example peak_rss -- CASE
//! ```
//!
//! CASE is `cdx`, `cdx-refuse`, `cdx-worst` (every bounded structure filled at once), `spdx` or
//! `statement` (the streaming validators), or the same name
//! with `-value` appended for the old way (or `-gen` to time the generator alone), kept here only as the "before" figure: the whole input in
//! a buffer, then a `serde_json::Value` of it (what `validate_sbom` / `check_statement` did).
//! Prints the verdict, the peak growth during validation and the process's whole peak (VmHWM).

#[path = "../tests/common/gen.rs"]
mod gen;

use ouk_provenance::{check_statement, validate_sbom_reader, Limits};
use std::io::Read;

fn reset_peak() -> u64 {
    // Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    gen::vm_rss_kib().unwrap_or(0)
}

fn old_way(mut r: impl Read) -> String {
    let mut buf = Vec::new();
    if let Err(e) = r.read_to_end(&mut buf) {
        return format!("read error {e}");
    }
    match serde_json::from_slice::<serde_json::Value>(&buf) {
        Ok(v) => format!(
            "parsed ({} top-level keys)",
            v.as_object().map_or(0, |m| m.len())
        ),
        Err(e) => format!("error {e}"),
    }
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let limits = Limits::default();
    let statement = case
        .starts_with("statement")
        .then(|| gen::statement_flood(400, 9_990));
    let payload = statement.as_deref().unwrap_or(&[]);
    let input_bytes = match case.as_str() {
        "cdx" | "cdx-value" => gen::cyclonedx_shape(27_000, 40, 32).0,
        "cdx-refuse" | "cdx-refuse-value" => gen::cyclonedx_shape(42_000, 40, 10).0,
        "spdx" | "spdx-value" => gen::stream_len(gen::spdx(200_000)),
        "cdx-worst" => gen::stream_len(gen::cyclonedx_worst(13_000, 229_000)),
        _ => payload.len(),
    };
    let before = reset_peak();
    let verdict = match case.as_str() {
        "cdx" => format!(
            "{:?}",
            validate_sbom_reader(gen::cyclonedx(27_000, 40, 32), &limits)
        ),
        "cdx-value" => old_way(gen::cyclonedx(27_000, 40, 32)),
        "cdx-refuse" => format!(
            "{:?}",
            validate_sbom_reader(gen::cyclonedx(42_000, 40, 10), &limits)
        ),
        "cdx-refuse-value" => old_way(gen::cyclonedx(42_000, 40, 10)),
        "cdx-gen" => format!(
            "generated {} bytes",
            gen::stream_len(gen::cyclonedx(27_000, 40, 32))
        ),
        "spdx-gen" => format!("generated {} bytes", gen::stream_len(gen::spdx(200_000))),
        "spdx" => format!("{:?}", validate_sbom_reader(gen::spdx(200_000), &limits)),
        "cdx-worst" => format!(
            "{:?}",
            validate_sbom_reader(gen::cyclonedx_worst(13_000, 229_000), &limits)
        ),
        "spdx-value" => old_way(gen::spdx(200_000)),
        "statement" => format!("{:?}", check_statement(payload, &[], &[], &limits)),
        "statement-value" => old_way(payload),
        _ => {
            eprintln!("usage: peak_rss cdx|cdx-refuse|spdx|statement[-value] | cdx-gen | spdx-gen");
            std::process::exit(2);
        }
    };
    let peak = gen::vm_hwm_kib().unwrap_or(0);
    let verdict: String = verdict.chars().take(160).collect();
    println!(
        "{case}: input {:.1} MiB, peak growth {:.1} MiB, process VmHWM {:.1} MiB, verdict {verdict}",
        input_bytes as f64 / 1048576.0,
        peak.saturating_sub(before) as f64 / 1024.0,
        peak as f64 / 1024.0,
    );
}
