//! OCI image layouts (`ouk-builder export-layout`, `ouk-importer import --layout`): kits built by
//! the builder library with the dev keys, published into a layout by the builder's publish step,
//! imported by the real importer binary. The layout's digest pin is enforced on the verified pass:
//! a validly signed kit that is not the pinned blob is refused and nothing is activated.

mod devkit;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use devkit::{dev_request, importer, noise, now_unix, root, scan_json};
use ouk_builder::build::{build, BuildSummary};
use ouk_builder::progress::Silent;
use ouk_format::time::Timestamp;
use ouk_oci::artifact::Shape;

fn kit(dir: &Path, name: &str, seed: u64, sequence: u64) -> BuildSummary {
    let payload = dir.join(format!("payload-{name}"));
    fs::create_dir_all(&payload).unwrap();
    fs::write(payload.join("blob.bin"), noise(seed, 300_000)).unwrap();
    let created = Timestamp::from_unix(now_unix() - 3600);
    let mut req = dev_request(
        &dir.join(name),
        sequence,
        created,
        created.plus_secs(30 * 86_400),
    );
    req.payload_dirs = vec![payload];
    build(&req, &Silent).unwrap()
}

fn export(kit: &Path, layout: &Path, tag: &str) -> ouk_oci::layout::ExportReport {
    let trust = root().join("keys/dev/trust-root.json");
    let plan = ouk_builder::publish::plan(
        kit,
        &trust,
        Timestamp::from_unix(now_unix()),
        Shape::Artifact,
    )
    .unwrap();
    ouk_oci::layout::export(layout, &plan, tag).unwrap()
}

fn import_layout(
    layout: &Path,
    store: &Path,
    tag: Option<&str>,
) -> (Option<i32>, serde_json::Value) {
    let trust = root().join("keys/dev/trust-root.json");
    let mut args = vec![
        "import".as_ref(),
        "--layout".as_ref(),
        layout.as_os_str(),
        "--trust-root".as_ref(),
        trust.as_os_str(),
        "--store".as_ref(),
        store.as_os_str(),
        "--json".as_ref(),
    ];
    if let Some(t) = tag {
        args.extend([OsStr::new("--ref"), OsStr::new(t)]);
    }
    let o = importer(&args);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&o.stdout)));
    (o.status.code(), v)
}

fn generations(store: &Path) -> usize {
    fs::read_dir(store.join("generations")).map_or(0, |d| d.count())
}

#[test]
fn exported_layout_imports_with_the_kit_digest_pinned() {
    let t = tempfile::tempdir().unwrap();
    let a = kit(t.path(), "a.ouk", 1, 1);
    let layout = t.path().join("layout");
    let report = export(&a.kit, &layout, "day-1");
    // SBOM and provenance referrers, captured from the verified kit (no blob signature here).
    let types: Vec<_> = report.referrers.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        ["application/spdx+json", "application/vnd.in-toto+json"]
    );
    let store = t.path().join("store");
    let (code, v) = import_layout(&layout, &store, None);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["import"]["outcome"], "imported");
    assert_eq!(v["manifest"], report.manifest.to_string());
    assert_eq!(v["ref_name"], "day-1");
    let kit_sha = ouk_format::digest::Sha256::of(&fs::read(&a.kit).unwrap()).to_hex();
    // Generation names end with the kit file's sha256 prefix: the imported kit is the file.
    let generation = v["import"]["generation"].as_str().unwrap();
    assert!(
        generation.ends_with(&kit_sha[..12]),
        "{generation} vs {kit_sha}"
    );
    // The same layout again: already imported, nothing changes.
    let (code, v) = import_layout(&layout, &store, None);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["import"]["outcome"], "already_imported");
}

