//! Adapters: one module per upstream format. Each turns bytes into
//! [`SourceRecord`]s plus per-record rejections; none holds raw text after parsing.
//!
//! This module walks a source path, reads each file under the size limit, hashes
//! it for the snapshot digest and hands it to the format parser, in parallel.

pub(crate) mod bdu;
pub(crate) mod cnnvd;
pub(crate) mod cnvd;
pub(crate) mod enisa;
pub(crate) mod jvn;
pub(crate) mod nvd;
mod nvd_feed;
pub(crate) mod osv;
pub(crate) mod xml;
mod xml_file;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::FeedError;
use crate::limits::Limits;
use crate::model::SourceRecord;
use crate::report::{Dropped, Rejected};
use crate::source::{SourceKind, SourceSpec};

/// What one parser call produced from one file.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub records: Vec<SourceRecord>,
    pub rejected: Vec<Rejected>,
    pub dropped: Vec<Dropped>,
}

impl Parsed {
    pub(crate) fn reject(
        &mut self,
        kind: SourceKind,
        file: &str,
        id: Option<String>,
        reason: impl Into<String>,
    ) {
        self.rejected.push(Rejected {
            source: kind,
            file: file.to_string(),
            record_id: id,
            reason: reason.into(),
        });
    }

    fn extend(&mut self, o: Parsed) {
        self.records.extend(o.records);
        self.rejected.extend(o.rejected);
        self.dropped.extend(o.dropped);
    }
}

/// Facts about one source spec as a whole (its records went to the sink).
#[derive(Debug)]
pub(crate) struct SourceMeta {
    /// Files (and zip entries) read.
    pub files: u64,
    /// sha256 over the sorted `relpath NUL sha256(content) LF` list.
    pub digest: String,
    /// Set when the source could not be read at all.
    pub error: Option<String>,
}

/// Options the adapters need.
#[derive(Debug, Clone)]
pub(crate) struct ReadOptions<'a> {
    pub limits: &'a Limits,
    pub include_unreviewed: bool,
}

fn wanted_ext(kind: SourceKind, path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match kind {
        SourceKind::Osv => matches!(ext.as_str(), "json" | "yaml" | "yml" | "zip"),
        SourceKind::Nvd => ext == "json" || nvd_feed::is_feed_file(path),
        SourceKind::Ghsa | SourceKind::Enisa => ext == "json",
        SourceKind::Cnnvd => matches!(ext.as_str(), "xml" | "json"),
        // FSTEC publishes the BDU export as `vulxml.zip`.
        SourceKind::Bdu => matches!(ext.as_str(), "xml" | "zip"),
        SourceKind::Cnvd | SourceKind::Jvn => ext == "xml",
    }
}

/// The directories to walk for a spec (GHSA: the advisory-database layout).
fn roots(spec: &SourceSpec, opts: &ReadOptions<'_>) -> Vec<PathBuf> {
    if spec.kind == SourceKind::Ghsa {
        let adv = if spec.path.join("advisories").is_dir() {
            Some(spec.path.join("advisories"))
        } else if spec.path.join("github-reviewed").is_dir() {
            Some(spec.path.clone())
        } else {
            None
        };
        if let Some(adv) = adv {
            let mut v = vec![adv.join("github-reviewed")];
            if opts.include_unreviewed && adv.join("unreviewed").is_dir() {
                v.push(adv.join("unreviewed"));
            }
            return v;
        }
    }
    vec![spec.path.clone()]
}

/// Why a directory entry that looks like input is not read. Links are never followed (a feed
/// checkout from elsewhere must not pull files from outside it into a kit), but saying so beats
/// leaving a mirrored-by-symlinks source mysteriously empty.
const SYMLINK_SKIPPED: &str =
    "a symbolic link: not followed (feed files must be regular files inside the source)";
const SPECIAL_SKIPPED: &str = "not a regular file (FIFO, socket or device): not read";

