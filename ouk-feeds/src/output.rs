//! The merge result and its three files: `advisories.ndjson`, `snapshot.json`,
//! `merge-report.json`. Written to temporary files then renamed, so a reader
//! never sees half a snapshot.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::cluster::{AliasLimited, Runaway};
use crate::error::FeedError;
use crate::hash_writer::HashOffloadWriter;
use crate::limits::Limits;
use crate::merge::{ClusterReport, Conflict, Duplicate, Member};
use crate::report::{Dropped, Rejected};
use crate::source::SourceKind;
use crate::spill::{Slot, SpillReader};

/// Whether a source could be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    /// Read, with at least one record.
    Ok,
    /// Read, but no usable record.
    Empty,
    /// Could not be read at all.
    Unreadable,
}

/// Per-source facts for the kit manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSnapshot {
    /// Source kind.
    pub kind: SourceKind,
    /// Path as given.
    pub path: String,
    /// `sha256:` over the sorted list of (relative file name, sha256 of content).
    pub digest: String,
    /// Files (and zip entries) read.
    pub files: u64,
    /// Records accepted.
    pub records: u64,
    /// Records or files rejected.
    pub rejected: u64,
    /// Newest real `modified` among its records.
    pub newest_modified: Option<String>,
    /// Whether it was usable.
    pub status: SourceStatus,
    /// Why it was unusable, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `snapshot.json`: what went into the merged snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Document format tag.
    pub format: String,
    /// True when a source was missing or unusable and `allow_partial` let the merge go on.
    pub partial: bool,
    /// Records in `advisories.ndjson`.
    pub records: u64,
    /// Newest `modified` in the output.
    pub newest_modified: Option<String>,
    /// Sources, sorted by kind then path.
    pub sources: Vec<SourceSnapshot>,
    /// Severity precedence used.
    pub severity_precedence: Vec<SourceKind>,
    /// Limits used.
    pub limits: Limits,
}

/// A regional record that matched no primary cluster (not emitted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EnrichmentOnly {
    /// The record.
    #[serde(flatten)]
    pub member: Member,
    /// Its aliases (none of which is a primary id).
    pub aliases: Vec<String>,
}

/// An alias string that is not an identifier (e.g. CNVD's bare BID numbers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IgnoredAlias {
    /// Source kind.
    pub source: SourceKind,
    /// Record id.
    pub id: String,
    /// The value ignored.
    pub value: String,
}

/// Summary counts of the merge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Records read from all sources.
    pub input_records: u64,
    /// Records written.
    pub output_records: u64,
    /// Clusters of more than one record (or with enrichment).
    pub multi_record_clusters: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Output records marked withdrawn.
    pub withdrawn: u64,
    /// Output records whose `modified` came from a fallback (placeholder-only dates).
    pub modified_fallbacks: u64,
}

/// `merge-report.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeReport {
    /// Counts.
    pub counts: Counts,
    /// Multi-record clusters, sorted by id.
    pub clusters: Vec<ClusterReport>,
    /// Disagreements between sources, sorted.
    pub conflicts: Vec<Conflict>,
    /// Skipped records/files with file and reason, sorted.
    pub rejected: Vec<Rejected>,
    /// Parts of records dropped, sorted.
    pub dropped: Vec<Dropped>,
    /// Same source + id seen twice.
    pub duplicates: Vec<Duplicate>,
    /// Records whose alias lists were too long to join.
    pub alias_limited: Vec<AliasLimited>,
    /// Runaway clusters that were split.
    pub runaway_clusters: Vec<Runaway>,
    /// Regional records matching no primary cluster.
    pub enrichment_only: Vec<EnrichmentOnly>,
    /// Ignored alias values.
    pub ignored_aliases: Vec<IgnoredAlias>,
    /// Ids of output records whose `modified` was a fallback.
    pub modified_fallback_ids: Vec<String>,
}