#[test]
fn a_valid_kit_that_is_not_the_pinned_blob_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let a = kit(t.path(), "a.ouk", 1, 1);
    let b = kit(t.path(), "b.ouk", 2, 2);
    let (a_bytes, b_bytes) = (fs::read(&a.kit).unwrap(), fs::read(&b.kit).unwrap());
    assert_eq!(
        a_bytes.len(),
        b_bytes.len(),
        "the swap below needs kits of equal size"
    );
    let layout = t.path().join("layout");
    let report = export(&a.kit, &layout, "day-1");
    // Kit B is validly signed by the same keys, but it is not what the layout's manifest pins.
    fs::write(
        layout.join("blobs/sha256").join(report.kit.digest.hex()),
        &b_bytes,
    )
    .unwrap();
    let store = t.path().join("store");
    let (code, v) = import_layout(&layout, &store, None);
    assert_eq!(v["error"]["kind"], "kit_pin_mismatch", "{v}");
    assert_eq!(code, Some(10));
    assert_eq!(generations(&store), 0, "nothing may be activated");
    assert!(
        fs::read_dir(store.join("staging"))
            .unwrap()
            .next()
            .is_none(),
        "staging left behind"
    );
}

#[test]
fn several_kits_need_a_tag_and_a_tag_picks_one() {
    let t = tempfile::tempdir().unwrap();
    let a = kit(t.path(), "a.ouk", 1, 1);
    let b = kit(t.path(), "b.ouk", 2, 2);
    let layout = t.path().join("layout");
    export(&a.kit, &layout, "day-1");
    export(&b.kit, &layout, "day-2");
    let store = t.path().join("store");
    let (code, v) = import_layout(&layout, &store, None);
    assert_eq!(v["error"]["kind"], "oci_layout_choice", "{v}");
    assert_eq!(code, Some(2));
    let (code, v) = import_layout(&layout, &store, Some("day-2"));
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["import"]["kit"]["sequence"], 2);
    // Day 1 is now below the floor: the importer's own rollback rule, not the layout's.
    let (code, v) = import_layout(&layout, &store, Some("day-1"));
    assert_eq!(v["error"]["kind"], "rollback", "{v}");
    assert_ne!(code, Some(0));
}

#[test]
fn a_stick_holding_a_layout_is_scanned_like_one_holding_kit_files() {
    let t = tempfile::tempdir().unwrap();
    let a = kit(t.path(), "a.ouk", 1, 1);
    let b = kit(t.path(), "b.ouk", 2, 2);
    // The layout at the top of the stick, with two kits: the newest is imported.
    let stick = t.path().join("stick");
    export(&a.kit, &stick, "day-1");
    export(&b.kit, &stick, "day-2");
    let s1 = t.path().join("s1");
    let (code, v) = scan_json("import", &stick, &s1);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["imported"]["kit"]["sequence"], 2, "{v}");
    // One level down (`export-layout /media/stick/kits`), through scan-media.
    let stick2 = t.path().join("stick2");
    fs::create_dir(&stick2).unwrap();
    export(&a.kit, &stick2.join("kits"), "day-1");
    let s2 = t.path().join("s2");
    let (code, v) = scan_json("scan-media", &stick2, &s2);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(generations(&s2), 1, "{v}");
    // A damaged layout beside a good kit file: the layout is reported, the kit is imported.
    let stick3 = t.path().join("stick3");
    export(&a.kit, &stick3.join("broken"), "day-1");
    fs::write(stick3.join("broken/index.json"), b"{not json").unwrap();
    fs::copy(&b.kit, stick3.join("b.ouk")).unwrap();
    let s3 = t.path().join("s3");
    let (code, v) = scan_json("import", &stick3, &s3);
    assert_eq!(code, Some(0), "{v}");
    let candidates = v["candidates"].as_array().unwrap();
    assert!(
        candidates
            .iter()
            .any(|c| c["status"] == "unreadable" && c["path"].as_str().unwrap().ends_with("broken")),
        "{v}"
    );
    assert_eq!(v["imported"]["kit"]["sequence"], 2, "{v}");
}
