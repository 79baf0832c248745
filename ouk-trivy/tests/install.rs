//! `install_db_tar_gz` and `db_tar_gz_expanded_size` on archives holding the hand-built test DB
//! (`src/bolt/testdb.rs`), so these run without the `export` feature: round trip, exact refusal
//! of hostile archives and DBs, caps, and nothing left behind.

#[path = "../src/bolt/testdb.rs"]
mod testdb;

use std::fs;
use std::io::Write;
use std::path::Path;

use ouk_trivy::{
    db_tar_gz_expanded_size, install_db_tar_gz, BoltProblem, DbLimits, PageRef, TrivyError,
};

const MD: &[u8] = br#"{"Version":2,"NextUpdate":"2025-01-02T00:00:00Z","UpdatedAt":"2025-01-01T00:00:00Z","DownloadedAt":"0001-01-01T00:00:00Z"}"#;

/// One raw tar entry: name bytes written straight into the header, so names the tar crate's
/// builder refuses (`..`) can be produced.
struct Raw<'a> {
    name: &'a [u8],
    kind: tar::EntryType,
    data: &'a [u8],
}

fn file<'a>(name: &'a [u8], data: &'a [u8]) -> Raw<'a> {
    Raw {
        name,
        kind: tar::EntryType::Regular,
        data,
    }
}

fn tgz(entries: &[Raw]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut b = tar::Builder::new(gz);
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.as_ustar_mut().unwrap().name[..e.name.len()].copy_from_slice(e.name);
        if e.kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, e.data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn good() -> Vec<u8> {
    tgz(&[
        file(b"trivy.db", &testdb::build()),
        file(b"metadata.json", MD),
    ])
}

fn expanded() -> u64 {
    (testdb::build().len() + MD.len()) as u64
}

/// Installs into a fresh `cache` under `dir`; on error, asserts nothing was left behind.
fn install(dir: &Path, archive: &[u8], max: u64) -> Result<ouk_trivy::InstallSummary, TrivyError> {
    let cache = dir.join("cache");
    let r = install_db_tar_gz(archive, &cache, max, &DbLimits::default());
    if r.is_err() {
        assert!(
            !cache.exists(),
            "left behind: {:?}",
            fs::read_dir(&cache).map(|d| d.count())
        );
    }
    r
}

#[test]
fn round_trip_and_expanded_size() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = good();
    assert_eq!(
        db_tar_gz_expanded_size(&archive[..], &DbLimits::default()).unwrap(),
        expanded()
    );
    let s = install(tmp.path(), &archive, expanded()).unwrap();
    assert_eq!(s.expanded_bytes, expanded());
    assert_eq!(s.db_bytes, testdb::build().len() as u64);
    assert_eq!(fs::read(&s.db_path).unwrap(), testdb::build());
    assert_eq!(
        fs::read(tmp.path().join("cache/db/metadata.json")).unwrap(),
        MD
    );
    assert_eq!(s.bolt.root_buckets.len(), 3);
    // A second install into the same place is refused and leaves the first intact.
    let again = install_db_tar_gz(
        &archive[..],
        &tmp.path().join("cache"),
        expanded(),
        &DbLimits::default(),
    );
    assert!(matches!(again, Err(TrivyError::OutputExists { .. })));
    assert_eq!(fs::read(&s.db_path).unwrap(), testdb::build());
}

#[test]
fn expanded_size_over_the_declared_one() {
    let tmp = tempfile::tempdir().unwrap();
    let r = install(tmp.path(), &good(), expanded() - 1);
    assert!(matches!(
        r,
        Err(TrivyError::TooLarge { entry: "expanded archive", limit, .. }) if limit == expanded() - 1
    ));
}

#[test]
fn gzip_bomb_stops_at_the_declared_size() {
    // 64 MiB of zeros compresses to ~64 KiB; the header says so too, so the cap applies before
    // a byte is written.
    let tmp = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 64 << 20];
    let bomb = tgz(&[file(b"trivy.db", &zeros), file(b"metadata.json", MD)]);
    assert!(bomb.len() < 1 << 20);
    let r = install(tmp.path(), &bomb, 1 << 20);
    assert!(matches!(
        r,
        Err(TrivyError::TooLarge {
            entry: "expanded archive",
            limit: 1_048_576,
            ..
        })
    ));
    // Within the declared size but above the per-file cap.
    let mut limits = DbLimits::default();
    limits.max_db_bytes = 1 << 20;
    assert!(matches!(
        db_tar_gz_expanded_size(&bomb[..], &limits),
        Err(TrivyError::TooLarge {
            entry: "trivy.db",
            ..
        })
    ));
}

