//! Reads exported DBs back with bbolt-rs and checks the layout Trivy needs, determinism, the
//! tar.gz round trip, and refusal of hostile archives. Expected values are written by hand from
//! the fixtures in `testdata/trivy/osv` and from trivy-db's mapping rules (spec/trivy-db.md).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use bbolt_rs::{BoltOptions, BucketApi, DbApi, TxApi};
use ouk_trivy::{
    db_tar_gz_expanded_size, export_trivy_db, install_db_tar_gz, pack_db_tar_gz, validate_bolt,
    validate_upstream_db_tar_gz, DbLimits, ExportOptions, TrivyError, REQUIRED_BUCKETS,
};

const EPOCH: u64 = 1_735_689_600; // 2025-01-01T00:00:00Z

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Joins one-record JSON files (sorted by name) into NDJSON.
fn ndjson_from(files: &[PathBuf], out: &Path) {
    let mut text = String::new();
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&fs::read(f).unwrap()).unwrap();
        text.push_str(&serde_json::to_string(&v).unwrap());
        text.push('\n');
    }
    fs::write(out, text).unwrap();
}

fn json_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

fn fixture_ndjson(dir: &Path) -> PathBuf {
    let p = dir.join("advisories.ndjson");
    ndjson_from(&json_files(&repo().join("testdata/trivy/osv"), ".json"), &p);
    p
}

