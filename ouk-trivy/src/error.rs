//! One error type for the crate. Every variant names the file (and entry or record) at fault so
//! an operator can find the offending input without a debugger.

use std::path::PathBuf;

use crate::bolt::problem::{BoltProblem, BucketName};

/// Why an export, pack, validation or install failed.
///
/// Variants are grouped by who is at fault: I/O on our side, malformed or oversized input, and
/// output that already exists (a caller bug: outputs go into fresh directories).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrivyError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An input line (one OSV record) is longer than the limit.
    #[error("{}: line {line}: record longer than {limit} bytes", path.display())]
    RecordTooLong {
        /// The snapshot file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The limit in bytes.
        limit: usize,
    },
    /// The snapshot holds more records than the limit allows.
    #[error("{}: more than {limit} records", path.display())]
    TooManyRecords {
        /// The snapshot file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// bbolt-rs reported an error while writing a database (export only).
    #[error("{}: bolt database error: {message}", path.display())]
    Bolt {
        /// The database file.
        path: PathBuf,
        /// bbolt-rs's message (our own text, never attacker data).
        message: String,
    },
    /// The file is not a Bolt database Trivy can read safely: [`BoltProblem`] says which page,
    /// element or limit is at fault, `bucket` which bucket was being walked.
    #[error("{}: invalid Bolt database (bucket {bucket}): {problem}", path.display())]
    InvalidBolt {
        /// The database file (or `archive/trivy.db`).
        path: PathBuf,
        /// The bucket path being walked, bounded (empty for the meta pages and root bucket).
        bucket: BucketName,
        /// The defect.
        problem: BoltProblem,
    },
    /// `metadata.json` is missing a field, has the wrong schema version or is not JSON.
    #[error("{}: bad Trivy metadata: {reason}", path.display())]
    BadMetadata {
        /// The metadata file (or `archive!metadata.json`).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tar entry other than a regular `trivy.db` or `metadata.json` (links, directories,
    /// devices, other names, paths with directories).
    #[error("{}: tar entry {entry:?} not allowed: {reason}", archive.display())]
    UnexpectedEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry name, lossily decoded and cut to 200 characters.
        entry: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A tar entry appears twice.
    #[error("{}: tar entry {entry} appears twice", archive.display())]
    DuplicateEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry name.
        entry: &'static str,
    },
    /// A required tar entry is missing.
    #[error("{}: tar entry {entry} is missing", archive.display())]
    MissingEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry name.
        entry: &'static str,
    },
    /// A tar entry, or the archive as a whole, is larger than the limit.
    #[error("{}: {entry} exceeds {limit} bytes", archive.display())]
    TooLarge {
        /// The archive.
        archive: PathBuf,
        /// The entry name (or "archive").
        entry: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The gzip or tar framing is broken.
    #[error("{}: malformed tar.gz: {reason}", archive.display())]
    MalformedArchive {
        /// The archive.
        archive: PathBuf,
        /// What failed, from the decoder.
        reason: String,
    },
    /// An output file already exists; outputs must go into fresh locations.
    #[error("{}: already exists", path.display())]
    OutputExists {
        /// The existing path.
        path: PathBuf,
    },
    /// An option value cannot be represented (for example a time outside the RFC 3339 range).
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
}

impl TrivyError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrivyError::Io {
            path: path.into(),
            source,
        }
    }
}
