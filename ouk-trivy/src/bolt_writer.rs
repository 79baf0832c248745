//! A streaming Bolt file writer (Go bbolt's on-disk format, as Trivy reads it) for keys that
//! arrive in order: pages are written as they fill, so memory holds one page per open tree
//! level, not the database.
//!
//! Why hand-written: bbolt-rs (the only Rust Bolt implementation) holds every dirty page of a
//! write transaction in memory until it commits, and its free-page list is a `HashMap`, so
//! splitting the work into several transactions would place pages in hash order and break the
//! byte-identical output builders and importers must agree on. A bulk loader of sorted input is
//! small: leaf and branch pages, inline buckets, an empty freelist and two meta pages — the same
//! layout `bolt::layout` validates (`internal/common/{page,meta,bucket}.go` in Go bbolt). Every
//! file written is checked by that validator before it is used, and real Trivy reads it in CI.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use crate::bolt::layout::{
    fnv1a64, BRANCH_ELEMENT, BRANCH_FLAG, BUCKET_HEADER, BUCKET_LEAF_FLAG, FREELIST_FLAG,
    LEAF_ELEMENT, LEAF_FLAG, MAGIC, META_FLAG, META_SUMMED, PAGE_HEADER, VERSION,
};

/// A Bolt file being written front to back. Pages 0 and 1 (meta) and 2 (freelist) are written
/// last, by [`BoltWriter::finish`].
pub(crate) struct BoltWriter {
    out: BufWriter<File>,
    page_size: usize,
    next: u64,
}

impl BoltWriter {
    /// Creates `path` (which must not exist).
    pub(crate) fn create(path: &Path, page_size: usize) -> io::Result<BoltWriter> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&vec![0u8; 3 * page_size])?;
        Ok(BoltWriter {
            out,
            page_size,
            next: 3,
        })
    }

    /// Writes one page (header and body; the header's id and overflow are filled in here),
    /// padded with zeros to whole pages; returns its page id.
    fn write_page(&mut self, mut page: Vec<u8>) -> io::Result<u64> {
        let id = self.next;
        let pages = page.len().div_ceil(self.page_size).max(1);
        page.resize(pages * self.page_size, 0);
        page[0..8].copy_from_slice(&id.to_le_bytes());
        let overflow =
            u32::try_from(pages - 1).map_err(|_| io::Error::other("page run too long"))?;
        page[12..16].copy_from_slice(&overflow.to_le_bytes());
        self.out.write_all(&page)?;
        self.next += pages as u64;
        Ok(id)
    }

    /// Writes the freelist (empty: nothing was ever freed) and both meta pages, with `root` the
    /// root bucket's value as [`TreeBuilder::finish`] returned it (it must not be inline).
    pub(crate) fn finish(self, root: &[u8]) -> io::Result<File> {
        let root_page = u64::from_le_bytes(root[0..8].try_into().expect("8 bytes"));
        if root_page == 0 {
            return Err(io::Error::other("the root bucket cannot be inline"));
        }
        let hwm = self.next;
        let ps = self.page_size;
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        let mut freelist = header(2, FREELIST_FLAG, 0);
        freelist.resize(ps, 0);
        file.seek(SeekFrom::Start(2 * ps as u64))?;
        file.write_all(&freelist)?;
        for (page, txid) in [(0u64, 0u64), (1, 1)] {
            let mut meta = Vec::with_capacity(64);
            meta.extend_from_slice(&MAGIC.to_le_bytes());
            meta.extend_from_slice(&VERSION.to_le_bytes());
            meta.extend_from_slice(&(ps as u32).to_le_bytes());
            meta.extend_from_slice(&0u32.to_le_bytes()); // flags
            meta.extend_from_slice(&root[0..16]); // root bucket: root page, sequence
            meta.extend_from_slice(&2u64.to_le_bytes()); // freelist page
            meta.extend_from_slice(&hwm.to_le_bytes()); // high-water mark
            meta.extend_from_slice(&txid.to_le_bytes());
            let sum = fnv1a64(&meta[..META_SUMMED]);
            meta.extend_from_slice(&sum.to_le_bytes());
            let mut bytes = header(page, META_FLAG, 0);
            bytes.extend_from_slice(&meta);
            bytes.resize(ps, 0);
            file.seek(SeekFrom::Start(page * ps as u64))?;
            file.write_all(&bytes)?;
        }
        file.sync_all()?;
        Ok(file)
    }
}

