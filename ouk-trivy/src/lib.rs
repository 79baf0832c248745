//! Trivy vulnerability DB (BoltDB schema v2) for the Offline Update Kit.
//!
//! Why this crate exists: most scanners inside an air gap are stock Trivy, run with
//! `--skip-db-update --offline-scan`. Trivy reads only its own BoltDB file, so the kit ships one
//! built from the merged OSV snapshot (or a validated upstream `db.tar.gz`), and the importer
//! installs it where `trivy --cache-dir <store>/current/trivy` finds it.
//!
//! The bucket layout and the OSV → Trivy mapping are specified in `spec/trivy-db.md`.
//!
//! Two halves, so a consumer that only installs DBs links only what it runs:
//! * always: [`install_db_tar_gz`] (the verified member → `<cache>/db/{trivy.db,metadata.json}`),
//!   [`install_java_db_stub`] (what Trivy needs to analyse JAR files offline),
//!   [`db_tar_gz_expanded_size`] and [`validate_bolt`], a bounds-checked Bolt validator that
//!   needs neither mmap nor bbolt-rs.
//! * feature `export` (default): [`export_trivy_db`] (merged `advisories.ndjson` → `db/`),
//!   [`pack_db_tar_gz`] (deterministic `db.tar.gz`) and [`validate_upstream_db_tar_gz`]; these
//!   bring in cvss and tempfile (the DB is written by our streaming Bolt writer, in bounded
//!   memory). The importer enables it too: a delta kit carries no Trivy DB, and the importer
//!   exports one from the rebuilt snapshot with the builder's code.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod archive;
mod bolt;
mod buckets;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod install;
mod java_db;
mod limits;
mod metadata;

#[cfg(feature = "export")]
mod bolt_writer;
#[cfg(feature = "export")]
mod export;
#[cfg(feature = "export")]
mod external_sort;
#[cfg(feature = "export")]
mod mapping;
#[cfg(feature = "export")]
mod osv;
#[cfg(feature = "export")]
mod pack;
#[cfg(feature = "export")]
mod trivy_types;

pub use bolt::problem::{BoltProblem, BucketName, ElementPart, MetaProblem, PageKind, PageRef};
pub use bolt::{validate_bolt, BoltSummary};
pub use buckets::{DATA_SOURCE_BUCKET, DATA_SOURCE_ID, REQUIRED_BUCKETS, VULNERABILITY_BUCKET};
pub use error::TrivyError;
pub use install::{db_tar_gz_expanded_size, install_db_tar_gz, InstallSummary};
pub use java_db::{install_java_db_stub, JAVA_DB_DIR, JAVA_DB_FILE, JAVA_DB_SCHEMA_VERSION};
pub use limits::{DbLimits, ExportLimits};
pub use metadata::{Metadata, SCHEMA_VERSION};

#[cfg(feature = "export")]
pub use export::{export_trivy_db, ExportOptions, ExportSummary, SkippedRecord};
#[cfg(feature = "export")]
pub use pack::{pack_db_tar_gz, validate_upstream_db_tar_gz, DbInfo, PackSummary};

/// Name of the Bolt file inside `db/` and inside the archive.
pub const DB_FILE: &str = "trivy.db";
/// Name of the metadata file inside `db/` and inside the archive.
pub const METADATA_FILE: &str = "metadata.json";
