//! Report types shared by the adapters and the merge (serde-serialisable, sorted).

use serde::{Deserialize, Serialize};

use crate::output::SourceSnapshot;
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

impl Rejected {
    /// Whether this rejection came from source `s` (same kind, a file under its path): two
    /// sources of one kind are told apart by where their files lie.
    pub fn is_from(&self, s: &SourceSnapshot) -> bool {
        self.source == s.kind && self.file.starts_with(&s.path)
    }
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
