//! Feed ingest and merge for the Offline Update Kit.
//!
//! Reads OSV, GHSA and NVD 2.0 (primary sources) plus CNNVD, CNVD, ENISA EUVD,
//! JVN and BDU (enrichment) and merges them into one deterministic OSV snapshot:
//! `advisories.ndjson`, `snapshot.json`, `merge-report.json`. The input contract
//! and every merge rule are documented in `spec/feeds.md`.
//!
//! Entry point: [`merge_sources`]. A library only: no CLI, no clock, no env.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod adapters;
mod cluster;
mod codec;
mod error;
mod hash_writer;
mod ids;
mod index;
mod limits;
mod merge;
mod model;
mod normalize;
mod output;
mod provenance;
mod report;
mod source;
mod spill;
mod timestamp;
mod version;

use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use cluster::{AliasLimited, Runaway};
pub use error::FeedError;
pub use limits::Limits;
pub use merge::{ClusterReport, Conflict, Duplicate, Member};
pub use output::{
    Counts, EnrichmentOnly, IgnoredAlias, MergeOutput, MergeReport, Snapshot, SourceSnapshot,
    SourceStatus, WrittenFile, WrittenFiles,
};
pub use report::{Dropped, Rejected};
pub use source::{SourceKind, SourceSpec};

use adapters::{ReadOptions, SourceMeta};
use index::{EncodedFile, Index, IndexEntry};
use model::SourceRecord;
use output::Lines;
use spill::{Slot, SpillReader, SpillWriter};
use timestamp::Ts;

/// Clusters merged per parallel step: bounds the merged lines and re-read
/// records in memory at once while keeping both threads busy.
const MERGE_CHUNK: usize = 1024;

/// How to merge. `Default` is what a kit build uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MergeOptions {
    /// Go on (and mark the result partial) when a source is unreadable or a
    /// required source is empty/missing, instead of failing.
    pub allow_partial: bool,
    /// Which source's severity becomes the record's top-level `severity`
    /// (first kind in this list with a schema-valid vector). Every source's
    /// severity is kept under `database_specific.ouk.severity` regardless.
    pub severity_precedence: Vec<SourceKind>,
    /// Also read `advisories/unreviewed/` of a GHSA checkout.
    pub include_unreviewed: bool,
    /// Parser threads (the build machines have 2 cores).
    pub threads: usize,
    /// Unix time used as `modified` when a record has only placeholder dates and
    /// no `published` (pass SOURCE_DATE_EPOCH); the Unix epoch if `None`.
    pub fallback_modified_unix: Option<i64>,
    /// Size and count limits.
    pub limits: Limits,
}

impl Default for MergeOptions {
    fn default() -> Self {
        MergeOptions {
            allow_partial: false,
            severity_precedence: vec![
                SourceKind::Nvd,
                SourceKind::Ghsa,
                SourceKind::Osv,
                SourceKind::Enisa,
                SourceKind::Jvn,
                SourceKind::Cnnvd,
                SourceKind::Cnvd,
                SourceKind::Bdu,
            ],
            include_unreviewed: false,
            threads: 2,
            fallback_modified_unix: None,
            limits: Limits::default(),
        }
    }
}

/// Result of a parse-only pass (used by the benchmark as the baseline).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseSummary {
    /// Records accepted.
    pub records: u64,
    /// Records or files rejected.
    pub rejected: u64,
    /// Files read.
    pub files: u64,
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, FeedError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| FeedError::ThreadPool(e.to_string()))
}

fn read_options(opts: &MergeOptions) -> ReadOptions<'_> {
    ReadOptions {
        limits: &opts.limits,
        include_unreviewed: opts.include_unreviewed,
    }
}

/// Specs in the deterministic processing order.
fn sorted_specs(specs: &[SourceSpec]) -> Vec<SourceSpec> {
    let mut sorted: Vec<SourceSpec> = specs.to_vec();
    sorted.sort();
    sorted
}

