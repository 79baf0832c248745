//! OSV adapter: OSV JSON files, PyPA-style OSV YAML files, osv.dev's `all.zip`,
//! and (same record format) GHSA's advisory-database files.

use std::io::Read;
use std::path::Path;

use rayon::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{FileOut, Parsed, ReadOptions};
use crate::ids::normalize_id;
use crate::model::{Affected, Event, OsvIn, Package, Range, Reference, SourceRecord};
use crate::normalize::{normalize_ecosystem, normalize_package_name};
use crate::report::Dropped;
use crate::source::SourceKind;
use crate::timestamp::{self, TsParse};

/// Parse one OSV JSON or YAML document holding one record.
pub(crate) fn parse_file(
    kind: SourceKind,
    file: &str,
    bytes: &[u8],
    yaml: bool,
    opts: &ReadOptions<'_>,
) -> Parsed {
    let mut out = Parsed::default();
    let rec: Result<OsvIn, String> = if yaml {
        serde_yaml_ng::from_slice(bytes).map_err(|e| format!("invalid OSV YAML: {e}"))
    } else {
        serde_json::from_slice(bytes).map_err(|e| format!("invalid OSV JSON: {e}"))
    };
    match rec {
        Ok(r) => match convert(kind, file, r, opts.limits.max_id_len) {
            Ok((rec, dropped)) => {
                out.records.push(rec);
                out.dropped.extend(dropped);
            }
            Err((id, reason)) => out.reject(kind, file, id, reason),
        },
        Err(reason) => out.reject(kind, file, None, reason),
    }
    out
}

/// Read osv.dev's `all.zip`: entries are read one by one (capped) and parsed in
/// parallel batches, so memory holds one batch of raw text at a time.
pub(super) fn read_zip(
    kind: SourceKind,
    name: &str,
    path: &Path,
    opts: &ReadOptions<'_>,
) -> FileOut {
    let lim = opts.limits;
    let file = match super::open_input(kind, name, path) {
        Ok(f) => f,
        Err(rejected) => return rejected,
    };
    let mut out = FileOut::empty();
    let mut zip = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(z) => z,
        Err(e) => {
            out.parsed
                .reject(kind, name, None, format!("invalid zip: {e}"));
            return out;
        }
    };
    if zip.len() as u64 > lim.max_zip_entries {
        out.parsed.reject(
            kind,
            name,
            None,
            format!("{} entries, above limit max_zip_entries", zip.len()),
        );
        return out;
    }
    const BATCH_BYTES: usize = 32 * 1024 * 1024;
    let mut total: u64 = 0;
    let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
    let mut batch_bytes = 0usize;
    let flush = |batch: &mut Vec<(String, Vec<u8>)>, out: &mut FileOut| {
        let res: Vec<Parsed> = batch
            .par_iter()
            .map(|(n, b)| {
                let yaml = n.ends_with(".yaml") || n.ends_with(".yml");
                parse_file(kind, n, b, yaml, opts)
            })
            .collect();
        for p in res {
            out.parsed.records.extend(p.records);
            out.parsed.rejected.extend(p.rejected);
            out.parsed.dropped.extend(p.dropped);
        }
        batch.clear();
    };
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                out.parsed
                    .reject(kind, name, None, format!("zip entry {i}: {e}"));
                continue;
            }
        };
        if !entry.is_file() {
            continue;
        }
        let ename = format!("{name}!{}", entry.name());
        let lower = ename.to_ascii_lowercase();
        if !(lower.ends_with(".json") || lower.ends_with(".yaml") || lower.ends_with(".yml")) {
            continue;
        }
        let mut buf = Vec::new();
        let cap = lim.max_zip_entry_bytes;
        if let Err(e) = (&mut entry).take(cap + 1).read_to_end(&mut buf) {
            out.parsed
                .reject(kind, &ename, None, format!("cannot read zip entry: {e}"));
            continue;
        }
        if buf.len() as u64 > cap {
            out.parsed.reject(
                kind,
                &ename,
                None,
                format!("zip entry above limit max_zip_entry_bytes={cap}"),
            );
            continue;
        }
        total += buf.len() as u64;
        if total > lim.max_zip_total_bytes {
            out.parsed.reject(
                kind,
                name,
                None,
                "zip content above limit max_zip_total_bytes; rest skipped",
            );
            break;
        }
        out.hashes
            .push((ename.clone(), Sha256::digest(&buf).into()));
        batch_bytes += buf.len();
        batch.push((ename, buf));
        if batch_bytes >= BATCH_BYTES {
            flush(&mut batch, &mut out);
            batch_bytes = 0;
        }
    }
    flush(&mut batch, &mut out);
    out
}

type Fail = (Option<String>, String);

fn ids(list: Vec<String>, self_id: &str, max: usize, ignored: &mut Vec<String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::with_capacity(list.len());
    for a in list {
        match normalize_id(&a, max) {
            Some(n) if n != self_id => v.push(n),
            Some(_) => {}
            None => ignored.push(a.chars().take(max).collect()),
        }
    }
    v.sort();
    v.dedup();
    v
}

fn date(
    raw: &Option<String>,
    field: &str,
    rec: &mut SourceRecord,
) -> Result<Option<timestamp::Ts>, String> {
    match raw.as_deref() {
        None => Ok(None),
        Some(s) => match timestamp::parse(s) {
            Some(TsParse::Real(t)) => Ok(Some(t)),
            Some(TsParse::Placeholder) => {
                rec.placeholder_dates = true;
                Ok(None)
            }
            None => Err(format!(
                "unparseable {field} {:?}",
                s.chars().take(40).collect::<String>()
            )),
        },
    }
}

