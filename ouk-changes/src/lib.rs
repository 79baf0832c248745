//! Reports for the air-gapped admin: what changed between two generations (advisories and SBOM
//! components), which of the site's SBOMs are newly affected, and a self-contained HTML status
//! page. The importer calls this crate; it knows nothing of the store layout or the CLI, only of
//! the files a generation holds (the merged OSV snapshot, SBOMs).
//!
//! Everything here reads sorted or bounded inputs in one pass: two 500 k-record snapshots are
//! compared in a few MiB, and an SBOM directory is capped per file.

pub mod change_report;
pub mod error;
pub mod html;
pub mod matcher;
pub mod purl;
pub mod record_facts;
pub mod sbom;
pub mod sbom_diff;
pub mod severity;
pub mod snapshot_diff;
pub mod versions;

pub use error::{ChangesError, Side};
