//! Report types shared by the adapters and the merge (serde-serialisable, sorted).

use serde::{Deserialize, Serialize};

use crate::source::SourceKind;

/// A record (or file) that was skipped, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rejected {
    /// Source kind.
    pub source: SourceKind,
    /// File (and `!entry` inside a zip) concerned.
    pub file: String,
    /// Record id if it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// Why it was skipped.
    pub reason: String,
}

/// A part of a record that was dropped while the rest was kept (e.g. an
/// `affected` entry with an ecosystem the OSV schema does not know).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dropped {
    /// Source kind.
    pub source: SourceKind,
    /// File concerned.
    pub file: String,
    /// Record id.
    pub record_id: String,
    /// What was dropped and why.
    pub reason: String,
}
