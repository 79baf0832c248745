//! A bounds-checked validator for Bolt files (Go bbolt's on-disk format), run on every Trivy DB
//! before it is installed or packed.
//!
//! Why hand-written: no maintained Rust crate reads Bolt files with bounds checks. bbolt-rs maps
//! the file and indexes the mapping without checking page ids, element offsets or sizes against
//! it, so a signed-but-hostile DB with a root page id of 2^28 or a key size of 0x7fffffff kills
//! the process with SIGSEGV (which `catch_unwind` cannot catch), and a branch page that names
//! itself makes it allocate without bound. The format itself is small and documented by Go
//! bbolt's source (`internal/common/{page,meta,bucket}.go`, `db.go`), so this module re-states
//! it in safe Rust over the file read with bounded buffers: no mmap, no bbolt-rs.
//!
//! It is a validator, not a database: it answers "would Go bbolt (and so Trivy) read this file
//! without going out of bounds, looping or finding an inconsistent tree, and are the buckets
//! Trivy needs there?" and returns a short summary. It never returns values to callers and never
//! writes. Checked: both meta pages (magic, version, checksum, page size; the valid one with the
//! higher txid wins, as in Go), every page id below the high-water mark and inside the file,
//! overflow runs inside both, every element's key and value inside its page, keys strictly
//! increasing per page, page flags matching their use, no page reached twice, bounded tree and
//! bucket depth, bounded element count and page size, every bucket walked (inline ones too), and
//! the freelist page (ids in range, sorted, none of them in use).

pub(crate) mod layout;
mod meta;
mod pages;
pub(crate) mod problem;
#[cfg(test)]
pub(crate) mod testdb;
mod walk;

use std::fs::File;
use std::io;
use std::path::Path;

use crate::{DbLimits, TrivyError};
use layout::{FREELIST_COUNT_OVERFLOW, FREELIST_FLAG, NO_FREELIST, PAGE_HEADER};
use pages::Pages;
use problem::{BoltProblem, BucketName, PageKind, PageRef};

/// What a successful validation found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoltSummary {
    /// The page size of the file.
    pub page_size: u32,
    /// The transaction id of the meta page in use.
    pub txid: u64,
    /// Pages reached from the meta (tree, overflow and freelist pages).
    pub pages: u64,
    /// Elements checked (branch and leaf, inline buckets included).
    pub elements: u64,
    /// Branch pages in the tree.
    pub branch_pages: u64,
    /// Overflow pages of tree pages.
    pub overflow_pages: u64,
    /// Root bucket names (the first 10 000, each cut to 200 characters).
    pub root_buckets: Vec<String>,
}

/// An internal failure: I/O on our side, or a defect found in the file (with the bucket being
/// walked, when known).
pub(crate) enum Fail {
    Io(io::Error),
    Bad(Option<BucketName>, BoltProblem),
}

impl From<BoltProblem> for Fail {
    fn from(p: BoltProblem) -> Self {
        Fail::Bad(None, p)
    }
}

impl Fail {
    /// Attributes a defect to `bucket` unless an inner bucket already claimed it.
    fn in_bucket(self, bucket: &BucketName) -> Fail {
        match self {
            Fail::Bad(None, p) => Fail::Bad(Some(bucket.clone()), p),
            other => other,
        }
    }

    fn into_error(self, path: &Path) -> TrivyError {
        match self {
            Fail::Io(source) => TrivyError::io(path, source),
            Fail::Bad(bucket, problem) => TrivyError::InvalidBolt {
                path: path.to_path_buf(),
                bucket: bucket.unwrap_or_default(),
                problem,
            },
        }
    }
}

