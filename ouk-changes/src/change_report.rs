//! `.ouk/changes.json`: the change report written into every generation, and the bounded reader
//! that status pages and `diff` use to show it.
//!
//! The document is written in one pass in a fixed key order, with the per-advisory entries last:
//! they are spooled to a scratch file while the snapshots are compared (their number is only
//! bounded by the snapshot), then copied behind the summary. Readers keep the first entries and
//! skip the rest without allocating, so neither side's memory grows with the snapshots.

use std::fmt;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ChangesError;
use crate::sbom_diff::SbomDelta;
use crate::snapshot_diff::{diff_snapshots, AdvisoryChange, AdvisorySummary};

/// `format` of `.ouk/changes.json`.
pub const CHANGES_FORMAT: &str = "ouk-changes/1";

/// Which generation a side of the report is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationRef {
    /// Generation directory name.
    pub generation: String,
    /// Kit id.
    pub kit_id: String,
    /// Kit sequence.
    pub sequence: u64,
}

/// The header of the document: everything but the per-advisory entries.
#[derive(Serialize)]
struct Head<'a> {
    format: &'a str,
    from: Option<&'a GenerationRef>,
    to: &'a GenerationRef,
    complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    sboms: &'a SbomDelta,
}

/// What [`write_change_report`] wrote, for callers that report on it without reading it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The advisory counts.
    pub summary: AdvisorySummary,
    /// Why the snapshots could not be compared (`"complete": false`), if they could not.
    pub error: Option<String>,
}

/// Writes the change report between two generations to `out`. `before`/`after` are the
/// generations' snapshots (`None` when a side has none, e.g. a store's first generation).
///
/// A snapshot that cannot be compared (unsorted, malformed, over the line limit) does not fail
/// the call: the document says `"complete": false` with the reason and keeps the SBOM delta, so
/// an import is never refused for its report. Only write errors are returned.
pub fn write_change_report<A: BufRead, B: BufRead>(
    from: Option<&GenerationRef>,
    to: &GenerationRef,
    before: Option<A>,
    after: Option<B>,
    sboms: &SbomDelta,
    max_line_bytes: usize,
    out: &mut dyn Write,
) -> Result<Written, ChangesError> {
    let mut spool = BufWriter::new(tempfile::tempfile().map_err(ChangesError::Output)?);
    let mut count = 0u64;
    let outcome = match after {
        Some(after) => diff_snapshots(before, after, max_line_bytes, |change| {
            if count > 0 {
                spool.write_all(b",\n").map_err(ChangesError::Output)?;
            }
            count += 1;
            serde_json::to_writer(&mut spool, change).map_err(|e| ChangesError::Output(e.into()))
        }),
        None => Ok(AdvisorySummary::default()),
    };
    let (summary, error) = match outcome {
        Ok(s) => (s, None),
        Err(e @ ChangesError::Output(_)) => return Err(e),
        Err(e) => (AdvisorySummary::default(), Some(e.to_string())),
    };
    let head = Head {
        format: CHANGES_FORMAT,
        from,
        to,
        complete: error.is_none(),
        error: error.as_deref(),
        sboms,
    };
    let head = serde_json::to_vec(&head).map_err(|e| ChangesError::Output(e.into()))?;
    // `{...,"sboms":{...}` + `,"advisories":{"summary":...,"entries":[` + spool + `]}}`.
    out.write_all(&head[..head.len() - 1])
        .map_err(ChangesError::Output)?;
    write!(out, ",\"advisories\":{{\"summary\":").map_err(ChangesError::Output)?;
    serde_json::to_writer(&mut *out, &summary).map_err(|e| ChangesError::Output(e.into()))?;
    out.write_all(b",\"entries\":[\n")
        .map_err(ChangesError::Output)?;
    if error.is_none() {
        let mut spool = spool
            .into_inner()
            .map_err(|e| ChangesError::Output(e.into_error()))?;
        spool
            .seek(std::io::SeekFrom::Start(0))
            .map_err(ChangesError::Output)?;
        std::io::copy(&mut spool, out).map_err(ChangesError::Output)?;
    }
    out.write_all(b"\n]}}\n").map_err(ChangesError::Output)?;
    Ok(Written { summary, error })
}

/// The first `N` elements of a JSON array and how many there were; the rest are skipped
/// without being kept, so a reader's memory does not depend on the array's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstN<T, const N: usize> {
    /// The first elements, at most `N`.
    pub items: Vec<T>,
    /// Length of the whole array.
    pub total: u64,
}

impl<T, const N: usize> Default for FirstN<T, N> {
    fn default() -> Self {
        FirstN {
            items: Vec::new(),
            total: 0,
        }
    }
}

impl<'de, T: DeserializeOwned, const N: usize> Deserialize<'de> for FirstN<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: DeserializeOwned, const N: usize> Visitor<'de> for V<T, N> {
            type Value = FirstN<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
                let mut out = FirstN::default();
                while out.items.len() < N {
                    match seq.next_element::<T>()? {
                        Some(item) => {
                            out.items.push(item);
                            out.total += 1;
                        }
                        None => return Ok(out),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    out.total += 1;
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V::<T, N>(PhantomData))
    }
}

