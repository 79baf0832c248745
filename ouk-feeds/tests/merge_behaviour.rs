//! Merge behaviour on the constructed fixtures in testdata/feeds and on small
//! inputs built in temporary directories.

mod common;

use common::records;

use std::fs;
use std::path::Path;

use ouk_feeds::{
    merge_sources, FeedError, Limits, MergeOptions, SourceKind, SourceSpec, SourceStatus,
};
use serde_json::json;

fn opts_unreviewed() -> MergeOptions {
    MergeOptions {
        include_unreviewed: true,
        ..MergeOptions::default()
    }
}

#[test]
fn determinism_shuffled_inputs_give_identical_bytes() {
    let specs = common::testdata_specs();
    let mut reversed = specs.clone();
    reversed.reverse();
    let mut rotated = specs.clone();
    rotated.rotate_left(3);
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for (i, s) in [specs, reversed, rotated].iter().enumerate() {
        let out = merge_sources(s, &opts_unreviewed()).unwrap();
        let d = dir.path().join(i.to_string());
        out.write_to(&d).unwrap();
        outputs.push(d);
    }
    for name in ["advisories.ndjson", "snapshot.json", "merge-report.json"] {
        let a = fs::read(outputs[0].join(name)).unwrap();
        assert!(!a.is_empty());
        for o in &outputs[1..] {
            assert_eq!(a, fs::read(o.join(name)).unwrap(), "{name} differs");
        }
    }
    // Shared real feeds too, with a different thread count.
    let s = common::shared_specs();
    let mut r = s.clone();
    r.reverse();
    let a = merge_sources(&s, &MergeOptions::default()).unwrap();
    let b = merge_sources(
        &r,
        &MergeOptions {
            threads: 1,
            ..MergeOptions::default()
        },
    )
    .unwrap();
    assert_eq!(common::lines(&a), common::lines(&b));
    assert_eq!(a.report(), b.report());
}

#[test]
fn output_is_sorted_ndjson_with_unique_ids() {
    let out = merge_sources(&common::testdata_specs(), &opts_unreviewed()).unwrap();
    let lines = common::lines(&out);
    let ids: Vec<&str> = lines.iter().map(|(i, _)| i.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted);
    for (_, l) in &lines {
        assert!(!l.contains('\n'));
    }
}

#[test]
fn malformed_records_are_reported_and_skipped() {
    let out = merge_sources(&common::testdata_specs(), &opts_unreviewed()).unwrap();
    let rej = &out.report().rejected;
    let has = |file_end: &str, reason_part: &str| {
        rej.iter()
            .any(|r| r.file.ends_with(file_end) && r.reason.contains(reason_part))
    };
    assert!(has("osv/broken.json", "invalid OSV JSON"), "{rej:?}");
    assert!(has("osv/bad-event.json", "exactly one of"), "{rej:?}");
    assert!(has("all.zip!not-json.json", "invalid OSV JSON"), "{rej:?}");
    assert!(has("page-0000.json#vulnerabilities[2]", "cve"), "{rej:?}");
    assert!(has("cnvd-sharedata-2099.xml", "CNVD number"), "{rej:?}");
    assert_eq!(rej.len(), 5, "{rej:?}");
    // The rest of each file/source is kept.
    assert!(common::lines(&out)
        .iter()
        .any(|(id, _)| id == "CVE-2099-1003"));
    // An unknown ecosystem drops that affected entry only.
    let d = &out.report().dropped;
    assert_eq!(d.len(), 1);
    assert!(d[0].reason.contains("NotAnEcosystem"));
    let r = common::records(&out)
        .into_iter()
        .find(|r| r["id"] == "OSV-2099-2")
        .unwrap();
    assert_eq!(r["affected"].as_array().unwrap().len(), 1);
}

