//! Issue 13 end to end, on real data: kit N from the real feeds of `../shared/feeds`, kit N+1
//! from the same plus one real advisory (GHSA-jjg7-2v4v-x38h, `testdata/changes/`) that
//! affects a component (`idna 2.10`) of a real SBOM of `../shared/feeds/sbom`. Both kits are
//! built by the builder library with the dev keys; everything after that is the real
//! `ouk-importer` binary: import, `diff`, `rescan`, `report --html`.

mod devkit;

use std::path::Path;
use std::process::Output;

use devkit::{dev_request, importer, now_unix, real_sources, root, shared_feeds};
use ouk_builder::build::{build, SbomArg, TrivySource};
use ouk_builder::progress::Silent;
use ouk_feeds::MergeOptions;
use ouk_format::time::Timestamp;

const ADDED: &str = "GHSA-jjg7-2v4v-x38h";
const AFFECTED_SBOM: &str =
    "cyclonedx-1.5/cyclonedx-python_requirements_file_with-comments_1.5.json";

fn kit(out: &Path, sequence: u64, next_day: bool) {
    kit_with_trivy(out, sequence, next_day, TrivySource::None);
}

fn kit_with_trivy(out: &Path, sequence: u64, next_day: bool, trivy: TrivySource) {
    let feeds = shared_feeds();
    let sources = real_sources(next_day);
    // Yesterday's and today's kits, by the real clock (the importer checks both times).
    let created = Timestamp::from_unix(now_unix() - 86_400 * (3 - sequence as i64));
    let mut req = dev_request(out, sequence, created, created.plus_secs(300 * 86_400));
    req.sources = sources;
    req.merge = MergeOptions {
        fallback_modified_unix: Some(created.unix()),
        ..MergeOptions::default()
    };
    req.sboms = vec![SbomArg {
        describes: None,
        path: feeds.join("sbom").join(AFFECTED_SBOM),
    }];
    req.trivy = trivy;
    build(&req, &Silent).unwrap();
}

