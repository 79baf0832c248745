//! The real sample data in ../shared/feeds, read in place. The alias-cluster
//! table in ../shared/feeds/SOURCES.md (and the cross-feed join table in
//! regional/SOURCES.md) is the ground truth; the expected sets below are copied
//! from those tables by hand, not computed by the code under test.

mod common;

use std::collections::BTreeSet;

use ouk_feeds::{merge_sources, MergeOptions, SourceKind};
use serde_json::Value;

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// SOURCES.md "Alias clusters for merge/dedup tests".
const TABLE: &[&[&str]] = &[
    &["CVE-2023-32681", "GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"],
    &["CVE-2023-43804", "GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"],
    &["CVE-2022-42969", "GHSA-w596-4wvx-j9j6", "PYSEC-2022-42969"],
    &["CVE-2020-36567", "GHSA-6vm3-jj99-7229", "GO-2020-0001"],
    &["CVE-2023-39325", "GHSA-4374-p667-p6c8", "GO-2023-2102"],
    &["CVE-2022-27664", "GHSA-69cg-p879-7622", "GO-2022-0969"],
    &["CVE-2021-32715", "GHSA-f3pg-qwvg-p99c", "RUSTSEC-2021-0078"],
    &["CVE-2023-22466", "GHSA-7rrj-xr53-82p7", "RUSTSEC-2023-0001"],
    &["CVE-2022-24713", "GHSA-m5pq-gvj9-9vr8", "RUSTSEC-2022-0013"],
    &["CVE-2024-39236", "GHSA-9v2f-6vcg-3hgv"],
];

/// SOURCES.md single-source rows: each must be alone in its output record.
const SINGLES: &[&str] = &[
    "GHSA-35jh-r3h4-6jhm",
    "GHSA-c2qf-rxjj-qqgw",
    "GHSA-jfh8-c2jp-5v3q",
    "GHSA-25mq-v84q-4j7r",
    "GHSA-wq4h-7r42-5hrr",
    "GHSA-5crp-9r3c-p9vr",
    "MAL-2024-10238",
    "CVE-2023-41045",
];

fn merged() -> ouk_feeds::MergeOutput {
    merge_sources(&common::shared_specs(), &MergeOptions::default()).expect("merge of shared feeds")
}