/// Read and parse every source without merging: the benchmark baseline. Same
/// single streaming pass per source as the merge, minus the spill file.
pub fn parse_sources(specs: &[SourceSpec], opts: &MergeOptions) -> Result<ParseSummary, FeedError> {
    pool(opts.threads)?.install(|| {
        let ro = read_options(opts);
        let mut s = ParseSummary::default();
        for spec in sorted_specs(specs) {
            let (mut records, mut rejected) = (0u64, 0u64);
            let meta = adapters::read_source(
                &spec,
                &ro,
                &|p: adapters::Parsed| (p.records.len() as u64, p.rejected.len() as u64),
                &mut |(n, r)| {
                    records += n;
                    rejected += r;
                    Ok(())
                },
            )?;
            if records > opts.limits.max_records_per_source {
                records = 0;
            }
            s.records += records;
            s.rejected += rejected;
            s.files += meta.files;
        }
        Ok(s)
    })
}

/// One source after its pass: the facts; its records' entries are
/// `index.entries[first..]`.
struct SourcePass {
    meta: SourceMeta,
    first: usize,
    ignored: Vec<IgnoredAlias>,
    rejected: Vec<Rejected>,
    dropped: Vec<Dropped>,
}

/// One pass over one source: parse, append every record to the spill file,
/// keep only its index entry. A source above `max_records_per_source` keeps
/// nothing (its spilled bytes stay unreferenced) and gets the limit error.
fn spill_source(
    spec: &SourceSpec,
    opts: &MergeOptions,
    spill: &mut SpillWriter,
    index: &mut Index,
) -> Result<SourcePass, FeedError> {
    let ro = read_options(opts);
    let first = index.entries.len();
    let mut pass = SourcePass {
        meta: SourceMeta {
            files: 0,
            digest: String::new(),
            error: None,
        },
        first,
        ignored: Vec::new(),
        rejected: Vec::new(),
        dropped: Vec::new(),
    };
    let max = opts.limits.max_records_per_source;
    let mut over = false;
    let meta = adapters::read_source(spec, &ro, &index::encode_file, &mut |f| {
        let EncodedFile {
            blob,
            entries,
            ignored,
            rejected,
            dropped,
        } = f?;
        pass.rejected.extend(rejected);
        pass.dropped.extend(dropped);
        if over || (index.entries.len() - first + entries.len()) as u64 > max {
            over = true;
            index.truncate(first);
            pass.ignored = Vec::new();
            return Ok(());
        }
        let base = spill.append(&blob)?;
        for (e, ign) in entries.into_iter().zip(ignored) {
            for v in ign {
                pass.ignored.push(IgnoredAlias {
                    source: e.source,
                    id: e.id.clone(),
                    value: v,
                });
            }
            let slot = Slot {
                off: e.slot.off + base,
                len: e.slot.len,
            };
            index.push(&e, slot)?;
        }
        Ok(())
    })?;
    pass.meta = meta;
    if over && pass.meta.error.is_none() {
        pass.meta.error = Some(adapters::too_many_records(&opts.limits));
    }
    Ok(pass)
}

/// Read one cluster's records back from the spill and merge them.
fn merge_group(
    spill: &SpillReader,
    index: &[IndexEntry],
    group: &[usize],
    enrich: &[usize],
    split: bool,
    cfg: &merge::MergeCfg<'_>,
) -> Result<merge::MergedCluster, FeedError> {
    let recs: Vec<SourceRecord> = group
        .iter()
        .chain(enrich.iter())
        .map(|&i| codec::decode(&spill.read(index[i].slot)?))
        .collect::<Result<_, _>>()?;
    // Same relative order as the index, so ties resolve exactly as before.
    let members: Vec<usize> = (0..group.len()).collect();
    let enrichment: Vec<usize> = (group.len()..recs.len()).collect();
    Ok(merge::merge_cluster(
        &recs,
        &members,
        &enrichment,
        split,
        cfg,
    ))
}

/// Read every source, merge, and return the snapshot (report and snapshot
/// facts in memory, merged lines in a temporary spill file; see `spec/feeds.md` §6).
///
/// Fails when a source is unreadable, a required source (osv, ghsa) yields no
/// record, or neither osv nor ghsa is given — unless `opts.allow_partial`, in
/// which case the result is marked partial and the reasons are in `snapshot()`.
pub fn merge_sources(specs: &[SourceSpec], opts: &MergeOptions) -> Result<MergeOutput, FeedError> {
    let pool = pool(opts.threads)?;
    pool.install(|| merge_in_pool(specs, opts))
}

