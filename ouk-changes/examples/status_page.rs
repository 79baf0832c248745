//! Renders a rich sample status page (3 generations, a change report, a re-scan with one newly
//! affected SBOM, and hostile strings in ids and names) to the path given as the first argument:
//!
//!     cargo run -p ouk-changes --example status_page -- /tmp/page.html
//!
//! CI opens the result in a real browser (.ci/parts/report-browser.sh).

use ouk_changes::html::{
    render, AffectedSbom, AuditStatus, ChangeExample, ChangeSummary, CountsRow, FindingRow,
    GenerationCounts, GenerationRow, RescanSummary, StatusPage,
};
use std::collections::BTreeMap;

const NOW: i64 = 1_741_608_000; // 2025-03-10T12:00:00Z
const DAY: i64 = 86_400;
const HOSTILE_KIT: &str = "kit-<script>alert(1)</script>";
const HOSTILE_SBOM: &str = "shop-frontend\"><img src=x onerror=alert(2)>.cdx.json";
const HOSTILE_ADVISORY: &str = "GHSA-<img src=x onerror=alert(3)>";

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn counts(gen: &str, seq: u64, scale: u64) -> GenerationCounts {
    let eco = [
        ("npm", 4_100),
        ("PyPI", 2_300),
        ("Maven", 1_900),
        ("Go", 1_200),
        ("crates.io", 420),
        ("Debian", 3_000),
        ("Alpine", 800),
    ];
    let sev = [
        ("CRITICAL", 900),
        ("HIGH", 4_200),
        ("MEDIUM", 5_600),
        ("LOW", 1_900),
        ("UNKNOWN", 1_120),
    ];
    let by_ecosystem: Vec<(&str, u64)> = eco.iter().map(|(k, v)| (*k, v * scale / 100)).collect();
    let by_severity: Vec<(&str, u64)> = sev.iter().map(|(k, v)| (*k, v * scale / 100)).collect();
    GenerationCounts {
        generation: gen.to_string(),
        sequence: seq,
        total: by_severity.iter().map(|(_, v)| v).sum(),
        by_ecosystem: map(&by_ecosystem),
        by_severity: map(&by_severity),
    }
}

/// Day `d` of March 2025 (0 or less: February), as "MM-DD".
fn day(d: i64) -> String {
    if d >= 1 {
        format!("03-{d:02}")
    } else {
        format!("02-{:02}", 28 + d)
    }
}

fn row(c: [u64; 4]) -> CountsRow {
    CountsRow {
        added: c[0],
        changed: c[1],
        withdrawn: c[2],
        removed: c[3],
    }
}

