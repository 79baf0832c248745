//! What changed between two generations: the `.ouk/changes.json` written by every import (the
//! previous active generation against the one being staged) and the `diff` command.
//!
//! Both read only files of verified generations, one snapshot line at a time
//! (`ouk_changes::snapshot_diff`), so the importer's memory stays bounded by the SBOMs, never by
//! the snapshots. A report that cannot be computed never fails an import: the document then says
//! `"complete": false` and why.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use ouk_changes::change_report::GenerationRef;
use ouk_changes::change_report::{read_change_report, write_change_report, ChangeReport};
use ouk_changes::sbom_diff::{diff_components, SbomDelta};
use ouk_changes::snapshot_diff::{diff_snapshots, AdvisoryChange, AdvisorySummary};
use ouk_changes::ChangesError;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsx::{self, Access};
use crate::sbom_set::component_set;
use crate::store::{GenerationInfo, Store};

/// The merged advisory snapshot inside a generation.
pub const SNAPSHOT_MEMBER: &str = "feeds/advisories.ndjson";
/// The change report inside a generation.
pub const CHANGES_FILE: &str = ".ouk/changes.json";
/// Longest snapshot line compared (a merged record; the largest real OSV records are ~1 MiB).
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;
/// Largest change report read back (status page, `diff` of a stored report).
pub const MAX_REPORT_BYTES: u64 = 1 << 30;

fn reference(info: &GenerationInfo) -> GenerationRef {
    GenerationRef {
        generation: info.name.clone(),
        kit_id: info.kit_id.clone(),
        sequence: info.sequence,
    }
}

fn open_snapshot(generation_dir: &Path) -> Result<Option<BufReader<File>>> {
    let path = generation_dir.join(SNAPSHOT_MEMBER);
    Ok(fsx::open_store_file(&path, Access::Read)?.map(|f| BufReader::with_capacity(1 << 16, f)))
}

/// What one comparison reads: both generations' snapshots (open, where present) and the delta
/// of their SBOMs. `before` is `None` for a store's first generation.
struct Inputs {
    before: Option<BufReader<File>>,
    after: Option<BufReader<File>>,
    sboms: SbomDelta,
}

fn inputs(before: Option<&Path>, after: &Path) -> Result<Inputs> {
    Ok(Inputs {
        before: match before {
            Some(d) => open_snapshot(d)?,
            None => None,
        },
        after: open_snapshot(after)?,
        sboms: sbom_delta(before, after)?,
    })
}

fn sbom_delta(before: Option<&Path>, after: &Path) -> Result<SbomDelta> {
    let (a, mut unreadable) = match before {
        Some(dir) => component_set(dir)?,
        None => Default::default(),
    };
    let (b, more) = component_set(after)?;
    unreadable.extend(more);
    let mut delta = diff_components(&a, &b);
    delta.unreadable = unreadable;
    Ok(delta)
}

/// What an import says about its change report.
#[derive(Debug, Clone, Serialize)]
pub struct ChangesSummary {
    /// The generation compared against (the previously active one), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Advisory counts.
    pub advisories: AdvisorySummary,
    /// Components added / removed / changed across the generation's SBOMs.
    pub sbom_components: [usize; 3],
    /// False when the snapshots could not be compared.
    pub complete: bool,
}

/// Writes `<staging>/.ouk/changes.json`: the previous active generation (if any) against the
/// staged one. Only I/O errors of the store fail the import.
pub fn write_for_import(
    store: &Store,
    previous: Option<&GenerationInfo>,
    staging: &Path,
    info: &GenerationInfo,
) -> Result<ChangesSummary> {
    let prev_dir = previous.map(|p| store.generation_dir(&p.name));
    let Inputs {
        before,
        after,
        sboms,
    } = inputs(prev_dir.as_deref(), staging)?;
    let path = staging.join(CHANGES_FILE);
    let file = fsx::create_file_new(&path)?;
    let mut out = BufWriter::new(file);
    let from = previous.map(reference);
    let written = write_change_report(
        from.as_ref(),
        &reference(info),
        before,
        after,
        &sboms,
        MAX_LINE_BYTES,
        &mut out,
    )
    .and_then(|w| out.flush().map(|()| w).map_err(ChangesError::Output))
    .map_err(|e| changes_io(&path, e))?;
    Ok(ChangesSummary {
        from: previous.map(|p| p.name.clone()),
        complete: written.error.is_none(),
        advisories: written.summary,
        sbom_components: [sboms.added.len(), sboms.removed.len(), sboms.changed.len()],
    })
}