/// The input files of a source, and the entries passed over on the way.
struct Listing {
    /// Regular files to read, in a deterministic (sorted) order.
    files: Vec<PathBuf>,
    /// Links and special files that were not read, with why (reported as rejected).
    skipped: Vec<(PathBuf, &'static str)>,
}

/// List input files in a deterministic (sorted) order.
fn list_files(spec: &SourceSpec, opts: &ReadOptions<'_>) -> Result<Listing, String> {
    let meta = std::fs::metadata(&spec.path).map_err(|e| format!("cannot stat: {e}"))?;
    if meta.is_file() {
        return Ok(Listing {
            files: vec![spec.path.clone()],
            skipped: Vec::new(),
        });
    }
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for root in roots(spec, opts) {
        let walker = walkdir::WalkDir::new(&root)
            .follow_links(false)
            .max_depth(opts.limits.max_dir_depth)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.map_err(|e| format!("cannot walk: {e}"))?;
            let ft = entry.file_type();
            if entry.depth() > 0 && ft.is_symlink() {
                skipped.push((entry.into_path(), SYMLINK_SKIPPED));
            } else if !ft.is_dir() && wanted_ext(spec.kind, entry.path()) {
                if ft.is_file() {
                    out.push(entry.into_path());
                } else {
                    skipped.push((entry.into_path(), SPECIAL_SKIPPED));
                }
            }
            // Passed-over entries count too: each becomes a line of the report.
            if (out.len() + skipped.len()) as u64 > opts.limits.max_files_per_source {
                return Err(format!(
                    "more than {} files (limit max_files_per_source)",
                    opts.limits.max_files_per_source
                ));
            }
        }
    }
    Ok(Listing {
        files: out,
        skipped,
    })
}

/// Read a whole file, refusing anything above `max` bytes.
pub(crate) fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let f = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > max {
        return Err(format!(
            "file is {len} bytes, above limit max_file_bytes={max}"
        ));
    }
    let mut buf = Vec::with_capacity(len.min(max) as usize);
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read: {e}"))?;
    if buf.len() as u64 > max {
        return Err(format!("file grew above limit max_file_bytes={max}"));
    }
    Ok(buf)
}

fn display(spec: &SourceSpec, path: &Path) -> String {
    match path.strip_prefix(&spec.path) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            format!("{}/{}", spec.path.display(), rel.display())
        }
        _ => path.display().to_string(),
    }
}

/// Parse one in-memory document of the given kind.
pub(crate) fn parse_bytes(
    kind: SourceKind,
    file: &str,
    bytes: &[u8],
    opts: &ReadOptions<'_>,
) -> Parsed {
    let lower = file.to_ascii_lowercase();
    match kind {
        SourceKind::Osv | SourceKind::Ghsa => osv::parse_file(
            kind,
            file,
            bytes,
            lower.ends_with(".yaml") || lower.ends_with(".yml"),
            opts,
        ),
        SourceKind::Nvd => nvd::parse_file(file, bytes, opts),
        SourceKind::Cnnvd => cnnvd::parse_file(file, bytes, lower.ends_with(".json"), opts),
        SourceKind::Cnvd => cnvd::parse(file, bytes, opts),
        SourceKind::Enisa => enisa::parse_file(file, bytes, opts),
        SourceKind::Jvn => jvn::parse_file(file, bytes, opts),
        SourceKind::Bdu => bdu::parse(file, bytes, opts),
    }
}