/// The merged records: one serialised OSV line per record, held in a spill
/// file (so a large snapshot does not sit in memory), with `(id, slot)` sorted by id.
#[derive(Debug, Clone)]
pub(crate) struct Lines {
    pub(crate) spill: Arc<SpillReader>,
    pub(crate) index: Vec<(String, Slot)>,
}

impl Lines {
    fn line(&self, slot: Slot) -> Result<String, FeedError> {
        String::from_utf8(self.spill.read(slot)?).map_err(|e| {
            FeedError::spill(
                "reading back a merged line",
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })
    }
}

/// The merged snapshot: report and snapshot facts in memory, the merged OSV
/// lines (sorted by id) in a temporary spill file removed when this is dropped.
#[derive(Debug, Clone)]
pub struct MergeOutput {
    pub(crate) lines: Lines,
    pub(crate) snapshot: Snapshot,
    pub(crate) report: MergeReport,
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenFile {
    /// Where.
    pub path: PathBuf,
    /// Bytes.
    pub size: u64,
    /// `sha256:` of the content.
    pub sha256: String,
}

/// The three files written by [`MergeOutput::write_to`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenFiles {
    /// `advisories.ndjson`.
    pub advisories: WrittenFile,
    /// `snapshot.json`.
    pub snapshot: WrittenFile,
    /// `merge-report.json`.
    pub report: WrittenFile,
}

/// A file written and synced under a temporary name, not yet in place.
struct Staged {
    tmp: PathBuf,
    file: WrittenFile,
}

impl Staged {
    /// Move into place.
    fn commit(self) -> Result<WrittenFile, FeedError> {
        fs::rename(&self.tmp, &self.file.path).map_err(|source| FeedError::Write {
            path: self.file.path.clone(),
            source,
        })?;
        Ok(self.file)
    }