/// root bucket → (key → value); nested package buckets flattened as "pkg\0id".
fn dump(db_path: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let db = BoltOptions::builder().build().open_ro(db_path).unwrap();
    let tx = db.begin().unwrap();
    let mut out = BTreeMap::new();
    for (name, bucket) in tx.iter_buckets() {
        let mut kv = BTreeMap::new();
        for (k, v) in bucket.iter_entries() {
            kv.insert(
                String::from_utf8(k.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            );
        }
        for (pkg, pb) in bucket.iter_buckets() {
            let pkg = String::from_utf8(pkg.to_vec()).unwrap();
            for (k, v) in pb.iter_entries() {
                kv.insert(
                    format!("{pkg}\0{}", String::from_utf8(k.to_vec()).unwrap()),
                    String::from_utf8(v.to_vec()).unwrap(),
                );
            }
        }
        out.insert(String::from_utf8(name.to_vec()).unwrap(), kv);
    }
    out
}

#[test]
fn fixture_db_has_the_layout_trivy_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fixture_ndjson(tmp.path());
    let out = tmp.path().join("out");
    let s = export_trivy_db(&input, &out, &ExportOptions::new(EPOCH)).unwrap();
    assert_eq!(s.records_read, 15);
    assert_eq!(s.records_withdrawn, 1); // OUKTEST-2024-0010
    assert_eq!(s.records_skipped, 0);
    assert_eq!(s.records_used, 13); // all but the withdrawn one and the GIT-only one

    let d = dump(&out.join("db/trivy.db"));
    let adv_buckets: BTreeSet<&str> = [
        "cargo::OUK merged advisories crates.io",
        "composer::OUK merged advisories Packagist",
        "go::OUK merged advisories Go",
        "maven::OUK merged advisories Maven",
        "npm::OUK merged advisories npm",
        "nuget::OUK merged advisories NuGet",
        "pip::OUK merged advisories PyPI",
        "rubygems::OUK merged advisories RubyGems",
        "swift::OUK merged advisories SwiftURL",
    ]
    .into();
    let mut all = adv_buckets.clone();
    all.insert("data-source");
    all.insert("vulnerability");
    assert_eq!(d.keys().map(String::as_str).collect::<BTreeSet<_>>(), all);

    // data-source keys are exactly the advisory root buckets.
    let ds = &d["data-source"];
    assert_eq!(
        ds.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        adv_buckets
    );
    assert_eq!(
        ds["npm::OUK merged advisories npm"],
        r#"{"ID":"ouk","Name":"OUK merged advisories npm"}"#
    );

    let npm = &d["npm::OUK merged advisories npm"];
    assert_eq!(
        npm.keys().cloned().collect::<Vec<_>>(),
        [
            "lodash\0CVE-2099-10001",
            "lodash-es\0CVE-2099-10001",
            "semver\0CVE-2099-10002"
        ]
    );
    assert_eq!(
        npm["semver\0CVE-2099-10002"],
        r#"{"VendorIDs":["OUKTEST-2024-0002"],"VulnerableVersions":["<5.7.2",">=6.0.0, <6.3.1",">=7.0.0, <7.5.2"],"PatchedVersions":["5.7.2","6.3.1","7.5.2"]}"#
    );
    let cargo = &d["cargo::OUK merged advisories crates.io"];
    assert_eq!(
        cargo["time\0CVE-2099-10008"],
        r#"{"VendorIDs":["OUKTEST-2024-0008"],"VulnerableVersions":[">=0.1.0, <0.2"]}"#
    );
    assert_eq!(
        cargo["smallvec\0CVE-2099-10009"],
        r#"{"VendorIDs":["OUKTEST-2024-0009"],"VulnerableVersions":[">=1.0.0, <=1.6.0"]}"#
    );
    let go = &d["go::OUK merged advisories Go"];
    assert_eq!(
        go["github.com/Masterminds/goutils\0OUKTEST-2024-0006"],
        r#"{"VulnerableVersions":["<1.1.1"],"PatchedVersions":["1.1.1"]}"#
    );
    let maven = &d["maven::OUK merged advisories Maven"];
    assert_eq!(
        maven["org.apache.logging.log4j:log4j-core\0CVE-2099-10007"],
        r#"{"VendorIDs":["OUKTEST-2024-0007"],"VulnerableVersions":[">=2.0-beta9, <2.3.1",">=2.4, <2.12.2",">=2.13.0, <2.15.0"],"PatchedVersions":["2.3.1","2.12.2","2.15.0"]}"#
    );
    let pip = &d["pip::OUK merged advisories PyPI"];
    assert_eq!(
        pip["typing-extensions\0CVE-2099-10004"],
        r#"{"VendorIDs":["OUKTEST-2024-0004"],"VulnerableVersions":["=4.6.0","=4.6.1"]}"#
    );
    let nuget = &d["nuget::OUK merged advisories NuGet"];
    assert!(nuget.contains_key("Newtonsoft.Json\0CVE-2099-10013"));
    assert!(nuget.contains_key("newtonsoft.json\0CVE-2099-10013"));
    // Swift: the advisory's git-URL spelling trimmed to the repository path Trivy looks up.
    let swift = &d["swift::OUK merged advisories SwiftURL"];
    assert_eq!(
        swift["github.com/apple/swift-nio\0CVE-2099-10015"],
        r#"{"VendorIDs":["OUKTEST-2024-0015"],"VulnerableVersions":[">=2.0.0, <2.42.0"],"PatchedVersions":["2.42.0"]}"#
    );

    let vulns = &d["vulnerability"];
    let expected: BTreeSet<String> = [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15]
        .iter()
        .map(|n| format!("CVE-2099-{}", 10000 + n))
        .chain(["OUKTEST-2024-0006".to_string()])
        .collect();
    assert_eq!(vulns.keys().cloned().collect::<BTreeSet<_>>(), expected);
    let v: serde_json::Value = serde_json::from_str(&vulns["CVE-2099-10001"]).unwrap();
    assert_eq!(v["Severity"], "HIGH");
    assert_eq!(v["VendorSeverity"]["ouk"], 3);
    assert_eq!(v["CweIDs"], serde_json::json!(["CWE-1321"]));
    assert_eq!(v["CVSS"]["ouk"]["V3Score"], 9.8);
    assert_eq!(v["PublishedDate"], "2024-05-01T00:00:00Z");

    assert_eq!(
        fs::read_to_string(out.join("db/metadata.json")).unwrap(),
        r#"{"Version":2,"NextUpdate":"2025-01-02T00:00:00Z","UpdatedAt":"2025-01-01T00:00:00Z","DownloadedAt":"2025-01-01T00:00:00Z"}"#
    );
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

#[test]
fn export_and_pack_are_byte_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fixture_ndjson(tmp.path());
    let mut dbs = Vec::new();
    let mut tgzs = Vec::new();
    for i in 0..2 {
        let out = tmp.path().join(format!("out{i}"));
        export_trivy_db(&input, &out, &ExportOptions::new(EPOCH)).unwrap();
        dbs.push(sha(&fs::read(out.join("db/trivy.db")).unwrap()));
        let tgz = tmp.path().join(format!("db{i}.tar.gz"));
        pack_db_tar_gz(&out.join("db"), &tgz, EPOCH).unwrap();
        tgzs.push(fs::read(&tgz).unwrap());
        if i == 1 {
            assert_eq!(
                sha(&tgzs[0]),
                sha(&tgzs[1]),
                "db.tar.gz differs between two identical packs"
            );
        }
    }
    assert_eq!(
        dbs[0], dbs[1],
        "trivy.db differs between two identical exports"
    );
    // gzip header: no FNAME flag, MTIME 0.
    assert_eq!(tgzs[0][3] & 0x08, 0);
    assert_eq!(&tgzs[0][4..8], &[0, 0, 0, 0]);
    // The mtime argument is what goes into the tar headers.
    let other = tmp.path().join("db-other.tar.gz");
    pack_db_tar_gz(&tmp.path().join("out0/db"), &other, EPOCH + 1).unwrap();
    assert_ne!(sha(&fs::read(&other).unwrap()), sha(&tgzs[0]));
    // Existing outputs are refused.
    assert!(matches!(
        export_trivy_db(&input, &tmp.path().join("out0"), &ExportOptions::new(EPOCH)),
        Err(TrivyError::OutputExists { .. })
    ));
    assert!(matches!(
        pack_db_tar_gz(&tmp.path().join("out0/db"), &other, EPOCH),
        Err(TrivyError::OutputExists { .. })
    ));
}