fn header(id: u64, flags: u16, count: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(PAGE_HEADER);
    b.extend_from_slice(&id.to_le_bytes());
    b.extend_from_slice(&flags.to_le_bytes());
    b.extend_from_slice(&count.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b
}

/// One leaf element: flags (bucket or not), key, value.
type LeafElement = (u32, Vec<u8>, Vec<u8>);

fn encode_leaf(id: u64, elems: &[LeafElement]) -> Vec<u8> {
    let count = u16::try_from(elems.len()).expect("leaves hold at most 65535 elements");
    let mut b = header(id, LEAF_FLAG, count);
    let data_start = PAGE_HEADER + elems.len() * LEAF_ELEMENT;
    let mut data = Vec::new();
    for (i, (flags, k, v)) in elems.iter().enumerate() {
        let elem = PAGE_HEADER + i * LEAF_ELEMENT;
        let pos = (data_start + data.len() - elem) as u32;
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&pos.to_le_bytes());
        b.extend_from_slice(&(k.len() as u32).to_le_bytes());
        b.extend_from_slice(&(v.len() as u32).to_le_bytes());
        data.extend_from_slice(k);
        data.extend_from_slice(v);
    }
    b.extend_from_slice(&data);
    b
}

fn encode_branch(elems: &[(Vec<u8>, u64)]) -> Vec<u8> {
    let count = u16::try_from(elems.len()).expect("branches hold at most 65535 elements");
    let mut b = header(0, BRANCH_FLAG, count);
    let data_start = PAGE_HEADER + elems.len() * BRANCH_ELEMENT;
    let mut data = Vec::new();
    for (i, (k, child)) in elems.iter().enumerate() {
        let elem = PAGE_HEADER + i * BRANCH_ELEMENT;
        let pos = (data_start + data.len() - elem) as u32;
        b.extend_from_slice(&pos.to_le_bytes());
        b.extend_from_slice(&(k.len() as u32).to_le_bytes());
        b.extend_from_slice(&child.to_le_bytes());
        data.extend_from_slice(k);
    }
    b.extend_from_slice(&data);
    b
}

/// Builds one bucket's B+tree from elements pushed in strictly increasing key order. Holds the
/// current leaf and, per level above, the first key and page of each page written — a few bytes
/// per 4 KiB page of the bucket.
pub(crate) struct TreeBuilder {
    page_size: usize,
    leaf: Vec<LeafElement>,
    leaf_bytes: usize,
    has_buckets: bool,
    /// First key and page id of every leaf written so far.
    leaves: Vec<(Vec<u8>, u64)>,
}

impl TreeBuilder {
    pub(crate) fn new(page_size: usize) -> TreeBuilder {
        TreeBuilder {
            page_size,
            leaf: Vec::new(),
            leaf_bytes: PAGE_HEADER,
            has_buckets: false,
            leaves: Vec::new(),
        }
    }

    /// Adds a key/value (`bucket`: the value is a bucket value from another builder's
    /// [`TreeBuilder::finish`]). Keys must increase strictly; the caller guarantees it.
    pub(crate) fn push(
        &mut self,
        w: &mut BoltWriter,
        key: Vec<u8>,
        value: Vec<u8>,
        bucket: bool,
    ) -> io::Result<()> {
        debug_assert!(self.leaf.last().is_none_or(|(_, k, _)| *k < key));
        let size = LEAF_ELEMENT + key.len() + value.len();
        // A page is full at its size (a single large element gets overflow pages of its own), or
        // at 65535 elements (the header's count).
        if !self.leaf.is_empty()
            && (self.leaf_bytes + size > self.page_size || self.leaf.len() == usize::from(u16::MAX))
        {
            self.flush(w)?;
        }
        self.has_buckets |= bucket;
        self.leaf_bytes += size;
        self.leaf
            .push((if bucket { BUCKET_LEAF_FLAG } else { 0 }, key, value));
        Ok(())
    }

    fn flush(&mut self, w: &mut BoltWriter) -> io::Result<()> {
        let first = self.leaf[0].1.clone();
        let id = w.write_page(encode_leaf(0, &self.leaf))?;
        self.leaves.push((first, id));
        self.leaf.clear();
        self.leaf_bytes = PAGE_HEADER;
        Ok(())
    }

    /// Ends the bucket and returns its value for the parent: inline (`root` 0 followed by the
    /// leaf) when it has no sub-buckets and fits in a quarter page, as bbolt stores small buckets;
    /// otherwise the root page of its tree, branch levels written as needed.
    pub(crate) fn finish(self, w: &mut BoltWriter) -> io::Result<Vec<u8>> {
        self.finish_inner(w, true)
    }