    /// Remove the temporary file (best effort: the error that matters is the one
    /// that made us give up).
    fn discard(self) {
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Write `name` under a temporary name in `dir`; nothing is left behind on error.
fn stage(
    dir: &Path,
    name: &str,
    parts: &mut dyn FnMut(&mut dyn Write) -> Result<(), FeedError>,
) -> Result<Staged, FeedError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    match write_tmp(&path, &tmp, parts) {
        Ok((size, hash)) => Ok(Staged {
            tmp,
            file: WrittenFile {
                path,
                size,
                sha256: format!("sha256:{}", hex::encode(hash)),
            },
        }),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_tmp(
    path: &Path,
    tmp: &Path,
    parts: &mut dyn FnMut(&mut dyn Write) -> Result<(), FeedError>,
) -> Result<(u64, [u8; 32]), FeedError> {
    let werr = |source| FeedError::Write {
        path: path.to_path_buf(),
        source,
    };
    let f = fs::File::create(tmp).map_err(werr)?;
    let mut hw = HashOffloadWriter::new(f).map_err(werr)?;
    parts(&mut hw)?;
    let (f, size, hash) = hw.finish().map_err(werr)?;
    f.sync_all().map_err(werr)?;
    Ok((size, hash))
}

/// Pretty JSON and a newline, serialised straight into the file: the report
/// of a full corpus is ~100 MB, which is not held in memory a second time.
fn write_doc<T: Serialize>(
    w: &mut dyn Write,
    doc: &T,
    dir: &Path,
    name: &'static str,
) -> Result<(), FeedError> {
    let werr = |source| FeedError::Write {
        path: dir.join(name),
        source,
    };
    serde_json::to_writer_pretty(&mut *w, doc).map_err(|e| {
        if e.is_io() {
            werr(e.into())
        } else {
            FeedError::Serialize {
                what: name,
                source: e,
            }
        }
    })?;
    w.write_all(b"\n").map_err(werr)
}

impl MergeOutput {
    /// Number of merged records.
    pub fn record_count(&self) -> usize {
        self.lines.index.len()
    }

    /// True when a source was missing/unusable and the merge went on under `allow_partial`.
    pub fn is_partial(&self) -> bool {
        self.snapshot.partial
    }

    /// Snapshot facts (serde-serialisable, for the kit manifest).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The merge report.
    pub fn report(&self) -> &MergeReport {
        &self.report
    }

    /// The first rejection (in report order) of each source that had any: one reason per
    /// source a console warning can show, so "no usable record" comes with its why.
    pub fn first_rejections(&self) -> Vec<Rejected> {
        self.snapshot
            .sources
            .iter()
            .filter_map(|s| self.report.rejected.iter().find(|r| r.is_from(s)).cloned())
            .collect()
    }

    /// Merged records as `(id, json line)`, sorted by id. Each line is read
    /// back from the spill file, hence the `Result`.
    pub fn records(&self) -> impl Iterator<Item = Result<(&str, String), FeedError>> + '_ {
        self.lines
            .index
            .iter()
            .map(|(id, slot)| Ok((id.as_str(), self.lines.line(*slot)?)))
    }

    /// Write the three files into `out_dir` (created if missing). Deterministic:
    /// same inputs give byte-identical files.
    pub fn write_to(&self, out_dir: &Path) -> Result<WrittenFiles, FeedError> {
        fs::create_dir_all(out_dir).map_err(|source| FeedError::Write {
            path: out_dir.to_path_buf(),
            source,
        })?;
        // The snapshot and the report are serialised and written on a second
        // thread while this one copies the merged lines: the report alone is
        // ~100 MB of pretty JSON for a full corpus, and the copy is one core's work.
        let (advisories, docs) = std::thread::scope(|scope| {
            let docs = scope.spawn(|| self.stage_documents(out_dir));
            let advisories = self.stage_advisories(out_dir);
            // A panic on the document thread is a bug; surface it as one.
            let docs = docs.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (advisories, docs)
        });
        // Nothing is renamed into place before all three are written and synced
        // (a new report beside an old advisories file would describe records it
        // does not hold); a rename failing part-way is the one gap left.
        match (advisories, docs) {
            (Ok(a), Ok((s, r))) => {
                let advisories = match a.commit() {
                    Ok(w) => w,
                    Err(e) => {
                        s.discard();
                        r.discard();
                        return Err(e);
                    }
                };
                let snapshot = match s.commit() {
                    Ok(w) => w,
                    Err(e) => {
                        r.discard();
                        return Err(e);
                    }
                };
                Ok(WrittenFiles {
                    advisories,
                    snapshot,
                    report: r.commit()?,
                })
            }
            (Err(e), docs) => {
                if let Ok((s, r)) = docs {
                    s.discard();
                    r.discard();
                }
                Err(e)
            }
            (Ok(a), Err(e)) => {
                a.discard();
                Err(e)
            }
        }
    }

    fn stage_advisories(&self, out_dir: &Path) -> Result<Staged, FeedError> {
        let adv_path = out_dir.join("advisories.ndjson");
        let werr = |source| FeedError::Write {
            path: adv_path.clone(),
            source,
        };
        stage(out_dir, "advisories.ndjson", &mut |w| {
            for (_, slot) in &self.lines.index {
                let l = self.lines.spill.read(*slot)?;
                w.write_all(&l).map_err(werr)?;
                w.write_all(b"\n").map_err(werr)?;
            }
            Ok(())
        })
    }

    /// `snapshot.json` and `merge-report.json`.
    fn stage_documents(&self, out_dir: &Path) -> Result<(Staged, Staged), FeedError> {
        let snapshot = stage(out_dir, "snapshot.json", &mut |w| {
            write_doc(w, &self.snapshot, out_dir, "snapshot.json")
        })?;
        match stage(out_dir, "merge-report.json", &mut |w| {
            write_doc(w, &self.report, out_dir, "merge-report.json")
        }) {
            Ok(report) => Ok((snapshot, report)),
            Err(e) => {
                snapshot.discard();
                Err(e)
            }
        }
    }
}
