//! Trivy vulnerability DB (BoltDB schema v2) for the Offline Update Kit.
//!
//! Why this crate exists: most scanners inside an air gap are stock Trivy, run with
//! `--skip-db-update --offline-scan`. Trivy reads only its own BoltDB file, so the kit ships one
//! built from the merged OSV snapshot (or a validated upstream `db.tar.gz`), and the importer
//! installs it where `trivy --cache-dir <store>/current/trivy` finds it.
//!
//! The bucket layout and the OSV → Trivy mapping are specified in `spec/trivy-db.md`.
//!
//! * [`export_trivy_db`] — merged `advisories.ndjson` → `out/db/trivy.db` + `out/db/metadata.json`.
//! * [`pack_db_tar_gz`] — `db/` → deterministic `db.tar.gz` (the official OCI layer's layout).
//! * [`validate_upstream_db_tar_gz`] — checks an upstream `db.tar.gz` before it is packed.
//! * [`install_db_tar_gz`] — importer side: the verified member → `<cache>/db/{trivy.db,metadata.json}`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bolt_check;
mod error;
mod export;
mod limits;
mod mapping;
mod metadata;
mod osv;
mod tarball;
mod trivy_types;

pub use error::TrivyError;
pub use export::{export_trivy_db, ExportOptions, ExportSummary, SkippedRecord};
pub use limits::{DbLimits, ExportLimits};
pub use metadata::{Metadata, SCHEMA_VERSION};
pub use tarball::{
    install_db_tar_gz, pack_db_tar_gz, validate_upstream_db_tar_gz, DbInfo, InstallSummary,
    PackSummary, DB_FILE, METADATA_FILE,
};
pub use trivy_types::{DATA_SOURCE_BUCKET, DATA_SOURCE_ID, VULNERABILITY_BUCKET};
