//! A stub of Trivy's Java DB beside the installed Trivy DB, so that a stock Trivy can analyse
//! images and file systems that contain JAR files offline.
//!
//! Why: Trivy opens its Java DB (`<cache>/java-db/`, the `trivy-java-db` OCI artifact, a SQLite
//! index from JAR SHA-1 digests to Maven coordinates) as soon as a scan meets a JAR, and without
//! one it stops with a fatal error, `--offline-scan` and `--skip-java-db-update` notwithstanding
//! ("the first run cannot skip downloading Java DB"): every `trivy image` of a Java application
//! inside the air gap failed. With `--offline-scan` its JAR analyzer never queries that index;
//! it names a JAR from the JAR's own `pom.properties` (or `MANIFEST.MF`) alone. So an offline
//! scan needs the Java DB to be there, not to hold anything, and the stub is exactly that:
//! * `metadata.json`: schema version 1 (what Trivy 0.44 to 0.59 and trivy-java-db expect),
//!   `UpdatedAt` and `DownloadedAt` those of the installed Trivy DB (deterministic, and what
//!   `trivy version` then shows), `NextUpdate` at the end of time: an index with nothing in it
//!   never goes stale, so Trivy does not try to download one even without
//!   `--skip-java-db-update`;
//! * `trivy-java.db`: an empty file, which SQLite opens as an empty database. Trivy only opens
//!   it (and sets a pragma) when it never queries it, and writes nothing to it.
//!
//! Without `--offline-scan` Trivy would query the empty index and fail on a JAR that lacks its
//! own Maven metadata: offline use needs `--offline-scan`, as everywhere in the air gap. The
//! stub is written by the importer, never taken from a kit (no kit member may sit under
//! `trivy/` other than the Trivy DB archive).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::{DbLimits, Metadata, TrivyError, METADATA_FILE};

/// The directory under the cache dir where Trivy looks for its Java DB.
pub const JAVA_DB_DIR: &str = "java-db";
/// The SQLite file Trivy opens there.
pub const JAVA_DB_FILE: &str = "trivy-java.db";
/// The Java DB schema version Trivy 0.44 to 0.59 accept (trivy-java-db's `SchemaVersion`).
pub const JAVA_DB_SCHEMA_VERSION: u32 = 1;
/// `NextUpdate` of the stub: the end of time, as an empty index is never out of date.
const NEVER: &str = "9999-12-31T23:59:59Z";

/// Writes the Java DB stub into `<cache_dir>/java-db/` beside the Trivy DB installed in
/// `<cache_dir>/db/` (whose `metadata.json` gives the timestamps). `java-db` must not exist:
/// nothing is written through an existing path or link. On error, what was written is removed.
/// Returns the stub's directory.
pub fn install_java_db_stub(cache_dir: &Path) -> Result<PathBuf, TrivyError> {
    let db_md = cache_dir.join("db").join(METADATA_FILE);
    let limit = DbLimits::default().max_metadata_bytes;
    let mut raw = Vec::new();
    File::open(&db_md)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut raw))
        .map_err(|e| TrivyError::io(&db_md, e))?;
    let db = Metadata::parse(&raw, &db_md)?;
    let stub = Metadata {
        version: JAVA_DB_SCHEMA_VERSION,
        next_update: NEVER.to_string(),
        updated_at: db.updated_at.clone(),
        downloaded_at: db.updated_at,
    };
    let dir = cache_dir.join(JAVA_DB_DIR);
    fs::create_dir(&dir).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => TrivyError::OutputExists { path: dir.clone() },
        _ => TrivyError::io(&dir, e),
    })?;
    let written = write_new(&dir.join(JAVA_DB_FILE), b"")
        .and_then(|()| write_new(&dir.join(METADATA_FILE), &stub.to_bytes()));
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&dir);
        return Err(e);
    }
    Ok(dir)
}

/// Creates `path` (never through an existing file or link) with `bytes`, synced.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), TrivyError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| TrivyError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| TrivyError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_db_metadata() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join("db")).unwrap();
        let md = Metadata::from_unix(1_767_225_600, 1_735_689_600, 1_735_689_600).unwrap();
        fs::write(tmp.path().join("db").join(METADATA_FILE), md.to_bytes()).unwrap();
        tmp
    }

    #[test]
    fn the_stub_is_an_empty_index_with_version_1_metadata_that_never_expires() {
        let tmp = with_db_metadata();
        let dir = install_java_db_stub(tmp.path()).unwrap();
        assert_eq!(fs::read(dir.join(JAVA_DB_FILE)).unwrap(), b"");
        let md: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join(METADATA_FILE)).unwrap()).unwrap();
        assert_eq!(
            md,
            serde_json::json!({"Version": 1, "NextUpdate": "9999-12-31T23:59:59Z",
                "UpdatedAt": "2025-01-01T00:00:00Z", "DownloadedAt": "2025-01-01T00:00:00Z"})
        );
    }

    #[test]
    fn nothing_is_written_through_an_existing_java_db_or_without_a_trivy_db() {
        let tmp = with_db_metadata();
        let outside = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path(), tmp.path().join(JAVA_DB_DIR)).unwrap();
        #[cfg(unix)]
        {
            let err = install_java_db_stub(tmp.path()).unwrap_err();
            assert!(matches!(err, TrivyError::OutputExists { .. }), "{err}");
            assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
        }
        let empty = tempfile::tempdir().unwrap();
        assert!(install_java_db_stub(empty.path()).is_err());
        assert!(!empty.path().join(JAVA_DB_DIR).exists());
    }
}