#[test]
fn testdata_clusters_withdrawn_and_names() {
    let out = merge_sources(&common::testdata_specs(), &opts_unreviewed()).unwrap();
    let recs = common::records(&out);
    let get = |id: &str| {
        recs.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    // Cluster A: GHSA + PYSEC (YAML) + NVD + 5 regional enrichments.
    let a = get("CVE-2099-1001");
    assert_eq!(a["aliases"], json!(["GHSA-aaaa-bbbb-cccc", "PYSEC-2099-1"]));
    let enr: Vec<&str> = a["database_specific"]["ouk"]["enrichment"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(
        enr,
        vec![
            "EUVD-2099-0001",
            "JVNDB-2099-000001",
            "CNNVD-209901-001",
            "CNVD-2099-00001",
            "BDU:2099-00001"
        ]
    );
    // PEP 503: Demo_Pkg, demo.pkg, demo-pkg are one package; the GHSA cap keeps its own entry.
    let aff = a["affected"].as_array().unwrap();
    assert_eq!(aff.len(), 2);
    assert!(aff
        .iter()
        .all(|x| x["package"]["name"] == "demo-pkg" && x["package"]["ecosystem"] == "PyPI"));
    assert!(aff
        .iter()
        .any(|x| x["database_specific"]["last_known_affected_version_range"] == "<= 2.0.4"));
    // NVD first in severity precedence.
    assert_eq!(
        a["database_specific"]["ouk"]["severity_source"],
        "nvd:CVE-2099-1001"
    );
    // Maven group:artifact normalised (spaces removed).
    assert_eq!(
        get("CVE-2099-1003")["affected"][0]["package"]["name"],
        "org.demo:demo-core"
    );
    // Withdrawn: GHSA from unreviewed/, and NVD's Rejected CVE.
    assert_eq!(
        get("GHSA-wwww-xxxx-yyyy")["withdrawn"],
        "2099-03-05T00:00:00Z"
    );
    assert_eq!(get("CVE-2099-1004")["withdrawn"], "2099-04-20T00:00:00Z");
    // Go placeholder dates: cluster modified from GHSA, related kept, GO's own modified null.
    let b = get("CVE-2099-1002");
    assert_eq!(b["modified"], "2099-02-01T00:00:00Z");
    assert_eq!(b["related"], json!(["CVE-2099-9999"]));
    // Without include_unreviewed the withdrawn GHSA is not read.
    let out2 = merge_sources(&common::testdata_specs(), &MergeOptions::default()).unwrap();
    assert!(!common::lines(&out2)
        .iter()
        .any(|(id, _)| id == "GHSA-wwww-xxxx-yyyy"));
}

fn write(p: &Path, v: &serde_json::Value) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, serde_json::to_vec(v).unwrap()).unwrap();
}

#[test]
fn required_sources_fail_unless_allow_partial() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let nvd = common::testdata().join("nvd");
    let specs = vec![
        SourceSpec::new(SourceKind::Osv, &empty),
        SourceSpec::new(SourceKind::Nvd, &nvd),
    ];
    match merge_sources(&specs, &MergeOptions::default()) {
        Err(FeedError::RequiredSourceUnusable { kind, .. }) => assert_eq!(kind, "osv"),
        other => panic!(
            "expected RequiredSourceUnusable, got {:?}",
            other.map(|o| o.record_count())
        ),
    }
    let out = merge_sources(
        &specs,
        &MergeOptions {
            allow_partial: true,
            ..MergeOptions::default()
        },
    )
    .unwrap();
    assert!(out.is_partial());
    let s = out
        .snapshot()
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Osv)
        .unwrap();
    assert_eq!(s.status, SourceStatus::Empty);
    // Unreadable path.
    let missing = vec![SourceSpec::new(SourceKind::Ghsa, dir.path().join("nope"))];
    assert!(matches!(
        merge_sources(&missing, &MergeOptions::default()),
        Err(FeedError::RequiredSourceUnusable { .. })
    ));
    // Neither osv nor ghsa given.
    let only_nvd = vec![SourceSpec::new(SourceKind::Nvd, &nvd)];
    assert!(matches!(
        merge_sources(&only_nvd, &MergeOptions::default()),
        Err(FeedError::NoRequiredSource)
    ));
    let p = merge_sources(
        &only_nvd,
        &MergeOptions {
            allow_partial: true,
            ..MergeOptions::default()
        },
    )
    .unwrap();
    assert!(p.is_partial());
    assert!(p.record_count() > 0);
    // A source whose only file is malformed is empty => fails.
    let bad = dir.path().join("bad");
    fs::create_dir_all(&bad).unwrap();
    fs::write(bad.join("x.json"), b"{").unwrap();
    assert!(merge_sources(
        &[SourceSpec::new(SourceKind::Osv, &bad)],
        &MergeOptions::default()
    )
    .is_err());
}

