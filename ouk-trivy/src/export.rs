//! Merged OSV snapshot (NDJSON) → Trivy DB directory (`db/trivy.db` + `db/metadata.json`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::bolt_writer::{BoltWriter, TreeBuilder};
use crate::external_sort::ExternalSort;

use crate::limits::ExportLimits;
use crate::mapping::{self, push_unique, OsFix};
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
    /// Affected entries in ecosystems Trivy has no bucket of ours for (neither a language nor
    /// one of the distribution releases of `spec/trivy-db.md`).
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

/// Memory budget of each external sort (advisory entries, vulnerability details).
const SORT_BUDGET: usize = 12 << 20;

/// Reads the snapshot and writes the DB at `db_path`: advisory entries and vulnerability details
/// go through external sorts (bounded memory), then the DB is written front to back in key
/// order by [`BoltWriter`] — memory does not grow with the snapshot.
fn write_db(
    input: &Path,
    db_path: &Path,
    opts: &ExportOptions,
) -> Result<ExportSummary, TrivyError> {
    let file = fs::File::open(input).map_err(|e| TrivyError::io(input, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let spill_err = |e| TrivyError::io(input, e);

    let mut summary = ExportSummary::default();
    let mut entries = Entries {
        advisories: ExternalSort::new(SORT_BUDGET),
        vulns: ExternalSort::new(SORT_BUDGET),
        seq: 0,
    };
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
        if add_record(&record, line_no, &mut entries, &mut summary, opts).map_err(spill_err)? {
            summary.records_used += 1;
        }
    }
    write_all(db_path, entries, &mut summary)
}

/// The sorted inputs of the DB, filled record by record.
struct Entries {
    /// (bucket, package, vulnerability id) → one record's advisory contribution.
    advisories: ExternalSort,
    /// Vulnerability id → detail JSON (the first record for an id wins).
    vulns: ExternalSort,
    /// Order of insertion: equal keys come out in this (snapshot) order.
    seq: u64,
}

impl Entries {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// Sort key of an advisory entry: bucket and package escaped (`\0` → `\0\x01`) and separated by
/// `\0\0`, so byte order of keys is the order of (bucket, package, id) tuples whatever bytes the
/// names hold.
fn entry_key(bucket: &str, pkg: &str, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + pkg.len() + id.len() + 4);
    for part in [bucket, pkg] {
        for &b in part.as_bytes() {
            k.push(b);
            if b == 0 {
                k.push(1);
            }
        }
        k.extend_from_slice(&[0, 0]);
    }
    k.extend_from_slice(id.as_bytes());
    k
}

/// The inverse of [`entry_key`].
fn split_entry_key(key: &[u8]) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let mut parts = Vec::with_capacity(2);
    let mut cur = Vec::new();
    let mut i = 0;
    while parts.len() < 2 {
        let b = *key.get(i)?;
        if b == 0 {
            match key.get(i + 1)? {
                0 => {
                    parts.push(std::mem::take(&mut cur));
                    i += 2;
                    continue;
                }
                1 => {
                    cur.push(0);
                    i += 2;
                    continue;
                }
                _ => return None,
            }
        }
        cur.push(b);
        i += 1;
    }
    let id = key[i..].to_vec();
    let pkg = parts.pop()?;
    let bucket = parts.pop()?;
    Some((bucket, pkg, id))
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
    entries: &mut Entries,
    summary: &mut ExportSummary,
    opts: &ExportOptions,
) -> std::io::Result<bool> {
    let (keys, vendor_ids) = match mapping::vuln_keys(rec) {
        Ok(k) => k,
        Err(reason) => {
            skip(summary, opts, line, Some(&rec.id), reason.to_string());
            return Ok(false);
        }
    };
    // (bucket, package) → versions, merged over this record's affected entries.
    let mut per_pkg: BTreeMap<(String, String), PackageEntry> = BTreeMap::new();
    for (i, a) in rec.affected.iter().enumerate() {
        let Some(pkg) = &a.package else { continue };
        let Some(eco) = mapping::ecosystem(&pkg.ecosystem) else {
            match mapping::os_bucket(&pkg.ecosystem) {
                Some(bucket) => add_os_entry(rec, i, bucket, &mut per_pkg, summary, opts, line),
                None => summary.affected_unsupported += 1,
            }
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
            let c = per_pkg.entry((eco.bucket_name(), name)).or_default();
            for v in &sets.vulnerable {
                push_unique(&mut c.vulnerable, v.clone());
            }
            for v in &sets.patched {
                push_unique(&mut c.patched, v.clone());
            }
        }
    }
    if per_pkg.is_empty() {
        return Ok(false);
    }
    for ((bucket, pkg), c) in per_pkg {
        for key in &keys {
            let vendor: Vec<String> = vendor_ids.iter().filter(|v| *v != key).cloned().collect();
            let contribution =
                serde_json::to_vec(&(vendor, &c.vulnerable, &c.patched, &c.os)).unwrap_or_default();
            let seq = entries.next_seq();
            entries
                .advisories
                .push(entry_key(&bucket, &pkg, key), seq, contribution)?;
        }
    }
    let detail = serde_json::to_vec(&mapping::vulnerability(rec)).unwrap_or_default();
    for key in keys {
        let seq = entries.next_seq();
        entries.vulns.push(key.into_bytes(), seq, detail.clone())?;
    }
    Ok(true)
}