fn sample() -> StatusPage {
    let gens = [
        // (name, sequence, created days ago, expires in, expires at, active)
        (
            "20250308-0042",
            42,
            2 * DAY,
            12 * DAY + 5 * 3600,
            "2025-03-22T17:00:00Z",
            true,
        ),
        (
            "20250301-0041",
            41,
            9 * DAY,
            2 * DAY + 6 * 3600,
            "2025-03-12T18:00:00Z",
            false,
        ),
        (
            "20250222-0040",
            40,
            16 * DAY,
            -(4 * DAY + 12 * 3600),
            "2025-03-06T00:00:00Z",
            false,
        ),
    ];
    let generations = gens
        .iter()
        .map(|(name, seq, age, left, expires_at, active)| GenerationRow {
            name: name.to_string(),
            kit_id: if *seq == 41 {
                HOSTILE_KIT.to_string()
            } else {
                format!("osv-stable-{seq}")
            },
            sequence: *seq,
            channel: "stable".into(),
            created_at: format!("2025-{}T12:00:00Z", day(10 - age / DAY)),
            created_unix: NOW - age,
            imported_at: format!("2025-{}T13:30:00Z", day(10 - age / DAY)),
            expires_at: expires_at.to_string(),
            expires_unix: NOW + left,
            active: *active,
            trust_root_version: if *seq == 40 { 1 } else { 2 },
        })
        .collect();
    let changes = ChangeSummary {
        from: Some("20250301-0041".into()),
        to: "20250308-0042".into(),
        added: 412,
        changed: 1_093,
        withdrawn: 7,
        removed: 2,
        by_ecosystem: [
            ("npm", [150, 400, 3, 0]),
            ("PyPI", [90, 211, 1, 0]),
            ("Maven", [70, 180, 2, 1]),
            ("Go", [60, 190, 1, 1]),
            ("Debian", [42, 112, 0, 0]),
        ]
        .iter()
        .map(|(k, c)| (k.to_string(), row(*c)))
        .collect(),
        by_severity: [
            ("CRITICAL", [21, 40, 0, 0]),
            ("HIGH", [130, 300, 2, 1]),
            ("MEDIUM", [190, 500, 4, 1]),
            ("LOW", [71, 253, 1, 0]),
        ]
        .iter()
        .map(|(k, c)| (k.to_string(), row(*c)))
        .collect(),
        examples: vec![
            ChangeExample {
                id: "GHSA-4x7q-9m2v-8c3p".into(),
                kind: "added".into(),
                ecosystems: vec!["npm".into()],
                severity: Some("CRITICAL".into()),
                fields: vec![],
            },
            ChangeExample {
                id: "PYSEC-2025-118".into(),
                kind: "changed".into(),
                ecosystems: vec!["PyPI".into()],
                severity: Some("HIGH".into()),
                fields: vec!["affected".into(), "database_specific".into()],
            },
            ChangeExample {
                id: HOSTILE_ADVISORY.into(),
                kind: "withdrawn".into(),
                ecosystems: vec!["Go".into(), "Maven".into()],
                severity: Some("MEDIUM".into()),
                fields: vec!["withdrawn".into()],
            },
            ChangeExample {
                id: "DSA-5871-1".into(),
                kind: "removed".into(),
                ecosystems: vec!["Debian".into()],
                severity: None,
                fields: vec![],
            },
        ],
        sbom_components_added: 14,
        sbom_components_removed: 3,
        sbom_components_changed: 9,
    };
    let rescan = RescanSummary {
        at: "2025-03-10T11:58:02Z".into(),
        generation: "20250308-0042".into(),
        previous: Some("20250301-0041".into()),
        sboms_scanned: 23,
        unchecked: [("rpm/redhat".to_string(), 212)].into(),
        newly_affected: vec![AffectedSbom {
            sbom: HOSTILE_SBOM.into(),
            new_findings: vec![
                FindingRow {
                    advisory: "GHSA-4x7q-9m2v-8c3p".into(),
                    package: "pkg:npm/express".into(),
                    installed: "4.18.2".into(),
                    fixed: Some("4.21.1".into()),
                    severity: Some("CRITICAL".into()),
                },
                FindingRow {
                    advisory: HOSTILE_ADVISORY.into(),
                    package: "pkg:npm/<b>lodash</b>".into(),
                    installed: "4.17.20".into(),
                    fixed: None,
                    severity: Some("LOW".into()),
                },
                FindingRow {
                    advisory: "CVE-2025-21502".into(),
                    package: "pkg:maven/org.yaml/snakeyaml".into(),
                    installed: "1.33".into(),
                    fixed: Some("2.0".into()),
                    severity: Some("HIGH".into()),
                },
            ],
        }],
        engine: "trivy 0.59".into(),
        unreadable: vec![format!(
            "legacy/{HOSTILE_SBOM}: CycloneDX XML is not read; convert it to CycloneDX JSON"
        )],
    };
    StatusPage {
        title: "/var/lib/ouk/store".into(),
        generated_at: "2025-03-10T12:00:00Z".into(),
        now_unix: NOW,
        generations,
        advisories_by_generation: vec![
            counts("20250222-0040", 40, 96),
            counts("20250301-0041", 41, 98),
            counts("20250308-0042", 42, 100),
        ],
        last_changes: Some(changes),
        last_rescan: Some(rescan),
        audit: AuditStatus {
            ok: true,
            entries: 57,
            detail: "hash chain verified from the first entry; last entry 2025-03-10T11:58:02Z"
                .into(),
        },
    }
}

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: status_page OUT.html");
        std::process::exit(2);
    };
    let html = render(&sample());
    if let Err(e) = std::fs::write(&path, html) {
        eprintln!("writing {}: {e}", path.to_string_lossy());
        std::process::exit(1);
    }
}
