//! Errors of the feed library. Per-record problems are *not* errors: they become
//! [`crate::report::Rejected`] entries so one bad record never stops a merge.

use std::path::PathBuf;

/// A failure that stops a merge (or the writing of its output).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// A `KIND=PATH` string or a kind name could not be parsed.
    #[error("invalid source spec {spec:?}: {reason}")]
    InvalidSpec {
        /// The text given.
        spec: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A required source could not be read or held no usable record, and
    /// `allow_partial` was off.
    #[error("required source {kind}={path} unusable: {reason}")]
    RequiredSourceUnusable {
        /// Source kind (lower-case name).
        kind: String,
        /// Path as given.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// No OSV-format source (osv or ghsa) was given at all and `allow_partial` was off.
    #[error("no required source given: at least one of osv or ghsa is needed (or allow_partial)")]
    NoRequiredSource,
    /// A configured limit was exceeded in a way that cannot be skipped record-by-record.
    #[error("limit exceeded in {path}: {what}")]
    Limit {
        /// File or source concerned.
        path: PathBuf,
        /// Which limit.
        what: String,
    },
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// File being written.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising an output document failed (a bug, never caused by input).
    #[error("cannot serialise {what}: {source}")]
    Serialize {
        /// Which document.
        what: &'static str,
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The temporary spill file (parsed records or merged lines held on disk
    /// instead of in memory) could not be created, written or read back.
    /// Names the directory: a full or RAM-backed `/tmp` is the usual cause, and
    /// `TMPDIR` the cure.
    #[error("merge spill file in {} (TMPDIR): {what}: {source}", dir.display())]
    Spill {
        /// The temporary directory the spill files live in.
        dir: PathBuf,
        /// Which step failed.
        what: &'static str,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A spilled record did not decode (the spill file was changed underneath us, or a bug).
    #[error("merge spill file: cannot decode a record: {source}")]
    SpillDecode {
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The worker pool could not be created.
    #[error("cannot start parser thread pool: {0}")]
    ThreadPool(String),
}

impl FeedError {
    /// A spill-file error in the temporary directory in use.
    pub(crate) fn spill(what: &'static str, source: std::io::Error) -> Self {
        FeedError::Spill {
            dir: std::env::temp_dir(),
            what,
            source,
        }
    }
}