fn obj(v: Option<Value>) -> Option<Map<String, Value>> {
    match v {
        Some(Value::Object(m)) if !m.is_empty() => Some(m),
        _ => None,
    }
}

const REF_TYPES: &[&str] = &[
    "ADVISORY",
    "ARTICLE",
    "DETECTION",
    "DISCUSSION",
    "REPORT",
    "FIX",
    "INTRODUCED",
    "GIT",
    "PACKAGE",
    "EVIDENCE",
    "WEB",
];

/// Validate and normalise one OSV record. Structural errors (bad events, bad
/// dates, missing id) fail the record; an `affected` entry in an ecosystem the
/// schema does not know is dropped and reported.
pub(crate) fn convert(
    kind: SourceKind,
    file: &str,
    r: OsvIn,
    max_id: usize,
) -> Result<(SourceRecord, Vec<Dropped>), Fail> {
    let id = normalize_id(&r.id, max_id).ok_or((
        None,
        format!("invalid id {:?}", r.id.chars().take(40).collect::<String>()),
    ))?;
    let fail = |reason: String| (Some(id.clone()), reason);
    let mut rec = SourceRecord::new(kind, file.to_string(), id.clone());
    let mut dropped = Vec::new();
    match r.modified.as_deref() {
        None => return Err(fail("missing modified".into())),
        Some(_) => rec.modified = date(&r.modified, "modified", &mut rec).map_err(fail)?,
    }
    rec.published = date(&r.published, "published", &mut rec).unwrap_or(None);
    rec.withdrawn = date(&r.withdrawn, "withdrawn", &mut rec).map_err(fail)?;
    let mut ignored = Vec::new();
    rec.aliases = ids(r.aliases, &id, max_id, &mut ignored);
    rec.upstream = ids(r.upstream, &id, max_id, &mut ignored);
    rec.related = ids(r.related, &id, max_id, &mut Vec::new());
    rec.ignored_aliases = ignored;
    rec.summary = r.summary.filter(|s| !s.trim().is_empty());
    rec.details = r.details.filter(|s| !s.trim().is_empty());
    rec.severity = r.severity;
    rec.credits = r.credits;
    rec.references = r
        .references
        .into_iter()
        .filter(|x| !x.url.trim().is_empty())
        .map(|x| {
            let t = x.kind.trim().to_ascii_uppercase();
            Reference {
                kind: if REF_TYPES.contains(&t.as_str()) {
                    t
                } else {
                    "WEB".into()
                },
                url: x.url.trim().to_string(),
            }
        })
        .collect();
    rec.database_specific = obj(r.database_specific);
    if let Some(ds) = &rec.database_specific {
        if let Some(Value::String(s)) = ds.get("severity") {
            rec.rating = Some(s.to_ascii_uppercase());
        }
        if let Some(Value::Array(a)) = ds.get("cwe_ids") {
            rec.cwe_ids = a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
        }
    }
    for a in r.affected {
        let package = match a.package {
            Some(p) => match normalize_ecosystem(&p.ecosystem) {
                Some(eco) => Some(Package {
                    name: normalize_package_name(&eco, &p.name),
                    ecosystem: eco,
                    purl: p.purl.filter(|s| !s.trim().is_empty()),
                }),
                None => {
                    dropped.push(Dropped {
                        source: kind,
                        file: file.to_string(),
                        record_id: id.clone(),
                        reason: format!(
                            "affected entry dropped: ecosystem {:?} not in the OSV schema",
                            p.ecosystem.chars().take(40).collect::<String>()
                        ),
                    });
                    continue;
                }
            },
            None => None,
        };
        if package.as_ref().is_some_and(|p| p.name.is_empty()) {
            return Err(fail("affected package with empty name".into()));
        }
        let mut ranges = Vec::with_capacity(a.ranges.len());
        for rg in a.ranges {
            let t = rg.kind.trim().to_ascii_uppercase();
            if !matches!(t.as_str(), "GIT" | "SEMVER" | "ECOSYSTEM") {
                return Err(fail(format!(
                    "unknown range type {:?}",
                    rg.kind.chars().take(20).collect::<String>()
                )));
            }
            if t == "GIT" && rg.repo.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(fail("GIT range without repo".into()));
            }
            let mut events = Vec::with_capacity(rg.events.len());
            for e in &rg.events {
                events.push(Event::from_in(e).ok_or_else(|| {
                    fail(
                        "range event must have exactly one of introduced/fixed/last_affected/limit"
                            .into(),
                    )
                })?);
            }
            if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
                return Err(fail("range without an introduced event".into()));
            }
            let has_fixed = events.iter().any(|e| matches!(e, Event::Fixed(_)));
            let has_last = events.iter().any(|e| matches!(e, Event::LastAffected(_)));
            if has_fixed && has_last {
                return Err(fail("range mixes fixed and last_affected".into()));
            }
            ranges.push(Range {
                kind: t,
                repo: rg.repo.map(|s| s.trim().to_string()),
                events,
                database_specific: rg.database_specific.filter(|v| v.is_object()),
            });
        }
        rec.affected.push(Affected {
            package,
            severity: a.severity,
            ranges,
            versions: a.versions,
            ecosystem_specific: a.ecosystem_specific.filter(|v| v.is_object()),
            database_specific: obj(a.database_specific),
        });
    }
    Ok((rec, dropped))
}
