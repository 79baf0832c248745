//! Split kits: the signed part index (`KIT.parts.json`) and a [`Read`] adaptor over its parts.
//!
//! The index is read size-capped and authenticated against the `kit` role BEFORE any part is
//! opened. [`PartsReader`] then yields the parts' bytes in index order into the ordinary staged
//! reader ([`crate::kit::open`] / [`crate::kit::stream`]): there is no second verification path.
//! Each part is opened without following links (as on a scanned stick), its size checked with
//! `fstat` when opened and its sha256 when its last byte has passed, so a missing, truncated,
//! corrupt, reordered or foreign part is named precisely.
//!
//! Resume: with an `incoming` directory (`<store>/incoming/<kit sha256>`), a part read from the
//! medium is copied there as it passes (`NNN.partial`, fsync, rename to `NNN` once its digest
//! matched). A later run re-hashes the local copies and reads only the parts still missing from
//! the medium.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use ouk_format::digest::{Hasher, Sha256};
use ouk_format::error::Name;
use ouk_format::parts::{verify_index, PartsIndex, MAX_INDEX_BYTES};
use ouk_format::trust_root::TrustRoot;
use ouk_format::verified::Verified;
use ouk_format::Limits;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsx;
use crate::kit::{open_file, Links};

/// Whether `path` names a part index (`*.parts.json`).
pub fn is_index_path(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".parts.json") && n.len() > ".parts.json".len())
}

/// Read the index file (at most [`MAX_INDEX_BYTES`]) and authenticate it against the `kit` role
/// of `trust`. Nothing else is opened.
pub fn read_index(
    path: &Path,
    links: Links,
    trust: &Verified<TrustRoot>,
    limits: &Limits,
) -> Result<(Verified<PartsIndex>, crate::kit::FileId)> {
    let (bytes, id) = read_index_bytes(path, links)?;
    let index = verify_index(&bytes, trust, limits).map_err(|source| Error::PartsIndex {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((index, id))
}

/// The index file's bytes, at most [`MAX_INDEX_BYTES`] (one more, so a larger file is refused
/// by the verifier), from a regular file opened per `links`.
pub fn read_index_bytes(path: &Path, links: Links) -> Result<(Vec<u8>, crate::kit::FileId)> {
    let (file, id) = open_file(path, links)?;
    let mut bytes = Vec::new();
    file.take(MAX_INDEX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("reading the part index", path, e))?;
    Ok((bytes, id))
}

/// Which parts came from where, for the import report.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PartsReport {
    /// The index file.
    pub index: String,
    /// Parts in the index.
    pub parts: usize,
    /// Parts read from the medium (and, on import, copied to `incoming/`).
    pub read_from_medium: Vec<String>,
    /// Parts whose verified local copy in `incoming/` was used instead of the medium.
    pub reused: Vec<String>,
}

#[derive(Debug, Default)]
struct Log {
    /// Part being read (index into the part list).
    current: usize,
    /// Parts completely read and verified.
    done: usize,
    /// The file each started part was read from.
    sources: Vec<PathBuf>,
    /// The first part-level failure (the staged reader only sees an I/O error).
    error: Option<Error>,
    report: PartsReport,
}

/// The caller's view of a [`PartsReader`] that moved into the staged reader (its thread).
#[derive(Debug, Clone)]
pub struct PartsHandle {
    /// Authenticated, except inside [`PartsReader::provisional`]'s short life.
    index: Arc<PartsIndex>,
    index_path: PathBuf,
    dir: PathBuf,
    incoming: Option<PathBuf>,
    log: Arc<Mutex<Log>>,
}

fn lock(log: &Mutex<Log>) -> MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(|p| p.into_inner())
}

impl PartsHandle {
    /// The authenticated index.
    pub fn index(&self) -> &PartsIndex {
        &self.index
    }

    /// The index file.
    pub fn index_path(&self) -> &Path {
        &self.index_path
    }

    /// The local copies' directory, when the parts are copied.
    pub fn incoming(&self) -> Option<&Path> {
        self.incoming.as_deref()
    }

    /// Which parts came from where so far.
    pub fn report(&self) -> PartsReport {
        lock(&self.log).report.clone()
    }

    /// The precise error behind a failure of the staged reader: the part-level failure the
    /// reader recorded, else (the reader saw bad bytes before the part ended) the first part
    /// still in flight whose file no longer matches the index (re-hashed now), else `err`.
    pub fn explain(&self, err: Error) -> Error {
        let (recorded, done, current, sources) = {
            let mut log = lock(&self.log);
            (log.error.take(), log.done, log.current, log.sources.clone())
        };
        if let Some(e) = recorded {
            return e;
        }
        let parts = &self.index.parts;
        let end = current.min(parts.len().saturating_sub(1));
        for (part, path) in parts.iter().zip(&sources).take(end + 1).skip(done) {
            let Ok((file, _)) = open_file(path, Links::Refuse) else {
                continue;
            };
            match Sha256::of_reader(io::BufReader::new(file)) {
                Ok((_, size)) if size != part.size => {
                    return Error::PartSize {
                        name: Name::new(&part.name),
                        path: path.clone(),
                        expected: part.size,
                        found: size,
                    }
                }
                Ok((digest, _)) if digest != part.sha256 => {
                    return Error::PartDigest {
                        name: Name::new(&part.name),
                        path: path.clone(),
                    }
                }
                _ => {}
            }
        }
        err
    }