#[test]
fn runaway_cluster_is_split_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    // A chain OSV-1 -> OSV-2 -> ... -> OSV-12: one cluster of 12 ids.
    for i in 1..=12 {
        write(
            &dir.path().join(format!("OSV-{i}.json")),
            &json!({"id": format!("OSV-2099-{i}"), "modified": "2099-01-01T00:00:00Z", "aliases": [format!("OSV-2099-{}", i + 1)]}),
        );
    }
    let specs = vec![SourceSpec::new(SourceKind::Osv, dir.path())];
    let joined = merge_sources(&specs, &MergeOptions::default()).unwrap();
    assert_eq!(joined.record_count(), 1);
    let small = MergeOptions {
        limits: Limits {
            max_cluster_ids: 8,
            ..Limits::default()
        },
        ..MergeOptions::default()
    };
    let split = merge_sources(&specs, &small).unwrap();
    assert_eq!(split.record_count(), 12);
    assert_eq!(split.report().runaway_clusters.len(), 1);
    assert_eq!(split.report().runaway_clusters[0].ids, 13);
}

#[test]
fn an_aggregate_distribution_advisory_does_not_merge_its_cves() {
    // A DSA fixing two CVEs names both as `upstream`; the per-CVE records name one each.
    let dir = tempfile::tempdir().unwrap();
    let rec = |id: &str, key: &str, ids: &[&str]| {
        json!({"id": id, "modified": "2099-01-01T00:00:00Z", key: ids,
               "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1"}]}]}]})
    };
    write(
        &dir.path().join("DSA-9999-1.json"),
        &rec(
            "DSA-9999-1",
            "upstream",
            &["CVE-2099-7001", "CVE-2099-7002"],
        ),
    );
    write(
        &dir.path().join("DEBIAN-CVE-2099-7001.json"),
        &rec("DEBIAN-CVE-2099-7001", "upstream", &["CVE-2099-7001"]),
    );
    write(
        &dir.path().join("DEBIAN-CVE-2099-7002.json"),
        &rec("DEBIAN-CVE-2099-7002", "upstream", &["CVE-2099-7002"]),
    );
    write(
        &dir.path().join("GHSA.json"),
        &rec("OSV-2099-7001", "aliases", &["CVE-2099-7001"]),
    );
    let out = merge_sources(
        &[SourceSpec::new(SourceKind::Osv, dir.path())],
        &MergeOptions::default(),
    )
    .unwrap();
    let ids: Vec<String> = records(&out)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    // The two CVEs stay apart; each joins its per-CVE record; the DSA is its own record
    // and keeps both CVEs as upstream.
    assert_eq!(ids, ["CVE-2099-7001", "CVE-2099-7002", "DSA-9999-1"]);
    let dsa = &records(&out)[2];
    assert_eq!(dsa["upstream"], json!(["CVE-2099-7001", "CVE-2099-7002"]));
    assert_eq!(out.report().runaway_clusters.len(), 0);
}

#[test]
fn records_with_too_many_aliases_do_not_join() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<String> = (0..40)
        .map(|i| format!("CVE-2099-{:04}", 5000 + i))
        .collect();
    write(
        &dir.path().join("a.json"),
        &json!({"id": "OSV-2099-100", "modified": "2099-01-01T00:00:00Z", "aliases": many}),
    );
    write(
        &dir.path().join("b.json"),
        &json!({"id": "OSV-2099-101", "modified": "2099-01-01T00:00:00Z", "aliases": ["CVE-2099-5000"]}),
    );
    let out = merge_sources(
        &[SourceSpec::new(SourceKind::Osv, dir.path())],
        &MergeOptions::default(),
    )
    .unwrap();
    assert_eq!(out.record_count(), 2);
    assert_eq!(out.report().alias_limited.len(), 1);
    assert_eq!(out.report().alias_limited[0].id, "OSV-2099-100");
}