#[test]
fn pack_validate_install_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fixture_ndjson(tmp.path());
    let out = tmp.path().join("out");
    export_trivy_db(&input, &out, &ExportOptions::new(EPOCH)).unwrap();
    let tgz = tmp.path().join("db.tar.gz");
    pack_db_tar_gz(&out.join("db"), &tgz, EPOCH).unwrap();

    // Entry names and order as in the official layer.
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(fs::File::open(&tgz).unwrap()));
    let names: Vec<String> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["trivy.db", "metadata.json"]);

    let info = validate_upstream_db_tar_gz(&tgz, &DbLimits::default()).unwrap();
    assert_eq!(info.metadata.version, 2);
    assert_eq!(info.page_size, 4096);
    assert!(info.root_buckets.iter().any(|b| b == "vulnerability"));

    let cache = tmp.path().join("cache");
    // The builder declares this size in the signed manifest; the importer enforces it.
    let declared =
        db_tar_gz_expanded_size(fs::File::open(&tgz).unwrap(), &DbLimits::default()).unwrap();
    assert_eq!(
        declared,
        fs::metadata(out.join("db/trivy.db")).unwrap().len()
            + fs::metadata(out.join("db/metadata.json")).unwrap().len()
    );
    let s = install_db_tar_gz(
        fs::File::open(&tgz).unwrap(),
        &cache,
        declared,
        &DbLimits::default(),
    )
    .unwrap();
    assert_eq!(s.db_path, cache.join("db/trivy.db"));
    assert_eq!(
        sha(&fs::read(cache.join("db/trivy.db")).unwrap()),
        sha(&fs::read(out.join("db/trivy.db")).unwrap())
    );
    assert_eq!(
        fs::read(cache.join("db/metadata.json")).unwrap(),
        fs::read(out.join("db/metadata.json")).unwrap()
    );
    // A second install into the same place is refused (the importer installs into fresh dirs).
    assert!(matches!(
        install_db_tar_gz(
            fs::File::open(&tgz).unwrap(),
            &cache,
            declared,
            &DbLimits::default()
        ),
        Err(TrivyError::OutputExists { .. })
    ));
}

