//! Daily deltas end to end, on real data: day 1 is the real feeds of `../shared/feeds`, day 2 the
//! same plus one real advisory (`testdata/changes/next-day`). Kits are built by the builder
//! library with the dev keys (full kits with an exported Trivy DB, and a delta day 1 → day 2
//! with the same `created_at` as the full day-2 kit); everything after that is the real
//! `ouk-importer` binary.

mod devkit;

use std::path::{Path, PathBuf};

use devkit::{dev_request, import_json as import, real_sources as sources, root, scan_json};

use ouk_builder::build::{build, build_variant, BuildRequest, BuildVariant, TrivySource};
use ouk_builder::delta::{
    base_from_kit, build_delta, twin_from_kit, DeltaAnnotation, DeltaFiles, DeltaRequest,
};
use ouk_builder::progress::Silent;
use ouk_feeds::MergeOptions;
use ouk_format::time::Timestamp;

/// Creation time of day `day` (1 or 2) by the real clock (the importer checks both times);
/// `shift` seconds more give another kit of the same day.
fn created(day: i64, shift: i64) -> Timestamp {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // Whole hours, so both kits of one day agree even when built a second apart.
    let now = now - now % 3600;
    Timestamp::from_unix(now - 86_400 * (3 - day) + shift)
}

fn request(out: &Path, sequence: u64, next_day: bool, created: Timestamp) -> BuildRequest {
    let mut req = dev_request(out, sequence, created, created.plus_secs(300 * 86_400));
    req.sources = sources(next_day);
    req.merge = MergeOptions {
        fallback_modified_unix: Some(created.unix()),
        ..MergeOptions::default()
    };
    req.trivy = TrivySource::Export;
    req
}

fn import_ok(kit: &Path, store: &Path) -> serde_json::Value {
    let (code, v) = import(kit, store);
    assert_eq!(code, Some(0), "{v}");
    v
}

/// The error kind of a refused import, after checking its exit code.
fn refused(kit: &Path, store: &Path, exit: i32) -> String {
    let (code, v) = import(kit, store);
    assert_eq!(code, Some(exit), "{v}");
    v["error"]["kind"].as_str().unwrap().to_owned()
}