fn run(args: &[&str], store: &Path) -> Output {
    let mut a: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    a.push("--store".as_ref());
    a.push(store.as_os_str());
    importer(&a)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// `rescan --sboms DIR --json [EXTRA...]`, which must exit with `code`; its report.
fn rescan(store: &Path, sboms: &Path, extra: &[&str], code: i32) -> serde_json::Value {
    let mut args = vec!["rescan", "--sboms", sboms.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let o = run(&args, store);
    assert_eq!(
        o.status.code(),
        Some(code),
        "rescan {extra:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    json(&o)
}

fn import(kit: &Path, store: &Path) -> serde_json::Value {
    let trust = root().join("keys/dev/trust-root.json");
    let o = importer(&[
        "import".as_ref(),
        kit.as_os_str(),
        "--trust-root".as_ref(),
        trust.as_os_str(),
        "--store".as_ref(),
        store.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    json(&o)
}

fn aliases_of(v: &serde_json::Value) -> Vec<String> {
    v["aliases"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_real_advisory_added_the_next_day_is_reported_by_diff_rescan_and_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (k1, k2) = (dir.path().join("k1.ouk"), dir.path().join("k2.ouk"));
    kit(&k1, 1, false);
    kit(&k2, 2, true);

    // First import: everything is new, nothing to compare against.
    let r1 = import(&k1, &store);
    assert_eq!(r1["changes"]["from"], serde_json::Value::Null);
    let first_total = r1["changes"]["advisories"]["totals"]["added"]
        .as_u64()
        .unwrap();
    assert!(first_total > 20, "{r1}");

    // A re-scan under one generation has nothing "new" (no previous generation).
    let r = rescan(&store, &shared_feeds().join("sbom"), &[], 0);
    assert_eq!(r["with_new_findings"], serde_json::json!([]));

    // Second import: exactly one advisory added, reported by the import itself...
    let r2 = import(&k2, &store);
    let totals = &r2["changes"]["advisories"]["totals"];
    assert_eq!(
        totals,
        &serde_json::json!({"added":1,"changed":0,"withdrawn":0,"removed":0}),
        "{r2}"
    );
    assert_eq!(r2["changes"]["complete"], true);

    // ...by `diff` (defaults: active generation against the one before it)...
    let o = run(&["diff", "--json"], &store);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = json(&o);
    // The kit's own SBOM package is one version change from kit to kit, not a removal and an
    // addition.
    let kit_rows = |side: &str| -> Vec<serde_json::Value> {
        d["sboms"][side]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["sbom"] == "sbom/kit.spdx.json" && r["component"] == "ouk-kit-stable")
            .cloned()
            .collect()
    };
    assert!(kit_rows("added").is_empty(), "{}", d["sboms"]);
    assert!(kit_rows("removed").is_empty(), "{}", d["sboms"]);
    let changed = kit_rows("changed");
    assert_eq!(changed.len(), 1, "{}", d["sboms"]);
    assert_eq!(
        (&changed[0]["from"], &changed[0]["to"]),
        (
            &serde_json::json!("stable-1"),
            &serde_json::json!("stable-2")
        )
    );
    let entries = d["advisories"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{d}");
    let e = &entries[0];
    assert_eq!(e["kind"], "added");
    assert!(
        e["id"] == ADDED || aliases_of(e).iter().any(|a| a == ADDED),
        "{e}"
    );
    assert_eq!(e["ecosystems"], serde_json::json!(["PyPI"]));
    assert_eq!(e["severity"], "MEDIUM");
    assert_eq!(
        d["advisories"]["summary"]["by_ecosystem"]["PyPI"]["added"],
        1
    );
    assert_eq!(
        d["advisories"]["summary"]["records_after"]
            .as_u64()
            .unwrap(),
        first_total + 1
    );
    // The stored report of the generation says the same.
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("current/.ouk/changes.json")).unwrap())
            .unwrap();
    assert_eq!(stored["advisories"], d["advisories"]);
    let text = run(&["diff"], &store);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(ADDED), "{text}");

    // ...and by `rescan`: exactly that SBOM is newly affected, by exactly that advisory.
    let r = rescan(&store, &shared_feeds().join("sbom"), &[], 4);
    assert_eq!(
        r["with_new_findings"],
        serde_json::json!([AFFECTED_SBOM]),
        "{r}"
    );
    assert!(r["sboms_scanned"].as_u64().unwrap() >= 6, "{r}");
    let hit = r["sboms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sbom"] == AFFECTED_SBOM)
        .unwrap();
    assert_eq!(hit["newly_affected"], true);
    let new = hit["new"].as_array().unwrap();
    assert_eq!(new.len(), 1, "{hit}");
    assert!(new[0]["advisory"] == ADDED || aliases_of(&new[0]).iter().any(|a| a == ADDED));
    assert_eq!(new[0]["package"], "idna");
    assert_eq!(new[0]["installed"], "2.10");
    assert_eq!(new[0]["fixed"], "3.7");
    for other in r["sboms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["sbom"] != AFFECTED_SBOM)
    {
        assert_eq!(other["new"], serde_json::json!([]), "{other}");
    }
    assert!(store.join("reports/rescan.json").is_file());

    // The status page shows the generation, the added advisory and the newly affected SBOM.
    let page = dir.path().join("status.html");
    let o = run(
        &["report", "--html", page.to_str().unwrap(), "--json"],
        &store,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rep = json(&o);
    assert_eq!(rep["newly_affected"], 1);
    assert_eq!(rep["audit_ok"], true);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("idna"), "page lacks the finding");
    assert!(html.contains(ADDED), "page lacks the advisory id");
    assert!(html.contains(AFFECTED_SBOM));
    assert!(html.contains("stable-2"));
    assert!(!html.contains("<script"));
    // The SVG namespace is a name, not a fetch; nothing else may look like an address.
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !without_ns.contains("http://") && !without_ns.contains("https://"),
        "page must not reference the network"
    );
    assert!(!html.contains(" src=") && !html.contains(" href="));
}

#[test]
fn diff_refuses_unknown_generations_and_needs_an_active_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let o = run(&["diff"], &store);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("no generation is active"));
    let k1 = dir.path().join("k1.ouk");
    kit(&k1, 1, false);
    import(&k1, &store);
    let o = run(&["diff", "7", "--json"], &store);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["error"]["kind"], "unknown_generation");
    // Against itself: nothing changed.
    let o = run(&["diff", "1", "1", "--json"], &store);
    assert_eq!(o.status.code(), Some(0));
    let d = json(&o);
    assert_eq!(d["advisories"]["entries"], serde_json::json!([]));
    assert!(d["advisories"]["summary"]["unchanged"].as_u64().unwrap() > 20);
}