/// The vulnerability id being assembled, with its advisory and (distribution buckets) its fix.
type OpenEntry = (Vec<u8>, (Advisory, Option<OsFix>));

/// One distribution `affected` entry (see [`mapping::os_fix`]): its package (the source package
/// for Debian, Ubuntu and Alpine, the binary one for AlmaLinux and Rocky Linux, as each
/// distribution's records name them and Trivy looks them up) under the release's bucket, with
/// its fixed version or as unfixed (RPM buckets: fixed only, [`mapping::rpm_os_fix`]). Within one
/// record, an unfixed entry wins over a fixed one for the same package (the record says some
/// build is unfixed).
fn add_os_entry(
    rec: &Record,
    i: usize,
    bucket: mapping::OsBucket,
    per_pkg: &mut BTreeMap<(String, String), PackageEntry>,
    summary: &mut ExportSummary,
    opts: &ExportOptions,
    line: u64,
) {
    let a = &rec.affected[i];
    let Some(pkg) = &a.package else { return };
    let rpm = bucket.rpm;
    let fix = match mapping::os_package_key(&pkg.name)
        .and_then(|_| mapping::os_fix(a))
        .and_then(|fix| match fix {
            Some(fix) if rpm => mapping::rpm_os_fix(fix).map(Some),
            other => Ok(other),
        }) {
        Ok(Some(fix)) => fix,
        Ok(None) => return,
        Err(reason) => {
            let why = format!("affected[{i}]: {reason}");
            skip(summary, opts, line, Some(&rec.id), why);
            return;
        }
    };
    let c = per_pkg.entry((bucket.name, pkg.name.clone())).or_default();
    c.os = Some(match (c.os.take(), fix) {
        (Some(OsFix::Unfixed), _) | (_, OsFix::Unfixed) => OsFix::Unfixed,
        (Some(first), _) => first,
        (None, fix) => fix,
    });
}

/// What one record says of one (bucket, package): the vulnerable and patched versions
/// (language buckets) or the OS fix (distribution buckets).
#[derive(Debug, Default)]
struct PackageEntry {
    vulnerable: Vec<String>,
    patched: Vec<String>,
    os: Option<OsFix>,
}

/// One advisory entry's contribution as the external sort spills it (one record, one bucket,
/// package and id): vendor ids, then a [`PackageEntry`]'s fields. A JSON array, so the spill
/// carries no field names per entry.
type Contribution = (Vec<String>, Vec<String>, Vec<String>, Option<OsFix>);