fn changes_io(path: &Path, e: ChangesError) -> Error {
    match e {
        ChangesError::Output(source) | ChangesError::Read { source, .. } => {
            Error::io("writing the change report", path, source)
        }
        other => Error::StoreDamaged {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// Reads a generation's stored change report (bounded; `None` for generations imported before
/// change reports existed).
pub fn stored_report(store: &Store, generation: &str) -> Result<Option<ChangeReport>> {
    let path = store.generation_dir(generation).join(CHANGES_FILE);
    let Some(file) = fsx::open_store_file(&path, Access::Read)? else {
        return Ok(None);
    };
    read_change_report(file, MAX_REPORT_BYTES)
        .map(Some)
        .map_err(|reason| Error::StoreDamaged { path, reason })
}

/// Finds a generation by directory name or by sequence number.
pub fn resolve(generations: &[GenerationInfo], wanted: &str) -> Result<GenerationInfo> {
    generations
        .iter()
        .find(|g| g.name == wanted || wanted.parse::<u64>().ok() == Some(g.sequence))
        .cloned()
        .ok_or_else(|| Error::UnknownGenerationName {
            name: wanted.to_owned(),
        })
}

/// The two generations `diff` compares: given ones, else the active one against the newest
/// generation with a lower sequence.
pub fn pick_pair(
    store: &Store,
    a: Option<&str>,
    b: Option<&str>,
) -> Result<(Option<GenerationInfo>, GenerationInfo)> {
    let gens = store.generations()?;
    let after = match b {
        Some(b) => resolve(&gens, b)?,
        None => {
            let current = store.current()?.ok_or(Error::NoGeneration)?;
            resolve(&gens, &current)?
        }
    };
    let before = match a {
        Some(a) => Some(resolve(&gens, a)?),
        None => gens
            .iter()
            .filter(|g| g.sequence < after.sequence)
            .max_by_key(|g| g.sequence)
            .cloned(),
    };
    Ok((before, after))
}

/// `diff --json`: the full change report document between two generations, streamed to `out`.
pub fn diff_json(
    store: &Store,
    before: Option<&GenerationInfo>,
    after: &GenerationInfo,
    out: &mut dyn Write,
) -> Result<()> {
    let prev_dir = before.map(|p| store.generation_dir(&p.name));
    let read = inputs(prev_dir.as_deref(), &store.generation_dir(&after.name))?;
    let from = before.map(reference);
    write_change_report(
        from.as_ref(),
        &reference(after),
        read.before,
        read.after,
        &read.sboms,
        MAX_LINE_BYTES,
        out,
    )
    .map(|_| ())
    .map_err(|e| changes_io(Path::new("<stdout>"), e))
}

/// `diff` as text: the summary, the SBOM delta and the first `limit` advisory entries.
#[derive(Debug, Clone, Serialize)]
pub struct DiffText {
    /// Older generation.
    pub from: Option<String>,
    /// Newer generation.
    pub to: String,
    /// Counts.
    pub summary: AdvisorySummary,
    /// Entries shown.
    pub entries: Vec<AdvisoryChange>,
    /// Entries not shown.
    pub more: u64,
    /// SBOM delta.
    pub sboms: SbomDelta,
}

/// Computes the comparison for the text view, keeping only `limit` entries.
pub fn diff_text(
    store: &Store,
    before: Option<&GenerationInfo>,
    after: &GenerationInfo,
    limit: usize,
) -> Result<DiffText> {
    let prev_dir = before.map(|p| store.generation_dir(&p.name));
    let after_dir = store.generation_dir(&after.name);
    let snapshot = after_dir.join(SNAPSHOT_MEMBER);
    let read = inputs(prev_dir.as_deref(), &after_dir)?;
    let mut entries = Vec::new();
    let mut more = 0u64;
    let summary = match read.after {
        Some(b) => diff_snapshots(read.before, b, MAX_LINE_BYTES, |c| {
            if entries.len() < limit {
                entries.push(c.clone());
            } else {
                more += 1;
            }
            Ok(())
        })
        .map_err(|e| changes_io(&snapshot, e))?,
        None => AdvisorySummary::default(),
    };
    Ok(DiffText {
        from: before.map(|g| g.name.clone()),
        to: after.name.clone(),
        summary,
        entries,
        more,
        sboms: read.sboms,
    })
}