#[test]
fn hostile_entries_are_refused_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let db = testdb::build();
    let cases: Vec<(&str, Vec<Raw>, &str)> = vec![
        (
            "extra",
            vec![
                file(b"trivy.db", &db),
                file(b"metadata.json", MD),
                file(b"run.sh", b"x"),
            ],
            "only trivy.db and metadata.json are allowed",
        ),
        (
            "symlink",
            vec![
                Raw {
                    name: b"trivy.db",
                    kind: tar::EntryType::Symlink,
                    data: b"",
                },
                file(b"metadata.json", MD),
            ],
            "not a regular file",
        ),
        (
            "hardlink",
            vec![
                Raw {
                    name: b"trivy.db",
                    kind: tar::EntryType::Link,
                    data: b"",
                },
                file(b"metadata.json", MD),
            ],
            "not a regular file",
        ),
        (
            "dir",
            vec![Raw {
                name: b"db/",
                kind: tar::EntryType::Directory,
                data: b"",
            }],
            "not a regular file",
        ),
        (
            "dotdot",
            vec![file(b"../trivy.db", &db), file(b"metadata.json", MD)],
            "path with a `..` component",
        ),
        (
            "dotdot alone",
            vec![file(b"..", &db), file(b"metadata.json", MD)],
            "path with a `..` component",
        ),
        (
            "dot slash",
            vec![file(b"./trivy.db", &db), file(b"metadata.json", MD)],
            "only trivy.db and metadata.json are allowed",
        ),
        (
            "fifo",
            vec![Raw {
                name: b"trivy.db",
                kind: tar::EntryType::Fifo,
                data: b"",
            }],
            "not a regular file",
        ),
    ];
    for (i, (what, entries, reason)) in cases.iter().enumerate() {
        let dir = tmp.path().join(i.to_string());
        fs::create_dir(&dir).unwrap();
        let archive = tgz(entries);
        match install(&dir, &archive, 1 << 30) {
            Err(TrivyError::UnexpectedEntry { reason: r, .. }) => assert_eq!(r, *reason, "{what}"),
            other => panic!("{what}: {other:?}"),
        }
        assert!(matches!(
            db_tar_gz_expanded_size(&archive[..], &DbLimits::default()),
            Err(TrivyError::UnexpectedEntry { .. })
        ));
    }
    let dup = tgz(&[
        file(b"trivy.db", &db),
        file(b"trivy.db", &db),
        file(b"metadata.json", MD),
    ]);
    assert!(matches!(
        install(tmp.path(), &dup, 1 << 30),
        Err(TrivyError::DuplicateEntry {
            entry: "trivy.db",
            ..
        })
    ));
    let missing = tgz(&[file(b"trivy.db", &db)]);
    assert!(matches!(
        install(tmp.path(), &missing, 1 << 30),
        Err(TrivyError::MissingEntry {
            entry: "metadata.json",
            ..
        })
    ));
    let many: Vec<Raw> = (0..20).map(|_| file(b"x", b"")).collect();
    assert!(matches!(
        install(tmp.path(), &tgz(&many), 1 << 30),
        Err(TrivyError::UnexpectedEntry {
            reason: "only trivy.db and metadata.json are allowed",
            ..
        })
    ));
}

#[test]
fn framing_errors_are_malformed_not_io() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = good();
    let cut = &archive[..archive.len() - 10];
    assert!(matches!(
        install(tmp.path(), cut, 1 << 30),
        Err(TrivyError::MalformedArchive { .. })
    ));
    let mut trailing = archive.clone();
    trailing.extend_from_slice(b"more");
    assert!(matches!(
        install(tmp.path(), &trailing, 1 << 30),
        Err(TrivyError::MalformedArchive { .. })
    ));
    let mut flipped = archive.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    assert!(matches!(
        install(tmp.path(), &flipped, 1 << 30),
        Err(TrivyError::MalformedArchive { .. })
    ));
}

#[test]
fn a_hostile_db_is_refused_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut db = testdb::build();
    testdb::set_u32(&mut db, testdb::elem(4, 0) + 8, 0x7fff_ffff);
    let archive = tgz(&[file(b"trivy.db", &db), file(b"metadata.json", MD)]);
    match install(tmp.path(), &archive, 1 << 30) {
        Err(TrivyError::InvalidBolt { problem, .. }) => assert_eq!(
            problem,
            BoltProblem::ElementOutOfPage {
                at: PageRef::Page(4),
                index: 0,
                part: ouk_trivy::ElementPart::Key
            }
        ),
        other => panic!("{other:?}"),
    }
    let bad_md = tgz(&[
        file(b"trivy.db", &testdb::build()),
        file(b"metadata.json", b"{}"),
    ]);
    assert!(matches!(
        install(tmp.path(), &bad_md, 1 << 30),
        Err(TrivyError::BadMetadata { .. })
    ));
}

#[test]
fn destination_rules() {
    let tmp = tempfile::tempdir().unwrap();
    // An existing, empty, real `db` directory is fine and kept.
    let cache = tmp.path().join("a");
    fs::create_dir_all(cache.join("db")).unwrap();
    install_db_tar_gz(&good()[..], &cache, 1 << 30, &DbLimits::default()).unwrap();
    // A non-empty one is refused and left as it was.
    let cache = tmp.path().join("b");
    fs::create_dir_all(cache.join("db")).unwrap();
    fs::File::create(cache.join("db/other"))
        .unwrap()
        .write_all(b"x")
        .unwrap();
    assert!(matches!(
        install_db_tar_gz(&good()[..], &cache, 1 << 30, &DbLimits::default()),
        Err(TrivyError::OutputExists { .. })
    ));
    assert_eq!(fs::read(cache.join("db/other")).unwrap(), b"x");
    // A symlinked `db` is never written through.
    let cache = tmp.path().join("c");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(&cache).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, cache.join("db")).unwrap();
    assert!(matches!(
        install_db_tar_gz(&good()[..], &cache, 1 << 30, &DbLimits::default()),
        Err(TrivyError::OutputExists { .. })
    ));
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    // A failure after `db/` was created removes it again, but keeps a cache dir that existed.
    let cache = tmp.path().join("d");
    fs::create_dir_all(&cache).unwrap();
    let r = install_db_tar_gz(&good()[..], &cache, 10, &DbLimits::default());
    assert!(matches!(r, Err(TrivyError::TooLarge { .. })));
    assert!(cache.exists());
    assert_eq!(fs::read_dir(&cache).unwrap().count(), 0);
}