    /// After the staged reader's last byte: the whole kit must be the one the index names.
    pub fn check_whole(&self, kit_sha256: Sha256, kit_size: u64) -> Result<()> {
        if kit_size != self.index.kit_size || kit_sha256 != self.index.kit_sha256 {
            return Err(Error::PartsMismatch {
                path: self.index_path.clone(),
                reason: "the parts do not make up the kit the index names (kit_sha256/kit_size)",
            });
        }
        Ok(())
    }

    /// After the envelope authenticated: the index must be for this kit.
    pub fn check_manifest(&self, kit_id: &str, channel: &str, sequence: u64) -> Result<()> {
        let i = &self.index;
        if i.kit_id != kit_id || i.channel != channel || i.sequence != sequence {
            return Err(Error::PartsMismatch {
                path: self.index_path.clone(),
                reason: "the index names another kit (kit_id, channel or sequence differs from the signed manifest)",
            });
        }
        Ok(())
    }
}

struct Current {
    index: usize,
    file: File,
    path: PathBuf,
    hasher: Hasher,
    left: u64,
    /// The local copy being written: (open file, `.partial` path, final path).
    copy: Option<(File, PathBuf, PathBuf)>,
}

/// Reads the parts of an authenticated index in order, checking each.
pub struct PartsReader {
    handle: PartsHandle,
    next: usize,
    cur: Option<Current>,
}

impl std::fmt::Debug for PartsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartsReader")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// Local copy name of part `i` (0-based): `001`, `002`, …
fn local_name(i: usize) -> String {
    format!("{:03}", i + 1)
}

impl PartsReader {
    /// A reader over the parts of `index`, found next to `index_path`; with `incoming`, parts
    /// are copied there and verified copies found there are used instead of the medium.
    pub fn new(
        index: Verified<PartsIndex>,
        index_path: &Path,
        incoming: Option<PathBuf>,
    ) -> (PartsReader, PartsHandle) {
        Self::with_index((*index).clone(), index_path, incoming)
    }

    /// A reader over the parts of an index not yet authenticated, only to read the trust chain
    /// and envelope at the start of the kit (see `ouk_format::parts::provisional_index`). Nothing
    /// is copied to `incoming/`.
    pub(crate) fn provisional(index: PartsIndex, index_path: &Path) -> (PartsReader, PartsHandle) {
        Self::with_index(index, index_path, None)
    }

    fn with_index(
        index: PartsIndex,
        index_path: &Path,
        incoming: Option<PathBuf>,
    ) -> (PartsReader, PartsHandle) {
        let dir = index_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let parts = index.parts.len();
        let handle = PartsHandle {
            index: Arc::new(index),
            index_path: index_path.to_path_buf(),
            dir,
            incoming,
            log: Arc::new(Mutex::new(Log {
                report: PartsReport {
                    index: index_path.display().to_string(),
                    parts,
                    ..PartsReport::default()
                },
                ..Log::default()
            })),
        };
        (
            PartsReader {
                handle: handle.clone(),
                next: 0,
                cur: None,
            },
            handle,
        )
    }

    fn fail(&mut self, e: Error) -> io::Error {
        if let Some(cur) = self.cur.take() {
            if let Some((_, partial, _)) = cur.copy {
                let _ = fs::remove_file(partial);
            }
        }
        let msg = e.to_string();
        lock(&self.handle.log).error.get_or_insert(e);
        io::Error::other(msg)
    }

    /// A verified local copy of part `i`, if there is one; a copy that does not match is removed.
    fn local_copy(&self, i: usize) -> Result<Option<(File, PathBuf)>> {
        let Some(dir) = &self.handle.incoming else {
            return Ok(None);
        };
        let path = dir.join(local_name(i));
        let Some(file) = fsx::open_store_file(&path, fsx::Access::Read)? else {
            return Ok(None);
        };
        let part = &self.handle.index.parts[i];
        let (digest, size) = Sha256::of_reader(io::BufReader::new(&file))
            .map_err(|e| Error::io("hashing a local part copy", &path, e))?;
        if size != part.size || digest != part.sha256 {
            drop(file);
            fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
            return Ok(None);
        }
        let file = fsx::open_store_file(&path, fsx::Access::Read)?
            .ok_or(Error::Internal("local part copy vanished"))?;
        Ok(Some((file, path)))
    }