fn merge_in_pool(specs: &[SourceSpec], opts: &MergeOptions) -> Result<MergeOutput, FeedError> {
    let mut partial = false;
    if !specs.iter().any(|s| s.kind.is_required()) {
        if !opts.allow_partial {
            return Err(FeedError::NoRequiredSource);
        }
        partial = true;
    }
    let mut spill = SpillWriter::new()?;
    let mut report = MergeReport::default();
    let mut sources = Vec::new();
    let mut index = Index::new();
    let mut ignored_aliases = Vec::new();
    for spec in sorted_specs(specs) {
        let pass = spill_source(&spec, opts, &mut spill, &mut index)?;
        let entries = &index.entries[pass.first..];
        let n = entries.len() as u64;
        let read = pass.meta;
        let status = if read.error.is_some() {
            SourceStatus::Unreadable
        } else if n == 0 {
            SourceStatus::Empty
        } else {
            SourceStatus::Ok
        };
        let fatal = match status {
            SourceStatus::Unreadable => true,
            SourceStatus::Empty => spec.kind.is_required(),
            SourceStatus::Ok => false,
        };
        if fatal {
            let reason = read.error.clone().unwrap_or_else(|| {
                // The first rejection says why, e.g. a directory of another format.
                let first = pass
                    .rejected
                    .first()
                    .map(|r| format!("; first: {}: {}", r.file, r.reason))
                    .unwrap_or_default();
                format!(
                    "no usable record ({} files, {} rejected){first}",
                    read.files,
                    pass.rejected.len()
                )
            });
            if !opts.allow_partial {
                return Err(FeedError::RequiredSourceUnusable {
                    kind: spec.kind.to_string(),
                    path: spec.path.clone(),
                    reason,
                });
            }
            partial = true;
        }
        sources.push(SourceSnapshot {
            kind: spec.kind,
            path: spec.path.display().to_string(),
            digest: read.digest,
            files: read.files,
            records: n,
            rejected: pass.rejected.len() as u64,
            newest_modified: entries
                .iter()
                .filter_map(|r| r.modified)
                .max()
                .map(Ts::to_rfc3339),
            status,
            error: read.error.or_else(|| {
                (status == SourceStatus::Empty).then(|| "no usable record".to_string())
            }),
        });
        report.rejected.extend(pass.rejected);
        report.dropped.extend(pass.dropped);
        ignored_aliases.extend(pass.ignored);
    }
    let spill = spill.finish()?;
    index.sort();
    let records = &index.entries;
    let names = &index.names;
    report.counts.input_records = records.len() as u64;
    // Sorted (and deduplicated) below, so the order they were collected in does not matter.
    report.ignored_aliases = ignored_aliases;

    let primary: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].source.is_primary())
        .collect();
    let cl = cluster::cluster(&index, &primary, &opts.limits);

    // Attach enrichment records to every cluster one of their ids names: the
    // first group naming a string, by symbol.
    const NO_GROUP: usize = usize::MAX;
    let mut id_to_group: Vec<usize> = vec![NO_GROUP; names.len()];
    let mut name_group = |s: index::Sym, g: usize| {
        let at = &mut id_to_group[index::pos(s)];
        if *at == NO_GROUP {
            *at = g;
        }
    };
    for (g, members) in cl.groups.iter().enumerate() {
        for &i in members {
            let r = &records[i];
            name_group(r.id, g);
            let links = index.links(r);
            if !cl.split[g] && cluster::joins_by(links.len(), &opts.limits) {
                for &a in cluster::joining_links(&index, r) {
                    name_group(a, g);
                }
            }
        }
    }
    let mut enrich: Vec<Vec<usize>> = vec![Vec::new(); cl.groups.len()];
    for (i, r) in records
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.source.is_primary())
    {
        let mut hit: Vec<usize> = std::iter::once(&r.id)
            .chain(index.aliases(r))
            .map(|&a| id_to_group[index::pos(a)])
            .filter(|&g| g != NO_GROUP)
            .collect();
        hit.sort_unstable();
        hit.dedup();
        if hit.is_empty() {
            report.enrichment_only.push(EnrichmentOnly {
                member: Member {
                    source: r.source,
                    id: names.get(r.id).to_string(),
                    file: names.get(r.file).to_string(),
                },
                aliases: index
                    .aliases(r)
                    .iter()
                    .map(|&a| names.get(a).to_string())
                    .collect(),
            });
        }
        for g in hit {
            enrich[g].push(i);
        }
    }
    drop(id_to_group);

    let cfg = merge::MergeCfg {
        severity_precedence: &opts.severity_precedence,
        limits: &opts.limits,
        fallback_modified: opts.fallback_modified_unix.and_then(Ts::from_unix),
    };
    let mut out = SpillWriter::new()?;
    let mut lines: Vec<(String, Slot)> = Vec::with_capacity(cl.groups.len());
    let mut newest: Option<Ts> = None;
    let mut withdrawn = 0u64;
    let mut g0 = 0;
    while g0 < cl.groups.len() {
        let g1 = (g0 + MERGE_CHUNK).min(cl.groups.len());
        let merged: Vec<merge::MergedCluster> = (g0..g1)
            .into_par_iter()
            .map(|g| {
                merge_group(
                    &spill,
                    records,
                    &cl.groups[g],
                    &enrich[g],
                    cl.split[g],
                    &cfg,
                )
            })
            .collect::<Result<_, _>>()?;
        for m in merged {
            withdrawn += u64::from(m.withdrawn);
            if let Some(c) = m.cluster {
                report.clusters.push(c);
            }
            report.conflicts.extend(m.conflicts);
            report.duplicates.extend(m.duplicates);
            if m.placeholder_fallback {
                report.modified_fallback_ids.push(m.id.clone());
            }
            newest = newest.max(Some(m.modified));
            let len = u32::try_from(m.line.len()).map_err(|_| {
                FeedError::spill(
                    "spilling a merged line",
                    std::io::Error::other("line larger than 4 GiB"),
                )
            })?;
            let off = out.append(m.line.as_bytes())?;
            lines.push((m.id, Slot { off, len }));
        }
        g0 = g1;
    }
    drop(index);
    drop(spill);
    lines.par_sort_by(|a, b| a.0.cmp(&b.0));
    // Canonical ids are unique by construction; guard anyway so the output never
    // holds two records with one id.
    let before = lines.len();
    lines.dedup_by(|a, b| a.0 == b.0);
    if lines.len() != before {
        report.conflicts.push(Conflict {
            id: String::new(),
            field: "duplicate canonical id (bug)".into(),
            values: vec![format!("{} records dropped", before - lines.len())],
        });
    }

    report.alias_limited = cl.alias_limited;
    report.runaway_clusters = cl.runaway;
    report.counts.output_records = lines.len() as u64;
    report.counts.multi_record_clusters = report.clusters.len() as u64;
    report.counts.rejected = report.rejected.len() as u64;
    report.counts.withdrawn = withdrawn;
    report.counts.modified_fallbacks = report.modified_fallback_ids.len() as u64;
    report.clusters.sort();
    report.conflicts.sort();
    report.rejected.sort();
    report.dropped.sort();
    report.duplicates.sort();
    report.enrichment_only.sort();
    report.ignored_aliases.sort();
    report.ignored_aliases.dedup();
    report.modified_fallback_ids.sort();

    sources.sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    let snapshot = Snapshot {
        format: "ouk-feeds-snapshot/1".into(),
        partial,
        records: lines.len() as u64,
        newest_modified: newest.map(Ts::to_rfc3339),
        sources,
        severity_precedence: opts.severity_precedence.clone(),
        limits: opts.limits.clone(),
    };
    Ok(MergeOutput {
        lines: Lines {
            spill: Arc::new(out.finish()?),
            index: lines,
        },
        snapshot,
        report,
    })
}
