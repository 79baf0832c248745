//! Checks that a file is a Bolt database Trivy (Go bbolt) can open, before and while opening
//! it with bbolt-rs.
//!
//! The meta pages are checked by hand first (magic, version, page size, FNV-1a checksum): a few
//! dozen bytes, and it means a non-Bolt file is refused with a precise reason instead of
//! reaching a library whose behaviour on arbitrary bytes is not documented. The read itself then
//! runs under `catch_unwind`, so a corrupt page deep in the file becomes an error, not a crash.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use bbolt_rs::{BoltOptions, DbApi, TxApi, TxCheck};

use crate::TrivyError;

/// Go bbolt's magic number (bbolt-rs writes it only with the `compat` feature).
const MAGIC: u32 = 0xED0C_DAED;
/// Bolt file format version.
const VERSION: u32 = 2;
const PAGE_HEADER: usize = 16;
const META_FLAG: u16 = 0x04;
/// Bytes of the meta struct covered by the checksum (everything before `checksum`).
const META_SUMMED: usize = 56;
/// Most root bucket names collected for [`BoltInfo`].
const MAX_LISTED_BUCKETS: usize = 10_000;

/// What a successful check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BoltInfo {
    pub page_size: u32,
    pub root_buckets: Vec<String>,
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    // FNV-1a, as Go's hash/fnv New64a; too small to pull in a crate for.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

/// Reads the meta page at `offset`; `Ok(Some(page_size))` when it is valid.
fn meta_at(f: &mut File, offset: u64) -> std::io::Result<Result<u32, &'static str>> {
    let mut buf = [0u8; PAGE_HEADER + 64];
    f.seek(SeekFrom::Start(offset))?;
    if let Err(e) = f.read_exact(&mut buf) {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            return Ok(Err("file too short for a meta page"));
        }
        return Err(e);
    }
    let flags = u16::from_le_bytes([buf[8], buf[9]]);
    let meta = &buf[PAGE_HEADER..];
    if flags & META_FLAG == 0 {
        return Ok(Err("meta page flag missing"));
    }
    if u32_at(meta, 0) != MAGIC {
        return Ok(Err("bad magic (not a Go-compatible Bolt file)"));
    }
    if u32_at(meta, 4) != VERSION {
        return Ok(Err("unsupported Bolt file version"));
    }
    let page_size = u32_at(meta, 8);
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Ok(Err("implausible page size"));
    }
    if fnv1a64(&meta[..META_SUMMED]) != u64_at(meta, META_SUMMED) {
        return Ok(Err("meta page checksum mismatch"));
    }
    Ok(Ok(page_size))
}

/// Zeroes the unused tail of both meta pages (bytes 80..page_size of pages 0 and 1).
///
/// Why: bbolt-rs 1.3.10 writes each meta page from an uninitialised bump-allocator buffer
/// (`TxCell::write_meta`), so the rest of the page carries whatever the process heap held
/// before — leftovers of our own keys and values, or anything else the process had freed. That
/// makes the file non-deterministic and could leak process memory into a shipped artefact. Go
/// bbolt never reads those bytes (the checksum covers only the 64-byte meta struct), so zeroing
/// them changes nothing for readers. Data, branch and freelist pages come from zeroed buffers.
pub(crate) fn scrub_meta_slack(path: &Path, page_size: usize) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let zeros = vec![0u8; page_size - (PAGE_HEADER + 64)];
    for page in 0..2u64 {
        f.seek(SeekFrom::Start(
            page * page_size as u64 + (PAGE_HEADER + 64) as u64,
        ))?;
        f.write_all(&zeros)?;
    }
    f.sync_all()
}

/// Checks both meta pages (at least one must be valid, as bbolt requires) and then opens the
/// file read-only with bbolt-rs, lists the root buckets and runs bbolt's consistency check.
pub(crate) fn check_bolt(path: &Path, full_check: bool) -> Result<BoltInfo, TrivyError> {
    let not_bolt = |reason| TrivyError::NotBolt {
        path: path.to_path_buf(),
        reason,
    };
    let mut f = File::open(path).map_err(|e| TrivyError::io(path, e))?;
    let m0 = meta_at(&mut f, 0).map_err(|e| TrivyError::io(path, e))?;
    let page_size = match m0 {
        Ok(ps) => ps,
        Err(reason) => return Err(not_bolt(reason)),
    };
    // Meta page 1 sits one page in; a torn meta 1 is tolerated as bbolt does, but it must at
    // least be there.
    if let Err(reason) =
        meta_at(&mut f, u64::from(page_size)).map_err(|e| TrivyError::io(path, e))?
    {
        if reason == "file too short for a meta page" {
            return Err(not_bolt(reason));
        }
    }
    drop(f);

    let run = || -> Result<Vec<String>, TrivyError> {
        let db = BoltOptions::builder()
            .build()
            .open_ro(path)
            .map_err(|e| TrivyError::bolt(path, e))?;
        let tx = db.begin().map_err(|e| TrivyError::bolt(path, e))?;
        let mut names = Vec::new();
        for (name, _bucket) in tx.iter_buckets() {
            if names.len() < MAX_LISTED_BUCKETS {
                names.push(String::from_utf8_lossy(name).chars().take(200).collect());
            }
        }
        if full_check {
            let problems = tx.check();
            if !problems.is_empty() {
                return Err(TrivyError::Bolt {
                    path: path.to_path_buf(),
                    message: format!(
                        "consistency check found {} problem(s), first: {}",
                        problems.len(),
                        problems[0].chars().take(200).collect::<String>()
                    ),
                });
            }
        }
        Ok(names)
    };
    let root_buckets = catch_unwind(AssertUnwindSafe(run))
        .map_err(|_| not_bolt("bbolt panicked while reading the file (corrupt pages)"))??;
    Ok(BoltInfo {
        page_size,
        root_buckets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference() {
        // Reference values of FNV-1a 64 (as Go's hash/fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn refuses_non_bolt_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.db");
        std::fs::write(
            &p,
            b"SQLite format 3\0 and then some more bytes to be long enough",
        )
        .unwrap();
        assert!(matches!(
            check_bolt(&p, true),
            Err(TrivyError::NotBolt { .. })
        ));
        std::fs::write(&p, b"").unwrap();
        assert!(matches!(
            check_bolt(&p, true),
            Err(TrivyError::NotBolt { .. })
        ));
    }
}