/// Validates the Bolt file at `path` and requires the root buckets in `required` (Trivy needs
/// [`crate::VULNERABILITY_BUCKET`] and [`crate::DATA_SOURCE_BUCKET`]; see
/// [`crate::REQUIRED_BUCKETS`]).
///
/// Memory is bounded by `limits.max_page_span_bytes` (one page with its overflow is held at a
/// time), plus one bit and at most one pending reference per page of the file.
pub fn validate_bolt(
    path: &Path,
    required: &[&'static str],
    limits: &DbLimits,
) -> Result<BoltSummary, TrivyError> {
    let mut file = File::open(path).map_err(|e| TrivyError::io(path, e))?;
    validate_open(&mut file, required, limits).map_err(|f| f.into_error(path))
}

fn validate_open(
    file: &mut File,
    required: &[&'static str],
    limits: &DbLimits,
) -> Result<BoltSummary, Fail> {
    let file_len = file.metadata().map_err(Fail::Io)?.len();
    if file_len > limits.max_db_bytes {
        return Err(BoltProblem::FileTooLarge { len: file_len }.into());
    }
    let meta = meta::choose(file).map_err(Fail::Io)??;
    let mut pages = Pages::new(
        file,
        file_len,
        meta.page_size,
        meta.hwm,
        limits.max_page_span_bytes,
    );
    // The freelist page first, so a tree that points into it is refused as a shared page.
    let free = if meta.freelist == NO_FREELIST {
        None
    } else {
        Some(read_freelist(&mut pages, meta.freelist, meta.hwm)?)
    };
    let mut walk = walk::Walk::new(&mut pages, limits, required);
    walk.run(meta.root)?;
    let (elements, branch_pages, overflow_pages) =
        (walk.elements, walk.branch_pages, walk.overflow_pages);
    let (root_buckets, wanted) = (walk.root_buckets, walk.wanted);
    if let Some((_, name)) = wanted.iter().map(|(n, seen)| (*seen, *n)).find(|(s, _)| !s) {
        return Err(BoltProblem::MissingBucket { name }.into());
    }
    for id in free
        .unwrap_or_default()
        .chunks_exact(8)
        .filter_map(|c| layout::u64_at(c, 0))
    {
        if pages.is_reached(id) {
            return Err(BoltProblem::FreePageInUse { id }.into());
        }
    }
    Ok(BoltSummary {
        page_size: meta.page_size,
        txid: meta.txid,
        pages: pages.reached_count(),
        elements,
        branch_pages,
        overflow_pages,
        root_buckets,
    })
}

/// Reads and checks the freelist page; returns the free page ids as the page's raw id array
/// (8 bytes each; kept raw so no second buffer of the same size is allocated).
fn read_freelist(pages: &mut Pages<'_>, pgid: u64, hwm: u64) -> Result<Vec<u8>, Fail> {
    let bad = |p| Fail::Bad(Some(BucketName::default()), p);
    let (header, mut buf) = pages
        .read(pgid)
        .map_err(|f| f.in_bucket(&BucketName::default()))?;
    if header.flags != FREELIST_FLAG {
        return Err(bad(BoltProblem::UnexpectedPageType {
            at: PageRef::Page(pgid),
            flags: header.flags,
            expected: PageKind::Freelist,
        }));
    }
    // A count of 0xFFFF means the real count is the first u64 (Go's FreelistPageCount).
    let (first, count) = if header.count == FREELIST_COUNT_OVERFLOW {
        (
            1usize,
            layout::u64_at(&buf, PAGE_HEADER).unwrap_or(u64::MAX),
        )
    } else {
        (0, u64::from(header.count))
    };
    let fits = usize::try_from(count)
        .ok()
        .and_then(|c| c.checked_add(first))
        .and_then(|n| n.checked_mul(8))
        .and_then(|n| n.checked_add(PAGE_HEADER))
        .filter(|end| *end <= buf.len());
    let Some(end) = fits else {
        return Err(bad(BoltProblem::FreelistOverflowsPage { pgid, count }));
    };
    let start = PAGE_HEADER + first * 8;
    let mut previous = None;
    for chunk in buf.get(start..end).unwrap_or_default().chunks_exact(8) {
        let id = layout::u64_at(chunk, 0).unwrap_or(0);
        if id < 2 || id >= hwm {
            return Err(bad(BoltProblem::FreePageOutOfRange { id, hwm }));
        }
        if previous.is_some_and(|p| p >= id) {
            return Err(bad(BoltProblem::FreelistNotSorted { id }));
        }
        previous = Some(id);
    }
    buf.truncate(end);
    buf.drain(..start);
    Ok(buf)
}

#[cfg(test)]
mod tests;
