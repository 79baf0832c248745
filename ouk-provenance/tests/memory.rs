//! Issue 11, item 4: the SBOM and statement validators must hold neither a whole SBOM nor a whole
//! statement parse tree of attacker size. Each case runs in a child process (this same test binary,
//! re-invoked) so its peak resident set is its own: the child resets VmHWM right before validating and
//! reports the growth, the parent asserts it stays well under 32 MiB. Inputs are generated
//! deterministically; SBOMs are streamed, never held whole. `cdx-worst` fills the identifier set, the
//! forward-reference budget and one element at once (the validator's own worst case). Linux only
//! (reads /proc).

mod common;

use common::gen;
use ouk_provenance::{
    check_statement, validate_sbom_reader, Limits, ProvenanceError, SbomError, SbomFormat,
};
use std::process::Command;

const CHILD: &str = "OUK_PROVENANCE_MEMORY_CASE";
/// Set to run the full-size inputs (64 MiB SBOM, ~4 M values) in a debug build too; release builds
/// always do. Debug builds otherwise use a quarter of the size: still ~16 MiB and ~1 M values, far
/// beyond every per-element cap, so the bound shown is the same, in a quarter of the time.
const FULL: &str = "OUK_PROVENANCE_MEMORY_FULL";

/// 1 for the full-size inputs, 4 for the quarter-size ones.
fn scale() -> usize {
    if cfg!(debug_assertions) && std::env::var_os(FULL).is_none() {
        4
    } else {
        1
    }
}

/// The limits of a case: the value cap follows the scale so the "refuse" case still hits it.
fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_json_values /= scale();
    l
}
/// Growth budget asserted for every case (the importer's whole peak must stay <= 64 MiB).
const BUDGET_KIB: u64 = 24 * 1024;

/// Runs one case in this process and returns (verdict, growth of the peak RSS in KiB).
fn run_case(case: &str) -> (String, u64) {
    let limits = limits();
    let k = scale();
    // Generate what must exist before validating (the statement payload is held by the importer).
    let payload = (case == "statement-flood").then(|| gen::statement_flood(400 / k, 9_990));
    let before = reset_peak();
    let verdict = match case {
        "cdx-accept" => format!(
            "{:?}",
            validate_sbom_reader(gen::cyclonedx(27_000 / k, 40, 32), &limits)
        ),
        "cdx-refuse" => format!(
            "{:?}",
            validate_sbom_reader(gen::cyclonedx(42_000 / k, 40, 10), &limits)
        ),
        "spdx-accept" => format!(
            "{:?}",
            validate_sbom_reader(gen::spdx(200_000 / k), &limits)
        ),
        // Not scaled: it fills the validator's own caps, which do not depend on the input size.
        "cdx-worst" => format!(
            "{:?}",
            validate_sbom_reader(gen::cyclonedx_worst(13_000, 229_000), &limits)
        ),
        "statement-flood" => format!(
            "{:?}",
            check_statement(payload.as_deref().unwrap_or(&[]), &[], &[], &limits)
        ),
        other => panic!("unknown case {other}"),
    };
    let after = gen::vm_hwm_kib().unwrap_or(u64::MAX);
    (verdict, after.saturating_sub(before))
}

/// Resets VmHWM to the current RSS (Linux `clear_refs` 5) and returns that RSS in KiB.
fn reset_peak() -> u64 {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    gen::vm_rss_kib().expect("VmRSS")
}

#[test]
fn validators_hold_bounded_memory_on_hostile_inputs() {
    if let Ok(case) = std::env::var(CHILD) {
        let (verdict, growth) = run_case(&case);
        println!("OUK-MEM {case} growth_kib={growth} verdict={verdict}");
        return;
    }
    if !std::path::Path::new("/proc/self/clear_refs").exists() {
        eprintln!("skipped: needs Linux /proc/self/clear_refs");
        return;
    }
    // Shape of the generated SBOMs (checked so the test keeps measuring what it claims to).
    let k = scale();
    let cap = limits().max_json_values;
    let (bytes, values) = gen::cyclonedx_shape(27_000 / k, 40, 32);
    assert!(bytes > (60 << 20) / k && bytes <= (64 << 20) / k, "{bytes}");
    assert!(values > cap * 3 / 4 && values < cap, "{values}");
    let (bytes, values) = gen::cyclonedx_shape(42_000 / k, 40, 10);
    assert!(bytes <= (64 << 20) / k && values > cap, "{bytes} {values}");

    let cases: [(&str, String); 5] = [
        (
            "cdx-accept",
            format!("{:?}", Ok::<_, SbomError>(SbomFormat::CycloneDx16)),
        ),
        (
            "cdx-refuse",
            format!(
                "{:?}",
                Err::<SbomFormat, _>(SbomError::JsonLimit {
                    what: "values",
                    limit: cap
                })
            ),
        ),
        (
            "spdx-accept",
            format!("{:?}", Ok::<_, SbomError>(SbomFormat::Spdx23)),
        ),
        (
            "cdx-worst",
            format!("{:?}", Ok::<_, SbomError>(SbomFormat::CycloneDx16)),
        ),
        (
            "statement-flood",
            format!(
                "{:?}",
                Err::<(), _>(ProvenanceError::Malformed(
                    "unknown field `x`, expected `sources` or `options` at line 1 column 224"
                        .into()
                ))
            ),
        ),
    ];
    let exe = std::env::current_exe().expect("test binary");
    for (case, want) in cases {
        let out = Command::new(&exe)
            .args([
                "--exact",
                "validators_hold_bounded_memory_on_hostile_inputs",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, case)
            .output()
            .expect("run child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{case}: {stdout}");
        let tag = format!("OUK-MEM {case} ");
        let line = stdout
            .lines()
            .find_map(|l| l.find(&tag).and_then(|at| l.get(at..)))
            .unwrap_or_else(|| panic!("{case}: no report in {stdout}"));
        eprintln!("{line}");
        let growth: u64 = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("growth_kib="))
            .and_then(|g| g.parse().ok())
            .expect("growth figure");
        let verdict = line.split_once("verdict=").map(|(_, v)| v).unwrap_or("");
        // Statement verdict messages carry serde_json's position; compare the variant text.
        let want_head = want.split(" at line").next().unwrap_or(&want);
        assert!(
            verdict.starts_with(want_head),
            "{case}: {verdict} (want {want})"
        );
        assert!(growth < BUDGET_KIB, "{case}: peak grew by {growth} KiB");
    }
}