#[test]
fn oversized_file_is_rejected_not_read() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("a.json"),
        &json!({"id": "OSV-2099-1", "modified": "2099-01-01T00:00:00Z", "details": "x".repeat(5000)}),
    );
    write(
        &dir.path().join("b.json"),
        &json!({"id": "OSV-2099-2", "modified": "2099-01-01T00:00:00Z"}),
    );
    let o = MergeOptions {
        limits: Limits {
            max_file_bytes: 1000,
            ..Limits::default()
        },
        ..MergeOptions::default()
    };
    let out = merge_sources(&[SourceSpec::new(SourceKind::Osv, dir.path())], &o).unwrap();
    assert_eq!(out.record_count(), 1);
    assert!(out.report().rejected[0].reason.contains("max_file_bytes"));
}

#[test]
fn record_count_limit_discards_the_whole_source() {
    // The merge reads each source in one streaming pass; crossing
    // max_records_per_source part-way must still drop every record of that
    // source (not just the tail) and make it unreadable.
    let t = common::testdata();
    let specs = vec![
        SourceSpec::new(SourceKind::Osv, t.join("osv")),
        SourceSpec::new(SourceKind::Ghsa, t.join("ghsa")),
        SourceSpec::new(SourceKind::Nvd, t.join("nvd")),
    ];
    let full = merge_sources(&specs, &opts_unreviewed()).unwrap();
    let counts: Vec<(SourceKind, u64)> = full
        .snapshot()
        .sources
        .iter()
        .map(|s| (s.kind, s.records))
        .collect();
    let nvd_records = counts
        .iter()
        .find(|(k, _)| *k == SourceKind::Nvd)
        .unwrap()
        .1;
    assert!(
        nvd_records >= 2,
        "fixture needs an NVD source with 2+ records"
    );
    let max = nvd_records - 1;
    let opts = MergeOptions {
        allow_partial: true,
        limits: Limits {
            max_records_per_source: max,
            ..Limits::default()
        },
        ..opts_unreviewed()
    };
    let out = merge_sources(&specs, &opts).unwrap();
    assert!(out.is_partial());
    for s in &out.snapshot().sources {
        let before = counts.iter().find(|(k, _)| *k == s.kind).unwrap().1;
        if before > max {
            assert_eq!(s.status, SourceStatus::Unreadable, "{:?}", s.kind);
            assert_eq!(s.records, 0);
            assert_eq!(s.newest_modified, None);
            assert_eq!(
                s.error.as_deref(),
                Some(format!("more than {max} records (limit max_records_per_source)").as_str())
            );
        } else {
            assert_eq!(s.records, before);
        }
    }
    let kept: u64 = out.snapshot().sources.iter().map(|s| s.records).sum();
    assert_eq!(out.report().counts.input_records, kept);
    // Without allow_partial a required source over the limit is fatal.
    let strict = MergeOptions {
        allow_partial: false,
        limits: Limits {
            max_records_per_source: 1,
            ..Limits::default()
        },
        ..opts_unreviewed()
    };
    assert!(matches!(
        merge_sources(&specs, &strict),
        Err(FeedError::RequiredSourceUnusable { .. })
    ));
}

/// When one of the three files cannot be written, none of them lands: an old
/// output directory keeps its old, consistent files and no temporary is left.
#[test]
fn write_to_is_all_or_nothing() {
    let out = merge_sources(&common::testdata_specs(), &opts_unreviewed()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("advisories.ndjson"), "old\n").unwrap();
    fs::write(d.join("snapshot.json"), "old\n").unwrap();
    // The report's temporary name is taken by a directory: its staging fails
    // after the advisories and the snapshot were staged on the other thread.
    fs::create_dir(d.join(".merge-report.json.tmp")).unwrap();
    let err = out.write_to(d).unwrap_err();
    assert!(
        matches!(&err, FeedError::Write { path, .. } if path.ends_with("merge-report.json")),
        "{err:?}"
    );
    assert_eq!(
        fs::read_to_string(d.join("advisories.ndjson")).unwrap(),
        "old\n"
    );
    assert_eq!(
        fs::read_to_string(d.join("snapshot.json")).unwrap(),
        "old\n"
    );
    let mut left: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".merge-report.json.tmp",
            "advisories.ndjson",
            "snapshot.json"
        ]
    );
    // With the obstacle gone the same output writes in full.
    fs::remove_dir(d.join(".merge-report.json.tmp")).unwrap();
    let w = out.write_to(d).unwrap();
    assert_ne!(fs::read_to_string(&w.advisories.path).unwrap(), "old\n");
    assert!(d.join("merge-report.json").is_file());
}