/// What must not change when an import is refused: the active generation, the generation list
/// and state.json.
fn snapshot_of_store(store: &Path) -> (PathBuf, Vec<String>, Vec<u8>) {
    let mut gens: Vec<String> = std::fs::read_dir(store.join("generations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    gens.sort();
    (
        std::fs::read_link(store.join("current")).unwrap(),
        gens,
        std::fs::read(store.join("state.json")).unwrap(),
    )
}

const COMPARED: [&str; 7] = [
    "feeds/advisories.ndjson",
    "feeds/snapshot.json",
    "feeds/merge-report.json",
    "trivy/db/trivy.db",
    "trivy/db/metadata.json",
    // The Java DB stub, written by the importer beside either kind of Trivy DB.
    "trivy/java-db/metadata.json",
    "trivy/java-db/trivy-java.db",
];

trait MkDir {
    fn tap_mkdir(self) -> Self;
}

impl MkDir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

struct Day {
    dir: tempfile::TempDir,
    full1: PathBuf,
    full2: PathBuf,
    delta: PathBuf,
    created2: Timestamp,
}

fn days() -> Day {
    let dir = tempfile::tempdir().unwrap();
    let full1 = dir.path().join("full1.ouk");
    let full2 = dir.path().join("full2.ouk");
    let delta = dir.path().join("delta12.ouk");
    let created2 = created(2, 0);
    build(&request(&full1, 1, false, created(1, 0)), &Silent).unwrap();
    build(&request(&full2, 2, true, created2), &Silent).unwrap();
    let base = base_from_kit(&full1, dir.path()).unwrap();
    let summary = build_delta(
        &request(&delta, 2, true, created2),
        &DeltaRequest {
            base,
            twin: None,
            hook: None,
        },
        &Silent,
    )
    .unwrap();
    // No Trivy DB member, no snapshot member: the two delta members and the small files.
    let paths: Vec<&str> = summary.members.iter().map(|m| m.path.as_str()).collect();
    assert!(paths.contains(&"delta/upserts.ndjson"), "{paths:?}");
    assert!(paths.contains(&"delta/removed.ndjson"), "{paths:?}");
    assert!(paths.contains(&"feeds/snapshot.json"), "{paths:?}");
    assert!(!paths.contains(&"trivy/db.tar.gz"), "{paths:?}");
    assert!(!paths.contains(&"feeds/advisories.ndjson"), "{paths:?}");
    // The merge report travels as a line patch against the base kit's, much smaller than it.
    assert!(!paths.contains(&"feeds/merge-report.json"), "{paths:?}");
    let size_of = |p: &str| {
        summary
            .members
            .iter()
            .find(|m| m.path.as_str() == p)
            .map(|m| m.size)
    };
    let patch = size_of("delta/patch/feeds/merge-report.json").expect("the report's patch");
    let full_report = ouk_format::archive::reader::read_manifest_unverified(
        std::io::BufReader::new(std::fs::File::open(&full2).unwrap()),
        &ouk_format::Limits::default(),
    )
    .unwrap()
    .1
     .0
    .members
    .iter()
    .find(|m| m.path.as_str() == "feeds/merge-report.json")
    .unwrap()
    .uncompressed
    .size;
    assert!(
        patch * 10 < full_report,
        "patch {patch} bytes, report {full_report} bytes"
    );
    // Reproducible: the same inputs and created_at give the same delta kit, byte for byte.
    let again = dir.path().join("delta12-again.ouk");
    let base = base_from_kit(&full1, &dir.path().join("again-base").tap_mkdir()).unwrap();
    build_delta(
        &request(&again, 2, true, created2),
        &DeltaRequest {
            base,
            twin: None,
            hook: None,
        },
        &Silent,
    )
    .unwrap();
    assert!(std::fs::read(&delta).unwrap() == std::fs::read(&again).unwrap());
    Day {
        dir,
        full1,
        full2,
        delta,
        created2,
    }
}

#[test]
fn a_delta_imports_to_the_same_feeds_and_trivy_db_as_the_full_kit_and_bad_deltas_are_refused() {
    let d = days();
    let (a, b) = (d.dir.path().join("a"), d.dir.path().join("b"));
    import_ok(&d.full1, &a);
    import_ok(&d.full1, &b);
    let ra = import_ok(&d.delta, &a);
    import_ok(&d.full2, &b);
    assert_eq!(ra["outcome"], "imported", "{ra}");
    assert_eq!(ra["trivy_db"], "trivy/db/trivy.db", "{ra}");
    // The change report sees the one advisory added on day 2, like after the full kit.
    assert_eq!(
        ra["changes"]["advisories"]["totals"],
        serde_json::json!({"added":1,"changed":0,"withdrawn":0,"removed":0}),
        "{ra}"
    );
    for f in COMPARED {
        let x = std::fs::read(a.join("current").join(f)).unwrap();
        let y = std::fs::read(b.join("current").join(f)).unwrap();
        assert!(x == y, "{f} differs between the delta and the full import");
    }
    // The verified delta members stay in the generation under delta/.
    assert!(a.join("current/delta/upserts.ndjson").is_file());

    // Another day-1 kit (other created_at) with the same snapshot is a base too (§4.7: the
    // generation of the base sequence holding the base's snapshot; the result is checked).
    let same1 = d.dir.path().join("same1.ouk");
    build(&request(&same1, 1, false, created(1, 60)), &Silent).unwrap();
    let s1 = d.dir.path().join("s1");
    import_ok(&same1, &s1);
    assert_eq!(import_ok(&d.delta, &s1)["outcome"], "imported");
    // Wrong base: a store whose active generation is a sequence-1 kit with another snapshot.
    let other1 = d.dir.path().join("other1.ouk");
    build(&request(&other1, 1, true, created(1, 60)), &Silent).unwrap();
    let c = d.dir.path().join("c");
    import_ok(&other1, &c);
    let before = snapshot_of_store(&c);
    assert_eq!(refused(&d.delta, &c, 20), "delta_base_missing");
    assert_eq!(snapshot_of_store(&c), before);
    // An empty store has no base either.
    let e = d.dir.path().join("e");
    assert_eq!(refused(&d.delta, &e, 20), "delta_base_missing");

    // Validly signed but broken deltas, built by the builder with a hook that rewrites the delta
    // files (or the annotation) before they are packed and signed.
    let merged = d.dir.path().join("merged2");
    let m = ouk_feeds::merge_sources(
        &sources(true),
        &MergeOptions {
            fallback_modified_unix: Some(d.created2.unix()),
            ..MergeOptions::default()
        },
    )
    .unwrap();
    m.write_to(&merged).unwrap();
    let bad = |name: &str, hook: &ouk_builder::delta::DeltaHook| -> PathBuf {
        let out = d.dir.path().join(format!("{name}.ouk"));
        let scratch = d.dir.path().join(format!("{name}-base"));
        std::fs::create_dir(&scratch).unwrap();
        let base = base_from_kit(&d.full1, &scratch).unwrap();
        build_variant(
            &request(&out, 2, true, d.created2),
            &BuildVariant {
                merged: Some(merged.clone()),
                delta: Some(&DeltaRequest {
                    base,
                    twin: None,
                    hook: Some(hook),
                }),
            },
            &Silent,
        )
        .unwrap();
        out
    };
    let rewrite = |p: &Path, f: &dyn Fn(&mut Vec<String>)| {
        let mut lines: Vec<String> = std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        f(&mut lines);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(p, text).unwrap();
    };
    // A repeated line (the signed result digest is the honest one).
    let duplicated = bad("dup", &|f: &DeltaFiles, _: &mut DeltaAnnotation| {
        rewrite(&f.upserts, &|l| l.insert(1, l[0].clone()))
    });
    // Unsorted: the base's first record (the lowest id) re-upserted after the added one.
    let base_lines: Vec<String> = std::fs::read_to_string(
        a.join("generations")
            .read_dir()
            .unwrap()
            .find_map(|e| {
                let p = e.unwrap().path();
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("1-")
                    .then(|| p.join("feeds/advisories.ndjson"))
            })
            .unwrap(),
    )
    .unwrap()
    .lines()
    .map(str::to_owned)
    .collect();
    let first = base_lines[0].clone();
    let unsorted = bad(
        "unsorted",
        &move |f: &DeltaFiles, _: &mut DeltaAnnotation| {
            let first = first.clone();
            rewrite(&f.upserts, &move |l| l.push(first.clone()))
        },
    );
    let unknown = bad("unknown", &|f: &DeltaFiles, _: &mut DeltaAnnotation| {
        rewrite(&f.removed, &|l| {
            l.push("\"ZZZZ-not-in-the-base\"".to_owned())
        })
    });
    let digest = bad("digest", &|_: &DeltaFiles, a: &mut DeltaAnnotation| {
        a.result_advisories_sha256 = "00".repeat(32);
    });
    let size = bad("size", &|_: &DeltaFiles, a: &mut DeltaAnnotation| {
        a.result_advisories_size -= 1;
    });
    // The merge report's patch: a wrong signed digest, a patch that runs past the base, one
    // that stops before the base's end, and a patched member that is also carried.
    let patch_of = |f: &DeltaFiles| f.upserts.with_file_name("merge-report.json.patch");
    let report_digest = bad(
        "report-digest",
        &|_: &DeltaFiles, a: &mut DeltaAnnotation| {
            a.patched[0].result_sha256 = "00".repeat(32);
        },
    );
    let past_end = bad(
        "past-end",
        &move |f: &DeltaFiles, _: &mut DeltaAnnotation| {
            let p = patch_of(f);
            let mut bytes = std::fs::read(&p).unwrap();
            bytes.extend_from_slice(b"=1\n");
            std::fs::write(&p, bytes).unwrap();
        },
    );
    let short = bad("short", &move |f: &DeltaFiles, _: &mut DeltaAnnotation| {
        std::fs::write(patch_of(f), ouk_format::line_patch::HEADER).unwrap();
    });
    let both = bad("both", &|_: &DeltaFiles, a: &mut DeltaAnnotation| {
        a.patched[0].path = "feeds/snapshot.json".into();
        a.patched[0].patch = "delta/patch/feeds/snapshot.json".into();
    });
    let before = snapshot_of_store(&a);
    // `a` holds day 2 (sequence 2) now: import the bad deltas into a fresh day-1 store.
    let f = d.dir.path().join("f");
    import_ok(&d.full1, &f);
    let before_f = snapshot_of_store(&f);
    for (kit, kind) in [
        (&duplicated, "delta_unsorted"),
        (&unsorted, "delta_unsorted"),
        (&unknown, "delta_remove_unknown"),
        (&digest, "delta_result_mismatch"),
        (&size, "delta_result_mismatch"),
        (&report_digest, "delta_result_mismatch"),
        (&past_end, "delta_patch"),
        (&short, "delta_patch"),
        (&both, "delta_invalid"),
    ] {
        assert_eq!(refused(kit, &f, 10), kind, "{}", kit.display());
        assert_eq!(snapshot_of_store(&f), before_f);
        assert!(
            std::fs::read_dir(f.join("staging")).map_or(true, |mut d| d.next().is_none()),
            "staging left behind"
        );
    }
    assert_eq!(snapshot_of_store(&a), before);
    // The good delta still applies to that store afterwards.
    import_ok(&d.delta, &f);
}

#[test]
fn a_delta_and_its_full_twin_are_one_import_and_may_share_a_stick() {
    let d = days();
    let twin_delta = d.dir.path().join("delta12-twin.ouk");
    let base = base_from_kit(&d.full1, &d.dir.path().join("twin-base").tap_mkdir()).unwrap();
    build_delta(
        &request(&twin_delta, 2, true, d.created2),
        &DeltaRequest {
            base,
            twin: Some(twin_from_kit(&d.full2).unwrap()),
            hook: None,
        },
        &Silent,
    )
    .unwrap();
    // The builder checks the claim: day 1's kit is not the full kit of this build, and a delta
    // cannot be a twin.
    for wrong in [&d.full1, &d.delta] {
        let base = base_from_kit(&d.full1, &d.dir.path().join("wrong-base").tap_mkdir()).unwrap();
        let err = twin_from_kit(wrong).and_then(|twin| {
            build_delta(
                &request(&d.dir.path().join("wrong.ouk"), 2, true, d.created2),
                &DeltaRequest {
                    base,
                    twin: Some(twin),
                    hook: None,
                },
                &Silent,
            )
        });
        let err = err.unwrap_err().to_string();
        assert!(
            err.contains("not the full kit of this build") || err.contains("is a delta kit"),
            "{err}"
        );
    }

    // Full kit then its twin delta, and the other way round: the second is already imported.
    let (a, b) = (d.dir.path().join("a"), d.dir.path().join("b"));
    import_ok(&d.full1, &a);
    import_ok(&d.full2, &a);
    let before = snapshot_of_store(&a);
    let v = import_ok(&twin_delta, &a);
    assert_eq!(v["outcome"], "already_imported", "{v}");
    assert_eq!(snapshot_of_store(&a), before);
    import_ok(&d.full1, &b);
    import_ok(&twin_delta, &b);
    let v = import_ok(&d.full2, &b);
    assert_eq!(v["outcome"], "already_imported", "{v}");
    // A delta that does not name the full kit is still an equivocation next to it.
    assert_eq!(refused(&d.delta, &a, 20), "equivocation");

    // One stick with both twins: a store at day 1 takes the delta, an empty store the full kit;
    // a stick with the untwinned delta and the full kit is refused as an equivocation.
    let stick = d.dir.path().join("stick").tap_mkdir();
    std::fs::copy(&d.full2, stick.join("day2-full.ouk")).unwrap();
    std::fs::copy(&twin_delta, stick.join("day2-delta.ouk")).unwrap();
    let c = d.dir.path().join("c");
    import_ok(&d.full1, &c);
    let (code, v) = scan_json("import", &stick, &c);
    assert_eq!(code, Some(0), "{v}");
    assert!(c.join("current/delta/upserts.ndjson").is_file(), "{v}");
    let e = d.dir.path().join("e");
    let (code, v) = scan_json("import", &stick, &e);
    assert_eq!(code, Some(0), "{v}");
    assert!(e.join("current/feeds/advisories.ndjson").is_file(), "{v}");
    assert!(!e.join("current/delta").exists(), "{v}");
    for f in COMPARED {
        let x = std::fs::read(c.join("current").join(f)).unwrap();
        let y = std::fs::read(e.join("current").join(f)).unwrap();
        assert!(x == y, "{f} differs between the twins");
    }
    // Tomorrow's delta is built against today's full kit; store `c` holds the generation today's
    // (twin) delta made, with the same snapshot: it applies there, to the full kit's result.
    let created3 = created(3, 0);
    let (full3, delta23) = (
        d.dir.path().join("full3.ouk"),
        d.dir.path().join("delta23.ouk"),
    );
    let mut req3 = request(&full3, 3, true, created3);
    req3.sources.pop();
    req3.sources.push(ouk_feeds::SourceSpec::new(
        ouk_feeds::SourceKind::Ghsa,
        root().join("testdata/changes/next-day"),
    ));
    build(&req3, &Silent).unwrap();
    let base = base_from_kit(&d.full2, &d.dir.path().join("base-23").tap_mkdir()).unwrap();
    let mut req_d3 = request(&delta23, 3, true, created3);
    req_d3.sources = req3.sources.clone();
    build_delta(
        &req_d3,
        &DeltaRequest {
            base,
            twin: Some(twin_from_kit(&full3).unwrap()),
            hook: None,
        },
        &Silent,
    )
    .unwrap();
    let v = import_ok(&delta23, &c);
    assert_eq!(v["outcome"], "imported", "{v}");
    let g = d.dir.path().join("g");
    import_ok(&d.full1, &g);
    import_ok(&full3, &g);
    for f in COMPARED {
        let x = std::fs::read(c.join("current").join(f)).unwrap();
        let y = std::fs::read(g.join("current").join(f)).unwrap();
        assert!(x == y, "{f} differs after the delta chain");
    }
    let untwinned = d.dir.path().join("stick2").tap_mkdir();
    std::fs::copy(&d.full2, untwinned.join("day2-full.ouk")).unwrap();
    std::fs::copy(&d.delta, untwinned.join("day2-delta.ouk")).unwrap();
    let f = d.dir.path().join("f");
    import_ok(&d.full1, &f);
    let (code, v) = scan_json("import", &untwinned, &f);
    assert_eq!(code, Some(20), "{v}");
}