    /// [`TreeBuilder::finish`] for the root bucket, which is never inline (the meta page names
    /// its root page).
    pub(crate) fn finish_root(self, w: &mut BoltWriter) -> io::Result<Vec<u8>> {
        self.finish_inner(w, false)
    }

    fn finish_inner(mut self, w: &mut BoltWriter, may_inline: bool) -> io::Result<Vec<u8>> {
        let mut value = Vec::with_capacity(BUCKET_HEADER);
        if may_inline
            && self.leaves.is_empty()
            && !self.has_buckets
            && self.leaf_bytes <= self.page_size / 4
        {
            value.extend_from_slice(&0u64.to_le_bytes());
            value.extend_from_slice(&0u64.to_le_bytes());
            value.extend_from_slice(&encode_leaf(0, &self.leaf));
            return Ok(value);
        }
        if !self.leaf.is_empty() || self.leaves.is_empty() {
            self.flush(w)?;
        }
        let mut level = std::mem::take(&mut self.leaves);
        while level.len() > 1 {
            let mut next = Vec::new();
            let mut page: Vec<(Vec<u8>, u64)> = Vec::new();
            let mut bytes = PAGE_HEADER;
            for (k, id) in level {
                let size = BRANCH_ELEMENT + k.len();
                if !page.is_empty()
                    && (bytes + size > self.page_size || page.len() == usize::from(u16::MAX))
                {
                    let first = page[0].0.clone();
                    next.push((first, w.write_page(encode_branch(&page))?));
                    page.clear();
                    bytes = PAGE_HEADER;
                }
                bytes += size;
                page.push((k, id));
            }
            let first = page[0].0.clone();
            next.push((first, w.write_page(encode_branch(&page))?));
            level = next;
        }
        value.extend_from_slice(&level[0].1.to_le_bytes());
        value.extend_from_slice(&0u64.to_le_bytes());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DbLimits;

    /// A DB of `buckets` root buckets × `pkgs` package buckets × `ids` values (some large), the
    /// shape of a Trivy DB; read back with bbolt-rs and checked by our validator.
    fn build(path: &Path, buckets: usize, pkgs: usize, ids: usize) {
        let mut w = BoltWriter::create(path, 4096).unwrap();
        let mut root = TreeBuilder::new(4096);
        for b in 0..buckets {
            let mut bucket = TreeBuilder::new(4096);
            for p in 0..pkgs {
                let mut pkg = TreeBuilder::new(4096);
                for i in 0..ids {
                    let v = if i % 7 == 3 {
                        vec![b'v'; 9000]
                    } else {
                        format!("{b}/{p}/{i}").into_bytes()
                    };
                    pkg.push(&mut w, format!("CVE-{i:06}").into_bytes(), v, false)
                        .unwrap();
                }
                let value = pkg.finish(&mut w).unwrap();
                bucket
                    .push(&mut w, format!("pkg-{p:06}").into_bytes(), value, true)
                    .unwrap();
            }
            let value = bucket.finish(&mut w).unwrap();
            root.push(&mut w, format!("bucket-{b:03}").into_bytes(), value, true)
                .unwrap();
        }
        let empty = TreeBuilder::new(4096).finish(&mut w).unwrap();
        root.push(&mut w, b"zz-empty".to_vec(), empty, true)
            .unwrap();
        let value = root.finish_root(&mut w).unwrap();
        w.finish(&value).unwrap();
    }

    #[test]
    fn what_it_writes_is_valid_and_reads_back() {
        use bbolt_rs::{BucketApi, DbApi, TxApi};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        build(&path, 3, 400, 9);
        let summary =
            crate::validate_bolt(&path, &["bucket-000", "zz-empty"], &DbLimits::default()).unwrap();
        assert!(
            summary.branch_pages > 0 && summary.overflow_pages > 0,
            "{summary:?}"
        );
        let db = bbolt_rs::Bolt::open_ro(&path).unwrap();
        db.view(|tx| {
            let b = tx.bucket(b"bucket-002").unwrap();
            let p = b.bucket(b"pkg-000399").unwrap();
            assert_eq!(p.get(b"CVE-000008").unwrap(), b"2/399/8");
            assert_eq!(p.get(b"CVE-000003").unwrap().len(), 9000);
            assert!(p.get(b"CVE-000009").is_none());
            assert!(tx.bucket(b"zz-empty").unwrap().get(b"x").is_none());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        build(&a, 2, 50, 5);
        build(&b, 2, 50, 5);
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
}
