//! `scan-media DIR`: bring the store up to date from a mounted stick in one command, however the
//! release engineer packed it: a full kit, a split kit, or a chain of daily deltas
//! (`D(N→N+1)`, `D(N+1→N+2)`, ...).
//!
//! It is the stick scan of `import --from` ([`crate::import_from_dir`]: every candidate
//! authenticated through the one staged reader, newest first, falling back to the next newest
//! when one cannot be applied) run again after each successful import, until a round imports
//! nothing: each round can only import a kit above the floor, so the loop moves the store
//! strictly forward and ends after at most as many rounds as there are kits on the stick
//! (capped by [`MAX_ROUNDS`]).

use std::path::Path;

use serde::Serialize;

use crate::error::{Class, Error, Result};
use crate::import::{import_from_dir, Context, ScanBudget, TrustOptions};
use crate::report::ScanReport;
use crate::Progress;

/// Most imports one `scan-media` performs (a month of daily deltas, twice over).
pub const MAX_ROUNDS: usize = 64;

/// What `scan-media` did.
#[derive(Debug, Clone, Serialize)]
pub struct MediaReport {
    /// The directory scanned.
    pub dir: String,
    /// Generations imported, in order.
    pub imported: Vec<String>,
    /// Each round's scan (the last one is the round that found nothing more to do).
    pub rounds: Vec<ScanReport>,
    /// Why the last round stopped, when it was not simply "nothing new".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
}

/// Imports from `dir` until nothing applicable is left. `Err` only when the first round fails
/// (nothing was imported); a later failure stops the loop and is reported in `stopped_by`
/// (what was imported stays imported: every import is atomic on its own).
pub fn scan_media(
    ctx: &Context,
    opts: &TrustOptions,
    dir: &Path,
    budget: &ScanBudget,
    progress: &mut dyn Progress,
) -> Result<(MediaReport, Option<Error>)> {
    let mut report = MediaReport {
        dir: dir.display().to_string(),
        imported: Vec::new(),
        rounds: Vec::new(),
        stopped_by: None,
    };
    for _ in 0..MAX_ROUNDS {
        let outcome = import_from_dir(ctx, opts, dir, budget, progress)?;
        let imported = outcome
            .report
            .imported
            .as_ref()
            .map(|i| i.generation.clone());
        report.rounds.push(outcome.report);
        match (imported, outcome.error) {
            (Some(generation), _) => report.imported.push(generation),
            (None, Some(e)) if e.class() == Class::NothingNew => return Ok((report, None)),
            (None, Some(e)) => {
                report.stopped_by = Some(e.to_string());
                // After at least one import the run succeeded; the stop is reported.
                let err = if report.imported.is_empty() {
                    Some(e)
                } else {
                    None
                };
                return Ok((report, err));
            }
            (None, None) => return Ok((report, None)),
        }
    }
    report.stopped_by = Some(format!("{MAX_ROUNDS} imports in one run"));
    Ok((report, None))
}
