//! Merged OSV snapshot (NDJSON) → Trivy DB directory (`db/trivy.db` + `db/metadata.json`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use bbolt_rs::{BoltOptions, BucketRwApi, DbRwAPI, TxRwApi, TxRwRefApi};

use crate::limits::ExportLimits;
use crate::mapping::{self, push_unique};
use crate::metadata::Metadata;
use crate::osv::Record;
use crate::trivy_types::{Advisory, DataSource};
use crate::{validate_bolt, DbLimits, TrivyError, DB_FILE, METADATA_FILE, REQUIRED_BUCKETS};
use crate::{DATA_SOURCE_BUCKET, DATA_SOURCE_ID, VULNERABILITY_BUCKET};

/// Bolt page size. Fixed rather than the OS page size so the file is the same on every builder.
pub(crate) const PAGE_SIZE: usize = 4096;

/// Times for `metadata.json` (Unix seconds, from SOURCE_DATE_EPOCH or the kit's build time —
/// never the clock) and the limits for reading the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportOptions {
    /// `UpdatedAt`; also the "now" against which `withdrawn` dates are judged.
    pub updated_at: u64,
    /// `NextUpdate`.
    pub next_update: u64,
    /// `DownloadedAt`.
    pub downloaded_at: u64,
    /// Input limits.
    pub limits: ExportLimits,
}

impl ExportOptions {
    /// `UpdatedAt` = `DownloadedAt` = `updated_at`, `NextUpdate` one day later (trivy-db's
    /// default interval), default limits.
    pub fn new(updated_at: u64) -> Self {
        ExportOptions {
            updated_at,
            next_update: updated_at.saturating_add(86_400),
            downloaded_at: updated_at,
            limits: ExportLimits::default(),
        }
    }
}

/// A record (or one affected entry of it) that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    /// 1-based line in the snapshot.
    pub line: u64,
    /// The record id when it could be read.
    pub id: Option<String>,
    /// Why it was skipped.
    pub reason: String,
}

/// What an export wrote and what it left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Non-empty lines read.
    pub records_read: u64,
    /// Records that produced at least one advisory.
    pub records_used: u64,
    /// Records left out because `withdrawn` is at or before `updated_at`.
    pub records_withdrawn: u64,
    /// Records (or affected entries) skipped as malformed; the first few are in `skipped`.
    pub records_skipped: u64,
    /// Details of the first skipped records, up to `ExportLimits::max_reported_skips`.
    pub skipped: Vec<SkippedRecord>,
    /// Affected entries in ecosystems Trivy has no language bucket for.
    pub affected_unsupported: u64,
    /// Advisory values written (root bucket × package × vulnerability id).
    pub advisories: u64,
    /// Values written to the `vulnerability` bucket.
    pub vulnerabilities: u64,
    /// Package buckets per root bucket.
    pub packages_per_bucket: BTreeMap<String, u64>,
    /// Bytes of `trivy.db`.
    pub db_bytes: u64,
}

type AdvisoryMap = BTreeMap<String, BTreeMap<String, BTreeMap<String, Advisory>>>;

/// Builds `out_dir/db/trivy.db` and `out_dir/db/metadata.json` from a merged snapshot.
///
/// Malformed records are skipped and reported in the summary, never fatal; an I/O error, a
/// limit breach or an existing output file is. The same input and options give the same bytes.
pub fn export_trivy_db(
    advisories_ndjson: &Path,
    out_dir: &Path,
    opts: &ExportOptions,
) -> Result<ExportSummary, TrivyError> {
    let metadata = Metadata::from_unix(opts.next_update, opts.updated_at, opts.downloaded_at)?;
    let db_dir = out_dir.join("db");
    let db_path = db_dir.join(DB_FILE);
    let md_path = db_dir.join(METADATA_FILE);
    for p in [&db_path, &md_path] {
        if p.symlink_metadata().is_ok() {
            return Err(TrivyError::OutputExists { path: p.clone() });
        }
    }
    fs::create_dir_all(&db_dir).map_err(|e| TrivyError::io(&db_dir, e))?;
    let partial = db_dir.join(format!("{DB_FILE}.partial"));
    if partial.symlink_metadata().is_ok() {
        return Err(TrivyError::OutputExists { path: partial });
    }
    let result = write_db(advisories_ndjson, &partial, opts);
    let mut summary = match result {
        Ok(s) => s,
        Err(e) => {
            // Best effort: a half-written DB must not be left where it could be mistaken for one.
            let _ = fs::remove_file(&partial);
            return Err(e);
        }
    };
    if let Err(e) = scrub_meta_slack(&partial, PAGE_SIZE) {
        let _ = fs::remove_file(&partial);
        return Err(TrivyError::io(&partial, e));
    }
    // The importer refuses what the validator refuses: check here so a bad DB fails the build,
    // not every site that imports the kit.
    if let Err(e) = validate_bolt(&partial, &REQUIRED_BUCKETS, &DbLimits::default()) {
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    fs::rename(&partial, &db_path).map_err(|e| TrivyError::io(&db_path, e))?;
    summary.db_bytes = fs::metadata(&db_path)
        .map_err(|e| TrivyError::io(&db_path, e))?
        .len();
    fs::write(&md_path, metadata.to_bytes()).map_err(|e| TrivyError::io(&md_path, e))?;
    Ok(summary)
}

/// Zeroes the unused tail of both meta pages (bytes 80..page_size of pages 0 and 1).
///
/// Why: bbolt-rs 1.3.10 writes each meta page from an uninitialised bump-allocator buffer
/// (`TxCell::write_meta`), so the rest of the page carries whatever the process heap held
/// before — leftovers of our own keys and values, or anything else the process had freed. That
/// makes the file non-deterministic and could leak process memory into a shipped artefact. Go
/// bbolt never reads those bytes (the checksum covers only the 64-byte meta struct), so zeroing
/// them changes nothing for readers. Data, branch and freelist pages come from zeroed buffers.
fn scrub_meta_slack(path: &Path, page_size: usize) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    // Page header (16 bytes) + meta struct (64 bytes).
    const META_END: usize = 80;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let zeros = vec![0u8; page_size - META_END];
    for page in 0..2u64 {
        f.seek(SeekFrom::Start(page * page_size as u64 + META_END as u64))?;
        f.write_all(&zeros)?;
    }
    f.sync_all()
}