    fn open_part(&mut self, i: usize) -> Result<Current> {
        let part = self.handle.index.parts[i].clone();
        {
            let mut log = lock(&self.handle.log);
            log.current = i;
        }
        if let Some((file, path)) = self.local_copy(i)? {
            let mut log = lock(&self.handle.log);
            log.sources.push(path.clone());
            log.report.reused.push(part.name.clone());
            return Ok(Current {
                index: i,
                file,
                path,
                hasher: Hasher::new(),
                left: part.size,
                copy: None,
            });
        }
        let path = self.handle.dir.join(&part.name);
        lock(&self.handle.log).sources.push(path.clone());
        let (file, _) = match open_file(&path, Links::Refuse) {
            Ok(f) => f,
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Err(Error::PartMissing {
                    name: Name::new(&part.name),
                    path,
                })
            }
            Err(e) => return Err(e),
        };
        let found = file
            .metadata()
            .map_err(|e| Error::io("inspecting a part", &path, e))?
            .len();
        if found != part.size {
            return Err(Error::PartSize {
                name: Name::new(&part.name),
                path,
                expected: part.size,
                found,
            });
        }
        let copy = match &self.handle.incoming {
            Some(dir) => {
                if let Some(parent) = dir.parent() {
                    fsx::ensure_dir(parent)?;
                }
                fsx::ensure_dir(dir)?;
                let done = dir.join(local_name(i));
                let partial = dir.join(format!("{}.partial", local_name(i)));
                match fs::remove_file(&partial) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("removing", &partial, e)),
                }
                Some((fsx::create_file_new(&partial)?, partial, done))
            }
            None => None,
        };
        Ok(Current {
            index: i,
            file,
            path,
            hasher: Hasher::new(),
            left: part.size,
            copy,
        })
    }

    fn finish_part(&mut self, cur: Current) -> Result<()> {
        let part = &self.handle.index.parts[cur.index];
        let (digest, _) = cur.hasher.finish();
        if digest != part.sha256 {
            if let Some((_, partial, _)) = &cur.copy {
                let _ = fs::remove_file(partial);
            }
            return Err(Error::PartDigest {
                name: Name::new(&part.name),
                path: cur.path,
            });
        }
        // One byte more than the index says means the part changed since it was opened.
        let mut extra = [0u8; 1];
        let mut file = cur.file;
        if file
            .read(&mut extra)
            .map_err(|e| Error::io("reading a part", &cur.path, e))?
            != 0
        {
            return Err(Error::PartSize {
                name: Name::new(&part.name),
                path: cur.path,
                expected: part.size,
                found: part.size + 1,
            });
        }
        let from_medium = cur.copy.is_some() || self.handle.incoming.is_none();
        if let Some((file, partial, done)) = cur.copy {
            file.sync_all()
                .map_err(|e| Error::io("syncing a part copy", &partial, e))?;
            drop(file);
            fs::rename(&partial, &done).map_err(|e| Error::io("keeping a part copy", &done, e))?;
            if let Some(dir) = done.parent() {
                fsx::sync_dir(dir)?;
            }
        }
        let mut log = lock(&self.handle.log);
        log.done = cur.index + 1;
        if from_medium {
            log.report.read_from_medium.push(part.name.clone());
        }
        Ok(())
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            let mut cur = match self.cur.take() {
                Some(c) => c,
                None => {
                    if self.next >= self.handle.index.parts.len() || buf.is_empty() {
                        return Ok(0);
                    }
                    let c = self.open_part(self.next)?;
                    self.next += 1;
                    c
                }
            };
            if cur.left == 0 {
                self.finish_part(cur)?;
                continue;
            }
            let want = buf
                .len()
                .min(usize::try_from(cur.left).unwrap_or(usize::MAX));
            let n = match cur.file.read(&mut buf[..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    self.cur = Some(cur);
                    continue;
                }
                Err(e) => {
                    let path = cur.path.clone();
                    self.cur = Some(cur);
                    return Err(Error::io("reading a part", path, e));
                }
            };
            if n == 0 {
                let part = &self.handle.index.parts[cur.index];
                let err = Error::PartSize {
                    name: Name::new(&part.name),
                    path: cur.path.clone(),
                    expected: part.size,
                    found: part.size - cur.left,
                };
                self.cur = Some(cur);
                return Err(err);
            }
            cur.hasher.update(&buf[..n]);
            if let Some((file, partial, _)) = &mut cur.copy {
                if let Err(e) = file.write_all(&buf[..n]) {
                    let err = Error::io("copying a part", partial.clone(), e);
                    self.cur = Some(cur);
                    return Err(err);
                }
            }
            cur.left -= n as u64;
            self.cur = Some(cur);
            return Ok(n);
        }
    }
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_inner(buf).map_err(|e| self.fail(e))
    }
}

impl Drop for PartsReader {
    fn drop(&mut self) {
        if let Some(Current {
            copy: Some((_, partial, _)),
            ..
        }) = self.cur.take()
        {
            let _ = fs::remove_file(partial);
        }
    }
}