/// Writes the DB from the sorted entries: each advisory bucket (package sub-buckets of merged
/// entries), `data-source`, `vulnerability`, then the root bucket, front to back.
fn write_all(
    db_path: &Path,
    entries: Entries,
    summary: &mut ExportSummary,
) -> Result<ExportSummary, TrivyError> {
    let io = |e| TrivyError::io(db_path, e);
    let mut w = BoltWriter::create(db_path, PAGE_SIZE).map_err(io)?;
    let mut roots: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut sources: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    // The bucket, package and id being assembled, with the advisory merged so far.
    let mut bucket: Option<(Vec<u8>, TreeBuilder, u64)> = None;
    let mut pkg: Option<(Vec<u8>, TreeBuilder)> = None;
    let mut current: Option<OpenEntry> = None;

    fn close_entry(
        w: &mut BoltWriter,
        pkg: &mut Option<(Vec<u8>, TreeBuilder)>,
        current: &mut Option<OpenEntry>,
        summary: &mut ExportSummary,
    ) -> std::io::Result<()> {
        if let (Some((id, (mut adv, os))), Some((_, tree))) = (current.take(), pkg.as_mut()) {
            if let Some(OsFix::Fixed(v)) = os {
                adv.fixed_version = v;
            }
            tree.push(w, id, serde_json::to_vec(&adv).unwrap_or_default(), false)?;
            summary.advisories += 1;
        }
        Ok(())
    }
    fn close_pkg(
        w: &mut BoltWriter,
        bucket: &mut Option<(Vec<u8>, TreeBuilder, u64)>,
        pkg: &mut Option<(Vec<u8>, TreeBuilder)>,
    ) -> std::io::Result<()> {
        if let (Some((name, tree)), Some((_, btree, count))) = (pkg.take(), bucket.as_mut()) {
            let value = tree.finish(w)?;
            btree.push(w, name, value, true)?;
            *count += 1;
        }
        Ok(())
    }
    let mut close_bucket = |w: &mut BoltWriter,
                            bucket: &mut Option<(Vec<u8>, TreeBuilder, u64)>,
                            summary: &mut ExportSummary|
     -> std::io::Result<()> {
        if let Some((name, tree, count)) = bucket.take() {
            let value = tree.finish(w)?;
            let text = String::from_utf8_lossy(&name).into_owned();
            summary.packages_per_bucket.insert(text.clone(), count);
            let name_text = match text.split_once("::") {
                Some((_, source)) => source.to_string(),
                None => format!("OUK merged advisories {text}"),
            };
            let ds = DataSource {
                id: DATA_SOURCE_ID,
                name: name_text,
                url: "",
            };
            sources.push((name.clone(), serde_json::to_vec(&ds).unwrap_or_default()));
            roots.push((name, value));
        }
        Ok(())
    };

    for item in entries.advisories.finish().map_err(io)? {
        let (key, _, value) = item.map_err(io)?;
        let Some((b, p, id)) = split_entry_key(&key) else {
            continue;
        };
        let (vendor, vulnerable, patched, os): Contribution =
            serde_json::from_slice(&value).unwrap_or_default();
        let same_bucket = bucket.as_ref().is_some_and(|(n, _, _)| *n == b);
        let same_pkg = same_bucket && pkg.as_ref().is_some_and(|(n, _)| *n == p);
        let same_id = same_pkg && current.as_ref().is_some_and(|(n, _)| *n == id);
        if same_id {
            // Two records share a CVE: keep both sets of ranges; for a distribution package an
            // unfixed record wins, else the first fixed version (snapshot order) stays.
            let (adv, open_fix) = &mut current.as_mut().expect("same id").1;
            for v in vendor {
                push_unique(&mut adv.vendor_ids, v);
            }
            for v in vulnerable {
                push_unique(&mut adv.vulnerable_versions, v);
            }
            for v in patched {
                push_unique(&mut adv.patched_versions, v);
            }
            if os == Some(OsFix::Unfixed) {
                *open_fix = Some(OsFix::Unfixed);
            }
            continue;
        }
        close_entry(&mut w, &mut pkg, &mut current, summary).map_err(io)?;
        if !same_pkg {
            close_pkg(&mut w, &mut bucket, &mut pkg).map_err(io)?;
            if !same_bucket {
                close_bucket(&mut w, &mut bucket, summary).map_err(io)?;
                bucket = Some((b, TreeBuilder::new(PAGE_SIZE), 0));
            }
            pkg = Some((p, TreeBuilder::new(PAGE_SIZE)));
        }
        current = Some((
            id,
            (
                Advisory {
                    vendor_ids: vendor,
                    fixed_version: String::new(),
                    vulnerable_versions: vulnerable,
                    patched_versions: patched,
                },
                os,
            ),
        ));
    }
    close_entry(&mut w, &mut pkg, &mut current, summary).map_err(io)?;
    close_pkg(&mut w, &mut bucket, &mut pkg).map_err(io)?;
    close_bucket(&mut w, &mut bucket, summary).map_err(io)?;

    let mut ds_tree = TreeBuilder::new(PAGE_SIZE);
    for (k, v) in sources {
        ds_tree.push(&mut w, k, v, false).map_err(io)?;
    }
    roots.push((
        DATA_SOURCE_BUCKET.as_bytes().to_vec(),
        ds_tree.finish(&mut w).map_err(io)?,
    ));
    // Created even when empty: Trivy panics on a DB without it. First record for an id wins.
    let mut vuln_tree = TreeBuilder::new(PAGE_SIZE);
    let mut last: Option<Vec<u8>> = None;
    for item in entries.vulns.finish().map_err(io)? {
        let (key, _, value) = item.map_err(io)?;
        if last.as_ref() == Some(&key) {
            continue;
        }
        vuln_tree
            .push(&mut w, key.clone(), value, false)
            .map_err(io)?;
        summary.vulnerabilities += 1;
        last = Some(key);
    }
    roots.push((
        VULNERABILITY_BUCKET.as_bytes().to_vec(),
        vuln_tree.finish(&mut w).map_err(io)?,
    ));
    roots.sort_by(|a, b| a.0.cmp(&b.0));
    let mut root = TreeBuilder::new(PAGE_SIZE);
    for (k, v) in roots {
        root.push(&mut w, k, v, true).map_err(io)?;
    }
    let value = root.finish_root(&mut w).map_err(io)?;
    w.finish(&value).map_err(io)?;
    Ok(std::mem::take(summary))
}
