//! `report --html`: gathers what the store knows (generations, their change reports, the last
//! re-scan, the audit chain) into `ouk_changes::html::StatusPage` and writes the page atomically.
//! Everything is read with caps from the store's own files; nothing is recomputed from the
//! snapshots, so the page is cheap enough to rewrite after every import or re-scan.

use std::path::{Path, PathBuf};

use ouk_changes::html::{
    render, AffectedSbom, AuditStatus, ChangeExample, ChangeSummary, CountsRow, FindingRow,
    GenerationCounts, GenerationRow, RescanSummary, StatusPage,
};
use ouk_changes::snapshot_diff::Counts;
use ouk_format::time::Timestamp;
use serde::Serialize;

use crate::changes::stored_report;
use crate::error::{Error, Result};
use crate::rescan;
use crate::store::Store;

/// Change entries shown on the page.
const EXAMPLES: usize = 50;

/// What `report` says it wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PageReport {
    /// The page.
    pub path: PathBuf,
    /// Generations shown.
    pub generations: usize,
    /// Whether a change report and a re-scan were available.
    pub has_changes: bool,
    /// Whether a re-scan was available.
    pub has_rescan: bool,
    /// SBOMs with new findings in the last re-scan.
    pub newly_affected: usize,
    /// Whether the audit chain verified.
    pub audit_ok: bool,
}

fn counts(c: &Counts) -> CountsRow {
    CountsRow {
        added: c.added,
        changed: c.changed,
        withdrawn: c.withdrawn,
        removed: c.removed,
    }
}

fn kind_name(k: ouk_changes::snapshot_diff::ChangeKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Assembles the page model from the store.
pub fn page(store_root: &Path, now: Timestamp) -> Result<StatusPage> {
    let store = Store::open(store_root)?;
    let current = store.current()?;
    let mut gens = store.generations()?;
    gens.reverse();
    let mut rows = Vec::new();
    let mut by_generation = Vec::new();
    let mut last_changes = None;
    for g in &gens {
        let active = current.as_deref() == Some(g.name.as_str());
        rows.push(GenerationRow {
            name: g.name.clone(),
            kit_id: g.kit_id.clone(),
            sequence: g.sequence,
            channel: g.channel.clone(),
            created_at: g.created_at.to_string(),
            created_unix: g.created_at.unix(),
            imported_at: g.imported_at.to_string(),
            expires_at: g.expires_at.to_string(),
            expires_unix: g.expires_at.unix(),
            active,
            trust_root_version: g.trust_root_version,
        });
        // A damaged or missing report leaves a gap in the chart, not a failed page.
        let Ok(Some(report)) = stored_report(&store, &g.name) else {
            continue;
        };
        let after = &report.advisories.summary.after;
        by_generation.push(GenerationCounts {
            generation: g.name.clone(),
            sequence: g.sequence,
            by_ecosystem: after.by_ecosystem.clone(),
            by_severity: after.by_severity.clone(),
            total: after.advisories,
        });
        if active {
            let s = &report.advisories.summary;
            last_changes = Some(ChangeSummary {
                from: report.from.as_ref().map(|f| f.generation.clone()),
                to: report.to.generation.clone(),
                added: s.totals.added,
                changed: s.totals.changed,
                withdrawn: s.totals.withdrawn,
                removed: s.totals.removed,
                by_ecosystem: s
                    .by_ecosystem
                    .iter()
                    .map(|(k, v)| (k.clone(), counts(v)))
                    .collect(),
                by_severity: s
                    .by_severity
                    .iter()
                    .map(|(k, v)| (k.clone(), counts(v)))
                    .collect(),
                examples: report
                    .advisories
                    .entries
                    .items
                    .iter()
                    .take(EXAMPLES)
                    .map(|e| ChangeExample {
                        id: if e.aliases.is_empty() {
                            e.id.clone()
                        } else {
                            format!("{} ({})", e.id, e.aliases.join(", "))
                        },
                        kind: kind_name(e.kind),
                        ecosystems: e.ecosystems.clone(),
                        severity: Some(e.severity.clone()),
                        fields: e.fields.clone(),
                    })
                    .collect(),
                sbom_components_added: report.sboms.added.len() as u64,
                sbom_components_removed: report.sboms.removed.len() as u64,
                sbom_components_changed: report.sboms.changed.len() as u64,
            });
        }
    }
    let last_rescan = rescan::last(&store)?.map(|r| RescanSummary {
        at: r.at.to_string(),
        generation: r.generation.clone(),
        previous: r.previous.clone(),
        sboms_scanned: r.sboms_scanned as u64,
        engine: r.engine.clone(),
        unreadable: r.unreadable.clone(),
        unchecked: r
            .sboms
            .iter()
            .fold(std::collections::BTreeMap::new(), |mut all, s| {
                for (kind, n) in &s.unchecked {
                    *all.entry(kind.clone()).or_insert(0) += *n as u64;
                }
                all
            }),
        newly_affected: r
            .sboms
            .iter()
            .filter(|s| !s.new.is_empty())
            .map(|s| AffectedSbom {
                sbom: s.sbom.clone(),
                new_findings: s
                    .new
                    .iter()
                    .map(|f| FindingRow {
                        advisory: if f.aliases.is_empty() {
                            f.advisory.clone()
                        } else {
                            format!("{} ({})", f.advisory, f.aliases.join(", "))
                        },
                        package: f.package.clone(),
                        installed: f.installed.clone(),
                        fixed: f.fixed.clone(),
                        severity: f.severity.clone(),
                    })
                    .collect(),
            })
            .collect(),
    });
    let audit = match crate::audit::verify(store.root()) {
        Ok(a) => AuditStatus {
            ok: true,
            entries: a.records,
            detail: format!("hash chain intact, head {}", a.head),
        },
        Err(e) => AuditStatus {
            ok: false,
            entries: 0,
            detail: e.to_string(),
        },
    };
    Ok(StatusPage {
        title: format!("OUK store {}", store_root.display()),
        generated_at: now.to_string(),
        now_unix: now.unix(),
        generations: rows,
        advisories_by_generation: by_generation,
        last_changes,
        last_rescan,
        audit,
    })
}

/// Writes the page to `out` atomically (a browser never sees half a page).
pub fn write_html(store_root: &Path, out: &Path, now: Timestamp) -> Result<PageReport> {
    let model = page(store_root, now)?;
    let html = render(&model);
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io("creating", dir, e))?;
    std::io::Write::write_all(&mut tmp, html.as_bytes())
        .map_err(|e| Error::io("writing", tmp.path().to_path_buf(), e))?;
    // A page to open in a browser, not a secret (NamedTempFile creates 0600).
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(|e| Error::io("setting permissions of", out, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("syncing", out, e))?;
    tmp.persist(out)
        .map_err(|e| Error::io("renaming into place", out, e.error))?;
    Ok(PageReport {
        path: out.to_path_buf(),
        generations: model.generations.len(),
        has_changes: model.last_changes.is_some(),
        has_rescan: model.last_rescan.is_some(),
        newly_affected: model
            .last_rescan
            .as_ref()
            .map_or(0, |r| r.newly_affected.len()),
        audit_ok: model.audit.ok,
    })
}
