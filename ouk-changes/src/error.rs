//! Errors of the change report: each names the side and the line it happened on.

use std::fmt;

/// Which of the two snapshots (or generations) an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The older generation.
    Before,
    /// The newer generation.
    After,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Before => "older snapshot",
            Side::After => "newer snapshot",
        })
    }
}

/// Why a change report could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    /// Reading a snapshot failed.
    #[error("reading the {side}: {source}")]
    Read {
        /// Which snapshot.
        side: Side,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is longer than the limit (a record no merger writes).
    #[error("{side}, line {line}: longer than {limit} bytes")]
    LineTooLong {
        /// Which snapshot.
        side: Side,
        /// 1-based line number.
        line: u64,
        /// The limit.
        limit: usize,
    },
    /// A line is not an OSV record with an id.
    #[error("{side}, line {line}: not an OSV record: {reason}")]
    BadRecord {
        /// Which snapshot.
        side: Side,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// Ids are not strictly increasing, so a one-pass comparison would be wrong.
    #[error(
        "{side}, line {line}: id {id:?} is not after {previous:?} (snapshot not sorted by id)"
    )]
    NotSorted {
        /// Which snapshot.
        side: Side,
        /// 1-based line number.
        line: u64,
        /// The offending id.
        id: String,
        /// The id before it.
        previous: String,
    },
    /// Writing the report failed.
    #[error("writing the change report: {0}")]
    Output(std::io::Error),
}