/// How many advisory entries a reader keeps.
pub const KEPT_ENTRIES: usize = 1000;

/// The advisory half as read back.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AdvisoryPart {
    /// Counts.
    pub summary: AdvisorySummary,
    /// The first [`KEPT_ENTRIES`] entries and their total.
    pub entries: FirstN<AdvisoryChange, KEPT_ENTRIES>,
}

/// A change report as read back (bounded: see [`FirstN`]).
#[derive(Debug, Clone, Deserialize)]
pub struct ChangeReport {
    /// Always [`CHANGES_FORMAT`].
    pub format: String,
    /// The older generation, if there was one.
    pub from: Option<GenerationRef>,
    /// The generation the report belongs to.
    pub to: GenerationRef,
    /// False when the snapshots could not be compared (see `error`).
    pub complete: bool,
    /// Why the comparison is incomplete.
    #[serde(default)]
    pub error: Option<String>,
    /// SBOM delta.
    pub sboms: SbomDelta,
    /// Advisory counts and entries.
    pub advisories: AdvisoryPart,
}

/// Reads a change report with a byte cap (a store file is trusted, but not unboundedly).
pub fn read_change_report<R: Read>(reader: R, max_bytes: u64) -> Result<ChangeReport, String> {
    let mut limited = BufReader::new(reader.take(max_bytes));
    let report: ChangeReport = serde_json::from_reader(&mut limited).map_err(|e| e.to_string())?;
    if report.format != CHANGES_FORMAT {
        return Err(format!("unknown format {:?}", report.format));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot_diff::ChangeKind;

    fn gen(n: u64) -> GenerationRef {
        GenerationRef {
            generation: format!("{n}-abc"),
            kit_id: format!("kit-{n}"),
            sequence: n,
        }
    }

    fn write(before: Option<&str>, after: Option<&str>) -> Vec<u8> {
        let mut out = Vec::new();
        let from = gen(1);
        write_change_report(
            before.map(|_| &from),
            &gen(2),
            before.map(str::as_bytes),
            after.map(str::as_bytes),
            &SbomDelta::default(),
            4096,
            &mut out,
        )
        .unwrap();
        out
    }

    #[test]
    fn round_trip_is_valid_json_and_deterministic() {
        let before = "{\"id\":\"A\"}\n{\"id\":\"B\"}\n";
        let after = "{\"id\":\"B\",\"summary\":\"x\"}\n{\"id\":\"C\"}\n";
        let doc = write(Some(before), Some(after));
        assert_eq!(doc, write(Some(before), Some(after)));
        let v: serde_json::Value = serde_json::from_slice(&doc).unwrap();
        assert_eq!(v["advisories"]["entries"].as_array().unwrap().len(), 3);
        let r = read_change_report(doc.as_slice(), 1 << 20).unwrap();
        assert!(r.complete);
        assert_eq!(r.to, gen(2));
        assert_eq!(r.advisories.entries.total, 3);
        let kinds: Vec<_> = r.advisories.entries.items.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [ChangeKind::Removed, ChangeKind::Changed, ChangeKind::Added]
        );
    }

    #[test]
    fn no_change_and_no_snapshot_give_empty_entry_lists() {
        let same = "{\"id\":\"A\"}\n";
        let r = read_change_report(write(Some(same), Some(same)).as_slice(), 1 << 20).unwrap();
        assert_eq!(r.advisories.entries.total, 0);
        assert_eq!(r.advisories.summary.unchanged, 1);
        let r = read_change_report(write(None, None).as_slice(), 1 << 20).unwrap();
        assert!(r.complete && r.from.is_none());
    }

    #[test]
    fn an_uncomparable_snapshot_gives_an_incomplete_report_not_an_error() {
        let doc = write(
            Some("{\"id\":\"B\"}\n{\"id\":\"A\"}\n"),
            Some("{\"id\":\"A\"}"),
        );
        let r = read_change_report(doc.as_slice(), 1 << 20).unwrap();
        assert!(!r.complete);
        assert!(r.error.unwrap().contains("not sorted"));
        assert_eq!(r.advisories.entries.total, 0);
    }

    #[test]
    fn reader_keeps_the_first_entries_and_counts_the_rest() {
        let after: String = (0..KEPT_ENTRIES + 7)
            .map(|i| format!("{{\"id\":\"A{i:06}\"}}\n"))
            .collect();
        let r = read_change_report(write(None, Some(&after)).as_slice(), 1 << 24).unwrap();
        assert_eq!(r.advisories.entries.items.len(), KEPT_ENTRIES);
        assert_eq!(r.advisories.entries.total, (KEPT_ENTRIES + 7) as u64);
        assert_eq!(r.advisories.summary.totals.added, (KEPT_ENTRIES + 7) as u64);
    }

    #[test]
    fn reader_refuses_truncated_and_foreign_documents() {
        let doc = write(None, Some("{\"id\":\"A\"}"));
        assert!(read_change_report(&doc[..doc.len() / 2], 1 << 20).is_err());
        assert!(read_change_report(doc.as_slice(), 10).is_err());
        assert!(read_change_report(&b"{\"format\":\"x\"}"[..], 100).is_err());
    }
}