/// One raw tar entry for hostile archives: name bytes written straight into the header so
/// names the tar crate's builder would refuse can be produced.
struct Raw<'a> {
    name: &'a [u8],
    kind: tar::EntryType,
    data: &'a [u8],
    link: Option<&'a [u8]>,
}

fn raw_tgz(path: &Path, entries: &[Raw]) {
    let gz =
        flate2::write::GzEncoder::new(fs::File::create(path).unwrap(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for e in entries {
        let mut h = tar::Header::new_old();
        {
            let old = h.as_old_mut();
            old.name[..e.name.len()].copy_from_slice(e.name);
            if let Some(l) = e.link {
                old.linkname[..l.len()].copy_from_slice(l);
            }
        }
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, e.data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

const MD: &[u8] = br#"{"Version":2,"NextUpdate":"2025-01-02T00:00:00Z","UpdatedAt":"2025-01-01T00:00:00Z","DownloadedAt":"0001-01-01T00:00:00Z"}"#;

fn file<'a>(name: &'a [u8], data: &'a [u8]) -> Raw<'a> {
    Raw {
        name,
        kind: tar::EntryType::Regular,
        data,
        link: None,
    }
}

#[test]
fn hostile_archives_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fixture_ndjson(tmp.path());
    let out = tmp.path().join("out");
    export_trivy_db(&input, &out, &ExportOptions::new(EPOCH)).unwrap();
    let db = fs::read(out.join("db/trivy.db")).unwrap();
    let md_v1 = String::from_utf8(MD.to_vec())
        .unwrap()
        .replace("\"Version\":2", "\"Version\":1");
    let link = |name: &'static [u8], kind| Raw {
        name,
        kind,
        data: b"",
        link: Some(b"/etc/passwd"),
    };

    let cases: Vec<(&str, Vec<Raw>)> = vec![
        (
            "symlink db",
            vec![
                link(b"trivy.db", tar::EntryType::Symlink),
                file(b"metadata.json", MD),
            ],
        ),
        (
            "hardlink db",
            vec![
                link(b"trivy.db", tar::EntryType::Link),
                file(b"metadata.json", MD),
            ],
        ),
        (
            "traversal",
            vec![file(b"../trivy.db", &db), file(b"metadata.json", MD)],
        ),
        (
            "absolute",
            vec![file(b"/trivy.db", &db), file(b"metadata.json", MD)],
        ),
        (
            "subdir",
            vec![file(b"db/trivy.db", &db), file(b"metadata.json", MD)],
        ),
        (
            "dot-slash",
            vec![file(b"./trivy.db", &db), file(b"metadata.json", MD)],
        ),
        (
            "extra file",
            vec![
                file(b"trivy.db", &db),
                file(b"metadata.json", MD),
                file(b"run.sh", b"x"),
            ],
        ),
        (
            "directory",
            vec![Raw {
                name: b"db/",
                kind: tar::EntryType::Directory,
                data: b"",
                link: None,
            }],
        ),
        (
            "duplicate metadata",
            vec![
                file(b"metadata.json", MD),
                file(b"trivy.db", &db),
                file(b"metadata.json", MD),
            ],
        ),
        ("missing db", vec![file(b"metadata.json", MD)]),
        ("missing metadata", vec![file(b"trivy.db", &db)]),
        (
            "metadata v1",
            vec![
                file(b"trivy.db", &db),
                file(b"metadata.json", md_v1.as_bytes()),
            ],
        ),
        (
            "not bolt",
            vec![file(b"trivy.db", &[7u8; 20000]), file(b"metadata.json", MD)],
        ),
        (
            "pax header",
            vec![
                Raw {
                    name: b"pax",
                    kind: tar::EntryType::XHeader,
                    data: b"20 path=trivy.db\n",
                    link: None,
                },
                file(b"x", &db),
            ],
        ),
        (
            "gnu long name",
            vec![
                Raw {
                    name: b"././@LongLink",
                    kind: tar::EntryType::GNULongName,
                    data: b"trivy.db\0",
                    link: None,
                },
                file(b"x", &db),
            ],
        ),
    ];
    for (what, entries) in cases {
        let p = tmp
            .path()
            .join(format!("{}.tar.gz", what.replace(' ', "_")));
        raw_tgz(&p, &entries);
        let v = validate_upstream_db_tar_gz(&p, &DbLimits::default());
        assert!(v.is_err(), "{what}: validate accepted it");
        let cache = tmp.path().join(format!("cache-{}", what.replace(' ', "_")));
        let i = install_db_tar_gz(
            fs::File::open(&p).unwrap(),
            &cache,
            1 << 40,
            &DbLimits::default(),
        );
        assert!(i.is_err(), "{what}: install accepted it");
        // Nothing half-installed is left behind.
        assert!(
            !cache.join("db/trivy.db").exists(),
            "{what}: trivy.db left behind"
        );
        assert!(
            !cache.join("db/metadata.json").exists(),
            "{what}: metadata.json left behind"
        );
    }

    // Size caps: a DB larger than the limit is refused before it is written out.
    let p = tmp.path().join("ok.tar.gz");
    raw_tgz(&p, &[file(b"trivy.db", &db), file(b"metadata.json", MD)]);
    assert!(validate_upstream_db_tar_gz(&p, &DbLimits::default()).is_ok());
    let mut small = DbLimits::default();
    small.max_db_bytes = 4096;
    assert!(matches!(
        validate_upstream_db_tar_gz(&p, &small),
        Err(TrivyError::TooLarge {
            entry: "trivy.db",
            ..
        })
    ));
    // Truncated gzip.
    let bytes = fs::read(&p).unwrap();
    let cut = tmp.path().join("cut.tar.gz");
    fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    assert!(validate_upstream_db_tar_gz(&cut, &DbLimits::default()).is_err());
}

#[test]
fn exported_dbs_pass_the_validator() {
    let tmp = tempfile::tempdir().unwrap();
    // The fixture DB.
    let input = fixture_ndjson(tmp.path());
    let out = tmp.path().join("small");
    export_trivy_db(&input, &out, &ExportOptions::new(EPOCH)).unwrap();
    let s = validate_bolt(
        &out.join("db/trivy.db"),
        &REQUIRED_BUCKETS,
        &DbLimits::default(),
    )
    .unwrap();
    assert_eq!(s.page_size, 4096);
    assert_eq!(s.root_buckets.len(), 11);

    // Many records, some with long details: the tree needs branch pages, and the long
    // `vulnerability` values need overflow pages.
    let mut text = String::new();
    for i in 0..6000u32 {
        let details = if i % 100 == 0 {
            "d".repeat(20_000)
        } else {
            format!("details of record {i}")
        };
        let rec = serde_json::json!({
            "id": format!("OUKBIG-{i}"),
            "modified": "2024-06-01T00:00:00Z",
            "aliases": [format!("CVE-2098-{i:05}")],
            "summary": format!("record {i}"),
            "details": details,
            "affected": [{
                "package": {"ecosystem": if i % 2 == 0 { "npm" } else { "PyPI" }, "name": format!("pkg-{}", i % 1500)},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": format!("1.{i}.0")}]}]
            }]
        });
        text.push_str(&rec.to_string());
        text.push('\n');
    }
    let big_input = tmp.path().join("big.ndjson");
    fs::write(&big_input, text).unwrap();
    let out = tmp.path().join("big");
    let summary = export_trivy_db(&big_input, &out, &ExportOptions::new(EPOCH)).unwrap();
    assert_eq!(summary.vulnerabilities, 6000);
    let s = validate_bolt(
        &out.join("db/trivy.db"),
        &REQUIRED_BUCKETS,
        &DbLimits::default(),
    )
    .unwrap();
    assert!(s.branch_pages > 0, "{s:?}");
    assert!(s.overflow_pages >= 60 * 4, "{s:?}");
    // 6000 vulnerabilities + 6000 advisories + 1500 package buckets + the root and
    // data-source keys, at least.
    assert!(s.elements > 13_500, "{s:?}");
}

#[test]
fn bad_records_are_reported_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.ndjson");
    let lines = [
        r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0 || >=0"}]}]}]}"#,
        "this is not json",
        r#"{"id":"X-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Red Hat:enterprise_linux:9::appstream","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.1"}]}]}]}"#,
        "",
        r#"{"id":"X-3","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"b"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}"#,
        r#"{"id":"X-4","modified":"2024-01-01T00:00:00Z","withdrawn":"2030-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"c"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}"#,
    ];
    fs::write(&input, lines.join("\n")).unwrap();
    let out = tmp.path().join("out");
    let s = export_trivy_db(&input, &out, &ExportOptions::new(EPOCH)).unwrap();
    assert_eq!(s.records_read, 5);
    assert_eq!(s.records_skipped, 2);
    assert_eq!(s.skipped[0].line, 1);
    assert_eq!(s.skipped[0].id.as_deref(), Some("X-1"));
    assert_eq!(s.skipped[1].line, 2);
    assert_eq!(s.affected_unsupported, 1);
    assert_eq!(s.records_withdrawn, 1); // X-3; X-4 is withdrawn only after EPOCH
    assert_eq!(s.records_used, 1);
    let d = dump(&out.join("db/trivy.db"));
    assert_eq!(
        d["npm::OUK merged advisories npm"]
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        ["c\0X-4"]
    );
    // Even a DB without any advisory has the vulnerability bucket Trivy needs.
    let empty = tmp.path().join("empty.ndjson");
    fs::write(&empty, "").unwrap();
    export_trivy_db(
        &empty,
        &tmp.path().join("out-empty"),
        &ExportOptions::new(EPOCH),
    )
    .unwrap();
    assert!(dump(&tmp.path().join("out-empty/db/trivy.db")).contains_key("vulnerability"));

    // An over-long line is a hard error naming the line.
    let long = tmp.path().join("long.ndjson");
    fs::write(&long, format!("{{}}\n{}\n", "x".repeat(2000))).unwrap();
    let mut opts = ExportOptions::new(EPOCH);
    opts.limits.max_record_bytes = 1000;
    assert!(matches!(
        export_trivy_db(&long, &tmp.path().join("out-long"), &opts),
        Err(TrivyError::RecordTooLong { line: 2, .. })
    ));
    assert!(!tmp.path().join("out-long/db/trivy.db").exists());
    assert!(!tmp.path().join("out-long/db/trivy.db.partial").exists());
}

#[test]
fn distribution_records_fill_trivys_os_buckets() {
    // testdata/trivy/os/osv: Debian, Ubuntu and Alpine records as the distributions publish
    // them in OSV (see testdata/trivy/README.md); .ci/parts/trivy.sh scans them with real Trivy.
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("os.ndjson");
    ndjson_from(
        &json_files(&repo().join("testdata/trivy/os/osv"), ".json"),
        &input,
    );
    let out = tmp.path().join("out");
    let s = export_trivy_db(&input, &out, &ExportOptions::new(EPOCH)).unwrap();
    // The record id travels as a vendor id, as a DSA id does in Trivy's own Debian advisories.
    // Left out, each with its reason: OUKTEST-OS-0008 starts its range above 0, OUKTEST-OS-0013
    // is an AlmaLinux fix built in a module stream, OUKTEST-OS-0015 an unfixed Rocky package.
    let skipped: Vec<(&str, &str)> = s
        .skipped
        .iter()
        .map(|k| (k.id.as_deref().unwrap_or(""), k.reason.as_str()))
        .collect();
    assert_eq!(s.records_skipped, 3, "{s:?}");
    assert_eq!(skipped[0].0, "OUKTEST-OS-0008");
    assert!(skipped[0].1.contains("introduced 0"), "{s:?}");
    assert_eq!(skipped[1].0, "OUKTEST-OS-0013");
    assert!(skipped[1].1.contains("module stream"), "{s:?}");
    assert_eq!(skipped[2].0, "OUKTEST-OS-0015");
    assert!(skipped[2].1.contains("unfixed"), "{s:?}");
    // The Ubuntu Pro entry of OUKTEST-OS-0005 has no Trivy bucket of ours.
    assert_eq!(s.affected_unsupported, 1, "{s:?}");
    let d = dump(&out.join("db/trivy.db"));
    let value = |bucket: &str, key: &str| d[bucket][key].clone();
    assert_eq!(
        value("debian 12", "openssl\0CVE-2099-20001"),
        r#"{"VendorIDs":["OUKTEST-OS-0001"],"FixedVersion":"3.0.13-1~deb12u1"}"#
    );
    assert_eq!(
        value("debian 11", "openssl\0CVE-2099-20001"),
        r#"{"VendorIDs":["OUKTEST-OS-0001"],"FixedVersion":"1.1.1w-0+deb11u1"}"#
    );
    // Unfixed: no FixedVersion, which Trivy's Debian, Ubuntu and Alpine scanners report as
    // affected whatever the installed version.
    assert_eq!(
        value("debian 12", "zlib\0CVE-2099-20002"),
        r#"{"VendorIDs":["OUKTEST-OS-0002"]}"#
    );
    assert_eq!(
        value("ubuntu 22.04", "openssl\0CVE-2099-20005"),
        r#"{"VendorIDs":["OUKTEST-OS-0005"],"FixedVersion":"3.0.2-0ubuntu1.15"}"#
    );
    assert_eq!(
        value("alpine 3.19", "openssl\0CVE-2099-20006"),
        r#"{"VendorIDs":["OUKTEST-OS-0006"],"FixedVersion":"3.1.4-r5"}"#
    );
    assert_eq!(
        value("data-source", "debian 12"),
        r#"{"ID":"ouk","Name":"OUK merged advisories debian 12"}"#
    );
    assert_eq!(
        value("wolfi", "openssl\0CVE-2099-20009"),
        r#"{"VendorIDs":["OUKTEST-OS-0009"],"FixedVersion":"3.3.1-r0"}"#
    );
    assert!(d["chainguard"].contains_key("openssl\0CVE-2099-20010"));
    assert_eq!(
        value("wolfi", "openssl\0CVE-2099-20009"),
        r#"{"VendorIDs":["OUKTEST-OS-0009"],"FixedVersion":"3.3.1-r0"}"#
    );
    assert!(d["chainguard"].contains_key("openssl\0CVE-2099-20010"));
    assert!(d["vulnerability"].contains_key("CVE-2099-20006"));
    assert!(!d.contains_key("ubuntu 18.04"));
    // AlmaLinux and Rocky Linux: binary packages under the major release, epochs as written
    // except an explicit zero one (trivy-db's spelling).
    assert_eq!(
        value("alma 8", "openssl-libs\0CVE-2099-20011"),
        r#"{"VendorIDs":["OUKTEST-OS-0011"],"FixedVersion":"1:1.1.1k-12.el8_9"}"#
    );
    assert_eq!(
        value("alma 9", "openssl-libs\0CVE-2099-20011"),
        r#"{"VendorIDs":["OUKTEST-OS-0011"],"FixedVersion":"1:3.0.7-27.el9"}"#
    );
    assert_eq!(
        value("rocky 9", "libxml2\0CVE-2099-20014"),
        r#"{"VendorIDs":["OUKTEST-OS-0014"],"FixedVersion":"2.9.13-6.el9_4"}"#
    );
    assert!(d["rocky 8"].contains_key("libxml2\0CVE-2099-20014"));
    assert!(!d["alma 8"].contains_key("nodejs\0CVE-2099-20013"));
    assert!(!d["rocky 9"].contains_key("vim-minimal\0CVE-2099-20015"));
    // SUSE: the module SUSE files base packages under maps to the release Trivy looks up.
    assert_eq!(
        value("SUSE Linux Enterprise 15.5", "libopenssl3\0CVE-2099-20016"),
        r#"{"VendorIDs":["OUKTEST-OS-0016"],"FixedVersion":"3.0.8-150500.5.14.1"}"#
    );
    assert!(d["SUSE Linux Enterprise 15.4"].contains_key("libopenssl3\0CVE-2099-20016"));
    assert!(d["openSUSE Leap 15.5"].contains_key("libopenssl3\0CVE-2099-20016"));
    assert_eq!(
        value("data-source", "alma 8"),
        r#"{"ID":"ouk","Name":"OUK merged advisories alma 8"}"#
    );
}

#[test]
fn real_feeds_map_like_trivy_db() {
    // Real GHSA / Go / RustSec / PyPA records, read in place from ../shared/feeds.
    let feeds = repo().join("../shared/feeds");
    let mut files = json_files(&feeds.join("ghsa"), ".json");
    files.extend(json_files(&feeds.join("go"), ".json"));
    files.extend(json_files(&feeds.join("rustsec"), ".json"));
    files.extend(json_files(&feeds.join("pysec"), ".derived.json"));
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("feeds.ndjson");
    ndjson_from(&files, &input);
    let out = tmp.path().join("out");
    let s = export_trivy_db(&input, &out, &ExportOptions::new(EPOCH)).unwrap();
    assert_eq!(s.records_read, 26);
    assert_eq!(s.records_skipped, 0, "{:?}", s.skipped);
    let d = dump(&out.join("db/trivy.db"));
    let cargo = &d["cargo::OUK merged advisories crates.io"];
    // GHSA-wcg3-cvx6-7396: the open range ">= 0.1" is capped with "< 0.2" (else every time
    // 0.3.x would be reported), the second affected entry is a closed range.
    assert_eq!(
        cargo["time\0CVE-2020-26235"],
        r#"{"VendorIDs":["GHSA-wcg3-cvx6-7396"],"VulnerableVersions":[">=0.1, <0.2",">=0.2.7, <0.2.23"],"PatchedVersions":["0.2.23"]}"#
    );
    // GHSA (no CVE alias in the stored copy) is keyed by its GHSA id; NuGet gets both spellings.
    let nuget = &d["nuget::OUK merged advisories NuGet"];
    assert!(nuget.contains_key("Newtonsoft.Json\0GHSA-5crp-9r3c-p9vr"));
    assert!(nuget.contains_key("newtonsoft.json\0GHSA-5crp-9r3c-p9vr"));
    // Go vulndb's stdlib entries land under "stdlib", as in trivy-db's govulndb source.
    let go = &d["go::OUK merged advisories Go"];
    assert!(go.keys().any(|k| k.starts_with("stdlib\0CVE-2022-27664")));
    // PyPI "Gradio" is lower-cased; its versions[] list becomes "=V" entries.
    let pip = &d["pip::OUK merged advisories PyPI"];
    let gradio: serde_json::Value = serde_json::from_str(&pip["gradio\0CVE-2024-39236"]).unwrap();
    assert!(gradio["VulnerableVersions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v.as_str().unwrap().starts_with('=')));
}