/// A re-scan that could not look at every SBOM says so with exit 5, whichever engine: a file
/// the reader refuses, or one the site's Trivy refuses (here a stand-in script that fails on it,
/// the way Trivy 0.59 fails on CycloneDX 1.7). The other SBOMs are still scanned and reported.
#[test]
fn sboms_that_cannot_be_scanned_make_the_rescan_incomplete() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let k1 = dir.path().join("k1.ouk");
    // With a Trivy DB: `--trivy` scans each generation's installed one.
    kit_with_trivy(&k1, 1, false, TrivySource::Export);
    import(&k1, &store);
    let sboms = dir.path().join("sboms");
    std::fs::create_dir(&sboms).unwrap();
    let real = shared_feeds().join("sbom").join(AFFECTED_SBOM);
    std::fs::copy(&real, sboms.join("app.cdx.json")).unwrap();
    std::fs::copy(&real, sboms.join("refused-by-trivy.cdx.json")).unwrap();

    // Built-in matcher: everything readable, so complete (exit 0: kit 1 has no advisory for it).
    rescan(&store, &sboms, &[], 0);

    // A file that is no SBOM at all: listed unreadable, exit 5, the others still reported.
    std::fs::write(sboms.join("broken.json"), b"{\"bomFormat\":").unwrap();
    let r = rescan(&store, &sboms, &[], 5);
    let unreadable = r["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1, "{r}");
    assert!(
        unreadable[0].as_str().unwrap().starts_with("broken.json: "),
        "{r}"
    );
    assert_eq!(r["sboms_scanned"], 2, "{r}");
    let text = run(&["rescan", "--sboms", sboms.to_str().unwrap()], &store);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("INCOMPLETE: 1 SBOM file(s) not scanned")
    );
    std::fs::remove_file(sboms.join("broken.json")).unwrap();

    // A Trivy that refuses one SBOM: that one is unreadable (with Trivy's words), the other is
    // scanned, exit 5. The stand-in reads the same arguments `rescan` gives the real Trivy.
    let trivy = dir.path().join("trivy");
    std::fs::write(
        &trivy,
        "#!/bin/sh\n\
         [ \"$1\" = --version ] && { echo 'Version: 0.0.0-stand-in'; exit 0; }\n\
         out=; last=\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --output ] && out=$2; last=$1; shift; done\n\
         case $last in *refused-by-trivy*) echo 'FATAL invalid specification version' >&2; exit 1;; esac\n\
         echo '{\"Results\":[]}' > \"$out\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&trivy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = rescan(&store, &sboms, &["--trivy", trivy.to_str().unwrap()], 5);
    assert_eq!(r["engine"], "trivy 0.0.0-stand-in", "{r}");
    assert_eq!(r["sboms_scanned"], 1, "{r}");
    assert_eq!(r["sboms"][0]["sbom"], "app.cdx.json", "{r}");
    let unreadable = r["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1, "{r}");
    let why = unreadable[0].as_str().unwrap();
    assert!(
        why.starts_with("refused-by-trivy.cdx.json: trivy failed on it")
            && why.contains("invalid specification version"),
        "{why}"
    );
}