/// Reads the snapshot and writes the DB at `db_path`.
fn write_db(
    input: &Path,
    db_path: &Path,
    opts: &ExportOptions,
) -> Result<ExportSummary, TrivyError> {
    let file = fs::File::open(input).map_err(|e| TrivyError::io(input, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut db = BoltOptions::builder()
        .page_size(PAGE_SIZE)
        .build()
        .open(db_path)
        .map_err(|e| TrivyError::bolt(db_path, e))?;
    let bolt_err = |e| TrivyError::bolt(db_path, e);

    let mut summary = ExportSummary::default();
    let mut advisories: AdvisoryMap = BTreeMap::new();
    let mut vulns: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    let limit = opts.limits.max_record_bytes;
    loop {
        buf.clear();
        let n = reader
            .by_ref()
            .take(limit as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| TrivyError::io(input, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        } else if buf.len() > limit {
            return Err(TrivyError::RecordTooLong {
                path: input.to_path_buf(),
                line: line_no,
                limit,
            });
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        summary.records_read += 1;
        if summary.records_read > opts.limits.max_records {
            return Err(TrivyError::TooManyRecords {
                path: input.to_path_buf(),
                limit: opts.limits.max_records,
            });
        }
        let record: Record = match serde_json::from_slice(&buf) {
            Ok(r) => r,
            Err(e) => {
                skip(
                    &mut summary,
                    opts,
                    line_no,
                    None,
                    format!("not an OSV record: {e}"),
                );
                continue;
            }
        };
        if is_withdrawn(&record, opts.updated_at) {
            summary.records_withdrawn += 1;
            continue;
        }
        if let Some(detail) = add_record(&record, line_no, &mut advisories, &mut summary, opts) {
            summary.records_used += 1;
            // The first record for an id wins (ids are unique after the merge).
            for key in detail.0 {
                vulns.entry(key).or_insert_with(|| detail.1.clone());
            }
        }
    }
    write_all(&mut db, &advisories, &vulns, &mut summary).map_err(bolt_err)?;
    Ok(summary)
}

fn skip(
    summary: &mut ExportSummary,
    opts: &ExportOptions,
    line: u64,
    id: Option<&str>,
    reason: String,
) {
    summary.records_skipped += 1;
    if summary.skipped.len() < opts.limits.max_reported_skips {
        summary.skipped.push(SkippedRecord {
            line,
            id: id.map(|s| s.chars().take(128).collect()),
            reason: reason.chars().take(300).collect(),
        });
    }
}

/// A record is left out when `withdrawn` is at or before `now`, or when `withdrawn` is present
/// but unreadable (the source said it is withdrawn; only the date is unclear).
fn is_withdrawn(rec: &Record, now: u64) -> bool {
    match rec.withdrawn.as_deref() {
        None => false,
        Some(w) => match chrono::DateTime::parse_from_rfc3339(w) {
            Ok(t) => i128::from(t.timestamp()) <= i128::from(now),
            Err(_) => true,
        },
    }
}

/// Adds one record's advisories; returns its vulnerability keys and detail JSON if it produced
/// any advisory.
fn add_record(
    rec: &Record,
    line: u64,
    advisories: &mut AdvisoryMap,
    summary: &mut ExportSummary,
    opts: &ExportOptions,
) -> Option<(Vec<String>, Vec<u8>)> {
    let (keys, vendor_ids) = match mapping::vuln_keys(rec) {
        Ok(k) => k,
        Err(reason) => {
            skip(summary, opts, line, Some(&rec.id), reason.to_string());
            return None;
        }
    };
    // (bucket, package) → versions, merged over this record's affected entries.
    let mut per_pkg: BTreeMap<(String, String), Advisory> = BTreeMap::new();
    for (i, a) in rec.affected.iter().enumerate() {
        let Some(pkg) = &a.package else { continue };
        let Some(eco) = mapping::ecosystem(&pkg.ecosystem) else {
            summary.affected_unsupported += 1;
            continue;
        };
        let names = match eco.package_keys(&pkg.name, pkg.purl.as_deref()) {
            Ok(n) => n,
            Err(reason) => {
                skip(
                    summary,
                    opts,
                    line,
                    Some(&rec.id),
                    format!("affected[{i}]: {reason}"),
                );
                continue;
            }
        };
        let sets = match mapping::version_sets(a) {
            Ok(s) => s,
            Err(reason) => {
                skip(
                    summary,
                    opts,
                    line,
                    Some(&rec.id),
                    format!("affected[{i}]: {reason}"),
                );
                continue;
            }
        };
        if sets.vulnerable.is_empty() {
            // Trivy reports nothing for an advisory without vulnerable versions.
            continue;
        }
        for name in names {
            let adv = per_pkg.entry((eco.bucket_name(), name)).or_default();
            for v in &sets.vulnerable {
                push_unique(&mut adv.vulnerable_versions, v.clone());
            }
            for v in &sets.patched {
                push_unique(&mut adv.patched_versions, v.clone());
            }
        }
    }
    if per_pkg.is_empty() {
        return None;
    }
    for ((bucket, pkg), adv) in per_pkg {
        let pkgs = advisories.entry(bucket).or_default();
        let ids = pkgs.entry(pkg).or_default();
        for key in &keys {
            let vendor: Vec<String> = vendor_ids.iter().filter(|v| *v != key).cloned().collect();
            match ids.get_mut(key) {
                // Two records share a CVE: keep both sets of ranges.
                Some(existing) => {
                    for v in vendor {
                        push_unique(&mut existing.vendor_ids, v);
                    }
                    for v in &adv.vulnerable_versions {
                        push_unique(&mut existing.vulnerable_versions, v.clone());
                    }
                    for v in &adv.patched_versions {
                        push_unique(&mut existing.patched_versions, v.clone());
                    }
                }
                None => {
                    ids.insert(
                        key.clone(),
                        Advisory {
                            vendor_ids: vendor,
                            vulnerable_versions: adv.vulnerable_versions.clone(),
                            patched_versions: adv.patched_versions.clone(),
                        },
                    );
                }
            }
        }
    }
    let detail = serde_json::to_vec(&mapping::vulnerability(rec)).unwrap_or_default();
    Some((keys, detail))
}

/// Writes everything in ONE write transaction.
///
/// Why one: bbolt-rs keeps its free-page list in a `HashMap`, so once a later transaction
/// reuses pages freed by an earlier one, page placement depends on hash order and two runs give
/// different files. A single transaction on a fresh file never reuses a page, and the output is
/// byte-identical for identical input (tested). The cost is that all dirty pages are held in
/// memory until the commit (about the size of the DB).
fn write_all(
    db: &mut bbolt_rs::Bolt,
    advisories: &AdvisoryMap,
    vulns: &BTreeMap<String, Vec<u8>>,
    summary: &mut ExportSummary,
) -> bbolt_rs::Result<()> {
    let mut tx = db.begin_rw()?;
    let mut sources: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (bucket, pkgs) in advisories {
        let mut root = tx.create_bucket_if_not_exists(bucket.as_bytes())?;
        for (pkg, ids) in pkgs {
            let mut pb = root.create_bucket_if_not_exists(pkg.as_bytes())?;
            for (id, adv) in ids {
                let v = serde_json::to_vec(adv).unwrap_or_default();
                pb.put(id.as_bytes(), v)?;
                summary.advisories += 1;
            }
        }
        summary
            .packages_per_bucket
            .insert(bucket.clone(), pkgs.len() as u64);
        let name = bucket.split_once("::").map(|(_, n)| n).unwrap_or(bucket);
        let ds = DataSource {
            id: DATA_SOURCE_ID,
            name: name.to_string(),
            url: "",
        };
        sources.insert(bucket.clone(), serde_json::to_vec(&ds).unwrap_or_default());
    }
    {
        let mut b = tx.create_bucket_if_not_exists(DATA_SOURCE_BUCKET)?;
        for (k, v) in &sources {
            b.put(k.as_bytes(), v)?;
        }
    }
    {
        // Created even when empty: Trivy panics on a DB without it.
        let mut b = tx.create_bucket_if_not_exists(VULNERABILITY_BUCKET)?;
        for (k, v) in vulns {
            b.put(k.as_bytes(), v)?;
            summary.vulnerabilities += 1;
        }
    }
    tx.commit()
}