/// A reader that hashes what passes through it: the source digest of a streamed file covers the
/// bytes as stored, read once.
pub(super) struct HashingReader<R> {
    pub inner: R,
    pub hash: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// (display name, sha256 of content) of each file read, for the source digest.
type FileHashes = Vec<(String, [u8; 32])>;

struct FileOut {
    hashes: FileHashes,
    parsed: Parsed,
}

impl FileOut {
    /// Nothing read yet.
    fn empty() -> FileOut {
        FileOut {
            hashes: Vec::new(),
            parsed: Parsed::default(),
        }
    }
}

/// Opens an input file for a streaming reader; the `Err` is the result that rejects it.
fn open_input(kind: SourceKind, name: &str, path: &Path) -> Result<File, FileOut> {
    File::open(path).map_err(|e| {
        let mut out = FileOut::empty();
        out.parsed
            .reject(kind, name, None, format!("cannot open: {e}"));
        out
    })
}

/// `Read` for a `BufRead` wrapper whose `fill_buf` enforces a limit: a copy of what `fill_buf`
/// gives, so every byte read passes that check.
fn read_through(r: &mut impl std::io::BufRead, buf: &mut [u8]) -> std::io::Result<usize> {
    let n = {
        let avail = r.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        n
    };
    r.consume(n);
    Ok(n)
}

fn process_file(spec: &SourceSpec, path: &Path, opts: &ReadOptions<'_>) -> FileOut {
    let name = display(spec, path);
    if spec.kind == SourceKind::Nvd && nvd_feed::is_feed_file(path) {
        return nvd_feed::read_feed_file(&name, path, opts);
    }
    if xml_file::is_streamed(spec.kind, path) {
        return xml_file::read_file(spec.kind, &name, path, opts);
    }
    let is_zip = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        return osv::read_zip(spec.kind, &name, path, opts);
    }
    let mut parsed = Parsed::default();
    match read_capped(path, opts.limits.max_file_bytes) {
        Ok(bytes) => {
            let hash: [u8; 32] = Sha256::digest(&bytes).into();
            parsed.extend(parse_bytes(spec.kind, &name, &bytes, opts));
            FileOut {
                hashes: vec![(name, hash)],
                parsed,
            }
        }
        Err(reason) => {
            parsed.reject(spec.kind, &name, None, reason);
            FileOut {
                hashes: Vec::new(),
                parsed,
            }
        }
    }
}

/// Input bytes parsed per batch. Files are parsed in parallel within a batch and
/// handed to the sink in file order, so memory is bounded by the batch, not the source.
const BATCH_BYTES: u64 = 64 << 20;
/// Most files per batch (small OSV files: keeps the per-batch index short).
const BATCH_FILES: usize = 4096;

/// Read one source spec in one pass: files in parallel on the current rayon
/// pool, in batches of about [`BATCH_BYTES`]. `per_file` runs on the worker
/// threads (e.g. to encode records for the spill file); `sink` receives its
/// results in the deterministic file order. Only a sink error stops the read.
pub(crate) fn read_source<T: Send>(
    spec: &SourceSpec,
    opts: &ReadOptions<'_>,
    per_file: &(dyn Fn(Parsed) -> T + Sync),
    sink: &mut dyn FnMut(T) -> Result<(), FeedError>,
) -> Result<SourceMeta, FeedError> {
    let Listing { files, skipped } = match list_files(spec, opts) {
        Ok(f) => f,
        Err(e) => {
            return Ok(SourceMeta {
                files: 0,
                digest: String::new(),
                error: Some(e),
            })
        }
    };
    if !skipped.is_empty() {
        let mut passed_over = Parsed::default();
        for (path, why) in &skipped {
            passed_over.reject(spec.kind, &display(spec, path), None, *why);
        }
        sink(per_file(passed_over))?;
    }
    let mut hashes = Vec::new();
    let mut start = 0;
    while start < files.len() {
        let mut end = start;
        let mut bytes = 0u64;
        while end < files.len()
            && (end == start || (bytes < BATCH_BYTES && end - start < BATCH_FILES))
        {
            bytes += std::fs::metadata(&files[end]).map(|m| m.len()).unwrap_or(0);
            end += 1;
        }
        let outs: Vec<(FileHashes, T)> = files[start..end]
            .par_iter()
            .map(|p| {
                let o = process_file(spec, p, opts);
                (o.hashes, per_file(o.parsed))
            })
            .collect();
        for (h, t) in outs {
            hashes.extend(h);
            sink(t)?;
        }
        start = end;
    }
    hashes.sort();
    let mut h = Sha256::new();
    for (name, d) in &hashes {
        // Names relative to the source root so the digest does not depend on where it lies.
        let rel = name
            .strip_prefix(&spec.path.display().to_string())
            .unwrap_or(name);
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(hex::encode(d).as_bytes());
        h.update(b"\n");
    }
    Ok(SourceMeta {
        files: hashes.len() as u64,
        digest: format!("sha256:{}", hex::encode(h.finalize())),
        error: None,
    })
}

