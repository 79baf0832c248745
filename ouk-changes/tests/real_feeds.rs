//! The matcher and the SBOM reader on real public data: the OSV records and SBOMs in
//! `../shared/feeds` (read in place, never copied into the repository).

use std::path::{Path, PathBuf};

use ouk_changes::matcher::{Finding, Matcher};
use ouk_changes::sbom::{read_sbom, read_sbom_dir, Sbom, SbomFormat};
use serde_json::Value;

fn feeds() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/feeds");
    assert!(
        dir.is_dir(),
        "{} is missing: these tests read the shared feed samples in place (../shared beside \
         the checkout)",
        dir.display()
    );
    dir
}

/// The real OSV records (GHSA, Go vulndb, RustSec, PyPA converted to JSON) as NDJSON.
fn real_snapshot() -> (String, usize) {
    let feeds = feeds();
    let mut files = Vec::new();
    for (sub, suffix) in [
        ("ghsa", ".json"),
        ("go", ".json"),
        ("rustsec", ".json"),
        ("pysec", ".derived.json"),
    ] {
        for e in std::fs::read_dir(feeds.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().ends_with(suffix) {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = String::new();
    for f in &files {
        let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        out.push_str(&v.to_string());
        out.push('\n');
    }
    (out, files.len())
}

fn real_sboms() -> Vec<(String, Sbom)> {
    let entries = read_sbom_dir(&feeds().join("sbom"), 1 << 20).unwrap();
    entries
        .into_iter()
        .map(|(name, r)| (name.clone(), r.unwrap_or_else(|e| panic!("{name}: {e}"))))
        .collect()
}

fn keys(findings: &[Finding]) -> Vec<(String, String, String, String, Option<String>)> {
    findings
        .iter()
        .map(|f| {
            (
                f.sbom.clone(),
                f.advisory.clone(),
                f.package.clone(),
                f.installed.clone(),
                f.fixed.clone(),
            )
        })
        .collect()
}

#[test]
fn reads_every_real_sbom() {
    let sboms = real_sboms();
    let summary: Vec<(&str, SbomFormat, usize, usize)> = sboms
        .iter()
        .map(|(n, s)| {
            let with_purl = s.components.iter().filter(|c| c.purl.is_some()).count();
            (n.as_str(), s.format, s.components.len(), with_purl)
        })
        .collect();
    use SbomFormat::{CycloneDx, Spdx};
    assert_eq!(
        summary,
        [
            (
                "cyclonedx-1.5/cyclonedx-python_requirements_file_with-comments_1.5.json",
                CycloneDx,
                5,
                5
            ),
            ("cyclonedx-1.5/valid-bom-1.5.json", CycloneDx, 2, 1),
            (
                "cyclonedx-1.6/cyclonedx-node-npm_dev-dependencies_flat_bom.1.6.json",
                CycloneDx,
                5,
                5
            ),
            ("cyclonedx-1.6/valid-bom-1.6.json", CycloneDx, 3, 3),
            (
                "cyclonedx-1.6/valid-vulnerability-1.6.json",
                CycloneDx,
                1,
                1
            ),
            ("spdx-2.3/SPDXJSONExample-v2.3.spdx.json", Spdx, 4, 1),
        ]
    );
    let spdx = &sboms[5].1;
    assert_eq!(spdx.name, "SPDX-Tools-v2.0");
    let npm = &sboms[2].1;
    assert!(npm
        .components
        .iter()
        .any(|c| c.purl.as_deref() == Some("pkg:npm/%40types/node@20.14.10#types/node")));
}

#[test]
fn real_records_against_real_sboms() {
    let (snapshot, n) = real_snapshot();
    assert_eq!(n, 26, "ghsa 17 + go 3 + rustsec 3 + pysec 3");
    let findings = Matcher::new(&real_sboms())
        .scan(snapshot.as_bytes(), 1 << 20)
        .unwrap();
    // The real SBOMs hold requests 2.31.0 and urllib3 2.2.0 (both at or above the fixes of
    // GHSA-j8r2-6x86-q33q / PYSEC-2023-74 and GHSA-v845-jxx5-vc9f / PYSEC-2023-192), npm
    // @types/*, uuid and undici-types, and Maven example coordinates (com.acme, jackson-databind
    // 2.9.4, apache-jena): none of them is in an affected range of these 26 records.
    assert_eq!(keys(&findings), []);
}

#[test]
fn real_records_against_a_constructed_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.cdx.json");
    std::fs::write(
        &path,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
            {"type":"library","name":"requests","version":"2.30.0","purl":"pkg:pypi/requests@2.30.0"},
            {"type":"library","name":"requests","version":"2.31.0","purl":"pkg:pypi/requests@2.31.0"},
            {"type":"library","name":"golang.org/x/net","version":"v0.16.0","purl":"pkg:golang/golang.org/x/net@v0.16.0"},
            {"type":"library","name":"golang.org/x/net","version":"v0.17.0","purl":"pkg:golang/golang.org/x/net@v0.17.0"}
        ]}"#,
    )
    .unwrap();
    let sbom = read_sbom(&path, 1 << 20).unwrap();
    let (snapshot, _) = real_snapshot();
    let findings = Matcher::new(&[("site".to_string(), sbom)])
        .scan(snapshot.as_bytes(), 1 << 20)
        .unwrap();
    let s = |x: &str| x.to_string();
    assert_eq!(
        keys(&findings),
        [
            (
                s("site"),
                s("GHSA-4374-p667-p6c8"),
                s("golang.org/x/net"),
                s("v0.16.0"),
                Some(s("0.17.0"))
            ),
            (
                s("site"),
                s("GHSA-j8r2-6x86-q33q"),
                s("requests"),
                s("2.30.0"),
                Some(s("2.31.0"))
            ),
            (
                s("site"),
                s("GO-2023-2102"),
                s("golang.org/x/net"),
                s("v0.16.0"),
                Some(s("0.17.0"))
            ),
            (
                s("site"),
                s("PYSEC-2023-74"),
                s("requests"),
                s("2.30.0"),
                Some(s("2.31.0"))
            ),
        ]
    );
    let sev: Vec<_> = findings
        .iter()
        .map(|f| (f.advisory.as_str(), f.severity.as_deref()))
        .collect();
    // GHSA labels its records (MODERATE is reported as MEDIUM); the Go vulndb and PyPA records
    // carry no severity at all (in the merged snapshot the GHSA record of the cluster has it).
    assert_eq!(
        sev,
        [
            ("GHSA-4374-p667-p6c8", Some("HIGH")),
            ("GHSA-j8r2-6x86-q33q", Some("MEDIUM")),
            ("GO-2023-2102", None),
            ("PYSEC-2023-74", None),
        ]
    );
}