/// A CVE JSON 5 record (cvelistV5) given as NVD data is rejected with a reason that names the
/// format and what to give instead, and the source counts as empty, not as read.
#[test]
fn cve_json5_under_nvd_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let rec = json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2024-1234", "state": "PUBLISHED"},
        "containers": {"cna": {"descriptions": [{"lang": "en", "value": "A flaw."}]}}
    });
    fs::write(dir.path().join("CVE-2024-1234.json"), rec.to_string()).unwrap();
    let mut specs: Vec<SourceSpec> = common::testdata_specs()
        .into_iter()
        .filter(|s| s.kind != SourceKind::Nvd)
        .collect();
    specs.push(SourceSpec::new(SourceKind::Nvd, dir.path().to_path_buf()));
    let out = merge_sources(&specs, &opts_unreviewed()).unwrap();
    let nvd = out
        .snapshot()
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Nvd)
        .unwrap();
    assert_eq!(nvd.status, SourceStatus::Empty);
    assert_eq!((nvd.files, nvd.rejected), (1, 1));
    let r = out
        .report()
        .rejected
        .iter()
        .find(|r| r.source == SourceKind::Nvd)
        .unwrap();
    assert!(
        r.reason.contains("CVE JSON 5") && r.reason.contains("nvdcve-2.0"),
        "{}",
        r.reason
    );

    // The same file as the only OSV source: the merge stops, and the error says why.
    let specs = vec![SourceSpec::new(SourceKind::Osv, dir.path().to_path_buf())];
    match merge_sources(&specs, &MergeOptions::default()) {
        Err(FeedError::RequiredSourceUnusable { kind, reason, .. }) => {
            assert_eq!(kind, "osv");
            assert!(
                reason.contains("first: ") && reason.contains("CVE-2024-1234.json"),
                "{reason}"
            );
        }
        other => panic!("expected RequiredSourceUnusable, got {:?}", other.is_ok()),
    }
}

/// Links and special files in a source are never read (a checkout from elsewhere must not pull
/// files from outside it into a kit) and each one is reported as rejected with why, instead of
/// the source silently shrinking.
#[test]
fn links_and_special_files_are_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    let src = dir.path().join("osv");
    fs::create_dir_all(&outside).unwrap();
    fs::create_dir_all(&src).unwrap();
    let osv = common::testdata().join("osv/GO-2099-0001.json");
    fs::copy(&osv, src.join("GO-2099-0001.json")).unwrap();
    let mut linked = serde_json::from_slice::<serde_json::Value>(&fs::read(&osv).unwrap()).unwrap();
    linked["id"] = json!("GO-2099-7777");
    write(&outside.join("GO-2099-7777.json"), &linked);
    std::os::unix::fs::symlink(outside.join("GO-2099-7777.json"), src.join("link.json")).unwrap();
    std::os::unix::fs::symlink(&outside, src.join("linked-dir")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(src.join("pipe.json"))
        .status()
        .is_ok_and(|s| s.success());
    let specs = vec![
        SourceSpec::new(SourceKind::Osv, &src),
        SourceSpec::new(SourceKind::Ghsa, common::testdata().join("ghsa")),
    ];
    let out = merge_sources(&specs, &MergeOptions::default()).unwrap();
    let ids: Vec<String> = common::lines(&out).into_iter().map(|(id, _)| id).collect();
    assert!(!ids.iter().any(|id| id == "GO-2099-7777"), "{ids:?}");
    let rejected: Vec<(String, String)> = out
        .report()
        .rejected
        .iter()
        .filter(|r| r.source == SourceKind::Osv)
        .map(|r| {
            (
                r.file.rsplit('/').next().unwrap().to_string(),
                r.reason.clone(),
            )
        })
        .collect();
    let why = |name: &str| {
        rejected
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{name} not reported: {rejected:?}"))
    };
    assert!(why("link.json").contains("symbolic link"));
    assert!(why("linked-dir").contains("symbolic link"));
    if fifo {
        assert!(why("pipe.json").contains("not a regular file"));
    }
    let osv_source = &out.snapshot().sources[0];
    assert_eq!(osv_source.kind, SourceKind::Osv);
    assert_eq!(osv_source.files, 1);
}