/// The error a source gets when it yields more than `max_records_per_source`
/// records (all its records are then discarded).
pub(crate) fn too_many_records(limits: &Limits) -> String {
    format!(
        "more than {} records (limit max_records_per_source)",
        limits.max_records_per_source
    )
}

/// Helpers shared by the regional (enrichment) adapters.
pub(crate) mod regional {
    use crate::ids::{cve_only, normalize_id};
    use crate::model::{Reference, SourceRecord};
    use crate::timestamp::{self, TsParse};

    /// Add `raw` as a CVE alias, or remember it as ignored when it is not a CVE id
    /// (CNVD puts bare BID numbers in `cveNumber`).
    pub fn add_cve(rec: &mut SourceRecord, raw: &str, max_id: usize) {
        let t = raw.trim();
        if t.is_empty() {
            return;
        }
        match cve_only(t, max_id) {
            Some(c) => {
                if !rec.aliases.contains(&c) {
                    rec.aliases.push(c);
                }
            }
            None => rec.ignored_aliases.push(t.chars().take(max_id).collect()),
        }
    }

    /// Add any well-formed identifier as an alias (EUVD lists GHSA/PYSEC ids too).
    pub fn add_id(rec: &mut SourceRecord, raw: &str, max_id: usize) {
        let t = raw.trim();
        if t.is_empty() {
            return;
        }
        match normalize_id(t, max_id) {
            Some(c) if c != rec.id => {
                if !rec.aliases.contains(&c) {
                    rec.aliases.push(c);
                }
            }
            Some(_) => {}
            None => rec.ignored_aliases.push(t.chars().take(max_id).collect()),
        }
    }

    /// Set a date field from text; placeholders are flagged, junk ignored.
    pub fn date(rec: &mut SourceRecord, raw: Option<&str>) -> Option<timestamp::Ts> {
        match raw.map(timestamp::parse) {
            Some(Some(TsParse::Real(t))) => Some(t),
            Some(Some(TsParse::Placeholder)) => {
                rec.placeholder_dates = true;
                None
            }
            _ => None,
        }
    }

    /// Add a reference URL (type WEB) if it looks like an http(s) URL.
    pub fn add_url(rec: &mut SourceRecord, raw: &str) {
        let u = raw.trim();
        if (u.starts_with("http://") || u.starts_with("https://"))
            && !u.contains(char::is_whitespace)
            && rec.references.len() < 256
        {
            rec.references.push(Reference {
                kind: "WEB".into(),
                url: u.to_string(),
            });
        }
    }

    /// CVSS qualitative rating for a base score.
    pub fn rating_for_score(score: f64) -> Option<&'static str> {
        if !(0.0..=10.0).contains(&score) {
            return None;
        }
        Some(if score >= 9.0 {
            "CRITICAL"
        } else if score >= 7.0 {
            "HIGH"
        } else if score >= 4.0 {
            "MEDIUM"
        } else if score > 0.0 {
            "LOW"
        } else {
            "NONE"
        })
    }

    /// Finish a regional record: sort and dedup alias lists.
    pub fn finish(rec: &mut SourceRecord) {
        rec.aliases.sort();
        rec.aliases.dedup();
        rec.cwe_ids.sort();
        rec.cwe_ids.dedup();
    }
}