#[test]
fn every_alias_cluster_is_exact() {
    let out = merged();
    let recs = common::records(&out);
    for row in TABLE {
        let want = set(row);
        // Exactly one output record holds any id of the row, and its id+aliases is the row.
        let holders: Vec<&Value> = recs
            .iter()
            .filter(|r| {
                let mut ids = vec![r["id"].as_str().unwrap_or("").to_string()];
                ids.extend(
                    r["aliases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str().map(str::to_string)),
                );
                ids.iter().any(|i| want.contains(i))
            })
            .collect();
        assert_eq!(
            holders.len(),
            1,
            "cluster {row:?} spread over {} records",
            holders.len()
        );
        let r = holders[0];
        let mut got: BTreeSet<String> = r["aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        got.insert(r["id"].as_str().unwrap_or("").to_string());
        assert_eq!(got, want, "cluster {row:?}");
        // Canonical id: the single CVE of the cluster.
        assert_eq!(r["id"], row[0]);
        // The report lists the same id set.
        let rep = out
            .report()
            .clusters
            .iter()
            .find(|c| c.id == row[0])
            .expect("cluster in report");
        assert_eq!(rep.ids.iter().cloned().collect::<BTreeSet<_>>(), want);
    }
    assert_eq!(
        out.report()
            .clusters
            .iter()
            .filter(|c| c.members.len() > 1)
            .count(),
        TABLE.len()
    );
}

#[test]
fn single_source_records_stay_alone() {
    let out = merged();
    for id in SINGLES {
        let holders: Vec<_> = out
            .report()
            .clusters
            .iter()
            .filter(|c| c.members.len() > 1 && c.members.iter().any(|m| m.id == *id))
            .collect();
        assert!(holders.is_empty(), "{id} joined {holders:?}");
    }
    // GHSA-5crp has no aliases: it keeps its own id.
    assert!(common::lines(&out)
        .iter()
        .any(|(id, _)| id == "GHSA-5crp-9r3c-p9vr"));
    assert!(common::lines(&out)
        .iter()
        .any(|(id, _)| id == "MAL-2024-10238"));
}

#[test]
fn sources_and_provenance_on_every_record() {
    let out = merged();
    for r in common::records(&out) {
        let src = r["database_specific"]["ouk"]["sources"]
            .as_array()
            .expect("ouk.sources");
        assert!(!src.is_empty(), "{}", r["id"]);
        for s in src {
            assert!(
                s["source"].is_string() && s["id"].is_string() && s.get("modified").is_some(),
                "{s}"
            );
        }
    }
    // The 4-source cluster lists ghsa, osv (GO copy kept once), nvd.
    let recs = common::records(&out);
    let r = recs
        .iter()
        .find(|r| r["id"] == "CVE-2020-36567")
        .expect("record");
    let kinds: BTreeSet<&str> = r["database_specific"]["ouk"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["source"].as_str())
        .collect();
    assert_eq!(kinds, ["ghsa", "nvd", "osv"].into_iter().collect());
    // go/ and osv-schema-testdata/ both hold GO-2020-0001: one kept, one reported.
    assert!(out
        .report()
        .duplicates
        .iter()
        .any(|d| d.id == "GO-2020-0001"));
}

#[test]
fn severity_precedence_and_conflict() {
    let out = merged();
    let recs = common::records(&out);
    let r = recs
        .iter()
        .find(|r| r["id"] == "CVE-2021-32715")
        .expect("record");
    // Default precedence NVD > GHSA: NVD's primary CVSS 3.1 (5.3) vector, not GHSA's (3.1).
    assert_eq!(
        r["severity"][0]["score"],
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N"
    );
    assert_eq!(
        r["database_specific"]["ouk"]["severity_source"],
        "nvd:CVE-2021-32715"
    );
    let per_source = r["database_specific"]["ouk"]["severity"]
        .as_array()
        .unwrap();
    assert!(per_source.iter().any(|s| s["source"] == "ghsa"
        && s["severity"][0]["score"] == "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"));
    assert!(out
        .report()
        .conflicts
        .iter()
        .any(|c| c.id == "CVE-2021-32715" && c.field == "severity CVSS_V3"));
    // With GHSA first, GHSA's vector wins.
    let opts = MergeOptions {
        severity_precedence: vec![SourceKind::Ghsa, SourceKind::Nvd, SourceKind::Osv],
        ..MergeOptions::default()
    };
    let out2 = merge_sources(&common::shared_specs(), &opts).unwrap();
    let r2 = common::records(&out2)
        .into_iter()
        .find(|r| r["id"] == "CVE-2021-32715")
        .unwrap();
    assert_eq!(
        r2["severity"][0]["score"],
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"
    );
}

#[test]
fn ghsa_last_known_affected_version_range_is_kept() {
    let out = merged();
    let recs = common::records(&out);
    // GHSA-wcg3-cvx6-7396 (alias CVE-2020-26235): open range introduced 0.1 capped by "< 0.2".
    let r = recs
        .iter()
        .find(|r| r["id"] == "CVE-2020-26235")
        .expect("record");
    let aff = r["affected"].as_array().unwrap();
    let capped: Vec<&Value> = aff
        .iter()
        .filter(|a| a["database_specific"]["last_known_affected_version_range"] == "< 0.2")
        .collect();
    assert_eq!(capped.len(), 1);
    assert_eq!(
        capped[0]["ranges"][0]["events"],
        serde_json::json!([{"introduced": "0.1"}])
    );
    // The fixed range stays in an entry without the cap.
    assert!(aff.iter().any(|a| a["database_specific"]
        .get("last_known_affected_version_range")
        .is_none()
        && a["ranges"][0]["events"]
            == serde_json::json!([{"introduced": "0.2.7"}, {"fixed": "0.2.23"}])));
}

#[test]
fn pysec_unsorted_events_merge_with_ghsa_ranges() {
    let out = merged();
    let recs = common::records(&out);
    let r = recs
        .iter()
        .find(|r| r["id"] == "CVE-2023-43804")
        .expect("record");
    let aff = r["affected"].as_array().unwrap();
    assert_eq!(aff.len(), 1, "one urllib3 entry");
    let eco: Vec<&Value> = aff[0]["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["type"] == "ECOSYSTEM")
        .collect();
    // GHSA's two entries and PYSEC's unsorted 4-event range are the same two intervals.
    assert_eq!(eco.len(), 2);
    assert_eq!(
        eco[0]["events"],
        serde_json::json!([{"introduced": "0"}, {"fixed": "1.26.17"}])
    );
    assert_eq!(
        eco[1]["events"],
        serde_json::json!([{"introduced": "2.0.0"}, {"fixed": "2.0.6"}])
    );
}

#[test]
fn go_placeholder_dates_are_not_used() {
    let out = merged();
    for r in common::records(&out) {
        assert!(
            !r["modified"].as_str().unwrap().starts_with("0001"),
            "{}",
            r["id"]
        );
        if let Some(p) = r["published"].as_str() {
            assert!(!p.starts_with("0001"), "{}", r["id"]);
        }
    }
    let recs = common::records(&out);
    let r = recs.iter().find(|r| r["id"] == "CVE-2023-39325").unwrap();
    // GO-2023-2102 carries only placeholders; GHSA-4374's real modified is used.
    assert_eq!(r["modified"], "2023-12-07T23:00:43Z"); // ghsa/GHSA-4374-p667-p6c8.json `modified`
    let go = r["database_specific"]["ouk"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "GO-2023-2102")
        .unwrap();
    assert!(go["modified"].is_null());
}

#[test]
fn regional_joins_follow_the_table() {
    let out = merged();
    let rep = out.report();
    // CVE-2021-44228: CNVD-2021-100238 enriches the GHSA log4j record.
    let c = rep
        .clusters
        .iter()
        .find(|c| c.id == "CVE-2021-44228")
        .expect("log4j cluster");
    assert_eq!(
        c.enrichment
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>(),
        vec!["CNVD-2021-100238"]
    );
    // CVE-2023-44487 must NOT join GO-2023-2102 (named there only in `related`).
    let go = rep
        .clusters
        .iter()
        .find(|c| c.id == "CVE-2023-39325")
        .unwrap();
    assert!(go.enrichment.is_empty());
    let eo: BTreeSet<&str> = rep
        .enrichment_only
        .iter()
        .map(|e| e.member.id.as_str())
        .collect();
    for id in [
        "CNVD-2023-75597",
        "EUVD-2023-2795",
        "JVNDB-2018-009328",
        "CNVD-2017-00199",
        "CNVD-2017-00244",
        "CNNVD-201701-881",
        "CNNVD-201701-225",
        "CNVD-2017-00450",
    ] {
        assert!(eo.contains(id), "{id} should be enrichment-only");
    }
    // The BID number in CNVD-2017-00210 is not an alias.
    assert!(rep
        .ignored_aliases
        .iter()
        .any(|a| a.id == "CNVD-2017-00210" && a.value == "95226"));
    let e = rep
        .enrichment_only
        .iter()
        .find(|e| e.member.id == "CNVD-2017-00210")
        .unwrap();
    assert_eq!(e.aliases, vec!["CVE-2017-0400".to_string()]);
    // JVN: one record, three CVEs.
    let j = rep
        .enrichment_only
        .iter()
        .find(|e| e.member.id == "JVNDB-2022-000097")
        .unwrap();
    assert_eq!(
        j.aliases,
        vec!["CVE-2022-41993", "CVE-2022-46287", "CVE-2022-46288"]
    );
    // The log4j record carries CNVD's own id and title under ouk.enrichment, not in aliases.
    let recs = common::records(&out);
    let r = recs.iter().find(|r| r["id"] == "CVE-2021-44228").unwrap();
    assert!(!r["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "CNVD-2021-100238"));
    assert_eq!(
        r["database_specific"]["ouk"]["enrichment"][0]["id"],
        "CNVD-2021-100238"
    );
    assert_eq!(
        r["database_specific"]["ouk"]["enrichment"][0]["source"],
        "cnvd"
    );
}

#[test]
fn the_schema_file_in_the_nvd_dir_is_reported_not_fatal() {
    let out = merged();
    let rej = &out.report().rejected;
    assert_eq!(rej.len(), 1, "{rej:?}");
    assert!(rej[0].file.ends_with("vunnel-nvd-record-schema-1.0.1.json"));
    assert_eq!(rej[0].source, SourceKind::Nvd);
    // Both vunnel API pages were read: 1 + 38 CVEs, plus 4 per-CVE files.
    let nvd: u64 = out
        .snapshot()
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Nvd)
        .map(|s| s.records)
        .sum();
    assert_eq!(nvd, 1 + 38 + 4);
}
